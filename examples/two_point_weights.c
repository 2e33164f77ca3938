/* cc -O2 -std=c99 -fopenmp -o two_point_weights examples/two_point_weights.c -lm

   The two-point experiment of the paper's Figure 4 (Section 5.2) with a random feature network.
   Data (-3, 0), (3, 0): the ridge is the x axis, so output row 1 (y) of the network is its
   normal part and row 0 (x) its tangent part (MATH.md 6). For each weight w = 1, s_t^2,
   a_t^2 / s_t^2 the program
     1. builds the quadratic form of the DMM loss (2000 trapezoid intervals on the geometric grid,
        fixed noise draws) for an RFNN of width M with a 128-frequency Fourier time embedding;
     2. prints, at GD steps 0, 10, ..., 1e5 (learning rate 0.004, from the closed form), the loss
        split L(A_k) = Lmin + arch + opt and its normal/tangent rows: the directional training
        losses L_N = arch_N + opt_N, L_T = arch_T + opt_T;
     3. samples the trained network (reverse SDE, 1000 Euler-Maruyama steps) and prints the
        directional inference errors along sampling (MATH.md 5): normal E[y_2^2],
        tangent E[min_i (y_1 - a_t x_i1)^2];
     4. checks the paper's claim: normal error tiny for every weight, tangential spread depending
        on the weight.
   Usage: two_point_weights [M (2000)] [noise draws per point and node (4)] [trajectories (500)]
   e.g. `two_point_weights 400 2 200` for a quick run. */
#define RIDGEDIFF_IMPLEMENTATION
#include "../ridgediff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
static double now(void) { return omp_get_wtime(); }
#else
static double now(void) { return (double)clock() / CLOCKS_PER_SEC; }
#endif

#define NSTEP 6
#define NCHK 11

static int fail(const char *what, rdg_status st) {
    fprintf(stderr, "%s: %s\n", what, rdg_status_str(st));
    return 1;
}

int main(int argc, char **argv) {
    static const rdg_real X[4] = { -3, 0, 3, 0 };
    static const char *names[3] = { "one (w = 1)", "sigma2 (w = s_t^2)", "snr (w = a_t^2/s_t^2)" };
    static const size_t steps[NSTEP] = { 0, 10, 100, 1000, 10000, 100000 };
    const size_t normal_row = 1;
    const rdg_real eta = 0.004;
    size_t M = argc > 1 ? (size_t)atol(argv[1]) : 2000;
    size_t ndraw = argc > 2 ? (size_t)atol(argv[2]) : 4;
    size_t ntraj = argc > 3 ? (size_t)atol(argv[3]) : 500;
    double finalN[3], finalT[3], t_all = now();
    rdg_gmm g;
    rdg_model mex;
    rdg_status st;
    int wi;

    if (M == 0 || ndraw == 0 || ntraj == 0) { fprintf(stderr, "usage: %s [M] [ndraw] [ntraj]\n", argv[0]); return 2; }
    if ((st = rdg_gmm_init(&g, X, 2, 2)) != RDG_OK) return fail("data", st);
    if ((st = rdg_model_exact(&mex, &g)) != RDG_OK) return fail("exact model", st);
    printf("two-point data (+-3, 0); RFNN width M = %zu, 128 Fourier frequencies, T = 10, t0 = 0.005\n", M);
    printf("DMM loss: 2000 trapezoid intervals (geometric), %zu noise draws per point and node; GD lr %.3g\n",
           ndraw, (double)eta);
    printf("rows of A: row 1 (y) = normal, row 0 (x) = tangent (the ridge is the x axis)\n");

    for (wi = 0; wi < 3; ++wi) {
        rdg_rfnn rf;
        rdg_model m;
        rdg_dmm_opts o;
        rdg_rf_quad q;
        rdg_rf_errors e;
        rdg_sample_opts so;
        rdg_real lmin, *A0, *out, *traj, times[NCHK];
        double t0 = now(), t_build, t_samp;
        size_t s, c, i, C;

        memset(&o, 0, sizeof o);
        o.weight = (rdg_weight)wi; o.nt = 2000; o.ndraw = ndraw; o.seed = 2026;
        o.pm_target = 1;   /* regress on m_t(x_t): same minimiser in expectation, and the
                              architecture error is a true floor (>= 0) with finite draws */
        if ((st = rdg_rfnn_init(&rf, 2, M, 128, 10, 7)) != RDG_OK) return fail("rfnn", st);
        if ((st = rdg_rf_quad_build(&rf, &g, &o, &q)) != RDG_OK) return fail("quadratic form", st);
        t_build = now() - t0;
        if ((st = rdg_dmm_loss(&mex, &g, &o, &lmin)) != RDG_OK) return fail("exact loss", st);
        A0 = (rdg_real *)malloc(2 * M * sizeof(rdg_real));
        if (!A0) return fail("alloc", RDG_ERR_NOMEM);
        memcpy(A0, rf.A, 2 * M * sizeof(rdg_real));           /* A_0 ~ N(0, 1) */

        printf("\n== weight %s   (quadratic form + eigen-decomposition: %.1f s)\n", names[wi], t_build);
        printf("   Lmin (exact posterior mean) = %.6g, L(A_inf) = %.6g, rank K = %d of %zu, k_max = %.3g\n",
               (double)lmin, (double)q.cstar, rdg__rf_rank(&q), M, (double)q.kval[0]);
        printf("   %7s %12s %12s %12s | %11s %11s %11s %11s | %11s %11s\n", "step", "L(A_k)", "arch", "opt",
               "arch_N", "arch_T", "opt_N", "opt_T", "L_N", "L_T");
        for (s = 0; s < NSTEP; ++s) {
            if ((st = rdg_rf_split(&q, A0, eta, steps[s], lmin, &normal_row, 1, &e)) != RDG_OK) return fail("split", st);
            printf("   %7zu %12.5g %12.5g %12.5g | %11.4g %11.4g %11.4g %11.4g | %11.4g %11.4g\n", steps[s],
                   (double)e.loss, (double)e.arch, (double)e.opt, (double)e.arch_normal, (double)e.arch_tangent,
                   (double)e.opt_normal, (double)e.opt_tangent, (double)(e.arch_normal + e.opt_normal),
                   (double)(e.arch_tangent + e.opt_tangent));
        }

        /* the network after 1e5 GD steps, sampled */
        if ((st = rdg_rf_closed_form(&q, A0, eta, 100000, rf.A)) != RDG_OK) return fail("closed form", st);
        rdg_rfnn_model(&rf, &m);
        memset(&so, 0, sizeof so);
        so.K = 1000; so.every = 100; so.seed = 99;
        C = rdg_sample_ncheck(so.K, so.every);
        out = (rdg_real *)malloc(ntraj * 2 * sizeof(rdg_real));
        traj = (rdg_real *)malloc(C * ntraj * 2 * sizeof(rdg_real));
        if (!out || !traj || C != NCHK) return fail("alloc", RDG_ERR_NOMEM);
        t0 = now();
        if ((st = rdg_sample(&m, ntraj, &so, out, traj, times)) != RDG_OK) return fail("sample", st);
        t_samp = now() - t0;
        printf("   sampling %zu trajectories, reverse SDE, K = 1000 (%.1f s):\n", ntraj, t_samp);
        printf("   %6s %9s %14s %14s\n", "step", "t", "normal E[y2^2]", "tangent");
        for (c = 0; c < C; ++c) {
            double a = exp(-(double)times[c]), en = 0, et = 0;
            for (i = 0; i < ntraj; ++i) {
                const rdg_real *y = traj + (c * ntraj + i) * 2;
                double d0 = (double)y[0] - a * X[0], d1 = (double)y[0] - a * X[2];
                en += (double)y[1] * y[1];
                et += d0 * d0 < d1 * d1 ? d0 * d0 : d1 * d1;
            }
            en /= (double)ntraj; et /= (double)ntraj;
            printf("   %6zu %9.4g %14.4g %14.4g\n", c == C - 1 ? so.K : c * so.every, (double)times[c], en, et);
            if (c == C - 1) { finalN[wi] = en; finalT[wi] = et; }
        }
        free(out); free(traj); free(A0);
        rdg_rf_quad_free(&q);
        rdg_rfnn_free(&rf);
    }

    printf("\nclaim check (paper Section 5.2): at t0 = 0.005\n");
    {
        double nmax = 0, tmin = 1e300, tmax = 0;
        for (wi = 0; wi < 3; ++wi) {
            printf("   %-24s normal %.3g   tangent %.3g\n", names[wi], finalN[wi], finalT[wi]);
            if (finalN[wi] > nmax) nmax = finalN[wi];
            if (finalT[wi] < tmin) tmin = finalT[wi];
            if (finalT[wi] > tmax) tmax = finalT[wi];
        }
        printf("   normal error tiny for all weights (max %.3g, vs s_t0^2 = %.3g): %s\n", nmax,
               1 - exp(-0.01), nmax < 0.05 ? "yes" : "NO");
        printf("   tangential spread depends on the weight (max/min = %.3g): %s\n", tmax / tmin,
               tmax > 2 * tmin ? "yes" : "NO (within a factor 2)");
    }
    printf("total time %.1f s\n", now() - t_all);
    return 0;
}
