/* Tests of the latent-space fragment (issue 4): PCA fit/encode/decode and the
   scaling of MATH.md 5, IDX loading, PNG loading through stb_image, the PNG sheet reader, and
   the shipped MNIST sheets (data/mnist/). Run from the repository root. */
#define RIDGEDIFF_IMPLEMENTATION
/* PNG through stb_image where this compiler sees Debian's stb headers (cross and musl
   toolchains do not: there the PNG tests are skipped, and said so). */
#if defined(__has_include)
#  if __has_include(<stb/stb_image.h>) && __has_include(<stb/stb_image_write.h>)
#    define RDG_TEST_PNG 1
#  endif
#else
#  define RDG_TEST_PNG 1
#endif
#ifdef RDG_TEST_PNG
#  define RIDGEDIFF_STB_IMAGE
#endif
#include "ridgediff.h"
#include "tests/rdg_test.h"
#include <stdlib.h>
#include <string.h>

#ifdef RDG_TEST_PNG
/* stb_image_write (Debian's libstb-dev), to make PNGs in memory; static, unused parts quiet. */
#if defined(__GNUC__) || defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wunused-function"
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#if defined(__GNUC__) || defined(__clang__)
#  pragma GCC diagnostic pop
#endif

/* ---------------------------------------------------------------------------- helpers */
typedef struct membuf { unsigned char *p; size_t len, cap; } membuf;

static void mb_write(void *ctx, void *data, int size) {
    membuf *m = (membuf *)ctx;
    if (size <= 0) return;
    if (m->len + (size_t)size > m->cap) {
        size_t nc = (m->len + (size_t)size) * 2;
        unsigned char *np = (unsigned char *)realloc(m->p, nc);
        if (!np) return;
        m->p = np; m->cap = nc;
    }
    memcpy(m->p + m->len, data, (size_t)size);
    m->len += (size_t)size;
}

static membuf png_of(const unsigned char *px, int w, int h, int comp) {
    membuf m = { NULL, 0, 0 };
    if (!stbi_write_png_to_func(mb_write, &m, w, h, comp, px, w * comp)) { free(m.p); m.p = NULL; m.len = 0; }
    return m;
}
#endif /* RDG_TEST_PNG */

static double urand(unsigned long long *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
}
static double nrand(unsigned long long *s) {   /* sum of 12 uniforms - 6: fine for tests */
    double a = 0; int i;
    for (i = 0; i < 12; ++i) a += urand(s);
    return a - 6.0;
}

/* (1/n) sum |x_i - decode(encode(x_i))|^2 */
static double recon_mse(const rdg_pca *p, const rdg_real *X, size_t n) {
    rdg_real *Z = (rdg_real *)malloc(n * p->k * sizeof(rdg_real));
    rdg_real *Y = (rdg_real *)malloc(n * p->D * sizeof(rdg_real));
    double s = 0;
    size_t i;
    if (!Z || !Y || rdg_pca_encode(p, X, n, Z) != RDG_OK || rdg_pca_decode(p, Z, n, Y) != RDG_OK) s = -1;
    else for (i = 0; i < n * p->D; ++i) s += (double)(X[i] - Y[i]) * (double)(X[i] - Y[i]);
    free(Z); free(Y);
    return s < 0 ? -1 : s / (double)n;
}

static double orth_err(const rdg_pca *p) {
    size_t a, b;
    double e = 0;
    for (a = 0; a < p->k; ++a) for (b = 0; b < p->k; ++b) {
        double s = 0; size_t c;
        for (c = 0; c < p->D; ++c) s += (double)p->components[a * p->D + c] * (double)p->components[b * p->D + c];
        s -= a == b ? 1.0 : 0.0;
        if (fabs(s) > e) e = fabs(s);
    }
    return e;
}

static double tail_sum(const rdg_pca *p) {
    double s = 0; size_t j;
    for (j = p->k; j < p->D; ++j) s += (double)p->eigenvalues[j];
    return s;
}
static double trace(const rdg_pca *p) {
    double s = 0; size_t j;
    for (j = 0; j < p->D; ++j) s += (double)p->eigenvalues[j];
    return s;
}

/* Anisotropic Gaussian data: coordinate j has standard deviation 3 / (1 + j), plus a mean. */
static rdg_real *make_data(size_t n, size_t D, unsigned long long seed) {
    rdg_real *X = (rdg_real *)malloc(n * D * sizeof(rdg_real));
    size_t i, j;
    if (!X) return NULL;
    for (i = 0; i < n; ++i) for (j = 0; j < D; ++j)
        X[i * D + j] = (rdg_real)(0.5 * (double)j + 3.0 / (1.0 + (double)j) * nrand(&seed));
    /* mix the coordinates with a fixed rotation-like map so components are not axes */
    for (i = 0; i < n; ++i) for (j = 0; j + 1 < D; j += 2) {
        rdg_real a = X[i * D + j], b = X[i * D + j + 1];
        X[i * D + j] = (rdg_real)(0.8 * a - 0.6 * b); X[i * D + j + 1] = (rdg_real)(0.6 * a + 0.8 * b);
    }
    return X;
}

/* ---------------------------------------------------------------------------- PCA */
static void test_pca_basic(void) {
    const size_t n = 300, D = 20, k = 5;
    rdg_real *X = make_data(n, D, 1), *S, *w, *Z, x[20], y[20], z[5], z2[5];
    rdg_pca p, q;
    size_t i, j, c;
    double mse, maxd = 0, v;
    rdg_status st;
    if (!X) { CHECK(0, "alloc"); return; }
    st = rdg_pca_fit(X, n, D, k, RDG_PCA_SCALE_NONE, &p);
    CHECK(st == RDG_OK, "fit: %s", rdg_status_str(st));
    if (st != RDG_OK) { free(X); return; }
    CHECK(p.D == D && p.k == k && p.n == n, "sizes");
    CHECK(orth_err(&p) < 1e-12, "components orthonormal (err %g)", orth_err(&p));
    for (j = 0; j + 1 < D; ++j) CHECK(p.eigenvalues[j] >= p.eigenvalues[j + 1], "descending at %lu", (unsigned long)j);
    /* eigenvalues against Jacobi on an independently formed covariance (1/n) */
    S = (rdg_real *)calloc(D * D, sizeof(rdg_real)); w = (rdg_real *)malloc(D * sizeof(rdg_real));
    for (i = 0; i < n; ++i) for (j = 0; j < D; ++j) for (c = 0; c < D; ++c)
        S[j * D + c] += (X[i * D + j] - p.mean[j]) * (X[i * D + c] - p.mean[c]) / (rdg_real)n;
    CHECK(rdg_eigh(S, D, w, NULL, NULL) == RDG_OK, "jacobi");
    for (j = 0; j < D; ++j) { v = fabs((double)(w[j] - p.eigenvalues[j])); if (v > maxd) maxd = v; }
    CHECK(maxd < 1e-11 * (double)w[0], "eigenvalues = Jacobi's on the 1/n covariance (max diff %g)", maxd);
    /* reconstruction: mean squared error over the fit set = sum of the dropped eigenvalues */
    mse = recon_mse(&p, X, n);
    CHECK_CLOSE(mse, tail_sum(&p), 1e-10 * trace(&p), "mse = sum of dropped eigenvalues (1/n)");
    CHECK(fabs(mse - tail_sum(&p) * (double)n / (double)(n - 1)) > 1e-6, "and not the 1/(n-1) value");
    /* a point in mean + span(V): round trip exact */
    for (c = 0; c < D; ++c) x[c] = p.mean[c];
    for (j = 0; j < k; ++j) for (c = 0; c < D; ++c) x[c] += (rdg_real)(0.7 * (double)j - 1.3) * p.components[j * D + c];
    CHECK(rdg_pca_encode(&p, x, 1, z) == RDG_OK && rdg_pca_decode(&p, z, 1, y) == RDG_OK, "encode/decode");
    maxd = 0;
    for (c = 0; c < D; ++c) if (fabs((double)(x[c] - y[c])) > maxd) maxd = fabs((double)(x[c] - y[c]));
    CHECK(maxd < 1e-12, "span round trip exact (err %g)", maxd);
    for (j = 0; j < k; ++j) CHECK_CLOSE(z[j], 0.7 * (double)j - 1.3, 1e-12, "latent coordinate of a span point");
    /* default scaling: unit MEAN latent variance over the fit set; latent = c * PCA coords */
    st = rdg_pca_fit(X, n, D, k, RDG_PCA_SCALE_UNIT_MEAN, &q);
    CHECK(st == RDG_OK, "fit unit-mean");
    if (st == RDG_OK) {
        double m2 = 0, var0 = 0;
        Z = (rdg_real *)malloc(n * k * sizeof(rdg_real));
        CHECK(rdg_pca_encode(&q, X, n, Z) == RDG_OK, "encode all");
        for (i = 0; i < n * k; ++i) m2 += (double)Z[i] * (double)Z[i];
        for (i = 0; i < n; ++i) var0 += (double)Z[i * k] * (double)Z[i * k];
        CHECK_CLOSE(m2 / (double)(n * k), 1.0, 1e-12, "mean latent variance is 1");
        CHECK(var0 / (double)n > 1.0, "the leading coordinate keeps its larger variance (%g)", var0 / (double)n);
        for (j = 1; j < k; ++j) CHECK(q.scale[j] == q.scale[0], "one factor for all coordinates");
        CHECK_CLOSE(recon_mse(&q, X, n), tail_sum(&q), 1e-10 * trace(&q), "mse unchanged by the scaling");
        CHECK(rdg_pca_encode(&q, x, 1, z2) == RDG_OK, "encode scaled");
        for (j = 0; j < k; ++j) CHECK_CLOSE(z2[j], q.scale[0] * z[j], 1e-12, "scaled = c * unscaled");
        CHECK(q.explained > 0.5 && q.explained <= 1.0, "explained %g", (double)q.explained);
        free(Z);
        rdg_pca_free(&q);
    }
    /* whitening: each coordinate unit variance */
    st = rdg_pca_fit(X, n, D, k, RDG_PCA_SCALE_WHITEN, &q);
    CHECK(st == RDG_OK, "fit whiten");
    if (st == RDG_OK) {
        Z = (rdg_real *)malloc(n * k * sizeof(rdg_real));
        CHECK(rdg_pca_encode(&q, X, n, Z) == RDG_OK, "encode whiten");
        for (j = 0; j < k; ++j) {
            double s = 0;
            for (i = 0; i < n; ++i) s += (double)Z[i * k + j] * (double)Z[i * k + j];
            CHECK_CLOSE(s / (double)n, 1.0, 1e-11, "whitened coordinate variance 1");
        }
        free(Z);
        rdg_pca_free(&q);
    }
    /* k = D: lossless */
    st = rdg_pca_fit(X, n, D, D, RDG_PCA_SCALE_NONE, &q);
    CHECK(st == RDG_OK && recon_mse(&q, X, n) < 1e-20 * trace(&q) + 1e-24, "k = D is lossless");
    rdg_pca_free(&q);
    rdg_pca_free(&p);
    rdg_pca_free(&p);                       /* twice: safe */
    free(S); free(w); free(X);
}

/* Gram path (n < D) against the covariance path, and the fallback when k exceeds the rank. */
static void test_pca_gram(void) {
    const size_t n = 30, D = 60, k = 10;
    rdg_real *X = make_data(n, D, 7);
    rdg_pca a, b;
    size_t j, c;
    double de = 0, dv = 0;
    rdg_status s1, s2;
    if (!X) { CHECK(0, "alloc"); return; }
    s1 = rdg__pca_fit(X, n, D, k, RDG_PCA_SCALE_NONE, 2, &a);
    s2 = rdg__pca_fit(X, n, D, k, RDG_PCA_SCALE_NONE, 1, &b);
    CHECK(s1 == RDG_OK && s2 == RDG_OK, "gram %d, covariance %d", (int)s1, (int)s2);
    if (s1 == RDG_OK && s2 == RDG_OK) {
        for (j = 0; j < D; ++j) if (fabs((double)(a.eigenvalues[j] - b.eigenvalues[j])) > de) de = fabs((double)(a.eigenvalues[j] - b.eigenvalues[j]));
        for (j = 0; j < k; ++j) for (c = 0; c < D; ++c) {
            double d = fabs((double)(a.components[j * D + c] - b.components[j * D + c]));
            if (d > dv) dv = d;
        }
        CHECK(de < 1e-11 * (double)b.eigenvalues[0], "same eigenvalues (max diff %g)", de);
        CHECK(dv < 1e-8, "same signed components (max diff %g)", dv);
        for (j = n; j < D; ++j) CHECK(a.eigenvalues[j] == 0, "gram: eigenvalue %lu is 0", (unsigned long)j);
        CHECK(orth_err(&a) < 1e-13, "gram components orthonormal (%g)", orth_err(&a));
        CHECK_CLOSE(recon_mse(&a, X, n), tail_sum(&a), 1e-10 * trace(&a), "gram: mse = dropped eigenvalues");
    }
    rdg_pca_free(&a); rdg_pca_free(&b);
    /* public call picks Gram for n < D; k above the rank (n - 1 = 29) falls back */
    s1 = rdg_pca_fit(X, n, D, 40, RDG_PCA_SCALE_UNIT_MEAN, &a);
    CHECK(s1 == RDG_OK, "k > rank falls back to the covariance: %s", rdg_status_str(s1));
    if (s1 == RDG_OK) {
        CHECK(orth_err(&a) < 1e-12, "fallback components orthonormal (%g)", orth_err(&a));
        CHECK(recon_mse(&a, X, n) < 1e-18 * trace(&a) + 1e-20, "rank <= k: lossless (%g)", recon_mse(&a, X, n));
    }
    rdg_pca_free(&a);
    CHECK(rdg_pca_fit(X, n, D, 40, RDG_PCA_SCALE_WHITEN, &a) == RDG_ERR_SINGULAR, "whiten over the rank: singular");
    CHECK(a.mean == NULL, "zeroed after failure");
    free(X);
}

static void test_pca_errors(void) {
    rdg_real X[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, Z[8] = { 0 }, Y[12];
    rdg_real C[6] = { 1, 1, 1, 1, 1, 1 };
    rdg_pca p;
    memset(&p, 0, sizeof p);
    CHECK(rdg_pca_fit(NULL, 4, 3, 1, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_INVALID, "NULL X");
    CHECK(rdg_pca_fit(X, 4, 3, 1, RDG_PCA_SCALE_NONE, NULL) == RDG_ERR_INVALID, "NULL out");
    CHECK(rdg_pca_fit(X, 1, 3, 1, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_INVALID, "n = 1");
    CHECK(rdg_pca_fit(X, 4, 3, 0, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_INVALID, "k = 0");
    CHECK(rdg_pca_fit(X, 4, 3, 4, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_INVALID, "k > D");
    CHECK(rdg_pca_fit(X, 4, 3, 1, (rdg_pca_scaling)7, &p) == RDG_ERR_INVALID, "bad scaling");
    CHECK(rdg_pca_fit(X, 4, 0, 1, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_INVALID, "D = 0");
    CHECK(rdg_pca_fit(X, (size_t)-1 / 2, 3, 1, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_OVERFLOW, "n D overflows");
    CHECK(rdg_pca_fit(X, 2, (size_t)RDG_PCA_MAX_DIM + 1, 1, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_OVERFLOW, "D over the cap");
    X[5] = (rdg_real)NAN;
    CHECK(rdg_pca_fit(X, 4, 3, 1, RDG_PCA_SCALE_NONE, &p) == RDG_ERR_NONFINITE, "NaN");
    X[5] = 6;
    CHECK(rdg_pca_fit(C, 2, 3, 1, RDG_PCA_SCALE_UNIT_MEAN, &p) == RDG_ERR_SINGULAR, "constant data, unit mean");
    CHECK(rdg_pca_fit(C, 2, 3, 1, RDG_PCA_SCALE_NONE, &p) == RDG_OK, "constant data, no scaling is fine");
    rdg_pca_free(&p);
    CHECK(rdg_pca_encode(&p, X, 4, Z) == RDG_ERR_INVALID, "encode with an unfitted pca");
    CHECK(rdg_pca_encode(NULL, X, 4, Z) == RDG_ERR_INVALID, "encode NULL pca");
    CHECK(rdg_pca_fit(X, 4, 3, 2, RDG_PCA_SCALE_NONE, &p) == RDG_OK, "fit 4 x 3");
    CHECK(rdg_pca_encode(&p, NULL, 4, Z) == RDG_ERR_INVALID, "encode NULL X");
    CHECK(rdg_pca_encode(&p, X, 0, Z) == RDG_ERR_INVALID, "encode n = 0");
    CHECK(rdg_pca_decode(&p, Z, 4, NULL) == RDG_ERR_INVALID, "decode NULL out");
    CHECK(rdg_pca_encode(&p, X, (size_t)-1 / 2, Z) == RDG_ERR_OVERFLOW, "encode n D overflows");
    Z[1] = (rdg_real)INFINITY;
    CHECK(rdg_pca_decode(&p, Z, 1, Y) == RDG_ERR_NONFINITE, "decode Inf");
    rdg_pca_free(&p);
}

/* ---------------------------------------------------------------------------- IDX */
static size_t put_idx(unsigned char *b, unsigned type, unsigned ndim, const unsigned long *dims) {
    size_t o = 4, i;
    b[0] = 0; b[1] = 0; b[2] = (unsigned char)type; b[3] = (unsigned char)ndim;
    for (i = 0; i < ndim; ++i) {
        b[o++] = (unsigned char)(dims[i] >> 24); b[o++] = (unsigned char)(dims[i] >> 16);
        b[o++] = (unsigned char)(dims[i] >> 8); b[o++] = (unsigned char)dims[i];
    }
    return o;
}

static void test_idx(void) {
    unsigned char b[128];
    unsigned long dims[3] = { 2, 2, 3 }, big[2] = { 0xFFFFFFFFul, 0xFFFFFFFFul }, one[1] = { 0xFFFFFFFFul };
    size_t h, len, i, cut;
    rdg_array a;
    rdg_status st;
    int bad = 0;
    h = put_idx(b, 0x08, 3, dims);
    for (i = 0; i < 12; ++i) b[h + i] = (unsigned char)(i * 20 + (i == 11 ? 35 : 0));   /* last = 255 */
    len = h + 12;
    st = rdg_idx_read_mem(b, len, 0, &a);
    CHECK(st == RDG_OK, "idx3 good: %s", rdg_status_str(st));
    CHECK(a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 2 && a.shape[2] == 3 && a.count == 12, "idx3 shape");
    if (st == RDG_OK) {
        CHECK_CLOSE(a.data[1], 20.0 / 255.0, 1e-15, "scaled to [0,1]");
        CHECK(a.data[0] == 0 && a.data[11] == 1, "0 -> 0, 255 -> 1");
    }
    rdg_array_free(&a);
    st = rdg_idx_read_mem(b, len, 1, &a);
    CHECK(st == RDG_OK && a.data[5] == 100 && a.data[11] == 255, "raw counts");
    rdg_array_free(&a);
    /* labels, magic 0x00000801 */
    {
        unsigned long nl[1] = { 5 };
        size_t hl = put_idx(b, 0x08, 1, nl);
        for (i = 0; i < 5; ++i) b[hl + i] = (unsigned char)(9 - i);
        st = rdg_idx_read_mem(b, hl + 5, 1, &a);
        CHECK(st == RDG_OK && a.ndim == 1 && a.shape[0] == 5 && a.data[0] == 9 && a.data[4] == 5, "labels");
        rdg_array_free(&a);
        /* every strict prefix is truncated */
        for (cut = 0; cut < hl + 5; ++cut) {
            st = rdg_idx_read_mem(b, cut, 1, &a);
            if (st != RDG_ERR_TRUNCATED || a.data) bad++;
        }
        CHECK(bad == 0, "all %lu prefixes TRUNCATED (%d not)", (unsigned long)(hl + 5), bad);
        b[hl + 5] = 0;
        CHECK(rdg_idx_read_mem(b, hl + 6, 1, &a) == RDG_ERR_FORMAT, "one byte too many: FORMAT");
    }
    /* malformed */
    h = put_idx(b, 0x08, 3, dims); memset(b + h, 0, 12); len = h + 12;
    b[0] = 1; CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_ERR_FORMAT, "bad magic byte 0"); b[0] = 0;
    b[1] = 8; CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_ERR_FORMAT, "bad magic byte 1"); b[1] = 0;
    b[2] = 0x07; CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_ERR_FORMAT, "unknown type");
    b[2] = 0x0D; CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_ERR_DTYPE, "float type unsupported");
    b[2] = 0x09; CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_ERR_DTYPE, "signed byte unsupported"); b[2] = 0x08;
    b[3] = 0; CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_ERR_FORMAT, "ndim 0");
    b[3] = 9; CHECK(rdg_idx_read_mem(b, len + 64, 0, &a) == RDG_ERR_DTYPE, "ndim 9");
    b[3] = 3;
    CHECK(rdg_idx_read_mem(b, len - 1, 0, &a) == RDG_ERR_TRUNCATED, "payload one short");
    CHECK(rdg_idx_read_mem(b, len, 0, &a) == RDG_OK, "restored");
    rdg_array_free(&a);
    h = put_idx(b, 0x08, 2, big);
    CHECK(rdg_idx_read_mem(b, h + 4, 0, &a) == RDG_ERR_OVERFLOW && a.data == NULL, "(2^32-1)^2 elements: OVERFLOW");
    h = put_idx(b, 0x08, 1, one);
    CHECK(rdg_idx_read_mem(b, h + 4, 0, &a) == RDG_ERR_OVERFLOW, "2^32-1 elements over the cap: OVERFLOW");
    CHECK(rdg_idx_read_mem(NULL, 5, 0, &a) == RDG_ERR_INVALID, "NULL buffer");
    CHECK(rdg_idx_read_mem(b, 5, 0, NULL) == RDG_ERR_INVALID, "NULL array");
    CHECK(rdg_idx_read_mem(NULL, 0, 0, &a) == RDG_ERR_TRUNCATED, "empty");
    CHECK(rdg_idx_read("/nonexistent/dir/x.idx", 0, &a) == RDG_ERR_IO, "missing file: IO");
}

/* ---------------------------------------------------------------------------- PNG */
#ifdef RDG_TEST_PNG
static void test_png(void) {
    unsigned char g[15], rgb[3 * 4], *copy;
    membuf m, mc;
    rdg_array a;
    rdg_status st;
    size_t i, cut;
    int bad = 0, ntrunc = 0;
    for (i = 0; i < 15; ++i) g[i] = (unsigned char)(i * 17);
    m = png_of(g, 5, 3, 1);
    CHECK(m.p != NULL, "stb_image_write made a PNG");
    if (!m.p) return;
    st = rdg_png_read_mem(m.p, m.len, &a);
    CHECK(st == RDG_OK, "grey PNG: %s", rdg_status_str(st));
    CHECK(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 5 && a.count == 15, "shape (h, w)");
    if (st == RDG_OK) for (i = 0; i < 15; ++i) CHECK_CLOSE(a.data[i], (double)(i * 17) / 255.0, 1e-15, "grey value");
    rdg_array_free(&a);
    /* RGB: stb's luma */
    for (i = 0; i < 4; ++i) { rgb[3 * i] = (unsigned char)(i * 60); rgb[3 * i + 1] = 200; rgb[3 * i + 2] = 10; }
    mc = png_of(rgb, 2, 2, 3);
    st = rdg_png_read_mem(mc.p, mc.len, &a);
    CHECK(st == RDG_OK && a.count == 4, "RGB PNG");
    if (st == RDG_OK) for (i = 0; i < 4; ++i)
        CHECK_CLOSE(a.data[i], (double)((i * 60 * 77 + 200 * 150 + 10 * 29) >> 8) / 255.0, 1e-15, "luma");
    rdg_array_free(&a); free(mc.p);
    /* every strict prefix fails cleanly; most are TRUNCATED */
    for (cut = 0; cut < m.len; ++cut) {
        copy = (unsigned char *)malloc(cut ? cut : 1);        /* exact size: ASan sees overreads */
        memcpy(copy, m.p, cut);
        st = rdg_png_read_mem(copy, cut, &a);
        if (st == RDG_OK && cut < m.len - 12) bad++;           /* only IEND may be missing */
        if (st != RDG_OK && (a.data || (st != RDG_ERR_TRUNCATED && st != RDG_ERR_FORMAT))) bad++;
        ntrunc += st == RDG_ERR_TRUNCATED;
        rdg_array_free(&a);
        free(copy);
    }
    CHECK(bad == 0, "prefixes: %d bad statuses", bad);
    CHECK(ntrunc >= (int)(m.len - 16), "prefixes: %d of %lu TRUNCATED", ntrunc, (unsigned long)m.len);
    CHECK(rdg_png_read_mem(m.p, 4, &a) == RDG_ERR_TRUNCATED, "4 bytes of signature: TRUNCATED");
    CHECK(rdg_png_read_mem(m.p, m.len / 2, &a) == RDG_ERR_TRUNCATED, "half: TRUNCATED");
    /* malformed */
    copy = (unsigned char *)malloc(m.len);
    memcpy(copy, m.p, m.len); copy[1] = 'X';
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_FORMAT, "bad signature: FORMAT");
    memcpy(copy, m.p, m.len); memcpy(copy + 12, "IHDX", 4);
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_FORMAT, "first chunk not IHDR: FORMAT");
    memcpy(copy, m.p, m.len); memset(copy + 16, 0, 4);           /* width 0 */
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_FORMAT, "width 0: FORMAT");
    memcpy(copy, m.p, m.len); copy[16] = 0x7f;                   /* width ~2^31 */
    st = rdg_png_read_mem(copy, m.len, &a);
    CHECK(st == RDG_ERR_OVERFLOW, "width 2^31: OVERFLOW (%s)", rdg_status_str(st));
    memcpy(copy, m.p, m.len);                                    /* 30000 x 30000: pixel cap */
    copy[16] = 0; copy[17] = 0; copy[18] = 0x75; copy[19] = 0x30;
    copy[20] = 0; copy[21] = 0; copy[22] = 0x75; copy[23] = 0x30;
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_OVERFLOW, "30000^2 pixels: OVERFLOW");
    memcpy(copy, m.p, m.len);                                    /* 8192^2: too little IDAT */
    copy[16] = 0; copy[17] = 0; copy[18] = 0x20; copy[19] = 0;
    copy[20] = 0; copy[21] = 0; copy[22] = 0x20; copy[23] = 0;
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_FORMAT, "8192^2 pixels from a few IDAT bytes: FORMAT");
    memcpy(copy, m.p, m.len);                                    /* IDAT length 0x7f000000 */
    copy[33] = 0x7f;
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_TRUNCATED, "IDAT longer than the file: TRUNCATED");
    copy[33] = 0x80;
    CHECK(rdg_png_read_mem(copy, m.len, &a) == RDG_ERR_FORMAT, "chunk length over 2^31: FORMAT");
    memcpy(copy, m.p, m.len);                                    /* corrupt the zlib stream */
    for (i = 41; i < m.len - 12 && i < 60; ++i) copy[i] ^= 0xA5;
    st = rdg_png_read_mem(copy, m.len, &a);
    CHECK(st == RDG_ERR_FORMAT || st == RDG_OK, "corrupt IDAT: FORMAT or decodes (%s)", rdg_status_str(st));
    rdg_array_free(&a);
    free(copy);
    CHECK(rdg_png_read_mem(NULL, 10, &a) == RDG_ERR_INVALID, "NULL buffer");
    CHECK(rdg_png_read_mem(m.p, m.len, NULL) == RDG_ERR_INVALID, "NULL array");
    CHECK(rdg_png_read_mem(m.p, (size_t)INT_MAX + 1, &a) == RDG_ERR_OVERFLOW, "len > INT_MAX");
    CHECK(rdg_png_read("/nonexistent/dir/x.png", &a) == RDG_ERR_IO, "missing file: IO");
    free(m.p);
}

static void test_sheet(void) {
    /* 3 x 2 tiles of 4 x 5 (w x h): image 12 x 10; tile t, pixel (r, c) = 40 t + 4 r + c */
    unsigned char px[120];
    size_t t, r, c, bad = 0;
    membuf m;
    rdg_array a;
    rdg_status st;
    for (t = 0; t < 6; ++t) for (r = 0; r < 5; ++r) for (c = 0; c < 4; ++c)
        px[((t / 3) * 5 + r) * 12 + (t % 3) * 4 + c] = (unsigned char)(40 * t + 4 * r + c);
    m = png_of(px, 12, 10, 1);
    if (!m.p) { CHECK(0, "png_of"); return; }
    st = rdg_png_sheet_read_mem(m.p, m.len, 4, 5, 0, &a);
    CHECK(st == RDG_OK && a.ndim == 2 && a.shape[0] == 6 && a.shape[1] == 20, "sheet: all 6 tiles");
    if (st == RDG_OK) for (t = 0; t < 6; ++t) for (r = 0; r < 5; ++r) for (c = 0; c < 4; ++c)
        if (a.data[t * 20 + r * 4 + c] != (rdg_real)(40 * t + 4 * r + c) / RDG__R(255.0)) bad++;
    CHECK(bad == 0, "sheet tiles in order, row-major (%lu bad)", (unsigned long)bad);
    rdg_array_free(&a);
    st = rdg_png_sheet_read_mem(m.p, m.len, 4, 5, 4, &a);
    CHECK(st == RDG_OK && a.shape[0] == 4 && a.data[3 * 20] == (rdg_real)120 / RDG__R(255.0), "first 4 tiles");
    rdg_array_free(&a);
    CHECK(rdg_png_sheet_read_mem(m.p, m.len, 4, 5, 7, &a) == RDG_ERR_SHAPE, "count > tiles: SHAPE");
    CHECK(rdg_png_sheet_read_mem(m.p, m.len, 5, 5, 0, &a) == RDG_ERR_SHAPE, "width not a multiple: SHAPE");
    CHECK(rdg_png_sheet_read_mem(m.p, m.len, 4, 3, 0, &a) == RDG_ERR_SHAPE, "height not a multiple: SHAPE");
    CHECK(rdg_png_sheet_read_mem(m.p, m.len, 0, 5, 0, &a) == RDG_ERR_INVALID, "tile width 0");
    CHECK(rdg_png_sheet_read_mem(m.p, m.len, (size_t)-1, 3, 0, &a) == RDG_ERR_OVERFLOW, "tile size overflows");
    CHECK(rdg_png_sheet_read_mem(m.p, m.len / 2, 4, 5, 0, &a) == RDG_ERR_TRUNCATED && a.data == NULL, "truncated sheet");
    CHECK(rdg_png_sheet_read_mem(m.p, m.len, 4, 5, 0, NULL) == RDG_ERR_INVALID, "NULL out");
    free(m.p);
}

/* ---------------------------------------------------------------------------- MNIST */
/* The shipped sheets: counts, range, padding; byte-exact against the IDX source when the
   shared data is at hand; then a PCA latent of 4s and 8s (MATH.md 5). */
static void test_mnist(void) {
    rdg_array f, e, all, img, lab;
    rdg_status st;
    size_t i, t, bad = 0;
    double mx = 0, mn = 1;
    const char *img_paths[2] = { "../shared/data/mnist/mnist10k-images-idx3-ubyte", "/work/shared/data/mnist/mnist10k-images-idx3-ubyte" };
    const char *lab_paths[2] = { "../shared/data/mnist/mnist10k-labels-idx1-ubyte", "/work/shared/data/mnist/mnist10k-labels-idx1-ubyte" };
    st = rdg_png_sheet_read("data/mnist/fours.png", 28, 28, 980, &f);
    CHECK(st == RDG_OK && f.shape[0] == 980 && f.shape[1] == 784, "fours.png: 980 x 784 (%s)", rdg_status_str(st));
    if (st != RDG_OK) return;
    st = rdg_png_sheet_read("data/mnist/eights.png", 28, 28, 944, &e);
    CHECK(st == RDG_OK && e.shape[0] == 944 && e.shape[1] == 784, "eights.png: 944 x 784 (%s)", rdg_status_str(st));
    if (st != RDG_OK) { rdg_array_free(&f); return; }
    for (i = 0; i < f.count; ++i) { if (f.data[i] > mx) mx = f.data[i]; if (f.data[i] < mn) mn = f.data[i]; }
    CHECK(mn == 0 && mx == 1, "values span [0, 1] (%g, %g)", mn, mx);
    /* full grids: count 0 gives exactly the digits, no padding tiles */
    st = rdg_png_sheet_read("data/mnist/fours.png", 28, 28, 0, &all);
    CHECK(st == RDG_OK && all.shape[0] == 980, "count 0: the 980 fours (49 x 20 tiles)");
    if (st == RDG_OK) bad += memcmp(all.data, f.data, f.count * sizeof(rdg_real)) != 0;
    rdg_array_free(&all);
    st = rdg_png_sheet_read("data/mnist/eights.png", 28, 28, 0, &all);
    CHECK(st == RDG_OK && all.shape[0] == 944, "count 0: the 944 eights (59 x 16 tiles)");
    if (st == RDG_OK) bad += memcmp(all.data, e.data, e.count * sizeof(rdg_real)) != 0;
    rdg_array_free(&all);
    CHECK(bad == 0, "count 0 = the explicit counts");
    for (t = 0, bad = 0; t < 980; ++t) {              /* no blank tile among the digits */
        double s = 0;
        for (i = 0; i < 784; ++i) s += f.data[t * 784 + i];
        bad += s < 10;
    }
    CHECK(bad == 0, "no blank tiles (%lu)", (unsigned long)bad);
    CHECK(rdg_png_sheet_read("data/mnist/fours.png", 28, 28, 981, &all) == RDG_ERR_SHAPE, "981 tiles: SHAPE");
    /* against the IDX source, when available */
    for (i = 0; i < 2; ++i) if (rdg_idx_read(img_paths[i], 0, &img) == RDG_OK) break;
    if (i < 2 && rdg_idx_read(lab_paths[i], 1, &lab) == RDG_OK) {
        size_t n4 = 0, n8 = 0, dif = 0;
        CHECK(img.ndim == 3 && img.shape[0] == 10000 && img.shape[1] == 28 && img.shape[2] == 28, "IDX images shape");
        for (t = 0; t < 10000; ++t) {
            const rdg_real *src = img.data + t * 784, *dst;
            if (lab.data[t] == 4) dst = f.data + 784 * n4++;
            else if (lab.data[t] == 8) dst = e.data + 784 * n8++;
            else continue;
            if ((lab.data[t] == 4 && n4 > 980) || (lab.data[t] == 8 && n8 > 944)) { dif++; continue; }
            if (memcmp(src, dst, 784 * sizeof(rdg_real)) != 0) dif++;
        }
        CHECK(n4 == 980 && n8 == 944 && dif == 0, "sheets = IDX digits 4 and 8, in order (%lu, %lu, %lu differ)",
              (unsigned long)n4, (unsigned long)n8, (unsigned long)dif);
        rdg_array_free(&lab);
    } else printf("skip: MNIST IDX source not found (compare of the sheets with it)\n");
    rdg_array_free(&img);
    /* A latent for 200 fours + 200 eights (n < D: the Gram path), k = 32, default scaling. */
    {
        const size_t n = 400, D = 784, k = 32;
        rdg_real *X = (rdg_real *)malloc(n * D * sizeof(rdg_real)), *Z = (rdg_real *)malloc(n * k * sizeof(rdg_real));
        rdg_pca p;
        double m2 = 0;
        memcpy(X, f.data, 200 * D * sizeof(rdg_real));
        memcpy(X + 200 * D, e.data, 200 * D * sizeof(rdg_real));
        st = rdg_pca_fit(X, n, D, k, RDG_PCA_SCALE_UNIT_MEAN, &p);
        CHECK(st == RDG_OK, "MNIST PCA fit: %s", rdg_status_str(st));
        if (st == RDG_OK) {
            CHECK(orth_err(&p) < 1e-12, "MNIST components orthonormal (%g)", orth_err(&p));
            CHECK_CLOSE(recon_mse(&p, X, n), tail_sum(&p), 1e-10 * trace(&p), "MNIST mse = dropped eigenvalues");
            CHECK(rdg_pca_encode(&p, X, n, Z) == RDG_OK, "encode");
            for (i = 0; i < n * k; ++i) m2 += (double)Z[i] * (double)Z[i];
            CHECK_CLOSE(m2 / (double)(n * k), 1.0, 1e-12, "MNIST latent: unit mean variance");
            CHECK(p.explained > 0.6 && p.explained < 0.95, "32 components explain %.3f", (double)p.explained);
        }
        rdg_pca_free(&p);
        free(X); free(Z);
    }
    /* all 1,924, downsampled 2 x 2 to 14 x 14 (D = 196 < n: the covariance path) */
    {
        const size_t n = 1924, D = 196, k = 16;
        rdg_real *X = (rdg_real *)malloc(n * D * sizeof(rdg_real));
        rdg_pca p;
        size_t r, c;
        for (t = 0; t < n; ++t) {
            const rdg_real *src = t < 980 ? f.data + t * 784 : e.data + (t - 980) * 784;
            for (r = 0; r < 14; ++r) for (c = 0; c < 14; ++c)
                X[t * D + r * 14 + c] = (src[(2 * r) * 28 + 2 * c] + src[(2 * r) * 28 + 2 * c + 1]
                                       + src[(2 * r + 1) * 28 + 2 * c] + src[(2 * r + 1) * 28 + 2 * c + 1]) / 4;
        }
        st = rdg_pca_fit(X, n, D, k, RDG_PCA_SCALE_UNIT_MEAN, &p);
        CHECK(st == RDG_OK, "MNIST 14x14 PCA fit: %s", rdg_status_str(st));
        if (st == RDG_OK) {
            CHECK(orth_err(&p) < 1e-12, "14x14 components orthonormal (%g)", orth_err(&p));
            CHECK_CLOSE(recon_mse(&p, X, n), tail_sum(&p), 1e-10 * trace(&p), "14x14 mse = dropped eigenvalues");
        }
        rdg_pca_free(&p);
        free(X);
    }
    rdg_array_free(&f); rdg_array_free(&e);
}

#endif /* RDG_TEST_PNG */

int main(void) {
    test_pca_basic();
    test_pca_gram();
    test_pca_errors();
    test_idx();
#ifdef RDG_TEST_PNG
    test_png();
    test_sheet();
    test_mnist();
#else
    printf("skip: PNG tests (this compiler does not see <stb/stb_image.h>)\n");
#endif
    RDG_TEST_END("test_latent");
}
