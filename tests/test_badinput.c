/* Bad input everywhere: each case gets its documented status and no crash (run it under ASan
   too). The status codes are those in the API comments of ridgediff.h. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>

#define EXPECT(call, want) do {                                                        \
    rdg_status st_ = (call);                                                           \
    CHECK(st_ == (want), "%s -> %d (%s), want %d (%s)", #call, (int)st_,               \
          rdg_status_str(st_), (int)(want), rdg_status_str(want));                     \
} while (0)

static const double X2[8] = { -1, 0, 1, 0, 0, 1, 0.5, -0.5 }; /* 4 points in R^2 */

static void test_gmm_init(void) {
    rdg_gmm g;
    double bad[8];
    memset(&g, 0, sizeof g);
    EXPECT(rdg_gmm_init(&g, X2, 0, 2), RDG_ERR_INVALID);
    CHECK(!g.valid, "failed init leaves a valid view");
    EXPECT(rdg_gmm_init(&g, X2, 4, 0), RDG_ERR_INVALID);
    EXPECT(rdg_gmm_init(&g, NULL, 4, 2), RDG_ERR_INVALID);
    EXPECT(rdg_gmm_init(NULL, X2, 4, 2), RDG_ERR_INVALID);
    memcpy(bad, X2, sizeof bad);
    bad[5] = NAN;
    EXPECT(rdg_gmm_init(&g, bad, 4, 2), RDG_ERR_NONFINITE);
    CHECK(!g.valid, "init with NaN leaves a valid view");
    bad[5] = INFINITY;
    EXPECT(rdg_gmm_init(&g, bad, 4, 2), RDG_ERR_NONFINITE);
    bad[5] = -INFINITY;
    EXPECT(rdg_gmm_init(&g, bad, 4, 2), RDG_ERR_NONFINITE);
    bad[5] = 0;
    bad[7] = NAN; /* the very last element */
    EXPECT(rdg_gmm_init(&g, bad, 4, 2), RDG_ERR_NONFINITE);
    /* N * d overflows: must be refused before the data are read */
    EXPECT(rdg_gmm_init(&g, X2, SIZE_MAX / 2 + 2, 2), RDG_ERR_OVERFLOW);
    EXPECT(rdg_gmm_init(&g, X2, 2, SIZE_MAX / 2 + 2), RDG_ERR_OVERFLOW);
    /* a good init, then scale */
    EXPECT(rdg_gmm_init(&g, X2, 4, 2), RDG_OK);
    CHECK(g.valid && g.n == 4 && g.d == 2 && g.x == X2, "init fields");
    CHECK(g.scale == 1.0, "scale = max |x_ij| = 1, got %g", g.scale);
    CHECK(g.drop == 40.0, "default drop %g", g.drop);
}

static void test_unvalidated_view(void) {
    rdg_gmm z, gfail;
    double y[2] = { 0.1, 0.2 }, out[8], lam[2], V[4], r[2], gap, J[4], lp;
    double u[2] = { 1, 0 };
    rdg_density_out o;
    rdg_project_opts po;
    rdg_project_info info;
    double *tr = NULL;
    size_t nt = 7;
    memset(&z, 0, sizeof z);
    memset(&o, 0, sizeof o);
    o.logp = &lp;
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    EXPECT(rdg_density_eval(&z, 0.5, y, 1, &o), RDG_ERR_INVALID);
    EXPECT(rdg_density_d3(&z, 0.5, y, u, u, out), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_frame(&z, 0.5, y, 1, lam, V), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_residual(&z, 0.5, y, 1, 1, r, &gap), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_jacobian(&z, 0.5, y, 1, J), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&z, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_trace(&z, 0.5, y, 1, &po, 0, &tr, &nt), RDG_ERR_INVALID);
    /* a zeroed struct with plausible fields filled in by hand is still not validated */
    z.x = X2;
    z.n = 4;
    z.d = 2;
    z.drop = 40;
    z.scale = 1;
    EXPECT(rdg_density_eval(&z, 0.5, y, 1, &o), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&z, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    /* a view whose init failed */
    memset(&gfail, 0, sizeof gfail);
    rdg_gmm_init(&gfail, X2, 0, 2);
    EXPECT(rdg_density_eval(&gfail, 0.5, y, 1, &o), RDG_ERR_INVALID);
    /* NULL view */
    EXPECT(rdg_density_eval(NULL, 0.5, y, 1, &o), RDG_ERR_INVALID);
    EXPECT(rdg_density_d3(NULL, 0.5, y, u, u, out), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_frame(NULL, 0.5, y, 1, lam, V), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_residual(NULL, 0.5, y, 1, 1, r, &gap), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_jacobian(NULL, 0.5, y, 1, J), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(NULL, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_trace(NULL, 0.5, y, 1, &po, 0, &tr, &nt), RDG_ERR_INVALID);
}

static void test_times_and_points(void) {
    rdg_gmm g;
    double y[4] = { 0.1, 0.2, 0.3, -0.1 }, yb[4], lp[2], m[4], lam[4], V[8], r[4], gap[2], J[4],
        out[4], u[2] = { 1, 0 }, d3[2];
    const double bad_t[5] = { 0.0, -1.0, NAN, INFINITY, -INFINITY };
    const double bad_y[3] = { NAN, INFINITY, -INFINITY };
    rdg_density_out o;
    rdg_project_opts po;
    rdg_project_info info[2];
    size_t i;
    EXPECT(rdg_gmm_init(&g, X2, 4, 2), RDG_OK);
    memset(&o, 0, sizeof o);
    o.logp = lp;
    o.mean = m;
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    for (i = 0; i < 5; i++) {
        double t = bad_t[i];
        double *tr = NULL;
        size_t nt = 0;
        CHECK(rdg_density_eval(&g, t, y, 2, &o) == RDG_ERR_INVALID, "density_eval t=%g", t);
        CHECK(rdg_density_d3(&g, t, y, u, u, d3) == RDG_ERR_INVALID, "density_d3 t=%g", t);
        CHECK(rdg_ridge_frame(&g, t, y, 2, lam, V) == RDG_ERR_INVALID, "ridge_frame t=%g", t);
        CHECK(rdg_ridge_residual(&g, t, y, 2, 1, r, gap) == RDG_ERR_INVALID, "ridge_residual t=%g", t);
        CHECK(rdg_ridge_jacobian(&g, t, y, 1, J) == RDG_ERR_INVALID, "ridge_jacobian t=%g", t);
        CHECK(rdg_ridge_project(&g, t, y, 2, &po, out, info) == RDG_ERR_INVALID, "ridge_project t=%g", t);
        CHECK(rdg_ridge_trace(&g, t, y, 2, &po, 0, &tr, &nt) == RDG_ERR_INVALID, "ridge_trace t=%g", t);
        rdg_free(tr);
    }
    /* NaN / Inf in the second of two query points */
    for (i = 0; i < 3; i++) {
        double *tr = NULL;
        size_t nt = 0;
        memcpy(yb, y, sizeof yb);
        yb[3] = bad_y[i];
        CHECK(rdg_density_eval(&g, 0.5, yb, 2, &o) == RDG_ERR_NONFINITE, "density_eval y=%g", yb[3]);
        CHECK(rdg_density_d3(&g, 0.5, yb + 2, u, u, d3) == RDG_ERR_NONFINITE, "density_d3 y=%g", yb[3]);
        CHECK(rdg_ridge_frame(&g, 0.5, yb, 2, lam, V) == RDG_ERR_NONFINITE, "ridge_frame y=%g", yb[3]);
        CHECK(rdg_ridge_residual(&g, 0.5, yb, 2, 1, r, gap) == RDG_ERR_NONFINITE, "ridge_residual y=%g", yb[3]);
        CHECK(rdg_ridge_jacobian(&g, 0.5, yb + 2, 1, J) == RDG_ERR_NONFINITE, "ridge_jacobian y=%g", yb[3]);
        CHECK(rdg_ridge_project(&g, 0.5, yb, 2, &po, out, info) == RDG_ERR_NONFINITE, "ridge_project y=%g", yb[3]);
        CHECK(rdg_ridge_trace(&g, 0.5, yb, 2, &po, 0, &tr, &nt) == RDG_ERR_NONFINITE, "ridge_trace y=%g", yb[3]);
        rdg_free(tr);
    }
    /* NULL points, B = 0, NULL outputs that are required */
    EXPECT(rdg_density_eval(&g, 0.5, NULL, 2, &o), RDG_ERR_INVALID);
    EXPECT(rdg_density_eval(&g, 0.5, y, 0, &o), RDG_ERR_INVALID);
    {   /* out == NULL is not documented either way: no crash, and no other status */
        rdg_status st = rdg_density_eval(&g, 0.5, y, 2, NULL);
        CHECK(st == RDG_ERR_INVALID || st == RDG_OK, "density_eval out=NULL: status %d", (int)st);
    }
    EXPECT(rdg_density_d3(&g, 0.5, NULL, u, u, d3), RDG_ERR_INVALID);
    EXPECT(rdg_density_d3(&g, 0.5, y, NULL, u, d3), RDG_ERR_INVALID);
    EXPECT(rdg_density_d3(&g, 0.5, y, u, NULL, d3), RDG_ERR_INVALID);
    EXPECT(rdg_density_d3(&g, 0.5, y, u, u, NULL), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_frame(&g, 0.5, NULL, 2, lam, V), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_frame(&g, 0.5, y, 0, lam, V), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_frame(&g, 0.5, y, 2, NULL, V), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_frame(&g, 0.5, y, 2, lam, NULL), RDG_OK); /* V may be NULL */
    EXPECT(rdg_ridge_residual(&g, 0.5, NULL, 2, 1, r, gap), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_residual(&g, 0.5, y, 0, 1, r, gap), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_residual(&g, 0.5, y, 2, 1, NULL, gap), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_residual(&g, 0.5, y, 2, 1, r, NULL), RDG_OK); /* gap may be NULL */
    EXPECT(rdg_ridge_jacobian(&g, 0.5, NULL, 1, J), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_jacobian(&g, 0.5, y, 1, NULL), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&g, 0.5, NULL, 2, &po, out, info), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&g, 0.5, y, 0, &po, out, info), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&g, 0.5, y, 2, NULL, out, info), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&g, 0.5, y, 2, &po, NULL, info), RDG_ERR_INVALID);
    EXPECT(rdg_ridge_project(&g, 0.5, y, 2, &po, out, NULL), RDG_OK); /* info may be NULL */
    {
        double *tr = NULL;
        size_t nt = 0;
        EXPECT(rdg_ridge_trace(&g, 0.5, NULL, 2, &po, 0, &tr, &nt), RDG_ERR_INVALID);
        EXPECT(rdg_ridge_trace(&g, 0.5, y, 2, NULL, 0, &tr, &nt), RDG_ERR_INVALID);
        EXPECT(rdg_ridge_trace(&g, 0.5, y, 2, &po, 0, NULL, &nt), RDG_ERR_INVALID);
        EXPECT(rdg_ridge_trace(&g, 0.5, y, 2, &po, 0, &tr, NULL), RDG_ERR_INVALID);
        rdg_free(tr);
    }
    /* a point far from everything at a tiny t is not an error */
    {
        double yf[2] = { 1e4, -3e3 };
        memset(&o, 0, sizeof o);
        o.logp = lp;
        EXPECT(rdg_density_eval(&g, 1e-6, yf, 1, &o), RDG_OK);
        CHECK(isfinite(lp[0]), "far point logp %g", lp[0]);
    }
}

static void test_dstar_and_options(void) {
    rdg_gmm g, g3;
    double y[2] = { 0.1, 0.2 }, y3[3] = { 0.1, 0.2, 0.3 }, r[3], J[9], out[3];
    const double X3[12] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    rdg_project_opts po;
    rdg_project_info info;
    size_t ds;
    EXPECT(rdg_gmm_init(&g, X2, 4, 2), RDG_OK);
    EXPECT(rdg_gmm_init(&g3, X3, 4, 3), RDG_OK);
    /* d* = 0 and d* >= d */
    for (ds = 0; ds <= 4; ds++) {
        int good2 = ds >= 1 && ds < 2, good3 = ds >= 1 && ds < 3;
        double *tr = NULL;
        size_t nt = 0;
        memset(&po, 0, sizeof po);
        po.dstar = ds;
        CHECK((rdg_ridge_residual(&g, 0.5, y, 1, ds, r, NULL) == RDG_OK) == good2 &&
                  (good2 || rdg_ridge_residual(&g, 0.5, y, 1, ds, r, NULL) == RDG_ERR_INVALID),
              "ridge_residual d=2 d*=%zu", ds);
        CHECK((rdg_ridge_residual(&g3, 0.5, y3, 1, ds, r, NULL) == RDG_OK) == good3 &&
                  (good3 || rdg_ridge_residual(&g3, 0.5, y3, 1, ds, r, NULL) == RDG_ERR_INVALID),
              "ridge_residual d=3 d*=%zu", ds);
        if (!good3) {
            EXPECT(rdg_ridge_jacobian(&g3, 0.5, y3, ds, J), RDG_ERR_INVALID);
            EXPECT(rdg_ridge_project(&g3, 0.5, y3, 1, &po, out, &info), RDG_ERR_INVALID);
            EXPECT(rdg_ridge_trace(&g3, 0.5, y3, 1, &po, 0, &tr, &nt), RDG_ERR_INVALID);
        }
        if (!good2) {
            EXPECT(rdg_ridge_jacobian(&g, 0.5, y, ds, J), RDG_ERR_INVALID);
            EXPECT(rdg_ridge_project(&g, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
        }
        rdg_free(tr);
    }
    /* beta < 0 or not finite, unknown method */
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    po.beta = -1;
    EXPECT(rdg_ridge_project(&g, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    po.beta = NAN;
    EXPECT(rdg_ridge_project(&g, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    po.beta = INFINITY;
    EXPECT(rdg_ridge_project(&g, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    po.beta = 0;
    po.method = 7;
    EXPECT(rdg_ridge_project(&g, 0.5, y, 1, &po, out, &info), RDG_ERR_INVALID);
    po.method = RDG_PROJECT_SCMS;
    EXPECT(rdg_ridge_project(&g, 0.5, y, 1, &po, out, &info), RDG_OK);
    /* one data point: the frame is undefined everywhere; the Jacobian says so and a projection
       is reported, not hidden */
    {
        const double X1[2] = { 0.3, -0.2 };
        rdg_gmm g1;
        double y1[2] = { 0.5, 0.5 }, p[2], gap = -1;
        EXPECT(rdg_gmm_init(&g1, X1, 1, 2), RDG_OK);
        EXPECT(rdg_ridge_jacobian(&g1, 0.5, y1, 1, J), RDG_ERR_SINGULAR);
        EXPECT(rdg_ridge_residual(&g1, 0.5, y1, 1, 1, r, &gap), RDG_OK);
        CHECK(gap == 0.0, "single point: gap %g, want 0", gap);
        memset(&po, 0, sizeof po);
        po.dstar = 1;
        EXPECT(rdg_ridge_project(&g1, 0.5, y1, 1, &po, p, &info), RDG_OK);
        CHECK(info.reliable == 0, "single point: projection reported reliable");
        CHECK(isfinite(p[0]) && isfinite(p[1]), "single point: non-finite output");
        po.method = RDG_PROJECT_SCMS;
        EXPECT(rdg_ridge_project(&g1, 0.5, y1, 1, &po, p, &info), RDG_OK);
        CHECK(info.reliable == 0, "single point SCMS: projection reported reliable");
        CHECK(isfinite(p[0]) && isfinite(p[1]), "single point SCMS: non-finite output");
    }
    /* d = 1: no d* is valid */
    {
        const double X1d[3] = { -1, 0, 2 };
        rdg_gmm g1;
        double y1 = 0.3;
        EXPECT(rdg_gmm_init(&g1, X1d, 3, 1), RDG_OK);
        EXPECT(rdg_ridge_residual(&g1, 0.5, &y1, 1, 1, r, NULL), RDG_ERR_INVALID);
        memset(&po, 0, sizeof po);
        po.dstar = 1;
        EXPECT(rdg_ridge_project(&g1, 0.5, &y1, 1, &po, out, &info), RDG_ERR_INVALID);
    }
}

static void test_linalg_and_misc(void) {
    double A[4] = { 1, 0, 0, 1 }, w[2], t[4];
    size_t piv[2];
    rdg_rng r;
    int i;
    EXPECT(rdg_eigh(NULL, 2, w, NULL, NULL), RDG_ERR_INVALID);
    EXPECT(rdg_eigh(A, 0, w, NULL, NULL), RDG_ERR_INVALID);
    EXPECT(rdg_lu_factor(A, 0, piv), RDG_ERR_INVALID);
    EXPECT(rdg_grid_geometric(1, 0, 3, t), RDG_ERR_INVALID);
    EXPECT(rdg_grid_uniform(1, 2, 3, t), RDG_ERR_INVALID);
    EXPECT(rdg_grid_uniform(NAN, 0.1, 3, t), RDG_ERR_INVALID);
    /* rng: uniform strictly inside (0,1), normals finite, streams differ, seeding reproducible */
    {
        rdg_rng r2, r3;
        int inside = 1, finite = 1, same = 1, differ = 0;
        rdg_rng_init(&r, 1, 0);
        rdg_rng_init(&r2, 1, 0);
        rdg_rng_init(&r3, 1, 1);
        for (i = 0; i < 20000; i++) {
            double u = rdg_rng_uniform(&r), n = rdg_rng_normal(&r);
            unsigned long long a = rdg_rng_u64(&r2), b = rdg_rng_u64(&r3);
            if (!(u > 0 && u < 1)) inside = 0;
            if (!isfinite(n)) finite = 0;
            if (a != b) differ = 1;
        }
        CHECK(inside, "rng_uniform outside (0,1)");
        CHECK(finite, "rng_normal not finite");
        CHECK(differ, "streams 0 and 1 identical");
        rdg_rng_init(&r, 5, 3);
        rdg_rng_init(&r2, 5, 3);
        for (i = 0; i < 100; i++)
            if (rdg_rng_normal(&r) != rdg_rng_normal(&r2)) same = 0;
        CHECK(same, "same seed and stream give different numbers");
    }
    /* normal moments (loose: 1e5 draws) */
    {
        double s1 = 0, s2 = 0, n = 100000;
        rdg_rng_init(&r, 2024, 0);
        for (i = 0; i < (int)n; i++) {
            double z = rdg_rng_normal(&r);
            s1 += z;
            s2 += z * z;
        }
        CHECK(fabs(s1 / n) < 0.015 && fabs(s2 / n - 1) < 0.02, "normal mean %g var %g", s1 / n, s2 / n);
    }
}

static void test_status_str(void) {
    int c;
    const char *unknown = rdg_status_str((rdg_status)-1000);
    CHECK(unknown != NULL && unknown[0] != 0, "status_str(unknown) empty");
    for (c = 0; c >= -11; c--) {
        const char *s = rdg_status_str((rdg_status)c);
        int d;
        CHECK(s != NULL && s[0] != 0, "status_str(%d) empty", c);
        if (!s || !unknown) continue;
        CHECK(strcmp(s, unknown) != 0, "status_str(%d) = unknown status (%s)", c, s);
        for (d = 0; d > c; d--)
            CHECK(strcmp(s, rdg_status_str((rdg_status)d)) != 0, "status_str(%d) == status_str(%d)", c, d);
    }
    {
        const int others[5] = { 1, 42, -12, -13, -2147483647 };
        for (c = 0; c < 5; c++) {
            const char *s = rdg_status_str((rdg_status)others[c]);
            CHECK(s != NULL && s[0] != 0, "status_str(%d) empty", others[c]);
        }
    }
    CHECK(strcmp(rdg_version_string(), RDG_VERSION_STRING) == 0, "version string %s",
          rdg_version_string());
}

int main(void) {
    test_gmm_init();
    test_unvalidated_view();
    test_times_and_points();
    test_dstar_and_options();
    test_linalg_and_misc();
    test_status_str();
    RDG_TEST_END("test_badinput");
}
