/* The float build (-DRDG_REAL_FLOAT): a smaller test with tolerances stated for float
   (FLT_EPSILON ~ 1.2e-7). Built and run by tests/portability.sh (host gcc/clang with
   -Wdouble-promotion -Werror, and the cross targets). Needs only C99 and libm.
     eigh of a 4x4 SPD matrix:  |A v - lam v| <= 1e-4 |A|, |V^T V - I| <= 1e-5
     density at t = 0.5:        logp within 1e-4 (relative) of a double-precision reference
                                computed here, score = (a m - y)/s^2 consistent to 1e-4
     projection (two points):   converges to (0.5, 0) within 1e-3, reported converged
     eigengap thresholds:       converged / reliable and unresolved frames use gaps above
                                float rounding (1000 eps <= RDG__GAP_REL <= sqrt(eps))
     projection (d = 20 curve): LM and SCMS under the default tolerances (100 FLT_EPSILON for
                                float) converge on at least 18 of 20 points
     .npy:                      write then read round trip exact (float -> f8 -> float)   */
#ifndef RDG_REAL_FLOAT
#define RDG_REAL_FLOAT
#endif
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static int pass = 0, fail = 0;
#define CHECKF(c, ...) do { if (c) pass++; else { fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

int main(void) {
    static const float A0[16] = { 4, 1, 0.5f, 0, 1, 3, 0.25f, 0.1f, 0.5f, 0.25f, 2, 0.2f, 0, 0.1f, 0.2f, 1 };
    float w[4], V[16];
    static const float X[4] = { -3, 0, 3, 0 };
    float y[2] = { 0.5f, 0.7f }, p[2], lp = 0, m[2], sc[2];
    rdg_gmm g;
    rdg_project_opts o;
    rdg_project_info info;
    rdg_density_out out;
    size_t shape[1] = { 4 };
    void *buf = NULL;
    size_t len = 0;
    rdg_array arr;
    int i, j, k;
    double ref, a, s2, e1, e2, mx;
    CHECKF(sizeof(rdg_real) == sizeof(float), "rdg_real is float");
    /* eigh */
    CHECKF(rdg_eigh(A0, 4, w, V, NULL) == RDG_OK, "eigh status");
    for (j = 0; j < 4; ++j) {
        double res = 0;
        for (i = 0; i < 4; ++i) {
            double s = 0;
            for (k = 0; k < 4; ++k) s += (double)A0[i * 4 + k] * (double)V[k * 4 + j];
            s -= (double)w[j] * (double)V[i * 4 + j];
            res += s * s;
        }
        CHECKF(sqrt(res) <= 1e-4 * 5, "eigh residual %d: %g", j, sqrt(res));
        for (k = 0; k < 4; ++k) {
            double dot = 0;
            for (i = 0; i < 4; ++i) dot += (double)V[i * 4 + j] * (double)V[i * 4 + k];
            CHECKF(fabs(dot - (j == k)) <= 1e-5, "V^T V [%d][%d] = %g", j, k, dot);
        }
    }
    CHECKF(w[0] >= w[1] && w[1] >= w[2] && w[2] >= w[3], "eigenvalues descending");
    /* density against a double reference */
    CHECKF(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "gmm init");
    memset(&out, 0, sizeof out);
    out.logp = &lp; out.mean = m; out.score = sc;
    CHECKF(rdg_density_eval(&g, 0.5f, y, 1, &out) == RDG_OK, "density status");
    a = exp(-0.5); s2 = 1 - exp(-1.0);
    e1 = -((0.5 + 3 * a) * (0.5 + 3 * a) + 0.49) / (2 * s2);
    e2 = -((0.5 - 3 * a) * (0.5 - 3 * a) + 0.49) / (2 * s2);
    mx = e1 > e2 ? e1 : e2;
    ref = mx + log(exp(e1 - mx) + exp(e2 - mx)) - log(2.0) - log(2 * 3.14159265358979323846 * s2);
    CHECKF(fabs((double)lp - ref) <= 1e-4 * fabs(ref), "logp %.9g vs %.9g", (double)lp, ref);
    for (j = 0; j < 2; ++j)
        CHECKF(fabs((double)sc[j] - (a * (double)m[j] - (double)y[j]) / s2) <= 1e-4, "score %d", j);
    /* projection */
    memset(&o, 0, sizeof o);
    o.dstar = 1;
    CHECKF(rdg_ridge_project(&g, 0.5f, y, 1, &o, p, &info) == RDG_OK, "project status");
    CHECKF(fabs((double)p[0] - 0.5) <= 1e-3 && fabs((double)p[1]) <= 1e-3, "projection (%g, %g), expected (0.5, 0)",
           (double)p[0], (double)p[1]);
    CHECKF(info.converged, "projection converged (resid %g, iters %d)", (double)info.resid, info.iters);
    /* the eigengap thresholds of converged / reliable and of an unresolved frame scale with
       the precision: the double build's 1e-8 |C| and 1e-10 |C| lie below float rounding
       (eigenvectors carry errors ~ eps |C| / gap), where they would pass noise as a frame */
    CHECKF(RDG__GAP_REL >= 1000 * RDG__EPS && RDG__GAP_REL <= RDG__SQRT(RDG__EPS),
           "gap threshold %g against eps %g", (double)RDG__GAP_REL, (double)RDG__EPS);
    CHECKF(RDG__GAP_NOISE >= 10 * RDG__EPS && RDG__GAP_NOISE < RDG__GAP_REL,
           "unresolved-frame threshold %g against eps %g", (double)RDG__GAP_NOISE, (double)RDG__EPS);
    /* d = 20: a noisy closed curve, points near it (the default rtol must be reachable) */
    {
        enum { N = 200, D = 20, B = 20 };
        static float Xc[N * D], Yc[B * D], Pc[B * D];
        rdg_project_info ic[B];
        rdg_rng r;
        rdg_gmm gc;
        float ac, s2c;
        int meth, conv;
        rdg_rng_init(&r, 3, 1);
        for (i = 0; i < N; ++i) {
            double th = 6.283185307179586 * i / N;
            for (j = 0; j < D; ++j) Xc[i * D + j] = 0.05f * rdg_rng_normal(&r);
            Xc[i * D] += (float)(10 * cos(th)); Xc[i * D + 1] += (float)(10 * sin(th));
            Xc[i * D + 2] += (float)(2 * cos(3 * th));
        }
        CHECKF(rdg_gmm_init(&gc, Xc, N, D) == RDG_OK, "gmm init d=20");
        rdg_ou(0.05f, &ac, &s2c);
        for (i = 0; i < B * D; ++i) Yc[i] = ac * Xc[(i * 13) % (N * D)] + 0.4f * sqrtf(s2c) * rdg_rng_normal(&r);
        for (meth = 0; meth < 2; ++meth) {
            memset(&o, 0, sizeof o);
            o.dstar = 1;
            o.method = meth ? RDG_PROJECT_SCMS : RDG_PROJECT_LM;
            CHECKF(rdg_ridge_project(&gc, 0.05f, Yc, B, &o, Pc, ic) == RDG_OK, "project d=20 status");
            for (i = 0, conv = 0; i < B; ++i) conv += ic[i].converged;
            CHECKF(conv >= 18, "d=20 %s: %d of 20 converged under the default tolerance", meth ? "SCMS" : "LM", conv);
        }
    }
    /* npy round trip */
    CHECKF(rdg_npy_write_mem(w, 1, shape, &buf, &len) == RDG_OK, "npy write");
    CHECKF(rdg_npy_read_mem(buf, len, &arr) == RDG_OK && arr.count == 4 && memcmp(arr.data, w, sizeof w) == 0,
           "npy round trip");
    rdg_array_free(&arr);
    rdg_free(buf);
    printf("portability_float: %d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
