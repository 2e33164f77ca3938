#!/bin/sh
# The SIMD paths beside the unit suite's own build (`make simd`, part of `make test`): the
# kernel, density, ridge, sampler and linalg suites compiled with AVX2+FMA, and on a CPU without
# AVX-512 the same five and the RFNN one on the AVX-512 paths through tests/avx512emu (the
# intrinsics in plain C, bit-exact), so that those paths are tested everywhere;
# tests/test_kernels.c holds each kernel to its scalar reference. MARCH: the flag the Makefile
# built the unit suite with (-march=native, or empty with NATIVE=0); where it is AVX2 without
# AVX-512, that suite ran the AVX2 paths already, on every suite, and the AVX2 build here is
# skipped. A flag set the compiler or the CPU lacks is skipped with a note.
CC=${CC:-cc}
MARCH=${MARCH-}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
OMP=$(printf 'int main(void){return 0;}' | $CC -fopenmp -x c - -o /dev/null 2>/dev/null && echo -fopenmp)
# what the unit suite's build (MARCH) compiled in
march_macros=$([ -n "$MARCH" ] && $CC $MARCH -dM -E -x c /dev/null 2>/dev/null)
has() { printf '%s\n' "$march_macros" | grep -q "$1"; }
status=0; ran=0
for tag in avx2 avx512emu; do
    case $tag in
        avx2) flags="-mavx2 -mfma"; grep -q ' avx2 ' /proc/cpuinfo 2>/dev/null && grep -q ' fma ' /proc/cpuinfo 2>/dev/null || { echo "simd: no AVX2+FMA on this CPU, $tag skipped"; continue; }
            if has __AVX2__ && has __FMA__ && ! has __AVX512F__; then
                echo "simd: the unit suite ($MARCH) is AVX2+FMA here (no AVX-512), $tag skipped: it ran those paths"; continue
            fi ;;
        avx512emu) flags="-O1 -ffp-contract=off -D__AVX512F__ -Itests/avx512emu"   # -O1: a third less compile time
            has __AVX512F__ && { echo "simd: the unit suite ($MARCH) ran the AVX-512 paths, $tag skipped"; continue; } ;;
    esac
    if ! printf 'int main(void){return 0;}' | $CC $flags -x c - -o /dev/null 2>/dev/null; then
        echo "simd: $CC does not take $flags, $tag skipped"; continue
    fi
    mkdir -p "build/simd-$tag"
    bins=""
    # the kernels against their references and the suites that run them most
    srcs="tests/test_kernels.c tests/test_density.c tests/test_ridge.c tests/test_sampler.c tests/test_linalg.c"
    [ $tag = avx512emu ] && srcs="$srcs tests/test_rfnn.c"   # its quadratic form's AVX-512 block path
    # two compiles at a time (SIMD_JOBS): compiling the header is most of this stage's time
    n=0
    for src in $srcs; do
        b="build/simd-$tag/$(basename "$src" .c)"
        rm -f "$b"
        $CC -std=c99 -Wall -Wextra -pedantic -Werror -O2 $flags $OMP -I. -o "$b" "$src" -lm &
        n=$((n + 1))
        [ $((n % ${SIMD_JOBS:-2})) -eq 0 ] && wait
    done
    wait
    for src in $srcs; do
        b="build/simd-$tag/$(basename "$src" .c)"
        if [ -x "$b" ]; then bins="$bins $b"; else echo "simd: FAIL build $b"; status=1; fi
    done
    echo "simd: $tag ($flags)"
    ./tests/run.sh $bins || status=1
    if [ $tag = avx512emu ]; then
        # and the command-line tool on those paths: its tests, and the same bits at 1, 2, 7 threads
        if $CC -std=c99 -O2 $flags $OMP -I. -o "build/simd-$tag/ridgediff" tools/ridgediff.c -lm; then
            for t in cli_test determinism; do
                out=$(sh tests/$t.sh "build/simd-$tag/ridgediff" 2>&1)
                printf '%s\n' "$out" | grep '^FAIL'
                printf '%s\n' "$out" | tail -n 1
                printf '%s\n' "$out" | tail -n 1 | grep -q ' 0 failed$' || status=1
            done
        else echo "simd: FAIL build build/simd-$tag/ridgediff"; status=1; fi
    fi
    ran=$((ran + 1))
done
[ $ran -eq 0 ] && echo "simd: no SIMD flag set could be tested here"
exit $status
