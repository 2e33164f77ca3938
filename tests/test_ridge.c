/* Unit tests for the ridge machinery (MATH.md 3-4): frame, residual, Jacobian, LM and SCMS
   projection, trace. Every claim about an output point is re-checked by evaluating the
   residual and the frame at that point here, never by trusting rdg_project_info alone. */
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
#define MAXN 128
#define RDG_T_PI 3.14159265358979323846

static double vnorm(const double *v, size_t n) {
    double s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += v[i] * v[i];
    return sqrt(s);
}
static double vdist(const double *a, const double *b, size_t n) {
    double s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* own evaluation at one point: |r|, gap, lam (descending), V (columns) */
typedef struct {
    double r[MAXD], rn, gap, lam[MAXD], V[MAXD * MAXD];
    int ok;
} pt_eval;

static void eval_point(const rdg_gmm *g, double t, const double *y, size_t dstar, pt_eval *e) {
    e->ok = rdg_ridge_residual(g, t, y, 1, dstar, e->r, &e->gap) == RDG_OK &&
            rdg_ridge_frame(g, t, y, 1, e->lam, e->V) == RDG_OK;
    e->rn = e->ok ? vnorm(e->r, g->d) : NAN;
}

/* clustered data: k clusters of m points, centres ~ N(0, 4 I), spread 0.3 */
static void make_clusters(double *X, size_t k, size_t m, size_t d, unsigned long long seed) {
    rdg_rng r;
    size_t c, i, j;
    double cen[MAXD];
    rdg_rng_init(&r, seed, 1);
    for (c = 0; c < k; c++) {
        for (j = 0; j < d; j++) cen[j] = 2.0 * rdg_rng_normal(&r);
        for (i = 0; i < m; i++)
            for (j = 0; j < d; j++) X[(c * m + i) * d + j] = cen[j] + 0.3 * rdg_rng_normal(&r);
    }
}

/* ---- Jacobian against finite differences of the residual -------------------------------- */
static void test_jacobian(void) {
    size_t d, tested = 0, skipped = 0;
    double worst = 0;
    for (d = 3; d <= 6; d++) {
        double X[MAXN * MAXD];
        size_t N = 12, dstar, q;
        const double ts[2] = { 0.2, 1.0 };
        size_t ti;
        rdg_gmm g;
        rdg_rng r;
        make_clusters(X, 3, 4, d, 40 + d);
        CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
        rdg_rng_init(&r, 17, d);
        for (ti = 0; ti < 2; ti++) {
            double t = ts[ti], a, s2, s, h;
            rdg_ou(t, &a, &s2);
            s = sqrt(s2);
            h = 1e-3 * s;
            for (dstar = 1; dstar <= 2; dstar++)
                for (q = 0; q < 8; q++) {
                    double y[MAXD], J[MAXD * MAXD], Jfd[MAXD * MAXD], yy[MAXD], rr[4][MAXD], e,
                        dn = 0, jn = 0;
                    const double off[4] = { -2, -1, 1, 2 };
                    size_t i, j, k, st;
                    pt_eval pe;
                    rdg_status stt;
                    int gap_ok;
                    for (j = 0; j < d; j++)
                        y[j] = a * X[(q % N) * d + j] + 0.6 * s * rdg_rng_normal(&r);
                    eval_point(&g, t, y, dstar, &pe);
                    if (!pe.ok) { CHECK(0, "residual/frame failed"); continue; }
                    /* healthy eigengaps: all gaps adjacent to the split, relative to the spread */
                    gap_ok = (pe.lam[dstar - 1] - pe.lam[dstar]) >
                             0.05 * (pe.lam[0] - pe.lam[d - 1]);
                    CHECK(fabs(pe.gap - (pe.lam[dstar - 1] - pe.lam[dstar])) <=
                              1e-10 * fabs(pe.lam[d - 1]),
                          "residual gap %.17g vs frame lam gap %.17g", pe.gap,
                          pe.lam[dstar - 1] - pe.lam[dstar]);
                    if (!gap_ok) { skipped++; continue; }
                    stt = rdg_ridge_jacobian(&g, t, y, dstar, J);
                    CHECK(stt == RDG_OK, "jacobian status %d", (int)stt);
                    if (stt != RDG_OK) continue;
                    for (k = 0; k < d; k++) {
                        for (st = 0; st < 4; st++) {
                            memcpy(yy, y, d * sizeof *y);
                            yy[k] += off[st] * h;
                            rdg_ridge_residual(&g, t, yy, 1, dstar, rr[st], NULL);
                        }
                        for (i = 0; i < d; i++)
                            Jfd[i * d + k] =
                                (rr[0][i] - 8 * rr[1][i] + 8 * rr[2][i] - rr[3][i]) / (12 * h);
                    }
                    for (i = 0; i < d * d; i++) {
                        dn += (J[i] - Jfd[i]) * (J[i] - Jfd[i]);
                        jn += Jfd[i] * Jfd[i];
                    }
                    e = sqrt(dn / jn);
                    if (e > worst) worst = e;
                    tested++;
                    CHECK(e < 1e-6, "jacobian vs FD: d=%zu d*=%zu t=%g q=%zu rel err %.3g "
                          "(rel gap %.3g)", d, dstar, t, q, e,
                          (pe.lam[dstar - 1] - pe.lam[dstar]) / (pe.lam[0] - pe.lam[d - 1]));
                }
        }
    }
    CHECK(tested >= 40, "only %zu jacobian points had a healthy gap (%zu skipped)", tested, skipped);
    printf("ok jacobian: %zu points, worst rel err %.3g (%zu skipped for small gap)\n", tested,
           worst, skipped);
}

/* ---- frame eigenvalues vs eig of the Hessian ---------------------------------------------- */
static void test_frame(void) {
    size_t d = 5, N = 24, q;
    double X[MAXN * MAXD];
    rdg_gmm g;
    rdg_rng r;
    const double ts[4] = { 0.01, 0.1, 1.0, 4.0 };
    double worst = 0, worst_vec = 0;
    make_clusters(X, 3, 8, d, 77);
    CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
    rdg_rng_init(&r, 4, 4);
    for (q = 0; q < 24; q++) {
        double t = ts[q % 4], a, s2, y[MAXD], H[MAXD * MAXD], w[MAXD], lam[MAXD], V[MAXD * MAXD],
            hn = 0, e;
        size_t i, j, k;
        rdg_density_out o;
        rdg_ou(t, &a, &s2);
        for (j = 0; j < d; j++) y[j] = a * X[q * d + j] + sqrt(s2) * rdg_rng_normal(&r);
        memset(&o, 0, sizeof o);
        o.hess = H;
        CHECK(rdg_density_eval(&g, t, y, 1, &o) == RDG_OK, "density_eval");
        CHECK(rdg_eigh(H, d, w, NULL, NULL) == RDG_OK, "eigh");
        CHECK(rdg_ridge_frame(&g, t, y, 1, lam, V) == RDG_OK, "ridge_frame");
        for (i = 0; i < d; i++) hn = fmax(hn, fabs(w[i]));
        for (i = 0; i < d; i++) {
            e = fabs(lam[i] - w[i]) / hn;
            if (e > worst) worst = e;
            CHECK(e < 1e-12, "frame lam[%zu] = %.17g, eig(H) = %.17g (t=%g)", i, lam[i], w[i], t);
            if (i > 0) CHECK(lam[i - 1] >= lam[i], "frame eigenvalues not descending");
        }
        /* columns of V: eigenvectors of H (residual relative to |H| and the local gap) and
           orthonormal */
        for (k = 0; k < d; k++) {
            double res = 0, nrm = 0, gapk = INFINITY;
            for (i = 0; i < d; i++) {
                double hv = 0;
                for (j = 0; j < d; j++) hv += H[i * d + j] * V[j * d + k];
                res += (hv - lam[k] * V[i * d + k]) * (hv - lam[k] * V[i * d + k]);
                nrm += V[i * d + k] * V[i * d + k];
            }
            for (i = 0; i < d; i++) if (i != k) gapk = fmin(gapk, fabs(lam[i] - lam[k]));
            res = sqrt(res) / hn;
            if (res > worst_vec) worst_vec = res;
            CHECK(res < 1e-12, "frame column %zu: |Hv - lam v|/|H| = %.3g (t=%g)", k, res, t);
            CHECK(fabs(nrm - 1) < 1e-13, "frame column %zu norm^2 %.17g", k, nrm);
            for (j = 0; j < k; j++) {
                double dot = 0;
                for (i = 0; i < d; i++) dot += V[i * d + j] * V[i * d + k];
                CHECK(fabs(dot) < 1e-12, "frame columns %zu, %zu not orthogonal: %.3g", j, k, dot);
            }
        }
    }
    printf("ok frame: worst eigenvalue err %.3g, worst eigenvector residual %.3g\n", worst,
           worst_vec);
}

/* check a projection result with our own evaluation; returns 1 when the output is on the
   ridge (s2 |r| < 1e-8, lam_{d*+1} <= -beta) */
static int verify_projection(const rdg_gmm *g, double t, const double *y, const double *x,
                             const rdg_project_opts *o, const rdg_project_info *inf,
                             const char *what) {
    double a, s2, dist;
    pt_eval py, px;
    size_t d = g->d;
    int on;
    rdg_ou(t, &a, &s2);
    eval_point(g, t, y, o->dstar, &py);
    eval_point(g, t, x, o->dstar, &px);
    if (!py.ok || !px.ok) { CHECK(0, "%s: own evaluation failed", what); return 0; }
    dist = vdist(x, y, d);
    on = s2 * px.rn < 1e-8 && px.lam[o->dstar] <= -o->beta;
    /* info consistency */
    CHECK(fabs(inf->distance - dist) <= 1e-12 * (1 + dist), "%s: info.distance %.17g vs |x-y| %.17g",
          what, inf->distance, dist);
    CHECK(fabs(inf->resid0 - py.rn) <= 1e-9 * py.rn + 1e-12 / s2, "%s: info.resid0 %.17g vs %.17g",
          what, inf->resid0, py.rn);
    CHECK(fabs(inf->resid - px.rn) <= 1e-6 * px.rn + 1e-12 / s2, "%s: info.resid %.17g vs %.17g",
          what, inf->resid, px.rn);
    CHECK(fabs(inf->gap - px.gap) <= 1e-9 * fabs(px.gap) + 1e-12 / s2, "%s: info.gap %.17g vs %.17g",
          what, inf->gap, px.gap);
    CHECK(inf->iters >= 0, "%s: iters %d", what, inf->iters);
    CHECK(inf->curv_ok == (px.lam[o->dstar] <= -o->beta), "%s: curv_ok %d but lam_{d*+1} = %.17g",
          what, inf->curv_ok, px.lam[o->dstar]);
    CHECK(inf->reliable == (inf->converged && s2 * px.gap > 1e-8), "%s: reliable %d (converged %d, "
          "s2 gap %.3g)", what, inf->reliable, inf->converged, s2 * px.gap);
    if (inf->converged)
        CHECK(s2 * px.rn <= 1.01e-10 * fmax(1.0, g->scale) || (o->rtol > 0 && s2 * px.rn <= 1.01 * o->rtol * fmax(1.0, g->scale)),
              "%s: converged but s2 |r| = %.3g", what, s2 * px.rn);
    return on;
}

static void set_opts(rdg_project_opts *o, size_t dstar, int method) {
    memset(o, 0, sizeof *o);
    o->dstar = dstar;
    o->method = method;
}

/* ---- circle: LM and SCMS agree, radial projection, equal radii ---------------------------- */
static void test_circle(void) {
    double X[80], Y[2 * 30], PL[2 * 30], PS[2 * 30], t = 0.05;
    rdg_project_info IL[30], IS[30];
    rdg_project_opts oL, oS;
    rdg_gmm g;
    rdg_rng r;
    size_t i, B = 30, conv = 0;
    double rad0 = -1, worst_agree = 0, worst_ang = 0, worst_rad = 0;
    for (i = 0; i < 40; i++) {
        X[2 * i] = cos(2 * RDG_T_PI * (double)i / 40);
        X[2 * i + 1] = sin(2 * RDG_T_PI * (double)i / 40);
    }
    CHECK(rdg_gmm_init(&g, X, 40, 2) == RDG_OK, "gmm_init circle");
    rdg_rng_init(&r, 2, 2);
    for (i = 0; i < B; i++) {
        double th = 2 * RDG_T_PI * rdg_rng_uniform(&r), rho = 0.7 + 0.55 * rdg_rng_uniform(&r);
        Y[2 * i] = rho * cos(th);
        Y[2 * i + 1] = rho * sin(th);
    }
    set_opts(&oL, 1, RDG_PROJECT_LM);
    set_opts(&oS, 1, RDG_PROJECT_SCMS);
    CHECK(rdg_ridge_project(&g, t, Y, B, &oL, PL, IL) == RDG_OK, "project LM circle");
    CHECK(rdg_ridge_project(&g, t, Y, B, &oS, PS, IS) == RDG_OK, "project SCMS circle");
    for (i = 0; i < B; i++) {
        char what[64];
        double agree = vdist(PL + 2 * i, PS + 2 * i, 2), rad = vnorm(PL + 2 * i, 2), ang;
        sprintf(what, "circle LM point %zu", i);
        CHECK(verify_projection(&g, t, Y + 2 * i, PL + 2 * i, &oL, &IL[i], what),
              "circle LM point %zu not on the ridge", i);
        sprintf(what, "circle SCMS point %zu", i);
        CHECK(verify_projection(&g, t, Y + 2 * i, PS + 2 * i, &oS, &IS[i], what),
              "circle SCMS point %zu not on the ridge", i);
        CHECK(IL[i].converged && IS[i].converged, "circle point %zu: converged LM %d SCMS %d", i,
              IL[i].converged, IS[i].converged);
        conv += IL[i].converged;
        if (agree > worst_agree) worst_agree = agree;
        CHECK(agree < 1e-6, "circle point %zu: LM and SCMS differ by %.3g", i, agree);
        /* radial projection: same angle as y, same radius for every point */
        ang = fabs(atan2(PL[2 * i + 1], PL[2 * i]) - atan2(Y[2 * i + 1], Y[2 * i]));
        if (ang > RDG_T_PI) ang = 2 * RDG_T_PI - ang;
        if (ang > worst_ang) worst_ang = ang;
        CHECK(ang < 1e-6, "circle point %zu: projection not radial (angle change %.3g)", i, ang);
        if (rad0 < 0) rad0 = rad;
        if (fabs(rad - rad0) > worst_rad) worst_rad = fabs(rad - rad0);
        CHECK(fabs(rad - rad0) < 1e-6, "circle point %zu: ridge radius %.12g vs %.12g", i, rad, rad0);
        CHECK(fabs(IL[i].distance - fabs(vnorm(Y + 2 * i, 2) - rad0)) < 1e-6,
              "circle point %zu: distance %.12g vs |rho - R| %.12g", i, IL[i].distance,
              fabs(vnorm(Y + 2 * i, 2) - rad0));
    }
    printf("ok circle: ridge radius %.10f, %zu/%zu LM converged, LM-SCMS %.3g, angle %.3g, radius spread %.3g\n",
           rad0, conv, B, worst_agree, worst_ang, worst_rad);
}

/* ---- two-point data: the ridge is the horizontal axis ------------------------------------ */
static void test_two_point(void) {
    double X[4] = { -1, 0, 1, 0 };
    const double ts[4] = { 0.05, 0.3, 1.0, 3.0 };
    rdg_gmm g;
    size_t ti, i, B = 12;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "gmm_init two-point");
    for (ti = 0; ti < 4; ti++) {
        double t = ts[ti], Y[24], PL[24], PS[24];
        rdg_project_info IL[12], IS[12];
        rdg_project_opts oL, oS;
        rdg_rng r;
        rdg_rng_init(&r, 6, ti);
        for (i = 0; i < B; i++) {
            double x2 = 0.05 + 0.75 * rdg_rng_uniform(&r);
            Y[2 * i] = -0.5 + rdg_rng_uniform(&r);
            Y[2 * i + 1] = (i % 2) ? x2 : -x2;
        }
        set_opts(&oL, 1, RDG_PROJECT_LM);
        set_opts(&oS, 1, RDG_PROJECT_SCMS);
        CHECK(rdg_ridge_project(&g, t, Y, B, &oL, PL, IL) == RDG_OK, "project LM");
        CHECK(rdg_ridge_project(&g, t, Y, B, &oS, PS, IS) == RDG_OK, "project SCMS");
        for (i = 0; i < B; i++) {
            char what[64];
            sprintf(what, "two-point t=%g LM %zu", t, i);
            CHECK(verify_projection(&g, t, Y + 2 * i, PL + 2 * i, &oL, &IL[i], what),
                  "%s: not on the ridge", what);
            CHECK(IL[i].converged && IL[i].reliable && IL[i].curv_ok, "%s: converged %d reliable %d curv %d",
                  what, IL[i].converged, IL[i].reliable, IL[i].curv_ok);
            CHECK(fabs(PL[2 * i] - Y[2 * i]) < 1e-9 && fabs(PL[2 * i + 1]) < 1e-9,
                  "%s: (%.12g, %.12g) -> (%.12g, %.12g), want (x1, 0)", what, Y[2 * i], Y[2 * i + 1],
                  PL[2 * i], PL[2 * i + 1]);
            CHECK(fabs(IL[i].distance - fabs(Y[2 * i + 1])) < 1e-9, "%s: distance %.12g vs |x2| %.12g",
                  what, IL[i].distance, fabs(Y[2 * i + 1]));
            sprintf(what, "two-point t=%g SCMS %zu", t, i);
            CHECK(verify_projection(&g, t, Y + 2 * i, PS + 2 * i, &oS, &IS[i], what),
                  "%s: not on the ridge", what);
            CHECK(IS[i].converged, "%s: not converged", what);
            CHECK(vdist(PS + 2 * i, PL + 2 * i, 2) < 1e-6, "%s: LM and SCMS differ by %.3g", what,
                  vdist(PS + 2 * i, PL + 2 * i, 2));
        }
        /* curvature threshold: lam_2 = -1/s2 on the axis, so beta = 0.5/s2 passes and
           beta = 2/s2 fails everywhere */
        {
            double a, s2;
            rdg_ou(t, &a, &s2);
            oL.beta = 0.5 / s2;
            CHECK(rdg_ridge_project(&g, t, Y, 2, &oL, PL, IL) == RDG_OK, "project beta");
            CHECK(IL[0].curv_ok == 1 && IL[1].curv_ok == 1, "beta 0.5/s2: curv_ok %d %d",
                  IL[0].curv_ok, IL[1].curv_ok);
            oL.beta = 2 / s2;
            CHECK(rdg_ridge_project(&g, t, Y, 2, &oL, PL, IL) == RDG_OK, "project beta 2");
            CHECK(IL[0].curv_ok == 0 && IL[1].curv_ok == 0, "beta 2/s2: curv_ok %d %d",
                  IL[0].curv_ok, IL[1].curv_ok);
        }
    }
    printf("ok two-point projections\n");
}

/* ---- clustered data: LM <= SCMS, local optimality, idempotence ---------------------------- */
static void test_clustered(size_t d, size_t dstar, double t, unsigned long long seed) {
    double X[MAXN * MAXD], *Y, *PL, *PS;
    rdg_project_info *IL, *IS;
    rdg_project_opts oL, oS;
    rdg_gmm g;
    rdg_rng r;
    size_t N = 30, B = 40, i, j, both = 0, lm_conv = 0, scms_rel = 0, opt_tested = 0, idem_skipped = 0;
    double a, s2, s, worst_excess = -INFINITY, worst_opt = INFINITY, worst_idem = 0;
    Y = (double *)malloc(B * d * sizeof *Y);
    PL = (double *)malloc(B * d * sizeof *PL);
    PS = (double *)malloc(B * d * sizeof *PS);
    IL = (rdg_project_info *)malloc(B * sizeof *IL);
    IS = (rdg_project_info *)malloc(B * sizeof *IS);
    if (!Y || !PL || !PS || !IL || !IS) { CHECK(0, "malloc"); goto done; }
    make_clusters(X, 3, 10, d, seed);
    CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init clustered");
    rdg_ou(t, &a, &s2);
    s = sqrt(s2);
    rdg_rng_init(&r, seed, 3);
    for (i = 0; i < B; i++)
        for (j = 0; j < d; j++) Y[i * d + j] = a * X[(i % N) * d + j] + s * rdg_rng_normal(&r);
    set_opts(&oL, dstar, RDG_PROJECT_LM);
    set_opts(&oS, dstar, RDG_PROJECT_SCMS);
    oL.scms_iter = oS.scms_iter = 500;   /* the same SCMS start for both */
    CHECK(rdg_ridge_project(&g, t, Y, B, &oL, PL, IL) == RDG_OK, "project LM clustered");
    CHECK(rdg_ridge_project(&g, t, Y, B, &oS, PS, IS) == RDG_OK, "project SCMS clustered");
    for (i = 0; i < B; i++) {
        char what[96];
        int onL, onS;
        double *x = PL + i * d, *y = Y + i * d;
        sprintf(what, "clustered d=%zu d*=%zu t=%g LM %zu", d, dstar, t, i);
        onL = verify_projection(&g, t, y, x, &oL, &IL[i], what);
        sprintf(what, "clustered d=%zu d*=%zu t=%g SCMS %zu", d, dstar, t, i);
        onS = verify_projection(&g, t, y, PS + i * d, &oS, &IS[i], what);
        sprintf(what, "clustered d=%zu d*=%zu t=%g point %zu", d, dstar, t, i);
        if (IL[i].converged) CHECK(onL, "LM point %zu claims convergence but is off the ridge", i);
        if (IS[i].converged) CHECK(onS, "SCMS point %zu claims convergence but is off the ridge", i);
        if (IS[i].reliable && IS[i].curv_ok) {
            scms_rel++;
            lm_conv += IL[i].converged;
        }
        if (!(IL[i].reliable && IS[i].reliable && IL[i].curv_ok && IS[i].curv_ok)) continue;
        both++;
        /* LM, started from the SCMS point, is no farther than it */
        {
            double dl = vdist(x, y, d), ds = vdist(PS + i * d, y, d);
            if (dl - ds > worst_excess) worst_excess = dl - ds;
            CHECK(dl <= ds + 1e-9, "%s: LM distance %.12g > SCMS distance %.12g", what, dl, ds);
        }
        /* already on the ridge: a point put on the ridge to s2 |r| < 1e-13 (by a long SCMS
           run) is moved by < 1e-9 when projected again by LM or SCMS with default options */
        {
            double p1[MAXD], p2[MAXD], p3[MAXD];
            rdg_project_info i1, i2, i3;
            rdg_project_opts ot = oS;
            pt_eval pe;
            ot.rtol = 1e-14;
            ot.scms_iter = 20000;
            CHECK(rdg_ridge_project(&g, t, x, 1, &ot, p1, &i1) == RDG_OK, "tight SCMS");
            eval_point(&g, t, p1, dstar, &pe);
            if (s2 * pe.rn < 1e-13) {
                CHECK(rdg_ridge_project(&g, t, p1, 1, &oL, p2, &i2) == RDG_OK, "reproject LM");
                CHECK(rdg_ridge_project(&g, t, p1, 1, &oS, p3, &i3) == RDG_OK, "reproject SCMS");
                worst_idem = fmax(worst_idem, fmax(vdist(p2, p1, d), vdist(p3, p1, d)));
                CHECK(vdist(p2, p1, d) < 1e-9 && i2.distance < 1e-9 && i2.converged,
                      "%s: LM of a ridge point moves by %.3g (converged %d)", what, vdist(p2, p1, d),
                      i2.converged);
                CHECK(vdist(p3, p1, d) < 1e-9 && i3.converged, "%s: SCMS of a ridge point moves by %.3g",
                      what, vdist(p3, p1, d));
            } else {
                idem_skipped++;
            }
        }
        /* local optimality: slide along each tangent direction, return to the ridge by SCMS,
           and never get closer to y; only where the curvature is comfortably negative */
        {
            pt_eval pe;
            size_t k, e;
            const double epss[4] = { -0.05, -0.02, 0.02, 0.05 };
            double d0 = vdist(x, y, d);
            eval_point(&g, t, x, dstar, &pe);
            if (!(pe.lam[dstar] < -0.05 / s2)) continue;
            for (k = 0; k < dstar; k++)
                for (e = 0; e < 4; e++) {
                    double z[MAXD], p[MAXD], dz;
                    rdg_project_info ip;
                    pt_eval pp;
                    for (j = 0; j < d; j++) z[j] = x[j] + epss[e] * s * pe.V[j * d + k];
                    if (rdg_ridge_project(&g, t, z, 1, &oS, p, &ip) != RDG_OK) {
                        CHECK(0, "slide project failed");
                        continue;
                    }
                    eval_point(&g, t, p, dstar, &pp);
                    if (!(ip.reliable && ip.curv_ok && s2 * pp.rn < 1e-8)) continue;
                    /* the re-projection must stay near x (same piece of ridge) */
                    if (vdist(p, x, d) > 0.2 * s) continue;
                    dz = vdist(p, y, d);
                    opt_tested++;
                    if (dz - d0 < worst_opt) worst_opt = dz - d0;
                    CHECK(dz >= d0 - 1e-9, "%s: sliding by %g s along tangent %zu gets closer: "
                          "%.12g < %.12g", what, epss[e], k, dz, d0);
                }
        }
    }
    CHECK(both >= B / 2, "clustered d=%zu d*=%zu t=%g: only %zu/%zu points reliable for both", d,
          dstar, t, both, B);
    CHECK(lm_conv * 10 >= scms_rel * 9, "clustered d=%zu d*=%zu t=%g: LM converged on %zu of %zu "
          "points where SCMS was reliable", d, dstar, t, lm_conv, scms_rel);
    printf("ok clustered d=%zu d*=%zu t=%g: %zu/%zu compared, LM conv %zu/%zu, max(dLM-dSCMS) %.3g, "
           "min slide gain %.3g over %zu slides, idempotence %.3g (%zu not tight)\n", d, dstar, t, both, B,
           lm_conv, scms_rel, worst_excess, worst_opt, opt_tested, worst_idem, idem_skipped);
    CHECK(idem_skipped * 4 <= both, "tight SCMS failed to reach s2|r| < 1e-13 on %zu points", idem_skipped);
done:
    free(Y);
    free(PL);
    free(PS);
    free(IL);
    free(IS);
}

/* ---- SCMS fixed point and determinism ----------------------------------------------------- */
static void test_determinism(void) {
    size_t d = 3, N = 30, B = 16, i, j;
    double X[MAXN * MAXD], Y[16 * 3], P1[16 * 3], P2[16 * 3], t = 0.1, a, s2;
    rdg_project_info I1[16], I2[16];
    rdg_project_opts o;
    rdg_gmm g;
    rdg_rng r;
    make_clusters(X, 3, 10, d, 5);
    CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
    rdg_ou(t, &a, &s2);
    rdg_rng_init(&r, 1, 1);
    for (i = 0; i < B * d; i++) Y[i] = a * X[i % (N * d)] + sqrt(s2) * rdg_rng_normal(&r);
    set_opts(&o, 1, RDG_PROJECT_LM);
    CHECK(rdg_ridge_project(&g, t, Y, B, &o, P1, I1) == RDG_OK, "project");
    CHECK(rdg_ridge_project(&g, t, Y, B, &o, P2, I2) == RDG_OK, "project again");
    CHECK(memcmp(P1, P2, sizeof P1) == 0 && memcmp(I1, I2, sizeof I1) == 0, "project not deterministic");
    for (i = 0; i < B; i++) {
        double p[3];
        rdg_project_info ii;
        CHECK(rdg_ridge_project(&g, t, Y + i * d, 1, &o, p, &ii) == RDG_OK, "project single");
        CHECK(memcmp(p, P1 + i * d, sizeof p) == 0, "batch point %zu differs from single call", i);
    }
#ifdef _OPENMP
    {
        int nt = omp_get_max_threads();
        omp_set_num_threads(1);
        CHECK(rdg_ridge_project(&g, t, Y, B, &o, P2, I2) == RDG_OK, "project 1 thread");
        CHECK(memcmp(P1, P2, sizeof P1) == 0, "1 thread differs");
        omp_set_num_threads(3);
        CHECK(rdg_ridge_project(&g, t, Y, B, &o, P2, I2) == RDG_OK, "project 3 threads");
        CHECK(memcmp(P1, P2, sizeof P1) == 0, "3 threads differ");
        omp_set_num_threads(nt);
    }
#endif
    /* an SCMS output is a fixed point of x <- x + P_N (a m - x), within its tolerance */
    set_opts(&o, 1, RDG_PROJECT_SCMS);
    CHECK(rdg_ridge_project(&g, t, Y, B, &o, P2, I2) == RDG_OK, "project SCMS");
    for (i = 0; i < B; i++) {
        double rr[3], step;
        if (!I2[i].converged) continue;
        CHECK(rdg_ridge_residual(&g, t, P2 + i * d, 1, 1, rr, NULL) == RDG_OK, "residual");
        step = 0;
        for (j = 0; j < d; j++) step += s2 * rr[j] * s2 * rr[j];
        CHECK(sqrt(step) <= 1.01e-10 * fmax(1, g.scale), "SCMS point %zu: step s2 P_N g = %.3g", i,
              sqrt(step));
    }
}

/* ---- trace ------------------------------------------------------------------------------- */
static void test_trace(void) {
    double X[4] = { -1, 0, 1, 0 }, seeds[2 * 21 * 11], t = 0.3, *out = NULL, a, s2;
    size_t i, j, n = 0, nout = 0;
    rdg_gmm g;
    rdg_project_opts o;
    rdg_status st;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "gmm_init");
    rdg_ou(t, &a, &s2);
    for (i = 0; i < 21; i++)
        for (j = 0; j < 11; j++) {
            seeds[2 * n] = -1.5 + 0.15 * (double)i + 0.001 * (double)j;
            seeds[2 * n + 1] = -1.0 + 0.2 * (double)j;
            n++;
        }
    set_opts(&o, 1, RDG_PROJECT_SCMS);
    st = rdg_ridge_trace(&g, t, seeds, n, &o, 0, &out, &nout);
    CHECK(st == RDG_OK, "trace status %d", (int)st);
    CHECK(nout >= 10 && out != NULL, "trace returned %zu points", nout);
    for (i = 0; i < nout; i++) {
        pt_eval pe;
        CHECK(fabs(out[2 * i + 1]) < 1e-6, "trace point %zu: x2 = %.3g", i, out[2 * i + 1]);
        eval_point(&g, t, out + 2 * i, 1, &pe);
        CHECK(s2 * pe.rn < 1e-8 && pe.lam[1] <= 0 && s2 * pe.gap > 1e-8,
              "trace point %zu: s2|r| %.3g lam2 %g s2 gap %.3g", i, s2 * pe.rn, pe.lam[1], s2 * pe.gap);
        for (j = 0; j < i; j++)
            CHECK(vdist(out + 2 * i, out + 2 * j, 2) >= 1e-3, "trace points %zu, %zu closer than "
                  "min_sep: %.3g", j, i, vdist(out + 2 * i, out + 2 * j, 2));
    }
    rdg_free(out);
    /* explicit min_sep */
    out = NULL;
    st = rdg_ridge_trace(&g, t, seeds, n, &o, 0.25, &out, &nout);
    CHECK(st == RDG_OK && nout >= 4 && out != NULL, "trace min_sep 0.25: status %d, %zu points",
          (int)st, nout);
    for (i = 0; i < nout; i++)
        for (j = 0; j < i; j++)
            CHECK(vdist(out + 2 * i, out + 2 * j, 2) >= 0.25, "trace min_sep 0.25: points %zu, %zu "
                  "at %.3g", j, i, vdist(out + 2 * i, out + 2 * j, 2));
    rdg_free(out);
    /* nothing survives: a single data point has no frame anywhere */
    {
        double X1[2] = { 0.3, -0.2 };
        rdg_gmm g1;
        out = (double *)&a; /* must be overwritten */
        CHECK(rdg_gmm_init(&g1, X1, 1, 2) == RDG_OK, "gmm_init single");
        st = rdg_ridge_trace(&g1, t, seeds, n, &o, 0, &out, &nout);
        CHECK(st == RDG_OK && nout == 0 && out == NULL, "trace on one point: status %d nout %zu",
              (int)st, nout);
    }
}

/* ---- hand-over: LM starts from an SCMS point 1e-3 of the data scale off the ridge; when LM
   cannot finish (max_iter = 1) and met no ridge point, SCMS is finished from there, so the
   answer is the converged SCMS point, bit for bit. d = 3 (whole frame) and d = 20 (LM on the
   top of the spectrum) ---------------------------------------------------------------------- */
static void test_handover(void) {
    static const size_t ds[2] = { 3, 20 };
    size_t id;
    for (id = 0; id < 2; id++) {
        size_t d = ds[id], N = 120, B = 24, i, j, same = 0, near = 0, cmp = 0, other = 0;
        double *X = (double *)malloc(N * d * sizeof(double)), *Y = (double *)malloc(B * d * sizeof(double));
        double *PL = (double *)malloc(B * d * sizeof(double)), *PS = (double *)malloc(B * d * sizeof(double));
        double t = 0.05, a, s2;
        rdg_project_info IL[24], IS[24];
        rdg_project_opts oL, oS;
        rdg_gmm g;
        rdg_rng r;
        if (!X || !Y || !PL || !PS) { CHECK(0, "malloc"); free(X); free(Y); free(PL); free(PS); return; }
        rdg_rng_init(&r, 600 + d, 1);
        for (i = 0; i < N; i++) {          /* a closed curve with a little noise */
            double th = 6.283185307179586 * (double)i / (double)N;
            for (j = 0; j < d; j++) X[i * d + j] = 0.02 * rdg_rng_normal(&r);
            X[i * d] += cos(th); X[i * d + 1] += sin(th); X[i * d + 2] += 0.3 * cos(2 * th);
        }
        CHECK(rdg_gmm_init(&g, X, N, d) == RDG_OK, "gmm_init");
        rdg_ou(t, &a, &s2);
        for (i = 0; i < B * d; i++) Y[i] = a * X[(i * 5) % (N * d)] + 0.5 * sqrt(s2) * rdg_rng_normal(&r);
        set_opts(&oL, 1, RDG_PROJECT_LM);
        set_opts(&oS, 1, RDG_PROJECT_SCMS);
        oL.max_iter = 1;
        oS.scms_iter = 200;                /* LM's SCMS budget */
        CHECK(rdg_ridge_project(&g, t, Y, B, &oL, PL, IL) == RDG_OK, "project LM max_iter 1");
        CHECK(rdg_ridge_project(&g, t, Y, B, &oS, PS, IS) == RDG_OK, "project SCMS");
        for (i = 0; i < B; i++) {
            if (!IS[i].converged) continue;
            ++cmp;
            if (memcmp(PL + i * d, PS + i * d, d * sizeof(double)) == 0) ++same;
            else if (s2 * IL[i].resid <= 1e-8 * fmax(1, g.scale)) ++near;   /* LM's own nearly-feasible point */
            else ++other;
            CHECK(!IL[i].converged, "d %zu point %zu: LM with one iteration reported converged", d, i);
        }
        printf("ok hand-over d=%zu: %zu SCMS points compared, LM(1 iteration) = SCMS point on %zu, nearly feasible %zu\n",
               d, cmp, same, near);
        CHECK(cmp >= B / 2 && other == 0 && same >= cmp / 2, "d %zu: hand-over fallback: %zu same, %zu near, %zu other of %zu",
              d, same, near, other, cmp);
        free(X); free(Y); free(PL); free(PS);
    }
}

/* rdg_ridge_project_ctx against rdg_ridge_project, bit for bit (points and reports), over calls
   that change B, t (up and down, on the same points), the method, d*, drop and the thread
   count; then the refusals. */
static void test_project_ctx(void) {
    enum { N = 200, D = 12, BMAX = 24 };
    static const struct { size_t B; double t; int lm, dstar, drop, threads; } calls[] = {
        { 24, 0.3, 1, 1, 40, 2 }, { 24, 0.1, 1, 1, 40, 2 }, { 5, 0.1, 0, 2, 40, 1 }, { 24, 0.05, 1, 1, 40, 3 },
        { 1, 0.5, 1, 1, 40, 2 }, { 17, 0.3, 0, 1, 0, 2 }, { 24, 0.03, 1, 2, 40, 2 }, { 24, 0.3, 1, 1, 40, 1 }
    };
    size_t ncall = sizeof calls / sizeof calls[0], c, i;
    double *X = (double *)malloc(N * D * sizeof(double)), Y[BMAX * D], P1[BMAX * D], P2[BMAX * D];
    rdg_project_info I1[BMAX], I2[BMAX];
    rdg_project_ctx *ctx = NULL;
    rdg_project_opts o;
    rdg_gmm g;
    rdg_rng r;
    if (!X) { CHECK(0, "malloc"); return; }
    rdg_rng_init(&r, 37, 1);
    for (i = 0; i < N; i++) {            /* a noisy circle in the first two coordinates */
        double th = 6.283185307179586 * rdg_rng_uniform(&r);
        size_t j;
        for (j = 0; j < D; j++) X[i * D + j] = 0.05 * rdg_rng_normal(&r);
        X[i * D] += 20 * cos(th); X[i * D + 1] += 20 * sin(th);
    }
    for (i = 0; i < BMAX * D; i++) Y[i] = 0.9 * X[(i * 5) % (N * D)] + 0.1 * rdg_rng_normal(&r);
    CHECK(rdg_gmm_init(&g, X, N, D) == RDG_OK, "gmm_init");
    CHECK(rdg_project_ctx_create(&g, &ctx) == RDG_OK && ctx, "ctx create");
    for (c = 0; c < ncall && ctx; c++) {
        rdg_status s1, s2;
        size_t B = calls[c].B;
        set_opts(&o, (size_t)calls[c].dstar, calls[c].lm ? RDG_PROJECT_LM : RDG_PROJECT_SCMS);
        g.drop = calls[c].drop;
        memset(P1, 0, sizeof P1); memset(P2, 0, sizeof P2); memset(I1, 0, sizeof I1); memset(I2, 0, sizeof I2);
#ifdef _OPENMP
        omp_set_num_threads(calls[c].threads);
#endif
        s1 = rdg_ridge_project(&g, calls[c].t, Y, B, &o, P1, I1);
        s2 = rdg_ridge_project_ctx(ctx, calls[c].t, Y, B, &o, P2, I2);
        CHECK(s1 == RDG_OK && s2 == RDG_OK, "call %zu: status %d %d", c, (int)s1, (int)s2);
        CHECK(memcmp(P1, P2, sizeof P1) == 0 && memcmp(I1, I2, sizeof I1) == 0,
              "call %zu (B=%zu t=%g): context differs", c, B, calls[c].t);
    }
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    g.drop = 40;
    set_opts(&o, 1, RDG_PROJECT_LM);
    g.d = D - 1;
    CHECK(rdg_ridge_project_ctx(ctx, 0.3, Y, 2, &o, P2, I2) == RDG_ERR_INVALID, "changed view refused");
    g.d = D;
    CHECK(rdg_ridge_project_ctx(ctx, 0.3, Y, 2, &o, P2, NULL) == RDG_OK, "restored view accepted");
    CHECK(rdg_ridge_project_ctx(NULL, 0.3, Y, 2, &o, P2, I2) == RDG_ERR_INVALID, "NULL context refused");
    CHECK(rdg_ridge_project_ctx(ctx, 0.3, Y, 2, &o, NULL, I2) == RDG_ERR_INVALID, "NULL out refused");
    CHECK(rdg_ridge_project_ctx(ctx, 0, Y, 2, &o, P2, I2) == RDG_ERR_INVALID, "t = 0 refused");
    o.dstar = D;
    CHECK(rdg_ridge_project_ctx(ctx, 0.3, Y, 2, &o, P2, I2) == RDG_ERR_INVALID, "d* = d refused");
    Y[3] = NAN;
    set_opts(&o, 1, RDG_PROJECT_LM);
    CHECK(rdg_ridge_project_ctx(ctx, 0.3, Y, 2, &o, P2, I2) == RDG_ERR_NONFINITE, "NaN refused");
    rdg_project_ctx_free(ctx);
    rdg_project_ctx_free(NULL);
    ctx = (rdg_project_ctx *)X;          /* overwritten with NULL on failure */
    CHECK(rdg_project_ctx_create(NULL, &ctx) == RDG_ERR_INVALID && ctx == NULL, "create NULL view");
    CHECK(rdg_project_ctx_create(&g, NULL) == RDG_ERR_INVALID, "create NULL out");
    free(X);
}

int main(void) {
    test_jacobian();
    test_frame();
    test_circle();
    test_two_point();
    test_clustered(3, 1, 0.1, 101);
    test_clustered(3, 2, 0.1, 102);
    test_clustered(5, 1, 0.1, 103);
    test_clustered(5, 2, 0.3, 104);
    test_determinism();
    test_handover();
    test_project_ctx();
    test_trace();
    RDG_TEST_END("test_ridge");
}
