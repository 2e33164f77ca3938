#!/bin/sh
# The strict build matrix (`make strict`): ridgediff.h must compile warning-free (-Werror)
# under several compilers and configurations, survive being included twice with the
# implementation, and link from two translation units without duplicate symbols.
# Prints "ok <config>" / "FAIL <config>" per build and "strict: N passed, M failed" last.
# Usage: sh tests/strict_builds.sh   (from the repository root; CC/CXX/CLANG may be overridden)
CC=${CC:-gcc}
CXX=${CXX:-g++}
CLANG=${CLANG:-clang}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdg_strict.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0

# A translation unit that includes the implementation twice and calls a few functions
# (only a few: under RIDGEDIFF_STATIC the rest must not trigger -Wunused-function).
cat > "$tmp/tu.c" <<'EOF'
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "ridgediff.h"
#include <stdio.h>

int main(void) {
    static const rdg_real X[4] = { -3, 0, 3, 0 };
    rdg_real y[2] = { 0.5, 0.7 }, p[2], lp = 0;
    rdg_gmm g;
    rdg_project_opts o = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    rdg_project_info info;
    rdg_density_out out = { 0, 0, 0, 0, 0, 0 };
    o.dstar = 1;
    out.logp = &lp;
    if (rdg_gmm_init(&g, X, 2, 2) != RDG_OK) return 1;
    if (rdg_density_eval(&g, 0.5, y, 1, &out) != RDG_OK) return 2;
    if (rdg_ridge_project(&g, 0.5, y, 1, &o, p, &info) != RDG_OK) return 3;
#ifndef RDG_NO_STDIO
    printf("%s %g %g %g\n", rdg_status_str(RDG_OK), (double)lp, (double)p[0], (double)p[1]);
#endif
    return (p[1] < 1e-6 && p[1] > -1e-6) ? 0 : 4;
}
EOF

# Two translation units: one with the implementation, one without.
cat > "$tmp/impl.c" <<'EOF'
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
EOF
cat > "$tmp/main2.c" <<'EOF'
#include "ridgediff.h"
#include <string.h>
int use_it(void);
int use_it(void) {
    rdg_real A[4] = { 2, 1, 1, 2 }, w[2];
    return rdg_eigh(A, 2, w, 0, 0) == RDG_OK && w[0] > 2.9 && w[0] < 3.1 ? 0 : 1;
}
int main(void) {
    return use_it() + (strcmp(rdg_version_string(), RDG_VERSION_STRING) != 0);
}
EOF
# Two translation units that each hold a private (static) copy of the implementation.
cat > "$tmp/stat_a.c" <<'EOF'
#define RIDGEDIFF_STATIC
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
int other(void);
int main(void) { rdg_real a, s2; rdg_ou(1, &a, &s2); return other() + (s2 > 0 ? 0 : 1); }
EOF
cat > "$tmp/stat_b.c" <<'EOF'
#define RIDGEDIFF_STATIC
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
int other(void);
int other(void) { return rdg_status_str(RDG_ERR_NOMEM)[0] ? 0 : 1; }
EOF
# Custom allocator macros (all three, as documented).
cat > "$tmp/alloc.c" <<'EOF'
#include <stdlib.h>
static size_t n_alloc = 0;
void *my_malloc(size_t sz);
void *my_realloc(void *p, size_t sz);
void my_free(void *p);
void *my_malloc(size_t sz) { n_alloc++; return malloc(sz); }
void *my_realloc(void *p, size_t sz) { if (!p) n_alloc++; return realloc(p, sz); }
void my_free(void *p) { if (p) n_alloc--; free(p); }
#define RDG_MALLOC(sz, u) ((void)(u), my_malloc(sz))
#define RDG_REALLOC(p, sz, u) ((void)(u), my_realloc(p, sz))
#define RDG_FREE(p, u) ((void)(u), my_free(p))
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
int main(void) {
    static const rdg_real X[6] = { 0, 0, 1, 0, 0, 1 };
    rdg_real y[2] = { 0.3, 0.3 }, p[2];
    rdg_gmm g;
    rdg_project_opts o = { 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (rdg_gmm_init(&g, X, 3, 2) != RDG_OK) return 1;
    if (rdg_ridge_project(&g, 0.3, y, 1, &o, p, 0) != RDG_OK) return 2;
    return n_alloc == 0 ? 0 : 3;   /* everything allocated was released through RDG_FREE */
}
EOF

# build NAME COMMAND... : compile (and link) with the command; run the result when it exists.
build() {
    name=$1; shift
    rm -f "$tmp/a.out"
    if ( cd "$tmp" && "$@" ) > "$tmp/log" 2>&1; then
        if [ -x "$tmp/a.out" ] && ! "$tmp/a.out" > "$tmp/run.log" 2>&1; then
            echo "FAIL $name (built, but the program failed: exit $?)"; cat "$tmp/run.log"
            fail=$((fail + 1)); return
        fi
        echo "ok $name"; pass=$((pass + 1))
    else
        echo "FAIL $name"; sed -n '1,30p' "$tmp/log"; fail=$((fail + 1))
    fi
}

I="-I$here"
W="-Wall -Wextra -pedantic -Werror"
C99="-std=c99 $W -Wshadow -Wvla"

build "gcc c99 -Wshadow -Wvla"     $CC $C99 $I tu.c -o a.out -lm
if command -v "$CLANG" >/dev/null 2>&1; then
    build "clang c99 -Wshadow -Wvla" $CLANG $C99 $I tu.c -o a.out -lm
else
    echo "skip clang (not installed)"
fi
build "g++ -x c++"                 $CXX -x c++ $W $I tu.c -o a.out -lm
build "g++ -x c++ -std=c++11"      $CXX -x c++ -std=c++11 $W -Wshadow $I tu.c -o a.out -lm
build "gcc without -fopenmp"       $CC $C99 -O2 $I tu.c -o a.out -lm
if printf 'int main(void){return 0;}' | $CC -fopenmp -x c - -o "$tmp/omp_probe" >/dev/null 2>&1; then
    build "gcc -fopenmp"           $CC $C99 -O2 -fopenmp $I tu.c -o a.out -lm
    build "gcc -fopenmp -DRDG_NO_OPENMP" $CC $C99 -O2 -fopenmp -DRDG_NO_OPENMP $I tu.c -o a.out -lm
else
    echo "skip gcc -fopenmp (not supported)"
fi
build "gcc -O3 -DRDG_NO_SIMD"      $CC $C99 -O3 -DRDG_NO_SIMD $I tu.c -o a.out -lm
case $(uname -m 2>/dev/null) in
    x86_64|amd64|i?86)   # compile only: the machine running this may lack AVX2
        build "gcc -O2 -mavx2 -mfma (compile only)" $CC $C99 -O2 -mavx2 -mfma $I -c tu.c -o tu.o
        # g++ 12 warns about the undefined-vector operands inside some AVX-512 intrinsics
        build "g++ -x c++ -O2 -mavx512f (compile only)" $CXX -x c++ $W -O2 -mavx512f $I -c tu.c -o tu.o ;;
esac
build "gcc -DRIDGEDIFF_STATIC -Wunused-function" \
      $CC $C99 -Wunused-function -DRIDGEDIFF_STATIC $I tu.c -o a.out -lm
build "gcc -DRDG_NO_STDIO"         $CC $C99 -DRDG_NO_STDIO $I tu.c -o a.out -lm
build "gcc -DRDG_REAL_FLOAT"       $CC $C99 -DRDG_REAL_FLOAT $I tu.c -o a.out -lm
build "gcc float test (portability_float.c)" \
      $CC $C99 -Wdouble-promotion -O2 -DRDG_REAL_FLOAT $I "$here/tests/portability_float.c" -o a.out -lm
build "gcc custom allocator"       $CC $C99 $I alloc.c -o a.out -lm
build "two files (one implementation)" \
      sh -c "$CC $C99 $I -c impl.c -o impl.o && $CC $C99 $I -c main2.c -o main2.o && $CC impl.o main2.o -o a.out -lm"
build "two files (both RIDGEDIFF_STATIC)" \
      sh -c "$CC $C99 -Wunused-function $I -c stat_a.c -o stat_a.o && $CC $C99 -Wunused-function $I -c stat_b.c -o stat_b.o && $CC stat_a.o stat_b.o -o a.out -lm"
build "g++ two files"              sh -c "$CXX -x c++ $W $I -c impl.c -o impl.o && $CC $C99 $I -c main2.c -o main2.o && $CXX impl.o main2.o -o a.out -lm"
build "tools/ab.c (two RIDGEDIFF_STATIC units and its driver; linked, not run)" \
      sh -c "$CC $C99 -Wunused-function $I -DRDG_AB_HEADER='\"ridgediff.h\"' -DRDG_AB_RUN=rdg_ab_run_a -c $here/tools/ab.c -o ab_a.o && $CC $C99 -Wunused-function $I -DRDG_AB_HEADER='\"ridgediff.h\"' -DRDG_AB_RUN=rdg_ab_run_b -c $here/tools/ab.c -o ab_b.o && $CC $C99 -DRDG_AB_MAIN $here/tools/ab.c ab_a.o ab_b.o -o ab.out -lm"

echo "strict: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
