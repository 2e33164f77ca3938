/* cc -O2 -std=c99 -fopenmp -o two_point_init examples/two_point_init.c -lm

   Initialisation effects for the RFNN on the two-point data (+-3, 0) (paper Section 4.2,
   "Fully explicit results of two-point data", and Appendix K.1). Gradient descent on the DMM
   loss is linear in A, so the optimisation error after k steps is
       opt = sum_j k_j (1 - 2 eta k_j)^(2k) |(A_0 - A_inf) u_j|^2,
   split by output row: row 1 (y) is normal to the ridge (the x axis), row 0 (x) tangent. The
   normal optimisation error depends only on the second row of A_0 (A_inf's second row is 0):
   with that row zero it is exactly 0 at every step (alignment is immediate), while A_0 along a
   slow eigenvector of K keeps it alive for long. Initialisations:
     zero, ones, gauss (N(0,1)), gauss with row 1 zeroed,
     slow     = rdg_rf_init_A(SLOW): every row sqrt(M) u_min, u_min the eigenvector of the
                smallest non-zero eigenvalue of K (numerically tiny: it is never learned, but it
                also weighs almost nothing in the loss),
     slow@1e5 = every row sqrt(M) u_j with k_j closest to 1/(2 eta 1e5): the mode that is only
                half learned after 1e5 steps (the "slow-spectrum" initialisation of K.1).
   For each it prints opt_N and opt_T at steps 0 .. 1e5 (closed form), and the normal inference
   error E[y_2^2] of samples drawn with the network after 1e3 steps (the transient "arch" of
   K.1) and after 1e5 steps.
   Usage: two_point_init [M (2000)] [noise draws per point and node (4)] [trajectories (300)] */
#define RIDGEDIFF_IMPLEMENTATION
#include "../ridgediff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
static double now(void) { return omp_get_wtime(); }
#else
static double now(void) { return (double)clock() / CLOCKS_PER_SEC; }
#endif

#define NSTEP 6
#define NINIT 6

static int fail(const char *what, rdg_status st) {
    fprintf(stderr, "%s: %s\n", what, rdg_status_str(st));
    return 1;
}

/* mean of y_2^2 over n samples at t0 after sampling the network with weights A */
static rdg_status normal_error(rdg_rfnn *rf, const rdg_real *A, size_t n, double *err) {
    rdg_model m;
    rdg_sample_opts so;
    rdg_real *out = (rdg_real *)malloc(n * 2 * sizeof(rdg_real)), *keep = rf->A;
    rdg_status st;
    size_t i;
    double s = 0;
    if (!out) return RDG_ERR_NOMEM;
    rf->A = (rdg_real *)A;
    rdg_rfnn_model(rf, &m);
    memset(&so, 0, sizeof so);
    so.K = 1000; so.seed = 5;
    st = rdg_sample(&m, n, &so, out, NULL, NULL);
    rf->A = keep;
    for (i = 0; i < n; ++i) s += (double)out[2 * i + 1] * out[2 * i + 1];
    *err = s / (double)n;
    free(out);
    return st;
}

int main(int argc, char **argv) {
    static const rdg_real X[4] = { -3, 0, 3, 0 };
    static const size_t steps[NSTEP] = { 0, 10, 100, 1000, 10000, 100000 };
    static const char *names[NINIT] = { "zero", "ones", "gauss", "gauss, row 1 = 0", "slow (API)", "slow@1e5" };
    const size_t normal_row = 1;
    const rdg_real eta = 0.004;
    size_t M = argc > 1 ? (size_t)atol(argv[1]) : 2000;
    size_t ndraw = argc > 2 ? (size_t)atol(argv[2]) : 4;
    size_t ntraj = argc > 3 ? (size_t)atol(argv[3]) : 300;
    rdg_gmm g;
    rdg_model mex;
    rdg_rfnn rf;
    rdg_dmm_opts o;
    rdg_rf_quad q;
    rdg_rf_errors e;
    rdg_real lmin, *A0, *Ak;
    rdg_status st;
    double t_all = now(), t_build, opt_n[NINIT][NSTEP], opt_t[NINIT][NSTEP], nerr[NINIT][2];
    size_t s, i, j, jslow = 0;
    int k;

    if (M == 0 || ndraw == 0 || ntraj == 0) { fprintf(stderr, "usage: %s [M] [ndraw] [ntraj]\n", argv[0]); return 2; }
    if ((st = rdg_gmm_init(&g, X, 2, 2)) != RDG_OK) return fail("data", st);
    if ((st = rdg_model_exact(&mex, &g)) != RDG_OK) return fail("exact model", st);
    memset(&o, 0, sizeof o);
    o.weight = RDG_WEIGHT_ONE; o.nt = 2000; o.ndraw = ndraw; o.seed = 2026;
    o.pm_target = 1;   /* L_PM: the architecture error is a true floor (>= 0) */
    if ((st = rdg_rfnn_init(&rf, 2, M, 128, 10, 7)) != RDG_OK) return fail("rfnn", st);
    if ((st = rdg_rf_quad_build(&rf, &g, &o, &q)) != RDG_OK) return fail("quadratic form", st);
    t_build = now() - t_all;
    if ((st = rdg_dmm_loss(&mex, &g, &o, &lmin)) != RDG_OK) return fail("exact loss", st);
    A0 = (rdg_real *)malloc(2 * M * sizeof(rdg_real));
    Ak = (rdg_real *)malloc(2 * M * sizeof(rdg_real));
    if (!A0 || !Ak) return fail("alloc", RDG_ERR_NOMEM);
    {   /* the mode closest to 1/(2 eta 1e5) on a log scale */
        double target = 1.0 / (2.0 * (double)eta * 1e5), best = 1e300;
        int r = rdg__rf_rank(&q);
        for (j = 0; j < (size_t)r; ++j) {
            double dist = fabs(log((double)q.kval[j] / target));
            if (dist < best) { best = dist; jslow = j; }
        }
    }
    printf("two-point data (+-3, 0), RFNN M = %zu, w = 1, %zu noise draws per point and node, GD lr %.3g\n",
           M, ndraw, (double)eta);
    printf("quadratic form + eigen-decomposition: %.1f s; k_max = %.3g, smallest kept k = %.3g (rank %d), "
           "slow@1e5 mode k = %.3g\n", t_build, (double)q.kval[0], (double)q.kval[rdg__rf_rank(&q) - 1],
           rdg__rf_rank(&q), (double)q.kval[jslow]);

    for (k = 0; k < NINIT; ++k) {
        switch (k) {
        case 0: st = rdg_rf_init_A(&q, RDG_RF_INIT_ZERO, 2, M, 7, A0); break;
        case 1: st = rdg_rf_init_A(&q, RDG_RF_INIT_ONES, 2, M, 7, A0); break;
        case 2: st = rdg_rf_init_A(&q, RDG_RF_INIT_GAUSS, 2, M, 7, A0); break;
        case 3: st = rdg_rf_init_A(&q, RDG_RF_INIT_GAUSS, 2, M, 7, A0);
                for (j = 0; j < M; ++j) A0[M + j] = 0;
                break;
        case 4: st = rdg_rf_init_A(&q, RDG_RF_INIT_SLOW, 2, M, 7, A0); break;
        default:
            for (i = 0; i < 2; ++i) for (j = 0; j < M; ++j) A0[i * M + j] = sqrt((double)M) * q.kvec[j * M + jslow];
            st = RDG_OK;
        }
        if (st != RDG_OK) return fail("init", st);
        for (s = 0; s < NSTEP; ++s) {
            if ((st = rdg_rf_split(&q, A0, eta, steps[s], lmin, &normal_row, 1, &e)) != RDG_OK) return fail("split", st);
            opt_n[k][s] = e.opt_normal; opt_t[k][s] = e.opt_tangent;
        }
        for (s = 0; s < 2; ++s) {
            if ((st = rdg_rf_closed_form(&q, A0, eta, s == 0 ? 1000 : 100000, Ak)) != RDG_OK) return fail("closed form", st);
            if ((st = normal_error(&rf, Ak, ntraj, &nerr[k][s])) != RDG_OK) return fail("sample", st);
        }
    }
    printf("\nnormal optimisation error opt_N (row 1) vs GD step\n%-18s", "init");
    for (s = 0; s < NSTEP; ++s) printf(" %11zu", steps[s]);
    for (k = 0; k < NINIT; ++k) {
        printf("\n%-18s", names[k]);
        for (s = 0; s < NSTEP; ++s) printf(" %11.4g", opt_n[k][s]);
    }
    printf("\n\ntangent optimisation error opt_T (row 0) vs GD step\n%-18s", "init");
    for (s = 0; s < NSTEP; ++s) printf(" %11zu", steps[s]);
    for (k = 0; k < NINIT; ++k) {
        printf("\n%-18s", names[k]);
        for (s = 0; s < NSTEP; ++s) printf(" %11.4g", opt_t[k][s]);
    }
    printf("\n\nnormal inference error E[y2^2] at t0 (%zu samples; s_t0^2 = %.3g)\n%-18s %12s %12s\n",
           ntraj, 1 - exp(-0.01), "init", "1e3 steps", "1e5 steps");
    for (k = 0; k < NINIT; ++k) printf("%-18s %12.4g %12.4g\n", names[k], nerr[k][0], nerr[k][1]);
    printf("\nchecks: opt_N identically 0 with row 1 = 0 at init: %s; zero init opt_N = 0: %s\n",
           opt_n[3][0] == 0 && opt_n[3][NSTEP - 1] == 0 ? "yes" : "NO",
           opt_n[0][0] == 0 && opt_n[0][NSTEP - 1] == 0 ? "yes" : "NO");
    printf("slow@1e5 keeps opt_N after 1e5 steps at %.3g of its initial value (gauss: %.3g)\n",
           opt_n[5][NSTEP - 1] / opt_n[5][0], opt_n[2][NSTEP - 1] / opt_n[2][0]);
    printf("total time %.1f s\n", now() - t_all);
    free(A0); free(Ak);
    rdg_rf_quad_free(&q);
    rdg_rfnn_free(&rf);
    return 0;
}
