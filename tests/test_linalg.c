/* Unit tests for the dense linear algebra of ridgediff.h: rdg_eigh (Jacobi) and rdg_lu_*.
   Every check compares against an independent computation (reconstruction, orthogonality,
   known spectra, residuals), never against the library itself. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <float.h>

#define MAXN 64

static double frob(const double *A, size_t n) {
    size_t i;
    long double s = 0;
    for (i = 0; i < n * n; i++) s += (long double)A[i] * A[i];
    return (double)sqrtl(s);
}

/* random symmetric matrix with entries ~ N(0,1) (lower triangle mirrored) */
static void rand_sym(rdg_rng *r, double *A, size_t n) {
    size_t i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j <= i; j++) {
            double v = rdg_rng_normal(r);
            A[i * n + j] = v;
            A[j * n + i] = v;
        }
}

/* random orthogonal matrix by modified Gram-Schmidt of a Gaussian matrix (columns) */
static void rand_orth(rdg_rng *r, double *Q, size_t n) {
    size_t i, j, k;
    for (i = 0; i < n * n; i++) Q[i] = rdg_rng_normal(r);
    for (j = 0; j < n; j++) {
        long double nn = 0;
        for (k = 0; k < j; k++) {
            long double dot = 0;
            for (i = 0; i < n; i++) dot += (long double)Q[i * n + j] * Q[i * n + k];
            for (i = 0; i < n; i++) Q[i * n + j] -= (double)(dot * Q[i * n + k]);
        }
        for (i = 0; i < n; i++) nn += (long double)Q[i * n + j] * Q[i * n + j];
        for (i = 0; i < n; i++) Q[i * n + j] /= (double)sqrtl(nn);
    }
}

/* |A - V diag(w) V^T|_F / max(|A|_F, tiny) and |V^T V - I|_F, computed in long double */
static void eig_errors(const double *A, const double *w, const double *V, size_t n,
                       double *rec, double *orth) {
    size_t i, j, k;
    long double er = 0, eo = 0;
    double na = frob(A, n);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            long double s = 0, o = 0;
            for (k = 0; k < n; k++) {
                s += (long double)V[i * n + k] * w[k] * V[j * n + k];
                o += (long double)V[k * n + i] * V[k * n + j];
            }
            s = A[i * n + j] - s;
            er += s * s;
            o -= (i == j) ? 1.0L : 0.0L;
            eo += o * o;
        }
    *rec = (double)sqrtl(er) / (na > 0 ? na : 1.0);
    *orth = (double)sqrtl(eo);
}

static int is_descending(const double *w, size_t n) {
    size_t i;
    for (i = 1; i < n; i++)
        if (!(w[i - 1] >= w[i])) return 0;
    return 1;
}

static void test_eigh_random(void) {
    static double A[MAXN * MAXN], V[MAXN * MAXN], V2[MAXN * MAXN], w[MAXN], w2[MAXN],
        Aup[MAXN * MAXN], work[MAXN * MAXN + MAXN];
    unsigned long long seed;
    size_t n;
    int worst_fail = 0;
    double worst_rec = 0, worst_orth = 0, worst_wo = 0;
    for (seed = 1; seed <= 3; seed++) {
        rdg_rng r;
        rdg_rng_init(&r, 1000 + seed, 7);
        for (n = 1; n <= MAXN; n++) {
            rdg_status st;
            double rec, orth, na;
            size_t i, j;
            rand_sym(&r, A, n);
            /* scale some matrices to test relative accuracy */
            if (n % 5 == 0) for (i = 0; i < n * n; i++) A[i] *= 1e-8;
            if (n % 7 == 0) for (i = 0; i < n * n; i++) A[i] *= 1e6;
            na = frob(A, n);
            st = rdg_eigh(A, n, w, V, NULL);
            if (st != RDG_OK) {
                CHECK(0, "eigh random n=%zu seed=%llu status %d", n, seed, (int)st);
                worst_fail++;
                continue;
            }
            eig_errors(A, w, V, n, &rec, &orth);
            if (rec > worst_rec) worst_rec = rec;
            if (orth > worst_orth) worst_orth = orth;
            if (rec > 1e-12 || orth > 1e-12 || !is_descending(w, n)) {
                CHECK(0, "eigh random n=%zu seed=%llu: rec %.3g orth %.3g desc %d", n, seed,
                      rec, orth, is_descending(w, n));
                worst_fail++;
            }
            /* eigenvalues only (V NULL) must equal the full call */
            st = rdg_eigh(A, n, w2, NULL, NULL);
            if (st != RDG_OK) { CHECK(0, "eigh V=NULL n=%zu status %d", n, (int)st); continue; }
            for (i = 0; i < n; i++) {
                double e = fabs(w2[i] - w[i]) / (na > 0 ? na : 1.0);
                if (e > worst_wo) worst_wo = e;
            }
            /* caller-provided work gives the same result */
            st = rdg_eigh(A, n, w2, V2, work);
            CHECK(st == RDG_OK && memcmp(w2, w, n * sizeof *w) == 0 &&
                      memcmp(V2, V, n * n * sizeof *V) == 0,
                  "eigh with work differs from work=NULL (n=%zu)", n);
            /* only the lower triangle is read: garbage above the diagonal changes nothing */
            memcpy(Aup, A, n * n * sizeof *A);
            for (i = 0; i < n; i++)
                for (j = i + 1; j < n; j++) Aup[i * n + j] = 12345.0 + (double)(i * j);
            st = rdg_eigh(Aup, n, w2, V2, NULL);
            CHECK(st == RDG_OK && memcmp(w2, w, n * sizeof *w) == 0,
                  "eigh reads the upper triangle (n=%zu)", n);
        }
    }
    CHECK(worst_fail == 0, "random eigh failures: %d (worst rec %.3g orth %.3g)", worst_fail,
          worst_rec, worst_orth);
    CHECK(worst_wo <= 1e-13, "eigenvalues with V=NULL differ from full call: %.3g", worst_wo);
    printf("ok eigh random: worst reconstruction %.3g, orthogonality %.3g\n", worst_rec,
           worst_orth);
}

static void test_eigh_repeated(void) {
    /* Q diag(3,3,3,1,1) Q^T: eigenvalues exactly known, invariant subspaces known */
    double Q[25], A[25], w[5], V[25], rec, orth;
    const double lam[5] = { 3, 3, 3, 1, 1 };
    size_t i, j, k;
    int trial;
    for (trial = 0; trial < 5; trial++) {
        rdg_rng r;
        rdg_status st;
        double perr = 0;
        rdg_rng_init(&r, 42, (unsigned long long)trial);
        rand_orth(&r, Q, 5);
        for (i = 0; i < 5; i++)
            for (j = 0; j < 5; j++) {
                long double s = 0;
                for (k = 0; k < 5; k++) s += (long double)Q[i * 5 + k] * lam[k] * Q[j * 5 + k];
                A[i * 5 + j] = (double)s;
            }
        for (i = 0; i < 5; i++)
            for (j = 0; j < i; j++) A[j * 5 + i] = A[i * 5 + j];
        st = rdg_eigh(A, 5, w, V, NULL);
        CHECK(st == RDG_OK, "eigh repeated: status %d", (int)st);
        if (st != RDG_OK) continue;
        for (i = 0; i < 5; i++) CHECK_CLOSE(w[i], lam[i], 1e-13, "repeated eigenvalue");
        eig_errors(A, w, V, 5, &rec, &orth);
        CHECK(rec < 1e-13 && orth < 1e-13, "eigh repeated: rec %.3g orth %.3g", rec, orth);
        /* the projector onto the first three eigenvectors equals Q3 Q3^T */
        for (i = 0; i < 5; i++)
            for (j = 0; j < 5; j++) {
                double p1 = 0, p2 = 0;
                for (k = 0; k < 3; k++) {
                    p1 += V[i * 5 + k] * V[j * 5 + k];
                    p2 += Q[i * 5 + k] * Q[j * 5 + k];
                }
                if (fabs(p1 - p2) > perr) perr = fabs(p1 - p2);
            }
        CHECK(perr < 1e-12, "eigh repeated: invariant subspace error %.3g", perr);
    }
}

static void test_eigh_special(void) {
    double A[16], w[4], V[16], rec, orth;
    rdg_status st;
    size_t i, j;
    /* 1x1 */
    A[0] = -2.5;
    st = rdg_eigh(A, 1, w, V, NULL);
    CHECK(st == RDG_OK && w[0] == -2.5 && fabs(V[0]) == 1.0, "eigh 1x1: st %d w %g V %g",
          (int)st, w[0], V[0]);
    /* zero matrix */
    memset(A, 0, sizeof A);
    st = rdg_eigh(A, 4, w, V, NULL);
    CHECK(st == RDG_OK, "eigh zero: status %d", (int)st);
    for (i = 0; i < 4; i++) CHECK(w[i] == 0.0, "eigh zero: w[%zu] = %g", i, w[i]);
    eig_errors(A, w, V, 4, &rec, &orth);
    CHECK(orth < 1e-15, "eigh zero: V not orthogonal (%.3g)", orth);
    /* diagonal matrix: eigenvalues are the sorted diagonal, eigenvectors unit vectors */
    {
        const double dg[4] = { 1.0, -7.0, 4.0, 0.5 };
        const double sorted[4] = { 4.0, 1.0, 0.5, -7.0 };
        const size_t where[4] = { 2, 0, 3, 1 };
        memset(A, 0, sizeof A);
        for (i = 0; i < 4; i++) A[i * 4 + i] = dg[i];
        st = rdg_eigh(A, 4, w, V, NULL);
        CHECK(st == RDG_OK, "eigh diagonal: status %d", (int)st);
        for (i = 0; i < 4; i++) {
            CHECK(w[i] == sorted[i], "eigh diagonal: w[%zu] = %.17g, want %g", i, w[i],
                  sorted[i]);
            for (j = 0; j < 4; j++)
                CHECK(fabs(V[j * 4 + i]) == (j == where[i] ? 1.0 : 0.0),
                      "eigh diagonal: V[%zu][%zu] = %g", j, i, V[j * 4 + i]);
        }
    }
    /* a 2x2 with known eigenpairs: [[2,1],[1,2]] -> 3, 1 */
    A[0] = 2; A[1] = 1; A[2] = 1; A[3] = 2;
    st = rdg_eigh(A, 2, w, V, NULL);
    CHECK(st == RDG_OK, "eigh 2x2 status %d", (int)st);
    CHECK_CLOSE(w[0], 3.0, 1e-15, "eigh 2x2 w0");
    CHECK_CLOSE(w[1], 1.0, 1e-15, "eigh 2x2 w1");
    CHECK_CLOSE(fabs(V[0]), sqrt(0.5), 1e-15, "eigh 2x2 V00");
    CHECK_CLOSE(V[0] * V[2], 0.5, 1e-15, "eigh 2x2 v0 = (1,1)/sqrt2");
    CHECK_CLOSE(V[1] * V[3], -0.5, 1e-15, "eigh 2x2 v1 = (1,-1)/sqrt2");
    /* tiny off-diagonal: relative accuracy of nearby eigenvalues */
    A[0] = 1; A[1] = 1e-9; A[2] = 1e-9; A[3] = 1;
    st = rdg_eigh(A, 2, w, V, NULL);
    CHECK(st == RDG_OK, "eigh near-degenerate status %d", (int)st);
    CHECK(fabs(w[0] - (1 + 1e-9)) < 4e-16 && fabs(w[1] - (1 - 1e-9)) < 4e-16,
          "eigh near-degenerate: %.17g %.17g", w[0], w[1]);
}

static void test_eigh_bad(void) {
    double A[9] = { 1, 0, 0, 0, 2, 0, 0, 0, 3 }, w[3], V[9];
    CHECK(rdg_eigh(NULL, 3, w, V, NULL) == RDG_ERR_INVALID, "eigh NULL A");
    CHECK(rdg_eigh(A, 3, NULL, V, NULL) == RDG_ERR_INVALID, "eigh NULL w");
    CHECK(rdg_eigh(A, 0, w, V, NULL) == RDG_ERR_INVALID, "eigh n = 0");
    A[3] = NAN; /* lower triangle */
    CHECK(rdg_eigh(A, 3, w, V, NULL) == RDG_ERR_NONFINITE, "eigh NaN");
    CHECK(rdg_eigh(A, 3, w, NULL, NULL) == RDG_ERR_NONFINITE, "eigh NaN (V NULL)");
    A[3] = 0;
    A[8] = INFINITY;
    CHECK(rdg_eigh(A, 3, w, V, NULL) == RDG_ERR_NONFINITE, "eigh Inf on diagonal");
    A[8] = -HUGE_VAL;
    CHECK(rdg_eigh(A, 3, w, V, NULL) == RDG_ERR_NONFINITE, "eigh -Inf on diagonal");
}

/* ---- LU ---------------------------------------------------------------------------------- */

static void test_lu_random(void) {
    static double A[MAXN * MAXN], LU[MAXN * MAXN], b[MAXN * 3], x[MAXN * 3], xs[MAXN];
    size_t piv[MAXN];
    size_t n;
    double worst = 0, worst_plu = 0;
    int fails = 0;
    rdg_rng r;
    rdg_rng_init(&r, 99, 1);
    for (n = 1; n <= 40; n++) {
        size_t i, j, k, c;
        rdg_status st;
        double nA = 0;
        for (i = 0; i < n * n; i++) A[i] = rdg_rng_normal(&r);
        for (i = 0; i < n; i++) A[i * n + i] += (n % 3 == 0) ? 0.0 : 2.0; /* some less nice */
        for (i = 0; i < n * n; i++) if (fabs(A[i]) > nA) nA = fabs(A[i]);
        for (i = 0; i < n * 3; i++) b[i] = rdg_rng_normal(&r);
        memcpy(LU, A, n * n * sizeof *A);
        st = rdg_lu_factor(LU, n, piv);
        if (st != RDG_OK) { CHECK(0, "lu_factor random n=%zu status %d", n, (int)st); fails++; continue; }
        /* P A = L U, with P the sequence of row swaps (i <-> piv[i]) */
        {
            static double PA[MAXN * MAXN];
            double e = 0;
            memcpy(PA, A, n * n * sizeof *A);
            for (i = 0; i < n; i++) {
                CHECK(piv[i] >= i && piv[i] < n, "piv[%zu] = %zu out of range", i, piv[i]);
                if (piv[i] >= n) break;
                for (j = 0; j < n; j++) {
                    double t = PA[i * n + j];
                    PA[i * n + j] = PA[piv[i] * n + j];
                    PA[piv[i] * n + j] = t;
                }
            }
            for (i = 0; i < n; i++)
                for (j = 0; j < n; j++) {
                    long double s = 0;
                    for (k = 0; k <= (i < j ? i : j); k++)
                        s += (long double)(k == i ? 1.0 : LU[i * n + k]) * LU[k * n + j];
                    if (fabs((double)(s - PA[i * n + j])) > e) e = fabs((double)(s - PA[i * n + j]));
                }
            e /= nA * (double)n;
            if (e > worst_plu) worst_plu = e;
        }
        /* three right-hand sides at once */
        memcpy(x, b, n * 3 * sizeof *b);
        st = rdg_lu_solve(LU, n, piv, x, 3);
        if (st != RDG_OK) { CHECK(0, "lu_solve n=%zu status %d", n, (int)st); fails++; continue; }
        for (c = 0; c < 3; c++) {
            double rn = 0, xn = 0, e;
            for (i = 0; i < n; i++) {
                long double s = 0;
                for (j = 0; j < n; j++) s += (long double)A[i * n + j] * x[j * 3 + c];
                s -= b[i * 3 + c];
                if (fabs((double)s) > rn) rn = fabs((double)s);
                if (fabs(x[i * 3 + c]) > xn) xn = fabs(x[i * 3 + c]);
            }
            e = rn / (nA * xn * (double)n);
            if (e > worst) worst = e;
            /* the same column solved alone gives the same answer */
            for (i = 0; i < n; i++) xs[i] = b[i * 3 + c];
            st = rdg_lu_solve(LU, n, piv, xs, 1);
            for (i = 0; i < n; i++)
                if (st != RDG_OK || fabs(xs[i] - x[i * 3 + c]) > 1e-12 * (xn + 1)) break;
            CHECK(i == n, "lu_solve: multi-RHS column %zu differs from single solve (n=%zu)", c, n);
        }
    }
    CHECK(fails == 0, "lu random failures %d", fails);
    CHECK(worst < 1e-14, "lu residual |Ax-b|/(n |A| |x|) = %.3g", worst);
    CHECK(worst_plu < 1e-15, "lu |PA - LU|/(n max|A|) = %.3g", worst_plu);
    printf("ok lu random: worst residual %.3g, |PA-LU| %.3g\n", worst, worst_plu);

    /* a system with a known exact solution */
    {
        double M[9] = { 0, 2, 1, 1, 1, 1, 4, -1, 3 }, rhs[3], sol[3] = { 1, -2, 3 };
        size_t p3[3], i, j;
        for (i = 0; i < 3; i++) {
            rhs[i] = 0;
            for (j = 0; j < 3; j++) rhs[i] += M[i * 3 + j] * sol[j];
        }
        CHECK(rdg_lu_factor(M, 3, p3) == RDG_OK, "lu_factor zero-leading-pivot matrix");
        CHECK(rdg_lu_solve(M, 3, p3, rhs, 1) == RDG_OK, "lu_solve 3x3");
        for (i = 0; i < 3; i++) CHECK_CLOSE(rhs[i], sol[i], 1e-14, "lu 3x3 exact solution");
    }
}

static void test_lu_singular(void) {
    double A[16];
    size_t piv[4], i, j;
    rdg_status st;
    /* zero matrix */
    memset(A, 0, sizeof A);
    CHECK(rdg_lu_factor(A, 4, piv) == RDG_ERR_SINGULAR, "lu zero matrix");
    /* rank 1 (exact integers) */
    {
        const double u[4] = { 1, -2, 3, 4 }, v[4] = { 2, 1, -1, 5 };
        for (i = 0; i < 4; i++)
            for (j = 0; j < 4; j++) A[i * 4 + j] = u[i] * v[j];
        st = rdg_lu_factor(A, 4, piv);
        CHECK(st == RDG_ERR_SINGULAR, "lu rank-1 matrix: status %d", (int)st);
    }
    /* full-looking but rank deficient: a duplicated row */
    {
        rdg_rng r;
        rdg_rng_init(&r, 5, 5);
        for (i = 0; i < 16; i++) A[i] = rdg_rng_normal(&r);
        for (j = 0; j < 4; j++) A[3 * 4 + j] = A[1 * 4 + j];
        st = rdg_lu_factor(A, 4, piv);
        CHECK(st == RDG_ERR_SINGULAR, "lu duplicated row: status %d", (int)st);
    }
    /* a zero column */
    {
        rdg_rng r;
        rdg_rng_init(&r, 6, 6);
        for (i = 0; i < 16; i++) A[i] = rdg_rng_normal(&r);
        for (i = 0; i < 4; i++) A[i * 4 + 2] = 0;
        st = rdg_lu_factor(A, 4, piv);
        CHECK(st == RDG_ERR_SINGULAR, "lu zero column: status %d", (int)st);
    }
    /* the classic [[1,2,3],[4,5,6],[7,8,9]] */
    {
        double M[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        size_t p3[3];
        st = rdg_lu_factor(M, 3, p3);
        CHECK(st == RDG_ERR_SINGULAR, "lu 1..9 matrix: status %d", (int)st);
    }
    /* badly scaled but regular: diag(1e-200, 1e200) is not singular relative to... it is:
       the pivot 1e-200 is below n eps max|A|, so it must be reported */
    {
        double M[4] = { 1e-200, 0, 0, 1e200 };
        size_t p2[2];
        st = rdg_lu_factor(M, 2, p2);
        CHECK(st == RDG_ERR_SINGULAR, "lu diag(1e-200, 1e200): status %d", (int)st);
    }
    /* uniformly tiny but regular: relative threshold, not absolute */
    {
        double M[4] = { 1e-200, 2e-200, 3e-200, 1e-200 }, rhs[2] = { 5e-200, 5e-200 };
        size_t p2[2];
        st = rdg_lu_factor(M, 2, p2);
        CHECK(st == RDG_OK, "lu tiny regular matrix: status %d", (int)st);
        if (st == RDG_OK) {
            /* [[1,2],[3,1]] x = [5,5] -> x = (1, 2) */
            CHECK(rdg_lu_solve(M, 2, p2, rhs, 1) == RDG_OK, "lu_solve tiny");
            CHECK_CLOSE(rhs[0], 1.0, 1e-14, "lu tiny x0");
            CHECK_CLOSE(rhs[1], 2.0, 1e-14, "lu tiny x1");
        }
    }
    /* bad input */
    {
        double M[4] = { 1, 2, 3, NAN };
        size_t p2[2];
        double bb[2] = { 1, 1 };
        CHECK(rdg_lu_factor(M, 2, p2) == RDG_ERR_NONFINITE, "lu NaN");
        M[3] = INFINITY;
        CHECK(rdg_lu_factor(M, 2, p2) == RDG_ERR_NONFINITE, "lu Inf");
        CHECK(rdg_lu_factor(NULL, 2, p2) == RDG_ERR_INVALID, "lu NULL A");
        M[3] = 1;
        CHECK(rdg_lu_factor(M, 2, NULL) == RDG_ERR_INVALID, "lu NULL piv");
        CHECK(rdg_lu_factor(M, 0, p2) == RDG_ERR_INVALID, "lu n = 0");
        CHECK(rdg_lu_factor(M, 2, p2) == RDG_OK, "lu 2x2 ok");
        CHECK(rdg_lu_solve(NULL, 2, p2, bb, 1) == RDG_ERR_INVALID, "lu_solve NULL LU");
        CHECK(rdg_lu_solve(M, 2, NULL, bb, 1) == RDG_ERR_INVALID, "lu_solve NULL piv");
        CHECK(rdg_lu_solve(M, 2, p2, NULL, 1) == RDG_ERR_INVALID, "lu_solve NULL b");
        CHECK(rdg_lu_solve(M, 0, p2, bb, 1) == RDG_ERR_INVALID, "lu_solve n = 0");
    }
}

/* The private Cholesky (rdg__chol, rdg__cholsolve, rdg__chol_rows: the LM solver's and the
   tangent Jacobian's), on random SPD matrices A = G G^T + n I (cond up to ~10), at sizes around
   the vector widths and with a wider leading dimension: U^T U = A in long double, the lower
   half and the padding 0, the solves' residuals, the upper half alone read; failure on an
   indefinite matrix and on NaN. */
static void test_chol(void) {
    static const size_t ns[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65 };
    static double A[70 * 80], U[70 * 80], Y[70 * 70], Y0[70 * 70], b[70], x[70];
    rdg_rng r;
    size_t in, ex, i, j, k;
    double worst_f = 0, worst_s = 0, worst_r = 0;
    rdg_rng_init(&r, 23, 0);
    for (in = 0; in < sizeof ns / sizeof *ns; in++) for (ex = 0; ex < 2; ex++) {
        size_t n = ns[in], ld = rdg__pad(n) + ex * RDG__VW, zeros = 1;
        double G[70 * 70], an = 0;
        for (i = 0; i < n * n; i++) G[i] = rdg_rng_normal(&r);
        for (i = 0; i < n; i++) for (j = 0; j < n; j++) {
            long double s = 0;
            for (k = 0; k < n; k++) s += (long double)G[i * n + k] * G[j * n + k];
            A[i * ld + j] = (double)s + (i == j ? (double)n : 0);
        }
        for (i = 0; i < n * n; i++) an = fmax(an, fabs(A[(i / n) * ld + i % n]));
        /* the lower half and the padding hold garbage: only the upper half may be read */
        for (i = 0; i < n; i++) for (j = 0; j < ld; j++) U[i * ld + j] = j >= i && j < n ? A[i * ld + j] : 1e300;
        CHECK(rdg__chol(U, n, ld) == 1, "chol n %zu ld %zu", n, ld);
        for (i = 0; i < n; i++) for (j = 0; j < ld; j++) if ((j < i || j >= n) && U[i * ld + j] != 0) zeros = 0;
        CHECK(zeros, "chol n %zu: lower half and padding 0", n);
        for (i = 0; i < n; i++) for (j = i; j < n; j++) {        /* (U^T U)_ij = sum_{k <= i} U_ki U_kj */
            long double s = 0;
            for (k = 0; k <= i; k++) s += (long double)U[k * ld + i] * U[k * ld + j];
            worst_f = fmax(worst_f, fabs((double)(s - A[i * ld + j])) / (an * DBL_EPSILON));
        }
        /* A x = b against b */
        for (i = 0; i < n; i++) b[i] = x[i] = rdg_rng_normal(&r);
        for (i = 0; i < n; i++) for (j = 0; j < ld; j++) U[i * ld + j] = j >= i && j < n ? A[i * ld + j] : -7;
        CHECK(rdg__cholsolve(U, n, ld, x) == 1, "cholsolve n %zu", n);
        for (i = 0; i < n; i++) {
            long double s = 0, bn = 0;
            for (j = 0; j < n; j++) { s += (long double)A[(i < j ? i : j) * ld + (i < j ? j : i)] * x[j]; bn += fabsl((long double)x[j]); }
            worst_s = fmax(worst_s, fabs((double)(s - b[i])) / ((double)bn * an * DBL_EPSILON + 1e-300));
        }
        /* A X = Y0 for n right-hand sides (rdg__chol_rows on the factor) */
        for (i = 0; i < n * n; i++) Y[i] = Y0[i] = rdg_rng_normal(&r);
        rdg__chol_rows(U, n, ld, Y);
        for (i = 0; i < n; i++) for (j = 0; j < n; j++) {
            long double s = 0, xn = 0;
            for (k = 0; k < n; k++) { s += (long double)A[(i < k ? i : k) * ld + (i < k ? k : i)] * Y[k * n + j]; xn += fabsl((long double)Y[k * n + j]); }
            worst_r = fmax(worst_r, fabs((double)(s - Y0[i * n + j])) / ((double)xn * an * DBL_EPSILON + 1e-300));
        }
    }
    printf("  chol: worst |U^T U - A| %.1f eps |A|, solve residual %.1f eps |A| |x|, %.1f with n right-hand sides\n",
           worst_f, worst_s, worst_r);
    CHECK(worst_f <= 8, "chol reconstruction %.3g eps", worst_f);
    CHECK(worst_s <= 64, "cholsolve residual %.3g eps", worst_s);
    CHECK(worst_r <= 64, "chol_rows residual %.3g eps", worst_r);
    /* not positive definite: a negative pivot, and NaN */
    {
        double M[4 * 8] = { 0 };
        M[0] = 1; M[1] = 2; M[8 + 1] = 1;                       /* [[1 2] [2 1]]: eigenvalues 3, -1 */
        CHECK(rdg__chol(M, 2, 8) == 0, "chol indefinite");
        M[0] = NAN; M[1] = 0; M[8 + 1] = 1;
        CHECK(rdg__chol(M, 2, 8) == 0, "chol NaN pivot");
        M[0] = 0;
        CHECK(rdg__chol(M, 1, 8) == 0, "chol zero pivot");
    }
}

int main(void) {
    test_eigh_random();
    test_eigh_repeated();
    test_eigh_special();
    test_eigh_bad();
    test_lu_random();
    test_lu_singular();
    test_chol();
    RDG_TEST_END("test_linalg");
}
