/* Allocation-failure injection (STYLE.md pitfall 9): RDG_MALLOC/RDG_REALLOC/RDG_FREE are a
   counting allocator that can fail its k-th allocation. For every public entry point that
   allocates, each case is run once normally (counting its n allocations) and then n more
   times, failing allocation 1, 2, ..., n in turn. Each failing run must
     - return RDG_ERR_NOMEM (never RDG_OK, never a crash),
     - leave no block allocated (allocation count balance, after the case frees what the
       call handed back),
     - leave the caller's inputs byte-identical (compared with copies).
   The functions being added to the library (model files, MLP, RFNN, sampler, DMM loss) are
   declared weak on ELF GCC/Clang builds and tested when they are defined, skipped (with a
   line saying so) when they are not yet. OpenMP: the whole test runs at 1 thread, then the
   batch cases again at 2 threads (the counters are updated inside an OpenMP critical
   section, so allocations made inside parallel regions are counted correctly). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static long fa_count = 0;     /* allocations attempted in this run                        */
static long fa_fail_at = 0;   /* the 1-based allocation that fails; 0 = none              */
static long fa_live = 0;      /* blocks currently allocated                               */
static int fa_injected = 0;   /* the failure was injected in this run                     */

static void *fa_malloc(size_t sz);
static void *fa_realloc(void *p, size_t sz);
static void fa_free(void *p);

#ifdef _OPENMP
#  define FA_CRITICAL _Pragma("omp critical(rdg_fa)")
#else
#  define FA_CRITICAL
#endif

static void *fa_malloc(size_t sz) {
    void *p = NULL;
    FA_CRITICAL
    {
        fa_count++;
        if (fa_fail_at && fa_count == fa_fail_at) fa_injected = 1;
        else if ((p = malloc(sz ? sz : 1)) != NULL) fa_live++;
    }
    return p;
}
static void *fa_realloc(void *p, size_t sz) {
    void *q = NULL;
    FA_CRITICAL
    {
        fa_count++;
        if (fa_fail_at && fa_count == fa_fail_at) fa_injected = 1;   /* p stays valid */
        else if ((q = realloc(p, sz ? sz : 1)) != NULL && !p) fa_live++;
    }
    return q;
}
static void fa_free(void *p) {
    if (!p) return;
    FA_CRITICAL
    {
        fa_live--;
    }
    free(p);
}

#define RDG_MALLOC(sz, u) ((void)(u), fa_malloc(sz))
#define RDG_REALLOC(p, sz, u) ((void)(u), fa_realloc(p, sz))
#define RDG_FREE(p, u) ((void)(u), fa_free(p))

/* Declarations first, so that the weak declarations below precede the definitions. */
#include "ridgediff.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__) && !defined(RDG_ALLOC_NO_WEAK)
#  define FA_WEAK 1
#  define FA_W __attribute__((weak))
extern rdg_status rdg_mlp_init(rdg_mlp *, size_t, size_t, const size_t *, size_t, unsigned long long) FA_W;
extern void rdg_mlp_free(rdg_mlp *) FA_W;
extern rdg_status rdg_mlp_train(rdg_mlp *, const rdg_gmm *, const rdg_train_opts *, rdg_real *) FA_W;
extern rdg_status rdg_model_file_save_mem(const rdg_model_file *, void **, size_t *) FA_W;
extern rdg_status rdg_model_file_load_mem(const void *, size_t, rdg_model_file *) FA_W;
extern void rdg_model_file_free(rdg_model_file *) FA_W;
extern rdg_status rdg_model_exact(rdg_model *, const rdg_gmm *) FA_W;
extern rdg_status rdg_sample(const rdg_model *, size_t, const rdg_sample_opts *, rdg_real *, rdg_real *, rdg_real *) FA_W;
extern size_t rdg_sample_ncheck(size_t, size_t) FA_W;
extern rdg_status rdg_rfnn_init(rdg_rfnn *, size_t, size_t, size_t, rdg_real, unsigned long long) FA_W;
extern void rdg_rfnn_free(rdg_rfnn *) FA_W;
extern rdg_status rdg_rf_quad_build(const rdg_rfnn *, const rdg_gmm *, const rdg_dmm_opts *, rdg_rf_quad *) FA_W;
extern void rdg_rf_quad_free(rdg_rf_quad *) FA_W;
extern rdg_status rdg_dmm_loss(const rdg_model *, const rdg_gmm *, const rdg_dmm_opts *, rdg_real *) FA_W;
extern rdg_status rdg_pm_loss(const rdg_model *, const rdg_gmm *, const rdg_dmm_opts *, const rdg_project_opts *,
                              rdg_real *, rdg_real *, rdg_real *, size_t *) FA_W;
/* 1 when a weak function is defined (through a call, so that compilers that can see the
   definition do not warn that the address is always non-NULL) */
typedef void (*fa_fn)(void);
static int fa_have(fa_fn f) { return f != 0; }
#  define FA_HAVE(f) fa_have((fa_fn)(f))
#else
#  define FA_WEAK 0
#endif

#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#ifdef _OPENMP
#  include <omp.h>
#endif

/* ---- the data every case uses ----------------------------------------------------------- */
#define N 7
#define D 3
static rdg_real X[N * D] = {
    0, 0, 0,   1, 0, 0.1,   2, 0.2, 0,   3, 0, -0.1,   0.5, 1, 0,   1.5, -1, 0.2,   2.5, 0.1, 0.3
};
#define B 3
static rdg_real Y[B * D] = { 0.4, 0.3, 0.1,   1.7, -0.4, 0.0,   2.2, 0.5, -0.2 };
static rdg_real T = (rdg_real)0.3;
static rdg_gmm G;
static rdg_project_opts PO;

/* Outputs (sized generously; their content is not checked here, only statuses). */
static rdg_real o_lam[B * D], o_V[B * D * D], o_r[B * D], o_gap[B], o_J[D * D], o_P[B * D];
static rdg_real o_logp[B], o_w[B * N], o_mean[B * D], o_score[B * D], o_cov[B * D * D], o_hess[B * D * D];
static rdg_project_info o_info[B];
static rdg_real eig_A[25], eig_w[5], eig_V[25];
static rdg_real d3_u[D] = { 1, 0.5, -0.25 }, d3_v[D] = { 0, 1, 0.5 }, d3_out[D];

/* inputs a case promises not to touch: pointer and size, compared after every run */
typedef struct { const void *p; size_t n; } fa_input;
#define FA_MAX_INPUTS 6

typedef struct fa_case {
    const char *name;
    rdg_status (*run)(void);          /* the call; frees what it got back when it succeeded */
    void (*cleanup)(void);            /* after every run (NULL: nothing)                     */
    fa_input in[FA_MAX_INPUTS];
    int batch;                        /* rerun at 2 threads                                  */
} fa_case;

/* ---- the cases -------------------------------------------------------------------------- */
static rdg_status c_eigh(void) { return rdg_eigh(eig_A, 5, eig_w, eig_V, NULL); }
static rdg_status c_eigh_novec(void) { return rdg_eigh(eig_A, 5, eig_w, NULL, NULL); }
static rdg_status c_density(void) {
    rdg_density_out o;
    o.logp = o_logp; o.weights = o_w; o.mean = o_mean; o.score = o_score; o.cov = o_cov; o.hess = o_hess;
    return rdg_density_eval(&G, T, Y, B, &o);
}
static rdg_status c_density_logp(void) {
    rdg_density_out o;
    memset(&o, 0, sizeof o);
    o.logp = o_logp;
    return rdg_density_eval(&G, T, Y, B, &o);
}
/* a context through two calls: the second needs more workspaces and the transposed data */
static rdg_status c_density_ctx(void) {
    rdg_density_out o;
    rdg_density_ctx *c = NULL;
    rdg_real y4[(B + 1) * D], s4[(B + 1) * D];
    rdg_status st = rdg_density_ctx_create(&G, &c);
    if (st != RDG_OK) return st;
    memcpy(y4, Y, sizeof Y);
    memcpy(y4 + B * D, Y, D * sizeof(rdg_real));
    memset(&o, 0, sizeof o);
    o.score = s4; o.hess = o_hess;
    st = rdg_density_eval_ctx(c, T, Y, 1, &o);
    o.hess = NULL;
    if (st == RDG_OK) st = rdg_density_eval_ctx(c, T, y4, B + 1, &o);   /* B + 1 >= 4: transposed data */
    rdg_density_ctx_free(c);
    return st;
}
static rdg_status c_d3(void) { return rdg_density_d3(&G, T, Y, d3_u, d3_v, d3_out); }
static rdg_status c_frame(void) { return rdg_ridge_frame(&G, T, Y, B, o_lam, o_V); }
static rdg_status c_resid(void) { return rdg_ridge_residual(&G, T, Y, B, 1, o_r, o_gap); }
static rdg_status c_jac(void) { return rdg_ridge_jacobian(&G, T, Y, 1, o_J); }
static rdg_status c_proj_lm(void) { PO.method = RDG_PROJECT_LM; return rdg_ridge_project(&G, T, Y, B, &PO, o_P, o_info); }
static rdg_status c_proj_scms(void) { PO.method = RDG_PROJECT_SCMS; return rdg_ridge_project(&G, T, Y, B, &PO, o_P, NULL); }
/* a projection context through two calls: the second may need more threads' room */
static rdg_status c_proj_ctx(void) {
    rdg_project_ctx *c = NULL;
    rdg_status st = rdg_project_ctx_create(&G, &c);
    if (st != RDG_OK) return st;
    PO.method = RDG_PROJECT_LM;
    st = rdg_ridge_project_ctx(c, T, Y, 1, &PO, o_P, o_info);
    PO.method = RDG_PROJECT_SCMS;
    if (st == RDG_OK) st = rdg_ridge_project_ctx(c, T, Y, B, &PO, o_P, o_info);
    rdg_project_ctx_free(c);
    return st;
}
static rdg_status c_trace(void) {
    rdg_real *out = NULL;
    size_t nout = 0;
    rdg_status st;
    PO.method = RDG_PROJECT_SCMS;
    st = rdg_ridge_trace(&G, T, Y, B, &PO, 0, &out, &nout);
    if (st != RDG_OK && (out != NULL || nout != 0)) { rdg_t_fail++; printf("FAIL trace: output set on failure\n"); }
    rdg_free(out);
    return st;
}

static unsigned char *npy_img = NULL;
static size_t npy_len = 0;
static rdg_status c_npy_read(void) {
    rdg_array a;
    rdg_status st = rdg_npy_read_mem(npy_img, npy_len, &a);
    if (st != RDG_OK && (a.data != NULL || a.count != 0)) { rdg_t_fail++; printf("FAIL npy_read: array not zeroed\n"); }
    rdg_array_free(&a);
    return st;
}
static rdg_status c_npy_write(void) {
    size_t shape[2] = { N, D };
    void *buf = NULL;
    size_t len = 0;
    rdg_status st = rdg_npy_write_mem(X, 2, shape, &buf, &len);
    if (st != RDG_OK && (buf != NULL || len != 0)) { rdg_t_fail++; printf("FAIL npy_write: output set on failure\n"); }
    rdg_free(buf);
    return st;
}
#ifndef RDG_NO_STDIO
static char npy_path[64];
static rdg_status c_npy_file(void) {
    size_t shape[2] = { N, D };
    rdg_array a;
    rdg_status st = rdg_npy_write(npy_path, X, 2, shape);
    if (st != RDG_OK) return st;
    st = rdg_npy_read(npy_path, &a);
    rdg_array_free(&a);
    return st;
}
static void c_npy_file_cleanup(void) { remove(npy_path); }
#endif

#if FA_WEAK
/* The functions being added (weak: tested once they exist). */
static unsigned char *mf_img = NULL;
static size_t mf_len = 0;
static rdg_status c_mlp_init(void) {
    rdg_mlp net;
    size_t hidden[2] = { 6, 5 };
    rdg_status st = rdg_mlp_init(&net, D, 2, hidden, 4, 7);
    if (st == RDG_OK) rdg_mlp_free(&net);
    return st;
}
static rdg_status c_mlp_train(void) {
    rdg_mlp net;
    size_t hidden[1] = { 8 };
    rdg_train_opts o;
    rdg_real loss = 0;
    rdg_status st;
    memset(&o, 0, sizeof o);
    o.steps = 3; o.batch = 4; o.seed = 3;
    st = rdg_mlp_init(&net, D, 1, hidden, 4, 7);
    if (st != RDG_OK) return st;
    st = rdg_mlp_train(&net, &G, &o, &loss);
    rdg_mlp_free(&net);
    return st;
}
static rdg_status c_mf_save(void) {
    rdg_model_file f;
    size_t hidden[1] = { 5 };
    void *buf = NULL;
    size_t len = 0;
    rdg_status st;
    memset(&f, 0, sizeof f);
    f.kind = RDG_MODEL_MLP;
    st = rdg_mlp_init(&f.mlp, D, 1, hidden, 4, 1);
    if (st != RDG_OK) return st;
    st = rdg_model_file_save_mem(&f, &buf, &len);
    rdg_free(buf);
    rdg_model_file_free(&f);
    return st;
}
static rdg_status c_mf_load(void) {
    rdg_model_file f;
    rdg_status st = rdg_model_file_load_mem(mf_img, mf_len, &f);
    rdg_model_file_free(&f);
    return st;
}
static rdg_status c_sample(void) {
    rdg_model m;
    rdg_sample_opts o;
    rdg_real out[4 * D], traj[3 * 4 * D], times[3];
    rdg_status st = rdg_model_exact(&m, &G);
    if (st != RDG_OK) return st;
    memset(&o, 0, sizeof o);
    o.K = 6; o.every = 3; o.seed = 11;
    if (rdg_sample_ncheck(6, 3) > 3) return RDG_ERR_INVALID;
    return rdg_sample(&m, 4, &o, out, traj, times);
}
static rdg_status c_rfnn_init(void) {
    rdg_rfnn rf;
    rdg_status st = rdg_rfnn_init(&rf, D, 6, 2, 0, 5);
    if (st == RDG_OK) rdg_rfnn_free(&rf);
    return st;
}
static rdg_status c_rf_quad(void) {
    rdg_rfnn rf;
    rdg_rf_quad q;
    rdg_dmm_opts o;
    rdg_status st = rdg_rfnn_init(&rf, D, 6, 2, 0, 5);
    if (st != RDG_OK) return st;
    memset(&o, 0, sizeof o);
    o.nt = 4;
    memset(&q, 0, sizeof q);
    st = rdg_rf_quad_build(&rf, &G, &o, &q);
    rdg_rf_quad_free(&q);
    rdg_rfnn_free(&rf);
    return st;
}
static rdg_status c_dmm(void) {
    rdg_model m;
    rdg_dmm_opts o;
    rdg_real loss;
    rdg_status st = rdg_model_exact(&m, &G);
    if (st != RDG_OK) return st;
    memset(&o, 0, sizeof o);
    o.nt = 4;
    return rdg_dmm_loss(&m, &G, &o, &loss);
}
static rdg_status c_pm(void) {
    rdg_model m;
    rdg_dmm_opts o;
    rdg_project_opts po;
    rdg_real loss, LN, LT;
    size_t nfail;
    rdg_status st = rdg_model_exact(&m, &G);
    if (st != RDG_OK) return st;
    memset(&o, 0, sizeof o);
    o.nt = 2; o.nsub = 3;
    memset(&po, 0, sizeof po);
    po.dstar = 1; po.max_iter = 10; po.scms_iter = 10;
    return rdg_pm_loss(&m, &G, &o, &po, &loss, &LN, &LT, &nfail);
}
#endif

/* ---- the driver ------------------------------------------------------------------------- */
static int snapshot(const fa_case *c, unsigned char **copies) {
    int i;
    for (i = 0; i < FA_MAX_INPUTS; ++i) {
        copies[i] = NULL;
        if (!c->in[i].p) continue;
        copies[i] = (unsigned char *)malloc(c->in[i].n);
        if (!copies[i]) return 0;
        memcpy(copies[i], c->in[i].p, c->in[i].n);
    }
    return 1;
}
static int inputs_same(const fa_case *c, unsigned char **copies) {
    int i, same = 1;
    for (i = 0; i < FA_MAX_INPUTS; ++i)
        if (c->in[i].p && memcmp(copies[i], c->in[i].p, c->in[i].n) != 0) same = 0;
    return same;
}

static void run_case(const fa_case *c, const char *tag) {
    unsigned char *copies[FA_MAX_INPUTS];
    long n, k, bad_status = 0, bad_leak = 0, bad_input = 0;
    rdg_status st;
    if (!snapshot(c, copies)) { printf("out of memory in the test\n"); exit(2); }
    fa_count = 0; fa_fail_at = 0; fa_live = 0; fa_injected = 0;
    st = c->run();
    if (c->cleanup) c->cleanup();
    n = fa_count;
    CHECK(st == RDG_OK, "%s%s: status %d (%s) without failures", c->name, tag, (int)st, rdg_status_str(st));
    CHECK(fa_live == 0, "%s%s: %ld blocks leaked without failures", c->name, tag, fa_live);
    CHECK(n > 0, "%s%s: made no allocation (the case tests nothing)", c->name, tag);
    for (k = 1; k <= n; ++k) {
        fa_count = 0; fa_fail_at = k; fa_live = 0; fa_injected = 0;
        st = c->run();
        if (c->cleanup) c->cleanup();
        if (!fa_injected) continue;       /* a different path took fewer allocations */
        if (st != RDG_ERR_NOMEM) {
            if (bad_status++ < 3)
                printf("FAIL %s%s: allocation %ld of %ld failed, status %d (%s), expected RDG_ERR_NOMEM\n",
                       c->name, tag, k, n, (int)st, rdg_status_str(st));
        }
        if (fa_live != 0 && bad_leak++ < 3)
            printf("FAIL %s%s: allocation %ld of %ld failed, %ld blocks leaked\n", c->name, tag, k, n, fa_live);
        if (!inputs_same(c, copies) && bad_input++ < 3)
            printf("FAIL %s%s: allocation %ld of %ld failed, an input was modified\n", c->name, tag, k, n);
    }
    fa_fail_at = 0;
    CHECK(bad_status == 0, "%s%s: %ld failing runs with the wrong status", c->name, tag, bad_status);
    CHECK(bad_leak == 0, "%s%s: %ld failing runs leaked", c->name, tag, bad_leak);
    CHECK(bad_input == 0, "%s%s: %ld failing runs modified an input", c->name, tag, bad_input);
    printf("ok %s%s: %ld allocations, each failed in turn\n", c->name, tag, n);
    for (k = 0; k < FA_MAX_INPUTS; ++k) free(copies[k]);
}

#define IN(p, n) { (p), (n) }
#define NOIN { NULL, 0 }

int main(void) {
    size_t i, ncases;
    size_t shape[2] = { N, D };
    fa_case cases[32];
    rdg_status st;
    for (i = 0; i < 25; ++i) eig_A[i] = (rdg_real)(1.0 / (double)(1 + (i / 5) + (i % 5)));  /* Hilbert */
    if (rdg_gmm_init(&G, X, N, D) != RDG_OK) { printf("gmm_init failed\n"); return 2; }
    memset(&PO, 0, sizeof PO);
    PO.dstar = 1;
    PO.max_iter = 20;
    PO.scms_iter = 30;
    st = rdg_npy_write_mem(X, 2, shape, (void **)&npy_img, &npy_len);
    if (st != RDG_OK) { printf("npy_write_mem failed\n"); return 2; }
#ifndef RDG_NO_STDIO
    /* a per-process name (ASLR makes the heap address differ), as two builds may run at once */
    sprintf(npy_path, "rdg_alloc_test_%lu.tmp.npy", (unsigned long)((size_t)npy_img % 1000003u));
#endif
    memset(cases, 0, sizeof cases);
    ncases = 0;
#define ADD(nm, fn, cl, bt, i0, i1, i2) do { fa_case *c_ = &cases[ncases++]; \
        fa_input a_[3] = { i0, i1, i2 }; c_->name = nm; c_->run = fn; c_->cleanup = cl; c_->batch = bt; \
        c_->in[0] = a_[0]; c_->in[1] = a_[1]; c_->in[2] = a_[2]; \
        c_->in[3].p = X; c_->in[3].n = sizeof X; c_->in[4].p = &G; c_->in[4].n = sizeof G; } while (0)
    ADD("rdg_eigh(work NULL)", c_eigh, NULL, 0, IN(eig_A, sizeof eig_A), NOIN, NOIN);
    ADD("rdg_eigh(V NULL, work NULL)", c_eigh_novec, NULL, 0, IN(eig_A, sizeof eig_A), NOIN, NOIN);
    ADD("rdg_density_eval(all outputs)", c_density, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_density_eval(logp)", c_density_logp, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_density_eval_ctx", c_density_ctx, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_density_d3", c_d3, NULL, 0, IN(Y, sizeof Y), IN(d3_u, sizeof d3_u), IN(d3_v, sizeof d3_v));
    ADD("rdg_ridge_frame", c_frame, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_ridge_residual", c_resid, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_ridge_jacobian", c_jac, NULL, 0, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_ridge_project(LM)", c_proj_lm, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_ridge_project(SCMS)", c_proj_scms, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_ridge_project_ctx", c_proj_ctx, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_ridge_trace", c_trace, NULL, 1, IN(Y, sizeof Y), NOIN, NOIN);
    ADD("rdg_npy_read_mem", c_npy_read, NULL, 0, IN(npy_img, npy_len), NOIN, NOIN);
    ADD("rdg_npy_write_mem", c_npy_write, NULL, 0, NOIN, NOIN, NOIN);
#ifndef RDG_NO_STDIO
    ADD("rdg_npy_write + rdg_npy_read", c_npy_file, c_npy_file_cleanup, 0, NOIN, NOIN, NOIN);
#endif
#if FA_WEAK
    if (FA_HAVE(rdg_mlp_init) && FA_HAVE(rdg_mlp_free)) ADD("rdg_mlp_init", c_mlp_init, NULL, 0, NOIN, NOIN, NOIN);
    else printf("skip rdg_mlp_init (not in the library yet)\n");
    if (FA_HAVE(rdg_mlp_init) && FA_HAVE(rdg_mlp_free) && FA_HAVE(rdg_mlp_train)) ADD("rdg_mlp_train", c_mlp_train, NULL, 1, NOIN, NOIN, NOIN);
    else printf("skip rdg_mlp_train (not in the library yet)\n");
    if (FA_HAVE(rdg_mlp_init) && FA_HAVE(rdg_model_file_save_mem) && FA_HAVE(rdg_model_file_free))
        ADD("rdg_model_file_save_mem", c_mf_save, NULL, 0, NOIN, NOIN, NOIN);
    else printf("skip rdg_model_file_save_mem (not in the library yet)\n");
    if (FA_HAVE(rdg_mlp_init) && FA_HAVE(rdg_model_file_save_mem) && FA_HAVE(rdg_model_file_load_mem) && FA_HAVE(rdg_model_file_free)) {
        rdg_model_file f;
        size_t hidden[1] = { 5 };
        memset(&f, 0, sizeof f);
        f.kind = RDG_MODEL_MLP;
        if (rdg_mlp_init(&f.mlp, D, 1, hidden, 4, 1) == RDG_OK &&
            rdg_model_file_save_mem(&f, (void **)&mf_img, &mf_len) == RDG_OK)
            ADD("rdg_model_file_load_mem", c_mf_load, NULL, 0, IN(mf_img, mf_len), NOIN, NOIN);
        else CHECK(0, "could not make a model file image for the load case");
        rdg_model_file_free(&f);
    } else printf("skip rdg_model_file_load_mem (not in the library yet)\n");
    if (FA_HAVE(rdg_model_exact) && FA_HAVE(rdg_sample) && FA_HAVE(rdg_sample_ncheck)) ADD("rdg_sample(exact model)", c_sample, NULL, 1, NOIN, NOIN, NOIN);
    else printf("skip rdg_sample (not in the library yet)\n");
    if (FA_HAVE(rdg_rfnn_init) && FA_HAVE(rdg_rfnn_free)) ADD("rdg_rfnn_init", c_rfnn_init, NULL, 0, NOIN, NOIN, NOIN);
    else printf("skip rdg_rfnn_init (not in the library yet)\n");
    if (FA_HAVE(rdg_rfnn_init) && FA_HAVE(rdg_rfnn_free) && FA_HAVE(rdg_rf_quad_build) && FA_HAVE(rdg_rf_quad_free))
        ADD("rdg_rf_quad_build", c_rf_quad, NULL, 1, NOIN, NOIN, NOIN);
    else printf("skip rdg_rf_quad_build (not in the library yet)\n");
    if (FA_HAVE(rdg_model_exact) && FA_HAVE(rdg_dmm_loss)) ADD("rdg_dmm_loss(exact model)", c_dmm, NULL, 1, NOIN, NOIN, NOIN);
    else printf("skip rdg_dmm_loss (not in the library yet)\n");
    if (FA_HAVE(rdg_model_exact) && FA_HAVE(rdg_pm_loss)) ADD("rdg_pm_loss(exact model, split)", c_pm, NULL, 1, NOIN, NOIN, NOIN);
    else printf("skip rdg_pm_loss (not in the library yet)\n");
#else
    printf("skip the model/MLP/RFNN/sampler cases (weak symbols need an ELF GCC/Clang build)\n");
#endif

#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    for (i = 0; i < ncases; ++i) run_case(&cases[i], "");
#ifdef _OPENMP
    omp_set_num_threads(2);
    for (i = 0; i < ncases; ++i) if (cases[i].batch) run_case(&cases[i], " [2 threads]");
#endif
    rdg_free(npy_img);
#if FA_WEAK
    rdg_free(mf_img);
#endif
    RDG_TEST_END("test_alloc");
}
