/* cc -O2 -std=c99 -o two_points examples/two_points.c -lm
   (run it from the repository root: ./two_points)

   two_points - the two-point check of MATH.md 3. For the data (-a, 0), (a, 0) in R^2 the
   one-dimensional ridge of log p_t is the horizontal axis at every t, and on it the posterior
   mean is m_t(x) = (a tanh(a_t a x_1 / s_t^2), 0). This program
     1. traces the d* = 1 ridge at several t from a grid of seeds covering [-5,5] x [-3,3]
        and checks that it lies on the axis and that m_t there matches the closed form;
     2. projects a few points with rdg_ridge_project and prints the per-point report.

   Where the ridge stops. The frame (and so the ridge) is defined only where the eigengap is
   numerically nonzero: rdg_ridge_trace keeps points with s_t^2 gap > 1e-8. On the axis
   gap = (a_t^2 a^2 / s_t^4) sech^2(a_t a x_1 / s_t^2), so the traced piece is
       |x_1| < s_t^2 / (a_t a) * acosh(a_t a / (1e-4 s_t)),
   which is printed as "predicted" (capped by the seed box, |x_1| <= 5). The curvature across
   the axis is lam_2 = -1/s_t^2 < 0 everywhere, so with beta = 0 curvature never cuts it. */
#define RIDGEDIFF_IMPLEMENTATION
#include "../ridgediff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define HALF 3.0              /* a: the data are (-a, 0) and (a, 0)  */
#define NX 501                /* seed grid: x_1 in [-5, 5], step 0.02 */
#define NY 13                 /*            x_2 in [-3, 3], step 0.5  */

/* Prints the library's message and returns 1 when a call failed. */
static int failed(rdg_status st, const char *call)
{
    if (st == RDG_OK) return 0;
    fprintf(stderr, "two_points: %s: %s\n", call, rdg_status_str(st));
    return 1;
}

/* Traces the ridge at time t and prints one table row. Returns 0 on success. */
static int trace_one(const rdg_gmm *g, double t, const rdg_real *seeds)
{
    rdg_project_opts o = {0};          /* every zero field means "the documented default" */
    rdg_density_out want = {0};
    rdg_real a, s2, *ridge = NULL, *mean = NULL;
    size_t n = 0, i;
    double x1lo = 0, x1hi = 0, x2max = 0, merr = 0, pred;

    o.dstar = 1;                       /* a 1-dimensional ridge: a curve */
    rdg_ou((rdg_real)t, &a, &s2);
    if (failed(rdg_ridge_trace(g, (rdg_real)t, seeds, (size_t)NX * NY, &o, 0, &ridge, &n),
               "rdg_ridge_trace"))
        return 1;

    if (n > 0) {
        /* The posterior mean at the ridge points, against the closed form. */
        mean = (rdg_real *)malloc(n * 2 * sizeof *mean);
        if (!mean) { rdg_free(ridge); fprintf(stderr, "two_points: out of memory\n"); return 1; }
        want.mean = mean;
        if (failed(rdg_density_eval(g, (rdg_real)t, ridge, n, &want), "rdg_density_eval")) {
            free(mean); rdg_free(ridge); return 1;
        }
        x1lo = x1hi = ridge[0];
        for (i = 0; i < n; i++) {
            double x1 = ridge[2 * i], x2 = ridge[2 * i + 1];
            double m1 = HALF * tanh(a * HALF * x1 / s2);
            double e = fmax(fabs(mean[2 * i] - m1), fabs(mean[2 * i + 1]));
            if (x1 < x1lo) x1lo = x1;
            if (x1 > x1hi) x1hi = x1;
            if (fabs(x2) > x2max) x2max = fabs(x2);
            if (e > merr) merr = e;
        }
    }
    pred = s2 / (a * HALF) * acosh(a * HALF / (1e-4 * sqrt(s2)));
    printf("%5.2f  %6.4f  %6.4f  %6lu   %8.1e   [%6.2f, %6.2f]   %9.2f   %8.1e\n",
           t, (double)a, sqrt((double)s2), (unsigned long)n, x2max, x1lo, x1hi,
           pred < 5 ? pred : 5.0, merr);
    free(mean);
    rdg_free(ridge);
    return 0;
}

int main(void)
{
    static const rdg_real X[4] = { -HALF, 0, HALF, 0 };
    static const double ts[] = { 0.01, 0.05, 0.2, 0.5, 1, 2, 5 };
    /* Points to project at t = 0.5; the nearest ridge point of y is (y_1, 0). The last one
       lies beyond the reliable piece of the ridge (|x_1| < 3.73 at t = 0.5). */
    static const rdg_real Y[5 * 2] = { 0.5, 0.7,   -2, 1.5,   1, -2.5,   0.3, 0.05,   4.5, -2 };
    static rdg_real seeds[NX * NY * 2];
    rdg_real P[5 * 2];
    rdg_project_info info[5];
    rdg_project_opts o = {0};
    rdg_gmm g;
    size_t i, j;
    double perr = 0;

    /* A validated view of the data (2 points in R^2); the data must outlive it. */
    if (failed(rdg_gmm_init(&g, X, 2, 2), "rdg_gmm_init")) return 1;

    /* 1. Ridge tracing. */
    for (i = 0; i < NX; i++)
        for (j = 0; j < NY; j++) {
            seeds[2 * (i * NY + j)] = -5 + 10.0 * (double)i / (NX - 1);
            seeds[2 * (i * NY + j) + 1] = -3 + 6.0 * (double)j / (NY - 1);
        }
    printf("two_points: data (-3,0), (3,0); d* = 1 ridge traced from %d seeds in [-5,5]x[-3,3]\n\n",
           NX * NY);
    printf("%5s  %6s  %6s  %6s   %8s   %16s   %9s   %s\n", "t", "a_t", "s_t", "points",
           "max|x_2|", "x_1 range     ", "predicted", "max|m - closed form|");
    for (i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (trace_one(&g, ts[i], seeds)) return 1;
    printf("(predicted: the traced piece |x_1| < s_t^2/(a_t a) acosh(a_t a / (1e-4 s_t)) where "
           "s_t^2 gap > 1e-8, capped at 5)\n");

    /* 2. Projection (Levenberg-Marquardt, the default method) with the per-point report. */
    o.dstar = 1;
    if (failed(rdg_ridge_project(&g, 0.5, Y, 5, &o, P, info), "rdg_ridge_project")) return 1;
    printf("\nrdg_ridge_project at t = 0.5 (LM); expected x* = (y_1, 0), distance = |y_2|\n\n");
    printf("%13s  %16s  %8s  %8s  %8s  %5s  %4s  %4s  %8s  %8s\n", "y      ", "x*        ",
           "distance", "resid0", "resid", "iters", "conv", "curv", "gap", "reliable");
    for (i = 0; i < 5; i++)
        printf("(%5.2f,%5.2f)  (%5.2f,%8.1e)  %8.4f  %8.1e  %8.1e  %5d  %4d  %4d  %8.1e  %8d\n",
               (double)Y[2 * i], (double)Y[2 * i + 1], (double)P[2 * i], (double)P[2 * i + 1],
               (double)info[i].distance, (double)info[i].resid0, (double)info[i].resid,
               info[i].iters, info[i].converged, info[i].curv_ok, (double)info[i].gap,
               info[i].reliable);
    for (i = 0; i < 5; i++) {         /* against the exact answer x* = (y_1, 0) */
        double e = fmax(fmax(fabs(P[2 * i] - Y[2 * i]), fabs(P[2 * i + 1])),
                        fabs(info[i].distance - fabs(Y[2 * i + 1])));
        if (e > perr) perr = e;
    }
    printf("max error of x* and distance against the exact answer: %.1e\n", perr);
    return 0;
}
