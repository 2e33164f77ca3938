/* The inner kernels (ridgediff.h >>kernels): every SIMD kernel of this build against the plain
   C99 reference that is always compiled (RDG_NO_SIMD builds run only the reference checks);
   the exact-model sampler's candidate sets against plain full scans; and the warm-started
   Jacobi against a cold one. Built by `make unit` (scalar) and by `make simd` (AVX2 and
   -march=native), so both paths run in `make test`. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#  include <omp.h>
#endif

static double rel(const rdg_real *a, const rdg_real *b, size_t n) {
    double md = 0, mb = 0;
    size_t i;
    for (i = 0; i < n; ++i) {
        double df = fabs((double)a[i] - (double)b[i]);
        if (!(df <= md)) md = df;
        if (fabs((double)b[i]) > mb) mb = fabs((double)b[i]);
    }
    return mb > 0 ? md / mb : md;
}

static void fill(rdg_rng *r, rdg_real *x, size_t n, double sc) {
    size_t i;
    for (i = 0; i < n; ++i) x[i] = (rdg_real)(sc * (double)rdg_rng_normal(r));
}

/* A panel of cnt points (d x RDG__PANEL, zero padding) from rows X. */
static void panel(const rdg_real *X, size_t cnt, size_t d, rdg_real *xt, rdg_real *xx) {
    size_t i, j;
    memset(xt, 0, d * RDG__PANEL * sizeof *xt);
    for (i = 0; i < cnt; ++i) {
        rdg_real r = 0;
        for (j = 0; j < d; ++j) { xt[j * RDG__PANEL + i] = X[i * d + j]; r += X[i * d + j] * X[i * d + j]; }
        xx[i] = r;
    }
}

static void kernels(void) {
    static const size_t ds[] = { 1, 2, 3, 7, 8, 9, 16, 31, 32, 33, 64, 65 };
    static const size_t cnts[] = { 1, 5, 16, 17, 24, 31, RDG__PANEL };   /* at most one panel */
    rdg_rng r;
    size_t id, ic, i, j, fails = 0;
    double worst_dot = 0;
    rdg_rng_init(&r, 7, 0);
    for (id = 0; id < sizeof ds / sizeof *ds; ++id) for (ic = 0; ic < sizeof cnts / sizeof *cnts; ++ic) {
        size_t d = ds[id], cnt = cnts[ic], dp = rdg__pad(d), idx[64];
        rdg_real X[64 * 65], xt[65 * RDG__PANEL], xx[64], y[65], e1[64], e2[64], e3[64], a = (rdg_real)0.7, h = (rdg_real)0.3;
        rdg_real m1, m2, m3, wt[64], xr[65], o1[65], o2[65];
        (void)dp;
        fill(&r, X, cnt * d, 1.0); fill(&r, y, d, 1.0);
        panel(X, cnt, d, xt, xx);
        for (i = 0; i < cnt; ++i) idx[i] = i;
        m1 = rdg__k_dist_ref(xt, cnt, d, y, a, h, e1);
        m2 = rdg__k_dist_rows(X, cnt, d, y, a, h, e2);
        m3 = rdg__k_dist_idx(X, d, idx, cnt, y, a, h, e3);
        /* the same rounding in every layout: the candidate sets rely on it */
        if (memcmp(e1, e2, cnt * sizeof *e1) || memcmp(e1, e3, cnt * sizeof *e1) || m1 != m2 || m1 != m3) ++fails;
        /* expanded square against the direct form (scale of e: |y - a x|^2 h) */
        m2 = rdg__k_dot_ref(xt, xx, cnt, d, y, 2 * h * a, h * a * a, h * rdg__dot(y, y, d), e2);
        {
            double dd = rel(e2, e1, cnt);
            if (dd > worst_dot) worst_dot = dd;
        }
        for (i = 0; i < cnt; ++i) wt[i] = (rdg_real)rdg_rng_uniform(&r);
        fill(&r, xr, d, 1.0);
        for (j = 0; j < d; ++j) o1[j] = o2[j] = 0;
        rdg__k_wsum_ref(X, d, idx, wt, cnt, xr, o1);
#if RDG__VW > 1
        m2 = rdg__k_dist_simd(xt, cnt, d, y, a, h, e2);
        CHECK(memcmp(e1, e2, cnt * sizeof *e1) == 0 && m1 == m2, "dist simd != ref (d %zu, cnt %zu)", d, cnt);
        m2 = rdg__k_dot_ref(xt, xx, cnt, d, y, 2 * h * a, h * a * a, h * rdg__dot(y, y, d), e2);
        m3 = rdg__k_dot_simd(xt, xx, cnt, d, y, 2 * h * a, h * a * a, h * rdg__dot(y, y, d), e3);
        CHECK(rel(e3, e2, cnt) <= 1e-14 && fabs((double)(m2 - m3)) <= 1e-13 * (1 + fabs((double)m2)),
              "dot simd vs ref (d %zu, cnt %zu): %.3g", d, cnt, rel(e3, e2, cnt));
        rdg__k_wsum_simd(X, d, idx, wt, cnt, xr, o2);
        CHECK(rel(o2, o1, d) <= 1e-14, "wsum simd vs ref (d %zu, cnt %zu): %.3g", d, cnt, rel(o2, o1, d));
#if RDG__PLANE_SIMD
        if (d == 2) {   /* the plane's gather kernels, on points in reverse order (every count: plane_kernels) */
            size_t ridx[64];
            rdg_real dm2[2], c1[3] = { 0, 0, 0 }, c2[3] = { 0, 0, 0 };
            for (i = 0; i < cnt; ++i) ridx[i] = cnt - 1 - i;
            fill(&r, dm2, 2, 0.1);
            o1[0] = o1[1] = o2[0] = o2[1] = 0;
            rdg__k_wsum_small(X, 2, ridx, wt, cnt, xr, o1);
            rdg__k_wsum2_simd(X, ridx, wt, cnt, xr, o2);
            CHECK(rel(o2, o1, 2) <= 1e-14, "wsum2 simd vs ref (cnt %zu): %.3g", cnt, rel(o2, o1, 2));
            rdg__k_cov2_ref(X, ridx, wt, cnt, xr, dm2, c1);
            rdg__k_cov2_simd(X, ridx, wt, cnt, xr, dm2, c2);
            CHECK(rel(c2, c1, 3) <= 1e-14, "cov2 simd vs ref (cnt %zu): %.3g", cnt, rel(c2, c1, 3));
        }
#endif
        {   /* outer products and row-block products on padded rows */
            rdg_real A[64 * 72], Bm[64 * 72], acc1[72 * 72], acc2[72 * 72], out1[64 * 72], out2[64 * 72];
            memset(A, 0, sizeof A); memset(Bm, 0, sizeof Bm);
            for (i = 0; i < cnt; ++i) { fill(&r, A + i * dp, d, 1.0); fill(&r, Bm + i * dp, d, 1.0); }
            memset(acc1, 0, sizeof acc1); memset(acc2, 0, sizeof acc2);
            rdg__k_atb_ref(cnt, dp, 0, A, Bm, acc1, 0);
            rdg__k_atb_simd(cnt, dp, 0, A, Bm, acc2, 0);
            CHECK(rel(acc2, acc1, dp * dp) <= 1e-14, "atb simd vs ref (d %zu, cnt %zu)", d, cnt);
            memset(acc1, 0, sizeof acc1); memset(acc2, 0, sizeof acc2);
            rdg__k_atb_ref(cnt, dp, 0, A, Bm, acc1, 1);
            rdg__k_atb_simd(cnt, dp, 0, A, Bm, acc2, 1);
            {
                double md = 0;
                for (i = 0; i < d; ++i) for (j = 0; j <= i; ++j) {
                    double df = fabs((double)(acc1[i * dp + j] - acc2[i * dp + j]));
                    if (df > md) md = df;
                }
                CHECK(md <= 1e-12, "atb lower simd vs ref (d %zu, cnt %zu): %.3g", d, cnt, md);
            }
            if (d <= 64) {
                rdg_real V[64 * 72];
                memset(V, 0, sizeof V);
                for (i = 0; i < d; ++i) fill(&r, V + i * dp, d, 1.0);
                size_t nc, ncs[2];
                ncs[0] = dp; ncs[1] = rdg__pad((d + 1) / 2);   /* all columns; about half */
                for (nc = 0; nc < 2; ++nc) {
                    size_t ko;
                    for (ko = 0; ko < cnt * dp; ++ko) out1[ko] = out2[ko] = (rdg_real)ko;   /* past nc: kept */
                    rdg__k_ab_ref(cnt, dp, ncs[nc], d, A, V, out1);
                    rdg__k_ab_simd(cnt, dp, ncs[nc], d, A, V, out2);
                    CHECK(rel(out2, out1, cnt * dp) <= 1e-14, "ab simd vs ref (d %zu, cnt %zu, nc %zu)", d, cnt, ncs[nc]);
                    for (ko = 0; ko < cnt * dp; ++ko)
                        if (ko % dp >= ncs[nc] && out2[ko] != (rdg_real)ko) break;
                    CHECK(ko == cnt * dp, "ab simd wrote past nc %zu (d %zu, cnt %zu)", ncs[nc], d, cnt);
                }
            }
            {   /* dots of the rows with a padded vector */
                rdg_real v[72], d1[64], d2[64];
                memset(v, 0, sizeof v);
                fill(&r, v, d, 1.0);
                double worst_rd = 0;
                rdg__k_rowdot_ref(cnt, dp, A, v, d1);
                rdg__k_rowdot_simd(cnt, dp, A, v, d2);
                for (i = 0; i < cnt; ++i) {     /* against the sum of |terms|: a cancelling row */
                    double a = 0;               /* and a compiler that fuses the reference's */
                    for (j = 0; j < d; ++j) a += fabs((double)A[i * dp + j] * (double)v[j]);   /* a * b + c */
                    if (a > 0) worst_rd = fmax(worst_rd, fabs((double)(d2[i] - d1[i])) / a);
                }
                CHECK(worst_rd <= 4 * (double)d * RDG__EPS, "rowdot simd vs ref (d %zu, cnt %zu): %.3g of the sum of |terms|", d, cnt, worst_rd);
            }
        }
        {
            rdg_real xa[65], ya[65], xb[65], yb[65];
            fill(&r, xa, d, 1.0); fill(&r, ya, d, 1.0);
            memcpy(xb, xa, d * sizeof *xa); memcpy(yb, ya, d * sizeof *ya);
            rdg__k_rot_ref(xa, ya, d, (rdg_real)0.3, (rdg_real)0.15);
            rdg__k_rot_simd(xb, yb, d, (rdg_real)0.3, (rdg_real)0.15);
            CHECK(memcmp(xa, xb, d * sizeof *xa) == 0 && memcmp(ya, yb, d * sizeof *ya) == 0,
                  "rot simd != ref (n %zu)", d);
        }
#endif
    }
    CHECK(fails == 0, "distance kernels disagree between layouts in %zu cases", fails);
    CHECK(worst_dot <= 1e-12, "expanded-square distances vs direct: %.3g", worst_dot);
    {   /* exp kernel: against libm over the range the weights use, and the flush below -708 */
        rdg_real e[200], f[200];
        double worst = 0, s1, s2;
        for (i = 0; i < 200; ++i) e[i] = f[i] = -(rdg_real)(i * i) * (rdg_real)0.0175;   /* down to -686 */
        e[199] = f[199] = -800;
        s1 = (double)rdg__k_exp(e, 200, 0);
        s2 = (double)rdg__k_exp_ref(f, 200, 0);
        for (i = 0; i < 199; ++i) {
            double d1 = fabs((double)e[i] - (double)f[i]) / (double)f[i];
            if (f[i] > 0 && d1 > worst) worst = d1;
        }
        CHECK(worst <= 6e-16 && fabs(s1 - s2) <= 1e-15 * s2, "exp kernel: worst rel %.3g", worst);
        CHECK(e[199] == 0, "exp kernel below -708: %g", (double)e[199]);
    }
    {   /* and densely over [-708, 0] against long double: the fitted polynomial's worst case
           (5e-16) sits at the ends of |r| <= ln2 / 2, which the sweep crosses 1000 times */
        static rdg_real e[20000], x[20000];
        size_t n = sizeof e / sizeof *e;
        long double worst = 0;
        for (i = 0; i < n; ++i) e[i] = x[i] = -(rdg_real)708 * (rdg_real)i / (rdg_real)(n - 1);
        rdg__k_exp(e, n, 0);
        for (i = 0; i < n; ++i) {
            long double ref = expl((long double)x[i]), rel = fabsl((long double)e[i] - ref) / ref;
            if (rel > worst) worst = rel;
        }
        CHECK(worst <= 6e-16L, "exp kernel over [-708, 0]: worst rel %.3Lg", worst);
    }
    {   /* the cut exp: its unchecked loop (cut within 708 of the shift) and its checked loop
           (no cut) give the kept lanes the exp kernel's values bit for bit, zero every lane
           below the cut whatever lies there (-1e30, -Inf: out of the unchecked core's range),
           and sum what they keep */
        static rdg_real e0[203], e1[203], e2[203], e3[203];
        size_t n = sizeof e0 / sizeof *e0, bad = 0, badz = 0;
        rdg_real shift = (rdg_real)-3.5, cut = shift - 40, s1, s2, s3, sk = 0;
        for (i = 0; i < n; ++i) e0[i] = shift - (rdg_real)(i % 67) * (rdg_real)0.9;   /* to 59.4 below */
        e0[5] = -(rdg_real)1e30; e0[17] = -(rdg_real)HUGE_VAL; e0[n - 1] = cut; e0[n - 2] = shift;
        memcpy(e1, e0, sizeof e0); memcpy(e2, e0, sizeof e0); memcpy(e3, e0, sizeof e0);
        s1 = rdg__k_expcut(e1, n, shift, cut);
        s2 = rdg__k_expcut(e2, n, shift, -RDG__BIG);
        s3 = rdg__k_expcut_ref(e3, n, shift, cut);
        for (i = 0; i < n; ++i) e0[i] = e0[i] >= cut ? e0[i] : -(rdg_real)HUGE_VAL;
        rdg__k_exp(e0, n, shift);           /* the plain kernel's values (0 for -Inf) */
        for (i = 0; i < n; ++i) {
            bad += e1[i] != e0[i] || (e0[i] > 0 && e2[i] != e0[i]);
            badz += e1[i] == 0 && e3[i] != 0;
            sk += e1[i];
        }
        CHECK(bad == 0 && badz == 0, "expcut: %zu lanes differ from the exp kernel, %zu zeroed that the reference keeps", bad, badz);
        CHECK(e1[5] == 0 && e1[17] == 0 && e1[n - 1] > 0 && e1[n - 2] == 1, "expcut: the edge lanes %g %g %g %g",
              (double)e1[5], (double)e1[17], (double)e1[n - 1], (double)e1[n - 2]);
        CHECK(e2[5] == 0 && e2[17] == 0 && e2[6] > 0, "expcut without a cut: %g %g %g", (double)e2[5], (double)e2[17],
              (double)e2[6]);
        CHECK(fabs((double)(s1 - sk)) <= 1e-15 * (double)sk && fabs((double)(s1 - s3)) <= 1e-15 * (double)s3
              && rdg__isfinite(s2), "expcut sums: %.17g, lanes %.17g, reference %.17g", (double)s1, (double)sk, (double)s3);
    }
    printf("  kernels: %s path, vectors of %d reals\n", RDG__SIMD_NAME, RDG__VW);
}

/* The sampler's candidate sets and expanded-square scans against the exact model evaluated
   through the plain per-point path (a user model wrapping it): same trajectories to 1e-9. */
static rdg_status wrapped(const void *self, rdg_real t, const rdg_real *x, size_t B, rdg_real *out) {
    return rdg_model_eval((const rdg_model *)self, t, x, B, out);
}

/* The four-query expanded-square kernel over many panels in one call (the exact sampler's
   full scans): bit for bit the same as one call per panel, and (SIMD builds) within rounding
   of the reference, for N across panel edges and d around the vector widths. */
static void dotq_panels(void) {
    static const size_t ns[] = { 1, 15, 37, 64, 65, 100, 128, 300 }, ds[] = { 1, 3, 8, 9, 32, 33 };
    rdg_rng r;
    size_t in, id, i, q;
    rdg_rng_init(&r, 19, 0);
    for (in = 0; in < sizeof ns / sizeof *ns; ++in) for (id = 0; id < sizeof ds / sizeof *ds; ++id) {
        size_t n = ns[in], d = ds[id];
        rdg_real X[300 * 33], y[4][33], c0[4], e1[4][300], e2[4][300], e3[4][300], m1[4], m2[4], m3[4], *xt;
        rdg_real *p1[4], *p3[4];
        const rdg_real *yq[4];
        rdg_gmm g;
        fill(&r, X, n * d, 1.0);
        CHECK(rdg_gmm_init(&g, X, n, d) == RDG_OK, "gmm init");
        xt = rdg__xt_build(&g);
        CHECK(xt != NULL, "panels");
        if (!xt) return;
        for (q = 0; q < 4; ++q) {
            fill(&r, y[q], d, 1.0);
            yq[q] = y[q]; c0[q] = (rdg_real)(0.1 * (double)q);
            p1[q] = e1[q]; p3[q] = e3[q];
            m1[q] = m2[q] = m3[q] = -RDG__BIG;
        }
        rdg__k_dotq(xt, xt + (n + RDG__PANEL) * d, n, d, yq, (rdg_real)0.6, (rdg_real)0.2, c0, p1, m1);
        for (i = 0; i < n; i += RDG__PANEL) {
            rdg_real *o[4];
            for (q = 0; q < 4; ++q) o[q] = e2[q] + i;
            rdg__k_dotq(xt + i * d, xt + (n + RDG__PANEL) * d + i, n - i < RDG__PANEL ? n - i : RDG__PANEL, d, yq,
                        (rdg_real)0.6, (rdg_real)0.2, c0, o, m2);
        }
        rdg__k_dotq_ref(xt, xt + (n + RDG__PANEL) * d, n, d, yq, (rdg_real)0.6, (rdg_real)0.2, c0, p3, m3);
        /* the one-query kernels and the four-query distances over the same panels in one call:
           bit for bit the row-wise distances (the candidate sets rely on it) and, for the
           expanded square, one call per panel */
        {
            static rdg_real f1[300], f2[300], fq[4][300];
            rdg_real *pq[4], mq[4], ma, mb;
            for (q = 0; q < 4; ++q) { pq[q] = fq[q]; mq[q] = -RDG__BIG; }
            ma = rdg__k_dist(xt, n, d, y[0], (rdg_real)0.7, (rdg_real)0.3, f1);
            mb = rdg__k_dist_rows(X, n, d, y[0], (rdg_real)0.7, (rdg_real)0.3, f2);
            CHECK(memcmp(f1, f2, n * sizeof *f1) == 0 && ma == mb, "dist over panels != rows (n %zu, d %zu)", n, d);
            rdg__k_distq(xt, n, d, yq, (rdg_real)0.7, (rdg_real)0.3, pq, mq);
            for (q = 0; q < 4; ++q) {
                mb = rdg__k_dist_rows(X, n, d, y[q], (rdg_real)0.7, (rdg_real)0.3, f2);
                CHECK(memcmp(fq[q], f2, n * sizeof *f2) == 0 && mq[q] == mb, "distq over panels != rows (n %zu, d %zu)", n, d);
            }
            ma = rdg__k_dot(xt, xt + (n + RDG__PANEL) * d, n, d, y[1], (rdg_real)0.6, (rdg_real)0.2, c0[1], f1);
            for (i = 0, mb = -RDG__BIG; i < n; i += RDG__PANEL) {
                rdg_real m = rdg__k_dot(xt + i * d, xt + (n + RDG__PANEL) * d + i, n - i < RDG__PANEL ? n - i : RDG__PANEL, d,
                                        y[1], (rdg_real)0.6, (rdg_real)0.2, c0[1], f2 + i);
                if (m > mb) mb = m;
            }
            CHECK(memcmp(f1, f2, n * sizeof *f1) == 0 && ma == mb, "dot over panels != per panel (n %zu, d %zu)", n, d);
            CHECK(memcmp(f1, e1[1], n * sizeof *f1) == 0, "dot != dotq (n %zu, d %zu)", n, d);
        }
        for (q = 0; q < 4; ++q) {
            CHECK(memcmp(e1[q], e2[q], n * sizeof(rdg_real)) == 0 && m1[q] == m2[q],
                  "dotq over %zu panels != per panel (n %zu, d %zu)", n / RDG__PANEL + 1, n, d);
            CHECK(rel(e1[q], e3[q], n) <= 1e-14 && fabs((double)(m1[q] - m3[q])) <= 1e-13 * (1 + fabs((double)m3[q])),
                  "dotq vs ref (n %zu, d %zu): %.3g", n, d, rel(e1[q], e3[q], n));
        }
        rdg_free(xt);
    }
}

/* Box-Muller without libm (rdg__boxmuller): within a few ulps of a long-double reference over
   random pairs and the edges (the smallest and largest u, the sqrt(1/2) and quadrant
   boundaries); the vector kernel bit for bit the scalar one; rdg__rng_normals the same stream as
   rdg_rng_normal, spare included. */
static void boxmuller(void) {
    enum { NP = 4000 };
    static double u1[NP], u2[NP], c1[NP], s1[NP], c2[NP], s2[NP];
    const long double pi2 = 6.283185307179586476925286766559005768L;
    const double ulp = 1.0 / 9007199254740992.0;
    double worst = 0, worst_rad = 0;
    rdg_rng r, r2;
    size_t i, n;
    rdg_rng_init(&r, 23, 0);
    for (i = 0; i < NP; ++i) { u1[i] = rdg__u01(&r); u2[i] = rdg__u01(&r); }
    for (i = 0; i < 64; ++i) {                      /* edges */
        static const double b2[] = { 0.125, 0.375, 0.625, 0.875, 0.25, 0.5, 0.75 };
        u1[i] = i < 8 ? 0.5 * ulp * (double)(1 + i) : i < 16 ? 1 - 0.5 * ulp * (double)(1 + 2 * (i - 8))
              : i < 32 ? 0.70710678118654757 * (1 + ((double)i - 24) * ulp) * (i % 2 ? 0.5 : 1) : u1[i];
        u2[i] = i < 8 ? 0.5 * ulp * (double)(1 + 2 * i) : i < 16 ? 1 - 0.5 * ulp * (double)(1 + 2 * (i - 8))
              : i >= 32 ? b2[i % 7] + ((double)(i % 5) - 2) * ulp : u2[i];
    }
    rdg__k_boxmuller_ref(u1, u2, NP, c1, s1);
    for (i = 0; i < NP; ++i) {
        long double rad = sqrtl(-2.0L * logl((long double)u1[i])), th = pi2 * (long double)u2[i];
        double dc = fabs((double)((long double)c1[i] - rad * cosl(th))), ds = fabs((double)((long double)s1[i] - rad * sinl(th)));
        double rr = sqrt(c1[i] * c1[i] + s1[i] * s1[i]);
        if (dc / (double)rad > worst) worst = dc / (double)rad;
        if (ds / (double)rad > worst) worst = ds / (double)rad;
        if (fabs(rr - (double)rad) / (double)rad > worst_rad) worst_rad = fabs(rr - (double)rad) / (double)rad;
    }
    CHECK(worst <= 2e-15 && worst_rad <= 2e-15, "Box-Muller off the reference: %.3g (radius %.3g)", worst, worst_rad);
    printf("  boxmuller: worst error %.2g of the radius against long double (radius %.2g)\n", worst, worst_rad);
    rdg__k_boxmuller(u1, u2, NP - 3, c2, s2);      /* a ragged tail */
    CHECK(memcmp(c1, c2, (NP - 3) * sizeof *c1) == 0 && memcmp(s1, s2, (NP - 3) * sizeof *s1) == 0,
          "Box-Muller kernel (%s) != scalar", RDG__SIMD_NAME);
    for (n = 0; n < 41; n += 1 + n / 4) {
        int spare;
        for (spare = 0; spare <= 1; ++spare) {
            rdg_real a[41], b[41];
            rdg_rng_init(&r, 5, n); rdg_rng_init(&r2, 5, n);
            if (spare) { rdg_rng_normal(&r); rdg_rng_normal(&r2); rdg_rng_normal(&r); rdg_rng_normal(&r2); rdg_rng_normal(&r); rdg_rng_normal(&r2); }
            rdg__rng_normals(&r, a, n);
            for (i = 0; i < n; ++i) b[i] = rdg_rng_normal(&r2);
            CHECK(memcmp(a, b, n * sizeof *a) == 0 && rdg_rng_normal(&r) == rdg_rng_normal(&r2) && rdg_rng_u64(&r) == rdg_rng_u64(&r2),
                  "rdg__rng_normals(%zu, spare %d) != rdg_rng_normal", n, spare);
        }
    }
}

static void sampler_sets(void) {
    enum { N = 600, D = 8, NT = 24 };
    static rdg_real X[N * D], o1[NT * D], o2[NT * D], tr1[11 * NT * D], tr2[11 * NT * D];
    rdg_rng r;
    rdg_gmm g;
    rdg_model m, u;
    rdg_sample_opts so;
    size_t i, j;
    int ode;
    rdg_rng_init(&r, 11, 0);
    for (i = 0; i < N; ++i) {              /* a noisy circle in the first two coordinates */
        double th = 6.283185307179586 * (double)rdg_rng_uniform(&r);
        for (j = 0; j < D; ++j) X[i * D + j] = (rdg_real)(0.02 * (double)rdg_rng_normal(&r));
        X[i * D] += (rdg_real)(3 * cos(th)); X[i * D + 1] += (rdg_real)(3 * sin(th));
    }
    CHECK(rdg_gmm_init(&g, X, N, D) == RDG_OK, "gmm init");
    rdg_model_exact(&m, &g);
    memset(&u, 0, sizeof u);
    u.kind = RDG_MODEL_USER; u.d = D; u.eval = wrapped; u.self = &m;
    for (ode = 0; ode <= 1; ++ode) {
        memset(&so, 0, sizeof so);
        so.K = 300; so.seed = 3; so.every = 30; so.ode = ode;
        CHECK(rdg_sample(&m, NT, &so, o1, tr1, NULL) == RDG_OK, "sample exact");
        CHECK(rdg_sample(&u, NT, &so, o2, tr2, NULL) == RDG_OK, "sample wrapped");
        CHECK(rel(o1, o2, NT * D) <= 1e-9 && rel(tr1, tr2, 11 * NT * D) <= 1e-9,
              "candidate sets change the samples (%s): %.3g", ode ? "ODE" : "SDE", rel(o1, o2, NT * D));
        /* the exact model's batches are cut to the threads: the same bits for 1, 2 and 3
           threads, and trajectory i the same in a run of 13 */
#ifdef _OPENMP
        {
            int saved = omp_get_max_threads(), nt;
            for (nt = 2; nt <= 3; ++nt) {
                omp_set_num_threads(nt);
                CHECK(rdg_sample(&m, NT, &so, o2, tr2, NULL) == RDG_OK, "sample exact, %d threads", nt);
                CHECK(memcmp(o1, o2, sizeof o1) == 0 && memcmp(tr1, tr2, sizeof tr1) == 0,
                      "exact sampler (%s): %d threads differ from one", ode ? "ODE" : "SDE", nt);
            }
            omp_set_num_threads(saved);
        }
#endif
        CHECK(rdg_sample(&m, 13, &so, o2, tr2, NULL) == RDG_OK, "sample exact, 13");
        for (i = 0; i < 11; ++i)
            CHECK(memcmp(tr1 + i * NT * D, tr2 + i * 13 * D, 13 * D * sizeof *tr1) == 0,
                  "exact sampler (%s): checkpoint %zu of the first 13 trajectories depends on n", ode ? "ODE" : "SDE", i);
    }
}

/* rdg__exact_scan, the exact sampler's full scans for a batch: every member's mean and new
   candidate set bit for bit those of rdg__exact_one on the member alone, for batches of 2 to 9
   in shuffled order mixing members that allow the expanded square (|y| ~ 1) with members that
   do not (|y| ~ 100), and (at t = 0.01, data 70 % in a tight cluster) members at the cluster,
   where most points keep their weight (the dense sums), with members elsewhere (the kept
   points), with sets (drop 40) and without (drop 0), for N = 300 and for data smaller than a
   scan block (N = 12 at d = 2, N = 24 at d = 3: there a member's constant term once rounded
   differently in a batch than alone). The sampler's results then cannot depend on how its
   trajectories are cut into batches. */
static void scan_members(void) {
    enum { NMAX = 300, NQ = 9 };
    static const size_t ds[] = { 2, 3, 5, 32, 33 }, ns[] = { 12, 24, NMAX, NMAX, NMAX }, reps[] = { 8, 8, 1, 1, 1 };
    static const double ts[] = { 0.5, 0.01 };
    rdg_rng r;
    size_t id, rep, it, idr, q, j, trial, bad = 0, mixed = 0, dense = 0, kept = 0, fails = 0, lone = 0;
    rdg_rng_init(&r, 29, 0);
    for (id = 0; id < 5; ++id) for (rep = 0; rep < reps[id]; ++rep) for (it = 0; it < 2; ++it) for (idr = 0; idr < 2; ++idr) {
        size_t d = ds[id], N = ns[id], cper = rdg__cand_len(N, d);
        rdg_real *X = (rdg_real *)malloc(N * d * sizeof *X), *Y = (rdg_real *)malloc(NQ * d * sizeof *Y);
        rdg_real *E = (rdg_real *)malloc(NQ * N * sizeof *E), *acc = (rdg_real *)malloc((NQ + RDG__QB) * d * sizeof *acc);
        rdg_real *o1 = (rdg_real *)malloc(NQ * d * sizeof *o1), *o2 = (rdg_real *)malloc(NQ * d * sizeof *o2);
        rdg_real *cb = (rdg_real *)malloc(2 * NQ * cper * sizeof *cb), xmax = 0;
        size_t *ci = (size_t *)malloc(2 * NQ * N * sizeof *ci);
        rdg__cand c1[NQ], c2[NQ], *cp[NQ];
        rdg__ws *pool = NULL;
        rdg_gmm g;
        if (!X || !Y || !E || !acc || !o1 || !o2 || !cb || !ci) { ++fails; goto next; }
        for (q = 0; q < N; ++q) fill(&r, X + q * d, d, it == 0 ? 0.05 : q % 10 < 7 ? 0.01 : 1.0);
        for (q = 0; q < NQ; ++q) fill(&r, Y + q * d, d, q % 3 == 1 ? 100.0 : q % 3 == 0 && it == 1 ? 0.001 : 1.0);
        if (rdg_gmm_init(&g, X, N, d) != RDG_OK) { ++fails; goto next; }
        g.drop = idr ? 0 : 40;
        for (q = 0; q < N; ++q) {
            rdg_real s = 0;
            for (j = 0; j < d; ++j) s += X[q * d + j] * X[q * d + j];
            if (s > xmax) xmax = s;
        }
        xmax = (rdg_real)sqrt((double)xmax);
        pool = rdg__pool_alloc(RDG__QB, N, d, (rdg_real)ts[it]);
        if (!pool || !rdg__pool_xt(pool, RDG__QB, &g)) { ++fails; goto next; }
        for (q = 0; q < NQ; ++q) {        /* each member alone */
            rdg__cand_attach(&c1[q], ci + q * N, cb + q * cper, d);
            rdg__cand_attach(&c2[q], ci + (NQ + q) * N, cb + (NQ + q) * cper, d);
            rdg__exact_one(&g, xmax, Y + q * d, pool, idr ? NULL : &c1[q], o1 + q * d);
            if (!idr) { if (c1[q].m > N / 2) ++dense; else ++kept; }
        }
        for (trial = 0; trial < 8; ++trial) {
            size_t nq = 2 + trial, perm[NQ], nok = 0;
            const rdg_real *yq[NQ];
            rdg_real *oq[NQ];
            for (q = 0; q < NQ; ++q) perm[q] = q;
            for (q = NQ - 1; q > 0; --q) {
                size_t k = (size_t)(rdg_rng_u64(&r) % (q + 1)), tmp = perm[q];
                perm[q] = perm[k]; perm[k] = tmp;
            }
            for (q = 0; q < nq; ++q) {
                rdg_real yy;
                yq[q] = Y + perm[q] * d; oq[q] = o2 + perm[q] * d; cp[q] = idr ? NULL : &c2[perm[q]];
                if (cp[q]) { cp[q]->valid = 0; cp[q]->m = 0; cp[q]->s20 = 0; }
                nok += (size_t)rdg__square_ok(pool, d, xmax, yq[q], &yy);
            }
            mixed += nok > 0 && nok < nq;
            if (!idr) {
                size_t nd = 0;
                for (q = 0; q < nq; ++q) nd += c1[perm[q]].m > N / 2;
                lone += nd == 1;
            }
            rdg__exact_scan(&g, xmax, yq, nq, pool, E, acc, cp, oq);
            for (q = 0; q < nq; ++q) {
                size_t p = perm[q];
                int same = memcmp(o1 + p * d, o2 + p * d, d * sizeof *o1) == 0;
                if (!idr) same = same && c1[p].m == c2[p].m && c1[p].valid == c2[p].valid
                                 && (!c1[p].valid || memcmp(c1[p].idx, c2[p].idx, c1[p].m * sizeof(size_t)) == 0);
                bad += !same;
            }
        }
    next:
        if (pool) rdg__pool_free(pool, RDG__QB);
        free(X); free(Y); free(E); free(acc); free(o1); free(o2); free(cb); free(ci);
    }
    CHECK(fails == 0, "scan members: %zu setups failed", fails);
    CHECK(mixed >= 20, "scan members: only %zu batches mixed both kinds of member", mixed);
    CHECK(dense > 0 && kept > 0 && lone > 0, "scan members: dense %zu, kept-point %zu members, %zu batches with one dense (want all)",
          dense, kept, lone);
    CHECK(bad == 0, "scan members: %zu members differ from rdg__exact_one alone", bad);
    printf("  scan members: %zu batches mixed both kinds, %zu had one dense member; members alone: %zu dense, %zu kept-point\n",
           mixed, lone, dense, kept);
}

/* Odd shapes through the blocked paths: the exact sampler (groups of four, candidate sets,
   padding) against the wrapped model, and rdg_density_eval on 37 points (blocks plus a ragged
   tail) against one point at a time, bit for bit, for N from 1 to 300, d from 1 to 70 and
   drop 40, 0 (nothing dropped) and 5. */
static void odd_shapes(void) {
    static const size_t Ns[] = { 1, 2, 3, 5, 40, 300 }, ds[] = { 1, 2, 3, 5, 8, 33, 70 };
    static const double drops[] = { 40, 0, 5 };
    size_t a, b, c, bad_s = 0, bad_d = 0, fails = 0;
    for (a = 0; a < sizeof Ns / sizeof *Ns; ++a) for (b = 0; b < sizeof ds / sizeof *ds; ++b)
        for (c = 0; c < sizeof drops / sizeof *drops; ++c) {
            size_t N = Ns[a], d = ds[b], n = 9, i, q;
            rdg_rng r;
            rdg_gmm g;
            rdg_model m, u;
            rdg_sample_opts so;
            rdg_density_out o;
            rdg_real *X = (rdg_real *)malloc(N * d * sizeof *X), *o1 = (rdg_real *)malloc(n * d * sizeof *o1);
            rdg_real *o2 = (rdg_real *)malloc(n * d * sizeof *o2), *Y = (rdg_real *)malloc(37 * d * sizeof *Y);
            rdg_real *h1 = (rdg_real *)malloc(37 * d * d * sizeof *h1), *h2 = (rdg_real *)malloc(37 * d * d * sizeof *h2);
            rdg_real *s1 = (rdg_real *)malloc(37 * d * sizeof *s1), *s2 = (rdg_real *)malloc(37 * d * sizeof *s2);
            if (!X || !o1 || !o2 || !Y || !h1 || !h2 || !s1 || !s2) { ++fails; goto next; }
            rdg_rng_init(&r, N * 100 + d, 0);
            fill(&r, X, N * d, 2.0);
            fill(&r, Y, 37 * d, 1.0);
            if (rdg_gmm_init(&g, X, N, d) != RDG_OK) { ++fails; goto next; }
            g.drop = (rdg_real)drops[c];
            rdg_model_exact(&m, &g);
            memset(&u, 0, sizeof u);
            u.kind = RDG_MODEL_USER; u.d = d; u.eval = wrapped; u.self = &m;
            memset(&so, 0, sizeof so);
            so.K = 200; so.seed = 1;
            if (rdg_sample(&m, n, &so, o1, NULL, NULL) != RDG_OK || rdg_sample(&u, n, &so, o2, NULL, NULL) != RDG_OK) ++fails;
            else if (!(rel(o1, o2, n * d) <= 1e-9)) ++bad_s;
            memset(&o, 0, sizeof o);
            o.hess = h1; o.score = s1;
            if (rdg_density_eval(&g, (rdg_real)0.3, Y, 37, &o) != RDG_OK) { ++fails; goto next; }
            for (q = 0; q < 37; ++q) {
                memset(&o, 0, sizeof o);
                o.hess = h2 + q * d * d; o.score = s2 + q * d;
                if (rdg_density_eval(&g, (rdg_real)0.3, Y + q * d, 1, &o) != RDG_OK) ++fails;
            }
            for (i = 0; i < 37 * d * d; ++i) if (h1[i] != h2[i]) { ++bad_d; break; }
            if (i == 37 * d * d) for (i = 0; i < 37 * d; ++i) if (s1[i] != s2[i]) { ++bad_d; break; }
        next:
            free(X); free(o1); free(o2); free(Y); free(h1); free(h2); free(s1); free(s2);
        }
    CHECK(fails == 0, "odd shapes: %zu calls failed", fails);
    CHECK(bad_s == 0, "odd shapes: exact sampler differs from the wrapped model in %zu cases", bad_s);
    CHECK(bad_d == 0, "odd shapes: blocked density differs from one point at a time in %zu cases", bad_d);
}

/* The frame's QL eigensolver against Jacobi and against the definition, over the spectra a
   frame meets: full rank, low rank (a big zero cluster), exact repeats, an identity with one
   tiny coupling, graded scales, and entries near the underflow and overflow thresholds. */
static void eigh_ql(void) {
    static const size_t ns[] = {1, 2, 3, 5, 8, 16, 31, 32, 64};
    rdg_rng r;
    size_t in, i, j, k, bad = 0, cases = 0;
    int kind, rep;
    double worst_res = 0, worst_orth = 0, worst_w = 0;
    rdg_real *buf = (rdg_real *)malloc((6 * 64 * 64 + 9 * 64) * sizeof(rdg_real));   /* one buffer: */
    if (!buf) { CHECK(0, "alloc"); return; }                                           /* ASan is slow */
    rdg_rng_init(&r, 5, 0);
    for (kind = 0; kind < 8; ++kind) for (in = 0; in < sizeof ns / sizeof ns[0]; ++in)
        for (rep = 0; rep < (ns[in] >= 32 ? 2 : 4); ++rep) {   /* fewer of the big ones: ASan */
            size_t n = ns[in], rk = kind == 1 ? 1 : kind == 2 ? (n + 1) / 2 : kind == 3 ? 3 : n;
            rdg_real *A = buf, *B = A + n * n, *V = B + n * n, *V2 = V + n * n, *wk = V2 + n * n;
            rdg_real *w = wk + n * n + 5 * n, *w2 = w + n, v[64], an = 0, scale = 1;
            double res = 0, orth = 0, dw = 0;
            memset(buf, 0, (6 * n * n + 9 * n) * sizeof(rdg_real));
            if (kind == 6) scale = 1e-250;
            if (kind == 7) scale = 1e+150;
            for (k = 0; k < rk; ++k) {      /* sum of rk outer products */
                rdg_real sk = kind == 4 ? (rdg_real)pow(10.0, -8.0 * (double)rdg_rng_uniform(&r)) : 1;
                for (i = 0; i < n; ++i) v[i] = rdg_rng_normal(&r);
                for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) A[i * n + j] += scale * sk * v[i] * v[j];
            }
            if (kind == 5) {                /* identity plus one tiny coupling, or exact repeats */
                for (i = 0; i < n * n; ++i) A[i] = 0;
                for (i = 0; i < n; ++i) A[i * n + i] = rep & 1 ? (rdg_real)(i % 3 + 1) : 1;
                if (n > 1 && !(rep & 1)) A[1] = A[n] = 1e-9;
            }
            for (i = 0; i < n * n; ++i) an += A[i] * (A[i] / scale);
            an = RDG__SQRT(an) * scale;
            if (an == 0) an = 1;
            memcpy(B, A, n * n * sizeof(rdg_real));
            ++cases;
            if (!rdg__eigh_ql(B, n, w, V, wk)) { ++bad; continue; }
            memcpy(B, A, n * n * sizeof(rdg_real));
            rdg__jacobi(B, n, w2, V2);
            for (j = 0; j < n; ++j) {
                if (j && w[j] > w[j - 1]) ++bad;
                dw = fmax(dw, fabs((double)(w[j] - w2[j])) / (double)an);
                for (i = 0; i < n; ++i) {
                    double s = 0, o = 0;
                    for (k = 0; k < n; ++k) s += (double)(A[i * n + k] / scale) * (double)V[k * n + j];
                    res = fmax(res, fabs(s - (double)(w[j] / scale) * (double)V[i * n + j]) / (double)(an / scale));
                    for (k = 0; k < n; ++k) o += (double)V[k * n + i] * (double)V[k * n + j];
                    orth = fmax(orth, fabs(o - (i == j)));
                }
            }
            worst_res = fmax(worst_res, res); worst_orth = fmax(worst_orth, orth); worst_w = fmax(worst_w, dw);
            if (res > 16 * (double)n * RDG__EPS || orth > 16 * (double)n * RDG__EPS || dw > 16 * (double)n * RDG__EPS) {
                ++bad;
                printf("  eigh_ql kind %d n %zu: residual %.3g orthogonality %.3g eigenvalues %.3g\n",
                       kind, n, res, orth, dw);
            }
        }
    free(buf);
    printf("  eigh_ql: %zu matrices, worst residual %.1f eps |A|, orthogonality %.1f eps, eigenvalues vs Jacobi %.1f eps |A|\n",
           cases, worst_res / RDG__EPS, worst_orth / RDG__EPS, worst_w / RDG__EPS);
    CHECK(bad == 0, "eigh_ql: %zu of %zu matrices out of tolerance", bad, cases);
}

/* The top-of-spectrum solver against the full one: the k largest eigenvalues, residuals of
   their vectors and their projector (scaled by the eigengap, the size its rounding is set by),
   the smallest eigenvalue to its 1e-3 |T| bracket, over the same families of spectra. */
static void eigh_top(void) {
    static const size_t ns[] = {3, 5, 8, 16, 31, 32, 64};
    rdg_real v[64];
    rdg_rng r;
    size_t in, i, j, k, l, cases = 0, bad = 0;
    int kind, rep;
    double worst_w = 0, worst_res = 0, worst_p = 0;
    rdg_real *buf = (rdg_real *)malloc((5 * 64 * 64 + 20 * 64) * sizeof(rdg_real));
    if (!buf) { CHECK(0, "alloc"); return; }
    rdg_rng_init(&r, 6, 0);
    for (kind = 0; kind < 7; ++kind) for (in = 0; in < sizeof ns / sizeof ns[0]; ++in)
        for (k = 1; k <= RDG__TOPK; ++k) for (rep = 0; rep < (ns[in] >= 32 ? 1 : 3); ++rep) {
            size_t n = ns[in], rk = kind == 1 ? 1 : kind == 2 ? (n + 1) / 2 : kind == 3 ? 3 : n;
            rdg_real *A, *B, *V, *V2, *wk, *w, *w2, an = 0;
            double dw = 0, res = 0, pr = 0, gap;
            if (k + 1 > n) continue;
            A = buf;
            memset(buf, 0, (5 * n * n + 20 * n) * sizeof(rdg_real));
            B = A + n * n; V = B + n * n; V2 = V + n * n; wk = V2 + n * n; w = wk + n * n + 15 * n; w2 = w + n;
            for (l = 0; l < rk; ++l) {
                rdg_real sk = kind == 4 ? (rdg_real)pow(10.0, -8.0 * (double)rdg_rng_uniform(&r)) : 1;
                for (i = 0; i < n; ++i) v[i] = rdg_rng_normal(&r);
                for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) A[i * n + j] += sk * v[i] * v[j];
            }
            if (kind >= 5) {
                for (i = 0; i < n * n; ++i) A[i] = 0;
                for (i = 0; i < n; ++i) A[i * n + i] = kind == 5 ? (rdg_real)(i % 3 + 1) : 1;
                if (kind == 6) A[1] = A[n] = 1e-9;
            }
            for (i = 0; i < n * n; ++i) an += A[i] * A[i];
            an = an > 0 ? RDG__SQRT(an) : 1;
            ++cases;
            memcpy(B, A, n * n * sizeof(rdg_real));
            if (!rdg__eigh_top(B, n, k, k, w, V, wk)) { ++bad; printf("  eigh_top kind %d n %zu k %zu: not accepted\n", kind, n, k); continue; }
            if (k > 1) {     /* fewer vectors wanted: the same eigenvalues and wanted columns, the rest untouched */
                size_t kv = k - 1 - (size_t)rep % (k - 1), mism = 0;
                memcpy(B, A, n * n * sizeof(rdg_real));
                for (i = 0; i < n * n; ++i) V2[i] = -7;
                if (!rdg__eigh_top(B, n, k, kv, w2, V2, wk)) ++mism;
                else {
                    for (j = 0; j < n; ++j) mism += w2[j] != w[j];
                    for (i = 0; i < n; ++i) for (j = 0; j < n; ++j)
                        mism += j < kv ? V2[i * n + j] != V[i * n + j] : V2[i * n + j] != -7;
                }
                CHECK(mism == 0, "eigh_top kind %d n %zu k %zu with %zu vectors: %zu entries differ", kind, n, k, kv, mism);
            }
            if (k > 1) {     /* in two steps (targets and vectors up to j1, then the rest): the same bits */
                size_t j1 = 1 + (size_t)rep % (k - 1), mism = 0;
                rdg__top st;
                memcpy(B, A, n * n * sizeof(rdg_real));
                for (i = 0; i < n * n; ++i) V2[i] = -7;
                if (!rdg__eigh_top_begin(B, n, k, wk, &st) || !rdg__eigh_top_vecs(B, j1, k, w2, V2, wk, &st)) ++mism;
                else {
                    for (i = 0; i < n; ++i) for (j = 0; j < n; ++j)
                        mism += j < j1 ? V2[i * n + j] != V[i * n + j] : V2[i * n + j] != -7;
                    for (j = 0; j < j1; ++j) mism += w2[j] != w[j];
                    if (!rdg__eigh_top_vecs(B, k, k, w2, V2, wk, &st)) ++mism;
                    else {
                        for (j = 0; j < n; ++j) mism += w2[j] != w[j];
                        for (i = 0; i < n; ++i) for (j = 0; j < n; ++j)
                            mism += j < k ? V2[i * n + j] != V[i * n + j] : V2[i * n + j] != -7;
                    }
                }
                CHECK(mism == 0, "eigh_top kind %d n %zu k %zu in steps at %zu: %zu entries differ", kind, n, k, j1, mism);
            }
            memcpy(B, A, n * n * sizeof(rdg_real));
            rdg__eigh_ql(B, n, w2, V2, wk);
            for (j = 0; j < k; ++j) dw = fmax(dw, fabs((double)(w[j] - w2[j])));
            if (fabs((double)(w[n - 1] - w2[n - 1])) > 1e-3 * sqrt((double)n) * (double)an) {
                ++bad;
                printf("  eigh_top kind %d n %zu k %zu: smallest %.17g vs %.17g\n", kind, n, k, (double)w[n - 1], (double)w2[n - 1]);
            }
            for (j = k; j + 1 < n; ++j) if (w[j] != w[k - 1]) ++bad;
            for (j = 0; j < k; ++j) for (i = 0; i < n; ++i) {
                double s = 0;
                for (l = 0; l < n; ++l) s += (double)A[i * n + l] * (double)V[l * n + j];
                res = fmax(res, fabs(s - (double)w[j] * (double)V[i * n + j]));
            }
            for (i = 0; i < n; ++i) for (l = 0; l < n; ++l) {
                double s = 0, s2 = 0;
                for (j = 0; j < k; ++j) { s += (double)V[i * n + j] * V[l * n + j]; s2 += (double)V2[i * n + j] * V2[l * n + j]; }
                pr = fmax(pr, fabs(s - s2));
            }
            gap = (double)(w2[k - 1] - w2[k]);
            dw /= (double)an; res /= (double)an;
            pr = gap > 1e-8 * (double)an ? pr * gap / (double)an : 0;
            worst_w = fmax(worst_w, dw); worst_res = fmax(worst_res, res); worst_p = fmax(worst_p, pr);
            if (dw > 16 * (double)n * RDG__EPS || res > 16 * (double)n * RDG__EPS || pr > 16 * (double)n * RDG__EPS) {
                ++bad;
                printf("  eigh_top kind %d n %zu k %zu: eigenvalues %.3g residual %.3g projector x gap %.3g\n",
                       kind, n, k, dw, res, pr);
            }
        }
    free(buf);
    printf("  eigh_top: %zu cases, worst eigenvalue %.1f eps |A|, residual %.1f eps |A|, projector x gap %.1f eps |A|\n",
           cases, worst_w / RDG__EPS, worst_res / RDG__EPS, worst_p / RDG__EPS);
    CHECK(bad == 0, "eigh_top: %zu of %zu cases out of tolerance", bad, cases);
}

/* A lean tangent frame (SCMS's: mu_d* left in its bracket until rdg__frame_finish) against the
   frame made at once: the same tangent columns, the same answer of the gap test (decided
   from the bracket or after finishing), and once finished the same bits everywhere. The
   matrices: random low-rank and full, a repeated top (the test finishes the frame), an
   eigenvalue within 1e-9 of the top, and gaps at RDG__GAP_NOISE mu_0 and either side of it. */
static void frame_lean(void) {
    const size_t d = 20;
    rdg_rng r;
    rdg_real v[20];
    rdg__ws wa, wb;
    size_t i, j, l, ds, cases = 0, bad = 0, decided = 0;
    int kind, kvs;
    rdg_rng_init(&r, 12, 0);
    if (!rdg__ws_alloc(&wa, 4, d) || !rdg__ws_alloc(&wb, 4, d)) { CHECK(0, "alloc"); return; }
    wa.a = wb.a = 1; wa.s2 = wb.s2 = (rdg_real)0.5;
    for (kind = 0; kind < 7; ++kind) for (ds = 1; ds + 1 <= RDG__TOPK; ++ds) for (kvs = 0; kvs < 2; ++kvs) {
        size_t kv = ds + (size_t)kvs, mism = 0;
        int na, nb;
        for (i = 0; i < d * d; ++i) wa.C[i] = 0;
        if (kind <= 1) {                      /* rank 3, full */
            for (l = 0; l < (kind ? d : 3); ++l) {
                for (i = 0; i < d; ++i) v[i] = rdg_rng_normal(&r);
                for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) wa.C[i * d + j] += v[i] * v[j];
            }
        } else {                              /* diagonal: d - i, with mu_d* set per kind */
            for (i = 0; i < d; ++i) wa.C[i * d + i] = (rdg_real)(d - i);
            for (i = 0; i < ds; ++i) wa.C[i * d + i] = (rdg_real)(2 * d);
            wa.C[ds * d + ds] = kind == 2 ? (rdg_real)(2 * d) : kind == 3 ? (rdg_real)(2 * d) * (1 - (rdg_real)1e-9)
                              : (rdg_real)(2 * d) * (1 - RDG__GAP_NOISE * (kind == 4 ? 1 : kind == 5 ? (rdg_real)0.999 : (rdg_real)1.001));
            if (kind == 3) wa.C[1] = wa.C[d] = (rdg_real)1e-9;
        }
        memcpy(wb.C, wa.C, d * d * sizeof(rdg_real));
        ++cases;
        if (rdg__frame_tan(&wa, ds + 1, kv, 0) != 1) { ++bad; printf("  frame_lean kind %d d* %zu: top solver not used\n", kind, ds); continue; }
        for (i = 0; i < d * d; ++i) wb.V[i] = -7;
        if (rdg__frame_tan(&wb, ds + 1, kv, 1) != 1) { ++bad; printf("  frame_lean kind %d d* %zu: lean frame not used\n", kind, ds); continue; }
        for (i = 0; i < d; ++i) for (j = 0; j < ds; ++j) mism += wb.V[i * d + j] != wa.V[i * d + j];
        for (j = 0; j < ds; ++j) mism += wb.mu[j] != wa.mu[j];
        decided += wb.lean;
        na = wa.mu[ds - 1] - wa.mu[ds] <= RDG__GAP_NOISE * wa.mu[0];
        nb = rdg__gap_noisy(&wb, ds);
        decided -= wb.lean;
        if (na != nb) { ++bad; printf("  frame_lean kind %d d* %zu: gap test %d, lean %d\n", kind, ds, na, nb); }
        rdg__frame_finish(&wb);
        for (j = 0; j < d; ++j) mism += (wb.mu[j] != wa.mu[j]) + (wb.lam[j] != wa.lam[j]);
        for (i = 0; i < d; ++i) for (j = 0; j < kv; ++j) mism += wb.V[i * d + j] != wa.V[i * d + j];
        if (mism) { ++bad; printf("  frame_lean kind %d d* %zu kv %zu: %zu entries differ\n", kind, ds, kv, mism); }
    }
    rdg__ws_free(&wa); rdg__ws_free(&wb);
    printf("  frame_lean: %zu cases, the gap test decided from the bracket in %zu\n", cases, decided);
    CHECK(bad == 0, "frame_lean: %zu of %zu cases differ", bad, cases);
    CHECK(decided > 0 && decided < cases, "frame_lean: the bracket decided %zu of %zu gap tests (both paths wanted)", decided, cases);
}

/* rdg__frame_warm (an SCMS step's d* = 1 frame by power iteration from the last step's vector,
   with a certificate) against the full solver on C = Q diag(spec) Q^T: where it accepts, mu_0
   and v_0 to the solver's accuracy, a true gap above RDG__GAP_NOISE mu_0 and bounds above
   lam_1 ..; it must accept separated spectra from a near start, and must refuse a start on
   v_1 (an eigenvector too, with a tiny residual), a repeated top and a top two within
   1e-12, cold (from e_k of the largest diagonal entry) or warm. Spectra: W2's shape (mu_0 / mu_1 ~ 12, a decaying rest), a flat heavy rest (only
   the shifted bound holds), and the close ones. */
static void frame_warm(size_t d) {   /* d <= 32; odd d takes the matrix-vector product's odd row */
    rdg_rng r;
    rdg__ws w;
    rdg_real *Q = (rdg_real *)malloc(d * d * sizeof(rdg_real)), *E = (rdg_real *)malloc(d * d * sizeof(rdg_real));
    rdg_real *wk = (rdg_real *)malloc((d * d + 6 * d) * sizeof(rdg_real)), spec[32], ev[32];
    size_t i, j, l, cases = 0, bad = 0, acc = 0, must = 0, mustnot = 0;
    int kind, st;
    double worst = 0;
    if (!Q || !E || !wk || !rdg__ws_alloc(&w, 4, d)) { CHECK(0, "alloc"); free(Q); free(E); free(wk); return; }
    rdg_rng_init(&r, 13, 0);
    for (kind = 0; kind < 5; ++kind) for (st = 0; st < 7; ++st) {   /* st 6: cold (no last vector) */
        double an, dw, pr = 0, gap;
        int ok, want = -1;
        rdg_real eps = st == 0 ? 0 : st == 1 ? (rdg_real)1e-8 : st == 2 ? (rdg_real)1e-3 : (rdg_real)0.3;
        /* a random orthogonal Q: the eigenvectors of a random symmetric matrix */
        for (i = 0; i < d; ++i) for (j = 0; j <= i; ++j) E[i * d + j] = E[j * d + i] = rdg_rng_normal(&r);
        rdg__eigh_ql(E, d, ev, Q, wk);
        for (l = 0; l < d; ++l)
            spec[l] = kind == 0 ? (l == 0 ? 12 : (rdg_real)pow(0.8, (double)l))   /* W2's shape */
                    : kind == 1 ? (l == 0 ? 1 : (rdg_real)0.3)                    /* flat heavy rest */
                    : kind == 2 ? (l <= 1 ? 1 : (rdg_real)0.1)                    /* repeated top */
                    : kind == 3 ? (l == 0 ? 1 : l == 1 ? (rdg_real)(1 - 1e-12) : (rdg_real)0.1)
                    : (l == 0 ? 3 : l == 1 ? 2 : (rdg_real)0.1 / (rdg_real)(l + 1));
        for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) {
            rdg_real s = 0;
            for (l = 0; l < d; ++l) s += Q[i * d + l] * spec[l] * Q[j * d + l];
            w.C[i * d + j] = s;
        }
        for (i = 0; i < d; ++i) for (j = 0; j < i; ++j) w.C[i * d + j] = w.C[j * d + i];
        memcpy(E, w.C, d * d * sizeof(rdg_real));
        rdg__eigh_ql(E, d, ev, Q, wk);     /* the reference: ev descending, Q's columns */
        for (i = 0; i < d; ++i)            /* the start: v_0 perturbed, v_1, or random */
            w.V[i * d] = st <= 3 ? Q[i * d] + eps * rdg_rng_normal(&r) : st == 4 || st == 6 ? Q[i * d + 1] : rdg_rng_normal(&r);
        /* (cold ignores V: its v_1 there would be refused) */
        /* (kind 4's mu_1 / mu_0 = 2/3 is too slow for the power iteration from a start off v_0)
           */
        if ((kind == 0 && (st <= 2 || st == 6)) || (kind == 1 && st <= 1) || (kind == 4 && st == 0)) want = 1;
        if (st == 4 || kind == 2 || kind == 3) want = 0;
        ok = rdg__frame_warm(&w, st == 6);
        ++cases;
        acc += ok == 1;
        if (want >= 0 && ok != want) { ++bad; printf("  frame_warm kind %d start %d: accepted %d, wanted %d\n", kind, st, ok, want); }
        must += want == 1; mustnot += want == 0;
        if (!ok) continue;
        an = (double)ev[0];
        dw = fabs((double)(w.mu[0] - ev[0])) / an;
        for (i = 0; i < d; ++i) for (j = 0; j < d; ++j)
            pr = fmax(pr, fabs((double)w.V[i * d] * w.V[j * d] - (double)Q[i * d] * Q[j * d]));
        gap = (double)(ev[0] - ev[1]);
        pr *= gap / an;
        worst = fmax(worst, fmax(dw, pr));
        if (dw > 16 * (double)d * RDG__EPS || pr > 16 * (double)d * RDG__EPS || !(gap > RDG__GAP_NOISE * an)) {
            ++bad;
            printf("  frame_warm kind %d start %d: mu_0 %.3g, projector x gap %.3g, gap %.3g\n", kind, st, dw, pr, gap / an);
        }
        for (j = 1; j < d; ++j) if (w.mu[j] < ev[j]) { ++bad; printf("  frame_warm kind %d start %d: mu_%zu %.17g below %.17g\n", kind, st, j, (double)w.mu[j], (double)ev[j]); break; }
    }
    rdg__ws_free(&w); free(Q); free(E); free(wk);
    printf("  frame_warm d %zu: %zu cases, %zu accepted (%zu must be, %zu must not), worst %.1f eps |C|\n",
           d, cases, acc, must, mustnot, worst / RDG__EPS);
    CHECK(bad == 0, "frame_warm d %zu: %zu of %zu cases wrong", d, bad, cases);
}

/* The tangent-frame Jacobian against the eigenvector form: P_N J = E JE (any normal basis E),
   rE = E^T g in norm, q = grad lam_{d*+1}; E orthonormal and normal. */
static void jac_tan(void) {
    static const size_t dims[] = {16, 20, 33};
    static const double ts[] = {0.05, 0.3, 1.0};
    rdg_rng r;
    size_t id, it, ds, i, j, l, cases = 0, bad = 0;
    double worst = 0;
    rdg_rng_init(&r, 8, 0);
    for (id = 0; id < 3; ++id) for (it = 0; it < 3; ++it) for (ds = 1; ds + 1 <= RDG__TOPK; ++ds) {
        size_t d = dims[id], N = 40 + 60 * id, k = d - ds;
        rdg_real *X = (rdg_real *)malloc(N * d * sizeof(rdg_real)), *y = (rdg_real *)malloc(d * sizeof(rdg_real));
        rdg_real *JEf = (rdg_real *)malloc(k * d * sizeof(rdg_real)), *JEt = (rdg_real *)malloc(k * d * sizeof(rdg_real));
        rdg_real *qf = (rdg_real *)malloc(d * sizeof(rdg_real)), *qt = (rdg_real *)malloc(d * sizeof(rdg_real));
        rdg_real *rEt = (rdg_real *)malloc(k * sizeof(rdg_real)), *rEf = (rdg_real *)malloc(k * sizeof(rdg_real));
        rdg_gmm g;
        rdg__ws wf, wt;
        double jmax = 0, dj = 0, qmax = 0, dq = 0, orth = 0, nf, nt, qtol;
        int okf, okt;
        if (!X || !y || !JEf || !JEt || !qf || !qt || !rEt || !rEf) { CHECK(0, "alloc"); return; }
        for (i = 0; i < N; ++i) {            /* a noisy curve, so the top of C is separated */
            rdg_real th = (rdg_real)(6.0 * (double)rdg_rng_uniform(&r));
            for (j = 0; j < d; ++j)
                X[i * d + j] = (rdg_real)(sin((double)th * (double)(j % 3 + 1) + (double)j) * 2.0 / (double)(j % 4 + 1))
                               + (rdg_real)0.05 * rdg_rng_normal(&r);
        }
        rdg_gmm_init(&g, X, N, d);
        for (j = 0; j < d; ++j) y[j] = X[j] * (rdg_real)0.9 + (rdg_real)0.1 * rdg_rng_normal(&r);
        rdg__ws_alloc(&wf, N, d); rdg__ws_alloc(&wt, N, d);
        rdg_ou((rdg_real)ts[it], &wf.a, &wf.s2); rdg_ou((rdg_real)ts[it], &wt.a, &wt.s2);
        rdg__eval(&g, y, &wf, 1); rdg__eval(&g, y, &wt, 1);
        rdg__frame(&wf);
        rdg__resid(&wf, ds, rEf, NULL);
        okf = rdg__jac(&g, &wf, ds, 0);
        if (okf) rdg__je(&wf, ds, JEf, qf);
        CHECK(rdg__frame_tan(&wt, ds + 1, ds + 1, 0) == 1, "tangent frame used (d %zu d* %zu)", d, ds);
        okt = rdg__jac_tan(&g, &wt, ds, JEt, qt, rEt);
        ++cases;
        if (okf != okt) { ++bad; printf("  jac_tan d %zu d* %zu: resolved %d vs %d\n", d, ds, okt, okf); }
        if (okf && okt) {
            for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) {      /* (E JE)_ij both ways */
                double sf = 0, st = 0;
                for (l = 0; l < k; ++l) {
                    sf += (double)wf.V[i * d + ds + l] * (double)JEf[l * d + j];
                    st += (double)wt.V[i * d + ds + l] * (double)JEt[l * d + j];
                }
                jmax = fmax(jmax, fabs(sf)); dj = fmax(dj, fabs(sf - st));
            }
            for (i = 0; i < d; ++i) { qmax = fmax(qmax, fabs((double)qf[i])); dq = fmax(dq, fabs((double)(qf[i] - qt[i]))); }
            for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) {      /* [T E] orthonormal */
                double o = 0;
                for (l = 0; l < d; ++l) o += (double)wt.V[l * d + i] * (double)wt.V[l * d + j];
                orth = fmax(orth, fabs(o - (i == j)));
            }
            nf = 0; nt = 0;
            for (l = 0; l < k; ++l) { nf += (double)rEf[l] * rEf[l]; nt += (double)rEt[l] * rEt[l]; }
            worst = fmax(worst, dj / jmax);
            /* q is a sum over v_d*, whose rounding grows as eps |C| / (mu_d* - mu_{d*+1}) */
            qtol = fmax(1e-9, 64 * RDG__EPS * (double)wf.mu[0] / (double)(wf.mu[ds] - wf.mu[ds + 1]));
            if (dj > 1e-9 * jmax || dq > qtol * qmax || orth > 1e-13 || fabs(sqrt(nf) - sqrt(nt)) > 1e-9 * sqrt(nf)) {
                ++bad;
                printf("  jac_tan d %zu t %g d* %zu: P_N J %.3g, q %.3g, orthogonality %.3g, |rE| %.17g vs %.17g\n",
                       d, ts[it], ds, dj / jmax, dq / qmax, orth, sqrt(nt), sqrt(nf));
            }
        }
        rdg__ws_free(&wf); rdg__ws_free(&wt);
        free(X); free(y); free(JEf); free(JEt); free(qf); free(qt); free(rEt); free(rEf);
    }
    printf("  jac_tan: %zu cases, worst relative difference of P_N J from the eigenvector form %.3g\n", cases, worst);
    CHECK(bad == 0, "jac_tan: %zu of %zu cases differ", bad, cases);
}

/* The normal-space Jacobian (rdg__jac_nrm, the third-moment form) against the eigenvector form
   (rdg__jac, rdg__je) in the same frame: JE row by row and q, for every d* whose 2 (d - d*)
   columns fit in the padded width, and a case (d* = d - 1, one normal row) at the edge. */
static void jac_nrm(void) {
    static const size_t dims[] = {4, 16, 32, 33};
    static const double ts[] = {0.05, 0.3, 1.0};
    rdg_rng r;
    size_t id, it, ds, i, j, cases = 0, bad = 0;
    double worst = 0;
    rdg_rng_init(&r, 9, 0);
    for (id = 0; id < 4; ++id) for (it = 0; it < 3; ++it) for (ds = 1; ds < dims[id]; ++ds) {
        size_t d = dims[id], N = 50 + 40 * id, k = d - ds;
        rdg_real *X, *y, *JE1, *JE2, *q1, *q2;
        rdg_gmm g;
        rdg__ws w;
        double jmax = 0, dj = 0, qmax = 0, dq = 0;
        int ok1, ok2;
        if (rdg__pad(2 * k) > rdg__pad(d)) continue;
        X = (rdg_real *)malloc(N * d * sizeof(rdg_real)); y = (rdg_real *)malloc(d * sizeof(rdg_real));
        JE1 = (rdg_real *)malloc(k * d * sizeof(rdg_real)); JE2 = (rdg_real *)malloc(k * d * sizeof(rdg_real));
        q1 = (rdg_real *)malloc(d * sizeof(rdg_real)); q2 = (rdg_real *)malloc(d * sizeof(rdg_real));
        if (!X || !y || !JE1 || !JE2 || !q1 || !q2) { CHECK(0, "alloc"); return; }
        for (i = 0; i < N * d; ++i) X[i] = rdg_rng_normal(&r) / (rdg_real)(1 + i % d);   /* spread spectrum */
        rdg_gmm_init(&g, X, N, d);
        for (j = 0; j < d; ++j) y[j] = X[j] * (rdg_real)0.8 + (rdg_real)0.2 * rdg_rng_normal(&r);
        rdg__ws_alloc(&w, N, d);
        rdg_ou((rdg_real)ts[it], &w.a, &w.s2);
        rdg__eval(&g, y, &w, 1);
        rdg__frame(&w);
        rdg__resid(&w, ds, NULL, NULL);
        ok1 = rdg__jac(&g, &w, ds, 0);
        if (ok1) rdg__je(&w, ds, JE1, q1);
        ok2 = rdg__jac_nrm(&g, &w, ds, JE2, q2);
        ++cases;
        if (ok1 != ok2) { ++bad; printf("  jac_nrm d %zu d* %zu: resolved %d vs %d\n", d, ds, ok2, ok1); }
        if (ok1 && ok2) {
            for (i = 0; i < k * d; ++i) { jmax = fmax(jmax, fabs((double)JE1[i])); dj = fmax(dj, fabs((double)(JE1[i] - JE2[i]))); }
            for (i = 0; i < d; ++i) { qmax = fmax(qmax, fabs((double)q1[i])); dq = fmax(dq, fabs((double)(q1[i] - q2[i]))); }
            worst = fmax(worst, fmax(dj / jmax, qmax > 0 ? dq / qmax : 0));
            if (!(dj <= 1e-10 * jmax) || !(dq <= 1e-10 * qmax)) {
                ++bad;
                printf("  jac_nrm d %zu t %g d* %zu: JE %.3g, q %.3g relative\n", d, ts[it], ds, dj / jmax, dq / qmax);
            }
        }
        rdg__ws_free(&w);
        free(X); free(y); free(JE1); free(JE2); free(q1); free(q2);
    }
    printf("  jac_nrm: %zu cases, worst relative difference from the eigenvector form %.3g\n", cases, worst);
    CHECK(cases > 20 && bad == 0, "jac_nrm: %zu of %zu cases differ", bad, cases);
}

/* The RFNN's per-call helpers: c = U e(t) + b (rdg__rf_shift, vector rows in the SIMD build)
   against a long-double sum, for widths around the four-row blocks and embeddings around the
   vector length; the features (rdg__rf_feat, from W transposed) against a long-double
   ReLU((c_j + w_j.x) / sqrt(M)), including z <= 0 (exactly 0 there). */
static void rf_helpers(void) {
    static const size_t Ms[] = {1, 3, 4, 5, 9, 64};
    static const size_t nfs[] = {1, 2, 3, 4, 7, 128};
    size_t im, inf, bad = 0, cases = 0;
    double worst = 0;
    for (im = 0; im < 6; ++im) for (inf = 0; inf < 6; ++inf) {
        rdg_rfnn rf;
        size_t M = Ms[im], nf = nfs[inf], E = 2 * nf + 1, j, l, k, d = 3;
        rdg_real *c = (rdg_real *)malloc(M * sizeof(rdg_real)), *e = (rdg_real *)malloc(E * sizeof(rdg_real));
        rdg_real *wt = (rdg_real *)malloc(d * M * sizeof(rdg_real)), *p1 = (rdg_real *)malloc(M * sizeof(rdg_real));
        rdg_real x[3] = {(rdg_real)0.3, (rdg_real)-1.1, (rdg_real)0.7};
        if (!c || !e || !wt || !p1 || rdg_rfnn_init(&rf, d, M, nf, 10, 5 + im) != RDG_OK) { CHECK(0, "alloc"); return; }
        rdg__rf_shift(&rf, (rdg_real)0.37, c, e);
        for (j = 0; j < M; ++j) {
            long double s = 0, a = 0;
            for (l = 0; l < E; ++l) { s += (long double)rf.U[j * E + l] * e[l]; a += fabsl((long double)rf.U[j * E + l] * e[l]); }
            s += rf.b[j]; a += fabsl((long double)rf.b[j]);
            worst = fmax(worst, (double)(fabsl(c[j] - s) / a));
            if (fabsl(c[j] - s) > 4 * (long double)E * RDG__EPS * a) { ++bad; printf("  rf_shift M %zu nfreq %zu row %zu: %.3g\n", M, nf, j, (double)fabsl(c[j] - s)); }
        }
        for (j = 0; j < M; ++j) for (k = 0; k < d; ++k) wt[k * M + j] = rf.W[j * d + k];
        rdg__rf_feat(&rf, c, x, p1, wt);
        for (j = 0; j < M; ++j) {
            long double z = c[j], a = fabsl((long double)c[j]), sc = 1.0L / sqrtl((long double)M);
            for (k = 0; k < d; ++k) { z += (long double)rf.W[j * d + k] * x[k]; a += fabsl((long double)rf.W[j * d + k] * x[k]); }
            if ((z <= 0 && p1[j] != 0) || (z > 4 * d * RDG__EPS * a && fabsl(p1[j] - z * sc) > 4 * (d + 2) * RDG__EPS * a * sc)) {
                ++bad; printf("  rf_feat M %zu: phi_%zu %.17g vs %.17Lg\n", M, j, (double)p1[j], z > 0 ? z * sc : 0.0L); break;
            }
        }
        ++cases;
        rdg_rfnn_free(&rf);
        free(c); free(e); free(wt); free(p1);
    }
    printf("  rf helpers: %zu cases, rf_shift worst error %.3g of the sum of |terms|\n", cases, worst);
    CHECK(bad == 0, "rf helpers: %zu failures", bad);
}

/* The RFNN Gram block kernel (rdg__rf_kblk, SIMD builds) against rdg__rf_k44's 4 x 4 blocks on
   the same slab: blocks with whole and partial four-row tiles, to 1e-14 of the sum of |terms|;
   entries outside the block untouched. */
static void rf_kblk(void) {
#if RDG__VW > 1
    static const size_t Ms[] = {2 * RDG__VW, 6 * RDG__VW, 72};
    static const size_t scs[] = {1, 7, 33};
    rdg_rng r;
    size_t im, is, bad = 0, cases = 0;
    double worst = 0;
    rdg_rng_init(&r, 31, 0);
    for (im = 0; im < 3; ++im) for (is = 0; is < 3; ++is) {
        /* rows 1 .. M - 2 (whole and partial four-row tiles), an unaligned run of columns */
        size_t M = Ms[im], sc = scs[is], i, j, i0 = 1, i1 = M - 1, nj = 2 * RDG__VW * (M / (4 * RDG__VW) ? M / (4 * RDG__VW) : 1);
        size_t j0 = (M - nj) / 2, jj;
        rdg_real *P = (rdg_real *)malloc(sc * M * sizeof(rdg_real)), *Q = (rdg_real *)malloc(sc * M * sizeof(rdg_real));
        rdg_real *K1 = (rdg_real *)malloc(M * M * sizeof(rdg_real)), *K2 = (rdg_real *)malloc(M * M * sizeof(rdg_real));
        double *ab = (double *)calloc(M * M, sizeof(double));
        if (!P || !Q || !K1 || !K2 || !ab) { CHECK(0, "alloc"); return; }
        for (i = 0; i < sc * M; ++i) { P[i] = rdg_rng_normal(&r); Q[i] = rdg_rng_normal(&r); }
        for (i = 0; i < M * M; ++i) K1[i] = K2[i] = (rdg_real)(i % 5);
        rdg__rf_kblk(P, Q, M, sc, i0, i1, j0, nj, K2, M);
        for (i = i0; i < i1; ++i) for (jj = j0; jj < j0 + nj; ++jj) {
            rdg__rf_k44(P, Q, M, sc, i, 1, jj, 1, K1, M);        /* one entry: the plain sum */
            for (j = 0; j < sc; ++j) ab[i * M + jj] += fabs((double)P[j * M + i] * (double)Q[j * M + jj]);
            ab[i * M + jj] += (double)((i * M + jj) % 5);
        }
        for (i = 0; i < M * M; ++i) {
            double df = fabs((double)(K1[i] - K2[i]));
            if (ab[i] > 0) worst = fmax(worst, df / ab[i]);
            if ((ab[i] == 0 && df != 0) || df > 1e-14 * ab[i]) { ++bad; break; }
        }
        ++cases;
        free(P); free(Q); free(K1); free(K2); free(ab);
    }
    printf("  rf_kblk: %zu cases, worst %.3g of the sum of |terms|\n", cases, worst);
    CHECK(bad == 0, "rf_kblk: %zu of %zu cases differ from the plain sums", bad, cases);
#endif
}

/* rdg__k_compact (vector compress on AVX-512, a permutation table on AVX2, scalar elsewhere) against the loop it must equal:
   kept count, first index of the maximum, the kept values and indices in order; lengths around
   the vector width, densities from none to all kept, with and without a source index list,
   NaN entries (never kept) and repeated maxima. */
static void compact(void) {
    static const size_t ms[] = { 0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 100, 1003 };
    static const double dens[] = { 0, 0.02, 0.3, 0.9, 1 };
    size_t im, id, bad = 0, cases = 0;
    rdg_rng r;
    rdg_rng_init(&r, 77, 1);
    for (im = 0; im < sizeof ms / sizeof ms[0]; ++im) for (id = 0; id < sizeof dens / sizeof dens[0]; ++id) {
        size_t m = ms[im], i, srcmode;
        for (srcmode = 0; srcmode < 2; ++srcmode) {
            rdg_real *e = (rdg_real *)malloc((m + 1) * sizeof(rdg_real)), *e0 = (rdg_real *)malloc((m + 1) * sizeof(rdg_real));
            size_t *src = (size_t *)malloc((m + 1) * sizeof(size_t)), *idx = (size_t *)malloc((m + 1) * sizeof(size_t));
            size_t nk, first, rk = 0, rf = m, k;
            rdg_real cut = -10, emax = -1;
            if (!e || !e0 || !src || !idx) { CHECK(0, "malloc"); free(e); free(e0); free(src); free(idx); return; }
            for (i = 0; i < m; ++i) {
                double u = (double)rdg_rng_uniform(&r);
                e0[i] = u < dens[id] ? (rdg_real)(-10 + 9 * (double)rdg_rng_uniform(&r)) : (rdg_real)(-11 - (double)rdg_rng_uniform(&r));
                if (i % 37 == 5) e0[i] = (rdg_real)NAN;
                if (i % 53 == 9 && u < dens[id]) e0[i] = emax;          /* repeated maxima */
                src[i] = 3 * i + 1;
            }
            memcpy(e, e0, m * sizeof(rdg_real));
            nk = rdg__k_compact(e, m, srcmode ? src : NULL, cut, emax, idx, &first);
            for (k = 0; k < m; ++k) {           /* the reference: keep e >= cut, in order */
                if (rf == m && e0[k] == emax) rf = k;
                if (e0[k] >= cut) {
                    if (rk >= nk || e[rk] != e0[k] || idx[rk] != (srcmode ? src[k] : k)) { bad += rk < nk || rk == nk; break; }
                    ++rk;
                }
            }
            if (rk != nk || first != rf) ++bad;
            ++cases;
            free(e); free(e0); free(src); free(idx);
        }
    }
    printf("  compact: %zu cases (%s)\n", cases, RDG__SIMD_NAME);
    CHECK(bad == 0, "compact: %zu of %zu cases differ from the reference loop", bad, cases);
}

/* The candidate-set build's pieces against plain loops: the count and list of e_i >= thr
   (NaN never kept; runs with none, some and all kept), and the transposed panels of the
   listed rows, padded with the last row (the vector kernel against the reference, and the
   reference against RDG__PAN written out). */
static void set_lists(void) {
    static const size_t ns[] = { 1, 7, 8, 9, 31, 32, 33, 100, 257 };
    static const size_t ds[] = { 1, 3, 4, 8, 9, 16, 31, 32, 33 };
    static const double dens[] = { 0, 0.1, 0.5, 1 };
    size_t in, id, k, bad = 0, badp = 0, cases = 0;
    rdg_rng r;
    rdg_rng_init(&r, 78, 2);
    for (in = 0; in < sizeof ns / sizeof *ns; ++in) for (k = 0; k < sizeof dens / sizeof *dens; ++k) {
        size_t n = ns[in], i, m = 0, cnt, nl, ref[257];
        rdg_real e[257], thr = -1;
        for (i = 0; i < n; ++i) {
            e[i] = (double)rdg_rng_uniform(&r) < dens[k] ? (rdg_real)-rdg_rng_uniform(&r) : (rdg_real)(-2 - rdg_rng_uniform(&r));
            if (i % 29 == 3) e[i] = (rdg_real)NAN;
            if (i % 31 == 4) e[i] = thr;                       /* equal to the threshold: kept */
            if (e[i] >= thr) ref[m++] = i;
        }
        {
            size_t idx[257];
            cnt = rdg__count_ge(e, n, thr);
            nl = rdg__list_ge(e, n, thr, idx);
            if (cnt != m || nl != m || memcmp(idx, ref, m * sizeof *idx)) ++bad;
        }
        ++cases;
        if (m == 0) continue;
        for (id = 0; id < sizeof ds / sizeof *ds; ++id) {
            size_t d = ds[id], mp = m + 5, j, np = (mp + RDG__PANEL - 1) / RDG__PANEL * RDG__PANEL;
            rdg_real *X = (rdg_real *)malloc(n * d * sizeof(rdg_real));
            rdg_real *p1 = (rdg_real *)malloc(np * d * sizeof(rdg_real)), *p2 = (rdg_real *)malloc(np * d * sizeof(rdg_real));
            if (!X || !p1 || !p2) { CHECK(0, "malloc"); free(X); free(p1); free(p2); return; }
            fill(&r, X, n * d, 1.0);
            memset(p1, 0, np * d * sizeof(rdg_real)); memset(p2, 0, np * d * sizeof(rdg_real));
            rdg__k_panrows_ref(X, d, ref, m, 0, mp, p1);
            for (i = 0; i < mp; ++i) for (j = 0; j < d; ++j)
                if (RDG__PAN(p1, i, d)[j * RDG__PANEL] != X[ref[i < m ? i : m - 1] * d + j]) { ++badp; i = mp; break; }
#if RDG__VW > 1
            rdg__k_panrows_simd(X, d, ref, m, mp, p2);
            if (memcmp(p1, p2, np * d * sizeof(rdg_real))) ++badp;
#endif
            free(X); free(p1); free(p2);
        }
    }
    printf("  candidate lists and panels: %zu cases (%s)\n", cases, RDG__SIMD_NAME);
    CHECK(bad == 0, "count_ge / list_ge: %zu of %zu cases differ from plain loops", bad, cases);
    CHECK(badp == 0, "panrows: %zu cases differ from the reference layout", badp);
}

/* Projections through candidate sets (panels, or by index) against full scans: the same bits,
   points and reports, with the sets in use for most evaluations. A noisy closed curve in
   d = 20 at t = 0.05 (LM on the top of the spectrum) and d = 3 (whole frame). */
static void project_sets(void) {
    static const size_t ds[2] = { 20, 3 };
    size_t id;
    for (id = 0; id < 2; ++id) {
        size_t N = 400, d = ds[id], B = 16, b, i, j, len = rdg__lm_len(d), diff = 0, mode;
        rdg_real *X = (rdg_real *)malloc(N * d * sizeof(rdg_real)), *Y = (rdg_real *)malloc(B * d * sizeof(rdg_real));
        rdg_real *buf = (rdg_real *)malloc((len + d + rdg__cand_xt_len(N, d)) * sizeof(rdg_real));
        rdg_real *P0 = (rdg_real *)malloc(B * d * sizeof(rdg_real)), *P1 = (rdg_real *)malloc(B * d * sizeof(rdg_real));
        size_t *cidx = (size_t *)malloc(N * sizeof(size_t));
        rdg_project_info I0[16], I1[16];
        rdg_project_opts o;
        rdg__popts po;
        rdg__cand c;
        rdg__ws *pool = NULL;
        rdg_gmm g;
        rdg_rng r;
        rdg_real a, s2;
        int used = 0;
        if (!X || !Y || !buf || !P0 || !P1 || !cidx) { CHECK(0, "malloc"); goto next; }
        rdg_rng_init(&r, 21, (unsigned long long)d);
        for (i = 0; i < N; ++i) {
            double th = 6.283185307179586 * (double)i / (double)N;
            for (j = 0; j < d; ++j) X[i * d + j] = (rdg_real)(0.05 * (double)rdg_rng_normal(&r));
            X[i * d] += (rdg_real)(10 * cos(th)); X[i * d + 1] += (rdg_real)(10 * sin(th));   /* long: sets */
            X[i * d + 2] += (rdg_real)(2 * cos(3 * th));                                    /* of ~N / 8 */
        }
        CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm init");
        rdg_ou((rdg_real)0.05, &a, &s2);
        for (i = 0; i < B * d; ++i) Y[i] = a * X[(i * 13) % (N * d)] + (rdg_real)0.4 * RDG__SQRT(s2) * rdg_rng_normal(&r);
        memset(&o, 0, sizeof o);
        o.dstar = 1;
        CHECK(rdg__popts_fill(&g, &o, &po) == RDG_OK, "popts");
        pool = rdg__pool_alloc(2, N, d, (rdg_real)0.05);
        if (!pool || !rdg__pool_xt(pool, 2, &g)) { CHECK(0, "pool"); goto next; }
        for (b = 0; b < B; ++b) rdg__project_point(&g, Y + b * d, &po, &pool[0], &pool[1], NULL, buf, P0 + b * d, &I0[b]);
        for (mode = 0; mode < 2; ++mode) {  /* panels, then by index */
            memset(&c, 0, sizeof c);
            c.idx = cidx; c.y0 = buf + len; c.xt = mode == 0 ? c.y0 + d : NULL;
            for (b = 0; b < B; ++b) {
                rdg__project_point(&g, Y + b * d, &po, &pool[0], &pool[1], &c, buf, P1 + b * d, &I1[b]);
                used += c.valid;
            }
            for (b = 0; b < B; ++b)
                if (memcmp(P0 + b * d, P1 + b * d, d * sizeof(rdg_real)) || memcmp(&I0[b], &I1[b], sizeof I0[b])) ++diff;
        }
        printf("  project with candidate sets (d %zu): %zu of %zu points differ; a valid set after %d of %zu points\n",
               d, diff, 2 * B, used, 2 * B);
        CHECK(diff == 0 && used >= (int)B, "project with candidate sets (d %zu): %zu differ, sets valid %d times", d, diff, used);
    next:
        rdg__pool_free(pool, 2);
        free(X); free(Y); free(buf); free(P0); free(P1); free(cidx);
    }
}

/* The dense weighted sums of a group (rdg__k_wsumq, the exact sampler's full scans) bit for bit
   its reference for widths that take each of its paths (blocks of four vectors on AVX-512,
   two, one, the scalar tail) and row counts 0 to 67, with some weights zero (dropped points);
   and rdg__k_wsum1, the lone member's sums, bit for bit one query of it. */
static void wsumq_paths(void) {
    enum { NR = 67, DMAX = 70 };
    static const size_t ds[] = { 1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 70 };
    static const size_t ns[] = { 0, 1, 3, 8, 64, 67 };
    rdg_real *X = (rdg_real *)malloc(NR * DMAX * sizeof *X), W[4][NR], o0[4 * DMAX], o1[4 * DMAX], o2[4 * DMAX], o3[DMAX];
    const rdg_real *wq[4];
    size_t id, in, q, i, bad = 0, bad1 = 0, cases = 0;
    rdg_rng r;
    if (!X) { CHECK(0, "wsumq: out of memory"); return; }
    rdg_rng_init(&r, 37, 0);
    fill(&r, X, NR * DMAX, 1.5);
    for (q = 0; q < 4; ++q) {
        for (i = 0; i < NR; ++i) W[q][i] = (i + q) % 5 == 2 ? 0 : (rdg_real)rdg_rng_uniform(&r);
        wq[q] = W[q];
    }
    fill(&r, o0, 4 * DMAX, 0.5);
    for (id = 0; id < sizeof ds / sizeof ds[0]; ++id) for (in = 0; in < sizeof ns / sizeof ns[0]; ++in) {
        size_t d = ds[id], n = ns[in];
        memcpy(o1, o0, sizeof o1); memcpy(o2, o0, sizeof o2); memcpy(o3, o0, d * sizeof *o3);
        rdg__k_wsumq_ref(X, n, d, wq, o1);
        rdg__k_wsumq(X, n, d, wq, o2);
        rdg__k_wsum1(X, n, d, wq[0], o3);
        bad += memcmp(o1, o2, 4 * d * sizeof *o1) != 0;
        bad1 += memcmp(o1, o3, d * sizeof *o1) != 0;
        ++cases;
    }
    CHECK(bad == 0, "wsumq (%s): %zu of %zu cases off the reference's bits", RDG__SIMD_NAME, bad, cases);
    CHECK(bad1 == 0, "wsum1 (%s): %zu of %zu cases off one query of the group's bits", RDG__SIMD_NAME, bad1, cases);
    printf("  wsumq, wsum1: %zu cases (%s)\n", cases, RDG__SIMD_NAME);
    free(X);
}

/* The plane's kernels (d = 2: weighted sums and covariance sums) against their references for
   every count 0..67 (every tail length, several whole steps of four and of eight), on points in
   order and gathered in a shuffled order: on AVX2 the same bits (lane l is the reference's
   partial sum l), on AVX-512 within rounding. */
static void plane_kernels(void) {
#if RDG__PLANE_SIMD
    enum { NP = 67 };
    rdg_real X[2 * NP], wt[NP], xr[2], dm[2];
    size_t ix[NP], cnt, i, bad = 0;
    rdg_rng r;
    int ord;
    rdg_rng_init(&r, 31, 0);
    fill(&r, X, 2 * NP, 2.0);
    fill(&r, xr, 2, 1.0);
    fill(&r, dm, 2, 0.1);
    for (i = 0; i < NP; ++i) { wt[i] = (rdg_real)rdg_rng_uniform(&r); ix[i] = (i * 29 + 7) % NP; }
    for (cnt = 0; cnt <= NP; ++cnt) for (ord = 0; ord < 2; ++ord) {
        const size_t *idx = ord ? NULL : ix;
        rdg_real o1[2] = { 0, 0 }, o2[2] = { 0, 0 }, c1[3] = { 0, 0, 0 }, c2[3] = { 0, 0, 0 };
        rdg__k_wsum_small(X, 2, idx, wt, cnt, xr, o1);
        rdg__k_wsum(X, 2, idx, wt, cnt, xr, o2);
        rdg__k_cov2_ref(X, idx, wt, cnt, xr, dm, c1);
        rdg__k_cov2(X, idx, wt, cnt, xr, dm, c2);
#  if RDG__VW == 4
        bad += memcmp(o1, o2, sizeof o1) != 0 || memcmp(c1, c2, sizeof c1) != 0;
#  else
        bad += rel(o2, o1, 2) > 1e-14 || rel(c2, c1, 3) > 1e-14;
#  endif
    }
    CHECK(bad == 0, "plane kernels (%s): %zu of %d cases off their references", RDG__SIMD_NAME, bad, 2 * (NP + 1));
    printf("  plane kernels: %d cases (%s)\n", 2 * (NP + 1), RDG__SIMD_NAME);
#endif
}

/* The plane's one-pass moments (rdg__k_mom2, the plane path of a full scan): its mean sums are
   the bits of rdg__k_wsum's (the mean did not change with the fusion), its vector form is the
   reference's bits on AVX2 (within rounding on AVX-512), for every count 0..67; and the
   covariance it gives, m3 / W - dm dm^T, agrees with the two-pass sums centred on the mean
   (rdg__k_cov2 after dm): within 1e-13 of the largest |entry| on spread weights, and, with two
   clusters whose heaviest point is in the light one (the shift a good way from the mean: the
   one-pass form's worst case short of a pathology), within 64 eps of the sums it subtracts. */
static void plane_moments(void) {
    enum { NP = 67 };
    rdg_real X[2 * NP], wt[NP], xr[2];
    size_t cnt, i, bad = 0, badc = 0;
    double worst = 0, worst2 = 0;
    rdg_rng r;
    int kind;
    rdg_rng_init(&r, 37, 0);
    for (kind = 0; kind < 2; ++kind) {
        fill(&r, X, 2 * NP, 2.0);
        for (i = 0; i < NP; ++i) wt[i] = (rdg_real)rdg_rng_uniform(&r);
        if (kind == 1) {    /* point 0 alone, weight 1; the rest a cluster 5 away, weight 0.05 each */
            for (i = 1; i < NP; ++i) { X[2 * i] = (rdg_real)(5 + 0.01 * (X[2 * i] - 2)); X[2 * i + 1] *= (rdg_real)0.01; wt[i] = (rdg_real)0.05; }
            X[0] = X[1] = 0; wt[0] = 1;
        }
        xr[0] = X[0]; xr[1] = X[1];
        for (cnt = 0; cnt <= NP; ++cnt) {
            rdg_real s1[2] = { 0, 0 }, s2[2] = { 0, 0 }, m1[3] = { 0, 0, 0 }, m2[3] = { 0, 0, 0 }, o[2] = { 0, 0 };
            rdg_real c2[3] = { 0, 0, 0 }, dm[2], c1[3], W = 0, inv, big;
            rdg__k_mom2_ref(X, wt, cnt, xr, s1, m1);
            rdg__k_mom2(X, wt, cnt, xr, s2, m2);
            rdg__k_wsum(X, 2, NULL, wt, cnt, xr, o);
            bad += memcmp(s2, o, sizeof o) != 0;
#if RDG__VW == 8
            bad += rel(s2, s1, 2) > 1e-14 || rel(m2, m1, 3) > 1e-14;
#else
            bad += memcmp(s1, s2, sizeof s1) != 0 || memcmp(m1, m2, sizeof m1) != 0;
#endif
            if (cnt == 0) continue;
            for (i = 0; i < cnt; ++i) W += wt[i];
            inv = 1 / W;
            dm[0] = s2[0] * inv; dm[1] = s2[1] * inv;
            c1[0] = m2[0] * inv - dm[0] * dm[0]; c1[1] = m2[1] * inv - dm[1] * dm[0]; c1[2] = m2[2] * inv - dm[1] * dm[1];
            rdg__k_cov2(X, NULL, wt, cnt, xr, dm, c2);
            c2[0] *= inv; c2[1] *= inv; c2[2] *= inv;
            big = fabs(m2[0]) > fabs(m2[2]) ? fabs(m2[0]) * inv : fabs(m2[2]) * inv;
            for (i = 0; i < 3; ++i) {
                double e = fabs((double)c1[i] - (double)c2[i]);
                double sc = kind == 0 ? fmax(fabs((double)c2[0]), fabs((double)c2[2])) : (double)big;
                if (kind == 0 && e > worst * sc) worst = e / sc;
                if (kind == 1 && e > worst2 * sc) worst2 = e / sc;
                badc += kind == 0 ? e > 1e-13 * sc : e > 64 * RDG__EPS * sc;
            }
        }
    }
    CHECK(bad == 0, "plane moments (%s): %zu of %d cases off rdg__k_wsum or the reference", RDG__SIMD_NAME, bad, 2 * (NP + 1));
    CHECK(badc == 0, "plane moments: %zu covariance entries off the two-pass sums (worst %.3g, two clusters %.3g)",
          badc, worst, worst2);
    printf("  plane moments: %d cases (%s); covariance against two passes %.2g, two clusters %.2g of the sums\n",
           2 * (NP + 1), RDG__SIMD_NAME, worst, worst2);
}

int main(void) {
    kernels();
    wsumq_paths();
    plane_kernels();
    plane_moments();
    dotq_panels();
    boxmuller();
    compact();
    set_lists();
    sampler_sets();
    scan_members();
    project_sets();
    odd_shapes();
    eigh_ql();
    eigh_top();
    frame_lean();
    frame_warm(17);
    frame_warm(24);
    jac_tan();
    jac_nrm();
    rf_helpers();
    rf_kblk();
    RDG_TEST_END("test_kernels");
}
