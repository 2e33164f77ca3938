/* tools/ab.c - two versions of ridgediff.h timed in one process, in turns (tools/ab.sh,
   `make ab`; never part of `make test`).

   Why: on a shared machine the speed of a core drifts by 10-30 % between runs, which hides the
   few-percent levers left in a tuned kernel. Linked into one program and run alternately, the
   two versions meet the same machine state in every round, and the ratio of their times is
   stable to about 1 % where separate processes swung by 20 %.

   Built twice as a unit (RDG_AB_HEADER the header, RDG_AB_RUN the name of its run function,
   RIDGEDIFF_STATIC so that the two implementations stay private to their units) and once with
   RDG_AB_MAIN for the driver. Workloads (tools/bench's, on its data in build/bench/):
     W3      exact-model reverse SDE, 200 trajectories x 1000 steps, N = 2000, d = 32
     W2lm    200 points onto the d* = 1 ridge at t = 0.05 by LM (rdg_ridge_project_ctx)
     W2scms  the same by SCMS
     W1      score + Hessian of 256 queries (rdg_density_eval_ctx), N x d normal data
             (-N, -d, -t; default 100000, 64, 5), generated here with fixed seeds
   Each round runs A then B (odd rounds) or B then A (even rounds); the output gives the best
   and the mean time of each, B's speed relative to A (A's time / B's), and whether the two
   produced the same bits (a checksum of the outputs).

   Which unit a version sits in matters by itself: one header against itself read 0.94-1.04
   here (code and data placement). So tools/ab.sh builds the program twice, the second time
   with the units' headers swapped (--swapped tells the driver), runs both, and reports the
   geometric mean of the two programs' ratios, in which that placement cancels. */
#if !defined(RDG_AB_MAIN)
#define _POSIX_C_SOURCE 200809L
#define RIDGEDIFF_IMPLEMENTATION
#define RIDGEDIFF_STATIC
#include RDG_AB_HEADER
#include <stdio.h>
#include <time.h>

static double ab_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The workload's state, set up at the first call and kept for the later ones. */
static struct {
    int ready;
    rdg_array X, Y;
    rdg_real *out, *hess;
    rdg_gmm g;
    rdg_model m;
    rdg_project_ctx *pctx;
    rdg_density_ctx *dctx;
    size_t n, d, B;
} ab;

static int ab_setup(const char *wl, const char *dir, size_t N, size_t d) {
    char path[512];
    memset(&ab, 0, sizeof ab);
    if (strcmp(wl, "W1") == 0) {
        rdg_rng r;
        size_t i;
        if (N > (size_t)-1 / 8 / d) return 0;
        ab.X.data = (rdg_real *)malloc(N * d * sizeof(rdg_real));
        ab.Y.data = (rdg_real *)malloc(256 * d * sizeof(rdg_real));
        if (!ab.X.data || !ab.Y.data) return 0;
        ab.X.ndim = ab.Y.ndim = 2;
        ab.X.shape[0] = N; ab.X.shape[1] = ab.Y.shape[1] = d; ab.Y.shape[0] = 256;
        rdg_rng_init(&r, 1, 0);
        for (i = 0; i < N * d; ++i) ab.X.data[i] = rdg_rng_normal(&r);
        for (i = 0; i < 256 * d; ++i) ab.Y.data[i] = rdg_rng_normal(&r);
        ab.B = 256;
    } else {
        snprintf(path, sizeof path, "%s/w2_X.npy", dir);
        if (rdg_npy_read(path, &ab.X) != RDG_OK || ab.X.ndim != 2) return 0;
        if (strncmp(wl, "W2", 2) == 0) {
            snprintf(path, sizeof path, "%s/w2_Y_t0.05.npy", dir);
            if (rdg_npy_read(path, &ab.Y) != RDG_OK || ab.Y.ndim != 2 || ab.Y.shape[1] != ab.X.shape[1]) return 0;
            ab.B = ab.Y.shape[0];
        } else ab.B = 200;
    }
    ab.n = ab.X.shape[0];
    ab.d = ab.X.shape[1];
    if (rdg_gmm_init(&ab.g, ab.X.data, ab.n, ab.d) != RDG_OK) return 0;
    ab.out = (rdg_real *)malloc(ab.B * ab.d * sizeof(rdg_real));
    if (!ab.out) return 0;
    if (strcmp(wl, "W1") == 0) {
        ab.hess = (rdg_real *)malloc(ab.B * ab.d * ab.d * sizeof(rdg_real));
        if (!ab.hess || rdg_density_ctx_create(&ab.g, &ab.dctx) != RDG_OK) return 0;
    } else if (strncmp(wl, "W2", 2) == 0) {
        if (rdg_project_ctx_create(&ab.g, &ab.pctx) != RDG_OK) return 0;
    } else if (rdg_model_exact(&ab.m, &ab.g) != RDG_OK) return 0;
    ab.ready = 1;
    return 1;
}

/* One run of workload wl: its seconds (negative on failure); *cs the outputs' checksum. */
double RDG_AB_RUN(const char *wl, const char *dir, size_t N, size_t d, double t, double *cs);
double RDG_AB_RUN(const char *wl, const char *dir, size_t N, size_t d, double t, double *cs) {
    double t0, sec;
    size_t i, len;
    rdg_status st;
    const rdg_real *o;
    if (!ab.ready && !ab_setup(wl, dir, N, d)) return -1;
    t0 = ab_now();
    if (strcmp(wl, "W1") == 0) {
        rdg_density_out out;
        memset(&out, 0, sizeof out);
        out.score = ab.out;
        out.hess = ab.hess;
        st = rdg_density_eval_ctx(ab.dctx, (rdg_real)t, ab.Y.data, ab.B, &out);
        o = ab.hess;
        len = ab.B * ab.d * ab.d;
    } else if (strncmp(wl, "W2", 2) == 0) {
        rdg_project_opts po;
        memset(&po, 0, sizeof po);
        po.dstar = 1;
        po.method = strcmp(wl, "W2scms") == 0 ? RDG_PROJECT_SCMS : RDG_PROJECT_LM;
        st = rdg_ridge_project_ctx(ab.pctx, (rdg_real)0.05, ab.Y.data, ab.B, &po, ab.out, NULL);
        o = ab.out;
        len = ab.B * ab.d;
    } else {
        rdg_sample_opts so;
        memset(&so, 0, sizeof so);
        so.T = 10; so.t0 = (rdg_real)0.005; so.K = 1000; so.seed = 5;
        st = rdg_sample(&ab.m, ab.B, &so, ab.out, NULL, NULL);
        o = ab.out;
        len = ab.B * ab.d;
    }
    sec = ab_now() - t0;
    if (st != RDG_OK) return -1;
    *cs = 0;
    for (i = 0; i < len; ++i) *cs += (double)o[i] * (double)(i % 7 + 1);
    return sec;
}

#else /* RDG_AB_MAIN: the driver */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double rdg_ab_run_a(const char *wl, const char *dir, size_t N, size_t d, double t, double *cs);
double rdg_ab_run_b(const char *wl, const char *dir, size_t N, size_t d, double t, double *cs);

#define AB_USAGE "usage: ab [-w W3|W2lm|W2scms|W1] [-r ROUNDS] [-N N] [-d D] [-t T] [--data DIR] [--swapped]\n"

int main(int argc, char **argv) {
    const char *wl = "W3", *dir = "build/bench";
    int rounds = 10, r, i, swapped = 0;
    size_t N = 100000, d = 64;
    double t = 5, ca = 0, cb = 0, ta, tb, ba = 1e300, bb = 1e300, sa = 0, sb = 0;
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--swapped") == 0) { swapped = 1; continue; }
        if (!v) { fprintf(stderr, AB_USAGE); return 2; }
        if (strcmp(a, "-w") == 0) wl = v;
        else if (strcmp(a, "-r") == 0) rounds = atoi(v);
        else if (strcmp(a, "-N") == 0) N = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "-d") == 0) d = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "-t") == 0) t = atof(v);
        else if (strcmp(a, "--data") == 0) dir = v;
        else { fprintf(stderr, AB_USAGE); return 2; }
        ++i;
    }
    if (strcmp(wl, "W3") != 0 && strcmp(wl, "W2lm") != 0 && strcmp(wl, "W2scms") != 0 && strcmp(wl, "W1") != 0) {
        fprintf(stderr, "ab: unknown workload %s\n" AB_USAGE, wl);
        return 2;
    }
    if (rounds < 1 || N < 1 || d < 1 || d > 4096 || !(t > 0)) { fprintf(stderr, AB_USAGE); return 2; }
    /* one warm-up each: data, workspaces, first touch */
    if (rdg_ab_run_a(wl, dir, N, d, t, &ca) < 0 || rdg_ab_run_b(wl, dir, N, d, t, &cb) < 0) {
        fprintf(stderr, "ab: %s failed (its data: %s; tools/bench --only W2,W3 --no-peer writes it)\n", wl, dir);
        return 1;
    }
    for (r = 0; r < rounds; ++r) {
        if (r % 2 == 0) { ta = rdg_ab_run_a(wl, dir, N, d, t, &ca); tb = rdg_ab_run_b(wl, dir, N, d, t, &cb); }
        else { tb = rdg_ab_run_b(wl, dir, N, d, t, &cb); ta = rdg_ab_run_a(wl, dir, N, d, t, &ca); }
        if (ta < 0 || tb < 0) { fprintf(stderr, "ab: a run failed\n"); return 1; }
        if (ta < ba) ba = ta;
        if (tb < bb) bb = tb;
        sa += ta;
        sb += tb;
    }
    if (swapped) {          /* unit a holds B */
        double x = ba; ba = bb; bb = x;
        x = sa; sa = sb; sb = x;
    }
    printf("%s, %d rounds, %s: A best %.2f ms, mean %.2f; B best %.2f ms, mean %.2f; B/A speed %.4f (best), %.4f (mean); "
           "outputs %s\n", wl, rounds, swapped ? "B in the first unit" : "A in the first unit", 1e3 * ba,
           1e3 * sa / rounds, 1e3 * bb, 1e3 * sb / rounds, ba / bb, sa / sb, ca == cb ? "the same" : "DIFFER");
    return 0;
}
#endif
