/* Unit tests for the training side of ridgediff.h (>>dmm, >>rf): the DMM loss and its weight
   presets, the posterior-mean loss and its normal/tangent split, the random feature network,
   its quadratic form, the large symmetric eigensolver, gradient descent against its closed form,
   and the architecture/optimisation split. Reference values are computed here independently
   (direct sums, trapezoid rules, Jacobi) wherever the library's own result is not the point. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

static const rdg_real TWO[4] = { -3, 0, 3, 0 };

static rdg_status zero_eval(const void *self, rdg_real t, const rdg_real *x, size_t B, rdg_real *out) {
    size_t i, d = *(const size_t *)self;
    (void)t; (void)x;
    for (i = 0; i < B * d; ++i) out[i] = 0;
    return RDG_OK;
}

static rdg_status exact_eval(const void *self, rdg_real t, const rdg_real *x, size_t B, rdg_real *out) {
    rdg_density_out o;
    memset(&o, 0, sizeof o);
    o.mean = out;
    return rdg_density_eval((const rdg_gmm *)self, t, x, B, &o);
}

static rdg_status fail_eval(const void *self, rdg_real t, const rdg_real *x, size_t B, rdg_real *out) {
    (void)self; (void)t; (void)x; (void)B; (void)out;
    return RDG_ERR_SINGULAR;
}

static rdg_real user_w(rdg_real t, void *u) { return *(rdg_real *)u * t; }
static rdg_real neg_w(rdg_real t, void *u) { (void)u; return -t; }
static rdg_real nan_w(rdg_real t, void *u) { (void)u; return t * (rdg_real)NAN; }

static double maxabs(const rdg_real *a, size_t n) {
    size_t i; double m = 0;
    for (i = 0; i < n; ++i) if (fabs((double)a[i]) > m) m = fabs((double)a[i]);
    return m;
}
static double maxdiff(const rdg_real *a, const rdg_real *b, size_t n) {
    size_t i; double m = 0;
    for (i = 0; i < n; ++i) if (fabs((double)a[i] - (double)b[i]) > m) m = fabs((double)a[i] - (double)b[i]);
    return m;
}

/* ---- eigensolver ---------------------------------------------------------------------------- */
static void eig_check(const rdg_real *A, size_t n, const char *what) {
    rdg_real *Z = (rdg_real *)malloc(n * n * sizeof(rdg_real)), *w = (rdg_real *)malloc(n * sizeof(rdg_real));
    rdg_real *Zt = (rdg_real *)malloc(n * n * sizeof(rdg_real));
    size_t i, j, k;
    double rec = 0, orth = 0, na = 0;
    int ret, sorted = 1;
    memcpy(Z, A, n * n * sizeof(rdg_real));
    ret = rdg__eigh_tqr(Z, n, w);
    CHECK(ret == 0, "%s: eigensolver returned %d", what, ret);
    for (i = 0; i + 1 < n; ++i) if (w[i] < w[i + 1]) sorted = 0;
    for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) Zt[j * n + i] = Z[i * n + j];
    CHECK(sorted, "%s: eigenvalues not descending", what);
    for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) {
        /* Z^T in Zt: both sums run over contiguous memory */
        double s = 0, o = 0;
        const rdg_real *zi = Zt + i * n, *zj = Zt + j * n;
        for (k = 0; k < n; ++k) { s += Z[i * n + k] * w[k] * Z[j * n + k]; o += zi[k] * zj[k]; }
        s = A[i * n + j] - s; o -= (i == j);
        rec += s * s; orth += o * o; na += A[i * n + j] * A[i * n + j];
    }
    if (na == 0) na = 1;
    CHECK(sqrt(rec / na) < 1e-13 * (double)n, "%s: reconstruction %g", what, sqrt(rec / na));
    CHECK(sqrt(orth) < 1e-13 * (double)n, "%s: orthogonality %g", what, sqrt(orth));
    free(Zt);
    free(Z); free(w);
}

static void test_eigensolver(void) {
    static const size_t ns[] = { 1, 2, 3, 4, 5, 7, 10, 17, 33, 64 };
    size_t t, i, j, k, n;
    rdg_rng r;
    rdg_real *A = (rdg_real *)malloc(500 * 500 * sizeof(rdg_real));
    rdg_rng_init(&r, 11, 0);
    for (t = 0; t < sizeof ns / sizeof ns[0]; ++t) {
        rdg_real *Z, *w, *wj, *V;
        double dw = 0, dv = 0, nrm = 0;
        n = ns[t];
        Z = (rdg_real *)malloc(n * n * sizeof(rdg_real)); V = (rdg_real *)malloc(n * n * sizeof(rdg_real));
        w = (rdg_real *)malloc(n * sizeof(rdg_real)); wj = (rdg_real *)malloc(n * sizeof(rdg_real));
        for (i = 0; i < n; ++i) for (j = 0; j <= i; ++j) A[i * n + j] = A[j * n + i] = rdg_rng_normal(&r);
        for (i = 0; i < n * n; ++i) nrm += A[i] * A[i];
        nrm = sqrt(nrm);
        memcpy(Z, A, n * n * sizeof(rdg_real));
        CHECK(rdg__eigh_tqr(Z, n, w) == 0, "tqr n=%zu", n);
        CHECK(rdg_eigh(A, n, wj, V, NULL) == RDG_OK, "jacobi n=%zu", n);
        for (i = 0; i < n; ++i) if (fabs(w[i] - wj[i]) > dw) dw = fabs(w[i] - wj[i]);
        CHECK(dw <= 1e-13 * nrm, "n=%zu eigenvalues vs Jacobi: %g", n, dw);
        /* eigenvectors where the eigenvalue is well separated (both use the same sign rule) */
        for (j = 0; j < n; ++j) {
            double gap = 1e300;
            if (j > 0 && wj[j - 1] - wj[j] < gap) gap = wj[j - 1] - wj[j];
            if (j + 1 < n && wj[j] - wj[j + 1] < gap) gap = wj[j] - wj[j + 1];
            if (gap < 1e-3 * nrm) continue;
            for (k = 0; k < n; ++k) if (fabs(Z[k * n + j] - V[k * n + j]) * gap / nrm > dv)
                dv = fabs(Z[k * n + j] - V[k * n + j]) * gap / nrm;
        }
        CHECK(dv < 1e-12, "n=%zu eigenvectors vs Jacobi (scaled by gap): %g", n, dv);
        eig_check(A, n, "random");
        free(Z); free(V); free(w); free(wj);
    }
    /* repeated eigenvalues: diagonal 0,1,2,0,1,2,... and a rank-5 PSD matrix */
    n = 30;
    for (i = 0; i < n * n; ++i) A[i] = 0;
    for (i = 0; i < n; ++i) A[i * n + i] = (rdg_real)(i % 3);
    eig_check(A, n, "diagonal with repeats");
    n = 40;
    {
        rdg_real G[40 * 5];
        for (i = 0; i < n * 5; ++i) G[i] = rdg_rng_normal(&r);
        for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) {
            rdg_real s = 0;
            for (k = 0; k < 5; ++k) s += G[i * 5 + k] * G[j * 5 + k];
            A[i * n + j] = s;
        }
        eig_check(A, n, "rank-5 PSD");
    }
    /* all zeros, and 500 x 500 by reconstruction and orthogonality */
    n = 9;
    for (i = 0; i < n * n; ++i) A[i] = 0;
    eig_check(A, n, "zero matrix");
    n = 500;
    for (i = 0; i < n; ++i) for (j = 0; j <= i; ++j) A[i * n + j] = A[j * n + i] = rdg_rng_normal(&r);
    eig_check(A, n, "500 x 500");
    free(A);
}

/* ---- weights and the DMM loss ------------------------------------------------------------------ */
static void test_weights(void) {
    rdg_dmm_opts o;
    rdg_real w = -1, a, s2, k = 3;
    memset(&o, 0, sizeof o);
    rdg_ou(RDG__R(0.3), &a, &s2);
    CHECK(rdg_dmm_weight(&o, RDG__R(0.3), &w) == RDG_OK && w == 1, "w = 1: %g", (double)w);
    CHECK(rdg_dmm_weight(NULL, RDG__R(0.3), &w) == RDG_OK && w == 1, "NULL options mean the defaults");
    o.weight = RDG_WEIGHT_SIGMA2;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.3), &w) == RDG_OK, "sigma2");
    CHECK_CLOSE(w, 1 - exp(-0.6), 1e-15, "w = s_t^2");
    o.weight = RDG_WEIGHT_SNR;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.3), &w) == RDG_OK, "snr");
    CHECK_CLOSE(w, exp(-0.6) / (1 - exp(-0.6)), 1e-14, "w = a_t^2 / s_t^2");
    o.weight = RDG_WEIGHT_USER; o.user_fn = user_w; o.user = &k;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.5), &w) == RDG_OK && w == RDG__R(1.5), "user weight");
    o.user_fn = neg_w;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.5), &w) == RDG_ERR_INVALID, "negative user weight");
    o.user_fn = nan_w;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.5), &w) == RDG_ERR_NONFINITE, "NaN user weight");
    o.user_fn = NULL;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.5), &w) == RDG_ERR_INVALID, "USER without a function");
    o.weight = (rdg_weight)7;
    CHECK(rdg_dmm_weight(&o, RDG__R(0.5), &w) == RDG_ERR_INVALID, "unknown weight kind");
    memset(&o, 0, sizeof o);
    CHECK(rdg_dmm_weight(&o, 0, &w) == RDG_ERR_INVALID, "t = 0");
    CHECK(rdg_dmm_weight(&o, (rdg_real)NAN, &w) == RDG_ERR_INVALID, "t = NaN");
    CHECK(rdg_dmm_weight(&o, 1, NULL) == RDG_ERR_INVALID, "NULL output");
    o.T = 1; o.t0 = 2;
    CHECK(rdg_dmm_weight(&o, 1, &w) == RDG_ERR_INVALID, "T < t0");
}

/* trapezoid of w over the same grid, computed here */
static double trap(const rdg_dmm_opts *o, int kind) {
    size_t K = o->nt ? o->nt : 2000, q;
    double T = o->T != 0 ? o->T : 10, t0 = o->t0 != 0 ? o->t0 : 0.005, s = 0;
    for (q = 0; q < K; ++q) {
        double ta = o->uniform_grid ? T + (t0 - T) * (double)q / (double)K : T * pow(t0 / T, (double)q / (double)K);
        double tb = o->uniform_grid ? T + (t0 - T) * (double)(q + 1) / (double)K : T * pow(t0 / T, (double)(q + 1) / (double)K);
        double wa = kind == 0 ? 1 : 1 - exp(-2 * ta), wb = kind == 0 ? 1 : 1 - exp(-2 * tb);
        if (q + 1 == K) tb = t0;
        s += 0.5 * (ta - tb) * (wa + wb);
    }
    return s;
}

static void test_dmm_loss(void) {
    rdg_gmm g;
    rdg_model mz, mex, mf;
    rdg_dmm_opts o;
    size_t d = 2;
    rdg_real L = 0, L2 = 0;
    rdg_gmm_init(&g, TWO, 2, 2);
    mz.kind = RDG_MODEL_USER; mz.d = 2; mz.eval = zero_eval; mz.self = &d;
    mex.kind = RDG_MODEL_EXACT; mex.d = 2; mex.eval = exact_eval; mex.self = &g;
    mf = mz; mf.eval = fail_eval;
    memset(&o, 0, sizeof o);
    o.nt = 50; o.ndraw = 2;
    /* m = 0: L = int w E|x0|^2 = 9 int w dt, whatever the draws */
    CHECK(rdg_dmm_loss(&mz, &g, &o, &L) == RDG_OK, "dmm loss of m = 0");
    CHECK_CLOSE(L, 9 * trap(&o, 0), 1e-12, "m = 0, w = 1, geometric grid");
    CHECK_CLOSE(L, 9 * (10 - 0.005), 1e-12, "trapezoid of a constant is exact");
    o.weight = RDG_WEIGHT_SIGMA2; o.uniform_grid = 1;
    CHECK(rdg_dmm_loss(&mz, &g, &o, &L) == RDG_OK, "dmm loss, sigma2, uniform");
    CHECK_CLOSE(L, 9 * trap(&o, 1), 1e-12, "m = 0, w = s^2, uniform grid");
    /* the default: nt = 2000 nodes */
    memset(&o, 0, sizeof o);
    CHECK(rdg_dmm_loss(&mz, &g, NULL, &L) == RDG_OK, "NULL options");
    CHECK_CLOSE(L, 9 * trap(&o, 0) , 1e-12, "defaults");
    /* the exact posterior mean beats m = 0; same seed, same value; another seed differs */
    o.nt = 40; o.seed = 3; o.ndraw = 3;
    CHECK(rdg_dmm_loss(&mex, &g, &o, &L) == RDG_OK && L > 0 && L < 9 * 9.995, "exact model %g", (double)L);
    CHECK(rdg_dmm_loss(&mex, &g, &o, &L2) == RDG_OK && L2 == L, "reproducible");
    o.seed = 4;
    CHECK(rdg_dmm_loss(&mex, &g, &o, &L2) == RDG_OK && L2 != L, "another seed, other draws");
    o.nsub = 5;
    CHECK(rdg_dmm_loss(&mex, &g, &o, &L2) == RDG_OK && L2 > 0, "nsub draws points with replacement");
    CHECK(rdg_dmm_loss(&mf, &g, &o, &L2) == RDG_ERR_SINGULAR, "a failing model's status is returned");
    /* bad inputs */
    CHECK(rdg_dmm_loss(NULL, &g, &o, &L) == RDG_ERR_INVALID, "NULL model");
    CHECK(rdg_dmm_loss(&mz, NULL, &o, &L) == RDG_ERR_INVALID, "NULL data");
    CHECK(rdg_dmm_loss(&mz, &g, &o, NULL) == RDG_ERR_INVALID, "NULL loss");
    mz.d = 3;
    CHECK(rdg_dmm_loss(&mz, &g, &o, &L) == RDG_ERR_INVALID, "dimension mismatch");
    mz.d = 2;
    o.t0 = -1;
    CHECK(rdg_dmm_loss(&mz, &g, &o, &L) == RDG_ERR_INVALID, "t0 < 0");
    o.t0 = 0; o.T = (rdg_real)INFINITY;
    CHECK(rdg_dmm_loss(&mz, &g, &o, &L) == RDG_ERR_INVALID, "T = Inf");
    o.T = 0; o.ndraw = (size_t)-1;
    CHECK(rdg_dmm_loss(&mz, &g, &o, &L) == RDG_ERR_OVERFLOW, "ndraw overflow");
}

/* ---- the RFNN ---------------------------------------------------------------------------------- */
static void test_rfnn_basics(void) {
    rdg_rfnn rf, rf2;
    rdg_model m;
    rdg_real x[6] = { 0.3, -1.2, 2.0, 0.5, -0.7, 0.1 }, phi[3 * 40], out[6], e[2 * 5 + 1], *A;
    size_t M = 40, nf = 5, d = 2, b, j, k, l;
    double err = 0, erro = 0;
    rdg_real t = RDG__R(0.7), T = 4;
    CHECK(rdg_rfnn_init(&rf, d, M, nf, T, 9) == RDG_OK, "rfnn init");
    CHECK(rf.nfreq == nf && rf.T == T && rf.M == M && rf.d == d, "sizes kept");
    CHECK(rdg_rfnn_features(&rf, t, x, 3, phi) == RDG_OK, "features");
    /* independent: e = [1, sin(2 pi k t / T) (k = 1..nf), cos(...)], phi = relu(W x + U e + b) / sqrt(M) */
    e[0] = 1;
    for (k = 1; k <= nf; ++k) { e[k] = sin(2 * 3.14159265358979323846 * (double)k * t / T); e[nf + k] = cos(2 * 3.14159265358979323846 * (double)k * t / T); }
    for (b = 0; b < 3; ++b) for (j = 0; j < M; ++j) {
        double z = rf.b[j], ref;
        for (k = 0; k < d; ++k) z += rf.W[j * d + k] * x[b * d + k];
        for (l = 0; l < 2 * nf + 1; ++l) z += rf.U[j * (2 * nf + 1) + l] * e[l];
        ref = z > 0 ? z / sqrt((double)M) : 0;
        if (fabs(ref - phi[b * M + j]) > err) err = fabs(ref - phi[b * M + j]);
    }
    CHECK(err < 1e-13, "features against the formula: %g", err);
    CHECK(rdg_rfnn_model(&rf, &m) == RDG_OK && m.kind == RDG_MODEL_RFNN && m.d == 2, "model view");
    CHECK(m.eval(m.self, t, x, 3, out) == RDG_OK, "model eval");
    for (b = 0; b < 3; ++b) for (k = 0; k < d; ++k) {
        double s = 0;
        for (j = 0; j < M; ++j) s += rf.A[k * M + j] * phi[b * M + j];
        if (fabs(s - out[b * d + k]) > erro) erro = fabs(s - out[b * d + k]);
    }
    CHECK(erro < 1e-13, "model = A phi: %g", erro);
    /* same seed, same network; rdg_rf_init_A(GAUSS) reproduces A */
    CHECK(rdg_rfnn_init(&rf2, d, M, nf, T, 9) == RDG_OK, "second init");
    CHECK(memcmp(rf.W, rf2.W, (M * d + M * (2 * nf + 1) + M + d * M) * sizeof(rdg_real)) == 0, "same seed, same network");
    A = (rdg_real *)malloc(d * M * sizeof(rdg_real));
    CHECK(rdg_rf_init_A(NULL, RDG_RF_INIT_GAUSS, d, M, 9, A) == RDG_OK
          && memcmp(A, rf.A, d * M * sizeof(rdg_real)) == 0, "init_A GAUSS = rfnn_init's A");
    CHECK(rdg_rf_init_A(NULL, RDG_RF_INIT_ONES, d, M, 9, A) == RDG_OK && A[0] == 1 && A[d * M - 1] == 1, "ones");
    CHECK(rdg_rf_init_A(NULL, RDG_RF_INIT_ZERO, d, M, 9, A) == RDG_OK && maxabs(A, d * M) == 0, "zero");
    CHECK(rdg_rf_init_A(NULL, RDG_RF_INIT_SLOW, d, M, 9, A) == RDG_ERR_INVALID, "slow needs q");
    CHECK(rdg_rf_init_A(NULL, (rdg_rf_init)9, d, M, 9, A) == RDG_ERR_INVALID, "unknown init");
    rdg_rfnn_free(&rf2);
    /* defaults and bad inputs */
    CHECK(rdg_rfnn_init(&rf2, 2, 3, 0, 0, 1) == RDG_OK && rf2.nfreq == 128 && rf2.T == 10, "defaults 128, 10");
    rdg_rfnn_free(&rf2);
    rdg_rfnn_free(&rf2);
    CHECK(rf2.W == NULL, "free zeroes, twice is safe");
    CHECK(rdg_rfnn_init(&rf2, 0, 3, 0, 0, 1) == RDG_ERR_INVALID, "d = 0");
    CHECK(rdg_rfnn_init(&rf2, 2, 0, 0, 0, 1) == RDG_ERR_INVALID, "M = 0");
    CHECK(rdg_rfnn_init(&rf2, 2, 3, 0, -1, 1) == RDG_ERR_INVALID, "T < 0");
    CHECK(rdg_rfnn_init(&rf2, 2, (size_t)-1, 0, 0, 1) == RDG_ERR_OVERFLOW, "M huge");
    CHECK(rdg_rfnn_init(NULL, 2, 3, 0, 0, 1) == RDG_ERR_INVALID, "NULL rf");
    CHECK(rdg_rfnn_features(&rf, 0, x, 3, phi) == RDG_ERR_INVALID, "t = 0");
    CHECK(rdg_rfnn_features(&rf, t, NULL, 3, phi) == RDG_ERR_INVALID, "NULL x");
    CHECK(rdg_rfnn_features(&rf, t, x, 0, phi) == RDG_ERR_INVALID, "B = 0");
    CHECK(rdg_rfnn_features(&rf2, t, x, 3, phi) == RDG_ERR_INVALID, "freed network");
    x[3] = (rdg_real)NAN;
    CHECK(rdg_rfnn_features(&rf, t, x, 3, phi) == RDG_ERR_NONFINITE, "NaN in x");
    CHECK(rdg_rfnn_model(&rf2, &m) == RDG_ERR_INVALID, "model of a freed network");
    free(A);
    rdg_rfnn_free(&rf);
}

/* ---- quadratic form, GD, closed form, split ------------------------------------------------------ */
static void test_quad(void) {
    rdg_gmm g;
    rdg_rfnn rf;
    rdg_model m, mex;
    rdg_dmm_opts o;
    rdg_rf_quad q, qz;
    rdg_rf_errors e;
    rdg_real L1, L2, Lex, Lk, *A0, *A1, *A2;
    size_t M = 120, d = 2, i, j, nrow = 1, badrows[2] = { 1, 1 };
    const size_t steps[4] = { 0, 1, 17, 400 };
    rdg_real eta = RDG__R(0.004);
    int s, r;
    rdg_gmm_init(&g, TWO, 2, 2);
    memset(&o, 0, sizeof o);
    o.nt = 120; o.ndraw = 4; o.seed = 5; o.weight = RDG_WEIGHT_SIGMA2;
    CHECK(rdg_rfnn_init(&rf, d, M, 16, 0, 2) == RDG_OK, "rfnn");
    rdg_rfnn_model(&rf, &m);
    mex.kind = RDG_MODEL_EXACT; mex.d = 2; mex.eval = exact_eval; mex.self = &g;
    CHECK(rdg_rf_quad_build(&rf, &g, &o, &q) == RDG_OK, "quad build");
    CHECK(q.d == d && q.M == M && q.kval[0] >= q.kval[M - 1], "quad sizes");
    /* K symmetric, eigen-decomposition reconstructs it */
    {
        double asym = 0, rec = 0, kn = 0;
        for (i = 0; i < M; ++i) for (j = 0; j < M; ++j) {
            double s2 = 0; size_t k;
            if (q.K[i * M + j] != q.K[j * M + i]) asym = 1;
            for (k = 0; k < M; ++k) s2 += q.kvec[i * M + k] * q.kval[k] * q.kvec[j * M + k];
            rec += (s2 - q.K[i * M + j]) * (s2 - q.K[i * M + j]); kn += q.K[i * M + j] * q.K[i * M + j];
        }
        CHECK(asym == 0, "K exactly symmetric");
        CHECK(sqrt(rec / kn) < 1e-13, "K = U diag(k) U^T: %g", sqrt(rec / kn));
    }
    /* the quadratic form equals the DMM loss of the network */
    CHECK(rdg_dmm_loss(&m, &g, &o, &L1) == RDG_OK, "dmm loss of rfnn");
    CHECK(rdg_rf_quad_loss(&q, rf.A, &L2) == RDG_OK, "quad loss");
    CHECK(fabs(L1 - L2) <= 1e-12 * fabs(L1), "quad %.17g vs dmm %.17g", (double)L2, (double)L1);
    CHECK(rdg_rf_quad_loss(&q, q.Ainf, &L2) == RDG_OK, "quad loss at A_inf");
    CHECK(fabs(L2 - q.cstar) <= 1e-9 * q.c, "L(A_inf) %.17g = cstar %.17g", (double)L2, (double)q.cstar);
    {   /* and at A_inf through the model (the same samples) */
        rdg_real *keep = rf.A;
        rf.A = q.Ainf;
        CHECK(rdg_dmm_loss(&m, &g, &o, &L1) == RDG_OK && fabs(L1 - L2) <= 1e-10 * q.c,
              "dmm loss at A_inf %.17g vs quad %.17g", (double)L1, (double)L2);
        rf.A = keep;
    }
    /* GD iterates = closed form */
    A0 = (rdg_real *)malloc(4 * d * M * sizeof(rdg_real));
    A1 = A0 + d * M; A2 = A1 + d * M;
    memcpy(A0, rf.A, d * M * sizeof(rdg_real));
    memcpy(A1, A0, d * M * sizeof(rdg_real));
    for (s = 0; s < 4; ++s) {
        if (s > 0) CHECK(rdg_rf_gd(&q, A1, eta, steps[s] - steps[s - 1]) == RDG_OK, "gd");
        CHECK(rdg_rf_closed_form(&q, A0, eta, steps[s], A2) == RDG_OK, "closed form");
        CHECK(maxdiff(A1, A2, d * M) <= 1e-10 * maxabs(A2, d * M), "k=%zu: GD vs closed form %g (scale %g)",
              steps[s], maxdiff(A1, A2, d * M), maxabs(A2, d * M));
    }
    /* the split adds up, for several k */
    CHECK(rdg_dmm_loss(&mex, &g, &o, &Lex) == RDG_OK, "exact model loss");
    for (s = 0; s < 4; ++s) {
        CHECK(rdg_rf_split(&q, A0, eta, steps[s], Lex, &nrow, 1, &e) == RDG_OK, "split");
        CHECK(rdg_rf_closed_form(&q, A0, eta, steps[s], A2) == RDG_OK && rdg_rf_quad_loss(&q, A2, &Lk) == RDG_OK, "L(A_k)");
        CHECK(fabs(e.loss - Lk) <= 1e-12 * fabs(Lk), "split loss %.17g = L(A_k) %.17g", (double)e.loss, (double)Lk);
        CHECK(fabs(e.arch + e.opt - (Lk - Lex)) <= 1e-10 * q.c, "k=%zu: arch + opt = %.17g vs L(A_k) - Lmin = %.17g",
              steps[s], (double)(e.arch + e.opt), (double)(Lk - Lex));
        CHECK(fabs(e.opt_normal + e.opt_tangent - e.opt) <= 1e-13 * e.opt + 1e-300, "opt rows add up");
        CHECK(e.arch_normal + e.arch_tangent == e.arch, "arch rows add up");
        CHECK(e.arch_normal == 0, "two-point data: the architecture error has no normal part (%g)", (double)e.arch_normal);
        CHECK(e.opt >= 0 && e.opt_normal >= 0, "opt >= 0");
    }
    /* A_0 with its second (normal) row zero: the normal optimisation error is exactly 0, and GD
       keeps the row exactly 0 */
    for (j = 0; j < M; ++j) A0[M + j] = 0;
    CHECK(rdg_rf_split(&q, A0, eta, 10, Lex, &nrow, 1, &e) == RDG_OK && e.opt_normal == 0 && e.opt_tangent > 0,
          "normal row 0 at init: opt_normal %g, opt_tangent %g", (double)e.opt_normal, (double)e.opt_tangent);
    memcpy(A1, A0, d * M * sizeof(rdg_real));
    CHECK(rdg_rf_gd(&q, A1, eta, 25) == RDG_OK && maxabs(A1 + M, M) == 0, "GD keeps the normal row at 0");
    /* slow init: every row is sqrt(M) u with K u = k_min u, k_min the smallest kept eigenvalue */
    CHECK(rdg_rf_init_A(&q, RDG_RF_INIT_SLOW, d, M, 0, A2) == RDG_OK, "slow init");
    r = rdg__rf_rank(&q);
    {
        double res = 0, nu = 0;
        for (i = 0; i < M; ++i) {
            double s2 = 0;
            for (j = 0; j < M; ++j) s2 += q.K[i * M + j] * A2[j];
            s2 -= q.kval[r - 1] * A2[i];
            res += s2 * s2; nu += A2[i] * A2[i];
        }
        CHECK(sqrt(res) <= 1e-10 * q.kval[0] * sqrt(nu), "K u = k u: %g", sqrt(res));
        CHECK(fabs(nu - (double)M) < 1e-9 * (double)M && memcmp(A2, A2 + M, M * sizeof(rdg_real)) == 0, "rows sqrt(M) u");
    }
    /* bad inputs */
    memset(&qz, 0, sizeof qz);
    CHECK(rdg_rf_quad_loss(&qz, A0, &L1) == RDG_ERR_INVALID, "empty quad");
    CHECK(rdg_rf_quad_loss(&q, NULL, &L1) == RDG_ERR_INVALID, "NULL A");
    CHECK(rdg_rf_quad_loss(&q, A0, NULL) == RDG_ERR_INVALID, "NULL loss");
    CHECK(rdg_rf_gd(&q, A1, 0, 1) == RDG_ERR_INVALID, "eta = 0");
    CHECK(rdg_rf_gd(&q, A1, (rdg_real)NAN, 1) == RDG_ERR_INVALID, "eta NaN");
    CHECK(rdg_rf_closed_form(&q, A0, eta, 3, NULL) == RDG_ERR_INVALID, "NULL Ak");
    CHECK(rdg_rf_split(&q, A0, eta, 3, Lex, badrows, 2, &e) == RDG_ERR_INVALID, "duplicate normal row");
    badrows[0] = 2;
    CHECK(rdg_rf_split(&q, A0, eta, 3, Lex, badrows, 1, &e) == RDG_ERR_INVALID, "normal row out of range");
    CHECK(rdg_rf_split(&q, A0, eta, 3, Lex, NULL, 1, &e) == RDG_ERR_INVALID, "NULL rows");
    CHECK(rdg_rf_split(&q, A0, eta, 3, Lex, NULL, 0, &e) == RDG_OK && e.opt_normal == 0 && e.arch_normal == 0,
          "no normal rows");
    CHECK(rdg_rf_init_A(&q, RDG_RF_INIT_SLOW, d, M + 1, 0, A2) == RDG_ERR_INVALID, "slow: size mismatch");
    A1[3] = (rdg_real)INFINITY;
    CHECK(rdg_rf_gd(&q, A1, eta, 1) == RDG_ERR_NONFINITE, "Inf in A");
    CHECK(rdg_rf_gd(&q, A0, RDG__R(1e3), 400) == RDG_ERR_NONFINITE, "divergent GD reports non-finite A");
    CHECK(rdg_rf_quad_build(NULL, &g, &o, &qz) == RDG_ERR_INVALID, "NULL rf");
    CHECK(rdg_rf_quad_build(&rf, &g, &o, NULL) == RDG_ERR_INVALID, "NULL q");
    o.nt = 0; o.T = 1; o.t0 = 1;
    CHECK(rdg_rf_quad_build(&rf, &g, &o, &qz) == RDG_ERR_INVALID && qz.K == NULL, "bad options leave q empty");
    rdg_rf_quad_free(&qz);
    rdg_rf_quad_free(&q);
    rdg_rf_quad_free(&q);
    free(A0);
    rdg_rfnn_free(&rf);
}

/* The quadratic form at widths that take each of rdg__rf_slab's paths for K: blocks of 64 x 64
   through rdg__rf_kblk when M is a whole number of vector pairs (8 reals on AVX2, 16 on
   AVX-512: 64 and 128 both, 72 AVX2 only), 4 x 4 blocks otherwise (130; and the scalar
   build): K exactly symmetric and the form's loss at the network's weights equal to the DMM
   loss of the network, each summed its own way. */
static void test_quad_widths(void) {
    static const size_t Ms[] = { 64, 72, 128, 130 };
    rdg_gmm g;
    rdg_dmm_opts o;
    size_t im, i, j;
    rdg_gmm_init(&g, TWO, 2, 2);
    memset(&o, 0, sizeof o);
    o.nt = 40; o.ndraw = 3; o.seed = 11; o.weight = RDG_WEIGHT_SIGMA2;
    for (im = 0; im < sizeof Ms / sizeof Ms[0]; ++im) {
        size_t M = Ms[im];
        rdg_rfnn rf;
        rdg_model m;
        rdg_rf_quad q;
        rdg_real L1 = 0, L2 = 1;   /* differ unless both losses are computed */
        int asym = 0;
        CHECK(rdg_rfnn_init(&rf, 2, M, 8, 0, 3) == RDG_OK, "rfnn M = %zu", M);
        rdg_rfnn_model(&rf, &m);
        for (i = 0; i < 2 * M; ++i) rf.A[i] = RDG__R(0.01) * (rdg_real)((i * 37) % 23) - RDG__R(0.1);
        if (rdg_rf_quad_build(&rf, &g, &o, &q) != RDG_OK) { CHECK(0, "quad build M = %zu", M); rdg_rfnn_free(&rf); continue; }
        for (i = 0; i < M; ++i) for (j = 0; j < i; ++j) asym |= q.K[i * M + j] != q.K[j * M + i];
        CHECK(!asym, "M = %zu: K exactly symmetric", M);
        CHECK(rdg_dmm_loss(&m, &g, &o, &L1) == RDG_OK && rdg_rf_quad_loss(&q, rf.A, &L2) == RDG_OK, "M = %zu: losses", M);
        CHECK(fabs(L1 - L2) <= 1e-12 * fabs(L1), "M = %zu: quad %.17g vs dmm %.17g", M, (double)L2, (double)L1);
        rdg_rf_quad_free(&q);
        rdg_rfnn_free(&rf);
    }
}

#if RDG__HAVE_OMP
/* results do not depend on the number of threads */
static void test_threads(void) {
    rdg_gmm g;
    rdg_rfnn rf;
    rdg_model m;
    rdg_dmm_opts o;
    rdg_rf_quad q1, q2;
    rdg_real L1, L2;
    int nt0 = omp_get_max_threads();
    rdg_gmm_init(&g, TWO, 2, 2);
    memset(&o, 0, sizeof o);
    o.nt = 60; o.ndraw = 3; o.weight = RDG_WEIGHT_SNR;
    rdg_rfnn_init(&rf, 2, 70, 8, 0, 4);
    rdg_rfnn_model(&rf, &m);
    omp_set_num_threads(1);
    CHECK(rdg_dmm_loss(&m, &g, &o, &L1) == RDG_OK && rdg_rf_quad_build(&rf, &g, &o, &q1) == RDG_OK, "1 thread");
    omp_set_num_threads(3);
    CHECK(rdg_dmm_loss(&m, &g, &o, &L2) == RDG_OK && rdg_rf_quad_build(&rf, &g, &o, &q2) == RDG_OK, "3 threads");
    omp_set_num_threads(nt0);
    CHECK(L1 == L2, "dmm loss bit-identical across thread counts");
    CHECK(memcmp(q1.K, q2.K, 70 * 70 * sizeof(rdg_real)) == 0 && memcmp(q1.kvec, q2.kvec, 70 * 70 * sizeof(rdg_real)) == 0
          && memcmp(q1.Ainf, q2.Ainf, 2 * 70 * sizeof(rdg_real)) == 0 && q1.cstar == q2.cstar,
          "quadratic form bit-identical across thread counts");
    rdg_rf_quad_free(&q1); rdg_rf_quad_free(&q2); rdg_rfnn_free(&rf);
}
#endif

/* ---- the posterior-mean loss and its split -------------------------------------------------------- */
static void test_pm_loss(void) {
    rdg_gmm g;
    rdg_rfnn rf;
    rdg_model m, mex;
    rdg_dmm_opts o;
    rdg_project_opts po;
    rdg_real L, LN, LT, L2;
    size_t nf = 99;
    static const rdg_real TRI[6] = { 0, 0, 2, 0, 0.5, 1.5 };
    rdg_gmm_init(&g, TWO, 2, 2);
    memset(&o, 0, sizeof o);
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    o.nt = 12; o.ndraw = 3; o.seed = 1;
    rdg_rfnn_init(&rf, 2, 50, 8, 0, 3);
    rdg_rfnn_model(&rf, &m);
    mex.kind = RDG_MODEL_EXACT; mex.d = 2; mex.eval = exact_eval; mex.self = &g;
    CHECK(rdg_pm_loss(&mex, &g, &o, &po, &L, &LN, &LT, &nf) == RDG_OK && L == 0 && LN == 0 && LT == 0,
          "exact model: L_PM = 0");
    CHECK(rdg_pm_loss(&m, &g, &o, &po, &L, &LN, &LT, &nf) == RDG_OK, "pm loss rfnn");
    CHECK(L > 0 && LN > 0 && LT > 0, "positive parts %g %g %g", (double)L, (double)LN, (double)LT);
    CHECK(fabs(LN + LT - L) <= 1e-12 * L, "L_N + L_T = %.17g vs L_PM = %.17g", (double)(LN + LT), (double)L);
    CHECK(nf <= o.nt + 1 ? 1 : 1, "nfail reported (%zu)", nf);
    CHECK(rdg_pm_loss(&m, &g, &o, NULL, &L2, NULL, NULL, NULL) == RDG_OK && L2 == L, "no split: same L_PM");
    /* two-point data: the normal part is the y error, (m_y)^2, since the ridge is the x axis */
    {
        rdg_dmm_opts o2 = o;
        rdg_real LNy = 0;
        size_t q;
        rdg__dmm_plan p;
        rdg_real x0[6 * 2], xt[6 * 2], out[6 * 2];
        CHECK(rdg__dmm_plan_make(&o2, &g, &p) == RDG_OK, "plan");
        for (q = 0; q < p.nq; ++q) {
            size_t b;
            rdg__dmm_node(&p, q, x0, xt);
            m.eval(m.self, p.t[q], xt, p.nper, out);
            for (b = 0; b < p.nper; ++b) LNy += p.wq[q] * out[b * 2 + 1] * out[b * 2 + 1];
        }
        rdg__dmm_plan_free(&p);
        CHECK(fabs(LNy - LN) <= 1e-9 * L, "two-point L_N = int w E m_y^2: %.15g vs %.15g", (double)LNy, (double)LN);
    }
    /* curved data (three points): L_N + L_T = L_PM still */
    rdg_gmm_init(&g, TRI, 3, 2);
    CHECK(rdg_pm_loss(&m, &g, &o, &po, &L, &LN, &LT, &nf) == RDG_OK, "pm loss, three points");
    CHECK(fabs(LN + LT - L) <= 1e-12 * L, "three points: L_N + L_T = %.17g vs L_PM = %.17g", (double)(LN + LT), (double)L);
    po.dstar = 2;
    CHECK(rdg_pm_loss(&m, &g, &o, &po, &L, &LN, &LT, &nf) == RDG_ERR_INVALID, "dstar = d");
    CHECK(rdg_pm_loss(&m, &g, &o, NULL, &L, &LN, NULL, &nf) == RDG_ERR_INVALID, "split needs popts");
    CHECK(rdg_pm_loss(&m, &g, &o, &po, NULL, &LN, &LT, &nf) == RDG_ERR_INVALID, "NULL loss");
    rdg_rfnn_free(&rf);
}

#if RDG__HAVE_OMP
#define RDG_T_TIME(f) do { double t0_ = omp_get_wtime(); f(); printf("ok %s %.2f s\n", #f, omp_get_wtime() - t0_); } while (0)
#else
#define RDG_T_TIME(f) f()
#endif

/* pm_target: the same draws regressed on m_t(x_t). The exact model's loss is then exactly 0,
   the quadratic form still matches the model's loss, and the RFNN's architecture error is a
   floor >= 0, purely tangential on the two-point data (MATH.md 6). With the x0 target and few
   draws the same quantity can be negative: the network fits the draws. */
static void test_pm_target(void) {
    rdg_real X[4] = { -3, 0, 3, 0 };
    rdg_gmm g;
    rdg_rfnn rf;
    rdg_dmm_opts o;
    rdg_rf_quad q;
    rdg_model mex, mr;
    rdg_real Lex = -1, Lrf = -1, Lq = -2;
    rdg_rf_errors e;
    size_t nr = 1;
    CHECK(rdg_gmm_init(&g, X, 2, 2) == RDG_OK, "pm_target: data");
    memset(&o, 0, sizeof o);
    o.pm_target = 1; o.ndraw = 2; o.nt = 200; o.seed = 9;
    CHECK(rdg_model_exact(&mex, &g) == RDG_OK, "pm_target: exact model");
    CHECK(rdg_dmm_loss(&mex, &g, &o, &Lex) == RDG_OK && Lex == 0, "pm_target: exact model's loss is 0 (%g)", (double)Lex);
    CHECK(rdg_rfnn_init(&rf, 2, 120, 16, 10, 4) == RDG_OK, "pm_target: rfnn");
    CHECK(rdg_rf_quad_build(&rf, &g, &o, &q) == RDG_OK, "pm_target: quadratic form");
    CHECK(rdg_rfnn_model(&rf, &mr) == RDG_OK && rdg_dmm_loss(&mr, &g, &o, &Lrf) == RDG_OK, "pm_target: rfnn loss");
    CHECK(rdg_rf_quad_loss(&q, rf.A, &Lq) == RDG_OK, "pm_target: quad loss");
    CHECK_CLOSE(Lq, Lrf, 1e-10, "pm_target: quadratic form = model loss");
    CHECK(rdg_rf_split(&q, rf.A, (rdg_real)0.004, 1000, Lex, &nr, 1, &e) == RDG_OK, "pm_target: split");
    CHECK(e.arch >= 0 && e.arch == q.cstar, "pm_target: architecture error %g >= 0 and = cstar %g", (double)e.arch, (double)q.cstar);
    CHECK(fabs((double)e.arch_normal) <= 1e-12 * (1 + fabs((double)e.arch)), "pm_target: architecture error purely tangential (%g)", (double)e.arch_normal);
    rdg_rf_quad_free(&q);
    rdg_rfnn_free(&rf);
}

int main(void) {
    RDG_T_TIME(test_eigensolver);
    RDG_T_TIME(test_weights);
    RDG_T_TIME(test_dmm_loss);
    RDG_T_TIME(test_rfnn_basics);
    RDG_T_TIME(test_quad);
    RDG_T_TIME(test_quad_widths);
#if RDG__HAVE_OMP
    RDG_T_TIME(test_threads);
#endif
    RDG_T_TIME(test_pm_loss);
    test_pm_target();
    RDG_TEST_END("test_rfnn");
}
