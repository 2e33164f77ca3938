#!/bin/sh
# The test suite under valgrind memcheck.
#   sh tests/valgrind.sh fast   the quick tests (npy, bad input, allocation failures, edge
#                               cases, determinism; ~15 s) - part of `make test`
#   sh tests/valgrind.sh all    every tests/test_*.c, tests/determinism.c and the CLI tests
#                               (tests/cli_test.sh through a valgrind wrapper) - `make valgrind`
# The programs are built without OpenMP (libgomp's thread pool is reported as "possibly lost"
# and the threads add nothing memcheck can see here) at -O1 -g into build/vg/. Any memcheck
# error or definite/indirect leak fails the program (--error-exitcode=99).
# Skips with a message when valgrind is not installed. Last line: "valgrind: N passed, M failed".
mode=${1:-fast}
CC=${CC:-cc}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
if ! command -v valgrind >/dev/null 2>&1; then
    echo "skip valgrind: not installed (on Debian: apt-get install valgrind)"
    echo "valgrind: 0 passed, 0 failed"
    exit 0
fi
out=build/vg
mkdir -p "$out"
VG="valgrind -q --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no"
case $mode in
    fast) progs="test_npy test_badinput test_alloc test_edge determinism" ;;
    all)  progs="$(for f in tests/test_*.c; do basename "$f" .c; done) determinism" ;;
    *) echo "usage: sh tests/valgrind.sh fast|all"; exit 2 ;;
esac
# checks that compare with a long double reference (see above): "file:line" patterns
VG_NUMERIC_ARTIFACTS='^$'   # none: test_density's rdg_ou bound (4e-16) holds at valgrind's 64-bit long double
pass=0; fail=0
for p in $progs; do
    [ -f "tests/$p.c" ] || continue
    bin="$out/$p"
    if [ ! "$bin" -nt "tests/$p.c" ] || [ ! "$bin" -nt ridgediff.h ] || [ -n "$(find wip -newer "$bin" -name '*.h' 2>/dev/null)" ]; then
        if ! $CC -std=c99 -O1 -g -I. -o "$bin" "tests/$p.c" -lm > "$bin.log" 2>&1; then
            echo "FAIL $p: build failed"; sed -n '1,15p' "$bin.log"; fail=$((fail + 1)); continue
        fi
    fi
    start=$(date +%s)
    $VG "$bin" > "$bin.out" 2>&1; rc=$?
    # exit 99 is memcheck's; a test's own failures (exit 1) count too, except the checks listed in
    # VG_NUMERIC_ARTIFACTS, which are wrong only under valgrind (it computes x87 long double in
    # 64-bit precision, so a long-double reference loses the last bits)
    other=$(grep '^FAIL' "$bin.out" | grep -v -E "$VG_NUMERIC_ARTIFACTS")
    if [ $rc -eq 0 ]; then
        echo "ok $p under memcheck ($(( $(date +%s) - start ))s)"; pass=$((pass + 1))
    elif [ $rc -eq 1 ] && [ -z "$other" ] && ! grep -q '==[0-9]*== ' "$bin.out"; then
        echo "ok $p under memcheck ($(( $(date +%s) - start ))s; ignored under valgrind: $(grep -c '^FAIL' "$bin.out") long-double reference check(s))"
        pass=$((pass + 1))
    else
        echo "FAIL $p under memcheck (exit $rc):"; grep -E '==[0-9]+==|FAIL' "$bin.out" | head -n 30; fail=$((fail + 1))
    fi
done
if [ "$mode" = all ]; then
    bin="$out/ridgediff"
    if $CC -std=c99 -O1 -g -I. -o "$bin" tools/ridgediff.c -lm > "$bin.log" 2>&1; then
        wrap="$here/$out/ridgediff-vg"
        printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$VG" "$here/$bin" > "$wrap"
        chmod +x "$wrap"
        start=$(date +%s)
        if sh tests/cli_test.sh "$wrap" > "$out/cli.out" 2>&1; then
            echo "ok cli tests under memcheck ($(( $(date +%s) - start ))s)"; pass=$((pass + 1))
        else
            echo "FAIL cli tests under memcheck:"; grep -E 'FAIL|==[0-9]+==' "$out/cli.out" | head -n 30; fail=$((fail + 1))
        fi
    else
        echo "FAIL ridgediff: build failed"; sed -n '1,15p' "$bin.log"; fail=$((fail + 1))
    fi
fi
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
