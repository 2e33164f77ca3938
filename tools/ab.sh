#!/bin/sh
# tools/ab.sh - two versions of ridgediff.h timed in one process, in turns (tools/ab.c).
#
#   tools/ab.sh A B [-w W3|W2lm|W2scms|W1] [-r ROUNDS] [-N N] [-d D] [-t T]
#   make ab A=HEAD~1 B=HEAD AB_ARGS="-w W2lm -r 20"
#
# A, B: a git revision (its ridgediff.h) or the path of a header file. Both are compiled with
# $CC (cc) and $AB_CFLAGS (-O2 -march=native -fopenmp) into build/ab/. W2 and W3 read
# tools/bench's data in build/bench/; when it is missing, tools/bench --only W2,W3 --no-peer
# --repeat 1 writes it first (a few seconds). The program is built twice, the second time with
# the two units swapped, and the geometric mean of the two ratios is reported (tools/ab.c).
set -e
[ $# -ge 2 ] || { echo "usage: tools/ab.sh A B [-w W3|W2lm|W2scms|W1] [-r ROUNDS] [-N N] [-d D] [-t T]" >&2; exit 2; }
a=$1; b=$2; shift 2
CC=${CC:-cc}
AB_CFLAGS=${AB_CFLAGS:--O2 -march=native -fopenmp}
out=build/ab
mkdir -p $out
header() {   # $1: revision or path, $2: destination
    if [ -f "$1" ]; then cp "$1" "$2"
    elif git rev-parse --verify -q "$1^{commit}" > /dev/null; then git show "$1:ridgediff.h" > "$2"
    else echo "ab: $1 is neither a file nor a git revision" >&2; exit 2; fi
}
header "$a" $out/a.h
header "$b" $out/b.h
case " $* " in
    *" W1 "*) ;;
    *) [ -f build/bench/w2_X.npy ] && [ -f build/bench/w2_Y_t0.05.npy ] || {
           make tools/bench > /dev/null && ./tools/bench --only W2,W3 --no-peer --repeat 1 > /dev/null; } ;;
esac
build() {   # $1, $2: the headers of the first and second unit, $3: the program
    # shellcheck disable=SC2086
    $CC -std=c99 $AB_CFLAGS -I. -DRDG_AB_HEADER="\"$1\"" -DRDG_AB_RUN=rdg_ab_run_a -c tools/ab.c -o $out/u1.o
    # shellcheck disable=SC2086
    $CC -std=c99 $AB_CFLAGS -I. -DRDG_AB_HEADER="\"$2\"" -DRDG_AB_RUN=rdg_ab_run_b -c tools/ab.c -o $out/u2.o
    # shellcheck disable=SC2086
    $CC -std=c99 $AB_CFLAGS -DRDG_AB_MAIN -o "$3" tools/ab.c $out/u1.o $out/u2.o -lm
}
build $out/a.h $out/b.h $out/ab
build $out/b.h $out/a.h $out/ab_swapped
echo "A = $a, B = $b"
$out/ab "$@" | tee $out/ab.txt
$out/ab_swapped "$@" --swapped | tee -a $out/ab.txt
# the geometric mean of the two programs' ratios: the units' placement cancels
awk '{ for (i = 1; i < NF; ++i) if ($i == "speed") { b = $(i + 1); m = $(i + 3) }
       pb = n ? pb * b : b; pm = n ? pm * m : m; ++n; if ($NF == "DIFFER") diff = 1 }
     END { if (n == 2) printf "B/A speed, both placements: %.3f (best), %.3f (mean)%s\n", sqrt(pb), sqrt(pm),
                             diff ? "; outputs DIFFER" : "; outputs the same" }' $out/ab.txt
