/* Unit tests for the model interface, the exact model, the time embeddings and the samplers
   (MATH.md 1, 2, 6): rdg_model_eval, rdg_model_exact, rdg_embed_fourier, rdg_embed_sinusoidal,
   rdg_sample_ncheck, rdg_sample.
   The statistical tests use one data point, where p_t = N(a_t x1, s_t^2 I) and both samplers
   are linear maps of Gaussians: the law of the Euler-Maruyama chain is computed exactly by a
   mean/variance recursion (long double), so the sample mean and covariance are compared with
   it within 5 standard errors, and the recursion itself is compared with the continuous
   target. A "power" check shows that the same tolerance rejects the laws of plausible bugs
   (a missing factor 2 on the score, a missing noise factor sqrt 2, a wrong drift sign). */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define D1 3
#define PI_ 3.14159265358979323846

/* ---- helpers --------------------------------------------------------------------------- */

/* Law of y_K for the scheme y <- y + h (sy y + f (a x - y) / s2) + sqrt(nf h) xi from
   y_0 ~ N(0, 1), one coordinate, on the geometric grid (f = 2, sy = 1, nf = 2: the sampler). */
static void em_law(double T, double t0, size_t K, double x, double f, double sy, double nf,
                   long double *mu, long double *var) {
    rdg_real *t = (rdg_real *)malloc((K + 1) * sizeof(rdg_real));
    long double m = 0, v = 1;
    size_t k;
    rdg_grid_geometric((rdg_real)T, (rdg_real)t0, K, t);
    for (k = 0; k < K; k++) {
        long double tk = t[k], h = (long double)t[k] - (long double)t[k + 1];
        long double a = expl(-tk), s2 = -expm1l(-2 * tk);
        long double c = 1 + h * sy - h * f / s2;
        m = c * m + h * f * a * x / s2;
        v = c * c * v + nf * h;
    }
    free(t);
    *mu = m; *var = v;
}

/* Sample mean (d) and covariance (d x d, divisor n - 1) of n points. */
static void moments(const rdg_real *y, size_t n, size_t d, double *mean, double *cov) {
    size_t i, j, k;
    for (j = 0; j < d; j++) {
        double s = 0;
        for (i = 0; i < n; i++) s += (double)y[i * d + j];
        mean[j] = s / (double)n;
    }
    for (j = 0; j < d; j++)
        for (k = 0; k < d; k++) {
            double s = 0;
            for (i = 0; i < n; i++) s += ((double)y[i * d + j] - mean[j]) * ((double)y[i * d + k] - mean[k]);
            cov[j * d + k] = s / (double)(n - 1);
        }
}

/* Checks the moments of n samples against N(mu, v I) within 5 standard errors:
   mean SE sqrt(v/n), variance SE v sqrt(2/(n-1)), covariance SE v / sqrt(n). */
static void check_gauss(const char *what, const rdg_real *y, size_t n, const double *mu, double v) {
    double mean[D1], cov[D1 * D1];
    size_t j, k;
    moments(y, n, D1, mean, cov);
    for (j = 0; j < D1; j++) {
        double se = sqrt(v / (double)n);
        CHECK(fabs(mean[j] - mu[j]) <= 5 * se, "%s: mean[%lu] %.6g, law %.6g (5 SE = %.2g)", what,
              (unsigned long)j, mean[j], mu[j], 5 * se);
    }
    for (j = 0; j < D1; j++)
        for (k = 0; k <= j; k++) {
            double want = j == k ? v : 0;
            double se = j == k ? v * sqrt(2.0 / (double)(n - 1)) : v / sqrt((double)n);
            CHECK(fabs(cov[j * D1 + k] - want) <= 5 * se, "%s: cov[%lu][%lu] %.6g, law %.6g (5 SE = %.2g)",
                  what, (unsigned long)j, (unsigned long)k, cov[j * D1 + k], want, 5 * se);
        }
    printf("  %s: n %lu, var %.6g (law %.6g), mean[0] %.6g (law %.6g)\n", what, (unsigned long)n,
           cov[0], v, mean[0], mu[0]);
}

static rdg_sample_opts opts0(void) {
    rdg_sample_opts o;
    memset(&o, 0, sizeof o);
    return o;
}

/* A user model whose eval fails or returns NaN after a number of calls (not thread-safe in
   the counter, so used with one thread or a single batch only). */
typedef struct { size_t d; int mode; } bad_model;
static rdg_status bad_eval(const void *self, rdg_real t, const rdg_real *x, size_t B, rdg_real *out) {
    const bad_model *bm = (const bad_model *)self;
    size_t i;
    (void)x;
    if (bm->mode == 0) return RDG_ERR_NOMEM;
    for (i = 0; i < B * bm->d; i++) out[i] = bm->mode == 1 ? (rdg_real)NAN : (rdg_real)(t * 0);
    return RDG_OK;
}

/* ---- embeddings ------------------------------------------------------------------------ */
static void test_embeddings(void) {
    rdg_real e[2 * 5 + 1], s[32], grid[1001];
    size_t k, j;
    double maxerr = 0;
    CHECK(rdg_embed_fourier((rdg_real)2.5, 10, 5, e) == RDG_OK, "fourier ok");
    CHECK(e[0] == 1, "fourier e[0] = 1");
    for (k = 1; k <= 5; k++) {
        CHECK_CLOSE(e[k], sin(2 * PI_ * (double)k * 2.5 / 10), 1e-14, "fourier sin");
        CHECK_CLOSE(e[5 + k], cos(2 * PI_ * (double)k * 2.5 / 10), 1e-14, "fourier cos");
    }
    CHECK(rdg_embed_fourier(1, 10, 0, e) == RDG_ERR_INVALID, "fourier nfreq 0");
    CHECK(rdg_embed_fourier(0, 10, 5, e) == RDG_ERR_INVALID, "fourier t 0");
    CHECK(rdg_embed_fourier(1, 0, 5, e) == RDG_ERR_INVALID, "fourier T 0");
    CHECK(rdg_embed_fourier((rdg_real)NAN, 10, 5, e) == RDG_ERR_INVALID, "fourier t NaN");
    CHECK(rdg_embed_fourier(1, (rdg_real)INFINITY, 5, e) == RDG_ERR_INVALID, "fourier T Inf");
    CHECK(rdg_embed_fourier(1, 10, 5, NULL) == RDG_ERR_INVALID, "fourier NULL");
    CHECK(rdg_embed_fourier(1, 10, (size_t)-1, e) == RDG_ERR_INVALID, "fourier nfreq overflow");

    /* sinusoidal: tau = 1000 ln(t/0.005)/ln 2000; t0 -> tau 0, T -> tau 1000 */
    CHECK(rdg_embed_sinusoidal((rdg_real)0.005, 32, s) == RDG_OK, "sinusoidal ok");
    for (j = 0; j < 16; j++) {
        CHECK(fabs(s[2 * j]) < 1e-12 && fabs(s[2 * j + 1] - 1) < 1e-12, "sinusoidal at t0: (0, 1), got (%g, %g)",
              (double)s[2 * j], (double)s[2 * j + 1]);
    }
    CHECK(rdg_embed_sinusoidal(10, 32, s) == RDG_OK, "sinusoidal T ok");
    for (j = 0; j < 16; j++) {
        double w = pow(1000.0, -2.0 * (double)j / 32);
        CHECK_CLOSE(s[2 * j], sin(1000 * w), 1e-11, "sinusoidal sin at T");
        CHECK_CLOSE(s[2 * j + 1], cos(1000 * w), 1e-11, "sinusoidal cos at T");
    }
    /* step k of the default grid sits at tau = 1000 - k: the fastest pair is (sin, cos)(1000 - k) */
    rdg_grid_geometric(10, (rdg_real)0.005, 1000, grid);
    for (k = 0; k <= 1000; k += 37) {
        rdg_embed_sinusoidal(grid[k], 2, s);
        if (fabs(s[0] - sin(1000.0 - (double)k)) > maxerr) maxerr = fabs(s[0] - sin(1000.0 - (double)k));
        if (fabs(s[1] - cos(1000.0 - (double)k)) > maxerr) maxerr = fabs(s[1] - cos(1000.0 - (double)k));
    }
    CHECK(maxerr < 1e-9, "sinusoidal: grid step k at tau = 1000 - k (max err %g)", maxerr);
    CHECK(rdg_embed_sinusoidal(1, 31, s) == RDG_ERR_INVALID, "sinusoidal odd dim");
    CHECK(rdg_embed_sinusoidal(1, 0, s) == RDG_ERR_INVALID, "sinusoidal dim 0");
    CHECK(rdg_embed_sinusoidal(-1, 32, s) == RDG_ERR_INVALID, "sinusoidal t < 0");
    CHECK(rdg_embed_sinusoidal((rdg_real)INFINITY, 32, s) == RDG_ERR_INVALID, "sinusoidal t Inf");
    CHECK(rdg_embed_sinusoidal(1, 32, NULL) == RDG_ERR_INVALID, "sinusoidal NULL");
}

/* ---- model interface and exact model --------------------------------------------------- */
static void test_model(void) {
    static const rdg_real X[6] = { 0, 0, 1, 0, 0, 2 };
    rdg_real y[8] = { 0.2, 0.1, -1, 3, 0.5, 0.5, 2, -2 }, m1[8], m2[8];
    rdg_gmm g;
    rdg_model m, mb;
    rdg_density_out o;
    rdg_gmm bad;
    CHECK(rdg_gmm_init(&g, X, 3, 2) == RDG_OK, "gmm init");
    CHECK(rdg_model_exact(&m, &g) == RDG_OK, "exact ok");
    CHECK(m.kind == RDG_MODEL_EXACT && m.d == 2 && m.eval && m.self == &g, "exact fields");
    memset(&o, 0, sizeof o);
    o.mean = m2;
    CHECK(rdg_density_eval(&g, (rdg_real)0.3, y, 4, &o) == RDG_OK, "density");
    CHECK(rdg_model_eval(&m, (rdg_real)0.3, y, 4, m1) == RDG_OK, "model eval");
    CHECK(memcmp(m1, m2, sizeof m1) == 0, "exact model = density mean, bit for bit");
    memset(m1, 0, sizeof m1);
    CHECK(m.eval(m.self, (rdg_real)0.3, y, 4, m1) == RDG_OK, "eval direct");
    CHECK(memcmp(m1, m2, sizeof m1) == 0, "eval direct = density mean");
#ifdef _OPENMP
    {   /* the in-parallel path (one workspace, serial) gives the same numbers */
        rdg_real m3[2][8];
        int th, okp = 1;
        #pragma omp parallel num_threads(2)
        {
            int id = omp_get_thread_num();
            if (id < 2 && m.eval(m.self, (rdg_real)0.3, y, 4, m3[id]) != RDG_OK) okp = 0;
        }
        for (th = 0; th < 2; th++)
            if (omp_get_max_threads() >= 1 && memcmp(m3[th], m2, sizeof m2) != 0) okp = 0;
        CHECK(okp, "exact eval inside a parallel region = density mean");
    }
#endif
    CHECK(rdg_model_eval(NULL, 1, y, 4, m1) == RDG_ERR_INVALID, "eval NULL model");
    CHECK(rdg_model_eval(&m, 1, NULL, 4, m1) == RDG_ERR_INVALID, "eval NULL x");
    CHECK(rdg_model_eval(&m, 1, y, 4, NULL) == RDG_ERR_INVALID, "eval NULL out");
    CHECK(rdg_model_eval(&m, 1, y, 0, m1) == RDG_ERR_INVALID, "eval B 0");
    CHECK(rdg_model_eval(&m, 0, y, 4, m1) == RDG_ERR_INVALID, "eval t 0");
    CHECK(rdg_model_eval(&m, -1, y, 4, m1) == RDG_ERR_INVALID, "eval t < 0");
    CHECK(rdg_model_eval(&m, (rdg_real)NAN, y, 4, m1) == RDG_ERR_INVALID, "eval t NaN");
    CHECK(rdg_model_eval(&m, (rdg_real)INFINITY, y, 4, m1) == RDG_ERR_INVALID, "eval t Inf");
    CHECK(rdg_model_eval(&m, 1, y, (size_t)-1 / 2 + 1, m1) == RDG_ERR_OVERFLOW, "eval B*d overflow");
    y[5] = (rdg_real)NAN;
    CHECK(rdg_model_eval(&m, 1, y, 4, m1) == RDG_ERR_NONFINITE, "eval NaN x");
    y[5] = (rdg_real)INFINITY;
    CHECK(rdg_model_eval(&m, 1, y, 4, m1) == RDG_ERR_NONFINITE, "eval Inf x");
    y[5] = 0;
    mb = m; mb.eval = NULL;
    CHECK(rdg_model_eval(&mb, 1, y, 4, m1) == RDG_ERR_INVALID, "eval: eval NULL");
    mb = m; mb.d = 0;
    CHECK(rdg_model_eval(&mb, 1, y, 4, m1) == RDG_ERR_INVALID, "eval: d 0");
    mb = m; mb.kind = (rdg_model_kind)7;
    CHECK(rdg_model_eval(&mb, 1, y, 4, m1) == RDG_ERR_INVALID, "eval: unknown kind");
    memset(&bad, 0, sizeof bad);
    CHECK(rdg_model_exact(&mb, &bad) == RDG_ERR_INVALID, "exact: uninitialised gmm");
    CHECK(mb.eval == NULL, "exact: model zeroed on failure");
    CHECK(rdg_model_exact(&mb, NULL) == RDG_ERR_INVALID, "exact: NULL gmm");
    CHECK(rdg_model_exact(NULL, &g) == RDG_ERR_INVALID, "exact: NULL model");
}

/* ---- checkpoint counts ----------------------------------------------------------------- */
static void test_ncheck(void) {
    CHECK(rdg_sample_ncheck(1000, 100) == 11, "ncheck 1000/100");
    CHECK(rdg_sample_ncheck(1000, 0) == 2, "ncheck 1000/0");
    CHECK(rdg_sample_ncheck(1000, 300) == 5, "ncheck 1000/300 (0 300 600 900 1000)");
    CHECK(rdg_sample_ncheck(1000, 1000) == 2, "ncheck 1000/1000");
    CHECK(rdg_sample_ncheck(1000, 5000) == 2, "ncheck every > K");
    CHECK(rdg_sample_ncheck(0, 100) == 11, "ncheck K 0 means 1000");
    CHECK(rdg_sample_ncheck(10, 1) == 11, "ncheck every 1");
    CHECK(rdg_sample_ncheck(1, 0) == 2, "ncheck K 1");
    CHECK(rdg_sample_ncheck((size_t)-1, 1) == 0, "ncheck overflow gives 0");
}

/* ---- one data point: the law of the samples ------------------------------------------- */
static void test_one_point(void) {
    static const rdg_real X[D1] = { 1, -2, 0.5 };
    const size_t n = 4000, K = 1000;
    const double T = 10, t0 = 0.005;
    rdg_gmm g;
    rdg_model m;
    rdg_sample_opts o = opts0();
    rdg_real *out = (rdg_real *)malloc(n * D1 * sizeof(rdg_real));
    rdg_real *traj = (rdg_real *)malloc(2 * n * D1 * sizeof(rdg_real));
    rdg_real times[2];
    long double mu1, v1, muw, vw;
    double mu[D1], v, a0, s20, aT, s2T, se_v, maxerr = 0;
    size_t i, j;
    int pass = 1;
    rdg_gmm_init(&g, X, 1, D1);
    rdg_model_exact(&m, &g);
    a0 = exp(-t0); s20 = -expm1(-2 * t0);
    aT = exp(-T); s2T = -expm1(-2 * T);

    /* SDE: exact discrete law by recursion, and its distance to the continuous target */
    em_law(T, t0, K, 1.0, 2, 1, 2, &mu1, &v1);
    CHECK(fabs((double)mu1 - a0) < 1e-3 && fabs((double)v1 / s20 - 1) < 0.02,
          "Euler-Maruyama law near the target: mean factor %.6f (a_t0 %.6f), var %.6g (s_t0^2 %.6g)",
          (double)mu1, a0, (double)v1, s20);
    v = (double)v1;
    se_v = v * sqrt(2.0 / (double)(n - 1));
    /* power: the same tolerance rejects the laws of plausible bugs */
    em_law(T, t0, K, 1.0, 1, 1, 2, &muw, &vw);
    CHECK(fabs((double)vw - v) > 10 * se_v, "power: missing factor 2 on the score changes var to %.4g (vs %.4g)", (double)vw, v);
    em_law(T, t0, K, 1.0, 2, 1, 1, &muw, &vw);
    CHECK(fabs((double)vw - v) > 10 * se_v, "power: noise sqrt(h) instead of sqrt(2h) gives var %.4g (vs %.4g)", (double)vw, v);
    em_law(T, t0, K, 1.0, 2, -1, 2, &muw, &vw);
    CHECK(fabs((double)vw - v) > 10 * se_v || fabs((double)muw - (double)mu1) * 0.5 > 10 * sqrt(v / (double)n),
          "power: drift -y instead of +y gives var %.4g, mean %.4g", (double)vw, (double)muw);

    o.seed = 12345;
    CHECK(rdg_sample(&m, n, &o, out, traj, times) == RDG_OK, "SDE one point");
    for (j = 0; j < D1; j++) mu[j] = (double)mu1 * (double)X[j];
    check_gauss("SDE one point", out, n, mu, v);
    CHECK(times[0] == (rdg_real)T && times[1] == (rdg_real)t0, "times = (T, t0)");
    CHECK(memcmp(traj + n * D1, out, n * D1 * sizeof(rdg_real)) == 0, "last checkpoint = out");
    {
        static const double zero3[3] = { 0, 0, 0 };
        check_gauss("initial states", traj, n, zero3, 1.0);
    }

    /* ODE: the flow of a Gaussian is affine, y_t - a_t x = (s_t / s_T)(y_T - a_T x): check it
       sample by sample (Heun is second order) and the law as above */
    o.ode = 1;
    CHECK(rdg_sample(&m, n, &o, out, traj, times) == RDG_OK, "ODE one point");
    for (i = 0; i < n; i++)
        for (j = 0; j < D1; j++) {
            double want = a0 * X[j] + sqrt(s20 / s2T) * ((double)traj[i * D1 + j] - aT * X[j]);
            double e = fabs((double)out[i * D1 + j] - want);
            if (e > maxerr) maxerr = e;
        }
    CHECK(maxerr < 1e-4, "ODE: every sample on the exact flow map (max err %.3g)", maxerr);
    printf("  ODE one point: max deviation from the exact flow map %.3g\n", maxerr);
    for (j = 0; j < D1; j++) mu[j] = a0 * X[j] - sqrt(s20 / s2T) * aT * X[j];
    check_gauss("ODE one point", out, n, mu, s20 / s2T);
    for (i = 0; i < n * D1; i++) if (!(out[i] == out[i])) pass = 0;
    CHECK(pass, "ODE outputs finite");
    free(out); free(traj);
}

/* ---- two points (+-3, 0): the exact model memorises ------------------------------------ */
static void test_two_points(void) {
    static const rdg_real X[4] = { -3, 0, 3, 0 };
    const size_t n = 1000;
    rdg_gmm g;
    rdg_model m;
    rdg_sample_opts o = opts0();
    rdg_real *out = (rdg_real *)malloc(n * 2 * sizeof(rdg_real));
    double a0 = exp(-0.005), s0 = sqrt(-expm1(-0.01));
    int ode;
    rdg_gmm_init(&g, X, 2, 2);
    rdg_model_exact(&m, &g);
    for (ode = 0; ode <= 1; ode++) {
        size_t i, right = 0;
        double maxd = 0, half = (double)n / 2, tol = 5 * sqrt((double)n * 0.25);
        o.ode = ode; o.seed = 99;
        CHECK(rdg_sample(&m, n, &o, out, NULL, NULL) == RDG_OK, "two points %s", ode ? "ODE" : "SDE");
        for (i = 0; i < n; i++) {
            double x = (double)out[2 * i], y = (double)out[2 * i + 1];
            double cx = x > 0 ? 3 * a0 : -3 * a0, dist = sqrt((x - cx) * (x - cx) + y * y);
            if (x > 0) right++;
            if (dist > maxd) maxd = dist;
        }
        CHECK(fabs((double)right - half) <= tol, "%s: %lu of %lu samples at +3 (binomial 5 SD: %.0f +- %.0f)",
              ode ? "ODE" : "SDE", (unsigned long)right, (unsigned long)n, half, tol);
        CHECK(maxd < 6 * s0, "%s: every sample within 6 s_t0 of a_t0 x_i (max %.3g s_t0)",
              ode ? "ODE" : "SDE", maxd / s0);
        printf("  two points %s: %lu/%lu at +3, max distance to a_t0 x_i %.3g s_t0\n", ode ? "ODE" : "SDE",
               (unsigned long)right, (unsigned long)n, maxd / s0);
    }
    free(out);
}

/* ---- determinism, streams, checkpoints ------------------------------------------------ */
static void test_determinism(void) {
    static const rdg_real X[6] = { -3, 0, 3, 0, 0, 2 };
    const size_t n = 300, d = 2, K = 200, E = 60, C = 5;   /* steps 0 60 120 180 200 */
    rdg_gmm g;
    rdg_model m;
    rdg_sample_opts o = opts0();
    rdg_real *o1 = (rdg_real *)malloc(n * d * sizeof(rdg_real));
    rdg_real *o2 = (rdg_real *)malloc(n * d * sizeof(rdg_real));
    rdg_real *tr1 = (rdg_real *)malloc(C * n * d * sizeof(rdg_real));
    rdg_real *tr2 = (rdg_real *)malloc(C * n * d * sizeof(rdg_real));
    rdg_real ti1[5], ti2[5], grid[201];
    size_t i, j;
    int ode, same;
    rdg_gmm_init(&g, X, 3, 2);
    rdg_model_exact(&m, &g);
    o.K = K; o.every = E; o.seed = 2026;
    CHECK(rdg_sample_ncheck(K, E) == C, "ncheck 200/60 = 5");
    for (ode = 0; ode <= 1; ode++) {
        const char *w = ode ? "ODE" : "SDE";
        o.ode = ode; o.seed = 2026;
#ifdef _OPENMP
        {
            int saved = omp_get_max_threads();
            omp_set_num_threads(1);
            CHECK(rdg_sample(&m, n, &o, o1, tr1, ti1) == RDG_OK, "%s 1 thread", w);
            omp_set_num_threads(2);
            CHECK(rdg_sample(&m, n, &o, o2, tr2, ti2) == RDG_OK, "%s 2 threads", w);
            omp_set_num_threads(saved);
            CHECK(memcmp(o1, o2, n * d * sizeof(rdg_real)) == 0, "%s: out bit-identical for 1 and 2 threads", w);
            CHECK(memcmp(tr1, tr2, C * n * d * sizeof(rdg_real)) == 0, "%s: traj bit-identical for 1 and 2 threads", w);
            CHECK(memcmp(ti1, ti2, sizeof ti1) == 0, "%s: times identical for 1 and 2 threads", w);
        }
#endif
        CHECK(rdg_sample(&m, n, &o, o1, tr1, ti1) == RDG_OK, "%s run 1", w);
        CHECK(rdg_sample(&m, n, &o, o2, tr2, ti2) == RDG_OK, "%s run 2", w);
        CHECK(memcmp(o1, o2, n * d * sizeof(rdg_real)) == 0, "%s: same seed, same output", w);
        CHECK(memcmp(tr1, tr2, C * n * d * sizeof(rdg_real)) == 0, "%s: same seed, same traj", w);
        /* trajectory i depends on stream (seed, i) only: a run of 37 is a prefix of the run of 300 */
        CHECK(rdg_sample(&m, 37, &o, o2, NULL, NULL) == RDG_OK, "%s n 37", w);
        CHECK(memcmp(o1, o2, 37 * d * sizeof(rdg_real)) == 0, "%s: n = 37 is a prefix of n = 300", w);
        o.seed = 2027;
        CHECK(rdg_sample(&m, n, &o, o2, NULL, NULL) == RDG_OK, "%s seed 2027", w);
        same = 0;
        for (i = 0; i < n * d; i++) same += o1[i] == o2[i];
        CHECK(same == 0, "%s: another seed gives other samples (%d equal values)", w, same);
        /* checkpoints: step 0 is the stream's first d normals, the last is out, times on the grid */
        rdg_grid_geometric(10, (rdg_real)0.005, K, grid);
        CHECK(ti1[0] == 10 && ti1[C - 1] == (rdg_real)0.005, "%s: times[0] = T, times[C-1] = t0", w);
        CHECK(ti1[1] == grid[60] && ti1[2] == grid[120] && ti1[3] == grid[180], "%s: times at steps 60, 120, 180", w);
        same = 1;
        for (i = 0; i < n; i += 41) {
            rdg_rng r;
            rdg_rng_init(&r, 2026, i);
            for (j = 0; j < d; j++) if (tr1[i * d + j] != rdg_rng_normal(&r)) same = 0;
        }
        CHECK(same, "%s: traj[0] holds the first d normals of stream (seed, i)", w);
        CHECK(memcmp(tr1 + (C - 1) * n * d, o1, n * d * sizeof(rdg_real)) == 0, "%s: traj[C-1] = out", w);
        CHECK(memcmp(tr1 + 1 * n * d, tr1 + 2 * n * d, n * d * sizeof(rdg_real)) != 0, "%s: checkpoints differ", w);
    }
    /* the ODE and the SDE start from the same draws */
    o.seed = 5; o.ode = 0;
    rdg_sample(&m, n, &o, o1, tr1, NULL);
    o.ode = 1;
    rdg_sample(&m, n, &o, o2, tr2, NULL);
    CHECK(memcmp(tr1, tr2, n * d * sizeof(rdg_real)) == 0, "SDE and ODE share y_0");
    /* K = 1, every 0 */
    o.K = 1; o.every = 0; o.ode = 0;
    CHECK(rdg_sample(&m, 5, &o, o1, tr1, ti1) == RDG_OK && ti1[0] == 10 && ti1[1] == (rdg_real)0.005,
          "K = 1 runs, times (T, t0)");
    /* custom T, t0 */
    o.K = 50; o.T = 2; o.t0 = (rdg_real)0.1; o.every = 25;
    CHECK(rdg_sample(&m, 5, &o, o1, tr1, ti1) == RDG_OK && ti1[0] == 2 && ti1[2] == (rdg_real)0.1
          && fabs((double)ti1[1] - sqrt(0.2)) < 1e-12, "custom T, t0: times (2, sqrt(0.2), 0.1)");
    free(o1); free(o2); free(tr1); free(tr2);
}

/* The exact model's batches (rdg__exact_batches, rdg__batch_range): for 1 to 5 threads and n
   from 1 to 130 and 200, 201, they tile [0, n) in order, none empty, none above the largest
   (*bs <= RDG__EXACT_BS); a whole number per thread; in units of RDG__QB (but the last) with
   sizes within one unit when there are enough units, else within one trajectory. */
static void test_batches(void) {
    static const rdg_real X[6] = { -3, 0, 3, 0, 0, 2 };
    rdg_gmm g;
    int T, bad = 0, cases = 0, saw28 = 0;
    size_t n;
    rdg_gmm_init(&g, X, 3, 2);
    for (T = 1; T <= 5; ++T) {
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(T);
#else
        if (T > 1) break;
#endif
        for (n = 1; n <= 201; n = n == 130 ? 200 : n + 1) {
            rdg__sched S;
            size_t c, next = 0, lo = (size_t)-1, hi = 0, i0, nb, t = (size_t)rdg__nthreads(n);
            memset(&S, 0, sizeof S);
            S.g = &g; S.n = n;
            S.nbatch = rdg__exact_batches(&g, n, &S.bs, &S.unit);
            ++cases;
            if (S.nbatch == 0 || S.bs > RDG__EXACT_BS || (S.nbatch % t != 0 && S.nbatch != n)
                || !(S.unit == 1 || S.unit == RDG__QB)) { ++bad; continue; }
            for (c = 0; c < S.nbatch; ++c) {
                rdg__batch_range(&S, c, &i0, &nb);
                if (i0 != next || nb == 0 || nb > S.bs || (c + 1 < S.nbatch && nb % S.unit != 0)) { ++bad; break; }
                next = i0 + nb;
                if (c + 1 < S.nbatch) { if (nb < lo) lo = nb; if (nb > hi) hi = nb; }
            }
            if (next != n || (lo != (size_t)-1 && hi - lo > S.unit)) ++bad;
            if (S.unit == 1 && (n + RDG__QB - 1) / RDG__QB >= S.nbatch) ++bad;   /* units were possible */
            if (n == 200 && T == 2) saw28 = S.unit == RDG__QB && S.bs == 28 && S.nbatch == 8;
        }
#ifdef _OPENMP
        omp_set_num_threads(saved);
#endif
    }
    CHECK(bad == 0, "exact batches: %d of %d cases do not tile n as documented", bad, cases);
#ifdef _OPENMP
    CHECK(saw28, "exact batches: 200 trajectories on two threads in 8 batches of at most 28");
#else
    (void)saw28;                    /* one thread only: no two-thread case to see */
#endif
    printf("  exact batches: %d cases\n", cases);
}

/* ---- bad input ------------------------------------------------------------------------- */
static void test_bad_input(void) {
    static const rdg_real X[4] = { -3, 0, 3, 0 };
    rdg_gmm g;
    rdg_model m, mb;
    rdg_sample_opts o = opts0();
    rdg_real out[64 * 2];
    bad_model bm;
    rdg_gmm_init(&g, X, 2, 2);
    rdg_model_exact(&m, &g);
    o.K = 10;
    CHECK(rdg_sample(NULL, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample NULL model");
    CHECK(rdg_sample(&m, 4, NULL, out, NULL, NULL) == RDG_ERR_INVALID, "sample NULL opts");
    CHECK(rdg_sample(&m, 4, &o, NULL, NULL, NULL) == RDG_ERR_INVALID, "sample NULL out");
    CHECK(rdg_sample(&m, 0, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample n 0");
    mb = m; mb.eval = NULL;
    CHECK(rdg_sample(&mb, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample eval NULL");
    mb = m; mb.d = 0;
    CHECK(rdg_sample(&mb, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample d 0");
    o.T = -1;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample T < 0");
    o.T = (rdg_real)NAN;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample T NaN");
    o.T = 0; o.t0 = (rdg_real)INFINITY;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample t0 Inf");
    o.t0 = -1;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample t0 < 0");
    o.t0 = 0; o.T = (rdg_real)0.001;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample T <= t0 (default t0)");
    o.T = 1; o.t0 = 1;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample T == t0");
    o.T = 0; o.t0 = 0; o.ode = 2;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_INVALID, "sample ode 2");
    o.ode = 0; o.K = (size_t)-1;
    CHECK(rdg_sample(&m, 4, &o, out, NULL, NULL) == RDG_ERR_OVERFLOW, "sample K overflow");
    o.K = 10;
    CHECK(rdg_sample(&m, (size_t)-1 / 2, &o, out, NULL, NULL) == RDG_ERR_OVERFLOW, "sample n*d overflow");
    /* failures inside the model reach the caller; divergence is reported, not returned as data */
    bm.d = 2; bm.mode = 0;
    mb.kind = RDG_MODEL_USER; mb.d = 2; mb.eval = bad_eval; mb.self = &bm;
    CHECK(rdg_sample(&mb, 64, &o, out, NULL, NULL) == RDG_ERR_NOMEM, "model error propagates");
    bm.mode = 1;
    CHECK(rdg_sample(&mb, 64, &o, out, NULL, NULL) == RDG_ERR_NONFINITE, "NaN from the model: NONFINITE");
    o.ode = 1;
    CHECK(rdg_sample(&mb, 64, &o, out, NULL, NULL) == RDG_ERR_NONFINITE, "NaN from the model (ODE): NONFINITE");
    bm.mode = 2; o.ode = 0;
    CHECK(rdg_sample(&mb, 64, &o, out, NULL, NULL) == RDG_OK, "a user model (m = 0) runs");
}

int main(void) {
    test_embeddings();
    test_model();
    test_ncheck();
    test_one_point();
    test_two_points();
    test_determinism();
    test_batches();
    test_bad_input();
    RDG_TEST_END("test_sampler");
}
