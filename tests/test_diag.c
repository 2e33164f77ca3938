/* Diagnostics (MATH.md 5, 7): tangent coordinates and distances at known offsets from the
   two-point ridge, and the stability table of exact-score trajectories. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <string.h>

static void offsets_two_points(void) {
    rdg_real X[4] = { -3, 0, 3, 0 };
    rdg_gmm g;
    rdg_diag_opts o;
    rdg_sample_diag sd[4];
    rdg_real zeta[4], a, s2, x[8];
    double t = 1.0;
    int i;
    memset(&o, 0, sizeof o);
    o.proj.dstar = 1;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "init");
    rdg_ou(t, &a, &s2);
    /* near the right centre: off by (dx, dy) = (0.1, 0.05), (-0.2, -0.03); near the left: (0.15, 0.1);
       between the modes: (0, 0.4) (not dominant) */
    x[0] = a * 3 + 0.1;  x[1] = 0.05;
    x[2] = a * 3 - 0.2;  x[3] = -0.03;
    x[4] = -a * 3 + 0.15; x[5] = 0.1;
    x[6] = 0;            x[7] = 0.4;
    CHECK(rdg_diag_samples(&g, t, x, 4, &o, sd, zeta) == RDG_OK, "diag_samples");
    for (i = 0; i < 4; ++i) {
        CHECK(sd[i].proj.reliable, "point %d reliable", i);
        CHECK_CLOSE(sd[i].proj.distance, fabs(x[2 * i + 1]), 1e-9, "distance = |x2|");
    }
    CHECK(sd[0].centre == 1 && sd[1].centre == 1 && sd[2].centre == 0, "dominant centres");
    CHECK(sd[0].dominant && sd[1].dominant && sd[2].dominant && !sd[3].dominant, "dominance");
    CHECK_CLOSE(sd[0].tangent_norm, 0.1, 1e-12, "tangent |zeta| right +0.1");
    CHECK_CLOSE(sd[1].tangent_norm, 0.2, 1e-12, "tangent |zeta| right -0.2");
    CHECK_CLOSE(sd[2].tangent_norm, 0.15, 1e-12, "tangent |zeta| left +0.15");
    CHECK_CLOSE(fabs(zeta[0]), 0.1, 1e-12, "zeta is the x1 offset");
    CHECK(zeta[0] * zeta[1] < 0, "zeta changes sign across the centre");
    CHECK(zeta[3] == 0 && sd[3].tangent_norm == 0, "no tangent coordinate outside D_i");
    /* small t: a lone centre's frame underflows; the leave-one-out frame still gives the x axis */
    t = 0.01; rdg_ou(t, &a, &s2);
    x[0] = a * 3 + 0.02; x[1] = 0.001;
    CHECK(rdg_diag_samples(&g, t, x, 1, &o, sd, zeta) == RDG_OK, "diag small t");
    CHECK(sd[0].dominant && sd[0].centre_weight > 1 - 1e-12, "dominant at small t");
    CHECK_CLOSE(sd[0].tangent_norm, 0.02, 1e-12, "leave-one-out tangent at t=0.01");
    CHECK(sd[0].memorised && sd[0].kind == RDG_KIND_COPY, "a point next to a centre is a copy");
    /* bad input */
    o.proj.dstar = 2;
    CHECK(rdg_diag_samples(&g, 1.0, x, 1, &o, sd, NULL) == RDG_ERR_INVALID, "dstar = d refused");
    o.proj.dstar = 1; o.eps_dom = 1;
    CHECK(rdg_diag_samples(&g, 0.3, x, 1, &o, sd, NULL) == RDG_ERR_INVALID, "eps = 1 refused");
    o.eps_dom = 0;
    CHECK(rdg_diag_samples(&g, -1, x, 1, &o, sd, NULL) == RDG_ERR_INVALID, "t < 0 refused");
    x[0] = NAN;
    CHECK(rdg_diag_samples(&g, 0.3, x, 1, &o, sd, NULL) == RDG_ERR_NONFINITE, "NaN refused");
}

/* Exact-score trajectories on the two-point data: the distance falls to a floor, and at the
   end every sample is a copy of a training point (the exact model memorises). Under the exact
   law y_2 ~ N(0, s_t^2) (p_t factorises), so the normal error E|y - pi(y)|^2 = E y_2^2 must track
   s_t^2 wherever the frame is defined; below t ~ 0.2 the two-point eigengap underflows
   (MATH.md 4) and the table reports no reliable sample instead of a number. */
static void table_exact(void) {
    rdg_real X[4] = { -3, 0, 3, 0 };
    enum { NS = 256, K = 200, E = 20 };
    size_t C = rdg_sample_ncheck(K, E), c, steps[16];
    rdg_gmm g;
    rdg_model m;
    rdg_sample_opts so;
    rdg_diag_opts o;
    rdg_stab_row rows[16];
    rdg_real out[NS * 2], traj[16 * NS * 2], times[16], reach[NS], dist[16 * NS];
    int i, reached = 0;
    CHECK(C == 11, "checkpoints %d", (int)C);
    memset(&so, 0, sizeof so); so.K = K; so.every = E; so.seed = 5;
    memset(&o, 0, sizeof o); o.proj.dstar = 1;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "init");
    CHECK(rdg_model_exact(&m, &g) == RDG_OK, "exact model");
    CHECK(rdg_sample(&m, NS, &so, out, traj, times) == RDG_OK, "sample");
    for (c = 0; c < C; ++c) steps[c] = c * E;
    CHECK(rdg_diag_table(&g, traj, C, NS, times, steps, &o, rows, dist, reach) == RDG_OK, "table");
    for (c = 0; c < C; ++c)
        printf("  step %4d t %.4f dist %.4g rel %d curv %d resid0 %.3g gap %.3g fail %d N %.3g T %.3g dom %d tube %d mem %d\n",
               (int)rows[c].step, rows[c].t, rows[c].mean_dist, (int)rows[c].reliable, (int)rows[c].curv_ok,
               rows[c].mean_resid0, rows[c].mean_gap, (int)rows[c].failures, rows[c].normal_err,
               rows[c].tangent_err, (int)rows[c].dominant, (int)rows[c].in_tube, (int)rows[c].memorised);
    CHECK(rows[0].step == 0 && rows[C - 1].step == K, "steps");
    CHECK(rows[C - 1].memorised == NS, "every final sample is a copy (%d of %d)", (int)rows[C - 1].memorised, NS);
    CHECK(rows[C - 1].dominant == NS, "every final sample is centre-dominant");
    for (c = 0; c < C; ++c) {
        rdg_real a, s2;
        double se;
        if (rows[c].reliable < (size_t)(0.9 * NS)) continue;
        rdg_ou(rows[c].t, &a, &s2);
        se = s2 * sqrt(2.0 / (double)rows[c].reliable);
        CHECK(fabs(rows[c].normal_err - s2) < 4 * se, "normal error %g vs s_t^2 %g at t %g",
              rows[c].normal_err, s2, rows[c].t);
        ++reached;
    }
    CHECK(reached >= 4, "enough checkpoints with a defined frame (%d)", reached);
    CHECK(rows[4].normal_err < 0.75 * rows[0].normal_err, "distance falls with t: %g -> %g",
          rows[0].normal_err, rows[4].normal_err);
    CHECK(rows[C - 1].reliable == 0 && rows[C - 1].mean_dist == -1, "undefined frame reported, not hidden");
    reached = 0;
    /* at the end the samples sit at a_t0 (+-3, 0): tangent error ~ s_t0^2 per sample */
    CHECK(rows[C - 1].tangent_err >= 0 && rows[C - 1].tangent_err < 0.05, "tangent error small at t0: %g",
          rows[C - 1].tangent_err);
    for (i = 0; i < NS; ++i) reached += reach[i] > 0;
    CHECK(reached > NS / 2, "most trajectories reach the tube (%d)", reached);
}

int main(void) {
    offsets_two_points();
    table_exact();
    RDG_TEST_END("test_diag");
}
