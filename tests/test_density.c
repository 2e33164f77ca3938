/* Unit tests for the smoothed empirical density (MATH.md 1-2): rdg_ou, the time grids,
   rdg_density_eval (log p, weights, mean, score, cov, Hessian), rdg_density_d3.
   References: direct summation in long double written here, central finite differences
   (4th order), closed forms (two-point data, tanh). */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAXD 8
#define MAXN 64

/* ---- independent reference in long double ----------------------------------------------- */
typedef struct {
    long double logp, logp_naive;
    long double w[MAXN], m[MAXD], g[MAXD], C[MAXD * MAXD], H[MAXD * MAXD];
} ref_t;

static void ref_ou(double t, long double *a, long double *s2) {
    *a = expl(-(long double)t);
    *s2 = -expm1l(-2.0L * (long double)t);
}

static void ref_eval(const double *X, size_t N, size_t d, double t, const double *y, ref_t *r) {
    long double a, s2, l[MAXN], mx = -INFINITY, S = 0, naive = 0;
    const long double pi = 3.14159265358979323846264338327950288L;
    size_t i, j, k;
    ref_ou(t, &a, &s2);
    for (i = 0; i < N; i++) {
        long double q = 0;
        for (j = 0; j < d; j++) {
            long double df = (long double)y[j] - a * X[i * d + j];
            q += df * df;
        }
        l[i] = -q / (2 * s2);
        if (l[i] > mx) mx = l[i];
        /* naive: the Gaussian densities themselves */
        naive += powl(2 * pi * s2, -(long double)d / 2) * expl(l[i]);
    }
    for (i = 0; i < N; i++) S += expl(l[i] - mx);
    r->logp = mx + logl(S) - logl((long double)N) - (long double)d / 2 * logl(2 * pi * s2);
    r->logp_naive = logl(naive / (long double)N);
    for (j = 0; j < d; j++) r->m[j] = 0;
    for (i = 0; i < N; i++) {
        r->w[i] = expl(l[i] - mx) / S;
        for (j = 0; j < d; j++) r->m[j] += r->w[i] * X[i * d + j];
    }
    for (j = 0; j < d * d; j++) r->C[j] = 0;
    for (i = 0; i < N; i++)
        for (j = 0; j < d; j++)
            for (k = 0; k < d; k++)
                r->C[j * d + k] += r->w[i] * (X[i * d + j] - r->m[j]) * (X[i * d + k] - r->m[k]);
    for (j = 0; j < d; j++) r->g[j] = (a * r->m[j] - y[j]) / s2;
    for (j = 0; j < d; j++)
        for (k = 0; k < d; k++)
            r->H[j * d + k] = (j == k ? -1 / s2 : 0) + a * a / (s2 * s2) * r->C[j * d + k];
}

/* reference u^T (d_k H) v */
static void ref_d3(const double *X, size_t N, size_t d, double t, const double *y,
                   const double *u, const double *v, long double *out, long double *scale) {
    ref_t r;
    long double a, s2, s6;
    size_t i, j, k;
    ref_eval(X, N, d, t, y, &r);
    ref_ou(t, &a, &s2);
    s6 = s2 * s2 * s2;
    for (k = 0; k < d; k++) out[k] = 0;
    *scale = 0;
    for (i = 0; i < N; i++) {
        long double c[MAXD], uc = 0, vc = 0, cn = 0;
        for (j = 0; j < d; j++) {
            c[j] = X[i * d + j] - r.m[j];
            uc += u[j] * c[j];
            vc += v[j] * c[j];
            cn += c[j] * c[j];
        }
        for (k = 0; k < d; k++) out[k] += r.w[i] * uc * vc * c[k];
        *scale += r.w[i] * cn * sqrtl(cn);
    }
    for (k = 0; k < d; k++) out[k] *= a * a * a / s6;
    *scale *= a * a * a / s6;
}

/* ---- small helpers ------------------------------------------------------------------------ */
static double vnorm(const double *v, size_t n) {
    long double s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += (long double)v[i] * v[i];
    return (double)sqrtl(s);
}
static double vdiff_l(const double *v, const long double *w, size_t n) {
    long double s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += ((long double)v[i] - w[i]) * ((long double)v[i] - w[i]);
    return (double)sqrtl(s);
}
static double lnorm(const long double *v, size_t n) {
    long double s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += v[i] * v[i];
    return (double)sqrtl(s);
}
static int all_finite(const double *v, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* one-point evaluation of everything */
typedef struct {
    double logp, w[MAXN], m[MAXD], g[MAXD], C[MAXD * MAXD], H[MAXD * MAXD];
} eval_t;

static rdg_status eval1(const rdg_gmm *g, double t, const double *y, eval_t *e) {
    rdg_density_out o;
    o.logp = &e->logp;
    o.weights = e->w;
    o.mean = e->m;
    o.score = e->g;
    o.cov = e->C;
    o.hess = e->H;
    return rdg_density_eval(g, t, y, 1, &o);
}
static double logp1(const rdg_gmm *g, double t, const double *y) {
    double lp = NAN;
    rdg_density_out o;
    memset(&o, 0, sizeof o);
    o.logp = &lp;
    if (rdg_density_eval(g, t, y, 1, &o) != RDG_OK) return NAN;
    return lp;
}

/* test data: random points plus a tight cluster so that small-t queries see several weights */
static void make_data(double *X, size_t N, size_t d, unsigned long long seed) {
    rdg_rng r;
    size_t i, j;
    rdg_rng_init(&r, seed, 0);
    for (i = 0; i < N; i++)
        for (j = 0; j < d; j++) X[i * d + j] = rdg_rng_normal(&r);
    /* points 1..3 are within ~0.05 of point 0 */
    for (i = 1; i < 4 && i < N; i++)
        for (j = 0; j < d; j++) X[i * d + j] = X[j] + 0.04 * rdg_rng_normal(&r);
}

/* query points near the data: a_t x_i + s_t z, and midpoints of the cluster */
static void make_query(const double *X, size_t d, double t, int which, rdg_rng *r, double *y) {
    double a = exp(-t), s = sqrt(-expm1(-2 * t));
    size_t j;
    for (j = 0; j < d; j++) {
        double base;
        if (which == 0) base = 0.5 * (X[j] + X[d + j]);               /* cluster midpoint */
        else if (which == 1) base = (X[j] + X[d + j] + X[2 * d + j]) / 3;
        else base = X[(size_t)(which % 7 + 4) * d + j];                 /* other points */
        y[j] = a * base + 0.7 * s * rdg_rng_normal(r);
    }
}

static const double TS[4] = { 1e-3, 0.1, 1.0, 5.0 };

/* ---- tests -------------------------------------------------------------------------------- */

static void test_against_reference(void) {
    const size_t dims[3] = { 2, 3, 5 };
    size_t di;
    double worst_lp = 0, worst_m = 0, worst_g = 0, worst_H = 0, worst_C = 0, worst_w = 0;
    for (di = 0; di < 3; di++) {
        size_t d = dims[di], N = 20, ti, q;
        double X[MAXN * MAXD];
        rdg_gmm g;
        rdg_rng r;
        make_data(X, N, d, 11 + d);
        CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
        rdg_rng_init(&r, 3, d);
        for (ti = 0; ti < 4; ti++) {
            double t = TS[ti];
            for (q = 0; q < 6; q++) {
                double y[MAXD], e;
                eval_t ev;
                ref_t rf;
                size_t i;
                long double wsum = 0;
                double sc;
                make_query(X, d, t, (int)q, &r, y);
                if (eval1(&g, t, y, &ev) != RDG_OK) { CHECK(0, "density_eval failed"); continue; }
                ref_eval(X, N, d, t, y, &rf);
                /* log p: against both the stabilised and the naive sum */
                e = fabs(ev.logp - (double)rf.logp) / fmax(1.0, fabs((double)rf.logp));
                if (e > worst_lp) worst_lp = e;
                CHECK(e < 1e-13, "logp d=%zu t=%g q=%zu: %.17g vs %.17Lg", d, t, q, ev.logp, rf.logp);
                CHECK_CLOSE(ev.logp, (double)rf.logp_naive, 1e-12, "logp vs naive direct sum");
                /* weights sum to 1 and match */
                for (i = 0; i < N; i++) {
                    wsum += ev.w[i];
                    e = fabs(ev.w[i] - (double)rf.w[i]);
                    if (e > worst_w) worst_w = e;
                }
                CHECK(fabsl(wsum - 1) < 1e-14, "weights sum to %.17Lg", wsum);
                /* mean */
                e = vdiff_l(ev.m, rf.m, d) / fmax(1.0, lnorm(rf.m, d));
                if (e > worst_m) worst_m = e;
                CHECK(e < 1e-13, "mean d=%zu t=%g q=%zu err %.3g", d, t, q, e);
                /* score: (a m - y)/s^2 cancels, so scale by (|y| + |a m|)/s^2 too */
                {
                    double a, s2;
                    rdg_ou(t, &a, &s2);
                    sc = lnorm(rf.g, d) + (vnorm(y, d) + a * lnorm(rf.m, d)) / s2;
                    e = vdiff_l(ev.g, rf.g, d) / sc;
                    if (e > worst_g) worst_g = e;
                    CHECK(e < 1e-13, "score d=%zu t=%g q=%zu err %.3g", d, t, q, e);
                    /* the Tweedie relation with the library's own mean */
                    for (i = 0; i < d; i++)
                        CHECK(fabs(ev.g[i] - (a * ev.m[i] - y[i]) / s2) <= 1e-14 * sc,
                              "score != (a m - y)/s^2: %.17g vs %.17g", ev.g[i],
                              (a * ev.m[i] - y[i]) / s2);
                }
                e = vdiff_l(ev.H, rf.H, d * d) / lnorm(rf.H, d * d);
                if (e > worst_H) worst_H = e;
                CHECK(e < 1e-12, "hess d=%zu t=%g q=%zu err %.3g", d, t, q, e);
                /* cov: absolute floor N exp(-40) (dropped weights), MATH.md 2 */
                e = vdiff_l(ev.C, rf.C, d * d);
                e /= (1e-12 * lnorm(rf.C, d * d) + (double)N * exp(-40.0) * 100.0);
                if (e > worst_C) worst_C = e;
                CHECK(e <= 1, "cov d=%zu t=%g q=%zu err/tol %.3g", d, t, q, e);
                CHECK(all_finite(ev.H, d * d), "hess finite");
            }
        }
    }
    printf("ok reference: worst logp %.3g mean %.3g score %.3g hess %.3g weight %.3g cov/tol %.3g\n",
           worst_lp, worst_m, worst_g, worst_H, worst_w, worst_C);
    CHECK(worst_w < 1e-14, "weights vs reference: %.3g", worst_w);
}

/* 4th-order central difference of f along coordinate k */
#define FD5(fm2, fm1, fp1, fp2, h) (((fm2) - 8 * (fm1) + 8 * (fp1) - (fp2)) / (12 * (h)))

static void test_finite_differences(void) {
    const size_t dims[2] = { 3, 4 };
    size_t di;
    double worst_g = 0, worst_H = 0, worst_d3 = 0, worst_d3c = 0, worst_d3r = 0;
    for (di = 0; di < 2; di++) {
        size_t d = dims[di], N = 16, ti, q;
        double X[MAXN * MAXD];
        rdg_gmm g;
        rdg_rng r;
        make_data(X, N, d, 21 + d);
        CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
        rdg_rng_init(&r, 5, d);
        for (ti = 0; ti < 4; ti++) {
            double t = TS[ti], a, s2, s, h;
            rdg_ou(t, &a, &s2);
            s = sqrt(s2);
            h = 1e-3 * s;
            for (q = 0; q < 5; q++) {
                double y[MAXD], yy[MAXD], gfd[MAXD], Hfd[MAXD * MAXD], d3[MAXD], d3fd[MAXD],
                    d3fc[MAXD], u[MAXD], v[MAXD];
                long double d3ref[MAXD], d3scale;
                eval_t ev, ep[4];
                size_t j, k, st;
                double e;
                const double off[4] = { -2, -1, 1, 2 };
                make_query(X, d, t, (int)q, &r, y);
                if (eval1(&g, t, y, &ev) != RDG_OK) { CHECK(0, "density_eval failed"); continue; }
                for (j = 0; j < d; j++) {
                    u[j] = rdg_rng_normal(&r);
                    v[j] = rdg_rng_normal(&r);
                }
                for (k = 0; k < d; k++) {
                    double f[4], uHv[4], uCv[4];
                    for (st = 0; st < 4; st++) {
                        memcpy(yy, y, d * sizeof *y);
                        yy[k] += off[st] * h;
                        f[st] = logp1(&g, t, yy);
                        eval1(&g, t, yy, &ep[st]);
                        uHv[st] = 0;
                        uCv[st] = 0;
                        for (j = 0; j < d * d; j++) {
                            uHv[st] += u[j / d] * ep[st].H[j] * v[j % d];
                            uCv[st] += u[j / d] * ep[st].C[j] * v[j % d];
                        }
                    }
                    gfd[k] = FD5(f[0], f[1], f[2], f[3], h);
                    for (j = 0; j < d; j++)
                        Hfd[j * d + k] = FD5(ep[0].g[j], ep[1].g[j], ep[2].g[j], ep[3].g[j], h);
                    d3fd[k] = FD5(uHv[0], uHv[1], uHv[2], uHv[3], h);
                    d3fc[k] = a * a / (s2 * s2) * FD5(uCv[0], uCv[1], uCv[2], uCv[3], h);
                }
                /* score vs FD of log p */
                {
                    long double dd[MAXD];
                    for (j = 0; j < d; j++) dd[j] = gfd[j];
                    e = vdiff_l(ev.g, dd, d) / vnorm(ev.g, d);
                    if (e > worst_g) worst_g = e;
                    CHECK(e < 1e-6, "score vs FD(logp): d=%zu t=%g q=%zu rel err %.3g", d, t, q, e);
                }
                /* Hessian vs FD of the score */
                {
                    long double dd[MAXD * MAXD];
                    for (j = 0; j < d * d; j++) dd[j] = Hfd[j];
                    e = vdiff_l(ev.H, dd, d * d) / vnorm(ev.H, d * d);
                    if (e > worst_H) worst_H = e;
                    CHECK(e < 1e-6, "hess vs FD(score): d=%zu t=%g q=%zu rel err %.3g", d, t, q, e);
                }
                /* third derivative */
                if (rdg_density_d3(&g, t, y, u, v, d3) != RDG_OK) { CHECK(0, "d3 failed"); continue; }
                ref_d3(X, N, d, t, y, u, v, d3ref, &d3scale);
                /* tolerance: 1e-12 relative, plus the dropped weights' share N exp(-40) */
                e = vdiff_l(d3, d3ref, d) /
                    ((1e-12 * (double)d3scale + (double)N * exp(-40.0) * 1e3 * a * a * a / (s2 * s2 * s2)) *
                     vnorm(u, d) * vnorm(v, d));
                if (e > worst_d3r) worst_d3r = e;
                CHECK(e <= 1, "d3 vs reference: d=%zu t=%g q=%zu err/tol %.3g", d, t, q, e);
                /* FD comparisons only where d3 is not just the dropped weights' noise */
                if (d3scale < 1e-10L * a * a * a / (s2 * s2 * s2)) continue;
                /* d3 against FD of u^T H v (only where it is resolvable above H's rounding) and of
                   u^T C v (scaled by a^2/s^4: d_k H = (a^2/s^4) d_k C) */
                {
                    long double dd[MAXD];
                    double nfd;
                    for (j = 0; j < d; j++) dd[j] = d3fc[j];
                    nfd = vnorm(d3fc, d);
                    if (nfd > 1e-3 * (double)d3scale * vnorm(u, d) * vnorm(v, d)) {
                        e = vdiff_l(d3, dd, d) / nfd;
                        if (e > worst_d3c) worst_d3c = e;
                        CHECK(e < 1e-6, "d3 vs FD(cov): d=%zu t=%g q=%zu rel err %.3g", d, t, q, e);
                    }
                    if (t <= 1.0 && nfd > 1e-3 * (double)d3scale * vnorm(u, d) * vnorm(v, d)) {
                        for (j = 0; j < d; j++) dd[j] = d3fd[j];
                        e = vdiff_l(d3, dd, d) / vnorm(d3fd, d);
                        if (e > worst_d3) worst_d3 = e;
                        CHECK(e < 1e-6, "d3 vs FD(hess): d=%zu t=%g q=%zu rel err %.3g", d, t, q, e);
                    }
                }
            }
        }
    }
    printf("ok finite differences: worst score %.3g hess %.3g d3(H) %.3g d3(C) %.3g d3(ref) %.3g\n",
           worst_g, worst_H, worst_d3, worst_d3c, worst_d3r);
}

static void test_two_point(void) {
    const double as[2] = { 1.0, 3.0 };
    const double ts[4] = { 0.05, 0.3, 1.0, 3.0 };
    const double x1s[5] = { -0.7, -0.1, 0.0, 0.2, 0.9 };
    const double x2s[3] = { 0.0, 0.5, -2.0 };
    size_t ai, ti, i, j;
    double worst = 0, worstH = 0;
    for (ai = 0; ai < 2; ai++) {
        double X[4] = { -as[ai], 0, as[ai], 0 };
        rdg_gmm g;
        CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "gmm_init two-point");
        for (ti = 0; ti < 4; ti++)
            for (i = 0; i < 5; i++)
                for (j = 0; j < 3; j++) {
                    double t = ts[ti], y[2], a, s2, z, m1, e, h11, sech;
                    eval_t ev;
                    y[0] = x1s[i];
                    y[1] = x2s[j];
                    rdg_ou(t, &a, &s2);
                    z = a * as[ai] * y[0] / s2;
                    m1 = as[ai] * tanh(z);
                    if (eval1(&g, t, y, &ev) != RDG_OK) { CHECK(0, "eval two-point"); continue; }
                    e = fabs(ev.m[0] - m1) / as[ai];
                    if (e > worst) worst = e;
                    CHECK(e < 1e-13, "two-point m1 a=%g t=%g x=(%g,%g): %.17g vs %.17g", as[ai], t,
                          y[0], y[1], ev.m[0], m1);
                    CHECK(ev.m[1] == 0.0, "two-point m2 = %g", ev.m[1]);
                    /* H = diag(-1/s2 + a_t^2 a^2 sech^2(z)/s2^2, -1/s2) */
                    sech = 1.0 / cosh(z);
                    h11 = -1.0 / s2 + a * a * as[ai] * as[ai] * sech * sech / (s2 * s2);
                    e = fabs(ev.H[0] - h11) / (1.0 / s2);
                    if (e > worstH) worstH = e;
                    CHECK(e < 1e-12, "two-point H11 t=%g x1=%g: %.17g vs %.17g", t, y[0], ev.H[0], h11);
                    CHECK(ev.H[1] == 0.0 && ev.H[2] == 0.0, "two-point H12 = %g, H21 = %g", ev.H[1],
                          ev.H[2]);
                    CHECK_CLOSE(ev.H[3] * s2, -1.0, 1e-14, "two-point H22 s2");
                    CHECK_CLOSE(ev.w[1] - ev.w[0], tanh(z), 1e-13, "two-point w2 - w1 = tanh");
                }
    }
    printf("ok two-point: worst m1 %.3g, H11 %.3g\n", worst, worstH);
}

static void test_far_and_small_t(void) {
    size_t d = 3, N = 10, q;
    double X[MAXN * MAXD], t = 1e-4;
    rdg_gmm g;
    rdg_rng r;
    make_data(X, N, d, 77);
    CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
    rdg_rng_init(&r, 8, 8);
    for (q = 0; q < 8; q++) {
        double y[MAXD], dir[MAXD], nd;
        eval_t ev;
        ref_t rf;
        size_t j;
        for (j = 0; j < d; j++) dir[j] = rdg_rng_normal(&r);
        nd = vnorm(dir, d);
        for (j = 0; j < d; j++) y[j] = X[(q % N) * d + j] + 1e3 * dir[j] / nd;
        if (eval1(&g, t, y, &ev) != RDG_OK) { CHECK(0, "eval far point failed"); continue; }
        CHECK(isfinite(ev.logp) && all_finite(ev.m, d) && all_finite(ev.g, d) &&
                  all_finite(ev.H, d * d) && all_finite(ev.C, d * d) && all_finite(ev.w, N),
              "far point t=1e-4 q=%zu: non-finite output", q);
        ref_eval(X, N, d, t, y, &rf);
        CHECK_CLOSE(ev.logp, (double)rf.logp, 1e-13, "far point logp");
        CHECK(vdiff_l(ev.m, rf.m, d) < 1e-12 * 3, "far point mean err %.3g", vdiff_l(ev.m, rf.m, d));
        CHECK(vdiff_l(ev.g, rf.g, d) < 1e-13 * lnorm(rf.g, d), "far point score err %.3g",
              vdiff_l(ev.g, rf.g, d) / lnorm(rf.g, d));
        CHECK(vdiff_l(ev.H, rf.H, d * d) < 1e-12 * lnorm(rf.H, d * d), "far point hess");
    }
    /* a tie far away: two-point data, query on the vertical axis */
    {
        double X2[4] = { -1, 0, 1, 0 }, y[2] = { 0, 1e3 };
        rdg_gmm g2;
        eval_t ev;
        double a, s2;
        CHECK(rdg_gmm_init(&g2, X2, 2, 2) == RDG_OK, "gmm_init");
        CHECK(eval1(&g2, t, y, &ev) == RDG_OK, "eval tie");
        rdg_ou(t, &a, &s2);
        CHECK(ev.w[0] == 0.5 && ev.w[1] == 0.5, "tie weights %.17g %.17g", ev.w[0], ev.w[1]);
        CHECK(fabs(ev.m[0]) < 1e-16 && ev.m[1] == 0, "tie mean (%g, %g)", ev.m[0], ev.m[1]);
        CHECK_CLOSE(ev.C[0], 1.0, 1e-15, "tie C11");
        CHECK_CLOSE(ev.H[0] * s2, -1.0 + a * a / s2, 1e-12, "tie H11 s2");
    }
    /* huge but finite coordinates: documented "stable for any finite y" */
    {
        double y[3] = { 1e155, -1e155, 1e155 };
        eval_t ev;
        rdg_status st = eval1(&g, t, y, &ev);
        CHECK(st == RDG_OK, "eval at |y| = 1e155: status %d", (int)st);
        CHECK(!isnan(ev.logp) && all_finite(ev.m, d) && all_finite(ev.g, d) && all_finite(ev.w, N),
              "eval at |y| = 1e155: NaN/Inf in mean/score/weights (logp %g)", ev.logp);
    }
}

static void test_centred_cov(void) {
    /* two far-from-origin points, query where w2/w1 ~ 1e-12: the raw form sum w x x^T - m m^T
       loses C entirely (|x|^2 ~ 5000 vs C ~ 1e-13) */
    double X[4] = { 50, 50, 50.3, 50 }, y[2], t = 0.01, a, s2;
    rdg_gmm g;
    eval_t ev;
    ref_t rf;
    double e;
    rdg_ou(t, &a, &s2);
    y[0] = a * 50 - 1.69;
    y[1] = a * 50;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "gmm_init");
    CHECK(eval1(&g, t, y, &ev) == RDG_OK, "eval");
    ref_eval(X, 2, 2, t, y, &rf);
    CHECK(rf.w[1] > 1e-14 && rf.w[1] < 1e-10, "setup: w2 = %Lg", rf.w[1]);
    e = vdiff_l(ev.C, rf.C, 4) / lnorm(rf.C, 4);
    CHECK(e < 1e-8, "centred cov: rel err %.3g (C11 %.17g vs %.17Lg)", e, ev.C[0], rf.C[0]);
    CHECK(ev.C[1] == 0 && ev.C[2] == 0 && ev.C[3] == 0, "centred cov off-diagonal");
}

static void test_ou_grid(void) {
    const double ts[6] = { 1e-12, 1e-6, 1e-4, 0.5, 3.0, 40.0 };
    size_t i;
    for (i = 0; i < 6; i++) {
        double a, s2;
        long double ra, rs2;
        rdg_ou(ts[i], &a, &s2);
        ref_ou(ts[i], &ra, &rs2);
        /* 4e-16: 2 ulp; valgrind runs long double at 64-bit precision */
        CHECK(fabsl(a - ra) <= 4e-16L * ra, "rdg_ou a(%g) = %.17g vs %.17Lg", ts[i], a, ra);
        CHECK(fabsl(s2 - rs2) <= 4e-16L * rs2, "rdg_ou s2(%g) = %.17g vs %.17Lg", ts[i], s2, rs2);
    }
    {
        static double t[1001];
        const double paper[11] = { 10, 4.676, 2.187, 1.023, 0.478, 0.224, 0.105, 0.0489, 0.0229,
                                   0.0107, 0.005 };
        const double half_ulp[11] = { 5e-4, 5e-4, 5e-4, 5e-4, 5e-4, 5e-4, 5e-4, 5e-5, 5e-5, 5e-5, 5e-4 };
        size_t k;
        int mono = 1;
        CHECK(rdg_grid_geometric(10.0, 0.005, 1000, t) == RDG_OK, "grid_geometric");
        CHECK(t[0] == 10.0 && t[1000] == 0.005, "geometric endpoints %.17g %.17g", t[0], t[1000]);
        for (k = 0; k <= 10; k++)
            CHECK(fabs(t[k * 100] - paper[k]) <= half_ulp[k] * 1.0000001,
                  "geometric grid step %zu: %.6g, paper %g", k * 100, t[k * 100], paper[k]);
        for (k = 0; k <= 1000; k++) {
            double ref = 10.0 * pow(0.005 / 10.0, (double)k / 1000.0);
            if (k > 0 && !(t[k] < t[k - 1])) mono = 0;
            if (fabs(t[k] - ref) > 1e-13 * ref) {
                CHECK(0, "geometric grid t[%zu] = %.17g vs %.17g", k, t[k], ref);
                break;
            }
        }
        CHECK(mono, "geometric grid not strictly decreasing");
        CHECK(rdg_grid_uniform(10.0, 0.005, 1000, t) == RDG_OK, "grid_uniform");
        CHECK(t[0] == 10.0 && t[1000] == 0.005, "uniform endpoints %.17g %.17g", t[0], t[1000]);
        for (k = 0; k <= 1000; k++) {
            double ref = 10.0 + (0.005 - 10.0) * (double)k / 1000.0;
            if (fabs(t[k] - ref) > 1e-14 * 10) {
                CHECK(0, "uniform grid t[%zu] = %.17g vs %.17g", k, t[k], ref);
                break;
            }
        }
        CHECK(rdg_grid_geometric(1.0, 0.5, 1, t) == RDG_OK && t[0] == 1.0 && t[1] == 0.5,
              "geometric K=1");
        CHECK(rdg_grid_geometric(0.005, 10.0, 10, t) == RDG_ERR_INVALID, "geometric T < t0");
        CHECK(rdg_grid_geometric(1.0, 1.0, 10, t) == RDG_ERR_INVALID, "geometric T == t0");
        CHECK(rdg_grid_geometric(1.0, 0.0, 10, t) == RDG_ERR_INVALID, "geometric t0 = 0");
        CHECK(rdg_grid_geometric(1.0, -0.1, 10, t) == RDG_ERR_INVALID, "geometric t0 < 0");
        CHECK(rdg_grid_geometric(1.0, 0.1, 0, t) == RDG_ERR_INVALID, "geometric K = 0");
        CHECK(rdg_grid_geometric(1.0, 0.1, 10, NULL) == RDG_ERR_INVALID, "geometric NULL");
        CHECK(rdg_grid_geometric(NAN, 0.1, 10, t) == RDG_ERR_INVALID, "geometric T NaN");
        CHECK(rdg_grid_geometric(INFINITY, 0.1, 10, t) == RDG_ERR_INVALID, "geometric T Inf");
        CHECK(rdg_grid_uniform(1.0, 0.1, 0, t) == RDG_ERR_INVALID, "uniform K = 0");
        CHECK(rdg_grid_uniform(0.1, 1.0, 5, t) == RDG_ERR_INVALID, "uniform T < t0");
        CHECK(rdg_grid_uniform(1.0, 0.1, 5, NULL) == RDG_ERR_INVALID, "uniform NULL");
    }
}

static void test_determinism_and_drop(void) {
    size_t d = 4, N = 40, B = 12, i;
    double X[MAXN * MAXD], Y[12 * MAXD];
    double *buf1 = (double *)calloc(B * (1 + N + 2 * d + 2 * d * d), sizeof(double));
    double *buf2 = (double *)calloc(B * (1 + N + 2 * d + 2 * d * d), sizeof(double));
    rdg_density_out o1, o2;
    rdg_gmm g, g0;
    rdg_rng r;
    const double ts[3] = { 0.003, 0.05, 0.7 };
    size_t ti;
    size_t total = B * (1 + N + 2 * d + 2 * d * d);
    if (!buf1 || !buf2) { CHECK(0, "calloc"); free(buf1); free(buf2); return; }
    make_data(X, N, d, 123);
    rdg_rng_init(&r, 9, 9);
    CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
    g0 = g;
    g0.drop = 0;
#define SETUP_OUT(o, b) do { (o).logp = (b); (o).weights = (b) + B; (o).mean = (b) + B + B * N; \
    (o).score = (o).mean + B * d; (o).cov = (o).score + B * d; (o).hess = (o).cov + B * d * d; } while (0)
    SETUP_OUT(o1, buf1);
    SETUP_OUT(o2, buf2);
    for (ti = 0; ti < 3; ti++) {
        double t = ts[ti];
        int some_dropped = 0, any_zero_nodrop = 0;
        double e_lp = 0, e_m = 0, e_g = 0, e_H = 0, e_C = 0;
        for (i = 0; i < B; i++) make_query(X, d, t, (int)i, &r, Y + i * d);
        CHECK(rdg_density_eval(&g, t, Y, B, &o1) == RDG_OK, "eval batch");
        CHECK(rdg_density_eval(&g, t, Y, B, &o2) == RDG_OK, "eval batch again");
        CHECK(memcmp(buf1, buf2, total * sizeof(double)) == 0, "same call twice differs (t=%g)", t);
        /* a batch equals its points evaluated one by one, bit for bit */
        {
            int same = 1;
            for (i = 0; i < B; i++) {
                eval_t ev;
                if (eval1(&g, t, Y + i * d, &ev) != RDG_OK) { same = 0; break; }
                if (memcmp(&ev.logp, o1.logp + i, sizeof(double)) ||
                    memcmp(ev.w, o1.weights + i * N, N * sizeof(double)) ||
                    memcmp(ev.m, o1.mean + i * d, d * sizeof(double)) ||
                    memcmp(ev.g, o1.score + i * d, d * sizeof(double)) ||
                    memcmp(ev.C, o1.cov + i * d * d, d * d * sizeof(double)) ||
                    memcmp(ev.H, o1.hess + i * d * d, d * d * sizeof(double)))
                    same = 0;
            }
            CHECK(same, "batch result differs from one-by-one evaluation (t=%g)", t);
        }
#ifdef _OPENMP
        {
            int nt = omp_get_max_threads();
            omp_set_num_threads(1);
            CHECK(rdg_density_eval(&g, t, Y, B, &o2) == RDG_OK, "eval 1 thread");
            CHECK(memcmp(buf1, buf2, total * sizeof(double)) == 0, "1 thread differs (t=%g)", t);
            omp_set_num_threads(3);
            CHECK(rdg_density_eval(&g, t, Y, B, &o2) == RDG_OK, "eval 3 threads");
            CHECK(memcmp(buf1, buf2, total * sizeof(double)) == 0, "3 threads differ (t=%g)", t);
            omp_set_num_threads(nt);
        }
#endif
        /* drop = 0 keeps every weight; results agree to 1e-12 */
        CHECK(rdg_density_eval(&g0, t, Y, B, &o2) == RDG_OK, "eval drop=0");
        for (i = 0; i < B; i++) {
            size_t j;
            double hn = vnorm(o2.hess + i * d * d, d * d), cn = vnorm(o2.cov + i * d * d, d * d);
            ref_t rf;
            ref_eval(X, N, d, t, Y + i * d, &rf);
            e_lp = fmax(e_lp, fabs(o1.logp[i] - o2.logp[i]) / fmax(1, fabs(o2.logp[i])));
            for (j = 0; j < d; j++) {
                e_m = fmax(e_m, fabs(o1.mean[i * d + j] - o2.mean[i * d + j]) / fmax(1, vnorm(o2.mean + i * d, d)));
                e_g = fmax(e_g, fabs(o1.score[i * d + j] - o2.score[i * d + j]) / vnorm(o2.score + i * d, d));
            }
            for (j = 0; j < d * d; j++) {
                e_H = fmax(e_H, fabs(o1.hess[i * d * d + j] - o2.hess[i * d * d + j]) / hn);
                e_C = fmax(e_C, fabs(o1.cov[i * d * d + j] - o2.cov[i * d * d + j]) /
                                    (1e-12 * cn + (double)N * exp(-40.0) * 100));
            }
            for (j = 0; j < N; j++) {
                if (o1.weights[i * N + j] == 0) some_dropped = 1;
                if (o2.weights[i * N + j] == 0 && rf.w[j] > 1e-300L) any_zero_nodrop = 1;
            }
            /* default drop: a weight exp(-45) below the largest is exactly 0 */
            {
                long double wmax = 0;
                for (j = 0; j < N; j++) if (rf.w[j] > wmax) wmax = rf.w[j];
                for (j = 0; j < N; j++)
                    if (rf.w[j] < wmax * expl(-45.0L) && o1.weights[i * N + j] != 0) {
                        CHECK(0, "weight %zu = %g (ref %Lg, max %Lg) not dropped", j,
                              o1.weights[i * N + j], rf.w[j], wmax);
                        break;
                    }
            }
        }
        if (t < 0.01) CHECK(some_dropped, "no weight dropped at t=%g", t);
        CHECK(!any_zero_nodrop, "drop=0 still zeroes a representable weight (t=%g)", t);
        CHECK(e_lp < 1e-12 && e_m < 1e-12 && e_g < 1e-12 && e_H < 1e-12 && e_C < 1,
              "drop vs no drop t=%g: logp %.3g mean %.3g score %.3g hess %.3g cov %.3g", t, e_lp,
              e_m, e_g, e_H, e_C);
    }
#undef SETUP_OUT
    free(buf1);
    free(buf2);
}

/* rdg_density_eval_ctx: bit-identical to rdg_density_eval over a sequence of calls that grows
   and shrinks the batch, changes t, the outputs asked for, drop and the thread count (the
   context's workspaces are reused and regrown); a changed view and NULLs are refused. */
static void test_context(void) {
    enum { N = 300, D = 20, BMAX = 64 };
    static const struct { size_t B; double t; int outs, threads; } calls[] = {
        { 1, 0.5, 63, 1 }, { 3, 0.05, 8, 2 }, { 40, 0.5, 63, 2 }, { 7, 5.0, 32, 3 },
        { 64, 0.01, 63, 1 }, { 2, 0.3, 4, 2 }, { 17, 0.002, 48, 3 }, { 64, 1.0, 63, 2 },
        { 5, 0.2, 1, 1 }, { 33, 0.08, 63, 3 }
    };
    size_t ncall = sizeof calls / sizeof calls[0], per = 1 + N + 2 * D + 2 * D * D, c, i;
    double *X = (double *)malloc(N * D * sizeof(double)), *Y = (double *)malloc(BMAX * D * sizeof(double));
    double *b1 = (double *)malloc(BMAX * per * sizeof(double)), *b2 = (double *)malloc(BMAX * per * sizeof(double));
    rdg_density_ctx *ctx = NULL;
    rdg_gmm g;
    rdg_rng r;
    if (!X || !Y || !b1 || !b2) { CHECK(0, "malloc"); free(X); free(Y); free(b1); free(b2); return; }
    rdg_rng_init(&r, 31, 4);
    for (i = 0; i < N * D; i++) X[i] = rdg_rng_normal(&r) * (i % D < 3 ? 2.0 : 0.3);
    CHECK(rdg_gmm_init(&g, X, N, D) == RDG_OK, "gmm_init");
    CHECK(rdg_density_ctx_create(&g, &ctx) == RDG_OK && ctx, "ctx create");
    for (c = 0; c < ncall && ctx; c++) {
        size_t B = calls[c].B;
        double t = calls[c].t;
        rdg_density_out o1, o2;
        rdg_status s1, s2;
        double *bufs[2];
        rdg_density_out *os[2];
        int k;
        bufs[0] = b1; bufs[1] = b2; os[0] = &o1; os[1] = &o2;
        for (k = 0; k < 2; k++) {
            double *b = bufs[k];
            rdg_density_out *o = os[k];
            int m = calls[c].outs;
            for (i = 0; i < BMAX * per; i++) b[i] = -7.25;
            o->logp = (m & 1) ? b : NULL;
            o->weights = (m & 2) ? b + BMAX : NULL;
            o->mean = (m & 4) ? b + BMAX * (1 + N) : NULL;
            o->score = (m & 8) ? b + BMAX * (1 + N + D) : NULL;
            o->cov = (m & 16) ? b + BMAX * (1 + N + 2 * D) : NULL;
            o->hess = (m & 32) ? b + BMAX * (1 + N + 2 * D + D * D) : NULL;
        }
        for (i = 0; i < B * D; i++) Y[i] = X[(i * 7) % (N * D)] * 0.9 + 0.2 * rdg_rng_normal(&r);
        g.drop = (c == 6) ? 0 : 40;      /* drop is read at every call */
#ifdef _OPENMP
        omp_set_num_threads(calls[c].threads);
#endif
        s1 = rdg_density_eval(&g, t, Y, B, &o1);
        s2 = rdg_density_eval_ctx(ctx, t, Y, B, &o2);
        CHECK(s1 == RDG_OK && s2 == RDG_OK, "call %zu: status %d %d", c, (int)s1, (int)s2);
        CHECK(memcmp(b1, b2, BMAX * per * sizeof(double)) == 0, "call %zu (B=%zu t=%g): context differs", c, B, t);
    }
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    g.drop = 40;
    {
        rdg_density_out o;
        memset(&o, 0, sizeof o);
        o.score = b1;
        g.n = N - 1;
        CHECK(rdg_density_eval_ctx(ctx, 0.5, Y, 2, &o) == RDG_ERR_INVALID, "changed view refused");
        g.n = N;
        CHECK(rdg_density_eval_ctx(ctx, 0.5, Y, 2, &o) == RDG_OK, "restored view accepted");
        CHECK(rdg_density_eval_ctx(NULL, 0.5, Y, 2, &o) == RDG_ERR_INVALID, "NULL context refused");
        CHECK(rdg_density_eval_ctx(ctx, 0.5, Y, 2, NULL) == RDG_ERR_INVALID, "NULL out refused");
        CHECK(rdg_density_eval_ctx(ctx, -1, Y, 2, &o) == RDG_ERR_INVALID, "t < 0 refused");
    }
    rdg_density_ctx_free(ctx);
    rdg_density_ctx_free(NULL);
    ctx = (rdg_density_ctx *)b1;         /* overwritten with NULL on failure */
    CHECK(rdg_density_ctx_create(NULL, &ctx) == RDG_ERR_INVALID && ctx == NULL, "create NULL view");
    CHECK(rdg_density_ctx_create(&g, NULL) == RDG_ERR_INVALID, "create NULL out");
    free(X); free(Y); free(b1); free(b2);
}

/* The plane's full-scan tail (rdg__tail_plane: d = 2 with at least a quarter of the points
   kept, weights of all points in place, contiguous passes) against direct summation in long
   double, on N = 1000 (not a multiple of the 64-point blocks of its first-maximum search):
   queries whose nearest point sits in the first block, in the middle and in the last partial
   block, at t where every point is kept (plane), about a third (plane) and a few (the compacting
   tail), with and without Hessians and weights; then the same numbers for B = 1 and B = 8 (the
   plane reads the rows, never the transposed panels a block of queries builds), bit for bit. */
#define PLANE_N 1000
static void test_plane_tail(void) {
    static double X[PLANE_N * 2], Y[8 * 2], W[8 * PLANE_N], Wb[PLANE_N];
    static long double l[PLANE_N];
    double M[8 * 2], H[8 * 4], L[8], Mb[2], Hb[4], Lb;
    const double ts[3] = { 2.0, 0.05, 1e-4 };
    const size_t near[8] = { 0, 3, 500, 777, 960, 999, 998, 63 };
    rdg_gmm g;
    rdg_rng r;
    size_t i, j, k, q, it;
    rdg_rng_init(&r, 77, 0);
    for (i = 0; i < PLANE_N; i++) { X[2 * i] = 2 * rdg_rng_normal(&r); X[2 * i + 1] = rdg_rng_normal(&r); }
    CHECK(rdg_gmm_init(&g, X, PLANE_N, 2) == RDG_OK, "plane: data");
    for (it = 0; it < 3; it++) {
        double t = ts[it], a = exp(-t), s = sqrt(-expm1(-2 * t)), worst = 0;
        long double la, ls2;
        rdg_density_out o;
        size_t kept_min = PLANE_N, kept_max = 0;
        ref_ou(t, &la, &ls2);
        for (q = 0; q < 8; q++)
            for (j = 0; j < 2; j++) Y[q * 2 + j] = a * X[near[q] * 2 + j] + 0.3 * s * rdg_rng_normal(&r);
        memset(&o, 0, sizeof o);
        o.mean = M; o.hess = H; o.logp = L; o.weights = W;
        CHECK(rdg_density_eval(&g, t, Y, 8, &o) == RDG_OK, "plane: eval (t %g)", t);
        for (q = 0; q < 8; q++) {
            long double mx = -INFINITY, S = 0, m[2] = { 0, 0 }, C[4] = { 0, 0, 0, 0 }, lp, err = 0, sc;
            const long double pi = 3.14159265358979323846264338327950288L;
            size_t kept = 0;
            for (i = 0; i < PLANE_N; i++) {
                long double d0 = (long double)Y[2 * q] - la * X[2 * i], d1 = (long double)Y[2 * q + 1] - la * X[2 * i + 1];
                l[i] = -(d0 * d0 + d1 * d1) / (2 * ls2);
                if (l[i] > mx) mx = l[i];
            }
            for (i = 0; i < PLANE_N; i++) if (l[i] >= mx - 40) { S += expl(l[i] - mx); kept++; }
            for (i = 0; i < PLANE_N; i++) if (l[i] >= mx - 40)
                for (j = 0; j < 2; j++) m[j] += expl(l[i] - mx) / S * X[2 * i + j];
            for (i = 0; i < PLANE_N; i++) if (l[i] >= mx - 40)
                for (j = 0; j < 2; j++) for (k = 0; k < 2; k++)
                    C[j * 2 + k] += expl(l[i] - mx) / S * (X[2 * i + j] - m[j]) * (X[2 * i + k] - m[k]);
            lp = mx + logl(S) - logl((long double)PLANE_N) - logl(2 * pi * ls2);
            if (kept < kept_min) kept_min = kept;
            if (kept > kept_max) kept_max = kept;
            sc = fabsl(m[0]) + fabsl(m[1]) + 1;
            for (j = 0; j < 2; j++) err = fmaxl(err, fabsl((long double)M[q * 2 + j] - m[j]) / sc);
            err = fmaxl(err, fabsl((long double)L[q] - lp) / (fabsl(lp) + 1));
            for (j = 0; j < 4; j++) {   /* H = -I / s^2 + (a^2 / s^4) C, relative to its size */
                long double h = (j == 0 || j == 3 ? -1 / ls2 : 0) + la * la / (ls2 * ls2) * C[j];
                err = fmaxl(err, fabsl((long double)H[q * 4 + j] - h) / (1 / ls2 + la * la / (ls2 * ls2) * (C[0] + C[3])));
            }
            for (i = 0; i < PLANE_N; i++) {
                long double wr = l[i] >= mx - 40 ? expl(l[i] - mx) / S : 0;
                err = fmaxl(err, fabsl((long double)W[q * PLANE_N + i] - wr));
            }
            if ((double)err > worst) worst = (double)err;
        }
        CHECK(worst <= 1e-12, "plane: t %g (kept %zu..%zu of %d): worst error %.3g vs long double",
              t, kept_min, kept_max, PLANE_N, worst);
        if (it == 0) CHECK(kept_min == PLANE_N, "plane: t %g keeps every point (%zu)", t, kept_min);
        if (it == 1) CHECK(kept_min >= PLANE_N / 4 && kept_max < PLANE_N, "plane: t %g keeps a part above a quarter (%zu..%zu)", t, kept_min, kept_max);
        if (it == 2) CHECK(kept_max < PLANE_N / 4, "plane: t %g keeps under a quarter (%zu)", t, kept_max);
        for (q = 0; q < 8; q++) {       /* one query at a time: the same bits */
            rdg_density_out o1;
            memset(&o1, 0, sizeof o1);
            o1.mean = Mb; o1.hess = Hb; o1.logp = &Lb; o1.weights = Wb;
            CHECK(rdg_density_eval(&g, t, Y + 2 * q, 1, &o1) == RDG_OK, "plane: eval B 1");
            CHECK(memcmp(Mb, M + 2 * q, sizeof Mb) == 0 && memcmp(Hb, H + 4 * q, sizeof Hb) == 0 && Lb == L[q]
                  && memcmp(Wb, W + q * PLANE_N, sizeof Wb) == 0, "plane: t %g query %zu alone = in a block of 8", t, q);
        }
    }
}

int main(void) {
    test_ou_grid();
    test_against_reference();
    test_finite_differences();
    test_two_point();
    test_far_and_small_t();
    test_centred_cov();
    test_determinism_and_drop();
    test_context();
    test_plane_tail();
    RDG_TEST_END("test_density");
}
