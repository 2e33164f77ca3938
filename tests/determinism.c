/* Determinism across thread counts (STYLE.md pitfall 8): every batch function is run with
   OpenMP at 1, 2 and 7 threads (omp_set_num_threads) and the outputs must be byte-identical.
   Covers density evaluation, the ridge frame/residual, LM and SCMS projection, tracing and,
   once they exist in the library, sampling (SDE and ODE), the DMM/PM losses, MLP training and
   the RFNN quadratic form (declared weak on ELF GCC/Clang; skipped with a message while
   missing). Without OpenMP the test says so and checks only that two runs agree.
   Built and run by `make determinism` (part of `make test`). */
#include "ridgediff.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__)
#  define DT_WEAK 1
#  define DT_W __attribute__((weak))
extern rdg_status rdg_model_exact(rdg_model *, const rdg_gmm *) DT_W;
extern rdg_status rdg_sample(const rdg_model *, size_t, const rdg_sample_opts *, rdg_real *, rdg_real *, rdg_real *) DT_W;
extern size_t rdg_sample_ncheck(size_t, size_t) DT_W;
extern rdg_status rdg_dmm_loss(const rdg_model *, const rdg_gmm *, const rdg_dmm_opts *, rdg_real *) DT_W;
extern rdg_status rdg_pm_loss(const rdg_model *, const rdg_gmm *, const rdg_dmm_opts *, const rdg_project_opts *,
                              rdg_real *, rdg_real *, rdg_real *, size_t *) DT_W;
extern rdg_status rdg_mlp_init(rdg_mlp *, size_t, size_t, const size_t *, size_t, unsigned long long) DT_W;
extern void rdg_mlp_free(rdg_mlp *) DT_W;
extern rdg_status rdg_mlp_train(rdg_mlp *, const rdg_gmm *, const rdg_train_opts *, rdg_real *) DT_W;
extern rdg_status rdg_rfnn_init(rdg_rfnn *, size_t, size_t, size_t, rdg_real, unsigned long long) DT_W;
extern void rdg_rfnn_free(rdg_rfnn *) DT_W;
extern rdg_status rdg_rf_quad_build(const rdg_rfnn *, const rdg_gmm *, const rdg_dmm_opts *, rdg_rf_quad *) DT_W;
extern void rdg_rf_quad_free(rdg_rf_quad *) DT_W;
typedef void (*dt_fn)(void);
static int dt_have(dt_fn f) { return f != 0; }
#  define DT_HAVE(f) dt_have((dt_fn)(f))
#else
#  define DT_WEAK 0
#endif

#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#  include <omp.h>
#endif

#define NX 60
#define DIM 4
#define NB 23
static rdg_real X[NX * DIM], Y[NB * DIM];
static rdg_gmm G;

static const int threads[3] = { 1, 2, 7 };

static void set_threads(int k) {
#ifdef _OPENMP
    omp_set_num_threads(k);
#else
    (void)k;
#endif
}

/* A computation writing `bytes` bytes of results into out; returns its status. */
typedef rdg_status (*dt_run)(unsigned char *out);

static void compare(const char *name, dt_run run, size_t bytes) {
    unsigned char *ref = (unsigned char *)calloc(bytes, 1), *got = (unsigned char *)calloc(bytes, 1);
    int i, same = 1;
    rdg_status st;
    if (!ref || !got) { printf("out of memory\n"); exit(2); }
    set_threads(threads[0]);
    st = run(ref);
    CHECK(st == RDG_OK, "%s at 1 thread: %s", name, rdg_status_str(st));
    for (i = 1; i < 3; ++i) {
        memset(got, 0xa5, bytes);
        set_threads(threads[i]);
        st = run(got);
        CHECK(st == RDG_OK, "%s at %d threads: %s", name, threads[i], rdg_status_str(st));
        if (memcmp(ref, got, bytes) != 0) {
            size_t k = 0;
            while (k < bytes && ref[k] == got[k]) ++k;
            CHECK(0, "%s: %d threads differ from 1 thread (first differing byte %lu of %lu)", name,
                  threads[i], (unsigned long)k, (unsigned long)bytes);
            same = 0;
        }
    }
    if (same) printf("ok %s: identical bytes at 1, 2, 7 threads\n", name);
    free(ref); free(got);
}

static rdg_status r_density(unsigned char *o) {
    rdg_density_out out;
    rdg_real *p = (rdg_real *)o;
    out.logp = p; out.weights = p + NB; out.mean = out.weights + NB * NX; out.score = out.mean + NB * DIM;
    out.cov = out.score + NB * DIM; out.hess = out.cov + NB * DIM * DIM;
    return rdg_density_eval(&G, (rdg_real)0.4, Y, NB, &out);
}
#define DENSITY_REALS (NB + NB * NX + 2 * NB * DIM + 2 * NB * DIM * DIM)
static rdg_status r_frame(unsigned char *o) {
    rdg_real *p = (rdg_real *)o;
    return rdg_ridge_frame(&G, (rdg_real)0.4, Y, NB, p, p + NB * DIM);
}
static rdg_status r_resid(unsigned char *o) {
    rdg_real *p = (rdg_real *)o;
    return rdg_ridge_residual(&G, (rdg_real)0.4, Y, NB, 2, p, p + NB * DIM);
}
static rdg_status r_project(unsigned char *o, int method) {
    rdg_project_opts po;
    rdg_project_info info[NB];
    rdg_real *p = (rdg_real *)o;
    rdg_status st;
    int i;
    memset(&po, 0, sizeof po);
    po.dstar = 1; po.method = method;
    st = rdg_ridge_project(&G, (rdg_real)0.3, Y, NB, &po, p, info);
    /* the report as numbers (struct padding is not compared) */
    for (i = 0; i < NB; ++i) {
        rdg_real *q = p + NB * DIM + 8 * i;
        q[0] = info[i].distance; q[1] = info[i].resid0; q[2] = info[i].resid; q[3] = info[i].gap;
        q[4] = (rdg_real)info[i].iters; q[5] = (rdg_real)info[i].converged;
        q[6] = (rdg_real)info[i].curv_ok; q[7] = (rdg_real)info[i].reliable;
    }
    return st;
}
static rdg_status r_lm(unsigned char *o) { return r_project(o, RDG_PROJECT_LM); }
static rdg_status r_scms(unsigned char *o) { return r_project(o, RDG_PROJECT_SCMS); }
static rdg_status r_trace(unsigned char *o) {
    rdg_project_opts po;
    rdg_real *out = NULL, *p = (rdg_real *)o;
    size_t nout = 0;
    rdg_status st;
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    st = rdg_ridge_trace(&G, (rdg_real)0.3, Y, NB, &po, 0, &out, &nout);
    p[0] = (rdg_real)nout;
    if (out) memcpy(p + 1, out, nout * DIM * sizeof(rdg_real));
    rdg_free(out);
    return st;
}

#if DT_WEAK
#define SN 16
#define SK 40
static rdg_status r_sample(unsigned char *o, int ode) {
    rdg_model m;
    rdg_sample_opts so;
    rdg_real *p = (rdg_real *)o;
    size_t C = rdg_sample_ncheck(SK, 10);
    rdg_status st = rdg_model_exact(&m, &G);
    if (st != RDG_OK) return st;
    memset(&so, 0, sizeof so);
    so.K = SK; so.every = 10; so.seed = 42; so.ode = ode;
    return rdg_sample(&m, SN, &so, p, p + SN * DIM, p + SN * DIM + C * SN * DIM);
}
static rdg_status r_sde(unsigned char *o) { return r_sample(o, 0); }
static rdg_status r_ode(unsigned char *o) { return r_sample(o, 1); }
static rdg_status r_dmm(unsigned char *o) {
    rdg_model m;
    rdg_dmm_opts dopt;
    rdg_status st = rdg_model_exact(&m, &G);
    if (st != RDG_OK) return st;
    memset(&dopt, 0, sizeof dopt);
    dopt.nt = 20; dopt.seed = 5;
    return rdg_dmm_loss(&m, &G, &dopt, (rdg_real *)o);
}
static rdg_status r_pm(unsigned char *o) {
    rdg_model m;
    rdg_dmm_opts dopt;
    rdg_project_opts po;
    rdg_real *p = (rdg_real *)o;
    size_t nfail = 0;
    rdg_status st = rdg_model_exact(&m, &G);
    if (st != RDG_OK) return st;
    memset(&dopt, 0, sizeof dopt);
    dopt.nt = 4; dopt.seed = 5; dopt.nsub = 8;
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    st = rdg_pm_loss(&m, &G, &dopt, &po, p, p + 1, p + 2, &nfail);
    p[3] = (rdg_real)nfail;
    return st;
}
static rdg_status r_mlp(unsigned char *o) {
    rdg_mlp net;
    size_t hidden[2] = { 16, 16 };
    rdg_train_opts to;
    rdg_status st = rdg_mlp_init(&net, DIM, 2, hidden, 8, 9);
    if (st != RDG_OK) return st;
    memset(&to, 0, sizeof to);
    to.steps = 30; to.batch = 32; to.seed = 4;
    st = rdg_mlp_train(&net, &G, &to, (rdg_real *)o);
    if (st == RDG_OK) memcpy(o + sizeof(rdg_real), net.params, net.nparams * sizeof(rdg_real));
    rdg_mlp_free(&net);
    return st;
}
static size_t mlp_bytes(void) {
    size_t h0 = 16, h1 = 16, in = DIM + 8;
    return sizeof(rdg_real) * (1 + h0 * in + h0 + h1 * h0 + h1 + DIM * h1 + DIM);
}
static rdg_status r_rfq(unsigned char *o) {
    rdg_rfnn rf;
    rdg_rf_quad q;
    rdg_dmm_opts dopt;
    rdg_real *p = (rdg_real *)o;
    rdg_status st = rdg_rfnn_init(&rf, DIM, 12, 4, 0, 3);
    if (st != RDG_OK) return st;
    memset(&dopt, 0, sizeof dopt);
    dopt.nt = 10; dopt.seed = 2;
    memset(&q, 0, sizeof q);
    st = rdg_rf_quad_build(&rf, &G, &dopt, &q);
    if (st == RDG_OK) {
        memcpy(p, q.K, 12 * 12 * sizeof(rdg_real));
        memcpy(p + 144, q.B, DIM * 12 * sizeof(rdg_real));
        p[144 + DIM * 12] = q.c;
    }
    rdg_rf_quad_free(&q);
    rdg_rfnn_free(&rf);
    return st;
}
#endif

int main(void) {
    int i;
    rdg_rng r;
    rdg_rng_init(&r, 2024, 0);
    for (i = 0; i < NX; ++i) {            /* a noisy curve in R^4 */
        rdg_real s = (rdg_real)i / NX * 6;
        X[i * DIM + 0] = s;
        X[i * DIM + 1] = (rdg_real)0.5 * s * s / 6 + (rdg_real)0.1 * rdg_rng_normal(&r);
        X[i * DIM + 2] = (rdg_real)0.1 * rdg_rng_normal(&r);
        X[i * DIM + 3] = (rdg_real)0.05 * rdg_rng_normal(&r);
    }
    for (i = 0; i < NB * DIM; ++i) Y[i] = X[(i * 7) % (NX * DIM)] + (rdg_real)0.3 * rdg_rng_normal(&r);
    if (rdg_gmm_init(&G, X, NX, DIM) != RDG_OK) { printf("gmm_init failed\n"); return 2; }
#ifndef _OPENMP
    printf("note: built without OpenMP: the thread counts are not exercised, only repeatability\n");
#endif
    compare("rdg_density_eval (all outputs)", r_density, DENSITY_REALS * sizeof(rdg_real));
    compare("rdg_ridge_frame", r_frame, (NB * DIM + NB * DIM * DIM) * sizeof(rdg_real));
    compare("rdg_ridge_residual", r_resid, (NB * DIM + NB) * sizeof(rdg_real));
    compare("rdg_ridge_project LM", r_lm, (NB * DIM + 8 * NB) * sizeof(rdg_real));
    compare("rdg_ridge_project SCMS", r_scms, (NB * DIM + 8 * NB) * sizeof(rdg_real));
    compare("rdg_ridge_trace", r_trace, (1 + NB * DIM) * sizeof(rdg_real));
#if DT_WEAK
    if (DT_HAVE(rdg_model_exact) && DT_HAVE(rdg_sample) && DT_HAVE(rdg_sample_ncheck)) {
        size_t C = rdg_sample_ncheck(SK, 10);
        compare("rdg_sample SDE (exact model)", r_sde, (SN * DIM + C * SN * DIM + C) * sizeof(rdg_real));
        compare("rdg_sample ODE (exact model)", r_ode, (SN * DIM + C * SN * DIM + C) * sizeof(rdg_real));
    } else printf("skip rdg_sample (not in the library yet)\n");
    if (DT_HAVE(rdg_model_exact) && DT_HAVE(rdg_dmm_loss)) compare("rdg_dmm_loss (exact model)", r_dmm, sizeof(rdg_real));
    else printf("skip rdg_dmm_loss (not in the library yet)\n");
    if (DT_HAVE(rdg_model_exact) && DT_HAVE(rdg_pm_loss)) compare("rdg_pm_loss (exact model)", r_pm, 4 * sizeof(rdg_real));
    else printf("skip rdg_pm_loss (not in the library yet)\n");
    if (DT_HAVE(rdg_mlp_init) && DT_HAVE(rdg_mlp_train) && DT_HAVE(rdg_mlp_free)) compare("rdg_mlp_train", r_mlp, mlp_bytes());
    else printf("skip rdg_mlp_train (not in the library yet)\n");
    if (DT_HAVE(rdg_rfnn_init) && DT_HAVE(rdg_rf_quad_build) && DT_HAVE(rdg_rf_quad_free) && DT_HAVE(rdg_rfnn_free))
        compare("rdg_rf_quad_build", r_rfq, (145 + DIM * 12) * sizeof(rdg_real));
    else printf("skip rdg_rf_quad_build (not in the library yet)\n");
#else
    printf("skip sampling/training (weak symbols need an ELF GCC/Clang build)\n");
#endif
    RDG_TEST_END("determinism");
}
