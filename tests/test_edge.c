/* Numerical edge cases through the public API: each must give an answer or a clear status,
   never a silent NaN. N = 1; duplicate data points; d = 1 (no ridge: d* < d is impossible);
   coordinates of 1e6; t = 1e-6 and t = 50; a query equidistant from two centres; vanishing
   eigengaps (repeated eigenvalues, a symmetric configuration); LM that cannot converge
   (reported, with its best point, never worse than where it started). */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <string.h>
#include <math.h>

static int finite_all(const rdg_real *v, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) if (!isfinite((double)v[i])) return 0;
    return 1;
}

static double norm(const rdg_real *v, size_t n) {
    double s = 0;
    size_t i;
    for (i = 0; i < n; ++i) s += (double)v[i] * (double)v[i];
    return sqrt(s);
}

/* Everything the density gives at B points must be finite (d <= 4, B <= 4, N <= 8). */
static void density_finite(const char *what, const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B) {
    rdg_real logp[4], w[4 * 8], mean[16], score[16], cov[64], hess[64];
    rdg_density_out o;
    rdg_status st;
    size_t d = g->d;
    o.logp = logp; o.weights = w; o.mean = mean; o.score = score; o.cov = cov; o.hess = hess;
    st = rdg_density_eval(g, t, y, B, &o);
    CHECK(st == RDG_OK, "%s: density status %s", what, rdg_status_str(st));
    if (st != RDG_OK) return;
    CHECK(finite_all(logp, B), "%s: logp not finite (%g)", what, (double)logp[0]);
    CHECK(finite_all(w, B * g->n), "%s: weights not finite", what);
    CHECK(finite_all(mean, B * d), "%s: mean not finite", what);
    CHECK(finite_all(score, B * d), "%s: score not finite", what);
    CHECK(finite_all(cov, B * d * d), "%s: cov not finite", what);
    CHECK(finite_all(hess, B * d * d), "%s: hess not finite", what);
}

/* Projection of B points (d <= 4, B <= 4): status OK, finite output and report, and for the
   points that are reported converged, a residual at the tolerance's scale. */
static void project_sane(const char *what, const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                         const rdg_project_opts *o, rdg_real *out, rdg_project_info *info) {
    rdg_status st = rdg_ridge_project(g, t, y, B, o, out, info);
    size_t b;
    CHECK(st == RDG_OK, "%s: project status %s", what, rdg_status_str(st));
    if (st != RDG_OK) return;
    CHECK(finite_all(out, B * g->d), "%s: projected point not finite", what);
    for (b = 0; b < B; ++b) {
        CHECK(isfinite((double)info[b].distance) && isfinite((double)info[b].resid0),
              "%s: point %lu: distance %g resid0 %g", what, (unsigned long)b,
              (double)info[b].distance, (double)info[b].resid0);
        CHECK(isfinite((double)info[b].resid) || !info[b].converged,
              "%s: point %lu: converged with a non-finite residual", what, (unsigned long)b);
        CHECK(isfinite((double)info[b].gap), "%s: point %lu: gap %g", what, (unsigned long)b, (double)info[b].gap);
        CHECK(!info[b].reliable || info[b].converged, "%s: reliable but not converged", what);
    }
}

/* ---- N = 1 and duplicates: p_t is one isotropic Gaussian, no direction is preferred ------ */
static void test_single_and_duplicates(void) {
    static const rdg_real X1[2] = { 0.3, -0.2 };
    static const rdg_real X3[6] = { 0.3, -0.2, 0.3, -0.2, 0.3, -0.2 };
    rdg_real y[4] = { 1.0, 0.5, 0.3, -0.2 }, out[4], J[4], r[4], gap[2], lam[4], V[8];
    rdg_project_info info[2];
    rdg_project_opts o;
    rdg_gmm g1, g3;
    rdg_real mean[4], logp1[2], logp3[2];
    rdg_density_out dout;
    rdg_status st;
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    CHECK(rdg_gmm_init(&g1, X1, 1, 2) == RDG_OK, "N = 1 init");
    CHECK(rdg_gmm_init(&g3, X3, 3, 2) == RDG_OK, "duplicates init");
    density_finite("N = 1", &g1, 0.5, y, 2);
    density_finite("duplicates", &g3, 0.5, y, 2);
    /* three copies of one point are the same density as the point itself */
    memset(&dout, 0, sizeof dout);
    dout.logp = logp1; dout.mean = mean;
    CHECK(rdg_density_eval(&g1, 0.5, y, 2, &dout) == RDG_OK, "N = 1 logp");
    dout.logp = logp3;
    CHECK(rdg_density_eval(&g3, 0.5, y, 2, &dout) == RDG_OK, "duplicates logp");
    CHECK_CLOSE(logp3[0], logp1[0], 1e-12, "duplicates: logp equals the single point's");
    CHECK_CLOSE(mean[0], 0.3, 1e-14, "duplicates: mean x");
    CHECK_CLOSE(mean[1], -0.2, 1e-14, "duplicates: mean y");
    /* the frame: H = -I/s^2, all eigenvalues equal, gap 0 */
    CHECK(rdg_ridge_frame(&g1, 0.5, y, 2, lam, V) == RDG_OK, "N = 1 frame");
    CHECK(finite_all(lam, 4) && finite_all(V, 8), "N = 1 frame finite");
    st = rdg_ridge_residual(&g1, 0.5, y, 2, 1, r, gap);
    CHECK(st == RDG_OK, "N = 1 residual status %s", rdg_status_str(st));
    CHECK(finite_all(r, 4) && finite_all(gap, 2), "N = 1 residual finite");
    CHECK(fabs((double)gap[0]) < 1e-12, "N = 1: gap %g should be 0", (double)gap[0]);
    st = rdg_ridge_jacobian(&g1, 0.5, y, 1, J);
    CHECK(st == RDG_ERR_SINGULAR, "N = 1 Jacobian: %s, expected RDG_ERR_SINGULAR (gap 0)", rdg_status_str(st));
    project_sane("N = 1 LM", &g1, 0.5, y, 2, &o, out, info);
    CHECK(!info[0].reliable, "N = 1: a projection with gap 0 must not be reported reliable");
    project_sane("duplicates LM", &g3, 0.5, y, 2, &o, out, info);
    CHECK(!info[0].reliable, "duplicates: a projection with gap 0 must not be reported reliable");
    o.method = RDG_PROJECT_SCMS;
    project_sane("N = 1 SCMS", &g1, 0.5, y, 2, &o, out, info);
    CHECK(!info[0].reliable, "N = 1 SCMS: not reliable");
}

/* ---- d = 1: densities work, every ridge call refuses (d* must be < d) -------------------- */
static void test_d1(void) {
    static const rdg_real X[3] = { -1, 0.5, 2 };
    rdg_real y[2] = { 0.1, 3 }, out[2], r[2], gap[2], J[1], lam[2], V[2];
    rdg_project_opts o;
    rdg_gmm g;
    rdg_status st;
    CHECK(rdg_gmm_init(&g, X, 3, 1) == RDG_OK, "d = 1 init");
    density_finite("d = 1", &g, 0.2, y, 2);
    CHECK(rdg_ridge_frame(&g, 0.2, y, 2, lam, V) == RDG_OK, "d = 1: the frame exists (1 x 1)");
    CHECK(finite_all(lam, 2), "d = 1: lam finite");
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    st = rdg_ridge_project(&g, 0.2, y, 2, &o, out, NULL);
    CHECK(st == RDG_ERR_INVALID, "d = 1, d* = 1: project %s, expected RDG_ERR_INVALID", rdg_status_str(st));
    o.dstar = 0;
    st = rdg_ridge_project(&g, 0.2, y, 2, &o, out, NULL);
    CHECK(st == RDG_ERR_INVALID, "d = 1, d* = 0: project %s, expected RDG_ERR_INVALID", rdg_status_str(st));
    st = rdg_ridge_residual(&g, 0.2, y, 2, 1, r, gap);
    CHECK(st == RDG_ERR_INVALID, "d = 1: residual %s, expected RDG_ERR_INVALID", rdg_status_str(st));
    st = rdg_ridge_jacobian(&g, 0.2, y, 1, J);
    CHECK(st == RDG_ERR_INVALID, "d = 1: jacobian %s, expected RDG_ERR_INVALID", rdg_status_str(st));
}

/* ---- coordinates of 1e6 ----------------------------------------------------------------- */
static void test_large_coordinates(void) {
    /* an elongated cloud around (1e6, -1e6): a clear 1-d ridge along x */
    rdg_real X[10], y[4], out[4];
    rdg_project_info info[2];
    rdg_project_opts o;
    rdg_gmm g;
    rdg_real a, s2, t = 0.01;
    int i;
    for (i = 0; i < 5; ++i) { X[2 * i] = (rdg_real)(1e6 + i); X[2 * i + 1] = (rdg_real)(-1e6 + 0.01 * (i % 2)); }
    CHECK(rdg_gmm_init(&g, X, 5, 2) == RDG_OK, "1e6 init");
    rdg_ou(t, &a, &s2);
    y[0] = a * X[4] + 0.05; y[1] = a * X[5] + 0.05;          /* near the scaled data */
    y[2] = a * X[0] - 30; y[3] = a * X[1] + 50;              /* far from it */
    density_finite("coordinates 1e6", &g, t, y, 2);
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    project_sane("coordinates 1e6 LM", &g, t, y, 2, &o, out, info);
    CHECK(info[0].converged, "coordinates 1e6: the near point converges (resid %g, iters %d)",
          (double)info[0].resid, info[0].iters);
    CHECK(fabs((double)out[1] - (double)y[1]) < 0.2, "coordinates 1e6: the projection stays near (moved %g in y)",
          fabs((double)out[1] - (double)y[1]));
}

/* ---- t = 1e-6 and t = 50 ---------------------------------------------------------------- */
static void test_extreme_times(void) {
    static const rdg_real X[8] = { 0, 0, 1, 0, 2, 0.05, 3, 0 };
    rdg_real y[4] = { 1.4, 0.3, 10, -7 }, out[4], logp[2], mean[4];
    rdg_project_info info[2];
    rdg_project_opts o;
    rdg_density_out dout;
    rdg_gmm g;
    rdg_real a, s2;
    int b;
    CHECK(rdg_gmm_init(&g, X, 4, 2) == RDG_OK, "times init");
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    /* t = 1e-6: weights one-hot, the query far from the data in units of s_t */
    density_finite("t = 1e-6", &g, (rdg_real)1e-6, y, 2);
    project_sane("t = 1e-6 LM", &g, (rdg_real)1e-6, y, 2, &o, out, info);
    o.method = RDG_PROJECT_SCMS;
    project_sane("t = 1e-6 SCMS", &g, (rdg_real)1e-6, y, 2, &o, out, info);
    /* t = 50: a_t = e^-50, p_t is N(0, I) to double precision */
    density_finite("t = 50", &g, 50, y, 2);
    memset(&dout, 0, sizeof dout);
    dout.logp = logp; dout.mean = mean;
    CHECK(rdg_density_eval(&g, 50, y, 2, &dout) == RDG_OK, "t = 50 logp");
    rdg_ou(50, &a, &s2);
    for (b = 0; b < 2; ++b) {
        double yy = (double)y[2 * b] * y[2 * b] + (double)y[2 * b + 1] * y[2 * b + 1];
        CHECK_CLOSE(logp[b], -0.5 * yy - log(2 * 3.14159265358979323846), 1e-12, "t = 50: logp is log N(y; 0, I)");
    }
    CHECK(fabs((double)mean[0] - 1.5) < 0.1, "t = 50: mean tends to the data mean (%g)", (double)mean[0]);
    o.method = RDG_PROJECT_LM;
    project_sane("t = 50 LM", &g, 50, y, 2, &o, out, info);
    /* the frame is resolved to a_t^2 |C| ~ 1e-44: nothing at t = 50 can be reliable */
    CHECK(!info[0].reliable && !info[1].reliable, "t = 50: the projection must not be reported reliable");
}

/* ---- a query equidistant from two centres ------------------------------------------------ */
static void test_equidistant(void) {
    static const rdg_real X[4] = { -1, 0, 1, 0 };
    rdg_real y[4] = { 0, 0.5, 0, 0 }, out[4], w[4], r[4], gap[2];
    rdg_project_info info[2];
    rdg_project_opts o;
    rdg_density_out dout;
    rdg_gmm g;
    rdg_real t = 0.05;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "two centres init");
    density_finite("equidistant", &g, t, y, 2);
    memset(&dout, 0, sizeof dout);
    dout.weights = w;
    CHECK(rdg_density_eval(&g, t, y, 2, &dout) == RDG_OK, "equidistant weights");
    CHECK(w[0] == w[1] && fabs((double)w[0] - 0.5) < 1e-15, "equidistant: weights %g %g", (double)w[0], (double)w[1]);
    CHECK(rdg_ridge_residual(&g, t, y, 2, 1, r, gap) == RDG_OK, "equidistant residual");
    CHECK(finite_all(r, 4) && finite_all(gap, 2), "equidistant residual finite");
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    project_sane("equidistant LM", &g, t, y, 2, &o, out, info);
    /* the ridge through the saddle is the x axis: (0, 0.5) projects to (0, 0) */
    CHECK(info[0].converged, "equidistant: converged (resid %g)", (double)info[0].resid);
    CHECK(fabs((double)out[0]) < 1e-8 && fabs((double)out[1]) < 1e-8, "equidistant: (0, 0.5) -> (%g, %g), expected (0, 0)",
          (double)out[0], (double)out[1]);
    CHECK(fabs((double)out[2]) < 1e-12 && fabs((double)out[3]) < 1e-12, "equidistant: the saddle (0, 0) stays");
    CHECK_CLOSE(info[0].distance, 0.5, 1e-8, "equidistant: distance");
}

/* ---- vanishing eigengaps ---------------------------------------------------------------- */
static void test_vanishing_gaps(void) {
    /* repeated eigenvalues in rdg_eigh: exact values, orthonormal vectors */
    rdg_real A[9] = { 2, 0, 0, 0, 2, 0, 0, 0, 1 }, w[3], V[9];
    static const rdg_real S[8] = { 1, 1, 1, -1, -1, 1, -1, -1 };     /* square: C = I */
    rdg_real y[2] = { 0, 0 }, out[2], r[2], gap[1], J[4];
    rdg_project_info info[1];
    rdg_project_opts o;
    rdg_gmm g;
    rdg_status st;
    int i, j, k;
    CHECK(rdg_eigh(A, 3, w, V, NULL) == RDG_OK, "eigh repeated");
    CHECK(w[0] == 2 && w[1] == 2 && w[2] == 1, "eigh repeated: %g %g %g", (double)w[0], (double)w[1], (double)w[2]);
    for (i = 0; i < 3; ++i)
        for (j = 0; j < 3; ++j) {
            double s = 0;
            for (k = 0; k < 3; ++k) s += (double)V[k * 3 + i] * V[k * 3 + j];
            CHECK(fabs(s - (i == j)) < 1e-14, "eigh repeated: V^T V [%d][%d] = %g", i, j, s);
        }
    for (i = 0; i < 9; ++i) A[i] = 0;   /* the zero matrix */
    CHECK(rdg_eigh(A, 3, w, V, NULL) == RDG_OK && w[0] == 0 && w[2] == 0, "eigh of zero");
    /* the centre of a square of data: C = I, every direction equivalent, gap 0 */
    CHECK(rdg_gmm_init(&g, S, 4, 2) == RDG_OK, "square init");
    CHECK(rdg_ridge_residual(&g, 0.3, y, 1, 1, r, gap) == RDG_OK, "square residual");
    CHECK(finite_all(r, 2) && fabs((double)gap[0]) < 1e-12, "square: gap %g should be 0", (double)gap[0]);
    st = rdg_ridge_jacobian(&g, 0.3, y, 1, J);
    CHECK(st == RDG_ERR_SINGULAR, "square centre Jacobian: %s, expected RDG_ERR_SINGULAR", rdg_status_str(st));
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    project_sane("square centre LM", &g, 0.3, y, 1, &o, out, info);
    CHECK(!info[0].reliable, "square centre: gap 0, must not be reliable");
}

/* ---- LM that cannot converge: reported, best point returned ------------------------------ */
static void test_not_converged(void) {
    /* a curved arc; one LM iteration and no SCMS warm start cannot reach the tolerance */
    rdg_real X[24], y[4] = { 1.0, 1.3, 2.2, -0.4 }, out[4], r[4], chk[4];
    rdg_project_info info[2];
    rdg_project_opts o;
    rdg_gmm g;
    rdg_real t = 0.1;
    int i, b;
    for (i = 0; i < 12; ++i) { rdg_real s = (rdg_real)i / 4; X[2 * i] = s; X[2 * i + 1] = (rdg_real)0.3 * s * s; }
    CHECK(rdg_gmm_init(&g, X, 12, 2) == RDG_OK, "arc init");
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    o.max_iter = 1;
    o.scms_iter = 1;
    o.rtol = (rdg_real)1e-15;
    project_sane("LM max_iter 1", &g, t, y, 2, &o, out, info);
    CHECK(rdg_ridge_residual(&g, t, out, 2, 1, r, NULL) == RDG_OK, "residual at the best points");
    for (b = 0; b < 2; ++b) {
        CHECK(!info[b].converged, "LM max_iter 1: point %d reported converged (resid %g)", b, (double)info[b].resid);
        CHECK(info[b].resid <= info[b].resid0 * (1 + 1e-12), "LM max_iter 1: point %d best point worse than the start (%g > %g)",
              b, (double)info[b].resid, (double)info[b].resid0);
        CHECK_CLOSE(info[b].resid, norm(r + 2 * b, 2), 1e-9, "LM: reported resid is |r| at the returned point");
        chk[2 * b] = out[2 * b] - y[2 * b]; chk[2 * b + 1] = out[2 * b + 1] - y[2 * b + 1];
        CHECK_CLOSE(info[b].distance, norm(chk + 2 * b, 2), 1e-12, "LM: reported distance");
    }
    o.method = RDG_PROJECT_SCMS;
    project_sane("SCMS scms_iter 1", &g, t, y, 2, &o, out, info);
    CHECK(!info[0].converged && !info[1].converged, "SCMS scms_iter 1: reported not converged");
}

/* ---- invalid times are statuses, not NaN ------------------------------------------------ */
static void test_bad_times(void) {
    static const rdg_real X[4] = { 0, 0, 1, 1 };
    rdg_real y[2] = { 0.5, 0.5 }, logp[1], out[2];
    rdg_density_out dout;
    rdg_project_opts o;
    rdg_gmm g;
    double zero = 0;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "bad times init");
    memset(&dout, 0, sizeof dout);
    dout.logp = logp;
    CHECK(rdg_density_eval(&g, 0, y, 1, &dout) == RDG_ERR_INVALID, "t = 0 refused");
    CHECK(rdg_density_eval(&g, (rdg_real)(zero / zero), y, 1, &dout) == RDG_ERR_INVALID, "t = NaN refused");
    CHECK(rdg_density_eval(&g, (rdg_real)(1 / zero), y, 1, &dout) == RDG_ERR_INVALID, "t = Inf refused");
    y[1] = (rdg_real)(zero / zero);
    CHECK(rdg_density_eval(&g, 1, y, 1, &dout) == RDG_ERR_NONFINITE, "NaN query refused");
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    CHECK(rdg_ridge_project(&g, 1, y, 1, &o, out, NULL) == RDG_ERR_NONFINITE, "NaN query refused by project");
}

int main(void) {
    test_single_and_duplicates();
    test_d1();
    test_large_coordinates();
    test_extreme_times();
    test_equidistant();
    test_vanishing_gaps();
    test_not_converged();
    test_bad_times();
    RDG_TEST_END("test_edge");
}
