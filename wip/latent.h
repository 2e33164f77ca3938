/* ridgediff.h fragment under development (issue 4, items 3 and 4): a latent space without a VAE.
   PCA fit/encode/decode with a documented latent scaling (MATH.md 5), IDX (MNIST) loading,
   PNG loading through stb_image (opt-in, RIDGEDIFF_STB_IMAGE) and a PNG tile-sheet reader.

   Splicing: the block between the DECLARATIONS markers goes into the declarations part of
   ridgediff.h (section 12, >>io, after rdg_npy_write), inside the include guard and the
   extern "C" block; the rest goes into the implementation, after >>io. It needs rdg__eigh_tqr
   (Householder + implicit QR, wip/rf.h) to be defined before it.
   Until then a program compiles it as
       #define RIDGEDIFF_IMPLEMENTATION
       #include "ridgediff.h"
       #include "wip/latent.h"
   (RDG_LATENT_DECLARED keeps the declarations from being seen twice once they are spliced.) */
#ifndef RDG__LATENT_FRAGMENT
#define RDG__LATENT_FRAGMENT

#ifdef __cplusplus
extern "C" {
#endif

/* == DECLARATIONS == */
#ifndef RDG_LATENT_DECLARED
#define RDG_LATENT_DECLARED
/* >>pca ------------------------------------------------------------------------------------
   Principal component analysis: a linear latent space for image data (MNIST digits) without a
   VAE. Fit on X (n x D): mean mu, covariance S = (1/n) sum_i (x_i - mu)(x_i - mu)^T - note
   1/n, not 1/(n-1): with it the mean squared reconstruction error over the fit set,
   (1/n) sum_i |x_i - decode(encode(x_i))|^2, equals the sum of the dropped eigenvalues
   lam_k + ... + lam_{D-1} exactly, and the latent variances below are exact on the fit set.
   Components: the top k eigenvectors v_0..v_{k-1} of S (rows of components, orthonormal;
   each signed so that its largest-magnitude entry, first one on ties, is positive).
       encode: z_j = scale_j * v_j . (x - mu)          (j = 0..k-1)
       decode: x   = mu + sum_j (z_j / scale_j) v_j

   Latent scaling (MATH.md 5). The diffusion's prior at time T is N(0, I_k), and the density,
   ridge and reach-align-slide diagnostics depend on the spacing of the data relative to the
   noise scale s_t, so the latent scale is a modelling choice; ridgediff's default is
     RDG_PCA_SCALE_UNIT_MEAN  one scalar c for all coordinates (scale_j = c), chosen so that
                              the latent coordinates of the fit set have unit MEAN variance:
                              (1/k) sum_j c^2 lam_j = 1, i.e. c = 1 / sqrt(mean(lam_0..lam_{k-1})).
                              Then E|z|^2 = k, as under N(0, I_k), and - being a similarity -
                              it keeps the geometry (distances, angles, ridges) of the PCA
                              coordinates up to one factor. The paper's MNIST setting (1,924
                              4s and 8s, k = 32) uses this scaling.
     RDG_PCA_SCALE_NONE       scale_j = 1: latents in pixel units ([0,1] intensities).
     RDG_PCA_SCALE_WHITEN     scale_j = 1 / sqrt(lam_j): every coordinate has unit variance.
                              Anisotropic: it changes distances and so the ridge set; it
                              inflates the low-variance directions. For comparisons only.
   Eigen-solver: Householder tridiagonalisation + implicit QR (Golub & Van Loan 8.3), on the
   D x D covariance, or, when n < D, on the n x n Gram matrix (1/n) Xc Xc^T (same non-zero
   eigenvalues; components v_j = Xc^T u_j / sqrt(n mu_j), then re-orthonormalised). */
typedef enum rdg_pca_scaling {
    RDG_PCA_SCALE_UNIT_MEAN = 0,   /* default: one factor, unit mean latent variance */
    RDG_PCA_SCALE_NONE = 1,        /* latents in input units                         */
    RDG_PCA_SCALE_WHITEN = 2       /* per-coordinate unit variance (changes geometry) */
} rdg_pca_scaling;

/* A fitted PCA. All arrays live in one allocation (base: mean); release with rdg_pca_free
   (safe on a zeroed struct, and after a failed fit, which leaves *p zeroed). */
typedef struct rdg_pca {
    size_t D, k, n;               /* input dimension, components, size of the fit set        */
    rdg_pca_scaling scaling;
    rdg_real *mean;               /* D                                                        */
    rdg_real *components;         /* k x D, row-major, rows orthonormal                       */
    rdg_real *eigenvalues;        /* D: eigenvalues of S (1/n normalisation), descending,
                                     rounding negatives set to 0                              */
    rdg_real *scale;              /* k: z_j = scale[j] * v_j . (x - mean)                     */
    rdg_real explained;           /* (lam_0 + .. + lam_{k-1}) / trace S  (1 when trace S = 0) */
} rdg_pca;

/* Fits a k-component PCA to X (n x D, row-major) with the given latent scaling.
   [in]  X        n x D data, finite;  n >= 2;  1 <= k <= D;  D <= RDG_PCA_MAX_DIM (16384)
   [out] out      zeroed first; on RDG_OK holds the fit (release with rdg_pca_free)
   Cost: O(n D min(n, D)) to form the matrix, ~ 9 m^3 for its eigen-decomposition, m = min(n, D)
   (about 1 s for n = 1924, D = 784). Deterministic for any number of threads.
   Returns RDG_ERR_INVALID (NULL, n < 2, k == 0 or k > D, unknown scaling), RDG_ERR_OVERFLOW
   (n D or m^2 over RDG_MAX_ELEMENTS, D over the cap), RDG_ERR_NONFINITE, RDG_ERR_NOMEM,
   RDG_ERR_SINGULAR (the scaling divides by a zero variance: all data equal for UNIT_MEAN,
   lam_j numerically 0 for some j < k with WHITEN), RDG_ERR_NOT_CONVERGED (eigen-solver). */
RDGDEF rdg_status rdg_pca_fit(const rdg_real *X, size_t n, size_t D, size_t k,
                              rdg_pca_scaling scaling, rdg_pca *out);
/* Z (n x k) = encode(X (n x D)). Returns RDG_ERR_INVALID (unfitted p, NULL, n == 0),
   RDG_ERR_OVERFLOW, RDG_ERR_NONFINITE (NaN/Inf in X). Thread-safe on a shared p. */
RDGDEF rdg_status rdg_pca_encode(const rdg_pca *p, const rdg_real *X, size_t n, rdg_real *Z);
/* X (n x D) = decode(Z (n x k)); same errors. decode(encode(x)) = x for x in mu + span(v). */
RDGDEF rdg_status rdg_pca_decode(const rdg_pca *p, const rdg_real *Z, size_t n, rdg_real *X);
RDGDEF void rdg_pca_free(rdg_pca *p);

/* >>idx ------------------------------------------------------------------------------------
   IDX files (the MNIST format): bytes 0, 0, type, ndim; then ndim big-endian 32-bit sizes;
   then the payload in C order. Only type 0x08 (unsigned byte) is read: MNIST labels have magic
   0x00000801 (shape (N)), images 0x00000803 (shape (N, 28, 28)).
   raw == 0: values are scaled to [0, 1] (byte / 255) - what images want;
   raw != 0: values are the bytes themselves, 0..255 - what labels want.
   The result is an rdg_array (ndim, shape as in the file). Sizes are overflow-checked and
   capped (RDG_MAX_ELEMENTS) before anything is allocated, and the payload must be exactly
   the size the header gives.
   Returns RDG_ERR_INVALID (NULL a, NULL buf with len > 0), RDG_ERR_FORMAT (bad magic: first two
   bytes not 0, unknown type, ndim 0; or bytes after the payload), RDG_ERR_DTYPE (types 0x09,
   0x0B-0x0E; ndim > RDG_NPY_MAX_DIMS), RDG_ERR_TRUNCATED (header or payload short),
   RDG_ERR_OVERFLOW (element count overflows or exceeds RDG_MAX_ELEMENTS), RDG_ERR_NOMEM.
   *a is zeroed first, so rdg_array_free(a) is always safe. */
RDGDEF rdg_status rdg_idx_read_mem(const void *buf, size_t len, int raw, rdg_array *a);

/* >>png ------------------------------------------------------------------------------------
   PNG through stb_image, compiled in only when RIDGEDIFF_STB_IMAGE is defined in the
   implementation file (without it these functions check their arguments and then return
   RDG_ERR_DTYPE, "unsupported"). Any PNG stb_image reads (1-16 bits, grey, RGB, palette;
   16-bit is reduced to 8) is converted to grey, values in [0, 1] (byte / 255); RGB through
   stb's luma (77 R + 150 G + 29 B) / 256; alpha is ignored.
   Checked before stb_image sees the data (so a small file cannot make it allocate much):
   the signature and IHDR; width, height <= RDG_PNG_MAX_DIM (default 32768) and width *
   height <= RDG_PNG_MAX_PIXELS (default 2^26), else RDG_ERR_OVERFLOW; the chunk list complete
   up to IEND, else RDG_ERR_TRUNCATED; IDAT long enough for the pixels at deflate's maximum
   ratio 1032:1, else RDG_ERR_FORMAT. len must be <= INT_MAX (stb_image takes an int).
   Memory used: at most about 2 x 1032 x len bytes plus the result.
   stb_image's failure reason is then translated at once: RDG_ERR_NOMEM ("outofmem"),
   RDG_ERR_OVERFLOW ("too large"), RDG_ERR_FORMAT (everything else: corrupt data).
   rdg_png_read_mem: img gets shape (h, w), row-major. *img is zeroed first. */
RDGDEF rdg_status rdg_png_read_mem(const void *buf, size_t len, rdg_array *img);
/* A sheet: a grid of tile_w x tile_h tiles (e.g. 28 x 28 MNIST digits, 40 per row), read row
   by row, left to right. The image's width and height must be multiples of the tile size
   (else RDG_ERR_SHAPE). count tiles are returned (0: all of them, rows * cols; more than
   that: RDG_ERR_SHAPE) as tiles with shape (count, tile_h * tile_w), each tile row-major. */
RDGDEF rdg_status rdg_png_sheet_read_mem(const void *buf, size_t len, size_t tile_w,
                                         size_t tile_h, size_t count, rdg_array *tiles);

#ifndef RDG_NO_STDIO
/* File wrappers (whole file read into memory first; RDG_ERR_IO when it cannot be read,
   RDG_ERR_OVERFLOW when it is larger than any valid input could be). */
RDGDEF rdg_status rdg_idx_read(const char *path, int raw, rdg_array *a);
RDGDEF rdg_status rdg_png_read(const char *path, rdg_array *img);
RDGDEF rdg_status rdg_png_sheet_read(const char *path, size_t tile_w, size_t tile_h,
                                     size_t count, rdg_array *tiles);
#endif
#endif /* RDG_LATENT_DECLARED */
/* == END DECLARATIONS == */

#ifdef __cplusplus
}
#endif

/* ================================ implementation ======================================== */
#ifndef RDG_PCA_MAX_DIM
#  define RDG_PCA_MAX_DIM 16384
#endif
#ifndef RDG_PNG_MAX_DIM
#  define RDG_PNG_MAX_DIM 32768
#endif
#ifndef RDG_PNG_MAX_PIXELS
#  define RDG_PNG_MAX_PIXELS ((size_t)1 << 26)
#endif

/* >>pca ----------------------------------------------------------------------------------- */
RDGDEF void rdg_pca_free(rdg_pca *p) {
    if (!p) return;
    rdg_free(p->mean);
    memset(p, 0, sizeof *p);
}

/* Four-way dot product in a fixed order (deterministic). */
RDG__PRIVATE rdg_real rdg__pca_dot(const rdg_real *a, const rdg_real *b, size_t n) {
    rdg_real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* G (m x m) = (1/n) R R^T for R (m x len, row-major): G_ij = R_i . R_j / n, both triangles.
   Entry (i, j) is computed by one thread in a fixed order: deterministic. */
RDG__PRIVATE void rdg__pca_gram(const rdg_real *R, size_t m, size_t len, size_t n, rdg_real *G) {
    int ii, im = (int)m;
    rdg_real inv = RDG__R(1.0) / (rdg_real)n;
    RDG__OMP(parallel for schedule(dynamic, 8) if (m * len > 65536))
    for (ii = 0; ii < im; ++ii) {
        size_t i = (size_t)ii, j;
        for (j = 0; j <= i; ++j) G[i * m + j] = rdg__pca_dot(R + i * len, R + j * len, len) * inv;
    }
    {
        size_t i, j;
        for (i = 0; i < m; ++i) for (j = i + 1; j < m; ++j) G[i * m + j] = G[j * m + i];
    }
}

/* Signs row v (len) so that its largest-magnitude entry (the first on ties) is positive. */
RDG__PRIVATE void rdg__pca_sign(rdg_real *v, size_t len) {
    size_t i, b = 0;
    for (i = 1; i < len; ++i) if (RDG__FABS(v[i]) > RDG__FABS(v[b])) b = i;
    if (v[b] < 0) for (i = 0; i < len; ++i) v[i] = -v[i];
}

/* method: 0 automatic (Gram when n < D), 1 covariance, 2 Gram (falls back to the covariance
   when the Gram matrix has fewer than k numerically non-zero eigenvalues). */
RDG__PRIVATE rdg_status rdg__pca_fit(const rdg_real *X, size_t n, size_t D, size_t k,
                                     rdg_pca_scaling scaling, int method, rdg_pca *out) {
    size_t nD, DD = 0, nn = 0, i, j, tot;
    int ok = 1, gram, e;
    rdg_real *blk, *Xc = NULL, *M = NULL, *lam = NULL, sum, trace, topk;
    if (!out) return RDG_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (!X || n < 2 || D == 0 || k == 0 || k > D) return RDG_ERR_INVALID;
    if ((int)scaling < (int)RDG_PCA_SCALE_UNIT_MEAN || (int)scaling > (int)RDG_PCA_SCALE_WHITEN)
        return RDG_ERR_INVALID;
    if (D > RDG_PCA_MAX_DIM || n > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    nD = rdg__mul(n, D, &ok);
    if (!ok || nD > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(X, nD)) return RDG_ERR_NONFINITE;
    DD = D * D;                                       /* D <= 16384: no overflow */
    if (n <= RDG_MAX_ELEMENTS) nn = rdg__mul(n, n, &ok); else ok = 0;
    if (!ok) nn = (size_t)-1;
    gram = method == 2 || (method == 0 && n < D);
    if (gram && nn > RDG_MAX_ELEMENTS) gram = 0;
    if (!gram && DD > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    /* result block: mean D, components k D, eigenvalues D, scale k */
    tot = 2 * D + k * D + k;                         /* k, D <= 16384: no overflow */
    blk = (rdg_real *)rdg__alloc(tot, sizeof(rdg_real));
    Xc = (rdg_real *)rdg__alloc(nD, sizeof(rdg_real));
    if (!blk || !Xc) { rdg_free(blk); rdg_free(Xc); return RDG_ERR_NOMEM; }
    out->mean = blk; out->components = blk + D; out->eigenvalues = out->components + k * D;
    out->scale = out->eigenvalues + D;
    out->D = D; out->k = k; out->n = n; out->scaling = scaling;
    for (j = 0; j < D; ++j) out->mean[j] = 0;
    for (i = 0; i < n; ++i) for (j = 0; j < D; ++j) out->mean[j] += X[i * D + j];
    for (j = 0; j < D; ++j) out->mean[j] /= (rdg_real)n;
    for (;;) {
        size_t m = gram ? n : D, mm = gram ? nn : DD;
        /* Xc: centred data, n x D (Gram) or transposed D x n (covariance) */
        if (gram) { for (i = 0; i < n; ++i) for (j = 0; j < D; ++j) Xc[i * D + j] = X[i * D + j] - out->mean[j]; }
        else      { for (i = 0; i < n; ++i) for (j = 0; j < D; ++j) Xc[j * n + i] = X[i * D + j] - out->mean[j]; }
        M = (rdg_real *)rdg__alloc(mm, sizeof(rdg_real));
        lam = (rdg_real *)rdg__alloc(m, sizeof(rdg_real));
        if (!M || !lam) { rdg_free(M); rdg_free(lam); rdg_free(Xc); rdg_pca_free(out); return RDG_ERR_NOMEM; }
        rdg__pca_gram(Xc, m, gram ? D : n, n, M);
        e = rdg__eigh_tqr(M, m, lam);
        if (e != 0) {
            rdg_free(M); rdg_free(lam); rdg_free(Xc); rdg_pca_free(out);
            return e == -1 ? RDG_ERR_NOMEM : RDG_ERR_NOT_CONVERGED;
        }
        for (j = 0; j < m; ++j) if (lam[j] < 0) lam[j] = 0;
        if (!gram) {
            for (j = 0; j < k; ++j) for (i = 0; i < D; ++i) out->components[j * D + i] = M[i * D + j];
            for (j = 0; j < D; ++j) out->eigenvalues[j] = lam[j];
            break;
        }
        /* Gram: needs k clearly non-zero eigenvalues, else the covariance path */
        if (k <= n && lam[k - 1] > (rdg_real)(n > D ? n : D) * RDG__EPS * lam[0] * RDG__R(16.0)) {
            size_t pass;
            for (j = 0; j < k; ++j) {
                rdg_real *v = out->components + j * D, f = RDG__R(1.0) / RDG__SQRT((rdg_real)n * lam[j]);
                for (i = 0; i < D; ++i) v[i] = 0;
                for (i = 0; i < n; ++i) {
                    rdg_real u = M[i * n + j] * f;
                    const rdg_real *xr = Xc + i * D;
                    size_t c;
                    for (c = 0; c < D; ++c) v[c] += u * xr[c];
                }
            }
            /* modified Gram-Schmidt, twice: restores orthonormality lost to rounding for the
               smaller eigenvalues (their error grows like eps lam_0 / lam_j) */
            for (pass = 0; pass < 2; ++pass) {
                for (j = 0; j < k; ++j) {
                    rdg_real *v = out->components + j * D, nv;
                    size_t q, c;
                    for (q = 0; q < j; ++q) {
                        const rdg_real *u = out->components + q * D;
                        rdg_real pr = rdg__pca_dot(u, v, D);
                        for (c = 0; c < D; ++c) v[c] -= pr * u[c];
                    }
                    nv = RDG__SQRT(rdg__pca_dot(v, v, D));
                    for (c = 0; c < D; ++c) v[c] /= nv;
                }
            }
            for (j = 0; j < k; ++j) rdg__pca_sign(out->components + j * D, D);
            for (j = 0; j < D; ++j) out->eigenvalues[j] = j < n ? lam[j] : 0;
            break;
        }
        rdg_free(M); rdg_free(lam); M = lam = NULL;
        if (DD > RDG_MAX_ELEMENTS) { rdg_free(Xc); rdg_pca_free(out); return RDG_ERR_SINGULAR; }
        gram = 0;                                     /* Xc (n*D) is refilled transposed */
    }
    rdg_free(M); rdg_free(lam); rdg_free(Xc);
    trace = 0; topk = 0;
    for (j = 0; j < D; ++j) trace += out->eigenvalues[j];
    for (j = 0; j < k; ++j) topk += out->eigenvalues[j];
    out->explained = trace > 0 ? topk / trace : RDG__R(1.0);
    switch (scaling) {
    case RDG_PCA_SCALE_UNIT_MEAN:
        sum = topk / (rdg_real)k;
        if (!(sum > 0)) { rdg_pca_free(out); return RDG_ERR_SINGULAR; }
        for (j = 0; j < k; ++j) out->scale[j] = RDG__R(1.0) / RDG__SQRT(sum);
        break;
    case RDG_PCA_SCALE_NONE:
        for (j = 0; j < k; ++j) out->scale[j] = RDG__R(1.0);
        break;
    default:
        for (j = 0; j < k; ++j) {
            if (!(out->eigenvalues[j] > (rdg_real)D * RDG__EPS * out->eigenvalues[0])) {
                rdg_pca_free(out); return RDG_ERR_SINGULAR;
            }
            out->scale[j] = RDG__R(1.0) / RDG__SQRT(out->eigenvalues[j]);
        }
        break;
    }
    return RDG_OK;
}

RDGDEF rdg_status rdg_pca_fit(const rdg_real *X, size_t n, size_t D, size_t k,
                              rdg_pca_scaling scaling, rdg_pca *out) {
    return rdg__pca_fit(X, n, D, k, scaling, 0, out);
}

RDG__PRIVATE rdg_status rdg__pca_check(const rdg_pca *p, const rdg_real *A, size_t n,
                                       const rdg_real *B, size_t cols_in) {
    size_t cnt;
    int ok = 1;
    if (!p || !p->mean || !p->components || !p->scale || !p->eigenvalues || p->D == 0
        || p->k == 0 || p->k > p->D || !A || !B || n == 0) return RDG_ERR_INVALID;
    cnt = rdg__mul(n, p->D, &ok);
    if (!ok || cnt > RDG_MAX_ELEMENTS || n > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(A, n * cols_in)) return RDG_ERR_NONFINITE;
    return RDG_OK;
}

RDGDEF rdg_status rdg_pca_encode(const rdg_pca *p, const rdg_real *X, size_t n, rdg_real *Z) {
    rdg_status st = rdg__pca_check(p, X, n, Z, p ? p->D : 0);
    int ii;
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(static) if (n * p->D * p->k > 262144))
    for (ii = 0; ii < (int)n; ++ii) {
        size_t i = (size_t)ii, j, c, D = p->D, k = p->k;
        const rdg_real *x = X + i * D;
        for (j = 0; j < k; ++j) {
            const rdg_real *v = p->components + j * D;
            rdg_real s = 0;
            for (c = 0; c < D; ++c) s += v[c] * (x[c] - p->mean[c]);
            Z[i * k + j] = p->scale[j] * s;
        }
    }
    return RDG_OK;
}

RDGDEF rdg_status rdg_pca_decode(const rdg_pca *p, const rdg_real *Z, size_t n, rdg_real *X) {
    rdg_status st = rdg__pca_check(p, Z, n, X, p ? p->k : 0);
    int ii;
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(static) if (n * p->D * p->k > 262144))
    for (ii = 0; ii < (int)n; ++ii) {
        size_t i = (size_t)ii, j, c, D = p->D, k = p->k;
        rdg_real *x = X + i * D;
        for (c = 0; c < D; ++c) x[c] = p->mean[c];
        for (j = 0; j < k; ++j) {
            const rdg_real *v = p->components + j * D;
            rdg_real f = Z[i * k + j] / p->scale[j];
            for (c = 0; c < D; ++c) x[c] += f * v[c];
        }
    }
    return RDG_OK;
}

/* >>idx ----------------------------------------------------------------------------------- */
RDG__PRIVATE size_t rdg__be32(const unsigned char *p) {
    return (size_t)(((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16)
                    | ((unsigned long)p[2] << 8) | (unsigned long)p[3]);
}

RDGDEF rdg_status rdg_idx_read_mem(const void *buf, size_t len, int raw, rdg_array *a) {
    const unsigned char *u = (const unsigned char *)buf;
    size_t ndim, i, count = 1, hdr;
    int ok = 1;
    if (!a) return RDG_ERR_INVALID;
    memset(a, 0, sizeof *a);
    if (!buf && len) return RDG_ERR_INVALID;
    /* judge the magic bytes that are there, then the length */
    if ((len > 0 && u[0] != 0) || (len > 1 && u[1] != 0)) return RDG_ERR_FORMAT;
    if (len > 2 && u[2] != 0x08) {
        if (u[2] == 0x09 || (u[2] >= 0x0B && u[2] <= 0x0E)) return RDG_ERR_DTYPE;
        return RDG_ERR_FORMAT;
    }
    if (len > 3 && u[3] == 0) return RDG_ERR_FORMAT;
    if (len < 4) return RDG_ERR_TRUNCATED;
    ndim = u[3];
    if (ndim > RDG_NPY_MAX_DIMS) return RDG_ERR_DTYPE;
    hdr = 4 + 4 * ndim;
    if (len < hdr) return RDG_ERR_TRUNCATED;
    for (i = 0; i < ndim; ++i) {
        a->shape[i] = rdg__be32(u + 4 + 4 * i);
        count = rdg__mul(count, a->shape[i], &ok);
    }
    if (!ok || count > RDG_MAX_ELEMENTS) { memset(a, 0, sizeof *a); return RDG_ERR_OVERFLOW; }
    if (len - hdr < count) { memset(a, 0, sizeof *a); return RDG_ERR_TRUNCATED; }
    if (len - hdr > count) { memset(a, 0, sizeof *a); return RDG_ERR_FORMAT; }
    a->data = (rdg_real *)rdg__alloc(count, sizeof(rdg_real));
    if (!a->data) { memset(a, 0, sizeof *a); return RDG_ERR_NOMEM; }
    a->ndim = ndim; a->count = count;
    if (raw) for (i = 0; i < count; ++i) a->data[i] = (rdg_real)u[hdr + i];
    else     for (i = 0; i < count; ++i) a->data[i] = (rdg_real)u[hdr + i] / RDG__R(255.0);
    return RDG_OK;
}

/* >>png ----------------------------------------------------------------------------------- */
#ifdef RIDGEDIFF_STB_IMAGE
/* stb_image, fenced (STYLE 16): static, PNG only, no stdio when ridgediff has none, the
   library's allocator; RDG_STB_IMAGE_NO_IMPLEMENTATION when the program already compiles
   stb_image itself (then only its declarations are included here). */
#  ifndef RDG_STB_IMAGE_NO_IMPLEMENTATION
#    define STB_IMAGE_IMPLEMENTATION
#    define STB_IMAGE_STATIC
#    define STBI_ONLY_PNG
#    define STBI_NO_GIF            /* STBI_ONLY_PNG sets these only after the declarations */
#    define STBI_NO_HDR
#    define STBI_NO_LINEAR
#    ifdef RDG_NO_STDIO
#      define STBI_NO_STDIO
#    endif
#    ifndef STBI_MAX_DIMENSIONS
#      define STBI_MAX_DIMENSIONS RDG_PNG_MAX_DIM
#    endif
#    if !defined(STBI_MALLOC) && !defined(STBI_REALLOC) && !defined(STBI_FREE)
#      define STBI_MALLOC(sz) RDG_MALLOC(sz, NULL)
#      define STBI_REALLOC(p, newsz) RDG_REALLOC(p, newsz, NULL)
#      define STBI_FREE(p) RDG_FREE(p, NULL)
#    endif
#  endif
#  if defined(__GNUC__) || defined(__clang__)
#    pragma GCC diagnostic push
#    pragma GCC diagnostic ignored "-Wunused-function"
#  endif
/* stb_image 2.27 declares stbi_set_unpremultiply_on_load_thread but defines it as
   stbi__unpremultiply_on_load_thread (a typo fixed in 2.28): mapping the one name onto the
   other gives a static declaration with a definition in every version, so gcc does not warn
   "declared static but never defined" (a warning no pragma can silence). */
#  define stbi_set_unpremultiply_on_load_thread stbi__unpremultiply_on_load_thread
#  ifdef RDG_STB_IMAGE_PATH
#    include RDG_STB_IMAGE_PATH
#  else
#    include <stb/stb_image.h>
#  endif
#  undef stbi_set_unpremultiply_on_load_thread
#  if defined(__GNUC__) || defined(__clang__)
#    pragma GCC diagnostic pop
#  endif
#endif

/* Walks the PNG chunk list (8-byte signature, then chunks: length (BE32), type (4), data,
   CRC (4)) up to IEND. Returns 0 when it is complete, 1 when it ends before IEND (truncated),
   2 when a length is over 2^31 - 1 (corrupt); *idat gets the total IDAT length. */
RDG__PRIVATE int rdg__png_scan(const unsigned char *u, size_t len, size_t *idat) {
    size_t off = 8;
    *idat = 0;
    while (off < len) {
        size_t cl;
        if (len - off < 12) return 1;
        cl = rdg__be32(u + off);
        if (cl > 0x7fffffffu) return 2;
        if (cl > len - off - 12) return 1;
        if (memcmp(u + off + 4, "IEND", 4) == 0) return 0;
        if (memcmp(u + off + 4, "IDAT", 4) == 0) *idat += cl;      /* <= len: no overflow */
        off += 12 + cl;
    }
    return 1;
}

/* Decodes to 8-bit grey: *px (h x w bytes) must be released with rdg__png_release. */
RDG__PRIVATE rdg_status rdg__png_u8(const void *buf, size_t len, unsigned char **px,
                                    size_t *w, size_t *h) {
    static const unsigned char sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
    const unsigned char *u = (const unsigned char *)buf;
    *px = NULL; *w = *h = 0;
    if (!buf && len) return RDG_ERR_INVALID;
    if (memcmp(u ? u : sig, sig, len < 8 ? len : 8) != 0) return RDG_ERR_FORMAT;
    if (len < 8) return RDG_ERR_TRUNCATED;
    if (len > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    /* Checked here, before stb_image allocates anything (its own info call loses the
       failure reason, and it sizes buffers from the header before reading the data):
       IHDR first, its size under the caps; the chunk list complete up to IEND (stb would
       reallocate for an IDAT length the file does not hold); and enough IDAT bytes for the
       image: deflate expands at most 1032:1, so pixel bytes over 1032 IDAT + 64 cannot be
       there (stb would allocate the whole image first). */
    if (len < 16) return RDG_ERR_TRUNCATED;
    if (memcmp(u + 12, "IHDR", 4) != 0 || rdg__be32(u + 8) != 13) return RDG_ERR_FORMAT;
    if (len < 29) return RDG_ERR_TRUNCATED;
    {
        size_t pw = rdg__be32(u + 16), ph = rdg__be32(u + 20), pix, idat, bpp, ch;
        int ok = 1, sc;
        if (pw == 0 || ph == 0) return RDG_ERR_FORMAT;
        if (pw > RDG_PNG_MAX_DIM || ph > RDG_PNG_MAX_DIM) return RDG_ERR_OVERFLOW;
        pix = rdg__mul(pw, ph, &ok);
        if (!ok || pix > RDG_PNG_MAX_PIXELS || pix > RDG_MAX_ELEMENTS || pw > (size_t)INT_MAX
            || ph > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
        sc = rdg__png_scan(u, len, &idat);
        if (sc == 1) return RDG_ERR_TRUNCATED;
        if (sc == 2) return RDG_ERR_FORMAT;
        switch (u[25]) { case 2: ch = 3; break; case 4: ch = 2; break; case 6: ch = 4; break; default: ch = 1; }
        bpp = ch * (u[24] > 16 ? 16 : (size_t)u[24]);                   /* bits per pixel */
        /* pixel bytes, a lower bound for interlaced images too: ph ceil(pw bpp / 8) */
        if (rdg__mul(ph, (pw * bpp + 7) / 8, &ok) / 1032 > idat + 64 || !ok) return RDG_ERR_FORMAT;
    }
#ifdef RIDGEDIFF_STB_IMAGE
    {
        int iw = 0, ih = 0, ic = 0;
        const char *why;
        unsigned char *p;
        p = stbi_load_from_memory(u, (int)len, &iw, &ih, &ic, 1);
        if (!p) {
            why = stbi_failure_reason();              /* at once: the next stb call resets it */
            if (why && strcmp(why, "outofmem") == 0) return RDG_ERR_NOMEM;
            if (why && strstr(why, "large")) return RDG_ERR_OVERFLOW;
            return RDG_ERR_FORMAT;                     /* the chunk list was complete */
        }
        if (iw <= 0 || ih <= 0 || (size_t)iw != rdg__be32(u + 16) || (size_t)ih != rdg__be32(u + 20)) {
            stbi_image_free(p); return RDG_ERR_FORMAT;
        }
        *px = p; *w = (size_t)iw; *h = (size_t)ih;
        return RDG_OK;
    }
#else
    return RDG_ERR_DTYPE;                              /* built without RIDGEDIFF_STB_IMAGE */
#endif
}

RDG__PRIVATE void rdg__png_release(unsigned char *px) {
#ifdef RIDGEDIFF_STB_IMAGE
    if (px) stbi_image_free(px);
#else
    (void)px;
#endif
}

RDGDEF rdg_status rdg_png_read_mem(const void *buf, size_t len, rdg_array *img) {
    unsigned char *px;
    size_t w, h, i;
    rdg_status st;
    if (!img) return RDG_ERR_INVALID;
    memset(img, 0, sizeof *img);
    st = rdg__png_u8(buf, len, &px, &w, &h);
    if (st != RDG_OK) return st;
    img->data = (rdg_real *)rdg__alloc(w * h, sizeof(rdg_real));
    if (!img->data) { rdg__png_release(px); return RDG_ERR_NOMEM; }
    img->ndim = 2; img->shape[0] = h; img->shape[1] = w; img->count = w * h;
    for (i = 0; i < w * h; ++i) img->data[i] = (rdg_real)px[i] / RDG__R(255.0);
    rdg__png_release(px);
    return RDG_OK;
}

RDGDEF rdg_status rdg_png_sheet_read_mem(const void *buf, size_t len, size_t tile_w,
                                         size_t tile_h, size_t count, rdg_array *tiles) {
    unsigned char *px;
    size_t w, h, cols, rows, tsz, t, r, c, total;
    int ok = 1;
    rdg_status st;
    if (!tiles) return RDG_ERR_INVALID;
    memset(tiles, 0, sizeof *tiles);
    if (tile_w == 0 || tile_h == 0) return RDG_ERR_INVALID;
    tsz = rdg__mul(tile_w, tile_h, &ok);
    if (!ok || tsz > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    st = rdg__png_u8(buf, len, &px, &w, &h);
    if (st != RDG_OK) return st;
    if (w % tile_w || h % tile_h) { rdg__png_release(px); return RDG_ERR_SHAPE; }
    cols = w / tile_w; rows = h / tile_h;
    total = cols * rows;                               /* <= w h: no overflow */
    if (count == 0) count = total;
    if (count > total) { rdg__png_release(px); return RDG_ERR_SHAPE; }
    tiles->data = (rdg_real *)rdg__alloc(count * tsz, sizeof(rdg_real));
    if (!tiles->data) { rdg__png_release(px); return RDG_ERR_NOMEM; }
    tiles->ndim = 2; tiles->shape[0] = count; tiles->shape[1] = tsz; tiles->count = count * tsz;
    for (t = 0; t < count; ++t) {
        const unsigned char *src = px + (t / cols) * tile_h * w + (t % cols) * tile_w;
        rdg_real *dst = tiles->data + t * tsz;
        for (r = 0; r < tile_h; ++r)
            for (c = 0; c < tile_w; ++c) dst[r * tile_w + c] = (rdg_real)src[r * w + c] / RDG__R(255.0);
    }
    rdg__png_release(px);
    return RDG_OK;
}

#ifndef RDG_NO_STDIO
/* Reads a whole file (at most limit bytes, else RDG_ERR_OVERFLOW) into *buf (rdg_free it). */
RDG__PRIVATE rdg_status rdg__read_whole(const char *path, size_t limit, unsigned char **buf,
                                        size_t *len) {
    FILE *f;
    unsigned char *b = NULL, *nb;
    size_t cap = 0, n = 0, got;
    *buf = NULL; *len = 0;
    f = fopen(path, "rb");
    if (!f) return RDG_ERR_IO;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (cap > limit) { rdg_free(b); fclose(f); return RDG_ERR_OVERFLOW; }
            if (ncap > limit + 1) ncap = limit + 1;
            nb = (unsigned char *)RDG_REALLOC(b, ncap, NULL);
            if (!nb) { rdg_free(b); fclose(f); return RDG_ERR_NOMEM; }
            b = nb; cap = ncap;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n > limit) { rdg_free(b); fclose(f); return RDG_ERR_OVERFLOW; }
        if (got == 0) break;
    }
    if (ferror(f)) { rdg_free(b); fclose(f); return RDG_ERR_IO; }
    fclose(f);
    *buf = b; *len = n;
    return RDG_OK;
}

RDGDEF rdg_status rdg_idx_read(const char *path, int raw, rdg_array *a) {
    unsigned char *buf;
    size_t len;
    rdg_status st;
    if (!a) return RDG_ERR_INVALID;
    memset(a, 0, sizeof *a);
    if (!path) return RDG_ERR_INVALID;
    st = rdg__read_whole(path, RDG_MAX_ELEMENTS + 4 + 4 * RDG_NPY_MAX_DIMS, &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg_idx_read_mem(buf, len, raw, a);
    rdg_free(buf);
    return st;
}

RDGDEF rdg_status rdg_png_read(const char *path, rdg_array *img) {
    unsigned char *buf;
    size_t len;
    rdg_status st;
    if (!img) return RDG_ERR_INVALID;
    memset(img, 0, sizeof *img);
    if (!path) return RDG_ERR_INVALID;
    st = rdg__read_whole(path, (size_t)INT_MAX, &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg_png_read_mem(buf, len, img);
    rdg_free(buf);
    return st;
}

RDGDEF rdg_status rdg_png_sheet_read(const char *path, size_t tile_w, size_t tile_h,
                                     size_t count, rdg_array *tiles) {
    unsigned char *buf;
    size_t len;
    rdg_status st;
    if (!tiles) return RDG_ERR_INVALID;
    memset(tiles, 0, sizeof *tiles);
    if (!path) return RDG_ERR_INVALID;
    st = rdg__read_whole(path, (size_t)INT_MAX, &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg_png_sheet_read_mem(buf, len, tile_w, tile_h, count, tiles);
    rdg_free(buf);
    return st;
}
#endif /* RDG_NO_STDIO */

#endif /* RDG__LATENT_FRAGMENT */
