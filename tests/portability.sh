#!/bin/sh
# The portability matrix (`make portability`). Each step builds the unit tests (tests/test_*.c,
# or the float test tests/portability_float.c) with one toolchain and runs them where it can;
# a step whose toolchain is missing prints "skip" with the Debian package to install (.ci/run
# installs them all). Steps:
#   gcc-c99       gcc -std=c99 -pedantic -Wall -Wextra -Werror -O2 -fopenmp, run
#   clang-c99     clang -std=c99 -pedantic -Wall -Wextra -Werror -O2, run
#   g++           every test compiled as C++ (g++ -x c++ -Werror), run
#   tcc           tcc (no OpenMP), run
#   musl          musl-gcc -static, run
#   float         gcc and clang -DRDG_REAL_FLOAT -Wdouble-promotion -Werror: portability_float, run
#   aarch64       aarch64-linux-gnu-gcc -static -fopenmp, run under qemu-aarch64 (tests + float)
#   armhf         arm-linux-gnueabihf-gcc -static -fopenmp, run under qemu-arm: a 32-bit target
#                 (32-bit size_t: the overflow checks of the loaders matter there)
#   mingw-w64     x86_64-w64-mingw32-gcc, run under wine when installed (else compile only)
#   cortex-m4     arm-none-eabi-gcc -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard
#                 -DRDG_NO_STDIO -DRDG_REAL_FLOAT -Wdouble-promotion -Werror: compile (and link
#                 with newlib's nosys specs when present); no run
#   avx512emu-asan  the kernel, density, ridge, sampler, linalg and RFNN tests on the AVX-512
#                 paths (tests/avx512emu: the intrinsics in plain C, any CPU) under
#                 AddressSanitizer and UndefinedBehaviorSanitizer, run: the vector kernels'
#                 loads, stores and gathers held to their buffers (no -g and -pipe: the
#                 binaries and the compiler's temporary files stay under the file-size cap)
# Logs are kept in build/port/<step>/ (capped at ~10 MB each: a compiler reading a file that is
# being rewritten once produced gigabytes of diagnostics).
# Usage: sh tests/portability.sh [STEP...]   (default: all). Last line:
# "portability: N passed, M failed" (skipped steps are listed, not counted).
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
out=build/port
mkdir -p "$out"
steps=${*:-"gcc-c99 clang-c99 g++ tcc musl float aarch64 armhf mingw-w64 cortex-m4 avx512emu-asan"}
W="-Wall -Wextra -pedantic -Werror"
TESTS=$(ls tests/test_*.c)
TIMEOUT=${PORT_TIMEOUT:-600}
pass=0; fail=0; skipped=""
summary=""

have() { command -v "$1" >/dev/null 2>&1; }
note() { summary="$summary
$1"; }

# suite STEP RUNNER CC FLAGS... : builds every test with CC FLAGS, runs each with RUNNER
# (or "build-only"), prints one line per test, counts the step as one pass or fail.
suite() {
    step=$1; runner=$2; shift 2
    dir="$out/$step"; mkdir -p "$dir/data"
    cp -R data/mnist "$dir/data/"            # tests that read bundled data run from $dir
    sp=0; sf=0; failed=""
    for src in $TESTS; do
        name=$(basename "$src" .c)
        exe="$dir/$name"; case $step in mingw*) exe="$exe.exe" ;; esac
        if ! (ulimit -f 20000; "$@" -I. -Itests -o "$exe" "$src" -lm) > "$dir/$name.build.log" 2>&1; then
            echo "  FAIL $step $name: build"; grep -m 4 -E 'error|rror:' "$dir/$name.build.log" | sed 's/^/    /'
            sf=$((sf + 1)); failed="$failed $name(build)"; continue
        fi
        if [ "$runner" = build-only ]; then sp=$((sp + 1)); continue; fi
        if (cd "$dir" && timeout "$TIMEOUT" $runner "./$(basename "$exe")") > "$dir/$name.run.log" 2>&1; then
            sp=$((sp + 1)); echo "  ok $step $name: $(tr -d '\r' < "$dir/$name.run.log" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)"
        else
            echo "  FAIL $step $name: run"; tr -d '\r' < "$dir/$name.run.log" | grep -E 'FAIL|passed|rror' | head -n 12 | sed 's/^/    /'
            sf=$((sf + 1)); failed="$failed $name"
        fi
    done
    if [ "$sf" -eq 0 ]; then
        echo "ok $step: $sp programs"; pass=$((pass + 1)); note "ok    $step: $sp programs"
    else
        echo "FAIL $step: $sf of $((sp + sf)) programs failed:$failed"; fail=$((fail + 1)); note "FAIL  $step:$failed"
    fi
}

# one STEP RUNNER CC FLAGS... -- SRC : one program (the float test), built and run
one() {
    step=$1; runner=$2; src=$3; shift 3
    dir="$out/$step"; mkdir -p "$dir"
    name=$(basename "$src" .c); exe="$dir/$name"
    if ! (ulimit -f 20000; "$@" -I. -o "$exe" "$src" -lm) > "$dir/$name.build.log" 2>&1; then
        echo "FAIL $step $name: build"; grep -m 6 -E 'rror' "$dir/$name.build.log"; fail=$((fail + 1)); note "FAIL  $step: $name (build)"; return
    fi
    if (cd "$dir" && timeout "$TIMEOUT" $runner "./$name") > "$dir/$name.run.log" 2>&1; then
        echo "ok $step: $(tail -n 1 "$dir/$name.run.log")"; pass=$((pass + 1)); note "ok    $step: $name"
    else
        echo "FAIL $step $name: run"; head -n 20 "$dir/$name.run.log"; fail=$((fail + 1)); note "FAIL  $step: $name (run)"
    fi
}

skip() { echo "skip $1: $2"; skipped="$skipped $1"; note "skip  $1: $2"; }

for step in $steps; do
    echo "== $step"
    case $step in
    gcc-c99)
        if have gcc; then
            omp=""; printf 'int main(void){return 0;}' | gcc -fopenmp -x c - -o "$out/omp_probe" >/dev/null 2>&1 && omp=-fopenmp
            suite gcc-c99 "" gcc -std=c99 $W -O2 $omp
        else skip gcc-c99 "gcc not installed (apt-get install gcc)"; fi ;;
    clang-c99)
        if have clang; then
            omp=""; printf 'int main(void){return 0;}' | clang -fopenmp -x c - -o "$out/omp_probe" >/dev/null 2>&1 && omp=-fopenmp
            suite clang-c99 "" clang -std=c99 $W -O2 $omp
        else skip clang-c99 "clang not installed (apt-get install clang)"; fi ;;
    g++)
        if have g++; then suite g++ "" g++ -x c++ $W -O2
        else skip g++ "g++ not installed (apt-get install g++)"; fi ;;
    tcc)
        if have tcc; then suite tcc "" tcc -Wall
        else skip tcc "tcc not installed (apt-get install tcc)"; fi ;;
    musl)
        if have musl-gcc; then suite musl "" musl-gcc -std=c99 $W -O2 -static
        else skip musl "musl-gcc not installed (apt-get install musl-tools)"; fi ;;
    float)
        if have gcc; then one float-gcc "" tests/portability_float.c gcc -std=c99 $W -Wdouble-promotion -O2 -DRDG_REAL_FLOAT
        else skip float-gcc "gcc not installed"; fi
        if have clang; then one float-clang "" tests/portability_float.c clang -std=c99 $W -Wdouble-promotion -O2 -DRDG_REAL_FLOAT
        else skip float-clang "clang not installed"; fi ;;
    aarch64)
        if ! have aarch64-linux-gnu-gcc; then skip aarch64 "aarch64-linux-gnu-gcc not installed (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
        elif ! have qemu-aarch64 && ! have qemu-aarch64-static; then
            skip aarch64-run "qemu-aarch64 not installed (apt-get install qemu-user); compiling only"
            suite aarch64 build-only aarch64-linux-gnu-gcc -std=c99 $W -O2 -static -fopenmp
        else
            q=qemu-aarch64; have qemu-aarch64 || q=qemu-aarch64-static
            suite aarch64 "$q" aarch64-linux-gnu-gcc -std=c99 $W -O2 -static -fopenmp
            one aarch64-float "$q" tests/portability_float.c aarch64-linux-gnu-gcc -std=c99 $W -Wdouble-promotion -O2 -static -DRDG_REAL_FLOAT
        fi ;;
    armhf)
        if ! have arm-linux-gnueabihf-gcc; then skip armhf "arm-linux-gnueabihf-gcc not installed (apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)"
        elif ! have qemu-arm && ! have qemu-arm-static; then
            skip armhf-run "qemu-arm not installed (apt-get install qemu-user); compiling only"
            suite armhf build-only arm-linux-gnueabihf-gcc -std=c99 $W -O2 -static -fopenmp
        else
            q=qemu-arm; have qemu-arm || q=qemu-arm-static
            suite armhf "$q" arm-linux-gnueabihf-gcc -std=c99 $W -O2 -static -fopenmp
            one armhf-float "$q" tests/portability_float.c arm-linux-gnueabihf-gcc -std=c99 $W -Wdouble-promotion -O2 -static -DRDG_REAL_FLOAT
        fi ;;
    mingw-w64)
        if ! have x86_64-w64-mingw32-gcc; then skip mingw-w64 "x86_64-w64-mingw32-gcc not installed (apt-get install gcc-mingw-w64-x86-64)"
        else
            wine=""; have wine64 && wine=wine64; have wine && wine=wine
            [ -x /usr/lib/wine/wine64 ] && [ -z "$wine" ] && wine=/usr/lib/wine/wine64
            if [ -n "$wine" ]; then
                WINEPREFIX="$here/$out/wineprefix"; WINEDEBUG=-all; DISPLAY=; export WINEPREFIX WINEDEBUG DISPLAY
                suite mingw-w64 "$wine" x86_64-w64-mingw32-gcc -std=c99 $W -O2 -static
            else
                skip mingw-w64-run "wine not installed (apt-get install wine64); compiling only"
                suite mingw-w64 build-only x86_64-w64-mingw32-gcc -std=c99 $W -O2 -static
            fi
        fi ;;
    cortex-m4)
        if ! have arm-none-eabi-gcc; then skip cortex-m4 "arm-none-eabi-gcc not installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
        else
            dir="$out/cortex-m4"; mkdir -p "$dir"
            cat > "$dir/m4.c" <<'EOC'
/* The core on a Cortex-M4F: float, no stdio, no OpenMP. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
float rdg_m4_demo(void);
float rdg_m4_demo(void) {
    static const rdg_real X[4] = { -3, 0, 3, 0 };
    rdg_real y[2] = { 0.5f, 0.7f }, p[2], lp = 0, w[2], V[4];
    rdg_real A[4] = { 2, 1, 1, 2 };
    rdg_gmm g;
    rdg_project_opts o = { 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    rdg_project_info info;
    rdg_density_out out = { 0, 0, 0, 0, 0, 0 };
    size_t shape[1] = { 2 };
    void *buf = 0;
    size_t len = 0;
    rdg_array arr;
    out.logp = &lp;
    if (rdg_eigh(A, 2, w, V, 0) != RDG_OK) return -1;
    if (rdg_gmm_init(&g, X, 2, 2) != RDG_OK) return -2;
    if (rdg_density_eval(&g, 0.5f, y, 1, &out) != RDG_OK) return -3;
    if (rdg_ridge_project(&g, 0.5f, y, 1, &o, p, &info) != RDG_OK) return -4;
    if (rdg_npy_write_mem(p, 1, shape, &buf, &len) != RDG_OK) return -5;
    if (rdg_npy_read_mem(buf, len, &arr) != RDG_OK) return -6;
    rdg_array_free(&arr);
    rdg_free(buf);
    return p[0] + lp + w[0];
}
int main(void) { return rdg_m4_demo() > 0.0f ? 0 : 1; }
EOC
            M4="-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"
            if arm-none-eabi-gcc -std=c99 $W -Wdouble-promotion -Os $M4 -DRDG_NO_STDIO -DRDG_REAL_FLOAT -I. \
                   -c "$dir/m4.c" -o "$dir/m4.o" > "$dir/build.log" 2>&1; then
                if arm-none-eabi-gcc $M4 --specs=nosys.specs "$dir/m4.o" -o "$dir/m4.elf" -lm > "$dir/link.log" 2>&1; then
                    sz=$(arm-none-eabi-size "$dir/m4.o" 2>/dev/null | awk 'NR == 2 { print $1 " bytes text" }')
                    dbl=$(arm-none-eabi-nm "$dir/m4.elf" 2>/dev/null | grep -cE ' T __aeabi_d(add|mul|div|sub)$')
                    echo "ok cortex-m4: compiled and linked (nosys), core object $sz; double-precision soft-float routines linked: $dbl"
                    note "ok    cortex-m4: compile + link (newlib nosys), no run"
                else
                    echo "ok cortex-m4: compiled (link skipped: $(head -n 1 "$dir/link.log"))"
                    note "ok    cortex-m4: compile only"
                fi
                pass=$((pass + 1))
            else
                echo "FAIL cortex-m4: compile"; sed -n '1,20p' "$dir/build.log"; fail=$((fail + 1)); note "FAIL  cortex-m4: compile"
            fi
        fi ;;
    avx512emu-asan)
        if have gcc && printf 'int main(void){return 0;}' | gcc -fsanitize=address,undefined -x c - -o "$out/asan_probe" >/dev/null 2>&1; then
            ASAN_OPTIONS=detect_leaks=1; export ASAN_OPTIONS
            all_tests=$TESTS
            TESTS="tests/test_kernels.c tests/test_density.c tests/test_ridge.c tests/test_sampler.c tests/test_linalg.c tests/test_rfnn.c"
            suite avx512emu-asan "" gcc -pipe -std=c99 $W -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -ffp-contract=off -D__AVX512F__ -Itests/avx512emu
            TESTS=$all_tests
        else skip avx512emu-asan "gcc with AddressSanitizer not available (apt-get install gcc)"; fi ;;
    *) echo "unknown step $step"; fail=$((fail + 1)) ;;
    esac
done
echo "== summary$summary"
[ -n "$skipped" ] && echo "skipped:$skipped"
echo "portability: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
