/* cc -O2 -std=c99 -fopenmp -o two_point_mlp examples/two_point_mlp.c -lm
   (-fopenmp is optional: without it everything runs on one thread, with identical results.
    Usage: ./two_point_mlp [steps]   - Adam steps per weighting, default 4000.)

   two_point_mlp - the paper's MLP two-point experiment (Figure 8; K.2, J.3; MATH.md 5-6).
   Data: (-3, 0) and (3, 0) in R^2, whose one-dimensional ridge is the horizontal axis at every
   t (MATH.md 3). A small MLP m(x, t) - input [x, e(t)] with a 32-entry sinusoidal time
   embedding, one hidden ReLU layer of 128 units, linear output - is trained with Adam on the
   DMM loss under each weighting w(t) = 1, s_t^2 and a_t^2 / s_t^2, then used to generate
   samples with the reverse SDE (Euler-Maruyama, K = 1000 geometric steps, T = 10 down to
   t0 = 0.005). At every 100th step it prints the directional inference errors of MATH.md 5:
       normal  error  E[y_2^2]                          (distance to the ridge, squared)
       tangent error  E[min_i (y_1 - a_t x_i1)^2]       (spread along it, away from the data)
   and at t0 the fraction of samples "between the modes": |y_1| < 3 a_t0 - 3 s_t0, i.e. more
   than three noise deviations from both smoothed data points - points the memorising
   (exact) model essentially never produces. The exact posterior mean is run first as the
   reference.

   What to look for (the paper's reading): the normal error collapses to the exact model's
   level (the samples align with the ridge), while the tangent error stays well above it (they
   spread along the ridge between the data points: the MLP does not memorise). Run time with
   the default 4000 steps: see the report printed at the end (about 30 s on 2 cores). */
#define RIDGEDIFF_IMPLEMENTATION
#include "../ridgediff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSAMP 500             /* trajectories per model */
#define KSTEPS 1000           /* Euler-Maruyama steps   */
#define EVERY 100             /* checkpoint spacing     */

static const rdg_real X[4] = { -3, 0, 3, 0 };

static int failed(rdg_status st, const char *call) {
    if (st == RDG_OK) return 0;
    fprintf(stderr, "two_point_mlp: %s: %s\n", call, rdg_status_str(st));
    return 1;
}

static void progress(size_t step, rdg_real loss, void *user) {
    (void)user;
    if (step % 1000 == 0) printf("    step %5lu  minibatch loss %.4f\n", (unsigned long)step, (double)loss);
}

/* Samples NSAMP trajectories of m and prints the error table. */
static int report(const rdg_model *m, const char *name) {
    rdg_sample_opts so;
    size_t C = rdg_sample_ncheck(KSTEPS, EVERY), c, i;
    rdg_real *out = (rdg_real *)malloc(NSAMP * 2 * sizeof(rdg_real));
    rdg_real *traj = (rdg_real *)malloc(C * NSAMP * 2 * sizeof(rdg_real));
    rdg_real *times = (rdg_real *)malloc(C * sizeof(rdg_real));
    int bad = 1;
    if (!out || !traj || !times) { fprintf(stderr, "two_point_mlp: out of memory\n"); goto done; }
    memset(&so, 0, sizeof so);           /* zero fields: the documented defaults (T 10, t0 0.005) */
    so.K = KSTEPS; so.every = EVERY; so.seed = 2026;
    if (failed(rdg_sample(m, NSAMP, &so, out, traj, times), "rdg_sample")) goto done;
    printf("  %s\n   step      t     normal E[y2^2]   tangent E[min (y1 - a x1)^2]\n", name);
    for (c = 0; c < C; ++c) {
        rdg_real a, s2;
        double en = 0, et = 0;
        rdg_ou(times[c], &a, &s2);
        for (i = 0; i < NSAMP; ++i) {
            const rdg_real *y = traj + (c * NSAMP + i) * 2;
            double d1 = y[0] - a * X[0], d2 = y[0] - a * X[2];
            en += (double)y[1] * y[1];
            et += d1 * d1 < d2 * d2 ? d1 * d1 : d2 * d2;
        }
        printf("  %5lu  %7.4f   %12.5f     %12.5f\n", (unsigned long)(c * EVERY > KSTEPS ? KSTEPS : c * EVERY),
               (double)times[c], en / NSAMP, et / NSAMP);
    }
    {
        rdg_real a, s2;
        double lim, nb = 0;
        rdg_ou(times[C - 1], &a, &s2);
        lim = 3 * a - 3 * sqrt((double)s2);
        for (i = 0; i < NSAMP; ++i) nb += fabs((double)out[2 * i]) < lim;
        printf("  between the modes at t0 (|y1| < %.3f): %.1f %%\n\n", lim, 100.0 * nb / NSAMP);
    }
    bad = 0;
done:
    free(out); free(traj); free(times);
    return bad;
}

int main(int argc, char **argv) {
    static const rdg_weight weights[3] = { RDG_WEIGHT_ONE, RDG_WEIGHT_SIGMA2, RDG_WEIGHT_SNR };
    static const char *names[3] = { "w = 1", "w = s_t^2", "w = a_t^2 / s_t^2" };
    const size_t hidden[1] = { 128 };
    size_t steps = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 4000;
    time_t start = time(NULL);
    clock_t cpu0 = clock();
    rdg_gmm g;
    rdg_model m;
    int k;

    if (steps == 0) steps = 4000;
    if (failed(rdg_gmm_init(&g, X, 2, 2), "rdg_gmm_init")) return 1;
    printf("two-point data (-3, 0), (3, 0); %d samples, K = %d; MLP 34 -> 128 -> 2, %lu Adam steps\n\n",
           NSAMP, KSTEPS, (unsigned long)steps);

    if (failed(rdg_model_exact(&m, &g), "rdg_model_exact")) return 1;
    if (report(&m, "exact posterior mean (memorising reference)")) return 1;

    for (k = 0; k < 3; ++k) {
        rdg_mlp net;
        rdg_train_opts o;
        rdg_real loss;
        memset(&o, 0, sizeof o);
        o.steps = steps; o.batch = 256; o.lr = 1e-3; o.weight = weights[k]; o.seed = 7;
        o.progress = progress;
        printf("MLP trained with %s\n", names[k]);
        if (failed(rdg_mlp_init(&net, 2, 1, hidden, 32, 1), "rdg_mlp_init")) return 1;
        if (failed(rdg_mlp_train(&net, &g, &o, &loss), "rdg_mlp_train")) { rdg_mlp_free(&net); return 1; }
        if (failed(rdg_mlp_model(&net, &m), "rdg_mlp_model") || report(&m, names[k])) {
            rdg_mlp_free(&net);
            return 1;
        }
        rdg_mlp_free(&net);
    }
    printf("run time: %ld s wall, %.1f s cpu\n", (long)(time(NULL) - start),
           (double)(clock() - cpu0) / CLOCKS_PER_SEC);
    return 0;
}
