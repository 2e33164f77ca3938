/* ridgediff.h v0.1.0 - the geometry of diffusion-model generation. Licence at the end (MIT or public domain).

   ridgediff computes, for a training set x_1..x_N in R^d, the smoothed empirical density
   p_t (a Gaussian mixture), its score, Hessian and posterior mean, its log-density ridge
   sets, and the projection of any point onto them (He, Qiu, Tao 2026, "Diffusion Model's
   Generalization Can Be Characterized by Inductive Biases toward a Data-Dependent Ridge
   Manifold"). Every formula is in MATH.md; each section below names the part it implements.

   USE
     In exactly one C or C++ file:
         #define RIDGEDIFF_IMPLEMENTATION
         #include "ridgediff.h"
     Everywhere else include it without the define. Link with -lm (and -fopenmp if wanted).

   TL;DR
         rdg_gmm g;                                   // a view of the data, validated once
         rdg_real X[4] = { -3, 0,   3, 0 };           // two points in R^2
         rdg_real y[2] = { 0.5, 0.7 }, p[2];
         rdg_project_opts o = {0};                    // zero means "the documented default"
         rdg_project_info info;
         o.dstar = 1;                                 // 1-dimensional ridge
         if (rdg_gmm_init(&g, X, 2, 2) != RDG_OK) return 1;
         if (rdg_ridge_project(&g, 0.5, y, 1, &o, p, &info) != RDG_OK) return 1;
         // p = (0.5, 0) up to 1e-10, info.distance = 0.7, info.converged = 1

   CONTENTS (grep the >>name banners in the implementation)
     >>options   configuration macros, rdg_real
     >>status    status codes, version
     >>rng       seeded, splittable random streams
     >>kernels   SIMD inner loops (AVX-512F, AVX2+FMA, NEON; scalar reference)  (implementation only)
     >>linalg    eigensolvers (Jacobi, tridiagonal QL, top of spectrum), LU, Cholesky
     >>schedule  OU schedule a_t, s_t; time grids                       (MATH.md 1)
     >>gmm       smoothed empirical density: log p, mean, score, Hessian (MATH.md 2)
     >>ridge     frame, residual, Jacobian, LM and SCMS projection, trace (MATH.md 3-4)
     >>model     posterior-mean models: exact, RFNN, MLP; time embeddings (MATH.md 2, 6)
     >>dmm       denoising mean-matching loss, L_PM and its normal/tangent split (MATH.md 6)
     >>rf        random features: quadratic form, GD, closed form, error split (MATH.md 6)
     >>mlp       MLP forward/backward, Adam, training, model files      (MATH.md 6)
     >>sampler   reverse SDE (Euler-Maruyama) and probability-flow ODE (MATH.md 1)
     >>diag      reach-align-slide diagnostics, stability table          (MATH.md 5, 7)
     >>io        .npy read (float32/float64, both byte orders) and write
     >>pca >>idx >>png   a latent space without a VAE: PCA, IDX (MNIST), PNG via stb_image

   CONFIGURATION (define before including the implementation)
     RDG_REAL_FLOAT       rdg_real is float instead of double
     RDG_MALLOC(sz,u) RDG_REALLOC(p,sz,u) RDG_FREE(p,u)   allocator (all or none); u is NULL
     RDG_ASSERT(x)        internal invariants only (default: assert)
     RDG_NO_SIMD          never use SIMD intrinsics (scalar C99 everywhere)
     RDG_NO_OPENMP        never use OpenMP even when compiled with -fopenmp
     RDG_NO_STDIO         no FILE* functions (memory loaders remain)
     RIDGEDIFF_STATIC     every public function static (private to one translation unit)
     RDG_MAX_ELEMENTS     cap on the element count of a loaded array (default 2^31)
     RIDGEDIFF_STB_IMAGE  compile PNG loading through stb_image (Debian libstb-dev);
                          RDG_STB_IMAGE_PATH overrides <stb/stb_image.h>;
                          RDG_STB_IMAGE_NO_IMPLEMENTATION: the program already compiles stb_image
     RDG_PCA_MAX_DIM (16384), RDG_PNG_MAX_DIM (32768), RDG_PNG_MAX_PIXELS (2^26)   input caps

   THREADS
     No global mutable state: every function is reentrant. Batch functions run their points
     in parallel under OpenMP; each point is computed by one thread in a fixed order, so the
     results are bit-identical for any number of threads.

   SPEED
     The kernels (section >>kernels) have AVX-512F, AVX2+FMA and aarch64 NEON versions chosen
     from the compiler's own macros (build with -march=native, or -mavx2 -mfma, to get them;
     the scalar C99 reference is always compiled and used under RDG_NO_SIMD). Weights below
     exp(-drop) of the largest are dropped (rdg_gmm.drop, default 40: every moment within
     N e^-40 relative). rdg_density_eval serves blocks of 4 to 16 query points per pass over
     the data; a caller that evaluates repeatedly keeps an rdg_density_ctx (rdg_project_ctx
     for projections) so that no call allocates. The exact-model sampler and the projections
     reuse each trajectory's (point's) set of non-negligible data points from step to step
     under a bound that keeps the kept set exact (rdg__cand_eval). `make bench` measures all
     of it against a numpy peer.

   LIMITATIONS
     Dense d x d algebra per point: meant for d up to a few hundred (the paper: d <= 64).
     The ridge frame is undefined where the eigengap vanishes; such points are reported,
     never hidden (see rdg_project_info.reliable).
*/
#ifndef RIDGEDIFF_H
#define RIDGEDIFF_H

#include <stddef.h>

#define RDG_VERSION_MAJOR 0
#define RDG_VERSION_MINOR 1
#define RDG_VERSION_PATCH 0
#define RDG_VERSION_STRING "0.1.0"

/* >>options ------------------------------------------------------------------------------ */
#ifdef RDG_REAL_FLOAT
typedef float rdg_real;
#else
typedef double rdg_real;
#endif

#ifndef RDGDEF
#  ifdef RIDGEDIFF_STATIC
#    if defined(__GNUC__) || defined(__clang__)
#      define RDGDEF static __attribute__((unused))
#    else
#      define RDGDEF static
#    endif
#  else
#    define RDGDEF extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>status ------------------------------------------------------------------------------- */
/* Every fallible function returns one of these; RDG_OK is 0, errors are negative. */
typedef enum rdg_status {
    RDG_OK = 0,
    RDG_ERR_INVALID = -1,        /* an argument is NULL, zero-sized or out of range         */
    RDG_ERR_NOMEM = -2,          /* an allocation failed                                    */
    RDG_ERR_NONFINITE = -3,      /* NaN or Inf in an input                                  */
    RDG_ERR_SHAPE = -4,          /* array shapes do not match                               */
    RDG_ERR_OVERFLOW = -5,       /* a size computation overflows, or exceeds a cap          */
    RDG_ERR_SINGULAR = -6,       /* a matrix is singular to working precision               */
    RDG_ERR_NOT_CONVERGED = -7,  /* an iteration stopped before its tolerance               */
    RDG_ERR_IO = -8,             /* a file could not be opened, read or written             */
    RDG_ERR_FORMAT = -9,         /* a file is malformed                                     */
    RDG_ERR_DTYPE = -10,         /* a file holds a dtype or layout that is not supported    */
    RDG_ERR_TRUNCATED = -11,     /* a file ends before its header says it does              */
    RDG_STATUS_MIN_ = -12
} rdg_status;

/* A short English sentence for a status; never NULL (unknown codes give "unknown status"). */
RDGDEF const char *rdg_status_str(rdg_status s);
/* "0.1.0" */
RDGDEF const char *rdg_version_string(void);

/* >>rng ---------------------------------------------------------------------------------- */
/* xoshiro256** seeded through splitmix64. The uniform and normal draws are computed in double
   even in RDG_REAL_FLOAT builds, on purpose: a seed then gives the same random streams (to
   float rounding) in both precisions. A (seed, stream) pair names an independent stream:
   trajectory i uses stream i, so its numbers do not depend on which thread runs it.
   All rng functions are total (they cannot fail) and take a non-NULL state. */
typedef struct rdg_rng {
    unsigned long long s[4];
    rdg_real spare;           /* second normal of a Box-Muller pair */
    int has_spare;
} rdg_rng;

RDGDEF void rdg_rng_init(rdg_rng *r, unsigned long long seed, unsigned long long stream);
RDGDEF unsigned long long rdg_rng_u64(rdg_rng *r);
RDGDEF rdg_real rdg_rng_uniform(rdg_rng *r);     /* in (0, 1), never 0 or 1       */
RDGDEF rdg_real rdg_rng_normal(rdg_rng *r);      /* standard normal (Box-Muller)  */

/* >>linalg ------------------------------------------------------------------------------- */
/* Symmetric eigen-decomposition by cyclic Jacobi with Rutishauser's threshold strategy
   (Golub & Van Loan, "Matrix Computations", 8.5).
   [in]  A     n x n, row-major, symmetric (only its lower triangle is read)
   [out] w     n eigenvalues, descending
   [out] V     n x n row-major; column j (V[i*n + j], i = 0..n-1) is the unit eigenvector of w[j].
               May be NULL when only eigenvalues are wanted.
   [in]  work  n*n + n scratch reals, or NULL to allocate internally
   Returns RDG_ERR_INVALID (NULL, n == 0), RDG_ERR_NONFINITE, RDG_ERR_NOMEM,
   RDG_ERR_NOT_CONVERGED (after 100 sweeps; w and V then hold the current approximation). */
RDGDEF rdg_status rdg_eigh(const rdg_real *A, size_t n, rdg_real *w, rdg_real *V, rdg_real *work);

/* LU factorisation with partial pivoting, in place: P A = L U, L unit lower (below the
   diagonal), U on and above it. piv[i] is the row swapped into row i at step i.
   Returns RDG_ERR_SINGULAR when a pivot is zero or below n * eps * max|A| (LU is still
   filled), RDG_ERR_NONFINITE for NaN/Inf in A. */
RDGDEF rdg_status rdg_lu_factor(rdg_real *A, size_t n, size_t *piv);
/* Solves A x = b in place in b (nrhs right-hand sides, b is n x nrhs row-major) from a
   factorisation by rdg_lu_factor that returned RDG_OK. */
RDGDEF rdg_status rdg_lu_solve(const rdg_real *LU, size_t n, const size_t *piv, rdg_real *b, size_t nrhs);

/* >>schedule ----------------------------------------------------------------------------- */
/* OU (variance-preserving) schedule, MATH.md 1: a_t = exp(-t), s_t^2 = 1 - exp(-2t), computed
   with expm1 so that s_t^2 keeps full relative accuracy for small t. Total for t > 0. */
RDGDEF void rdg_ou(rdg_real t, rdg_real *a, rdg_real *s2);

/* Geometric grid t_k = T (t0/T)^(k/K), k = 0..K (K+1 values, t_0 = T, t_K = t0 exactly).
   Needs T > t0 > 0, K >= 1. Uniform grid t_k = T + (t0 - T) k / K likewise. */
RDGDEF rdg_status rdg_grid_geometric(rdg_real T, rdg_real t0, size_t K, rdg_real *t);
RDGDEF rdg_status rdg_grid_uniform(rdg_real T, rdg_real t0, size_t K, rdg_real *t);

/* >>gmm ---------------------------------------------------------------------------------- */
/* The smoothed empirical density p_t(x) = (1/N) sum_i N(x; a_t x_i, s_t^2 I), MATH.md 2.
   rdg_gmm is a view of caller-owned data (N x d, row-major); rdg_gmm_init validates it
   (N, d >= 1, d <= 4096, no NaN/Inf, N*d <= RDG_MAX_ELEMENTS; else RDG_ERR_OVERFLOW) and every function taking a rdg_gmm
   refuses a view that did not pass it (RDG_ERR_INVALID). The data must outlive the view. */
typedef struct rdg_gmm {
    const rdg_real *x;    /* N x d training points                                          */
    size_t n, d;
    rdg_real drop;        /* weights below exp(-drop) of the largest are dropped (default 40;
                             relative error of every moment <= N exp(-drop)). Set it to 0
                             after init to keep every weight.                               */
    rdg_real scale;       /* max |x_ij|, for scale-aware tolerances                          */
    unsigned valid;       /* set by rdg_gmm_init */
} rdg_gmm;

RDGDEF rdg_status rdg_gmm_init(rdg_gmm *g, const rdg_real *x, size_t n, size_t d);

/* What to compute for a batch of B query points y (B x d) at time t > 0. Every pointer may be
   NULL (not computed); non-NULL outputs are caller-allocated with the sizes given.
     logp    B          log p_t(y)
     weights B x N      posterior weights w_i(y) (dropped ones are exactly 0)
     mean    B x d      posterior mean m_t(y) = E[X_0 | X_t = y]
     score   B x d      grad log p_t(y) = (a_t m - y) / s_t^2
     cov     B x d x d  C(y) = sum_i w_i (x_i - m)(x_i - m)^T (centred)
     hess    B x d x d  H(y) = -I / s_t^2 + (a_t^2 / s_t^4) C(y)                            */
typedef struct rdg_density_out {
    rdg_real *logp, *weights, *mean, *score, *cov, *hess;
} rdg_density_out;

/* Batch evaluation. Returns RDG_ERR_INVALID (bad view, NULL y, B == 0, t <= 0 or not finite),
   RDG_ERR_NONFINITE (NaN/Inf in y), RDG_ERR_OVERFLOW, RDG_ERR_NOMEM. Stable for any t > 0 and
   any finite y: the log-sum-exp is shifted by its maximum and C is accumulated centred. */
RDGDEF rdg_status rdg_density_eval(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                   rdg_density_out *out);

/* A reusable context for many rdg_density_eval calls on one view: it keeps the transposed
   data and the per-thread workspaces (about 16 N + 60 d^2 bytes per query in flight), so
   that a call after the first allocates nothing. Fresh pages cost more than the arithmetic
   on some machines (virtual ones above all, and more so from several threads at once).
   Results are bit-identical to rdg_density_eval's. The view g (and its points) must outlive
   the context and keep its x, n and d (a call on a changed view returns RDG_ERR_INVALID);
   g->drop is read at each call. A context serves one call at a time: give each calling
   thread its own. create: RDG_ERR_INVALID (NULL or bad view), RDG_ERR_NOMEM. */
typedef struct rdg_density_ctx rdg_density_ctx;
RDGDEF rdg_status rdg_density_ctx_create(const rdg_gmm *g, rdg_density_ctx **ctx);
RDGDEF void rdg_density_ctx_free(rdg_density_ctx *ctx);
/* rdg_density_eval through a context: the same arguments, outputs and errors (and
   RDG_ERR_INVALID for a NULL context). */
RDGDEF rdg_status rdg_density_eval_ctx(rdg_density_ctx *ctx, rdg_real t, const rdg_real *y, size_t B,
                                       rdg_density_out *out);

/* Third-derivative contraction at one point y: out_k = u^T (d_k H(y)) v
   = (a^3/s^6) sum_n w_n (u.c_n)(v.c_n) c_nk, c_n = x_n - m (MATH.md 2), in O(N d) - the full
   d^3 tensor is never formed. u, v, out have d entries. */
RDGDEF rdg_status rdg_density_d3(const rdg_gmm *g, rdg_real t, const rdg_real *y,
                                 const rdg_real *u, const rdg_real *v, rdg_real *out);

/* >>ridge -------------------------------------------------------------------------------- */
/* Ridge sets R_d*(p_t; beta) = { x : P_N(x) g(x) = 0, lam_{d*+1}(x) <= -beta }, MATH.md 3.
   The frame comes from the eigenvectors of C (same as H's, better conditioned).

   rdg_ridge_frame, per point (B points):
     lam  B x d      eigenvalues of H, descending
     V    B x d x d  row-major per point; column j is the eigenvector of lam[j] (may be NULL)
     Tangent frame = columns 0..d*-1, normal frame = columns d*..d-1.                       */
RDGDEF rdg_status rdg_ridge_frame(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                  rdg_real *lam, rdg_real *V);

/* Normal residual in projector form r = P_N g (B x d), and optionally the eigengap
   gap = lam_d* - lam_{d*+1} (B entries, may be NULL). Needs 1 <= dstar < d. */
RDGDEF rdg_status rdg_ridge_residual(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                     size_t dstar, rdg_real *r, rdg_real *gap);

/* Analytic Jacobian J = dr/dx (d x d, row-major, J[i*d+k] = d r_i / d x_k) at one point,
   J = P_N H + [(d_k P_N) g]_k with the eigenvector-perturbation formula of MATH.md 4.
   Returns RDG_ERR_SINGULAR where the eigengap is zero (the frame is undefined). */
RDGDEF rdg_status rdg_ridge_jacobian(const rdg_gmm *g, rdg_real t, const rdg_real *y,
                                     size_t dstar, rdg_real *J);

/* Projection options. Zero-initialise and set dstar; every zero field means its default.
     dstar     ridge dimension, 1 <= dstar < d (required)
     beta      curvature threshold: curvature ok when lam_{d*+1} <= -beta (default 0)
     method    RDG_PROJECT_LM (default) or RDG_PROJECT_SCMS
     max_iter  LM iterations (default 100)
     scms_iter SCMS iterations, as the method or as LM's start (default 500 / 200); LM takes
               over once the SCMS step s_t^2 |r| is below 1e-3 max(1, data scale), and SCMS
               is finished from there when LM cannot finish (its point is then the answer)
     rtol      residual tolerance on s_t^2 |r| relative to max(1, data scale) (default 1e-10;
               100 FLT_EPSILON ~ 1.2e-5 under RDG_REAL_FLOAT, where 1e-10 is below rounding)
     ktol      KKT tolerance |(x-y) + JE^T lam| <= ktol (1 + |x - y|) (default 1e-6: the
               distance is stationary there, so it is then exact to ~ ktol^2)
     rho       augmented-Lagrangian penalty, dimensionless (default 1000)
     kappa     curvature penalty, dimensionless (default 1)                                  */
typedef enum rdg_project_method { RDG_PROJECT_LM = 0, RDG_PROJECT_SCMS = 1 } rdg_project_method;

typedef struct rdg_project_opts {
    size_t dstar;
    rdg_real beta;
    int method;
    int max_iter;
    int scms_iter;
    rdg_real rtol, ktol, rho, kappa;
} rdg_project_opts;

/* Per-point report (the columns of `ridgediff project --info`):
     distance |x* - y|; resid0 |r(y)|; resid |r(x*)|; iters; converged (tolerances met);
     curv_ok (lam_{d*+1}(x*) <= -beta); gap (eigengap at x*);
     reliable = converged and s_t^2 gap > 1e-8 (MATH.md 4: below that the frame is noise;
     2.3e-4 under RDG_REAL_FLOAT, whose rounding is 5e8 times coarser). */
typedef struct rdg_project_info {
    rdg_real distance, resid0, resid, gap;
    int iters, converged, curv_ok, reliable;
} rdg_project_info;

/* Projects B points y (B x d) onto the ridge at time t. out (B x d) receives the projected
   points (for a point that did not converge: its best point); info (B entries) may be NULL.
   A point that does not converge is not an error: the call returns RDG_OK and reports it.
   Returns RDG_ERR_INVALID (bad options: dstar out of range, beta < 0 or not finite, t <= 0),
   RDG_ERR_NONFINITE (NaN/Inf in y), RDG_ERR_NOMEM. */
RDGDEF rdg_status rdg_ridge_project(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                    const rdg_project_opts *opts, rdg_real *out,
                                    rdg_project_info *info);

/* Reusable state for repeated projections on the same data (a time grid, a training loop, a
   table over checkpoints): the transposed data, two workspaces per thread, the LM scratch and
   the candidate sets, kept from call to call (grown when a call needs more threads), so that a
   call after the first allocates nothing. Results are bit-identical to rdg_ridge_project's.
   Same rules as rdg_density_ctx: the view g must outlive the context and keep its x, n and d
   (a call on a changed view returns RDG_ERR_INVALID); one call at a time per context.
   create: RDG_ERR_INVALID (NULL or bad view), RDG_ERR_NOMEM. */
typedef struct rdg_project_ctx rdg_project_ctx;
RDGDEF rdg_status rdg_project_ctx_create(const rdg_gmm *g, rdg_project_ctx **ctx);
RDGDEF void rdg_project_ctx_free(rdg_project_ctx *ctx);
/* rdg_ridge_project through a context: the same arguments, outputs and errors (and
   RDG_ERR_INVALID for a NULL context). */
RDGDEF rdg_status rdg_ridge_project_ctx(rdg_project_ctx *ctx, rdg_real t, const rdg_real *y, size_t B,
                                        const rdg_project_opts *opts, rdg_real *out,
                                        rdg_project_info *info);

/* Traces a ridge: projects nseeds seed points (nseeds x d) by SCMS, keeps those that
   converge with curvature ok and s_t^2 gap > 1e-8 (2.3e-4 in float), and removes duplicates
   closer than min_sep (default, when 0: 1e-3 * max(1, data scale)). *out is allocated
   (RDG_MALLOC, release with rdg_free) with *nout x d points; *out is NULL when nothing
   survives. */
RDGDEF rdg_status rdg_ridge_trace(const rdg_gmm *g, rdg_real t, const rdg_real *seeds,
                                  size_t nseeds, const rdg_project_opts *opts, rdg_real min_sep,
                                  rdg_real **out, size_t *nout);

/* Releases memory the library allocated for the caller (NULL is fine). */
RDGDEF void rdg_free(void *p);

/* >>model --------------------------------------------------------------------------------- */
/* Posterior-mean models m(x, t) ~ E[X_0 | X_t = x] behind one small interface (MATH.md 2, 6).
   A model's score is g_hat = (a_t m - x) / s_t^2. eval computes m for B points x (B x d) into
   out (B x d); it must allow concurrent calls on different x/out (the samplers call it from
   several threads at once on disjoint batches) and must not keep pointers to x or out. */
typedef enum rdg_model_kind {
    RDG_MODEL_USER = 0, RDG_MODEL_EXACT = 1, RDG_MODEL_RFNN = 2, RDG_MODEL_MLP = 3
} rdg_model_kind;
typedef rdg_status (*rdg_model_fn)(const void *self, rdg_real t, const rdg_real *x, size_t B,
                                   rdg_real *out);
typedef struct rdg_model {
    rdg_model_kind kind;
    size_t d;
    rdg_model_fn eval;
    const void *self;
} rdg_model;

/* Checks the model (non-NULL, eval set, d >= 1, known kind), t > 0 finite, x and out non-NULL,
   B >= 1, B d without overflow, finite x, then calls m->eval. Returns RDG_ERR_INVALID,
   RDG_ERR_OVERFLOW, RDG_ERR_NONFINITE or eval's status. */
RDGDEF rdg_status rdg_model_eval(const rdg_model *m, rdg_real t, const rdg_real *x, size_t B,
                                 rdg_real *out);
/* The exact empirical posterior mean m_t (the memorising model); g must outlive m. */
RDGDEF rdg_status rdg_model_exact(rdg_model *m, const rdg_gmm *g);

/* Time embeddings (both need a finite t > 0; RDG_ERR_INVALID otherwise).
   Fourier (RFNN, MATH.md 6): 2 nfreq + 1 entries (nfreq >= 1, T > 0),
     e[0] = 1, e[k] = sin(2 pi k t / T), e[nfreq + k] = cos(2 pi k t / T), k = 1..nfreq.
   Sinusoidal (MLP): dim entries (dim even, >= 2), e[2j] = sin(tau w_j), e[2j+1] = cos(tau w_j),
     w_j = 1000^(-2j/dim), j = 0..dim/2 - 1, on the log-time scale tau = 1000 ln(t/0.005) / ln(2000).
   Log scale because the sampler's grid and the training times treat ln t evenly; pinned so that
   [0.005, 10] maps to [0, 1000] and step k of the default grid (K = 1000) to tau = 1000 - k, as
   DDPM's integer steps: the fastest component turns 1 radian per step, the slowest 1000^(2/dim)
   radians over the range (1.5 for dim = 32), so the embedding is unambiguous. Other t extend the
   line. The map is fixed (not taken from T, t0), so a saved model keeps its meaning. */
RDGDEF rdg_status rdg_embed_fourier(rdg_real t, rdg_real T, size_t nfreq, rdg_real *e);
RDGDEF rdg_status rdg_embed_sinusoidal(rdg_real t, size_t dim, rdg_real *e);

/* >>dmm ----------------------------------------------------------------------------------- */
/* Denoising mean-matching loss (MATH.md 6):
     L = int_{t0}^{T} w(t) E_{x0, xi} |m(a_t x0 + s_t xi, t) - x0|^2 dt
   by the trapezoid rule on a time grid (nt + 1 nodes), with fixed noise draws: node q uses the
   random stream (seed, q), so every evaluation sees the same draws. At each node every data
   point (or nsub of them, drawn from the same stream) gets ndraw noise draws. */
typedef enum rdg_weight {
    RDG_WEIGHT_ONE = 0,      /* w = 1                                   */
    RDG_WEIGHT_SIGMA2 = 1,   /* w = s_t^2                               */
    RDG_WEIGHT_SNR = 2,      /* w = a_t^2 / s_t^2 (epsilon/score weight) */
    RDG_WEIGHT_USER = 3      /* w = user_fn(t, user)                    */
} rdg_weight;
typedef rdg_real (*rdg_weight_fn)(rdg_real t, void *user);

/* Zero-initialise; zero fields take the defaults shown. */
typedef struct rdg_dmm_opts {
    rdg_weight weight;          /* RDG_WEIGHT_ONE                                  */
    rdg_weight_fn user_fn;      /* required with RDG_WEIGHT_USER                   */
    void *user;
    rdg_real T, t0;             /* 10, 0.005                                       */
    size_t nt;                  /* 2000 intervals                                  */
    int uniform_grid;           /* 0: geometric grid (default), 1: uniform         */
    size_t ndraw;               /* 1 noise draw per data point per node            */
    size_t nsub;                /* 0: all data points at every node                */
    unsigned long long seed;    /* 0 is a valid seed                               */
    int pm_target;              /* 1: regress on the exact posterior mean m_t(X_t)
                                   instead of x0 (the same draws): the loss is L_PM,
                                   minimum 0, and an RFNN's architecture error is >= 0
                                   (with few draws, the x0 target lets it fit the noise) */
} rdg_dmm_opts;
/* Functions taking rdg_dmm_opts accept NULL (all defaults); user_fn must return a finite
   w >= 0. */

/* The weight w(t) of the options (after defaults). */
RDGDEF rdg_status rdg_dmm_weight(const rdg_dmm_opts *o, rdg_real t, rdg_real *w);
/* L for a model on data. */
RDGDEF rdg_status rdg_dmm_loss(const rdg_model *m, const rdg_gmm *data, const rdg_dmm_opts *o,
                               rdg_real *loss);
/* L_PM = int w E |m(X_t, t) - m_t(X_t)|^2 dt (same nodes and draws; minimum 0), and its
   directional split L_PM = L_N + L_T with the ridge frame (popts->dstar, popts->beta) at
   each X_t's ridge projection at its t (MATH.md 6, Theorem 4.1). LN, LT may be NULL (then
   no projection is run). Samples whose projection does not converge are counted in *nfail
   (may be NULL) and split with the frame at the point itself. */
RDGDEF rdg_status rdg_pm_loss(const rdg_model *m, const rdg_gmm *data, const rdg_dmm_opts *o,
                              const rdg_project_opts *popts, rdg_real *loss, rdg_real *LN,
                              rdg_real *LT, size_t *nfail);

/* >>rf ------------------------------------------------------------------------------------ */
/* Random feature network (MATH.md 6): m(x, t) = A relu(W x + U e(t) + b) / sqrt(M), with W
   (M x d) ~ N(0, 1/d), U (M x (2 nfreq + 1)) ~ N(0, 1/(2 nfreq + 1)), b (M) ~ N(0, 1) fixed and
   only A (d x M) trained. */
typedef struct rdg_rfnn {
    size_t d, M, nfreq;
    rdg_real T;                 /* Fourier period (the schedule's T)               */
    rdg_real *W, *U, *b, *A;    /* one allocation; release with rdg_rfnn_free      */
} rdg_rfnn;

typedef enum rdg_rf_init {
    RDG_RF_INIT_GAUSS = 0,      /* A ~ N(0, 1)                                     */
    RDG_RF_INIT_ZERO = 1,
    RDG_RF_INIT_ONES = 2,
    RDG_RF_INIT_SLOW = 3        /* needs q: every row sqrt(M) u^T, u the eigenvector of K
                                   with the smallest eigenvalue kept by the pseudo-inverse
                                   (k > M eps k_max), so |A_0|_F^2 = d M as for ONES  */
} rdg_rf_init;

/* nfreq 0 means 128, T 0 means 10. A is initialised N(0, 1) (seeded); the same seed gives
   the same network. */
RDGDEF rdg_status rdg_rfnn_init(rdg_rfnn *rf, size_t d, size_t M, size_t nfreq, rdg_real T,
                                unsigned long long seed);
RDGDEF void rdg_rfnn_free(rdg_rfnn *rf);
/* phi = relu(W x + U e(t) + b) / sqrt(M) for B points: phi is B x M. */
RDGDEF rdg_status rdg_rfnn_features(const rdg_rfnn *rf, rdg_real t, const rdg_real *x, size_t B,
                                    rdg_real *phi);
/* A view of rf as a model (rf must outlive m). */
RDGDEF rdg_status rdg_rfnn_model(const rdg_rfnn *rf, rdg_model *m);

/* The DMM loss of an RFNN is quadratic in A: L(A) = tr(A K A^T) - 2 tr(A B^T) + c, with
   K = sum_q w_q phi_q phi_q^T (M x M), B = sum_q w_q x0_q phi_q^T (d x M), c = sum_q w_q |x0_q|^2
   over the quadrature samples of rdg_dmm_opts. Also holds the eigen-decomposition of K
   (filled by rdg_rf_quad_build) for the closed forms. Release with rdg_rf_quad_free. */
typedef struct rdg_rf_quad {
    size_t d, M;
    rdg_real *K, *B, c;         /* K: M x M, B: d x M                               */
    rdg_real *kval, *kvec;      /* eigenvalues of K (descending), eigenvectors (columns, M x M) */
    rdg_real *Ainf;             /* d x M: the minimum-norm minimiser B K^+          */
    rdg_real cstar;             /* L at the best A: c - tr(B K^+ B^T) (= L(Ainf))   */
} rdg_rf_quad;

RDGDEF rdg_status rdg_rf_quad_build(const rdg_rfnn *rf, const rdg_gmm *data,
                                    const rdg_dmm_opts *o, rdg_rf_quad *q);
RDGDEF void rdg_rf_quad_free(rdg_rf_quad *q);
/* L(A) from the quadratic form. */
RDGDEF rdg_status rdg_rf_quad_loss(const rdg_rf_quad *q, const rdg_real *A, rdg_real *loss);
/* steps of full-batch gradient descent A <- A - eta (2 A K - 2 B), in place. */
RDGDEF rdg_status rdg_rf_gd(const rdg_rf_quad *q, rdg_real *A, rdg_real eta, size_t steps);
/* The GD iterate after k steps in closed form: A_k = A_inf + (A_0 - A_inf)(I - 2 eta K)^k on
   range(K), plus A_0's part in ker K (MATH.md 6). */
RDGDEF rdg_status rdg_rf_closed_form(const rdg_rf_quad *q, const rdg_real *A0, rdg_real eta,
                                     size_t k, rdg_real *Ak);
/* Sets A (d x M) for an initialisation kind (the SLOW kind needs q; others ignore it). */
RDGDEF rdg_status rdg_rf_init_A(const rdg_rf_quad *q, rdg_rf_init kind, size_t d, size_t M,
                                unsigned long long seed, rdg_real *A);

/* Loss split after k GD steps from A0 (MATH.md 6): L(A_k) = lpm_min + arch + opt with lpm_min
   the exact posterior mean's DMM loss on the same samples (rdg_dmm_loss of rdg_model_exact,
   same options), arch = L(A_inf) - lpm_min = cstar - lpm_min (can be < 0 with few noise draws:
   the network fits the draws) and opt = L(A_k) - L(A_inf)
   = sum_j k_j (1 - 2 eta k_j)^(2k) |(A_0 - A_inf) u_j|^2. Rows listed in normal_rows count as
   normal: opt_* sum the rows' terms; arch_normal = sum over normal rows i of L_i(A_inf) - Lex_i
   (Lex_i: the exact mean's loss in row i, computed by rdg_rf_quad_build);
   arch_tangent = arch - arch_normal. */
typedef struct rdg_rf_errors {
    rdg_real loss, arch, opt;                    /* L(A_k), architecture, optimisation */
    rdg_real arch_normal, arch_tangent, opt_normal, opt_tangent;
} rdg_rf_errors;
RDGDEF rdg_status rdg_rf_split(const rdg_rf_quad *q, const rdg_real *A0, rdg_real eta, size_t k,
                               rdg_real lpm_min, const size_t *normal_rows, size_t nnormal,
                               rdg_rf_errors *e);

/* >>mlp ----------------------------------------------------------------------------------- */
/* Small MLP (MATH.md 6; paper K.2, J.3): input [x, e(t)] with a sinusoidal embedding of temb
   entries, ReLU hidden layers, linear output of d entries. All parameters live in one buffer
   (params, nparams), layer l's weights (out x in, row-major) then its bias. */
#define RDG_MLP_MAX_LAYERS 8
typedef struct rdg_mlp {
    size_t d, temb, nhidden;
    size_t hidden[RDG_MLP_MAX_LAYERS];
    size_t nparams;
    rdg_real *params;          /* nparams                                      */
    rdg_real *grads;           /* nparams, accumulated by rdg_mlp_loss_grad    */
    rdg_real *adam_m, *adam_v; /* nparams each                                 */
    long adam_t;
} rdg_mlp;

/* temb 0 means 32 (temb must be even). Weights ~ N(0, 2/fan_in) (He), biases 0, from seed.
   params, grads, adam_m, adam_v are one allocation (release with rdg_mlp_free; safe on a
   zeroed struct). Returns RDG_ERR_INVALID (NULL net or hidden, a zero size, odd temb),
   RDG_ERR_OVERFLOW (d or temb over 4096, nhidden over RDG_MLP_MAX_LAYERS, nparams over
   RDG_MAX_ELEMENTS), RDG_ERR_NOMEM. */
RDGDEF rdg_status rdg_mlp_init(rdg_mlp *net, size_t d, size_t nhidden, const size_t *hidden,
                               size_t temb, unsigned long long seed);
RDGDEF void rdg_mlp_free(rdg_mlp *net);
RDGDEF rdg_status rdg_mlp_model(const rdg_mlp *net, rdg_model *m);
/* Sets grads to 0. */
RDGDEF void rdg_mlp_zero_grad(rdg_mlp *net);
/* Loss sum_b wt_b |m(x_b, t_b) - target_b|^2 for a minibatch with per-sample times and
   weights (wt may be NULL: all 1), and, when grads != NULL in net, its gradient ACCUMULATED
   into net->grads (call rdg_mlp_zero_grad first). loss may be NULL. Returns RDG_ERR_INVALID
   (bad net, NULL arrays, B == 0, t <= 0, wt < 0), RDG_ERR_NONFINITE (NaN/Inf in x, t, target,
   wt or the parameters), RDG_ERR_OVERFLOW, RDG_ERR_NOMEM. Bit-identical for any number of
   threads. */
RDGDEF rdg_status rdg_mlp_loss_grad(rdg_mlp *net, const rdg_real *x, const rdg_real *t,
                                    const rdg_real *target, const rdg_real *wt, size_t B,
                                    rdg_real *loss);
/* One Adam step (beta1 0.9, beta2 0.999, eps 1e-8) with learning rate lr on net->grads.
   Returns RDG_ERR_INVALID (lr <= 0 or not finite), RDG_ERR_NONFINITE (NaN/Inf in grads;
   nothing is changed). */
RDGDEF rdg_status rdg_mlp_adam(rdg_mlp *net, rdg_real lr);

/* Minibatch training on the DMM loss: each step draws B data points (uniformly, with
   replacement), times t (log-uniform on [t0, T]: the implementation comment says why) and
   noise from the stream (seed, net->adam_t), and takes one Adam step on
   sum_b w(t_b) |m - x0_b|^2 / B. Reproducible and thread-count independent; two calls of s
   steps equal one of 2 s. o may be NULL (all defaults). progress (may be NULL) is called
   after steps 100, 200, ... of the call with the mean minibatch loss of those 100 steps;
   *final_loss (may be NULL) is that mean over the last window. Returns RDG_ERR_SHAPE
   (data->d != net->d), RDG_ERR_INVALID (bad options: lr <= 0, t0 >= T, USER weight without
   user_fn), RDG_ERR_NONFINITE (a weight or the loss became NaN/Inf; the parameters of the
   last good step are kept), RDG_ERR_NOMEM. */
typedef void (*rdg_progress_fn)(size_t step, rdg_real loss, void *user);
typedef struct rdg_train_opts {
    size_t steps;               /* 20000                   */
    size_t batch;               /* 256                     */
    rdg_real lr;                /* 1e-3                    */
    rdg_weight weight;          /* RDG_WEIGHT_ONE          */
    rdg_weight_fn user_fn; void *user;
    rdg_real T, t0;             /* 10, 0.005               */
    unsigned long long seed;
    rdg_progress_fn progress; void *progress_user;
} rdg_train_opts;
RDGDEF rdg_status rdg_mlp_train(rdg_mlp *net, const rdg_gmm *data, const rdg_train_opts *o,
                                rdg_real *final_loss);

/* Model files ("MODEL.rdg"): a small versioned binary format (magic "RDGMODEL", version,
   kind, sizes, then float64 little-endian parameters), validated on load (magic, version,
   sizes and counts against the file length, finite values). Holds an RFNN or an MLP.
   Gradients and Adam moments are not stored (a loaded MLP has them zeroed, adam_t 0).
   save_mem allocates *buf (release with rdg_free). load_mem zeroes *f first, so
   rdg_model_file_free is always safe; it returns RDG_ERR_FORMAT (magic, version, kind, a zero
   size, odd temb, count mismatch, trailing bytes), RDG_ERR_TRUNCATED, RDG_ERR_OVERFLOW (a size
   over its cap: d, temb <= 4096, nhidden <= RDG_MLP_MAX_LAYERS, RFNN M, nfreq <= 2^20,
   count <= RDG_MAX_ELEMENTS), RDG_ERR_NONFINITE. The file wrappers write path.tmp, then
   rename. */
typedef struct rdg_model_file {
    rdg_model_kind kind;        /* RDG_MODEL_RFNN or RDG_MODEL_MLP */
    rdg_rfnn rf;
    rdg_mlp mlp;
} rdg_model_file;
RDGDEF rdg_status rdg_model_file_save_mem(const rdg_model_file *f, void **buf, size_t *len);
RDGDEF rdg_status rdg_model_file_load_mem(const void *buf, size_t len, rdg_model_file *f);
RDGDEF void rdg_model_file_free(rdg_model_file *f);
/* A model view of whichever network the file holds (f must outlive m). */
RDGDEF rdg_status rdg_model_file_model(const rdg_model_file *f, rdg_model *m);
#ifndef RDG_NO_STDIO
RDGDEF rdg_status rdg_model_file_save(const char *path, const rdg_model_file *f);
RDGDEF rdg_status rdg_model_file_load(const char *path, rdg_model_file *f);
#endif

/* >>sampler ------------------------------------------------------------------------------- */
/* Reverse-time sampling from N(0, I) at T down to t0 on t_k = T (t0/T)^(k/K) (MATH.md 1):
   Euler-Maruyama y <- y + h_k (y + 2 g) + sqrt(2 h_k) xi, or (ode = 1) Heun for dy/dtau = y + g
   (two model calls per step), g = (a_t m(y, t) - y) / s_t^2, h_k = t_k - t_{k+1}. The sample is
   the state y_K at t0 as the last step leaves it (the paper's convention: no final denoising
   step; call rdg_model_eval at t0 for one). Trajectory i draws from stream (seed, i) only (d
   normals for y_0, the same for SDE and ODE, then d per SDE step) and a model sees batches
   whose size depends on n alone (the exact model, whose arithmetic is per trajectory, gets
   batches cut to the threads): results are bit-identical for any number of threads, and
   trajectory i does not depend on n. Checkpoints: steps 0, every, 2 every, ..., and K. */
typedef struct rdg_sample_opts {
    rdg_real T, t0;             /* 10, 0.005                               */
    size_t K;                   /* 1000 steps                              */
    int ode;                    /* 0: SDE (default), 1: ODE (other values invalid) */
    unsigned long long seed;
    size_t every;               /* checkpoint spacing (0, or >= K: steps 0 and K only) */
} rdg_sample_opts;
/* floor(K/E) + 1, plus 1 when E does not divide K; 2 when E = 0 or E >= K. K = 0 means the
   default 1000 (pass o.K and o.every as they are). 0 if C would overflow. */
RDGDEF size_t rdg_sample_ncheck(size_t K, size_t every);
/* n trajectories of a model in dimension m->d. out: n x d at t0; traj (C x n x d,
   traj[(c n + i) d + j]) and times (C; times[0] = T, times[C-1] = t0) may each be NULL.
   Returns RDG_ERR_INVALID (NULL model/opts/out, n == 0, T or t0 < 0 or not finite, T <= t0
   after defaults, ode not 0/1), RDG_ERR_OVERFLOW, RDG_ERR_NOMEM, the model's own error, or
   RDG_ERR_NONFINITE when a trajectory reaches NaN/Inf. */
RDGDEF rdg_status rdg_sample(const rdg_model *m, size_t n, const rdg_sample_opts *o,
                             rdg_real *out, rdg_real *traj, rdg_real *times);

/* >>diag ---------------------------------------------------------------------------------- */
/* Reach - align - slide diagnostics (MATH.md 5, 7) for samples and whole trajectories.
   Zero-initialise; set proj.dstar; zero fields take the defaults shown. */
typedef struct rdg_diag_opts {
    rdg_project_opts proj;      /* ridge (dstar required, beta) and projection settings     */
    rdg_real tube;              /* tube radius in units of s_t: inside when dist < tube s_t
                                   (default 1)                                              */
    rdg_real eps_dom;           /* centre-dominant region D_i(eps): w_i >= 1 - eps (0.1)    */
    rdg_real mem_ratio;         /* memorised when |x - NN1| / |x - NN2| < mem_ratio (1/3)   */
} rdg_diag_opts;

typedef enum rdg_sample_kind {
    RDG_KIND_COPY = 0,          /* memorised: a copy of a training point                     */
    RDG_KIND_ON_RIDGE = 1,      /* not memorised, inside the tube: an on-ridge interpolation */
    RDG_KIND_OFF_RIDGE = 2,     /* not memorised, reliable projection outside the tube       */
    RDG_KIND_UNDEFINED = 3      /* not memorised, and the ridge frame is undefined there     */
} rdg_sample_kind;

/* Per sample x at time t. The nearest neighbours are taken among the centres a_t x_i (at
   t0 = 0.005 these are the training points to 0.5 %). */
typedef struct rdg_sample_diag {
    rdg_project_info proj;      /* the projection: distance |x - pi_t(x)|, reliable, ...     */
    int in_tube;                /* reliable and distance < tube s_t                          */
    size_t centre;              /* dominant centre i = argmax_i w_i(x)                       */
    rdg_real centre_weight;     /* w_i(x)                                                    */
    int dominant;               /* x in D_i(eps)                                             */
    rdg_real tangent_norm;      /* |zeta_i(x)| = |V_i^T (x - a_t x_i)| when dominant, else 0 */
    rdg_real nn_ratio;          /* |x - NN1| / |x - NN2| (0 with one data point)             */
    int memorised;              /* nn_ratio < mem_ratio                                      */
    rdg_sample_kind kind;
} rdg_sample_diag;

/* Diagnostics of n samples x (n x d) at time t. zeta (n x dstar, may be NULL) receives the
   tangent coordinates zeta_i(x) = V_i^T (x - a_t x_i) (zero rows where not dominant), with
   V_i the top-d* eigenvectors of H at the centre a_t x_i. At small t a lone centre has C ~ 0
   (its frame underflows); there V_i is taken from the leave-one-out covariance
   sum_{j != i} w_j (x_j - x_i)(x_j - x_i)^T with weights renormalised among j != i, which
   has the same eigenvectors as C in the limit and stays defined. */
RDGDEF rdg_status rdg_diag_samples(const rdg_gmm *data, rdg_real t, const rdg_real *x, size_t n,
                                   const rdg_diag_opts *o, rdg_sample_diag *out, rdg_real *zeta);

/* One row of the paper's stability table (Appendix J.5) plus the directional errors. */
typedef struct rdg_stab_row {
    size_t step;                /* sampler step of the checkpoint                            */
    rdg_real t;
    rdg_real mean_dist;         /* mean distance to the ridge over reliable samples
                                   (every mean below is -1 when no sample qualifies)          */
    size_t reliable;            /* converged with s_t^2 gap > 1e-8 (2.3e-4 in float)         */
    size_t curv_ok;             /* lam_{d*+1} <= -beta at the projected point                */
    rdg_real mean_resid0;       /* mean |r(x)| before projection, all samples                */
    rdg_real mean_gap;          /* mean eigengap at the projected points, all samples        */
    size_t failures;            /* projections that did not converge                         */
    rdg_real normal_err;        /* mean squared distance over reliable samples (align)       */
    rdg_real tangent_err;       /* mean |zeta|^2 over samples in a centre-dominant region    */
    size_t dominant;            /* how many samples were in one                              */
    size_t in_tube, memorised;
} rdg_stab_row;

/* The stability table of trajectories traj (C x n x d, C checkpoints at times[c], optional
   sampler steps[c]; NULL steps numbers them 0..C-1). rows has C entries. dist (C x n, may
   be NULL) receives each sample's distance (-1 where not reliable); reach (n, may be NULL)
   the reach time of each trajectory: the first checkpoint time at which it is in the tube
   (-1 if never). */
RDGDEF rdg_status rdg_diag_table(const rdg_gmm *data, const rdg_real *traj, size_t C, size_t n,
                                 const rdg_real *times, const size_t *steps,
                                 const rdg_diag_opts *o, rdg_stab_row *rows, rdg_real *dist,
                                 rdg_real *reach);

/* >>io ----------------------------------------------------------------------------------- */
/* A numeric array loaded from a .npy file; data is row-major (C order), converted to
   rdg_real. At most 8 dimensions. Release with rdg_array_free (safe on a zeroed struct). */
#define RDG_NPY_MAX_DIMS 8
typedef struct rdg_array {
    rdg_real *data;
    size_t ndim;
    size_t shape[RDG_NPY_MAX_DIMS];
    size_t count;           /* product of the shape */
} rdg_array;

/* Parses a .npy image in memory (format 1.0, 2.0, 3.0): dtypes '<f8' '>f8' '<f4' '>f4'
   ('=' and '|' read as native), C order. Returns RDG_ERR_FORMAT (bad magic, header, dict),
   RDG_ERR_DTYPE (other dtypes, fortran_order True), RDG_ERR_TRUNCATED (payload shorter than
   the shape), RDG_ERR_OVERFLOW (element count over RDG_MAX_ELEMENTS), RDG_ERR_NOMEM.
   *a is zeroed first, so rdg_array_free(a) is always safe. NaN values are loaded as they are;
   the functions that use the data reject them. */
RDGDEF rdg_status rdg_npy_read_mem(const void *buf, size_t len, rdg_array *a);
RDGDEF void rdg_array_free(rdg_array *a);

/* Serialises data (float64 little-endian '<f8', C order) into a new buffer (*buf, *len;
   release with rdg_free). */
RDGDEF rdg_status rdg_npy_write_mem(const rdg_real *data, size_t ndim, const size_t *shape,
                                    void **buf, size_t *len);

#ifndef RDG_NO_STDIO
/* File wrappers of the two functions above. rdg_npy_write writes to path.tmp then renames
   it, so a failed write never leaves a partial file at path. */
RDGDEF rdg_status rdg_npy_read(const char *path, rdg_array *a);
RDGDEF rdg_status rdg_npy_write(const char *path, const rdg_real *data, size_t ndim,
                                const size_t *shape);
#endif

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

#ifdef __cplusplus
}
#endif

#endif /* RIDGEDIFF_H */

/* ======================================================================================== */
/*                                   IMPLEMENTATION                                         */
/* ======================================================================================== */
#ifdef RIDGEDIFF_IMPLEMENTATION
#ifndef RIDGEDIFF_IMPLEMENTATION_DONE
#define RIDGEDIFF_IMPLEMENTATION_DONE

#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <limits.h>
#include <float.h>
#include <stdint.h>
#ifndef RDG_NO_STDIO
#include <stdio.h>
#endif

/* >>config ---------------------------------------------------------------------------------
   Allocator: all three or none (as stb does). */
#if defined(RDG_MALLOC) && defined(RDG_FREE) && defined(RDG_REALLOC)
#elif !defined(RDG_MALLOC) && !defined(RDG_FREE) && !defined(RDG_REALLOC)
#  define RDG_MALLOC(sz, u) malloc(sz)
#  define RDG_REALLOC(p, sz, u) realloc(p, sz)
#  define RDG_FREE(p, u) free(p)
#else
#  error "ridgediff: define all of RDG_MALLOC, RDG_REALLOC, RDG_FREE or none of them"
#endif
#ifndef RDG_ASSERT
#  include <assert.h>
#  define RDG_ASSERT(x) assert(x)
#endif
#ifndef RDG_MAX_ELEMENTS
#  define RDG_MAX_ELEMENTS ((size_t)1 << 31)
#endif

/* Private functions: static, and unused-safe so RIDGEDIFF_STATIC builds stay warning-free. */
/* RDG__VINLINE: the vector helpers called once per vector from the kernels' loops. gcc -O2
   kept rdg__vexp a call: constants reloaded every vector, 16 -> 12.4 cycles a vector inlined
   (Zen3, rdg__k_expcut in a loop). */
#if defined(__GNUC__) || defined(__clang__)
#  define RDG__PRIVATE static __attribute__((unused))
#  define RDG__VINLINE static __inline__ __attribute__((always_inline, unused))
#elif defined(_MSC_VER)
#  define RDG__PRIVATE static
#  define RDG__VINLINE static __forceinline
#else
#  define RDG__PRIVATE static
#  define RDG__VINLINE static
#endif

/* OpenMP through one macro: it expands to nothing without OpenMP, so -Werror=unknown-pragmas
   builds stay clean. Loops use signed int indices (OpenMP 2.0, MSVC). */
#if defined(_OPENMP) && !defined(RDG_NO_OPENMP)
#  include <omp.h>
#  define RDG__HAVE_OMP 1
#  define RDG__PRAGMA(x) _Pragma(#x)
#  define RDG__OMP(x) RDG__PRAGMA(omp x)
#else
#  define RDG__HAVE_OMP 0
#  define RDG__OMP(x)
#endif

/* Literals and maths in the precision of rdg_real (no silent double promotion in float builds). */
#ifdef RDG_REAL_FLOAT
#  define RDG__R(x) (x##f)
#  define RDG__SQRT sqrtf
#  define RDG__EXP expf
#  define RDG__EXPM1 expm1f
#  define RDG__LOG logf
#  define RDG__FABS fabsf
#  define RDG__FREXP frexpf
#  define RDG__LDEXP ldexpf
#  define RDG__POW powf
#  define RDG__SIN sinf
#  define RDG__COS cosf
#  define RDG__EPS FLT_EPSILON
#  define RDG__BIG FLT_MAX
#  define RDG__GAP_REL RDG__R(2.3e-4)
#  define RDG__GAP_NOISE RDG__R(2.4e-6)
#else
#  define RDG__R(x) (x)
#  define RDG__SQRT sqrt
#  define RDG__EXP exp
#  define RDG__EXPM1 expm1
#  define RDG__LOG log
#  define RDG__FABS fabs
#  define RDG__FREXP frexp
#  define RDG__LDEXP ldexp
#  define RDG__POW pow
#  define RDG__SIN sin
#  define RDG__COS cos
#  define RDG__EPS DBL_EPSILON
#  define RDG__BIG DBL_MAX
#  define RDG__GAP_REL RDG__R(1e-8)
#  define RDG__GAP_NOISE RDG__R(1e-10)
#endif
/* Eigengaps of C (relative to |C|; of s^2 H for `reliable`). The eigenvectors of C carry
   errors ~ eps |C| / gap: a frame counts (converged, reliable) above RDG__GAP_REL, about
   0.7 sqrt(eps), where those errors are below ~ sqrt(eps); below RDG__GAP_NOISE (~ 20 eps in
   float, 1e-10 in double) it is unresolved and an iteration stops trusting it. Both scale
   with the precision: float's eps is 5e8 times double's, so the double values would
   accept frames that are rounding noise there. */
#define RDG__GMM_MAGIC 0x52444731u
#define RDG__PI RDG__R(3.14159265358979323846)

RDG__PRIVATE int rdg__isfinite(rdg_real v) { return v - v == v - v; }  /* false for NaN, Inf; fast-math-free */

RDG__PRIVATE int rdg__allfinite(const rdg_real *v, size_t n) {
    size_t i;
    rdg_real acc = 0;
    for (i = 0; i < n; ++i) acc += v[i] * 0;   /* NaN or Inf times 0 is NaN */
    return acc == acc;
}

/* a * b without overflow, or 0 with *ok cleared. */
RDG__PRIVATE size_t rdg__mul(size_t a, size_t b, int *ok) {
    if (a != 0 && b > (size_t)-1 / a) { *ok = 0; return 0; }
    return a * b;
}

RDG__PRIVATE void *rdg__alloc(size_t count, size_t size) {
    int ok = 1;
    size_t bytes = rdg__mul(count, size, &ok);
    if (!ok) return NULL;
    return RDG_MALLOC(bytes ? bytes : 1, NULL);
}

RDGDEF void rdg_free(void *p) { if (p) RDG_FREE(p, NULL); }

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

/* The largest file any loader accepts: RDG_MAX_ELEMENTS float64 values plus headers. */
RDG__PRIVATE size_t rdg__file_limit(void) {
    return RDG_MAX_ELEMENTS > ((size_t)-1 - (1u << 20)) / 8 ? (size_t)-1 / 2
         : RDG_MAX_ELEMENTS * 8 + (1u << 20);
}

/* Writes buf to path.tmp, then renames it over path, so that a failed write never leaves a
   partial file at path. */
RDG__PRIVATE rdg_status rdg__write_whole(const char *path, const void *buf, size_t len) {
    size_t pl = strlen(path);
    char *tmp = (char *)rdg__alloc(pl + 5, 1);
    FILE *f;
    int bad;
    if (!tmp) return RDG_ERR_NOMEM;
    memcpy(tmp, path, pl); memcpy(tmp + pl, ".tmp", 5);
    f = fopen(tmp, "wb");
    if (!f) { rdg_free(tmp); return RDG_ERR_IO; }
    bad = fwrite(buf, 1, len, f) != len;
    bad |= fclose(f) != 0;
#ifdef _WIN32
    if (!bad) remove(path);
#endif
    if (!bad) bad = rename(tmp, path) != 0;
    if (bad) remove(tmp);
    rdg_free(tmp);
    return bad ? RDG_ERR_IO : RDG_OK;
}
#endif

/* >>status --------------------------------------------------------------------------------- */
RDGDEF const char *rdg_status_str(rdg_status s) {
    switch (s) {
    case RDG_OK: return "ok";
    case RDG_ERR_INVALID: return "invalid argument";
    case RDG_ERR_NOMEM: return "out of memory";
    case RDG_ERR_NONFINITE: return "input contains NaN or Inf";
    case RDG_ERR_SHAPE: return "array shapes do not match";
    case RDG_ERR_OVERFLOW: return "size too large";
    case RDG_ERR_SINGULAR: return "matrix is singular";
    case RDG_ERR_NOT_CONVERGED: return "iteration did not converge";
    case RDG_ERR_IO: return "file could not be read or written";
    case RDG_ERR_FORMAT: return "malformed file";
    case RDG_ERR_DTYPE: return "unsupported dtype or layout";
    case RDG_ERR_TRUNCATED: return "file is truncated";
    default: return "unknown status";
    }
}

RDGDEF const char *rdg_version_string(void) { return RDG_VERSION_STRING; }

/* >>rng -------------------------------------------------------------------------------------
   xoshiro256** (Blackman & Vigna), state filled by splitmix64 from seed and stream. */
RDG__PRIVATE unsigned long long rdg__splitmix(unsigned long long *z) {
    unsigned long long v = (*z += 0x9E3779B97F4A7C15ULL);
    v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9ULL;
    v = (v ^ (v >> 27)) * 0x94D049BB133111EBULL;
    return v ^ (v >> 31);
}

RDGDEF void rdg_rng_init(rdg_rng *r, unsigned long long seed, unsigned long long stream) {
    unsigned long long z = seed;
    unsigned long long mix;
    int i;
    z ^= rdg__splitmix(&z);                      /* decorrelate nearby seeds */
    mix = stream * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL;
    z ^= mix;
    for (i = 0; i < 4; ++i) r->s[i] = rdg__splitmix(&z);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;   /* never the all-zero state */
    r->spare = 0;
    r->has_spare = 0;
}

RDG__PRIVATE unsigned long long rdg__rotl(unsigned long long x, int k) { return (x << k) | (x >> (64 - k)); }

RDGDEF unsigned long long rdg_rng_u64(rdg_rng *r) {
    unsigned long long *s = r->s;
    unsigned long long result = rdg__rotl(s[1] * 5, 7) * 9;
    unsigned long long t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rdg__rotl(s[3], 45);
    return result;
}

/* 53 random bits, shifted by half an ulp: in (0, 1), never 0 or 1. */
RDG__PRIVATE double rdg__u01(rdg_rng *r) {
    return ((double)(rdg_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

RDG__PRIVATE void rdg__boxmuller(double u1, double u2, double *c, double *s);   /* >>kernels */

RDGDEF rdg_real rdg_rng_uniform(rdg_rng *r) { return (rdg_real)rdg__u01(r); }

/* Box-Muller: u1 then u2 from the stream give sqrt(-2 ln u1) (cos, sin)(2 pi u2); the cosine
   is returned, the sine kept for the next call. */
RDGDEF rdg_real rdg_rng_normal(rdg_rng *r) {
    double u1, u2, c, s;
    if (r->has_spare) { r->has_spare = 0; return r->spare; }
    u1 = rdg__u01(r);
    u2 = rdg__u01(r);
    rdg__boxmuller(u1, u2, &c, &s);
    r->spare = (rdg_real)s;
    r->has_spare = 1;
    return (rdg_real)c;
}

/* >>kernels -----------------------------------------------------------------------------------
   The inner loops of the density (MATH.md 2), the exact-model sampler (MATH.md 1), the Jacobi
   rotations and the Jacobian contraction (MATH.md 4): distances (direct, expanded square, four
   queries at once), exp, weighted sums, tile products. Each
   kernel is a plain C99 function (_ref, always compiled, the reference the tests hold the SIMD
   versions to) and, when rdg_real is double and the compiler targets AVX-512F, AVX2 + FMA or
   aarch64 NEON (its own macros; RDG_NO_SIMD turns this off), an intrinsics version over
   vectors of RDG__VW reals. rdg__k_* dispatch to the best one compiled. Row buffers have a
   padded length dp = d rounded up to RDG__VW, padding zero, so vector loads never need masks.
   Every kernel works in a fixed order, so results do not depend on threads. */
#if !defined(RDG_NO_SIMD) && !defined(RDG_REAL_FLOAT) && defined(__AVX512F__)
#  include <immintrin.h>
#  define RDG__VW 8
typedef __m512d rdg__v;
#  define RDG__VLD(p) _mm512_loadu_pd(p)
#  define RDG__VST(p, v) _mm512_storeu_pd(p, v)
#  define RDG__VSET(x) _mm512_set1_pd(x)
#  define RDG__VFMA(a, b, c) _mm512_fmadd_pd(a, b, c)      /* a b + c */
#  define RDG__VFNMA(a, b, c) _mm512_fnmadd_pd(a, b, c)    /* c - a b */
#  define RDG__VMUL(a, b) _mm512_mul_pd(a, b)
#  define RDG__VSUB(a, b) _mm512_sub_pd(a, b)
#  define RDG__VDIV(a, b) _mm512_div_pd(a, b)
#  define RDG__VADD(a, b) _mm512_add_pd(a, b)
#  define RDG__M8 ((__mmask8)0xFF)   /* all lanes: the masked forms avoid g++ 12's undefined-vector warning */
#  define RDG__VMAX(a, b) _mm512_maskz_max_pd(RDG__M8, a, b)
#  define RDG__VMIN(a, b) _mm512_maskz_min_pd(RDG__M8, a, b)
#  define RDG__VANYGE(v, c) (_mm512_cmp_pd_mask(v, _mm512_set1_pd(c), _CMP_GE_OQ) != 0)
#  define RDG__VKEEPGE(v, e, c) _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(e, c, _CMP_GE_OQ), v)   /* v where e >= c, else 0 */
#  define RDG__VROUND(a) _mm512_maskz_roundscale_pd(RDG__M8, a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#  define RDG__SIMD_NAME "avx512"
#elif !defined(RDG_NO_SIMD) && !defined(RDG_REAL_FLOAT) && defined(__AVX2__) && defined(__FMA__)
#  include <immintrin.h>
#  define RDG__VW 4
typedef __m256d rdg__v;
#  define RDG__VLD(p) _mm256_loadu_pd(p)
#  define RDG__VST(p, v) _mm256_storeu_pd(p, v)
#  define RDG__VSET(x) _mm256_set1_pd(x)
#  define RDG__VFMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#  define RDG__VFNMA(a, b, c) _mm256_fnmadd_pd(a, b, c)
#  define RDG__VMUL(a, b) _mm256_mul_pd(a, b)
#  define RDG__VSUB(a, b) _mm256_sub_pd(a, b)
#  define RDG__VDIV(a, b) _mm256_div_pd(a, b)
#  define RDG__VADD(a, b) _mm256_add_pd(a, b)
#  define RDG__VMAX(a, b) _mm256_max_pd(a, b)
#  define RDG__VMIN(a, b) _mm256_min_pd(a, b)
#  define RDG__VANYGE(v, c) (_mm256_movemask_pd(_mm256_cmp_pd(v, _mm256_set1_pd(c), _CMP_GE_OQ)) != 0)
#  define RDG__VKEEPGE(v, e, c) _mm256_and_pd(v, _mm256_cmp_pd(e, c, _CMP_GE_OQ))
#  define RDG__VROUND(a) _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#  define RDG__SIMD_NAME "avx2"
#elif !defined(RDG_NO_SIMD) && !defined(RDG_REAL_FLOAT) && defined(__ARM_NEON) && defined(__aarch64__)
#  include <arm_neon.h>
#  define RDG__VW 2
typedef float64x2_t rdg__v;
#  define RDG__VLD(p) vld1q_f64(p)
#  define RDG__VST(p, v) vst1q_f64(p, v)
#  define RDG__VSET(x) vdupq_n_f64(x)
#  define RDG__VFMA(a, b, c) vfmaq_f64(c, a, b)
#  define RDG__VFNMA(a, b, c) vfmsq_f64(c, a, b)
#  define RDG__VMUL(a, b) vmulq_f64(a, b)
#  define RDG__VSUB(a, b) vsubq_f64(a, b)
#  define RDG__VDIV(a, b) vdivq_f64(a, b)
#  define RDG__VADD(a, b) vaddq_f64(a, b)
#  define RDG__VMAX(a, b) vmaxq_f64(a, b)
#  define RDG__VMIN(a, b) vminq_f64(a, b)
#  define RDG__VANYGE(v, c) (vmaxvq_u32(vreinterpretq_u32_u64(vcgeq_f64(v, vdupq_n_f64(c)))) != 0)
#  define RDG__VKEEPGE(v, e, c) vreinterpretq_f64_u64(vandq_u64(vreinterpretq_u64_f64(v), vcgeq_f64(e, c)))
#  define RDG__VROUND(a) vrndnq_f64(a)
#  define RDG__SIMD_NAME "neon"
#else
#  define RDG__VW 1
#  define RDG__SIMD_NAME "scalar"
#endif
/* AVX-512 with a 64-bit size_t: index vectors load straight from size_t arrays (compaction,
   gathers of kept points). */
#if RDG__VW == 8 && defined(SIZE_MAX) && SIZE_MAX == 0xFFFFFFFFFFFFFFFFu
#  define RDG__IDX8 1
#else
#  define RDG__IDX8 0
#endif
/* AVX2 with a 64-bit size_t: the same for four lanes (compaction by a permutation table). */
#if RDG__VW == 4 && defined(SIZE_MAX) && SIZE_MAX == 0xFFFFFFFFFFFFFFFFu
#  define RDG__IDX4 1
#else
#  define RDG__IDX4 0
#endif
/* Keeps a loaded vector in a register: without it GCC folds the load into every FMA that
   uses the vector (a memory operand each time), which makes the multi-query kernels, where one
   load feeds four FMAs, bound by loads instead of FMAs. No code is emitted. (Predefined by
   tests/avx512emu, whose vectors are structs.) */
#if defined(RDG__INREG)
#elif RDG__VW > 1 && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#  define RDG__INREG(v) __asm__("" : "+v"(v))
#else
#  define RDG__INREG(v) ((void)0)
#endif
/* y - a x and s + df df exactly as the vector code rounds them (fused when it is), so a
   point gives bit-identical weights whichever path computes its distances. */
#if RDG__VW > 1
#  define RDG__FMS(a, x, y) fma(-(a), x, y)
#  define RDG__FMA(a, b, c) fma(a, b, c)
#else
#  define RDG__FMS(a, x, y) ((y) - (a) * (x))
#  define RDG__FMA(a, b, c) ((a) * (b) + (c))
#endif
#define RDG__TILE 64   /* kept points per tile of the outer-product (C) kernels: a tile of rows
                          stays in L1/L2 while it is used */
/* Points per panel of a transposed copy (rdg__xt_build's layout: panel i / RDG__PANEL holds d
   rows of RDG__PANEL reals, one per coordinate). 32 = four AVX-512 vectors, the block of the
   distance kernels, so that a block's d rows are one contiguous stretch read in order (W3 of
   tools/bench 8-9 % faster than with 64-point panels, read half a row at a time). Point
   i's coordinate j is at RDG__PAN(xt, i, d)[j RDG__PANEL]. */
#define RDG__PANEL 32
#define RDG__PAN(xt, i, d) ((xt) + ((i) / RDG__PANEL) * RDG__PANEL * (d) + (i) % RDG__PANEL)

/* d rounded up to a whole number of vectors. */
RDG__PRIVATE size_t rdg__pad(size_t d) { return (d + RDG__VW - 1) / RDG__VW * RDG__VW; }

/* e_i = -h |y - a x_i|^2 for cnt <= RDG__PANEL points of one transposed panel
   (xt[j RDG__PANEL + i], see rdg__pool_xt; xt may point into a panel, for points that end
   within it); returns max e_i. */
RDG__PRIVATE rdg_real rdg__dist_panel(const rdg_real *xt, size_t cnt, size_t d,
                                      const rdg_real *y, rdg_real a, rdg_real h, rdg_real *e) {
    size_t i, j;
    rdg_real mx = -RDG__BIG;
    for (i = 0; i < cnt; ++i) e[i] = 0;
    for (j = 0; j < d; ++j) {
        const rdg_real *row = xt + j * RDG__PANEL;
        rdg_real yj = y[j];
        for (i = 0; i < cnt; ++i) { rdg_real df = RDG__FMS(a, row[i], yj); e[i] = RDG__FMA(df, df, e[i]); }
    }
    for (i = 0; i < cnt; ++i) { e[i] = -h * e[i]; if (e[i] > mx) mx = e[i]; }
    return mx;
}

/* The same for cnt points of consecutive panels (rdg__xt_build's layout), any number of them
   per call, so that the per-call work (the vector kernels' max over lanes) is not paid per
   panel of a small d. */
RDG__PRIVATE rdg_real rdg__k_dist_ref(const rdg_real *xt, size_t cnt, size_t d,
                                      const rdg_real *y, rdg_real a, rdg_real h, rdg_real *e) {
    size_t p;
    rdg_real mx = -RDG__BIG;
    for (p = 0; p < cnt; p += RDG__PANEL) {
        size_t m = cnt - p < RDG__PANEL ? cnt - p : RDG__PANEL;
        rdg_real m2 = rdg__dist_panel(xt + p * d, m, d, y, a, h, e + p);
        if (m2 > mx) mx = m2;
    }
    return mx;
}

/* The same for points stored as rows (no transposed copy at hand). */
RDG__PRIVATE rdg_real rdg__k_dist_rows(const rdg_real *X, size_t cnt, size_t d, const rdg_real *y,
                                       rdg_real a, rdg_real h, rdg_real *e) {
    size_t i, j;
    rdg_real mx = -RDG__BIG;
    for (i = 0; i < cnt; ++i) {
        const rdg_real *xi = X + i * d;
        rdg_real s = 0;
        for (j = 0; j < d; ++j) { rdg_real df = RDG__FMS(a, xi[j], y[j]); s = RDG__FMA(df, df, s); }
        e[i] = -h * s;
        if (e[i] > mx) mx = e[i];
    }
    return mx;
}

/* Transposed panels (RDG__PAN layout) of the rows idx[0..m) of X, padded to mp >= m points
   with copies of the last (whose distances then equal its own, so a kernel may run over whole
   vectors without changing the largest); points i0..mp-1 only, m >= 1. */
RDG__PRIVATE void rdg__k_panrows_ref(const rdg_real *X, size_t d, const size_t *idx, size_t m, size_t i0,
                                     size_t mp, rdg_real *xt) {
    size_t i, j;
    for (i = i0; i < mp; ++i) {
        const rdg_real *xi = X + idx[i < m ? i : m - 1] * d;
        rdg_real *pan = RDG__PAN(xt, i, d);
        for (j = 0; j < d; ++j) pan[j * RDG__PANEL] = xi[j];
    }
}

/* The same for the listed points idx[0..m): four independent chains, each point summed over j
   in order with the panel kernel's rounding, so every e_k is bit-identical to a full scan's. */
RDG__PRIVATE rdg_real rdg__k_dist_idx(const rdg_real *X, size_t d, const size_t *idx, size_t m,
                                      const rdg_real *y, rdg_real a, rdg_real h, rdg_real *e) {
    size_t k = 0, j;
    rdg_real mx = -RDG__BIG;
    for (; k + 4 <= m; k += 4) {
        const rdg_real *x0 = X + idx[k] * d, *x1 = X + idx[k + 1] * d, *x2 = X + idx[k + 2] * d, *x3 = X + idx[k + 3] * d;
        rdg_real s0 = 0, s1 = 0, s2 = 0, s3 = 0, df;
        for (j = 0; j < d; ++j) {
            rdg_real yj = y[j];
            df = RDG__FMS(a, x0[j], yj); s0 = RDG__FMA(df, df, s0);
            df = RDG__FMS(a, x1[j], yj); s1 = RDG__FMA(df, df, s1);
            df = RDG__FMS(a, x2[j], yj); s2 = RDG__FMA(df, df, s2);
            df = RDG__FMS(a, x3[j], yj); s3 = RDG__FMA(df, df, s3);
        }
        e[k] = -h * s0; e[k + 1] = -h * s1; e[k + 2] = -h * s2; e[k + 3] = -h * s3;
        for (j = k; j < k + 4; ++j) if (e[j] > mx) mx = e[j];
    }
    for (; k < m; ++k) {
        const rdg_real *xi = X + idx[k] * d;
        rdg_real s = 0;
        for (j = 0; j < d; ++j) { rdg_real df = RDG__FMS(a, xi[j], y[j]); s = RDG__FMA(df, df, s); }
        e[k] = -h * s;
        if (e[k] > mx) mx = e[k];
    }
    return mx;
}

/* e_i = min(0, c1 y.x_i - c2 |x_i|^2 - c0) for one panel, as rdg__dist_panel (the expanded
   square: one FMA per coordinate instead of two; see rdg__square_ok for when its rounding is
   acceptable). */
RDG__PRIVATE rdg_real rdg__dot_panel(const rdg_real *xt, const rdg_real *xx, size_t cnt, size_t d,
                                     const rdg_real *y, rdg_real c1, rdg_real c2, rdg_real c0, rdg_real *e) {
    size_t i, j;
    rdg_real mx = -RDG__BIG;
    for (i = 0; i < cnt; ++i) e[i] = 0;
    for (j = 0; j < d; ++j) {
        const rdg_real *row = xt + j * RDG__PANEL;
        rdg_real yj = y[j];
        for (i = 0; i < cnt; ++i) e[i] = RDG__FMA(yj, row[i], e[i]);
    }
    for (i = 0; i < cnt; ++i) {
        rdg_real v = RDG__FMS(c2, xx[i], c1 * e[i]) - c0;
        e[i] = v < 0 ? v : 0;
        if (e[i] > mx) mx = e[i];
    }
    return mx;
}

/* The same for cnt points of consecutive panels, as rdg__k_dist_ref. */
RDG__PRIVATE rdg_real rdg__k_dot_ref(const rdg_real *xt, const rdg_real *xx, size_t cnt, size_t d,
                                     const rdg_real *y, rdg_real c1, rdg_real c2, rdg_real c0, rdg_real *e) {
    size_t p;
    rdg_real mx = -RDG__BIG;
    for (p = 0; p < cnt; p += RDG__PANEL) {
        size_t m = cnt - p < RDG__PANEL ? cnt - p : RDG__PANEL;
        rdg_real m2 = rdg__dot_panel(xt + p * d, xx + p, m, d, y, c1, c2, c0, e + p);
        if (m2 > mx) mx = m2;
    }
    return mx;
}

/* RDG__QB queries against consecutive panels (rdg__k_dist for each, with the data loaded once
   in the vector version: the data pass is shared, per-query results bit-identical). mx[q] is
   raised to each query's largest e. */
#define RDG__QB 4
#define RDG__QS 16       /* queries per block of rdg_density_eval: four kernel calls per panel */
#define RDG__WCHUNK 512  /* data points per chunk of the blocked weighted sums */
RDG__PRIVATE void rdg__k_distq_ref(const rdg_real *xt, size_t cnt, size_t d, const rdg_real *const *y,
                                   rdg_real a, rdg_real h, rdg_real *const *e, rdg_real *mx) {
    int q;
    for (q = 0; q < RDG__QB; ++q) {
        rdg_real m2 = rdg__k_dist_ref(xt, cnt, d, y[q], a, h, e[q]);
        if (m2 > mx[q]) mx[q] = m2;
    }
}

#if RDG__IDX8
/* Set bits of a lane mask. */
RDG__PRIVATE unsigned rdg__popc8(unsigned kb) {
#  if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_popcount(kb);
#  else
    unsigned c = 0;
    while (kb) { c += kb & 1u; kb >>= 1; }
    return c;
#  endif
}
#endif

/* Keeps e_k >= cut: compacted in place (e[nk] = e_k, idx[nk] = src ? src[k] : k, ascending);
   returns nk, and *first = the first k with e_k == emax (m if none). Blocks of RDG__VW values
   with nothing to keep are skipped after one vector compare (late in sampling or at small t
   almost every block). */
RDG__PRIVATE size_t rdg__k_compact(rdg_real *e, size_t m, const size_t *src, rdg_real cut, rdg_real emax,
                                   size_t *idx, size_t *first) {
    size_t k = 0, k1, nk = 0, f = m;
#if RDG__IDX8
    /* AVX-512: kept values and their indices compressed into registers and stored whole (the
       store may run past nk + count, never past k + 8: nk <= k, and those lanes are loaded) */
    {
        const __m512d vc = _mm512_set1_pd(cut), vm = _mm512_set1_pd(emax);
        const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        for (; k + 8 <= m; k += 8) {
            __m512d v = _mm512_loadu_pd(e + k);
            __mmask8 keep = _mm512_cmp_pd_mask(v, vc, _CMP_GE_OQ);
            unsigned kb = (unsigned)keep, c = 0;
            __m512i iv;
            if (!kb) continue;
            if (f == m) {
                unsigned eq = (unsigned)_mm512_cmp_pd_mask(v, vm, _CMP_EQ_OQ), b = 0;
                if (eq) { while (!(eq >> b & 1u)) ++b; f = k + b; }
            }
            iv = src ? _mm512_loadu_si512((const void *)(src + k))
                     : _mm512_add_epi64(_mm512_set1_epi64((long long)k), iota);
            _mm512_storeu_pd(e + nk, _mm512_maskz_compress_pd(keep, v));
            _mm512_storeu_si512((void *)(idx + nk), _mm512_maskz_compress_epi64(keep, iv));
            c = rdg__popc8(kb);
            nk += c;
        }
    }
#endif
#if RDG__IDX4
    /* AVX2: the kept lanes' 32-bit halves gathered to the front by one permutation (from a
       table of the 16 lane masks), values and indices alike; stored whole as above (W3 of
       tools/bench on Zen3: the loop below was 6 % of it) */
    {
        static const int perm[16][8] = {
            {0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7}, {2, 3, 0, 1, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7},
            {4, 5, 0, 1, 2, 3, 6, 7}, {0, 1, 4, 5, 2, 3, 6, 7}, {2, 3, 4, 5, 0, 1, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7},
            {6, 7, 0, 1, 2, 3, 4, 5}, {0, 1, 6, 7, 2, 3, 4, 5}, {2, 3, 6, 7, 0, 1, 4, 5}, {0, 1, 2, 3, 6, 7, 4, 5},
            {4, 5, 6, 7, 0, 1, 2, 3}, {0, 1, 4, 5, 6, 7, 2, 3}, {2, 3, 4, 5, 6, 7, 0, 1}, {0, 1, 2, 3, 4, 5, 6, 7}};
        static const unsigned char cnt[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
        const __m256d vc = _mm256_set1_pd(cut), vm = _mm256_set1_pd(emax);
        const __m256i iota = _mm256_set_epi64x(3, 2, 1, 0);
        for (; k + 4 <= m; k += 4) {
            __m256d v = _mm256_loadu_pd(e + k);
            unsigned kb = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(v, vc, _CMP_GE_OQ));
            __m256i pv, iv;
            if (!kb) continue;
            if (f == m) {
                unsigned eq = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(v, vm, _CMP_EQ_OQ)), b = 0;
                if (eq) { while (!(eq >> b & 1u)) ++b; f = k + b; }
            }
            pv = _mm256_loadu_si256((const __m256i *)(const void *)perm[kb]);
            iv = src ? _mm256_loadu_si256((const __m256i *)(const void *)(src + k))
                     : _mm256_add_epi64(_mm256_set1_epi64x((long long)k), iota);
            _mm256_storeu_pd(e + nk, _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(v), pv)));
            _mm256_storeu_si256((__m256i *)(void *)(idx + nk), _mm256_permutevar8x32_epi32(iv, pv));
            nk += cnt[kb];
        }
    }
#endif
    for (; k < m; k = k1) {
        k1 = k + RDG__VW <= m ? k + RDG__VW : m;
#if RDG__VW > 1
        if (k1 - k == RDG__VW && !RDG__VANYGE(RDG__VLD(e + k), cut)) continue;
#endif
        for (; k < k1; ++k) {
            rdg_real ek = e[k];
            if (f == m && ek == emax) f = k;
            idx[nk] = src ? src[k] : k;
            e[nk] = ek;
            nk += ek >= cut;
        }
    }
    *first = f;
    return nk;
}

/* e_k <- exp(e_k - shift) for k < n; returns the sum (in a fixed order). */
RDG__PRIVATE rdg_real rdg__k_exp_ref(rdg_real *e, size_t n, rdg_real shift) {
    size_t k;
    rdg_real s = 0;
    for (k = 0; k < n; ++k) { e[k] = RDG__EXP(e[k] - shift); s += e[k]; }
    return s;
}

/* e_k <- exp(e_k - shift) where e_k >= cut, else 0, for all k < n; returns the sum. */
RDG__PRIVATE rdg_real rdg__k_expcut_ref(rdg_real *e, size_t n, rdg_real shift, rdg_real cut) {
    size_t k;
    rdg_real s = 0;
    for (k = 0; k < n; ++k) { e[k] = e[k] >= cut ? RDG__EXP(e[k] - shift) : 0; s += e[k]; }
    return s;
}

/* rdg__k_dot for RDG__QB queries (c0 per query) against cnt points stored as consecutive
   panels (any number of them: one call per pass over the data); mx[q] raised to the max. */
RDG__PRIVATE void rdg__k_dotq_ref(const rdg_real *xt, const rdg_real *xx, size_t cnt, size_t d,
                                  const rdg_real *const *y, rdg_real c1, rdg_real c2, const rdg_real *c0,
                                  rdg_real *const *e, rdg_real *mx) {
    int q;
    for (q = 0; q < RDG__QB; ++q) {
        rdg_real m2 = rdg__k_dot_ref(xt, xx, cnt, d, y[q], c1, c2, c0[q], e[q]);
        if (m2 > mx[q]) mx[q] = m2;
    }
}

/* out[q d + j] += sum_{i < n} W[q][i] x_ij for RDG__QB weight vectors over all n rows of X (the
   dense weighted sums of a group of trajectories: each row is loaded once for the group). */
RDG__PRIVATE void rdg__k_wsumq_ref(const rdg_real *X, size_t n, size_t d, const rdg_real *const *W,
                                   rdg_real *out) {
    size_t i, j;
    int q;
    for (q = 0; q < RDG__QB; ++q)
        for (i = 0; i < n; ++i) {
            const rdg_real *xi = X + i * d;
            rdg_real wq = W[q][i], *o = out + (size_t)q * d;
            for (j = 0; j < d; ++j) o[j] = RDG__FMA(wq, xi[j], o[j]);
        }
}

/* out[j] += sum_k wt_k (x_{idx_k, j} - xr_j), j < d. */
RDG__PRIVATE void rdg__k_wsum_ref(const rdg_real *X, size_t d, const size_t *idx, const rdg_real *wt,
                                  size_t nk, const rdg_real *xr, rdg_real *out) {
    size_t k, j;
    for (k = 0; k < nk; ++k) {
        const rdg_real *xi = X + idx[k] * d;
        rdg_real wk = wt[k];
        for (j = 0; j < d; ++j) out[j] += wk * (xi[j] - xr[j]);
    }
}

/* Row k of the kept points: idx[k], or k itself when idx is NULL (all points, in order). */
#define RDG__ROW(idx, k) ((idx) ? (idx)[k] : (k))

/* rdg__k_wsum for d <= RDG__SMALLD, where a vector holds more than a row: four partial sums
   per coordinate (points k = 0, 1, 2, 3 mod 4, added in that order at the end) break the
   dependency chain of one running sum. idx NULL: points 0 .. nk - 1. */
#define RDG__SMALLD 4
RDG__PRIVATE void rdg__k_wsum_small(const rdg_real *X, size_t d, const size_t *idx, const rdg_real *wt,
                                    size_t nk, const rdg_real *xr, rdg_real *out) {
    rdg_real p[4][RDG__SMALLD];
    size_t k = 0, j, l;
    for (l = 0; l < 4; ++l) for (j = 0; j < d; ++j) p[l][j] = 0;
    for (; k + 4 <= nk; k += 4)
        for (l = 0; l < 4; ++l) {
            const rdg_real *xi = X + RDG__ROW(idx, k + l) * d;
            for (j = 0; j < d; ++j) p[l][j] = RDG__FMA(wt[k + l], xi[j] - xr[j], p[l][j]);
        }
    for (; k < nk; ++k) {
        const rdg_real *xi = X + RDG__ROW(idx, k) * d;
        for (j = 0; j < d; ++j) p[0][j] = RDG__FMA(wt[k], xi[j] - xr[j], p[0][j]);
    }
    for (j = 0; j < d; ++j) out[j] += (p[0][j] + p[1][j]) + (p[2][j] + p[3][j]);
}

/* One point's terms w c c^T (entries 00, 10, 11) into partial sum l of each (abc: 3 x 4 sums,
   entry-major): the step of the plane's covariance sums and of its one-pass moments. */
RDG__PRIVATE void rdg__m3_point(rdg_real c0, rdg_real c1, rdg_real wk, size_t l, rdg_real *abc) {
    rdg_real wc0 = wk * c0;
    abc[l] = RDG__FMA(c0, wc0, abc[l]);
    abc[4 + l] = RDG__FMA(c1, wc0, abc[4 + l]);
    abc[8 + l] = RDG__FMA(c1, wk * c1, abc[8 + l]);
}

/* Point p's terms into partial sum p mod 4 of each entry of the plane's covariance sums below. */
RDG__PRIVATE void rdg__cov2_point(const rdg_real *X, const size_t *idx, const rdg_real *wt, size_t p,
                                  const rdg_real *xr, const rdg_real *dm, rdg_real *abc) {
    const rdg_real *xi = X + RDG__ROW(idx, p) * 2;
    rdg__m3_point((xi[0] - xr[0]) - dm[0], (xi[1] - xr[1]) - dm[1], wt[p], p & 3, abc);
}

/* out3 += the three entries' partial sums, in one order. */
RDG__PRIVATE void rdg__cov2_total(const rdg_real *abc, rdg_real *out3) {
    int e;
    for (e = 0; e < 3; ++e) out3[e] += (abc[4 * e] + abc[4 * e + 1]) + (abc[4 * e + 2] + abc[4 * e + 3]);
}

/* The plane (d = 2, the paper's 2-D experiments) over kept points idx[0..P): out3 += the three
   sums of w c c^T, c = (x_k - xr) - dm (entries 00, 10, 11), four partial sums each (idx NULL:
   points 0 .. P - 1). */
RDG__PRIVATE void rdg__k_cov2_ref(const rdg_real *X, const size_t *idx, const rdg_real *wt, size_t P,
                                  const rdg_real *xr, const rdg_real *dm, rdg_real *out3) {
    rdg_real abc[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    size_t p;
    for (p = 0; p < P; ++p) rdg__cov2_point(X, idx, wt, p, xr, dm, abc);
    rdg__cov2_total(abc, out3);
}

/* The plane's mean and covariance sums in one pass over points 0 .. n - 1 in order (the plane
   path of a full scan, rdg__tail_plane), about the reference point xr: s2 += sum_k w_k u_k and
   m3 += the three sums of w_k u_k u_k^T (entries 00, 10, 11), u_k = x_k - xr. Four partial
   sums each, points k mod 4 and the tail into the first, so that s2 gets the bits of
   rdg__k_wsum_small (the mean is unchanged by the fusion). The centred covariance follows as
   m3 / W - dm dm^T (dm = s2 / W): a one-pass form shifted by the heaviest point, not the raw
   form MATH.md 2 warns of. Its error is a few eps of m3 / W, that is of C times
   1 + |dm|^2 / |C|: small where one weight dominates (dm near 0, where the raw form fails) and
   where the weights spread (dm within their spread); test plane_moments bounds it. */
RDG__PRIVATE void rdg__mom2_point(const rdg_real *xi, rdg_real wk, const rdg_real *xr, size_t l, rdg_real *sm) {
    rdg_real u0 = xi[0] - xr[0], u1 = xi[1] - xr[1];
    sm[l] = RDG__FMA(wk, u0, sm[l]);
    sm[4 + l] = RDG__FMA(wk, u1, sm[4 + l]);
    rdg__m3_point(u0, u1, wk, l, sm + 8);
}
/* s2 += sums 0, 1 and m3 += sums 2, 3, 4 of sm (5 x 4 partial sums, entry-major), in one order. */
RDG__PRIVATE void rdg__mom2_total(const rdg_real *sm, rdg_real *s2, rdg_real *m3) {
    int e;
    for (e = 0; e < 2; ++e) s2[e] += (sm[4 * e] + sm[4 * e + 1]) + (sm[4 * e + 2] + sm[4 * e + 3]);
    rdg__cov2_total(sm + 8, m3);
}
RDG__PRIVATE void rdg__k_mom2_ref(const rdg_real *X, const rdg_real *wt, size_t n, const rdg_real *xr,
                                  rdg_real *s2, rdg_real *m3) {
    rdg_real sm[20];
    size_t k = 0, l;
    for (l = 0; l < 20; ++l) sm[l] = 0;
    for (; k + 4 <= n; k += 4)
        for (l = 0; l < 4; ++l) rdg__mom2_point(X + (k + l) * 2, wt[k + l], xr, l, sm);
    for (; k < n; ++k) rdg__mom2_point(X + k * 2, wt[k], xr, 0, sm);
    rdg__mom2_total(sm, s2, m3);
}

#if RDG__IDX8
/* The sum of the eight lanes in the order of _mm512_reduce_add_pd (halves, then quarters, then
   the pair), without the intrinsic's undefined-vector operands, which g++ 12 warns about. */
RDG__PRIVATE rdg_real rdg__vsum8_tree(__m512d v) {
    rdg_real t[8];
    _mm512_storeu_pd(t, v);
    return ((t[2] + t[6]) + (t[0] + t[4])) + ((t[3] + t[7]) + (t[1] + t[5]));
}
/* idx * 2 and the gathers, in masked forms for the same reason */
#  define RDG__IDX2(p) _mm512_maskz_slli_epi64((__mmask8)0xFF, _mm512_loadu_si512((const void *)(p)), 1)
#  define RDG__GATHER(iv, base) _mm512_mask_i64gather_pd(_mm512_setzero_pd(), (__mmask8)0xFF, iv, base, 8)

/* The two coordinates of points k .. k + 7: gathered through idx (rows are 16 bytes apart), or,
   idx NULL (all points in order), two loads split into even and odd entries. */
RDG__PRIVATE void rdg__plane8(const rdg_real *X, const size_t *idx, size_t k, __m512d *x0, __m512d *x1) {
    if (idx) {
        __m512i iv = RDG__IDX2(idx + k);
        *x0 = RDG__GATHER(iv, X); *x1 = RDG__GATHER(iv, X + 1);
    } else {
        __m512d lo = _mm512_loadu_pd(X + 2 * k), hi = _mm512_loadu_pd(X + 2 * k + 8);
        *x0 = _mm512_permutex2var_pd(lo, _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), hi);
        *x1 = _mm512_permutex2var_pd(lo, _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1), hi);
    }
}

#  define rdg__plane rdg__plane8
#  define RDG__PLANE_SIMD 1
#elif RDG__VW == 4
/* The two coordinates of points k .. k + 3 for the AVX2 plane kernels below. */
RDG__PRIVATE void rdg__plane4(const rdg_real *X, const size_t *idx, size_t k, __m256d *x0, __m256d *x1) {
    __m256d lo, hi;
    if (idx) {            /* rows k, k + 2 and k + 1, k + 3 as (x, y) pairs in two vectors */
        lo = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(X + 2 * idx[k])), _mm_loadu_pd(X + 2 * idx[k + 2]), 1);
        hi = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(X + 2 * idx[k + 1])), _mm_loadu_pd(X + 2 * idx[k + 3]), 1);
        *x0 = _mm256_unpacklo_pd(lo, hi);
        *x1 = _mm256_unpackhi_pd(lo, hi);
    } else {              /* (x_k, y_k, x_k+1, y_k+1), (x_k+2, ..): split into even and odd entries */
        lo = _mm256_loadu_pd(X + 2 * k);
        hi = _mm256_loadu_pd(X + 2 * k + 4);
        *x0 = _mm256_permute4x64_pd(_mm256_unpacklo_pd(lo, hi), 0xD8);
        *x1 = _mm256_permute4x64_pd(_mm256_unpackhi_pd(lo, hi), 0xD8);
    }
}

#  define rdg__plane rdg__plane4
#  define RDG__PLANE_SIMD 1
#else
#  define rdg__k_cov2 rdg__k_cov2_ref
#  define rdg__k_mom2 rdg__k_mom2_ref
#  define RDG__PLANE_SIMD 0
#endif

#if RDG__PLANE_SIMD
#  if RDG__VW == 8
/* out3 += the three sums' lanes, each reduced as _mm512_reduce_add_pd. */
RDG__PRIVATE void rdg__plane_sum3(__m512d a, __m512d b, __m512d c, rdg_real *out3) {
    out3[0] += rdg__vsum8_tree(a);
    out3[1] += rdg__vsum8_tree(b);
    out3[2] += rdg__vsum8_tree(c);
}
#  endif
/* One vector of points into the three second-moment sums (entries 00, 10, 11) of w c c^T, the
   step rdg__cov2_point and rdg__mom2_point take per point: a += c0 (w c0), b += c1 (w c0),
   c += c1 (w c1). */
RDG__VINLINE void rdg__plane_m3(rdg__v c0, rdg__v c1, rdg__v wk, rdg__v *a, rdg__v *b, rdg__v *c) {
    rdg__v wc0 = RDG__VMUL(wk, c0);
    *a = RDG__VFMA(c0, wc0, *a);
    *b = RDG__VFMA(c1, wc0, *b);
    *c = RDG__VFMA(c1, RDG__VMUL(wk, c1), *c);
}
/* The plane's vector kernels (AVX-512 and AVX2), a vector of kept points per step (rdg__plane).
   On AVX-512 eight partial sums per entry, reduced as _mm512_reduce_add_pd, the tail by the
   reference. On AVX2 lane l holds points l mod 4, so that each lane is the reference's partial
   sum l, formed by the same operations and added in the same order: the same bits as
   rdg__k_cov2_ref and rdg__k_wsum_small (scalar on AVX2 before: the covariance sums were 38 % of
   W1's time at d = 2, t = 0.01). */
RDG__PRIVATE void rdg__k_cov2_simd(const rdg_real *X, const size_t *idx, const rdg_real *wt, size_t P,
                                   const rdg_real *xr, const rdg_real *dm, rdg_real *out3) {
    rdg__v a = RDG__VSET(0.0), b = RDG__VSET(0.0), c = RDG__VSET(0.0);
    rdg__v r0 = RDG__VSET(xr[0]), r1 = RDG__VSET(xr[1]), m0 = RDG__VSET(dm[0]), m1 = RDG__VSET(dm[1]);
    size_t p = 0;
    for (; p + RDG__VW <= P; p += RDG__VW) {
        rdg__v x0, x1, wk = RDG__VLD(wt + p);
        rdg__plane(X, idx, p, &x0, &x1);
        rdg__plane_m3(RDG__VSUB(RDG__VSUB(x0, r0), m0), RDG__VSUB(RDG__VSUB(x1, r1), m1), wk, &a, &b, &c);
    }
#  if RDG__VW == 8
    rdg__plane_sum3(a, b, c, out3);
    if (p < P) rdg__k_cov2_ref(idx ? X : X + 2 * p, idx ? idx + p : NULL, wt + p, P - p, xr, dm, out3);
#  else
    {
        rdg_real abc[12];
        RDG__VST(abc, a); RDG__VST(abc + 4, b); RDG__VST(abc + 8, c);
        for (; p < P; ++p) rdg__cov2_point(X, idx, wt, p, xr, dm, abc);   /* the tail, as the reference */
        rdg__cov2_total(abc, out3);
    }
#  endif
}
#  define rdg__k_cov2 rdg__k_cov2_simd

/* rdg__k_mom2_ref a vector of points per step, in order (on AVX2 lane l is the reference's
   partial sum l, the same bits; on AVX-512 eight partial sums, reduced as rdg__k_wsum2_simd and
   rdg__k_cov2_simd reduce theirs, the tail by the reference). */
RDG__PRIVATE void rdg__k_mom2_simd(const rdg_real *X, const rdg_real *wt, size_t n, const rdg_real *xr,
                                   rdg_real *s2, rdg_real *m3) {
    rdg__v s0 = RDG__VSET(0.0), s1 = RDG__VSET(0.0), a = RDG__VSET(0.0), b = RDG__VSET(0.0), c = RDG__VSET(0.0);
    rdg__v r0 = RDG__VSET(xr[0]), r1 = RDG__VSET(xr[1]);
    size_t k = 0;
    for (; k + RDG__VW <= n; k += RDG__VW) {
        rdg__v x0, x1, wk = RDG__VLD(wt + k), u0, u1;
        rdg__plane(X, NULL, k, &x0, &x1);
        u0 = RDG__VSUB(x0, r0);
        u1 = RDG__VSUB(x1, r1);
        s0 = RDG__VFMA(wk, u0, s0);
        s1 = RDG__VFMA(wk, u1, s1);
        rdg__plane_m3(u0, u1, wk, &a, &b, &c);
    }
#  if RDG__VW == 8
    s2[0] += rdg__vsum8_tree(s0);
    s2[1] += rdg__vsum8_tree(s1);
    rdg__plane_sum3(a, b, c, m3);
    if (k < n) rdg__k_mom2_ref(X + 2 * k, wt + k, n - k, xr, s2, m3);
#  else
    {
        rdg_real sm[20];
        RDG__VST(sm, s0); RDG__VST(sm + 4, s1); RDG__VST(sm + 8, a); RDG__VST(sm + 12, b); RDG__VST(sm + 16, c);
        for (; k < n; ++k) rdg__mom2_point(X + k * 2, wt[k], xr, 0, sm);   /* the tail, as the reference */
        rdg__mom2_total(sm, s2, m3);
    }
#  endif
}
#  define rdg__k_mom2 rdg__k_mom2_simd

/* out += sum_k wt_k (x_{idx_k} - xr) for d = 2 (idx NULL: x_k); the tail into lane 0 on AVX2,
   as the reference. */
RDG__PRIVATE void rdg__k_wsum2_simd(const rdg_real *X, const size_t *idx, const rdg_real *wt, size_t nk,
                                    const rdg_real *xr, rdg_real *out) {
    rdg__v s0 = RDG__VSET(0.0), s1 = RDG__VSET(0.0), r0 = RDG__VSET(xr[0]), r1 = RDG__VSET(xr[1]);
    size_t k = 0;
    for (; k + RDG__VW <= nk; k += RDG__VW) {
        rdg__v x0, x1, wk = RDG__VLD(wt + k);
        rdg__plane(X, idx, k, &x0, &x1);
        s0 = RDG__VFMA(wk, RDG__VSUB(x0, r0), s0);
        s1 = RDG__VFMA(wk, RDG__VSUB(x1, r1), s1);
    }
#  if RDG__VW == 8
    out[0] += rdg__vsum8_tree(s0);
    out[1] += rdg__vsum8_tree(s1);
    if (k < nk) rdg__k_wsum_small(idx ? X : X + 2 * k, 2, idx ? idx + k : NULL, wt + k, nk - k, xr, out);
#  else
    {
        rdg_real t0[4], t1[4];
        RDG__VST(t0, s0); RDG__VST(t1, s1);
        for (; k < nk; ++k) {
            const rdg_real *xi = X + RDG__ROW(idx, k) * 2;
            t0[0] = RDG__FMA(wt[k], xi[0] - xr[0], t0[0]);
            t1[0] = RDG__FMA(wt[k], xi[1] - xr[1], t1[0]);
        }
        out[0] += (t0[0] + t0[1]) + (t0[2] + t0[3]);
        out[1] += (t1[0] + t1[1]) + (t1[2] + t1[3]);
    }
#  endif
}
#endif

/* acc[i dp + j] += sum_p A[p dp + i] B[p dp + j] for rows i >= r0 (all i < dp); lower != 0:
   only the vector blocks on or below the diagonal (j < (i / VW + 1) VW), enough for the lower
   triangle of a symmetric result. The reference does exactly the entries j <= i (lower) or all. */
RDG__PRIVATE void rdg__k_atb_ref(size_t P, size_t dp, size_t r0, const rdg_real *A, const rdg_real *B,
                                 rdg_real *acc, int lower) {
    size_t p, i, j;
    for (p = 0; p < P; ++p) {
        const rdg_real *Ap = A + p * dp, *Bp = B + p * dp;
        for (i = r0; i < dp; ++i) {
            rdg_real ai = Ap[i], *ri = acc + i * dp;
            size_t jend = lower ? i + 1 : dp;
            for (j = 0; j < jend; ++j) ri[j] += ai * Bp[j];
        }
    }
}

/* out[p dp + j] = sum_{i < d} A[p dp + i] V[i dp + j], p < P, j < nc (a row block times V's
   first nc columns; nc <= dp a whole number of vectors, rdg__pad; out's columns past it are
   left as they were). */
RDG__PRIVATE void rdg__k_ab_ref(size_t P, size_t dp, size_t nc, size_t d, const rdg_real *A, const rdg_real *V,
                                rdg_real *out) {
    size_t p, i, j;
    for (p = 0; p < P; ++p) {
        rdg_real *o = out + p * dp;
        const rdg_real *Ap = A + p * dp;
        for (j = 0; j < nc; ++j) o[j] = 0;
        for (i = 0; i < d; ++i) {
            rdg_real ai = Ap[i];
            const rdg_real *Vi = V + i * dp;
            for (j = 0; j < nc; ++j) o[j] += ai * Vi[j];
        }
    }
}

/* out[p] = A[p dp ..] . v for p < P (rows and v padded to dp with zeros). */
RDG__PRIVATE void rdg__k_rowdot_ref(size_t P, size_t dp, const rdg_real *A, const rdg_real *v, rdg_real *out) {
    size_t p, j;
    for (p = 0; p < P; ++p) {
        rdg_real sum = 0;
        for (j = 0; j < dp; ++j) sum += A[p * dp + j] * v[j];
        out[p] = sum;
    }
}

/* Jacobi rotation of two rows: x <- x - s (y + tau x), y <- y + s (x - tau y), n entries
   (Rutishauser's form of [c -s; s c] applied to the pair, see rdg__jacobi). */
RDG__PRIVATE void rdg__k_rot_ref(rdg_real *x, rdg_real *y, size_t n, rdg_real s, rdg_real tau) {
    size_t r;
    for (r = 0; r < n; ++r) {
        rdg_real xr = x[r], yr = y[r];
        x[r] = RDG__FMS(s, RDG__FMA(tau, xr, yr), xr);
        y[r] = RDG__FMA(s, RDG__FMS(tau, yr, xr), yr);
    }
}

#if RDG__VW > 1
/* exp for x <= 0 (the shifted log-weights): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2,
   then exp(r) = 1 + r + r^2 q(r) with q of degree 8 fitted for relative error on that interval
   (a near-minimax fit: 2.9e-16; evaluated in double, 5e-16 worst, against 1.7e-16 for the
   degree-12 Taylor series it replaced, at two fewer operations), evaluated by Estrin's scheme
   so that the chain after r is 5 operations deep instead of 12. Times 2^n. Below -708 (and
   for NaN) the result is 0 (such a weight is < 1e-307 of the largest). The coefficients are
   printed by tools/exp_fit.py (a reweighted least-squares fit at Chebyshev nodes). */
#  define RDG__EXPQ0 0.49999999999998318
#  define RDG__EXPQ1 0.16666666666611532
#  define RDG__EXPQ2 0.041666666668138966
#  define RDG__EXPQ3 0.0083333333708794938
#  define RDG__EXPQ4 0.0013888888515679585
#  define RDG__EXPQ5 0.00019841185224777786
#  define RDG__EXPQ6 2.480193220847521e-05
#  define RDG__EXPQ7 2.7634995188943377e-06
#  define RDG__EXPQ8 2.7476642200167263e-07
/* exp(x) for -708 <= x <= 709, not checked (rdg__vexp checks). */
RDG__VINLINE rdg__v rdg__vexp_in(rdg__v x) {
    rdg__v n, r, r2, r4, qa, qb, qc, qd, p;
#  if RDG__VW == 4
    /* n by the shifter 1.5 2^52 + 1023 in one FMA: the nearest integer to x log2 e (|x log2 e|
       < 2^51), and the low bits of its sum give n + 1023, 2^n's exponent field, without a
       conversion. Zen3, in a loop: 5 % faster than round and convert; with the FMA, the bias
       folded in and the range checks left to the callers that need them, rdg__k_expcut 12.4 ->
       11.4 cycles a vector (inlined). */
    const rdg__v shb = RDG__VSET(6755399441055744.0 + 1023.0);
    rdg__v nb = RDG__VFMA(x, RDG__VSET(1.4426950408889634), shb);
    n = RDG__VSUB(nb, shb);
#  else
    n = RDG__VROUND(RDG__VMUL(x, RDG__VSET(1.4426950408889634)));
#  endif
    r = RDG__VFNMA(n, RDG__VSET(6.93145751953125e-1), x);
    r = RDG__VFNMA(n, RDG__VSET(1.42860682030941723212e-6), r);
    r2 = RDG__VMUL(r, r);
    r4 = RDG__VMUL(r2, r2);
    qa = RDG__VFMA(RDG__VSET(RDG__EXPQ1), r, RDG__VSET(RDG__EXPQ0));
    qb = RDG__VFMA(RDG__VSET(RDG__EXPQ3), r, RDG__VSET(RDG__EXPQ2));
    qc = RDG__VFMA(RDG__VSET(RDG__EXPQ5), r, RDG__VSET(RDG__EXPQ4));
    qd = RDG__VFMA(RDG__VSET(RDG__EXPQ7), r, RDG__VSET(RDG__EXPQ6));
    qa = RDG__VFMA(qb, r2, qa);
    qc = RDG__VFMA(qd, r2, qc);
    qc = RDG__VFMA(RDG__VSET(RDG__EXPQ8), r4, qc);
    qa = RDG__VFMA(qc, r4, qa);
    p = RDG__VFMA(qa, r2, RDG__VADD(r, RDG__VSET(1.0)));
#  if RDG__VW == 8
    return _mm512_maskz_scalef_pd((__mmask8)0xFF, p, n);   /* maskz: g++ 12 warns on the unmasked form */
#  elif RDG__VW == 4
    return _mm256_mul_pd(p, _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(nb), 52)));
#  else
    return vmulq_f64(p, vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(vcvtnq_s64_f64(n), vdupq_n_s64(1023)), 52)));
#  endif
}

/* exp(x) for x <= 709; below -708 (and for NaN) 0. */
RDG__VINLINE rdg__v rdg__vexp(rdg__v x) {
    const rdg__v lo = RDG__VSET(-708.0);
    /* lanes with x >= lo (false for NaN) get exp(x), the others 0; below AVX-512, whose scale
       takes any n, x is clamped to lo so that the core sees no value out of its range */
#  if RDG__VW == 8
    return RDG__VKEEPGE(rdg__vexp_in(x), x, lo);
#  else
    return RDG__VKEEPGE(rdg__vexp_in(RDG__VMAX(x, lo)), x, lo);
#  endif
}

RDG__PRIVATE rdg_real rdg__vsum(rdg__v v) {
    rdg_real t[RDG__VW], s = 0;
    int l;
    RDG__VST(t, v);
    for (l = 0; l < RDG__VW; ++l) s += t[l];
    return s;
}

/* rdg__k_rowdot_ref with four rows at a time (four FMA chains) and whole vectors. */
RDG__PRIVATE void rdg__k_rowdot_simd(size_t P, size_t dp, const rdg_real *A, const rdg_real *v, rdg_real *out) {
    size_t p = 0, j;
    for (; p + 4 <= P; p += 4) {
        const rdg_real *a0 = A + p * dp, *a1 = a0 + dp, *a2 = a1 + dp, *a3 = a2 + dp;
        rdg__v s0 = RDG__VSET(0.0), s1 = s0, s2 = s0, s3 = s0;
        for (j = 0; j < dp; j += RDG__VW) {
            rdg__v vj = RDG__VLD(v + j);
            s0 = RDG__VFMA(RDG__VLD(a0 + j), vj, s0); s1 = RDG__VFMA(RDG__VLD(a1 + j), vj, s1);
            s2 = RDG__VFMA(RDG__VLD(a2 + j), vj, s2); s3 = RDG__VFMA(RDG__VLD(a3 + j), vj, s3);
        }
        out[p] = rdg__vsum(s0); out[p + 1] = rdg__vsum(s1); out[p + 2] = rdg__vsum(s2); out[p + 3] = rdg__vsum(s3);
    }
    for (; p < P; ++p) {
        rdg__v s0 = RDG__VSET(0.0);
        for (j = 0; j < dp; j += RDG__VW) s0 = RDG__VFMA(RDG__VLD(A + p * dp + j), RDG__VLD(v + j), s0);
        out[p] = rdg__vsum(s0);
    }
}

RDG__PRIVATE rdg_real rdg__k_dist_simd(const rdg_real *xt, size_t cnt, size_t d,
                                       const rdg_real *y, rdg_real a, rdg_real h, rdg_real *e) {
    size_t i = 0, j;
    rdg_real mx = -RDG__BIG, t[RDG__VW];
    rdg__v va = RDG__VSET(a), vh = RDG__VSET(-h), vmx = RDG__VSET(-RDG__BIG);
    int l;
    /* four vectors of points at a time (four FMA chains hide the FMA latency), then two; each
       point's sum over j runs in the same order in every block (and in rdg__k_dist_ref) */
#  if RDG__VW == 4
    /* AVX2: a whole panel (eight vectors) at a time first, eight FMA chains: four only just
       match two FMA units' latency with their FNMAs between (Zen3, 256 points at d = 32 in a
       loop: 9.9 -> 8.1 cycles a point, 8 the FMA units' bound; W3 end to end within noise,
       1.001 / 0.987 with tools/ab.sh in both placements) */
    for (; i + 8 * RDG__VW <= cnt && i % RDG__PANEL + 8 * RDG__VW <= RDG__PANEL; i += 8 * RDG__VW) {
        rdg__v s0 = RDG__VSET(0.0), s1 = RDG__VSET(0.0), s2 = RDG__VSET(0.0), s3 = RDG__VSET(0.0);
        rdg__v s4 = RDG__VSET(0.0), s5 = RDG__VSET(0.0), s6 = RDG__VSET(0.0), s7 = RDG__VSET(0.0);
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v yj = RDG__VSET(y[j]), dk;
#    define RDG__DK(k, sk) dk = RDG__VFNMA(va, RDG__VLD(row + (k) * RDG__VW), yj); sk = RDG__VFMA(dk, dk, sk);
            RDG__DK(0, s0) RDG__DK(1, s1) RDG__DK(2, s2) RDG__DK(3, s3)
            RDG__DK(4, s4) RDG__DK(5, s5) RDG__DK(6, s6) RDG__DK(7, s7)
#    undef RDG__DK
        }
        s0 = RDG__VMUL(s0, vh); s1 = RDG__VMUL(s1, vh); s2 = RDG__VMUL(s2, vh); s3 = RDG__VMUL(s3, vh);
        s4 = RDG__VMUL(s4, vh); s5 = RDG__VMUL(s5, vh); s6 = RDG__VMUL(s6, vh); s7 = RDG__VMUL(s7, vh);
        RDG__VST(e + i, s0); RDG__VST(e + i + 4, s1); RDG__VST(e + i + 8, s2); RDG__VST(e + i + 12, s3);
        RDG__VST(e + i + 16, s4); RDG__VST(e + i + 20, s5); RDG__VST(e + i + 24, s6); RDG__VST(e + i + 28, s7);
        vmx = RDG__VMAX(vmx, RDG__VMAX(RDG__VMAX(RDG__VMAX(s0, s1), RDG__VMAX(s2, s3)),
                                       RDG__VMAX(RDG__VMAX(s4, s5), RDG__VMAX(s6, s7))));
    }
#  endif
    for (; i + 4 * RDG__VW <= cnt; i += 4 * RDG__VW) {
        rdg__v s0 = RDG__VSET(0.0), s1 = RDG__VSET(0.0), s2 = RDG__VSET(0.0), s3 = RDG__VSET(0.0);
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v yj = RDG__VSET(y[j]);
            rdg__v d0 = RDG__VFNMA(va, RDG__VLD(row), yj), d1 = RDG__VFNMA(va, RDG__VLD(row + RDG__VW), yj);
            rdg__v d2 = RDG__VFNMA(va, RDG__VLD(row + 2 * RDG__VW), yj), d3 = RDG__VFNMA(va, RDG__VLD(row + 3 * RDG__VW), yj);
            s0 = RDG__VFMA(d0, d0, s0); s1 = RDG__VFMA(d1, d1, s1);
            s2 = RDG__VFMA(d2, d2, s2); s3 = RDG__VFMA(d3, d3, s3);
        }
        s0 = RDG__VMUL(s0, vh); s1 = RDG__VMUL(s1, vh); s2 = RDG__VMUL(s2, vh); s3 = RDG__VMUL(s3, vh);
        RDG__VST(e + i, s0); RDG__VST(e + i + RDG__VW, s1);
        RDG__VST(e + i + 2 * RDG__VW, s2); RDG__VST(e + i + 3 * RDG__VW, s3);
        vmx = RDG__VMAX(vmx, RDG__VMAX(RDG__VMAX(s0, s1), RDG__VMAX(s2, s3)));
    }
    for (; i + 2 * RDG__VW <= cnt; i += 2 * RDG__VW) {
        rdg__v s0 = RDG__VSET(0.0), s1 = RDG__VSET(0.0);
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v yj = RDG__VSET(y[j]);
            rdg__v d0 = RDG__VFNMA(va, RDG__VLD(row), yj), d1 = RDG__VFNMA(va, RDG__VLD(row + RDG__VW), yj);
            s0 = RDG__VFMA(d0, d0, s0);
            s1 = RDG__VFMA(d1, d1, s1);
        }
        s0 = RDG__VMUL(s0, vh); s1 = RDG__VMUL(s1, vh);
        RDG__VST(e + i, s0); RDG__VST(e + i + RDG__VW, s1);
        vmx = RDG__VMAX(vmx, RDG__VMAX(s0, s1));
    }
    for (; i + RDG__VW <= cnt; i += RDG__VW) {   /* one chain: the last vector of a padded set */
        rdg__v s0 = RDG__VSET(0.0);
        for (j = 0; j < d; ++j) {
            rdg__v d0 = RDG__VFNMA(va, RDG__VLD(RDG__PAN(xt, i, d) + j * RDG__PANEL), RDG__VSET(y[j]));
            s0 = RDG__VFMA(d0, d0, s0);
        }
        s0 = RDG__VMUL(s0, vh);
        RDG__VST(e + i, s0);
        vmx = RDG__VMAX(vmx, s0);
    }
    RDG__VST(t, vmx);
    for (l = 0; l < RDG__VW; ++l) if (t[l] > mx) mx = t[l];
    if (i < cnt) {
        rdg_real m2 = rdg__dist_panel(RDG__PAN(xt, i, d), cnt - i, d, y, a, h, e + i);
        if (m2 > mx) mx = m2;
    }
    return mx;
}

/* rdg__k_panrows_ref through in-register transposes of RDG__VW x RDG__VW blocks: RDG__VW
   rows' RDG__VW coordinates loaded as vectors, stored as RDG__VW panel rows (a scalar store
   per coordinate before: 46 % of the candidate-set build). A block of RDG__VW points never
   straddles two panels (RDG__VW divides RDG__PANEL). */
RDG__PRIVATE void rdg__k_panrows_simd(const rdg_real *X, size_t d, const size_t *idx, size_t m, size_t mp,
                                      rdg_real *xt) {
    size_t i = 0, j, l;
    for (; i + RDG__VW <= mp; i += RDG__VW) {
        const rdg_real *r[RDG__VW];
        rdg_real *pan = RDG__PAN(xt, i, d);
        for (l = 0; l < RDG__VW; ++l) r[l] = X + idx[i + l < m ? i + l : m - 1] * d;
        for (j = 0; j + RDG__VW <= d; j += RDG__VW) {
#  if RDG__VW == 8
            const __m512i pa = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0), pb = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
            __m512d r0 = _mm512_loadu_pd(r[0] + j), r1 = _mm512_loadu_pd(r[1] + j), r2 = _mm512_loadu_pd(r[2] + j);
            __m512d r3 = _mm512_loadu_pd(r[3] + j), r4 = _mm512_loadu_pd(r[4] + j), r5 = _mm512_loadu_pd(r[5] + j);
            __m512d r6 = _mm512_loadu_pd(r[6] + j), r7 = _mm512_loadu_pd(r[7] + j);
            /* pairs of rows interleaved (t0: columns 0 2 4 6 of rows 0, 1; t1: 1 3 5 7), then
               quads (u0: columns 0 and 4 of rows 0-3), then the halves of two quads */
            __m512d t0 = _mm512_maskz_unpacklo_pd(RDG__M8, r0, r1), t1 = _mm512_maskz_unpackhi_pd(RDG__M8, r0, r1);
            __m512d t2 = _mm512_maskz_unpacklo_pd(RDG__M8, r2, r3), t3 = _mm512_maskz_unpackhi_pd(RDG__M8, r2, r3);
            __m512d t4 = _mm512_maskz_unpacklo_pd(RDG__M8, r4, r5), t5 = _mm512_maskz_unpackhi_pd(RDG__M8, r4, r5);
            __m512d t6 = _mm512_maskz_unpacklo_pd(RDG__M8, r6, r7), t7 = _mm512_maskz_unpackhi_pd(RDG__M8, r6, r7);
            __m512d u0 = _mm512_permutex2var_pd(t0, pa, t2), u2 = _mm512_permutex2var_pd(t0, pb, t2);
            __m512d u1 = _mm512_permutex2var_pd(t1, pa, t3), u3 = _mm512_permutex2var_pd(t1, pb, t3);
            __m512d u4 = _mm512_permutex2var_pd(t4, pa, t6), u6 = _mm512_permutex2var_pd(t4, pb, t6);
            __m512d u5 = _mm512_permutex2var_pd(t5, pa, t7), u7 = _mm512_permutex2var_pd(t5, pb, t7);
            rdg_real *o = pan + j * RDG__PANEL;
            _mm512_storeu_pd(o, _mm512_maskz_shuffle_f64x2(RDG__M8, u0, u4, 0x44));
            _mm512_storeu_pd(o + RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u1, u5, 0x44));
            _mm512_storeu_pd(o + 2 * RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u2, u6, 0x44));
            _mm512_storeu_pd(o + 3 * RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u3, u7, 0x44));
            _mm512_storeu_pd(o + 4 * RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u0, u4, 0xEE));
            _mm512_storeu_pd(o + 5 * RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u1, u5, 0xEE));
            _mm512_storeu_pd(o + 6 * RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u2, u6, 0xEE));
            _mm512_storeu_pd(o + 7 * RDG__PANEL, _mm512_maskz_shuffle_f64x2(RDG__M8, u3, u7, 0xEE));
#  elif RDG__VW == 4
            __m256d r0 = _mm256_loadu_pd(r[0] + j), r1 = _mm256_loadu_pd(r[1] + j);
            __m256d r2 = _mm256_loadu_pd(r[2] + j), r3 = _mm256_loadu_pd(r[3] + j);
            __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
            __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
            rdg_real *o = pan + j * RDG__PANEL;
            _mm256_storeu_pd(o, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(o + RDG__PANEL, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(o + 2 * RDG__PANEL, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(o + 3 * RDG__PANEL, _mm256_permute2f128_pd(t1, t3, 0x31));
#  else
            float64x2_t r0 = vld1q_f64(r[0] + j), r1 = vld1q_f64(r[1] + j);
            vst1q_f64(pan + j * RDG__PANEL, vzip1q_f64(r0, r1));
            vst1q_f64(pan + (j + 1) * RDG__PANEL, vzip2q_f64(r0, r1));
#  endif
        }
        for (; j < d; ++j) for (l = 0; l < RDG__VW; ++l) pan[j * RDG__PANEL + l] = r[l][j];
    }
    if (i < mp) rdg__k_panrows_ref(X, d, idx, m, i, mp, xt);
}

RDG__PRIVATE rdg_real rdg__k_exp_simd(rdg_real *e, size_t n, rdg_real shift) {
    size_t k = 0;
    rdg__v acc = RDG__VSET(0.0), sh = RDG__VSET(shift);
    rdg_real s;
    for (; k + RDG__VW <= n; k += RDG__VW) {
        rdg__v v = rdg__vexp(RDG__VSUB(RDG__VLD(e + k), sh));
        RDG__VST(e + k, v);
        acc = RDG__VADD(acc, v);
    }
    s = rdg__vsum(acc);
    for (; k < n; ++k) { e[k] = RDG__EXP(e[k] - shift); s += e[k]; }
    return s;
}

RDG__PRIVATE void rdg__k_wsum_simd(const rdg_real *X, size_t d, const size_t *idx, const rdg_real *wt,
                                   size_t nk, const rdg_real *xr, rdg_real *out) {
    size_t k, j = 0, dv = d / RDG__VW * RDG__VW;
    for (; j + 4 * RDG__VW <= dv; j += 4 * RDG__VW) {   /* 4 vectors of columns in registers */
        rdg__v a0 = RDG__VLD(out + j), a1 = RDG__VLD(out + j + RDG__VW);
        rdg__v a2 = RDG__VLD(out + j + 2 * RDG__VW), a3 = RDG__VLD(out + j + 3 * RDG__VW);
        rdg__v r0 = RDG__VLD(xr + j), r1 = RDG__VLD(xr + j + RDG__VW);
        rdg__v r2 = RDG__VLD(xr + j + 2 * RDG__VW), r3 = RDG__VLD(xr + j + 3 * RDG__VW);
        /* points two at a time into two sets of sums (b: the odd ones), added at the end:
           four chains of 4-cycle FMAs issue one a cycle, half what the FMA units take */
        rdg__v b0 = RDG__VSET(0.0), b1 = b0, b2 = b0, b3 = b0;
        for (k = 0; k + 2 <= nk; k += 2) {
            const rdg_real *xi = X + idx[k] * d + j, *xo = X + idx[k + 1] * d + j;
            rdg__v w = RDG__VSET(wt[k]), u = RDG__VSET(wt[k + 1]);
            a0 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi), r0), a0);
            a1 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi + RDG__VW), r1), a1);
            a2 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi + 2 * RDG__VW), r2), a2);
            a3 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi + 3 * RDG__VW), r3), a3);
            b0 = RDG__VFMA(u, RDG__VSUB(RDG__VLD(xo), r0), b0);
            b1 = RDG__VFMA(u, RDG__VSUB(RDG__VLD(xo + RDG__VW), r1), b1);
            b2 = RDG__VFMA(u, RDG__VSUB(RDG__VLD(xo + 2 * RDG__VW), r2), b2);
            b3 = RDG__VFMA(u, RDG__VSUB(RDG__VLD(xo + 3 * RDG__VW), r3), b3);
        }
        if (k < nk) {
            const rdg_real *xi = X + idx[k] * d + j;
            rdg__v w = RDG__VSET(wt[k]);
            a0 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi), r0), a0);
            a1 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi + RDG__VW), r1), a1);
            a2 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi + 2 * RDG__VW), r2), a2);
            a3 = RDG__VFMA(w, RDG__VSUB(RDG__VLD(xi + 3 * RDG__VW), r3), a3);
        }
        RDG__VST(out + j, RDG__VADD(a0, b0)); RDG__VST(out + j + RDG__VW, RDG__VADD(a1, b1));
        RDG__VST(out + j + 2 * RDG__VW, RDG__VADD(a2, b2)); RDG__VST(out + j + 3 * RDG__VW, RDG__VADD(a3, b3));
    }
    for (; j < dv; j += RDG__VW) {
        rdg__v acc = RDG__VLD(out + j), r = RDG__VLD(xr + j), ac1 = RDG__VSET(0.0);
        for (k = 0; k + 2 <= nk; k += 2) {
            acc = RDG__VFMA(RDG__VSET(wt[k]), RDG__VSUB(RDG__VLD(X + idx[k] * d + j), r), acc);
            ac1 = RDG__VFMA(RDG__VSET(wt[k + 1]), RDG__VSUB(RDG__VLD(X + idx[k + 1] * d + j), r), ac1);
        }
        if (k < nk) acc = RDG__VFMA(RDG__VSET(wt[k]), RDG__VSUB(RDG__VLD(X + idx[k] * d + j), r), acc);
        RDG__VST(out + j, RDG__VADD(acc, ac1));
    }
    for (k = 0; k < nk && dv < d; ++k) {
        const rdg_real *xi = X + idx[k] * d;
        for (j = dv; j < d; ++j) out[j] += wt[k] * (xi[j] - xr[j]);
    }
}

/* Row q of a one-vector tile at c (rows dp apart): load, one step against b, store. */
#define RDG__R1LD(q) rdg__v c##q = RDG__VLD(c + q * dp)
#define RDG__R1FMA(q) c##q = RDG__VFMA(RDG__VSET(a[q]), b, c##q)
#define RDG__R1ST(q) RDG__VST(c + q * dp, c##q)
/* row q (ld apart) of a tile of two vectors of columns at c: load; one step, the broadcast of
   a[q] (into s) against b0, b1; store */
#define RDG__R2LD(q, ld) rdg__v c##q##0 = RDG__VLD(c + q * (ld)), c##q##1 = RDG__VLD(c + q * (ld) + RDG__VW)
#define RDG__R2FMA(q) s = RDG__VSET(a[q]); c##q##0 = RDG__VFMA(s, b0, c##q##0); c##q##1 = RDG__VFMA(s, b1, c##q##1)
#define RDG__R2ST(q, ld) RDG__VST(c + q * (ld), c##q##0); RDG__VST(c + q * (ld) + RDG__VW, c##q##1)
/* 8 rows x 1 vector of columns per register tile: one vector load of B and 8 broadcasts of A
   feed 8 independent FMA chains. */
RDG__PRIVATE void rdg__k_atb_8x1(size_t P, size_t dp, const rdg_real *A, const rdg_real *B, rdg_real *acc,
                                 size_t i, size_t v) {
    rdg_real *c = acc + i * dp + v;
    size_t p;
    RDG__R1LD(0); RDG__R1LD(1); RDG__R1LD(2); RDG__R1LD(3); RDG__R1LD(4); RDG__R1LD(5); RDG__R1LD(6); RDG__R1LD(7);
    for (p = 0; p < P; ++p) {
        const rdg_real *a = A + p * dp + i;
        rdg__v b = RDG__VLD(B + p * dp + v);
        RDG__INREG(b);
        RDG__R1FMA(0); RDG__R1FMA(1); RDG__R1FMA(2); RDG__R1FMA(3); RDG__R1FMA(4); RDG__R1FMA(5); RDG__R1FMA(6); RDG__R1FMA(7);
    }
    RDG__R1ST(0); RDG__R1ST(1); RDG__R1ST(2); RDG__R1ST(3); RDG__R1ST(4); RDG__R1ST(5); RDG__R1ST(6); RDG__R1ST(7);
}

RDG__PRIVATE void rdg__k_atb_simd(size_t P, size_t dp, size_t r0, const rdg_real *A, const rdg_real *B,
                                  rdg_real *acc, int lower) {
    size_t v = 0, i, p;
#if RDG__VW == 8
    /* with 32 vector registers: 8 rows x 2 vectors of acc per pass over the tile, 10 loads
       for 16 FMAs (the 8 x 1 tile below needs 9 for 8); the same FMAs in the same order */
    for (; v + 2 * RDG__VW <= dp; v += 2 * RDG__VW) {
        i = (lower && v > r0) ? v : r0;
        if (lower && i == v && i + 8 <= dp) {
            /* the diagonal's 8 rows: their second vector of columns is above the diagonal
               (1/6 of the lower product's FMAs at dp = 32) */
            rdg__k_atb_8x1(P, dp, A, B, acc, i, v);
            i += 8;
        }
        for (; i + 8 <= dp; i += 8) {
            rdg_real *c = acc + i * dp + v;
            rdg__v c00 = RDG__VLD(c), c01 = RDG__VLD(c + RDG__VW), c10 = RDG__VLD(c + dp), c11 = RDG__VLD(c + dp + RDG__VW);
            rdg__v c20 = RDG__VLD(c + 2 * dp), c21 = RDG__VLD(c + 2 * dp + RDG__VW), c30 = RDG__VLD(c + 3 * dp), c31 = RDG__VLD(c + 3 * dp + RDG__VW);
            rdg__v c40 = RDG__VLD(c + 4 * dp), c41 = RDG__VLD(c + 4 * dp + RDG__VW), c50 = RDG__VLD(c + 5 * dp), c51 = RDG__VLD(c + 5 * dp + RDG__VW);
            rdg__v c60 = RDG__VLD(c + 6 * dp), c61 = RDG__VLD(c + 6 * dp + RDG__VW), c70 = RDG__VLD(c + 7 * dp), c71 = RDG__VLD(c + 7 * dp + RDG__VW);
            for (p = 0; p < P; ++p) {
                const rdg_real *a = A + p * dp + i;
                rdg__v b0 = RDG__VLD(B + p * dp + v), b1 = RDG__VLD(B + p * dp + v + RDG__VW), s;
                RDG__INREG(b0); RDG__INREG(b1);
                s = RDG__VSET(a[0]); c00 = RDG__VFMA(s, b0, c00); c01 = RDG__VFMA(s, b1, c01);
                s = RDG__VSET(a[1]); c10 = RDG__VFMA(s, b0, c10); c11 = RDG__VFMA(s, b1, c11);
                s = RDG__VSET(a[2]); c20 = RDG__VFMA(s, b0, c20); c21 = RDG__VFMA(s, b1, c21);
                s = RDG__VSET(a[3]); c30 = RDG__VFMA(s, b0, c30); c31 = RDG__VFMA(s, b1, c31);
                s = RDG__VSET(a[4]); c40 = RDG__VFMA(s, b0, c40); c41 = RDG__VFMA(s, b1, c41);
                s = RDG__VSET(a[5]); c50 = RDG__VFMA(s, b0, c50); c51 = RDG__VFMA(s, b1, c51);
                s = RDG__VSET(a[6]); c60 = RDG__VFMA(s, b0, c60); c61 = RDG__VFMA(s, b1, c61);
                s = RDG__VSET(a[7]); c70 = RDG__VFMA(s, b0, c70); c71 = RDG__VFMA(s, b1, c71);
            }
            RDG__VST(c, c00); RDG__VST(c + RDG__VW, c01); RDG__VST(c + dp, c10); RDG__VST(c + dp + RDG__VW, c11);
            RDG__VST(c + 2 * dp, c20); RDG__VST(c + 2 * dp + RDG__VW, c21); RDG__VST(c + 3 * dp, c30); RDG__VST(c + 3 * dp + RDG__VW, c31);
            RDG__VST(c + 4 * dp, c40); RDG__VST(c + 4 * dp + RDG__VW, c41); RDG__VST(c + 5 * dp, c50); RDG__VST(c + 5 * dp + RDG__VW, c51);
            RDG__VST(c + 6 * dp, c60); RDG__VST(c + 6 * dp + RDG__VW, c61); RDG__VST(c + 7 * dp, c70); RDG__VST(c + 7 * dp + RDG__VW, c71);
        }
        for (; i < dp; ++i) {
            rdg_real *c = acc + i * dp + v;
            rdg__v c0 = RDG__VLD(c), c1 = RDG__VLD(c + RDG__VW);
            for (p = 0; p < P; ++p) {
                rdg__v s = RDG__VSET(A[p * dp + i]);
                c0 = RDG__VFMA(s, RDG__VLD(B + p * dp + v), c0);
                c1 = RDG__VFMA(s, RDG__VLD(B + p * dp + v + RDG__VW), c1);
            }
            RDG__VST(c, c0); RDG__VST(c + RDG__VW, c1);
        }
    }
#elif RDG__VW == 4
    /* AVX2 (16 registers): 6 rows x 2 vectors of acc per pass, 12 FMA chains (the 8 x 1 tile's
       8 only just cover two FMA units' latency) fed by 2 loads and 6 broadcasts; then 4 x 2
       and single rows, eight rows left going to two 4 x 2 tiles, not 6 x 2 and two single rows
       of two chains each. Lower: a strip's first eight rows (the diagonal's) are one tile in
       which rows 0-3 take the first vector alone (the second lies above the diagonal), 12
       chains. Every entry's sum runs over p in order, as in any tile: the same FMAs, the same
       bits. (Zen3, the lower product of a tile of 64 points in a loop: 75 -> 85 % of the
       FMA peak at dp = 32, 77 -> 82 % at dp = 64, where the diagonal's rows had a 4 x 1 tile
       of 4 chains; before that, W1's Hessian at t = 5: the single rows left by 8 x 1 tiles of
       one-vector strips, one FMA chain each, took a third of the kernel's time.) */
    for (; v + 2 * RDG__VW <= dp; v += 2 * RDG__VW) {
        i = (lower && v > r0) ? v : r0;
#  define RDG__R2STEP(body) const rdg_real *a = A + p * dp + i; \
                rdg__v b0 = RDG__VLD(B + p * dp + v), b1 = RDG__VLD(B + p * dp + v + 4), s; \
                RDG__INREG(b0); RDG__INREG(b1); body
        if (lower && i == v) {
            /* the strip's first 8 rows (the diagonal's) in one tile: rows 0-3 take the first
               vector alone (the second lies above the diagonal), rows 4-7 both: 12 FMA chains,
               where the first four rows alone, 4 x 1, had 4 at half speed (a ninth of the
               lower product's FMAs at dp = 32) */
            rdg_real *c = acc + i * dp + v;
            RDG__R1LD(0); RDG__R1LD(1); RDG__R1LD(2); RDG__R1LD(3);
            RDG__R2LD(4, dp); RDG__R2LD(5, dp); RDG__R2LD(6, dp); RDG__R2LD(7, dp);
            for (p = 0; p < P; ++p) {
                RDG__R2STEP(rdg__v b = b0; RDG__R1FMA(0); RDG__R1FMA(1); RDG__R1FMA(2); RDG__R1FMA(3);
                            RDG__R2FMA(4); RDG__R2FMA(5); RDG__R2FMA(6); RDG__R2FMA(7);)
            }
            RDG__R1ST(0); RDG__R1ST(1); RDG__R1ST(2); RDG__R1ST(3);
            RDG__R2ST(4, dp); RDG__R2ST(5, dp); RDG__R2ST(6, dp); RDG__R2ST(7, dp);
            i += 8;
        }
        for (; i + 6 <= dp && dp - i != 8; i += 6) {   /* 8 rows: two 4-row tiles, not 6 + 2 single */
            rdg_real *c = acc + i * dp + v;
            RDG__R2LD(0, dp); RDG__R2LD(1, dp); RDG__R2LD(2, dp); RDG__R2LD(3, dp); RDG__R2LD(4, dp); RDG__R2LD(5, dp);
            for (p = 0; p < P; ++p) {
                RDG__R2STEP(RDG__R2FMA(0); RDG__R2FMA(1); RDG__R2FMA(2); RDG__R2FMA(3); RDG__R2FMA(4); RDG__R2FMA(5);)
            }
            RDG__R2ST(0, dp); RDG__R2ST(1, dp); RDG__R2ST(2, dp); RDG__R2ST(3, dp); RDG__R2ST(4, dp); RDG__R2ST(5, dp);
        }
        for (; i + 4 <= dp; i += 4) {
            rdg_real *c = acc + i * dp + v;
            RDG__R2LD(0, dp); RDG__R2LD(1, dp); RDG__R2LD(2, dp); RDG__R2LD(3, dp);
            for (p = 0; p < P; ++p) {
                RDG__R2STEP(RDG__R2FMA(0); RDG__R2FMA(1); RDG__R2FMA(2); RDG__R2FMA(3);)
            }
            RDG__R2ST(0, dp); RDG__R2ST(1, dp); RDG__R2ST(2, dp); RDG__R2ST(3, dp);
        }
#  undef RDG__R2STEP
        for (; i < dp; ++i) {
            rdg_real *c = acc + i * dp + v;
            rdg__v c0 = RDG__VLD(c), c1 = RDG__VLD(c + 4);
            for (p = 0; p < P; ++p) {
                rdg__v s = RDG__VSET(A[p * dp + i]);
                c0 = RDG__VFMA(s, RDG__VLD(B + p * dp + v), c0);
                c1 = RDG__VFMA(s, RDG__VLD(B + p * dp + v + 4), c1);
            }
            RDG__VST(c, c0); RDG__VST(c + 4, c1);
        }
    }
#endif
    for (; v < dp; v += RDG__VW) {
        i = (lower && v > r0) ? v : r0;
        for (; i + 8 <= dp; i += 8) rdg__k_atb_8x1(P, dp, A, B, acc, i, v);
        for (; i < dp; ++i) {
            rdg_real *c = acc + i * dp + v;
            rdg__v c0 = RDG__VLD(c);
            for (p = 0; p < P; ++p) c0 = RDG__VFMA(RDG__VSET(A[p * dp + i]), RDG__VLD(B + p * dp + v), c0);
            RDG__VST(c, c0);
        }
    }
}

RDG__PRIVATE void rdg__k_ab_simd(size_t P, size_t dp, size_t nc, size_t d, const rdg_real *A, const rdg_real *V,
                                 rdg_real *out) {
    size_t p = 0, i, v;
#  if RDG__VW == 4
    /* AVX2 (16 registers): 6 rows x 2 vectors first, 12 FMA chains where the 4 x 2 tile's 8
       only just cover two FMA units' latency, over the first 12 floor(P / 12) rows, so that the
       same rows as before are left to the 4-row tiles' remainder (the same bits) */
    for (; p + 6 <= P - P % 12; p += 6) {
        const rdg_real *a0 = A + p * dp, *a1 = a0 + dp, *a2 = a1 + dp, *a3 = a2 + dp, *a4 = a3 + dp, *a5 = a4 + dp;
        for (v = 0; v + 8 <= nc; v += 8) {
            rdg__v o00 = RDG__VSET(0.0), o01 = o00, o10 = o00, o11 = o00, o20 = o00, o21 = o00;
            rdg__v o30 = o00, o31 = o00, o40 = o00, o41 = o00, o50 = o00, o51 = o00;
            for (i = 0; i < d; ++i) {
                rdg__v b0 = RDG__VLD(V + i * dp + v), b1 = RDG__VLD(V + i * dp + v + 4), s;
                RDG__INREG(b0); RDG__INREG(b1);
                s = RDG__VSET(a0[i]); o00 = RDG__VFMA(s, b0, o00); o01 = RDG__VFMA(s, b1, o01);
                s = RDG__VSET(a1[i]); o10 = RDG__VFMA(s, b0, o10); o11 = RDG__VFMA(s, b1, o11);
                s = RDG__VSET(a2[i]); o20 = RDG__VFMA(s, b0, o20); o21 = RDG__VFMA(s, b1, o21);
                s = RDG__VSET(a3[i]); o30 = RDG__VFMA(s, b0, o30); o31 = RDG__VFMA(s, b1, o31);
                s = RDG__VSET(a4[i]); o40 = RDG__VFMA(s, b0, o40); o41 = RDG__VFMA(s, b1, o41);
                s = RDG__VSET(a5[i]); o50 = RDG__VFMA(s, b0, o50); o51 = RDG__VFMA(s, b1, o51);
            }
            RDG__VST(out + p * dp + v, o00); RDG__VST(out + p * dp + v + 4, o01);
            RDG__VST(out + (p + 1) * dp + v, o10); RDG__VST(out + (p + 1) * dp + v + 4, o11);
            RDG__VST(out + (p + 2) * dp + v, o20); RDG__VST(out + (p + 2) * dp + v + 4, o21);
            RDG__VST(out + (p + 3) * dp + v, o30); RDG__VST(out + (p + 3) * dp + v + 4, o31);
            RDG__VST(out + (p + 4) * dp + v, o40); RDG__VST(out + (p + 4) * dp + v + 4, o41);
            RDG__VST(out + (p + 5) * dp + v, o50); RDG__VST(out + (p + 5) * dp + v + 4, o51);
        }
        for (; v < nc; v += 4) {
            rdg__v o0 = RDG__VSET(0.0), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0;
            for (i = 0; i < d; ++i) {
                rdg__v b0 = RDG__VLD(V + i * dp + v);
                RDG__INREG(b0);
                o0 = RDG__VFMA(RDG__VSET(a0[i]), b0, o0); o1 = RDG__VFMA(RDG__VSET(a1[i]), b0, o1);
                o2 = RDG__VFMA(RDG__VSET(a2[i]), b0, o2); o3 = RDG__VFMA(RDG__VSET(a3[i]), b0, o3);
                o4 = RDG__VFMA(RDG__VSET(a4[i]), b0, o4); o5 = RDG__VFMA(RDG__VSET(a5[i]), b0, o5);
            }
            RDG__VST(out + p * dp + v, o0); RDG__VST(out + (p + 1) * dp + v, o1); RDG__VST(out + (p + 2) * dp + v, o2);
            RDG__VST(out + (p + 3) * dp + v, o3); RDG__VST(out + (p + 4) * dp + v, o4); RDG__VST(out + (p + 5) * dp + v, o5);
        }
    }
#  endif
    for (; p + 4 <= P; p += 4) {             /* 4 rows x 2 vectors per register tile */
        const rdg_real *a0 = A + p * dp, *a1 = a0 + dp, *a2 = a1 + dp, *a3 = a2 + dp;
        for (v = 0; v + 2 * RDG__VW <= nc; v += 2 * RDG__VW) {
            rdg__v o00 = RDG__VSET(0.0), o01 = o00, o10 = o00, o11 = o00, o20 = o00, o21 = o00, o30 = o00, o31 = o00;
            for (i = 0; i < d; ++i) {
                rdg__v b0 = RDG__VLD(V + i * dp + v), b1 = RDG__VLD(V + i * dp + v + RDG__VW);
                rdg__v s;
                RDG__INREG(b0); RDG__INREG(b1);
                s = RDG__VSET(a0[i]); o00 = RDG__VFMA(s, b0, o00); o01 = RDG__VFMA(s, b1, o01);
                s = RDG__VSET(a1[i]); o10 = RDG__VFMA(s, b0, o10); o11 = RDG__VFMA(s, b1, o11);
                s = RDG__VSET(a2[i]); o20 = RDG__VFMA(s, b0, o20); o21 = RDG__VFMA(s, b1, o21);
                s = RDG__VSET(a3[i]); o30 = RDG__VFMA(s, b0, o30); o31 = RDG__VFMA(s, b1, o31);
            }
            RDG__VST(out + p * dp + v, o00); RDG__VST(out + p * dp + v + RDG__VW, o01);
            RDG__VST(out + (p + 1) * dp + v, o10); RDG__VST(out + (p + 1) * dp + v + RDG__VW, o11);
            RDG__VST(out + (p + 2) * dp + v, o20); RDG__VST(out + (p + 2) * dp + v + RDG__VW, o21);
            RDG__VST(out + (p + 3) * dp + v, o30); RDG__VST(out + (p + 3) * dp + v + RDG__VW, o31);
        }
        for (; v < nc; v += RDG__VW) {
            rdg__v o0 = RDG__VSET(0.0), o1 = o0, o2 = o0, o3 = o0;
            for (i = 0; i < d; ++i) {
                rdg__v b0 = RDG__VLD(V + i * dp + v);
                RDG__INREG(b0);
                o0 = RDG__VFMA(RDG__VSET(a0[i]), b0, o0); o1 = RDG__VFMA(RDG__VSET(a1[i]), b0, o1);
                o2 = RDG__VFMA(RDG__VSET(a2[i]), b0, o2); o3 = RDG__VFMA(RDG__VSET(a3[i]), b0, o3);
            }
            RDG__VST(out + p * dp + v, o0); RDG__VST(out + (p + 1) * dp + v, o1);
            RDG__VST(out + (p + 2) * dp + v, o2); RDG__VST(out + (p + 3) * dp + v, o3);
        }
    }
    if (p < P) rdg__k_ab_ref(P - p, dp, nc, d, A + p * dp, V, out + p * dp);
}
RDG__PRIVATE void rdg__k_rot_simd(rdg_real *x, rdg_real *y, size_t n, rdg_real s, rdg_real tau) {
    size_t r = 0;
    rdg__v vs = RDG__VSET(s), vt = RDG__VSET(tau);
    for (; r + RDG__VW <= n; r += RDG__VW) {
        rdg__v xr = RDG__VLD(x + r), yr = RDG__VLD(y + r);
        RDG__VST(x + r, RDG__VFNMA(vs, RDG__VFMA(vt, xr, yr), xr));
        RDG__VST(y + r, RDG__VFMA(vs, RDG__VFNMA(vt, yr, xr), yr));
    }
    if (r < n) rdg__k_rot_ref(x + r, y + r, n - r, s, tau);
}
RDG__PRIVATE rdg_real rdg__k_dot_simd(const rdg_real *xt, const rdg_real *xx, size_t cnt, size_t d,
                                      const rdg_real *y, rdg_real c1, rdg_real c2, rdg_real c0, rdg_real *e) {
    size_t i = 0, j;
    rdg_real mx = -RDG__BIG, t[RDG__VW];
    rdg__v v1 = RDG__VSET(c1), v2 = RDG__VSET(c2), v0 = RDG__VSET(c0), z = RDG__VSET(0.0), vmx = RDG__VSET(-RDG__BIG);
    int l;
    for (; i + 4 * RDG__VW <= cnt; i += 4 * RDG__VW) {   /* four independent FMA chains */
        rdg__v s0 = z, s1 = z, s2 = z, s3 = z, r;
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v yj = RDG__VSET(y[j]);
            s0 = RDG__VFMA(yj, RDG__VLD(row), s0);
            s1 = RDG__VFMA(yj, RDG__VLD(row + RDG__VW), s1);
            s2 = RDG__VFMA(yj, RDG__VLD(row + 2 * RDG__VW), s2);
            s3 = RDG__VFMA(yj, RDG__VLD(row + 3 * RDG__VW), s3);
        }
#  define RDG__DOT_OUT(sv, o) \
        r = RDG__VSUB(RDG__VFNMA(v2, RDG__VLD(xx + i + (o)), RDG__VMUL(v1, sv)), v0); \
        r = RDG__VMIN(r, z); RDG__VST(e + i + (o), r); vmx = RDG__VMAX(vmx, r);
        RDG__DOT_OUT(s0, 0) RDG__DOT_OUT(s1, RDG__VW) RDG__DOT_OUT(s2, 2 * RDG__VW) RDG__DOT_OUT(s3, 3 * RDG__VW)
#  undef RDG__DOT_OUT
    }
    RDG__VST(t, vmx);
    for (l = 0; l < RDG__VW; ++l) if (t[l] > mx) mx = t[l];
    if (i < cnt) {
        rdg_real m2 = rdg__dot_panel(RDG__PAN(xt, i, d), xx + i, cnt - i, d, y, c1, c2, c0, e + i);
        if (m2 > mx) mx = m2;
    }
    return mx;
}
RDG__PRIVATE void rdg__k_distq_simd(const rdg_real *xt, size_t cnt, size_t d, const rdg_real *const *y,
                                    rdg_real a, rdg_real h, rdg_real *const *e, rdg_real *mx) {
    size_t i = 0, j;
    rdg__v va = RDG__VSET(a), vh = RDG__VSET(-h), vm[RDG__QB];
    rdg_real t[RDG__VW];
    int q, l;
    for (q = 0; q < RDG__QB; ++q) vm[q] = RDG__VSET(-RDG__BIG);
    for (; i + 2 * RDG__VW <= cnt; i += 2 * RDG__VW) {
        rdg__v s00 = RDG__VSET(0.0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v p0 = RDG__VLD(row), p1 = RDG__VLD(row + RDG__VW), yj, d0, d1;
            RDG__INREG(p0); RDG__INREG(p1);
#  define RDG__DQ(q, sa, sb) yj = RDG__VSET(y[q][j]); d0 = RDG__VFNMA(va, p0, yj); d1 = RDG__VFNMA(va, p1, yj); \
            sa = RDG__VFMA(d0, d0, sa); sb = RDG__VFMA(d1, d1, sb);
            RDG__DQ(0, s00, s01) RDG__DQ(1, s10, s11) RDG__DQ(2, s20, s21) RDG__DQ(3, s30, s31)
#  undef RDG__DQ
        }
#  define RDG__DQOUT(q, sa, sb) sa = RDG__VMUL(sa, vh); sb = RDG__VMUL(sb, vh); RDG__VST(e[q] + i, sa); \
        RDG__VST(e[q] + i + RDG__VW, sb); vm[q] = RDG__VMAX(vm[q], RDG__VMAX(sa, sb));
        RDG__DQOUT(0, s00, s01) RDG__DQOUT(1, s10, s11) RDG__DQOUT(2, s20, s21) RDG__DQOUT(3, s30, s31)
#  undef RDG__DQOUT
    }
    for (q = 0; q < RDG__QB; ++q) {
        RDG__VST(t, vm[q]);
        for (l = 0; l < RDG__VW; ++l) if (t[l] > mx[q]) mx[q] = t[l];
        if (i < cnt) {
            rdg_real m2 = rdg__dist_panel(RDG__PAN(xt, i, d), cnt - i, d, y[q], a, h, e[q] + i);
            if (m2 > mx[q]) mx[q] = m2;
        }
    }
}
RDG__PRIVATE rdg_real rdg__k_expcut_simd(rdg_real *e, size_t n, rdg_real shift, rdg_real cut) {
    size_t k = 0;
    rdg__v acc = RDG__VSET(0.0), sh = RDG__VSET(shift), vc = RDG__VSET(cut);
    rdg_real s;
    /* the lanes kept have e_k - shift >= cut - shift: when that is >= -708 (the cut at most 708
       below the shift, as with the default drop of 40), they need no range check; the lanes
       below the cut are zeroed whatever the core made of them. The same values as the checked
       loop below. */
    if (cut - shift >= RDG__R(-708.0))
        for (; k + RDG__VW <= n; k += RDG__VW) {
            rdg__v x = RDG__VLD(e + k), v = RDG__VKEEPGE(rdg__vexp_in(RDG__VSUB(x, sh)), x, vc);
            RDG__VST(e + k, v);
            acc = RDG__VADD(acc, v);
        }
    for (; k + RDG__VW <= n; k += RDG__VW) {
        rdg__v x = RDG__VLD(e + k), v = RDG__VKEEPGE(rdg__vexp(RDG__VSUB(x, sh)), x, vc);
        RDG__VST(e + k, v);
        acc = RDG__VADD(acc, v);
    }
    s = rdg__vsum(acc);
    for (; k < n; ++k) { e[k] = e[k] >= cut ? RDG__EXP(e[k] - shift) : 0; s += e[k]; }
    return s;
}

#  if RDG__VW == 8
/* One step of a 4 x 4 register tile (AVX-512): query q's accumulators acc<q>0 .. acc<q>3 take
   bc p0 .. bc p3, for the four vectors p0 .. p3 loaded at this step. */
#    define RDG__TILE4(acc, q, bc) do { rdg__v b_ = (bc); acc##q##0 = RDG__VFMA(b_, p0, acc##q##0); \
        acc##q##1 = RDG__VFMA(b_, p1, acc##q##1); acc##q##2 = RDG__VFMA(b_, p2, acc##q##2); \
        acc##q##3 = RDG__VFMA(b_, p3, acc##q##3); } while (0)
#  endif
RDG__PRIVATE void rdg__k_dotq_simd(const rdg_real *xt, const rdg_real *xx, size_t cnt, size_t d,
                                   const rdg_real *const *y, rdg_real c1, rdg_real c2, const rdg_real *c0,
                                   rdg_real *const *e, rdg_real *mx) {
    size_t i = 0, j;
    rdg__v v1 = RDG__VSET(c1), v2 = RDG__VSET(c2), z = RDG__VSET(0.0), vm[RDG__QB];
    rdg_real t[RDG__VW];
    int q, l;
    for (q = 0; q < RDG__QB; ++q) vm[q] = RDG__VSET(-RDG__BIG);
#  if RDG__VW == 8
    /* AVX-512 (32 registers): 4 vectors of points x 4 queries, 16 accumulators, so that the
       FMA latency is hidden and a load feeds four FMAs; each point's sum over j runs in the
       same order as below (bit-identical). Blocks of 4 (or 2) vectors never straddle two
       panels (RDG__PANEL is a multiple of 4 RDG__VW), and the points left after them lie in the
       last panel. */
    for (; i + 4 * RDG__VW <= cnt; i += 4 * RDG__VW) {
        rdg__v s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        rdg__v s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z, r, xv;
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v p0 = RDG__VLD(row), p1 = RDG__VLD(row + 8), p2 = RDG__VLD(row + 16), p3 = RDG__VLD(row + 24);
            RDG__INREG(p0); RDG__INREG(p1); RDG__INREG(p2); RDG__INREG(p3);
            RDG__TILE4(s, 0, RDG__VSET(y[0][j])); RDG__TILE4(s, 1, RDG__VSET(y[1][j]));
            RDG__TILE4(s, 2, RDG__VSET(y[2][j])); RDG__TILE4(s, 3, RDG__VSET(y[3][j]));
        }
#    define RDG__DQ4OUT(q, sa, off) xv = RDG__VLD(xx + i + (off)); \
        r = RDG__VMIN(RDG__VSUB(RDG__VFNMA(v2, xv, RDG__VMUL(v1, sa)), RDG__VSET(c0[q])), z); \
        RDG__VST(e[q] + i + (off), r); vm[q] = RDG__VMAX(vm[q], r);
        RDG__DQ4OUT(0, s00, 0) RDG__DQ4OUT(0, s01, 8) RDG__DQ4OUT(0, s02, 16) RDG__DQ4OUT(0, s03, 24)
        RDG__DQ4OUT(1, s10, 0) RDG__DQ4OUT(1, s11, 8) RDG__DQ4OUT(1, s12, 16) RDG__DQ4OUT(1, s13, 24)
        RDG__DQ4OUT(2, s20, 0) RDG__DQ4OUT(2, s21, 8) RDG__DQ4OUT(2, s22, 16) RDG__DQ4OUT(2, s23, 24)
        RDG__DQ4OUT(3, s30, 0) RDG__DQ4OUT(3, s31, 8) RDG__DQ4OUT(3, s32, 16) RDG__DQ4OUT(3, s33, 24)
#    undef RDG__DQ4OUT
    }
#  endif
    for (; i + 2 * RDG__VW <= cnt; i += 2 * RDG__VW) {   /* 2 vectors of points x 4 queries */
        rdg__v s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z, r, x0, x1;
        for (j = 0; j < d; ++j) {
            const rdg_real *row = RDG__PAN(xt, i, d) + j * RDG__PANEL;
            rdg__v p0 = RDG__VLD(row), p1 = RDG__VLD(row + RDG__VW), yj;
            RDG__INREG(p0); RDG__INREG(p1);
            yj = RDG__VSET(y[0][j]); s00 = RDG__VFMA(yj, p0, s00); s01 = RDG__VFMA(yj, p1, s01);
            yj = RDG__VSET(y[1][j]); s10 = RDG__VFMA(yj, p0, s10); s11 = RDG__VFMA(yj, p1, s11);
            yj = RDG__VSET(y[2][j]); s20 = RDG__VFMA(yj, p0, s20); s21 = RDG__VFMA(yj, p1, s21);
            yj = RDG__VSET(y[3][j]); s30 = RDG__VFMA(yj, p0, s30); s31 = RDG__VFMA(yj, p1, s31);
        }
        x0 = RDG__VLD(xx + i); x1 = RDG__VLD(xx + i + RDG__VW);
#  define RDG__DOTQ_OUT(q, sa, sb) \
        r = RDG__VMIN(RDG__VSUB(RDG__VFNMA(v2, x0, RDG__VMUL(v1, sa)), RDG__VSET(c0[q])), z); \
        RDG__VST(e[q] + i, r); vm[q] = RDG__VMAX(vm[q], r); \
        r = RDG__VMIN(RDG__VSUB(RDG__VFNMA(v2, x1, RDG__VMUL(v1, sb)), RDG__VSET(c0[q])), z); \
        RDG__VST(e[q] + i + RDG__VW, r); vm[q] = RDG__VMAX(vm[q], r);
        RDG__DOTQ_OUT(0, s00, s01) RDG__DOTQ_OUT(1, s10, s11) RDG__DOTQ_OUT(2, s20, s21) RDG__DOTQ_OUT(3, s30, s31)
#  undef RDG__DOTQ_OUT
    }
    for (q = 0; q < RDG__QB; ++q) {
        RDG__VST(t, vm[q]);
        for (l = 0; l < RDG__VW; ++l) if (t[l] > mx[q]) mx[q] = t[l];
        if (i < cnt) {
            rdg_real m2 = rdg__dot_panel(RDG__PAN(xt, i, d), xx + i, cnt - i, d, y[q], c1, c2, c0[q], e[q] + i);
            if (m2 > mx[q]) mx[q] = m2;
        }
    }
}

RDG__PRIVATE void rdg__k_wsumq_simd(const rdg_real *X, size_t n, size_t d, const rdg_real *const *W,
                                    rdg_real *out) {
    size_t i, j = 0;
    int q;
#  if RDG__VW == 8
    /* AVX-512: 4 vectors of columns x 4 queries, 16 accumulators (as rdg__k_dotq_simd); each
       output's sum over points runs in the same order as below (bit-identical) */
    for (; j + 4 * RDG__VW <= d; j += 4 * RDG__VW) {
        rdg__v a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
#    define RDG__WQ4LD(q) a##q##0 = RDG__VLD(out + q * d + j); a##q##1 = RDG__VLD(out + q * d + j + 8); \
        a##q##2 = RDG__VLD(out + q * d + j + 16); a##q##3 = RDG__VLD(out + q * d + j + 24);
        RDG__WQ4LD(0) RDG__WQ4LD(1) RDG__WQ4LD(2) RDG__WQ4LD(3)
#    undef RDG__WQ4LD
        for (i = 0; i < n; ++i) {
            const rdg_real *xi = X + i * d + j;
            rdg__v p0 = RDG__VLD(xi), p1 = RDG__VLD(xi + 8), p2 = RDG__VLD(xi + 16), p3 = RDG__VLD(xi + 24);
            RDG__INREG(p0); RDG__INREG(p1); RDG__INREG(p2); RDG__INREG(p3);
            RDG__TILE4(a, 0, RDG__VSET(W[0][i])); RDG__TILE4(a, 1, RDG__VSET(W[1][i]));
            RDG__TILE4(a, 2, RDG__VSET(W[2][i])); RDG__TILE4(a, 3, RDG__VSET(W[3][i]));
        }
#    define RDG__WQ4ST(q) RDG__VST(out + q * d + j, a##q##0); RDG__VST(out + q * d + j + 8, a##q##1); \
        RDG__VST(out + q * d + j + 16, a##q##2); RDG__VST(out + q * d + j + 24, a##q##3);
        RDG__WQ4ST(0) RDG__WQ4ST(1) RDG__WQ4ST(2) RDG__WQ4ST(3)
#    undef RDG__WQ4ST
    }
#  endif
    for (; j + 2 * RDG__VW <= d; j += 2 * RDG__VW) {     /* 2 vectors of columns x 4 queries */
        rdg__v a00 = RDG__VLD(out + j), a01 = RDG__VLD(out + j + RDG__VW);
        rdg__v a10 = RDG__VLD(out + d + j), a11 = RDG__VLD(out + d + j + RDG__VW);
        rdg__v a20 = RDG__VLD(out + 2 * d + j), a21 = RDG__VLD(out + 2 * d + j + RDG__VW);
        rdg__v a30 = RDG__VLD(out + 3 * d + j), a31 = RDG__VLD(out + 3 * d + j + RDG__VW);
        for (i = 0; i < n; ++i) {
            const rdg_real *xi = X + i * d + j;
            rdg__v r0 = RDG__VLD(xi), r1 = RDG__VLD(xi + RDG__VW), wq;
            RDG__INREG(r0); RDG__INREG(r1);
            wq = RDG__VSET(W[0][i]); a00 = RDG__VFMA(wq, r0, a00); a01 = RDG__VFMA(wq, r1, a01);
            wq = RDG__VSET(W[1][i]); a10 = RDG__VFMA(wq, r0, a10); a11 = RDG__VFMA(wq, r1, a11);
            wq = RDG__VSET(W[2][i]); a20 = RDG__VFMA(wq, r0, a20); a21 = RDG__VFMA(wq, r1, a21);
            wq = RDG__VSET(W[3][i]); a30 = RDG__VFMA(wq, r0, a30); a31 = RDG__VFMA(wq, r1, a31);
        }
        RDG__VST(out + j, a00); RDG__VST(out + j + RDG__VW, a01);
        RDG__VST(out + d + j, a10); RDG__VST(out + d + j + RDG__VW, a11);
        RDG__VST(out + 2 * d + j, a20); RDG__VST(out + 2 * d + j + RDG__VW, a21);
        RDG__VST(out + 3 * d + j, a30); RDG__VST(out + 3 * d + j + RDG__VW, a31);
    }
    for (; j + RDG__VW <= d; j += RDG__VW) {
        rdg__v a0 = RDG__VLD(out + j), a1 = RDG__VLD(out + d + j), a2 = RDG__VLD(out + 2 * d + j), a3 = RDG__VLD(out + 3 * d + j);
        for (i = 0; i < n; ++i) {
            rdg__v r0 = RDG__VLD(X + i * d + j);
            a0 = RDG__VFMA(RDG__VSET(W[0][i]), r0, a0); a1 = RDG__VFMA(RDG__VSET(W[1][i]), r0, a1);
            a2 = RDG__VFMA(RDG__VSET(W[2][i]), r0, a2); a3 = RDG__VFMA(RDG__VSET(W[3][i]), r0, a3);
        }
        RDG__VST(out + j, a0); RDG__VST(out + d + j, a1); RDG__VST(out + 2 * d + j, a2); RDG__VST(out + 3 * d + j, a3);
    }
    if (j < d)
        for (q = 0; q < RDG__QB; ++q)
            for (i = 0; i < n; ++i) {
                const rdg_real *xi = X + i * d;
                rdg_real wq = W[q][i], *o = out + (size_t)q * d;
                size_t jj;
                for (jj = j; jj < d; ++jj) o[jj] = RDG__FMA(wq, xi[jj], o[jj]);
            }
}
#  define rdg__k_dist rdg__k_dist_simd
#  define rdg__k_panrows rdg__k_panrows_simd
#  define rdg__k_expcut rdg__k_expcut_simd
#  define rdg__k_dotq rdg__k_dotq_simd
#  define rdg__k_wsumq rdg__k_wsumq_simd
#  define rdg__k_distq rdg__k_distq_simd
#  define rdg__k_dot rdg__k_dot_simd
#  define rdg__k_rot rdg__k_rot_simd
#  define rdg__k_exp rdg__k_exp_simd
#  define rdg__k_wsum_any rdg__k_wsum_simd
#  define rdg__k_atb rdg__k_atb_simd
#  define rdg__k_ab rdg__k_ab_simd
#  define rdg__k_rowdot rdg__k_rowdot_simd
#else
#  define rdg__k_dist rdg__k_dist_ref
#  define rdg__k_panrows(X, d, idx, m, mp, xt) rdg__k_panrows_ref(X, d, idx, m, 0, mp, xt)
#  define rdg__k_expcut rdg__k_expcut_ref
#  define rdg__k_dotq rdg__k_dotq_ref
#  define rdg__k_wsumq rdg__k_wsumq_ref
#  define rdg__k_distq rdg__k_distq_ref
#  define rdg__k_dot rdg__k_dot_ref
#  define rdg__k_rot rdg__k_rot_ref
#  define rdg__k_exp rdg__k_exp_ref
#  define rdg__k_wsum_any rdg__k_wsum_ref
#  define rdg__k_atb rdg__k_atb_ref
#  define rdg__k_ab rdg__k_ab_ref
#  define rdg__k_rowdot rdg__k_rowdot_ref
#endif

/* Box-Muller's transcendentals without libm, so that the normal stream is the same with every
   C library and the sampler can draw it a vector at a time:
   - ln u1 = e ln 2 + ln m (u1 = m 2^e, m in [sqrt(1/2), sqrt(2))), ln m = 2 atanh(s),
     s = (m - 1) / (m + 1), |s| <= 0.1716: 2 s + s sum_{k=1..10} 2 s^2k / (2k + 1) (the next
     term is below 2e-17 relative); ln 2 split so that e ln2_hi is exact;
   - 2 pi u2 = 2 pi f + k pi / 2 with k = rint(4 u2), f = u2 - k / 4 exact, |f| <= 1/8:
     sin 2 pi f = f P(f^2) and cos 2 pi f = Q(f^2), the Taylor series to f^17 and f^16 (next
     terms below 6e-17 relative), then the quadrant k mod 4.
   Within 4.4e-16 of the radius against a long-double reference (tests/test_kernels.c,
   boxmuller). The vector kernel below performs the same operations in the same order (fused
   where RDG__FMA is), so both give the same bits. */
#define RDG__LN2_HI 0.6931467056274414          /* 21 significant bits: e ln2_hi exact */
#define RDG__LN2_LO 4.7493250390316726e-07      /* ln 2 - ln2_hi */
#define RDG__SQRT_HALF 0.70710678118654757
#define RDG__BM_LNPOLY(F, z, r) r = F(F(F(F(F(F(F(F(F(RDG__BMC(2.0 / 21), z, RDG__BMC(2.0 / 19)), z, \
    RDG__BMC(2.0 / 17)), z, RDG__BMC(2.0 / 15)), z, RDG__BMC(2.0 / 13)), z, RDG__BMC(2.0 / 11)), z, \
    RDG__BMC(2.0 / 9)), z, RDG__BMC(2.0 / 7)), z, RDG__BMC(2.0 / 5)), z, RDG__BMC(2.0 / 3))
#define RDG__BM_SINPOLY(F, z, p) p = F(F(F(F(F(F(F(F(RDG__BMC(0.10422916220813984), z, \
    RDG__BMC(-0.7181223017785006)), z, RDG__BMC(3.819952584848282)), z, RDG__BMC(-15.09464257682299)), z, \
    RDG__BMC(42.058693944897655)), z, RDG__BMC(-76.70585975306139)), z, RDG__BMC(81.60524927607506)), z, \
    RDG__BMC(-41.34170224039976)), z, RDG__BMC(6.283185307179586))
#define RDG__BM_COSPOLY(F, z, q) q = F(F(F(F(F(F(F(F(RDG__BMC(0.28200596845579123), z, \
    RDG__BMC(-1.714390711088672)), z, RDG__BMC(7.903536371318469)), z, RDG__BMC(-26.4262567833744)), z, \
    RDG__BMC(60.24464137187666)), z, RDG__BMC(-85.45681720669373)), z, RDG__BMC(64.9393940226683)), z, \
    RDG__BMC(-19.739208802178716)), z, RDG__BMC(1.0))

RDG__PRIVATE void rdg__boxmuller(double u1, double u2, double *c, double *s) {
    int e;
    double m = frexp(u1, &e), f, t, z, r, ed, rad, k, p, q;
#define RDG__BMC(x) (x)
    if (m < RDG__SQRT_HALF) { m += m; --e; }
    f = m - 1.0;                                   /* exact */
    t = f / (2.0 + f);
    z = t * t;
    RDG__BM_LNPOLY(RDG__FMA, z, r);
    r = r * z;
    ed = (double)e;
    rad = sqrt(-2.0 * RDG__FMA(ed, RDG__LN2_HI, RDG__FMA(ed, RDG__LN2_LO, RDG__FMA(t, r, t + t))));
    k = rint(4.0 * u2);
    f = u2 - 0.25 * k;                             /* exact */
    z = f * f;
    RDG__BM_SINPOLY(RDG__FMA, z, p);
    p = p * f;
    RDG__BM_COSPOLY(RDG__FMA, z, q);
#undef RDG__BMC
    switch ((int)k & 3) {
    case 0: *c = rad * q; *s = rad * p; break;
    case 1: *c = rad * -p; *s = rad * q; break;
    case 2: *c = rad * -q; *s = rad * -p; break;
    default: *c = rad * p; *s = rad * -q; break;
    }
}

/* rdg__boxmuller for np pairs. */
RDG__PRIVATE void rdg__k_boxmuller_ref(const double *u1, const double *u2, size_t np, double *c, double *s) {
    size_t i;
    for (i = 0; i < np; ++i) rdg__boxmuller(u1[i], u2[i], &c[i], &s[i]);
}
#if RDG__VW == 8 || RDG__VW == 4
#  if RDG__VW == 8
#    define RDG__VSQRT(a) _mm512_maskz_sqrt_pd(RDG__M8, a)
#  else
#    define RDG__VSQRT(a) _mm256_sqrt_pd(a)
#  endif
/* The vector kernels' common part, from u1 = m 2^e (m in [sqrt(1/2), sqrt 2)) and u2, as
   rdg__boxmuller: *rad = sqrt(-2 ln u1), *k = rint(4 u2), *p, *q the sine and cosine
   polynomials of u2 - k / 4. */
RDG__PRIVATE void rdg__bm_core(rdg__v m, rdg__v e, rdg__v u, rdg__v *rad, rdg__v *k, rdg__v *p, rdg__v *q) {
    rdg__v f = RDG__VSUB(m, RDG__VSET(1.0)), t, z, r;
#define RDG__BMC(x) RDG__VSET(x)
    t = RDG__VDIV(f, RDG__VADD(RDG__VSET(2.0), f));
    z = RDG__VMUL(t, t);
    RDG__BM_LNPOLY(RDG__VFMA, z, r);
    r = RDG__VMUL(r, z);
    r = RDG__VFMA(t, r, RDG__VADD(t, t));                                  /* ln m */
    r = RDG__VFMA(e, RDG__VSET(RDG__LN2_HI), RDG__VFMA(e, RDG__VSET(RDG__LN2_LO), r));
    *rad = RDG__VSQRT(RDG__VMUL(RDG__VSET(-2.0), r));
    *k = RDG__VROUND(RDG__VMUL(RDG__VSET(4.0), u));
    f = RDG__VFNMA(RDG__VSET(0.25), *k, u);                                /* exact, as u2 - 0.25 k */
    z = RDG__VMUL(f, f);
    RDG__BM_SINPOLY(RDG__VFMA, z, *p);
    *p = RDG__VMUL(*p, f);
    RDG__BM_COSPOLY(RDG__VFMA, z, *q);
#undef RDG__BMC
}
#endif
#if RDG__VW == 8
RDG__PRIVATE void rdg__k_boxmuller_simd(const double *u1, const double *u2, size_t np, double *c, double *s) {
    size_t i = 0;
    const __m512d one = _mm512_set1_pd(1.0), neg = _mm512_set1_pd(-1.0);
    for (; i + 8 <= np; i += 8) {
        __m512d u = _mm512_loadu_pd(u1 + i), m = _mm512_maskz_getmant_pd((__mmask8)0xFF, u, _MM_MANT_NORM_p5_1, _MM_MANT_SIGN_src);
        __m512d e = _mm512_add_pd(_mm512_maskz_getexp_pd((__mmask8)0xFF, u), one), rad, k, p, q, cs, sn;
        __mmask8 lo = _mm512_cmp_pd_mask(m, _mm512_set1_pd(RDG__SQRT_HALF), _CMP_LT_OQ), q1, q2, q3;
        m = _mm512_mask_add_pd(m, lo, m, m);
        e = _mm512_mask_sub_pd(e, lo, e, one);
        rdg__bm_core(m, e, _mm512_loadu_pd(u2 + i), &rad, &k, &p, &q);
        /* quadrant k mod 4 (k in 0..4): (cos, sin) = (q, p), (-p, q), (-q, -p), (p, -q) */
        q1 = _mm512_cmp_pd_mask(k, one, _CMP_EQ_OQ);
        q2 = _mm512_cmp_pd_mask(k, _mm512_set1_pd(2.0), _CMP_EQ_OQ);
        q3 = _mm512_cmp_pd_mask(k, _mm512_set1_pd(3.0), _CMP_EQ_OQ);
        cs = _mm512_mask_mov_pd(_mm512_mask_mov_pd(_mm512_mask_mov_pd(q, q1, _mm512_mul_pd(p, neg)), q2,
                                                   _mm512_mul_pd(q, neg)), q3, p);
        sn = _mm512_mask_mov_pd(_mm512_mask_mov_pd(_mm512_mask_mov_pd(p, q1, q), q2, _mm512_mul_pd(p, neg)),
                                q3, _mm512_mul_pd(q, neg));
        _mm512_storeu_pd(c + i, _mm512_mul_pd(rad, cs));
        _mm512_storeu_pd(s + i, _mm512_mul_pd(rad, sn));
    }
    rdg__k_boxmuller_ref(u1 + i, u2 + i, np - i, c + i, s + i);
}
#  define rdg__k_boxmuller rdg__k_boxmuller_simd
#elif RDG__VW == 4
/* AVX2 (W3 of tools/bench on Zen3: the scalar form was 7 % of the sampler): frexp from the
   bits (u1 in (0, 1) is normal: mantissa field with the exponent of 0.5, exponent field less
   1022, made a double through 2^52), then the scalar form's operations in its order. */
RDG__PRIVATE void rdg__k_boxmuller_simd(const double *u1, const double *u2, size_t np, double *c, double *s) {
    size_t i = 0;
    const __m256d one = _mm256_set1_pd(1.0), bias = _mm256_set1_pd(4503599627371518.0);   /* 2^52 + 1022 */
    const __m256d sgn = _mm256_set1_pd(-0.0);
    const __m256i mant = _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL), half = _mm256_set1_epi64x(0x3FE0000000000000LL);
    const __m256i b52 = _mm256_set1_epi64x(0x4330000000000000LL);
    for (; i + 4 <= np; i += 4) {
        __m256d u = _mm256_loadu_pd(u1 + i), m, e, rad, k, p, q, lo, cs, sn, q1, q2, q3;
        __m256i b = _mm256_castpd_si256(u);
        m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(b, mant), half));        /* [0.5, 1) */
        e = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(b, 52), b52)), bias);   /* exact */
        lo = _mm256_cmp_pd(m, _mm256_set1_pd(RDG__SQRT_HALF), _CMP_LT_OQ);
        m = _mm256_blendv_pd(m, _mm256_add_pd(m, m), lo);
        e = _mm256_blendv_pd(e, _mm256_sub_pd(e, one), lo);
        rdg__bm_core(m, e, _mm256_loadu_pd(u2 + i), &rad, &k, &p, &q);
        /* quadrant k mod 4 (k in 0..4): (cos, sin) = (q, p), (-p, q), (-q, -p), (p, -q); a sign
           flip is exact, as the scalar form's negation */
        q1 = _mm256_cmp_pd(k, one, _CMP_EQ_OQ);
        q2 = _mm256_cmp_pd(k, _mm256_set1_pd(2.0), _CMP_EQ_OQ);
        q3 = _mm256_cmp_pd(k, _mm256_set1_pd(3.0), _CMP_EQ_OQ);
        cs = _mm256_blendv_pd(_mm256_blendv_pd(_mm256_blendv_pd(q, _mm256_xor_pd(p, sgn), q1), _mm256_xor_pd(q, sgn), q2), p, q3);
        sn = _mm256_blendv_pd(_mm256_blendv_pd(_mm256_blendv_pd(p, q, q1), _mm256_xor_pd(p, sgn), q2), _mm256_xor_pd(q, sgn), q3);
        _mm256_storeu_pd(c + i, _mm256_mul_pd(rad, cs));
        _mm256_storeu_pd(s + i, _mm256_mul_pd(rad, sn));
    }
    rdg__k_boxmuller_ref(u1 + i, u2 + i, np - i, c + i, s + i);
}
#  define rdg__k_boxmuller rdg__k_boxmuller_simd
#else
#  define rdg__k_boxmuller rdg__k_boxmuller_ref
#endif

/* n standard normals from r, the same as n calls of rdg_rng_normal (pairs drawn u1 then u2,
   the cosine first, a last sine kept as the spare), up to 16 pairs per kernel call. */
RDG__PRIVATE void rdg__rng_normals(rdg_rng *r, rdg_real *out, size_t n) {
    double u1[16], u2[16], c[16], s[16];
    size_t i = 0, p, np;
    if (n && r->has_spare) { out[i++] = r->spare; r->has_spare = 0; }
    while (i < n) {
        np = (n - i + 1) / 2;
        if (np > 16) np = 16;
        for (p = 0; p < np; ++p) { u1[p] = rdg__u01(r); u2[p] = rdg__u01(r); }
        rdg__k_boxmuller(u1, u2, np, c, s);
        for (p = 0; p < np; ++p) {
            out[i++] = (rdg_real)c[p];
            if (i < n) out[i++] = (rdg_real)s[p];
            else { r->spare = (rdg_real)s[p]; r->has_spare = 1; }
        }
    }
}

/* out += sum_k wt_k (x_{idx_k} - xr): the vector kernel, or four partial sums for small d. */
RDG__PRIVATE void rdg__k_wsum(const rdg_real *X, size_t d, const size_t *idx, const rdg_real *wt,
                              size_t nk, const rdg_real *xr, rdg_real *out) {
#if RDG__PLANE_SIMD
    if (d == 2) { rdg__k_wsum2_simd(X, idx, wt, nk, xr, out); return; }
#endif
    if (d <= RDG__SMALLD) rdg__k_wsum_small(X, d, idx, wt, nk, xr, out);
    else rdg__k_wsum_any(X, d, idx, wt, nk, xr, out);
}

/* >>linalg ----------------------------------------------------------------------------------
   Dense d x d algebra: two helpers every solver uses (a dot product, a power-of-two scaling),
   cyclic Jacobi (Golub & Van Loan 8.5.2-8.5.3, with Rutishauser's update formulas written out
   from the rotation J^T A J; on a full symmetric copy, V accumulating the rotations), the
   Householder tridiagonalisation with implicit QL or the top of the spectrum, LU, Cholesky. */
/* u . v with eight partial sums (one vector register's worth): no chain of n dependent
   FMAs, and the same order on every call. */
RDG__PRIVATE rdg_real rdg__dot(const rdg_real *u, const rdg_real *v, size_t n) {
    rdg_real p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i, l;
    for (i = 0; i + 8 <= n; i += 8) for (l = 0; l < 8; ++l) p[l] += u[i + l] * v[i + l];
    for (l = 0; i < n; ++i, ++l) p[l] += u[i] * v[i];
    return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

/* Column j of V (n x n, row-major) = z with its largest component positive (the first of
   equal ones): the sign convention of every eigensolver here. */
RDG__PRIVATE void rdg__put_col(const rdg_real *z, size_t n, rdg_real *V, size_t j) {
    size_t i, kx = 0;
    rdg_real sg;
    for (i = 1; i < n; ++i) if (RDG__FABS(z[i]) > RDG__FABS(z[kx])) kx = i;
    sg = z[kx] < 0 ? RDG__R(-1.0) : RDG__R(1.0);
    for (i = 0; i < n; ++i) V[i * n + j] = sg * z[i];
}

/* Scales A (len entries) to entries <= 1 by the power of two sc = 2^e >= max |A_i| (1 when A
   is 0): a multiplication by 2^-e, exact where a division by max |A_i| would round. Returns
   sc, or 0 (A untouched) when an entry is not finite. Vector lanes in the SIMD build: the
   eigensolvers call it on every frame, where the scalar loop was a tenth of their time. */
RDG__PRIVATE rdg_real rdg__scale_pow2(rdg_real *A, size_t len) {
    size_t i = 0;
    rdg_real mx = 0, nf = 0, f;
    int ex;
#if RDG__VW > 1
    rdg__v vm = RDG__VSET(0.0), vz = RDG__VSET(0.0), vn = RDG__VSET(0.0);
    rdg_real t[RDG__VW];
    int l;
    for (; i + RDG__VW <= len; i += RDG__VW) {
        rdg__v x = RDG__VLD(A + i);
        vm = RDG__VMAX(vm, RDG__VMAX(x, RDG__VSUB(vz, x)));
        vn = RDG__VADD(vn, RDG__VMUL(x, vz));      /* NaN or Inf times 0 is NaN */
    }
    RDG__VST(t, vm);
    for (l = 0; l < RDG__VW; ++l) if (t[l] > mx) mx = t[l];
    nf = rdg__vsum(vn);
#endif
    for (; i < len; ++i) {
        rdg_real v = RDG__FABS(A[i]);
        if (v > mx) mx = v;
        nf += A[i] * 0;
    }
    if (nf != nf || !rdg__isfinite(mx)) return 0;
    if (mx == 0) return RDG__R(1.0);
    (void)RDG__FREXP(mx, &ex);                      /* mx = f 2^ex, f in [1/2, 1) */
    f = RDG__LDEXP(RDG__R(1.0), -ex);
    for (i = 0; i < len; ++i) A[i] *= f;
    return RDG__LDEXP(RDG__R(1.0), ex);
}

RDG__PRIVATE void rdg__transpose_sq(rdg_real *V, size_t n) {
    size_t i, j;
    for (i = 0; i < n; ++i) for (j = i + 1; j < n; ++j) {
        rdg_real t = V[i * n + j];
        V[i * n + j] = V[j * n + i]; V[j * n + i] = t;
    }
}

/* Rotation of the pair (p, q) of a chunk: A_pq = 0 after J^T A J with J = [c s; -s c] on
   (p, q), in Rutishauser's form (s, tau = s / (1 + c)); dp, dq: the new diagonal entries. */
typedef struct rdg__jrot { size_t p, q; rdg_real s, tau, dp, dq; } rdg__jrot;
#define RDG__JCHUNK 16

/* Applies a chunk of disjoint rotations: rows (contiguous, vectorised), then columns row by
   row, then the exact 2 x 2 blocks, and the same row rotations to the eigenvectors (rows of
   the transposed V). Disjoint rotations commute, so any chunking gives the same J^T A J. */
RDG__PRIVATE void rdg__jacobi_apply(rdg_real *A, size_t n, rdg_real *Vt, const rdg__jrot *R, size_t nr) {
    size_t k, r;
    for (k = 0; k < nr; ++k) rdg__k_rot(A + R[k].p * n, A + R[k].q * n, n, R[k].s, R[k].tau);
    for (r = 0; r < n; ++r) {
        rdg_real *row = A + r * n;
        for (k = 0; k < nr; ++k) {
            rdg_real x = row[R[k].p], y = row[R[k].q], s = R[k].s, tau = R[k].tau;
            row[R[k].p] = RDG__FMS(s, RDG__FMA(tau, x, y), x);
            row[R[k].q] = RDG__FMA(s, RDG__FMS(tau, y, x), y);
        }
    }
    for (k = 0; k < nr; ++k) {
        size_t p = R[k].p, q = R[k].q;
        A[p * n + p] = R[k].dp; A[q * n + q] = R[k].dq;
        A[p * n + q] = A[q * n + p] = 0;
        if (Vt) rdg__k_rot(Vt + p * n, Vt + q * n, n, R[k].s, R[k].tau);
    }
}

/* Jacobi in parallel (round-robin) order: each sweep is m - 1 rounds of m / 2 disjoint pairs
   (m = n rounded up to even; the circle method: position m - 1 fixed, the others turning), so
   the rotation angles of a round are independent (their divisions and square roots overlap)
   and no row waits for the previous rotation. Every pair is met once per sweep, as in the
   cyclic order, with the same quadratic convergence. A is scaled to entries <= 1 first, so the
   sums of squares neither underflow (which once ended it at once for |A| ~ 1e-250) nor
   overflow. */
RDG__PRIVATE int rdg__jacobi(rdg_real *A, size_t n, rdg_real *w, rdg_real *V) {
    size_t p, q, r, i, j, m = n + (n & 1), rnd, pk, nr;
    int sweep;
    rdg_real fro = 0, off, sc = 0;
    rdg__jrot R[RDG__JCHUNK];
    sc = rdg__scale_pow2(A, n * n);    /* 0: not finite, A left as it is */
    for (i = 0; i < n * n; ++i) fro += A[i] * A[i];
    fro = RDG__SQRT(fro);
    if (V) for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) V[i * n + j] = (i == j) ? RDG__R(1.0) : RDG__R(0.0);
    if (V) rdg__transpose_sq(V, n);   /* eigenvectors as rows while rotating: contiguous */
    for (sweep = 0; sweep < 100; ++sweep) {
        off = 0;
        for (p = 0; p < n; ++p) for (q = p + 1; q < n; ++q) {
            off += A[p * n + q] * A[p * n + q];
            A[q * n + p] = A[p * n + q];      /* column updates round differently: re-mirror */
        }
        off = RDG__SQRT(off);
        if (off <= RDG__EPS * RDG__R(0.25) * fro || off == 0) break;
        for (rnd = 0; rnd + 1 < m; ++rnd) {
            nr = 0;
            for (pk = 0; pk < m / 2; ++pk) {
                rdg_real apq, app, aqq, theta, t, c, sn;
                p = pk == 0 ? rnd : (rnd + pk) % (m - 1);
                q = pk == 0 ? m - 1 : (rnd + m - 1 - pk) % (m - 1);
                if (p > q) { size_t tmp = p; p = q; q = tmp; }
                if (q >= n) continue;             /* the dummy of an odd n */
                apq = A[p * n + q]; app = A[p * n + p]; aqq = A[q * n + q];
                if (apq == 0) continue;
                /* after a few sweeps, an element below eps/4 sqrt(|app aqq|)
                   is set to 0 instead of rotated: for C (positive semidefinite) that moves every
                   eigenvalue by < eps/4 of its own size (relative perturbation theory) */
                if (sweep > 3 && RDG__FABS(apq) < RDG__EPS * RDG__R(0.25) * RDG__SQRT(RDG__FABS(app) * RDG__FABS(aqq))) {
                    A[p * n + q] = A[q * n + p] = 0;
                    continue;
                }
                theta = (aqq - app) / (RDG__R(2.0) * apq);
                t = RDG__R(1.0) / (RDG__FABS(theta) + RDG__SQRT(RDG__R(1.0) + theta * theta));
                if (theta < 0) t = -t;
                if (!rdg__isfinite(t)) t = 0;          /* theta overflowed: apq is negligible */
                c = RDG__R(1.0) / RDG__SQRT(RDG__R(1.0) + t * t);
                sn = t * c;
                R[nr].p = p; R[nr].q = q; R[nr].s = sn; R[nr].tau = sn / (RDG__R(1.0) + c);
                R[nr].dp = app - t * apq; R[nr].dq = aqq + t * apq;
                if (++nr == RDG__JCHUNK) { rdg__jacobi_apply(A, n, V, R, nr); nr = 0; }
            }
            if (nr) rdg__jacobi_apply(A, n, V, R, nr);
        }
    }
    if (V) rdg__transpose_sq(V, n);
    for (i = 0; i < n; ++i) w[i] = A[i * n + i] * (sc > 0 ? sc : 1);
    /* sort descending (selection sort: n is small), carrying the columns of V */
    for (i = 0; i < n; ++i) {
        size_t k = i;
        for (j = i + 1; j < n; ++j) if (w[j] > w[k]) k = j;
        if (k != i) {
            rdg_real tmp = w[i]; w[i] = w[k]; w[k] = tmp;
            if (V) for (r = 0; r < n; ++r) { tmp = V[r * n + i]; V[r * n + i] = V[r * n + k]; V[r * n + k] = tmp; }
        }
    }
    /* a deterministic sign: the largest component of each eigenvector is positive */
    if (V) for (j = 0; j < n; ++j) {
        size_t k = 0;
        for (r = 1; r < n; ++r) if (RDG__FABS(V[r * n + j]) > RDG__FABS(V[k * n + j])) k = r;
        if (V[k * n + j] < 0) for (r = 0; r < n; ++r) V[r * n + j] = -V[r * n + j];
    }
    return sweep < 100;
}

/* The full frame's eigensolver (rdg__frame: rdg_ridge_frame, the diagnostics, projections
   with d* > 3): Householder tridiagonalisation Q^T A Q = T (Golub & Van Loan 8.3.1), then
   implicit QL with Wilkinson shifts on T, its rotations accumulated into Q (the QL form of
   8.3.3). About 9 n^3 flops against ~7 n^3 per Jacobi sweep (3 to 8 sweeps): at n = 32, 34 us
   against 290 us for a cold Jacobi (measured). Its cost is the QL recurrence, one square root
   and division after another. Backward stable: eigenvalues to ~ eps |A| (Jacobi's are
   relatively accurate, which the frame does not need: rdg__frame_ok works in units of |C|),
   residuals and orthogonality ~ n eps. */

/* out[j] += sum_{l < m} c[l cs] R[l rs + j] for j0 <= j < n (m rows of R, row stride rs), the
   sum over l in order, products and sums rounded as written; in blocks of up to 4 vectors of
   columns held in registers across the rows (a sum kept in memory waits on its own store at
   every row). The tridiagonalisation's A v, the Householder rows' product, LM's J^T J and
   J^T u, and the power iteration's C y (rdg__frame_warm) run through it. */
RDG__PRIVATE void rdg__rows_axpy(const rdg_real *R, size_t rs, const rdg_real *c, size_t cs, size_t m,
                                 size_t j0, size_t n, rdg_real *out) {
    size_t l, j = j0;
#if RDG__VW > 1
    for (; j + 4 * RDG__VW <= n; j += 4 * RDG__VW) {
        rdg__v a0 = RDG__VLD(out + j), a1 = RDG__VLD(out + j + RDG__VW);
        rdg__v a2 = RDG__VLD(out + j + 2 * RDG__VW), a3 = RDG__VLD(out + j + 3 * RDG__VW);
        for (l = 0; l < m; ++l) {
            const rdg_real *row = R + l * rs + j;
            rdg__v b = RDG__VSET(c[l * cs]);
            a0 = RDG__VADD(a0, RDG__VMUL(b, RDG__VLD(row)));
            a1 = RDG__VADD(a1, RDG__VMUL(b, RDG__VLD(row + RDG__VW)));
            a2 = RDG__VADD(a2, RDG__VMUL(b, RDG__VLD(row + 2 * RDG__VW)));
            a3 = RDG__VADD(a3, RDG__VMUL(b, RDG__VLD(row + 3 * RDG__VW)));
        }
        RDG__VST(out + j, a0); RDG__VST(out + j + RDG__VW, a1);
        RDG__VST(out + j + 2 * RDG__VW, a2); RDG__VST(out + j + 3 * RDG__VW, a3);
    }
    for (; j + RDG__VW <= n; j += RDG__VW) {
        rdg__v a0 = RDG__VLD(out + j);
        for (l = 0; l < m; ++l) a0 = RDG__VADD(a0, RDG__VMUL(RDG__VSET(c[l * cs]), RDG__VLD(R + l * rs + j)));
        RDG__VST(out + j, a0);
    }
#endif
    for (; j < n; ++j) {
        rdg_real a = out[j];
        for (l = 0; l < m; ++l) a += c[l * cs] * R[l * rs + j];
        out[j] = a;
    }
}

/* row[j] -= vi x[j] + xi vv[j] for j0 <= j < n, rounded as written. */
RDG__PRIVATE void rdg__tri_rank2(rdg_real *row, size_t j0, size_t n, rdg_real vi, rdg_real xi,
                                 const rdg_real *x, const rdg_real *vv) {
    size_t j = j0;
#if RDG__VW > 1
    rdg__v bv = RDG__VSET(vi), bx = RDG__VSET(xi);
    for (; j + RDG__VW <= n; j += RDG__VW)
        RDG__VST(row + j, RDG__VSUB(RDG__VLD(row + j), RDG__VADD(RDG__VMUL(bv, RDG__VLD(x + j)),
                                                                 RDG__VMUL(bx, RDG__VLD(vv + j)))));
#endif
    for (; j < n; ++j) row[j] -= vi * x[j] + xi * vv[j];
}

/* Rows r0 .. n - 1 of A (row stride n): row[j] -= vv_i x[j] + x_i vv[j] for j1 <= j < n, and
   then out[j] += c[i - r0] row[j] with the updated row, the rows in order: tri_rank2 followed
   by rows_axpy over the same rows, rounded the same way (the same bits), with each row loaded
   once and the sums in registers across the rows. */
RDG__PRIVATE void rdg__tri_rank2_axpy(rdg_real *A, size_t n, size_t r0, size_t j1, const rdg_real *x,
                                      const rdg_real *vv, const rdg_real *c, rdg_real *out) {
    size_t i, j = j1;
#if RDG__VW > 1
    for (; j + 4 * RDG__VW <= n; j += 4 * RDG__VW) {
        rdg__v a0 = RDG__VLD(out + j), a1 = RDG__VLD(out + j + RDG__VW);
        rdg__v a2 = RDG__VLD(out + j + 2 * RDG__VW), a3 = RDG__VLD(out + j + 3 * RDG__VW);
        rdg__v x0 = RDG__VLD(x + j), x1 = RDG__VLD(x + j + RDG__VW);
        rdg__v x2 = RDG__VLD(x + j + 2 * RDG__VW), x3 = RDG__VLD(x + j + 3 * RDG__VW);
        rdg__v w0 = RDG__VLD(vv + j), w1 = RDG__VLD(vv + j + RDG__VW);
        rdg__v w2 = RDG__VLD(vv + j + 2 * RDG__VW), w3 = RDG__VLD(vv + j + 3 * RDG__VW);
        for (i = r0; i < n; ++i) {
            rdg_real *row = A + i * n + j;
            rdg__v bv = RDG__VSET(vv[i]), bx = RDG__VSET(x[i]), b = RDG__VSET(c[i - r0]), r;
#  define RDG__TR2A(u, xu, wu, au) \
            r = RDG__VSUB(RDG__VLD(row + (u) * RDG__VW), RDG__VADD(RDG__VMUL(bv, xu), RDG__VMUL(bx, wu))); \
            RDG__VST(row + (u) * RDG__VW, r); au = RDG__VADD(au, RDG__VMUL(b, r));
            RDG__TR2A(0, x0, w0, a0) RDG__TR2A(1, x1, w1, a1) RDG__TR2A(2, x2, w2, a2) RDG__TR2A(3, x3, w3, a3)
#  undef RDG__TR2A
        }
        RDG__VST(out + j, a0); RDG__VST(out + j + RDG__VW, a1);
        RDG__VST(out + j + 2 * RDG__VW, a2); RDG__VST(out + j + 3 * RDG__VW, a3);
    }
    for (; j + RDG__VW <= n; j += RDG__VW) {
        rdg__v a0 = RDG__VLD(out + j), x0 = RDG__VLD(x + j), w0 = RDG__VLD(vv + j);
        for (i = r0; i < n; ++i) {
            rdg_real *row = A + i * n + j;
            rdg__v r = RDG__VSUB(RDG__VLD(row), RDG__VADD(RDG__VMUL(RDG__VSET(vv[i]), x0), RDG__VMUL(RDG__VSET(x[i]), w0)));
            RDG__VST(row, r);
            a0 = RDG__VADD(a0, RDG__VMUL(RDG__VSET(c[i - r0]), r));
        }
        RDG__VST(out + j, a0);
    }
#endif
    for (; j < n; ++j) {
        rdg_real a = out[j];
        for (i = r0; i < n; ++i) {
            rdg_real *rij = A + i * n + j;
            *rij -= vv[i] * x[j] + x[i] * vv[j];
            a += c[i - r0] * *rij;
        }
        out[j] = a;
    }
}

/* Householder vector of step k of rdg__tridiag from row k (right of the diagonal): sets dg[k],
   e[k], bt[k] and v_0 -= alpha in place; returns 0 (bt[k] = 0, nothing to reflect) when the
   entries below the first are 0. */
RDG__PRIVATE int rdg__tri_house(rdg_real *A, size_t n, size_t k, rdg_real *dg, rdg_real *e, rdg_real *bt) {
    size_t i, m = n - k - 1;
    rdg_real *v = A + k * n + k + 1, nx = 0, al;
    for (i = 1; i < m; ++i) nx += v[i] * v[i];
    dg[k] = A[k * n + k];
    if (nx == 0) { e[k] = v[0]; bt[k] = 0; return 0; }
    nx = RDG__SQRT(nx + v[0] * v[0]);
    al = v[0] < 0 ? nx : -nx;                     /* H x = al e_1, no cancellation in v_0 */
    bt[k] = RDG__R(1.0) / (nx * (nx + RDG__FABS(v[0])));
    v[0] -= al;
    e[k] = al;
    return 1;
}

/* Reduces A (n x n, full symmetric, destroyed) to T = (dg, e): e[k] couples k and k + 1
   (e[n - 1] = 0). Step k maps column k below the diagonal to (e_k, 0, ..) by
   H_k = I - bt[k] v v^T, with v kept in row k of A right of the diagonal. x: 3 n scratch.
   The row loops start at k + 1 rounded down to a multiple of 8 (vv, the copy of v, is 0
   there; the entries of those columns left of the diagonal are never read again): whole
   vectors, a scalar remainder only when n is not a multiple of the vector width. Step k's
   update A' -= v q^T + q v^T of the rows below row k + 1 also accumulates step k + 1's
   product p = A' v' (rdg__tri_rank2_axpy: each row read once), once row k + 1 is updated
   and v' made from it. */
RDG__PRIVATE void rdg__tridiag(rdg_real *A, size_t n, rdg_real *dg, rdg_real *e, rdg_real *bt,
                               rdg_real *x) {
    size_t i, j, k;
    rdg_real *vv = x + n, *xn = vv + n, *sw;
    int ok = n > 2 ? rdg__tri_house(A, n, 0, dg, e, bt) : 0, nok, have_p = 0;
    for (k = 0; k + 2 < n; ++k) {
        size_t j0 = (k + 1) & ~(size_t)7;
        rdg_real beta = bt[k], kk = 0;
        if (ok) {
            const rdg_real *v = A + k * n + k + 1;
            for (j = 0; j < n; ++j) vv[j] = j > k ? v[j - k - 1] : 0;
            if (!have_p) {                       /* p = A' v, by rows */
                for (j = 0; j < n; ++j) x[j] = 0;
                rdg__rows_axpy(A + (k + 1) * n, n, vv + k + 1, 1, n - k - 1, j0, n, x);
            }
            for (i = k + 1; i < n; ++i) { x[i] *= beta; kk += x[i] * vv[i]; }
            kk *= RDG__R(0.5) * beta;
            for (i = k + 1; i < n; ++i) x[i] -= kk * vv[i];  /* q = beta p - (beta^2 p.v / 2) v */
            rdg__tri_rank2(A + (k + 1) * n, j0, n, vv[k + 1], x[k + 1], x, vv);   /* row k + 1 first */
        }
        nok = k + 3 < n ? rdg__tri_house(A, n, k + 1, dg, e, bt) : 0;
        have_p = 0;
        if (ok) {                                /* A' -= v q^T + q v^T on the rows below */
            size_t j1 = nok ? (k + 2) & ~(size_t)7 : n;
            if (j1 > j0)
                for (i = k + 2; i < n; ++i) rdg__tri_rank2(A + i * n, j0, j1, vv[i], x[i], x, vv);
            if (nok) {                           /* with p' = A' v' for step k + 1 */
                for (j = 0; j < n; ++j) xn[j] = 0;
                rdg__tri_rank2_axpy(A, n, k + 2, j1, x, vv, A + (k + 1) * n + k + 2, xn);
                sw = x; x = xn; xn = sw;
                have_p = 1;
            }
        }
        ok = nok;
    }
    if (n >= 2) { dg[n - 2] = A[(n - 2) * n + n - 2]; e[n - 2] = A[(n - 2) * n + n - 1]; }
    dg[n - 1] = A[n * n - 1];
    e[n - 1] = 0;
}

/* Largest row sum of |T|: the scale of T's rounding. */
RDG__PRIVATE rdg_real rdg__tnorm(const rdg_real *dg, const rdg_real *e, size_t n) {
    size_t i;
    rdg_real tn = 0;
    for (i = 0; i < n; ++i) {
        rdg_real r = RDG__FABS(dg[i]) + RDG__FABS(e[i]) + (i ? RDG__FABS(e[i - 1]) : 0);
        if (r > tn) tn = r;
    }
    return tn > 0 ? tn : RDG__R(1.0);
}

/* Eigen-decomposition of A (n x n, full symmetric, destroyed): w descending, V's columns the
   eigenvectors (largest component positive, as Jacobi's). work: n * n + 5 n reals. Returns 0
   (w, V undefined) when A is not finite or QL needs more than 60 steps for an eigenvalue. */
RDG__PRIVATE int rdg__eigh_ql(rdg_real *A, size_t n, rdg_real *w, rdg_real *V, rdg_real *work) {
    rdg_real *Zt = work, *dg = Zt + n * n, *e = dg + n, *bt = e + n, *x = bt + n;
    size_t i, j, k, l;
    rdg_real sc = 0, tiny;
    sc = rdg__scale_pow2(A, n * n);              /* entries <= 1: the norms cannot overflow */
    if (sc == 0) return 0;
    rdg__tridiag(A, n, dg, e, bt, Zt);           /* 3 n scratch (n >= 3; else unused), set below */
    /* Zt = Q^T = H_{n-3} .. H_1 H_0, applying H_0, H_1, .. to I from the left (rows k + 1..
       change by -bt v (v^T Zt), by rows); the rows of Zt are the columns of Q */
    for (i = 0; i < n * n; ++i) Zt[i] = 0;
    for (i = 0; i < n; ++i) Zt[i * n + i] = 1;
    for (k = 0; k + 2 < n; ++k) {
        const rdg_real *v = A + k * n + k + 1;
        rdg_real *zk = Zt + (k + 1) * n;
        size_t m = n - k - 1;
        if (bt[k] == 0) continue;
        for (j = 0; j < n; ++j) x[j] = 0;
        for (i = 0; i < m; ++i) {
            const rdg_real *row = zk + i * n;
            rdg_real vi = v[i];
            for (j = 1; j < n; ++j) x[j] += vi * row[j];
        }
        for (i = 0; i < m; ++i) {
            rdg_real *row = zk + i * n, f = bt[k] * v[i];
            for (j = 1; j < n; ++j) row[j] -= f * x[j];
        }
    }
    tiny = RDG__EPS * rdg__tnorm(dg, e, n);   /* a coupling below eps |T| is rounding */
    /* implicit QL: each rotation of the plane (i, i + 1) also turns rows i, i + 1 of Zt */
    for (l = 0; l < n; ++l) {
        int iter;
        for (iter = 0;; ++iter) {
            size_t m;
            long ii;
            rdg_real g, r, s, c, p;
            for (m = l; m + 1 < n; ++m)
                if (RDG__FABS(e[m]) <= RDG__EPS * (RDG__FABS(dg[m]) + RDG__FABS(dg[m + 1]))
                    || RDG__FABS(e[m]) <= tiny) break;
            if (m == l) break;
            if (iter == 60) return 0;
            g = (dg[l + 1] - dg[l]) / (RDG__R(2.0) * e[l]);   /* shift: eigenvalue of the */
            r = RDG__SQRT(g * g + 1);                        /* leading 2 x 2 nearer dg[l] */
            g = dg[m] - dg[l] + e[l] / (g + (g < 0 ? -r : r));
            s = 1; c = 1; p = 0; r = 1;
            for (ii = (long)m - 1; ii >= (long)l; --ii) {
                rdg_real f = s * e[ii], bb = c * e[ii], *z0 = Zt + (size_t)ii * n, *z1 = z0 + n;
                r = RDG__SQRT(f * f + g * g);
                e[ii + 1] = r;
                if (r == 0) { dg[ii + 1] -= p; e[m] = 0; break; }   /* underflow: deflate */
                s = f / r; c = g / r;
                g = dg[ii + 1] - p;
                r = (dg[ii] - g) * s + RDG__R(2.0) * c * bb;
                p = s * r;
                dg[ii + 1] = g + p;
                g = c * r - bb;
                for (k = 0; k < n; ++k) {
                    rdg_real x0 = z0[k], x1 = z1[k];
                    z1[k] = s * x0 + c * x1;
                    z0[k] = c * x0 - s * x1;
                }
            }
            if (r == 0 && ii >= (long)l) continue;
            dg[l] -= p; e[l] = g; e[m] = 0;
        }
    }
    /* descending (selection sort: n is small), carrying the rows of Zt */
    for (j = 0; j < n; ++j) {
        size_t kx = j;
        for (i = j + 1; i < n; ++i) if (dg[i] > dg[kx]) kx = i;
        w[j] = dg[kx] * sc;
        if (kx != j) {
            dg[kx] = dg[j];
            for (i = 0; i < n; ++i) { rdg_real t1 = Zt[j * n + i]; Zt[j * n + i] = Zt[kx * n + i]; Zt[kx * n + i] = t1; }
        }
    }
    for (j = 0; j < n; ++j) rdg__put_col(Zt + j * n, n, V, j);
    return 1;
}

/* The top of the spectrum, all SCMS and the tangent-frame Jacobian need: the k largest
   eigenvalues of A (n x n, full symmetric, destroyed) into w[0..k-1], the vectors of the first
   kv <= k of them into V's first kv columns (the other columns untouched), and the smallest
   eigenvalue, to ~ 1e-3 |A| only (the frame's tolerances use its size),
   into w[n - 1]; the entries between get w[k - 1], a bound that keeps w descending.
   Tridiagonalisation as above; the eigenvalues bracketed by multisection on Sturm counts of T
   (dstebz's bisection, 8 points a round in vector lanes) until a bracket is below 1e-4 |T| and
   holds that eigenvalue alone, then inverse iteration with Rayleigh-quotient shifts on a
   pivoted LU of T - s I (dstein's, with RQI's fast convergence), accepted when the residual
   |T z - lam z| is below 8 eps |T| with lam +- residual inside the bracket (so lam is that
   eigenvalue); brackets that stay shared (clusters) are bisected to rounding first and
   their vectors kept apart by projection. About 4/3 n^3 flops where the full solver needs
   9 n^3. Returns 0 (then run the full solver) if a vector is not accepted after 6 steps.
   1 <= k <= RDG__TOPK, k + 1 <= n; work: 15 n reals. An eigenvalue is the Rayleigh quotient
   of its accepted vector even when the vector is not wanted: only its back-transformation is
   skipped. */
#define RDG__TOPK 4
#define RDG__MSEC 8
/* Narrows the brackets [lo, hi) of eigenvalues tg[0..nt) of T = (dg, e2 = e^2) by
   multisection on Sturm counts (clo, chi: counts below lo, hi), 8 points per active bracket
   and round, the points of all active brackets in one vectorisable pass. A bracket is done
   at 2 eps |T|; with coarse != 0 also target nt - 1 (the smallest) at 1e-3 |T| and any other
   at 1e-4 |T| once it holds its eigenvalue alone (then alone[j] = 1). */
RDG__PRIVATE void rdg__sturm_narrow(const rdg_real *dg, const rdg_real *e2, size_t n, const size_t *tg,
                                    size_t nt, size_t k, rdg_real tn, rdg_real *lo, rdg_real *hi,
                                    rdg_real *clo, rdg_real *chi, int *alone, int coarse) {
    rdg_real xs[(RDG__TOPK + 1) * RDG__MSEC], cnt[(RDG__TOPK + 1) * RDG__MSEC], q[(RDG__TOPK + 1) * RDG__MSEC];
    const rdg_real piv = RDG__EPS * RDG__EPS * RDG__EPS;   /* smallest Sturm pivot: T ~ 1 */
    rdg_real tiny = RDG__EPS * tn;
    size_t i, j, l, act[RDG__TOPK + 1], na;
    int round;
    for (round = 0; round < 200; ++round) {
        size_t L;
        for (j = 0, na = 0; j < nt; ++j) {   /* brackets still to narrow */
            rdg_real wdt = hi[j] - lo[j];
            int one = clo[j] == (rdg_real)tg[j] && chi[j] == (rdg_real)tg[j] + 1;
            if (wdt <= RDG__R(2.0) * tiny) continue;
            if (coarse && j == k && wdt <= RDG__R(1e-3) * tn) continue;
            if (coarse && j < k && one && wdt <= RDG__R(1e-4) * tn) { alone[j] = 1; continue; }
            act[na++] = j;
        }
        if (na == 0) break;
        L = na * RDG__MSEC;
        for (j = 0; j < na; ++j) {
            rdg_real h = (hi[act[j]] - lo[act[j]]) / (RDG__MSEC + 1);
            for (l = 0; l < RDG__MSEC; ++l) xs[j * RDG__MSEC + l] = lo[act[j]] + h * (rdg_real)(l + 1);
        }
        /* cnt = number of eigenvalues below xs: negative pivots of the LDL^T of T - xs */
        for (l = 0; l < L; ++l) { q[l] = dg[0] - xs[l]; cnt[l] = 0; }
        for (i = 0;; ) {
            for (l = 0; l < L; ++l) {
                rdg_real v = RDG__FABS(q[l]) < piv ? -piv : q[l];
                cnt[l] += v < 0 ? 1 : 0;
                q[l] = v;
            }
            if (++i == n) break;
            for (l = 0; l < L; ++l) q[l] = (dg[i] - xs[l]) - e2[i - 1] / q[l];
        }
        for (j = 0; j < na; ++j) {      /* the sub-interval holding eigenvalue tg */
            size_t t = act[j];
            for (l = 0; l < RDG__MSEC; ++l) {
                rdg_real c = cnt[j * RDG__MSEC + l], xv = xs[j * RDG__MSEC + l];
                if (c <= (rdg_real)tg[t]) { lo[t] = xv; clo[t] = c; }
                else if (xv < hi[t]) { hi[t] = xv; chi[t] = c; }
            }
        }
    }
}

/* A top-of-spectrum solve between its two parts: rdg__eigh_top_begin (tridiagonalisation and
   brackets) and rdg__eigh_top_vecs (inverse iteration and back-transformation), which may run
   in steps (targets jn.., vectors jv..) with T, the reflectors (in A) and the vectors (in work)
   left in place between them. Per-target work is independent: a solve in steps gives the bits
   of a solve at once. */
typedef struct rdg__top {
    rdg_real lo[RDG__TOPK + 1], hi[RDG__TOPK + 1], clo[RDG__TOPK + 1], chi[RDG__TOPK + 1];
    rdg_real lam[RDG__TOPK + 1], shf[RDG__TOPK + 1], sc, tn;
    size_t tg[RDG__TOPK + 1], n, k, jn, jv;
    int alone[RDG__TOPK + 1];
} rdg__top;

RDG__PRIVATE int rdg__eigh_top_begin(rdg_real *A, size_t n, size_t k, rdg_real *work, rdg__top *st) {
    rdg_real *dg = work, *e = dg + n, *bt = e + n, *x = bt + n, *e2 = x + n;
    rdg_real *lo = st->lo, *hi = st->hi, tiny;
    size_t i, j, nt = k + 1;
    if (k == 0 || k > RDG__TOPK || k + 1 > n) return 0;
    st->n = n; st->k = k; st->jn = 0; st->jv = 0;
    st->sc = rdg__scale_pow2(A, n * n);
    if (st->sc == 0) return 0;
    rdg__tridiag(A, n, dg, e, bt, x);   /* its 3 n scratch runs over e2 and u0, set later */
    st->tn = rdg__tnorm(dg, e, n);
    tiny = RDG__EPS * st->tn;
    /* targets, as ascending indices: the k largest, then the smallest */
    for (j = 0; j < k; ++j) st->tg[j] = n - 1 - j;
    st->tg[k] = 0;
    lo[0] = dg[0]; hi[0] = dg[0];
    for (i = 0; i < n; ++i) {           /* Gershgorin interval */
        rdg_real r = RDG__FABS(e[i]) + (i ? RDG__FABS(e[i - 1]) : 0);
        if (dg[i] - r < lo[0]) lo[0] = dg[i] - r;
        if (dg[i] + r > hi[0]) hi[0] = dg[i] + r;
        e2[i] = e[i] * e[i];
    }
    lo[0] -= tiny; hi[0] += tiny;
    for (j = 0; j < nt; ++j) { lo[j] = lo[0]; hi[j] = hi[0]; st->clo[j] = 0; st->chi[j] = (rdg_real)n; st->alone[j] = 0; }
    rdg__sturm_narrow(dg, e2, n, st->tg, nt, k, st->tn, lo, hi, st->clo, st->chi, st->alone, 1);
    for (j = 0; j < nt; ++j) st->lam[j] = RDG__R(0.5) * (lo[j] + hi[j]);
    return 1;
}

/* Targets st->jn .. j1 - 1 by inverse iteration, the vectors of st->jv .. min(kv, j1) - 1
   back-transformed into V; w as rdg__eigh_top's, with the targets not yet iterated at their
   bracket's midpoint. Returns 0 (run the full solver) as rdg__eigh_top. */
RDG__PRIVATE int rdg__eigh_top_vecs(const rdg_real *A, size_t j1, size_t kv, rdg_real *w, rdg_real *V,
                                    rdg_real *work, rdg__top *st) {
    size_t n = st->n, k = st->k, i, j, l, *tg = st->tg, kve = kv < j1 ? kv : j1;
    rdg_real *dg = work, *e = dg + n, *bt = e + n, *x = bt + n, *e2 = x + n, *u0 = e2 + n;
    rdg_real *u1 = u0 + n, *u2 = u1 + n, *ml = u2 + n, *b = ml + n, *pf = b + n, *Z = pf + n;
    rdg_real *lo = st->lo, *hi = st->hi, *lam = st->lam, *shf = st->shf, sc = st->sc;
    rdg_real tn = st->tn, tiny = RDG__EPS * tn;
    int *alone = st->alone;
    if (j1 > k || kv > k) return 0;
    /* inverse iteration for targets jn .. j1 - 1 */
    for (j = st->jn; j < j1; ++j) {
        rdg_real sh = lam[j], res = 0, nrm, rq = lam[j], *z = Z + j * n;
        unsigned long long sd = 0x9E3779B97F4A7C15ull * (unsigned long long)(j + 1);
        int it, ok = 0;
        /* shifts of a cluster kept 10 eps |T| apart, so the factorisations differ */
        if (!alone[j] && j > 0 && sh > shf[j - 1] - RDG__R(10.0) * tiny) sh = shf[j - 1] - RDG__R(10.0) * tiny;
        shf[j] = sh;
        for (i = 0; i < n; ++i) {                  /* a deterministic start in [-1/2, 1/2) */
            unsigned long long r = rdg__splitmix(&sd);
            b[i] = (rdg_real)(r >> 11) * RDG__R(1.1102230246251565e-16) - RDG__R(0.5);
        }
        for (it = 0; it < 6 && !ok; ++it) {
            int pass;
            /* LU of T - sh I with row interchanges (pf[i]: rows i, i + 1 swapped); U has the
               diagonals u0, u1, u2, L the multipliers ml; a pivot below eps |T| becomes eps |T| */
            {   /* branch-free: the pivot choice is data-dependent and mispredicts; the
                   chain (a, c) = (u0, u1) of the next row stays in registers */
                rdg_real a = dg[0] - sh, c = n > 1 ? e[0] : 0;
                for (i = 0; i + 1 < n; ++i) {
                    rdg_real an = dg[i + 1] - sh, en = i + 2 < n ? e[i + 1] : 0, ei = e[i];
                    rdg_real ac = RDG__FABS(a) < tiny ? (a < 0 ? -tiny : tiny) : a, mt;
                    int p = RDG__FABS(ei) > RDG__FABS(a);
                    mt = (p ? a : ei) / (p ? ei : ac);
                    u0[i] = p ? ei : ac; u1[i] = p ? an : c; u2[i] = p ? en : 0;
                    pf[i] = (rdg_real)p;
                    ml[i] = mt;
                    a = p ? c - mt * an : an - mt * c;
                    c = p ? -mt * en : en;
                }
                u0[n - 1] = a; u1[n - 1] = c;
            }
            if (RDG__FABS(u0[n - 1]) < tiny) u0[n - 1] = u0[n - 1] < 0 ? -tiny : tiny;
            for (i = 0; i + 1 < n; ++i) {           /* b <- L^-1 P b */
                if (pf[i] != 0) { rdg_real t1 = b[i]; b[i] = b[i + 1]; b[i + 1] = t1; }
                b[i + 1] -= ml[i] * b[i];
            }
            /* z = U^-1 b: the rows of U and b divided by their pivots first, in one pass
               whose divisions are independent (vector lanes), so that the substitution's
               chain is one FMA a step (it was a division: a third of this function) */
            for (i = 0; i < n; ++i) {
                rdg_real r = RDG__R(1.0) / u0[i];
                b[i] *= r; u1[i] *= r; u2[i] *= r;
            }
            z[n - 1] = b[n - 1];
            if (n >= 2) z[n - 2] = b[n - 2] - u1[n - 2] * z[n - 1];
            for (i = n - 2; i-- > 0;) z[i] = (b[i] - u2[i] * z[i + 2]) - u1[i] * z[i + 1];
            for (pass = 0; pass < 2; ++pass) for (l = 0; l < j; ++l) {   /* twice is enough */
                const rdg_real *zl = Z + l * n;
                rdg_real s = 0;
                for (i = 0; i < n; ++i) s += zl[i] * z[i];
                for (i = 0; i < n; ++i) z[i] -= s * zl[i];
            }
            nrm = 0;
            for (i = 0; i < n; ++i) nrm += z[i] * z[i];
            nrm = RDG__SQRT(nrm);
            if (!(nrm > 0) || !rdg__isfinite(nrm)) return 0;
            for (i = 0; i < n; ++i) z[i] /= nrm;
            /* T z, its Rayleigh quotient and residual */
            rq = 0;
            for (i = 0; i < n; ++i) {
                rdg_real s = dg[i] * z[i];
                if (i > 0) s += e[i - 1] * z[i - 1];
                if (i + 1 < n) s += e[i] * z[i + 1];
                b[i] = s;
                rq += s * z[i];
            }
            if (!alone[j]) rq = lam[j];
            res = 0;
            for (i = 0; i < n; ++i) res += (b[i] - rq * z[i]) * (b[i] - rq * z[i]);
            res = RDG__SQRT(res);
            if (alone[j]) ok = it >= 1 && res <= RDG__R(8.0) * tiny && rq - res > lo[j] && rq + res < hi[j];
            else ok = it >= 1 && res <= RDG__R(8.0) * tiny;
            if (alone[j] && rq > lo[j] && rq < hi[j]) sh = rq;
            memcpy(b, z, n * sizeof(rdg_real));
        }
        if (!ok && alone[j]) {
            /* an eigenvalue alone in its bracket but within rounding of a neighbour (a
               rank-deficient C): bisect it to rounding and treat it as a cluster */
            alone[j] = 0;
            rdg__sturm_narrow(dg, e2, n, tg + j, 1, 1, tn, lo + j, hi + j, st->clo + j, st->chi + j, alone + j, 0);
            lam[j] = RDG__R(0.5) * (lo[j] + hi[j]);
            --j;
            continue;
        }
        if (!ok) return 0;
        lam[j] = rq;
    }
    st->jn = j1 > st->jn ? j1 : st->jn;
    /* y <- H_0 (H_1 (.. H_{n-3} z)) for the vectors wanted together (independent chains,
       one reflector at a time), then the largest component positive. The copies y go to
       the LU's scratch (u0 .. ml: 4 n, free now), so that Z stays in T's basis for a later
       call's targets, which are kept apart from it. */
    for (j = st->jv; j < kve; ++j) memcpy(u0 + j * n, Z + j * n, n * sizeof(rdg_real));
    if (kve > st->jv) {
        size_t kk;
        for (kk = n >= 2 ? n - 2 : 0; kk-- > 0;) {
            const rdg_real *v = A + kk * n + kk + 1;
            size_t m = n - kk - 1;
            rdg_real s[RDG__TOPK];
            if (bt[kk] == 0) continue;
            for (j = st->jv; j < kve; ++j) s[j] = rdg__dot(v, u0 + j * n + kk + 1, m) * bt[kk];
            for (j = st->jv; j < kve; ++j) {
                rdg_real *zz = u0 + j * n + kk + 1;
                for (i = 0; i < m; ++i) zz[i] -= s[j] * v[i];
            }
        }
    }
    for (j = 0; j < k; ++j) {
        w[j] = lam[j] * sc;
        if (j >= st->jv && j < kve) rdg__put_col(u0 + j * n, n, V, j);
    }
    for (j = k; j + 1 < n; ++j) w[j] = w[k - 1];
    w[n - 1] = lam[k] * sc;
    if (w[n - 1] > w[k - 1]) w[n - 1] = w[k - 1];   /* a coarse bracket of a tiny spectrum */
    st->jv = kve > st->jv ? kve : st->jv;
    return 1;
}

RDG__PRIVATE int rdg__eigh_top(rdg_real *A, size_t n, size_t k, size_t kv, rdg_real *w, rdg_real *V,
                               rdg_real *work) {
    rdg__top st;
    if (kv > k || !rdg__eigh_top_begin(A, n, k, work, &st)) return 0;
    return rdg__eigh_top_vecs(A, k, kv, w, V, work, &st);
}

RDGDEF rdg_status rdg_eigh(const rdg_real *A, size_t n, rdg_real *w, rdg_real *V, rdg_real *work) {
    rdg_real *buf = work;
    size_t i, j;
    int ok = 1, conv;
    if (!A || !w || n == 0) return RDG_ERR_INVALID;
    rdg__mul(n, n, &ok);
    if (!ok || n > ((size_t)1 << 20)) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(A, n * n)) return RDG_ERR_NONFINITE;
    if (!buf) { buf = (rdg_real *)rdg__alloc(n * n + n, sizeof(rdg_real)); if (!buf) return RDG_ERR_NOMEM; }
    for (i = 0; i < n; ++i) for (j = 0; j <= i; ++j) buf[i * n + j] = buf[j * n + i] = A[i * n + j];
    conv = rdg__jacobi(buf, n, w, V);
    if (!work) RDG_FREE(buf, NULL);
    return conv ? RDG_OK : RDG_ERR_NOT_CONVERGED;
}

RDGDEF rdg_status rdg_lu_factor(rdg_real *A, size_t n, size_t *piv) {
    size_t i, j, k;
    rdg_real amax = 0, tol;
    int singular = 0, ok = 1;
    if (!A || !piv || n == 0) return RDG_ERR_INVALID;
    rdg__mul(n, n, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(A, n * n)) return RDG_ERR_NONFINITE;
    for (i = 0; i < n * n; ++i) if (RDG__FABS(A[i]) > amax) amax = RDG__FABS(A[i]);
    tol = (rdg_real)n * RDG__EPS * amax;
    for (k = 0; k < n; ++k) {
        size_t p = k;
        rdg_real big = RDG__FABS(A[k * n + k]);
        for (i = k + 1; i < n; ++i) if (RDG__FABS(A[i * n + k]) > big) { big = RDG__FABS(A[i * n + k]); p = i; }
        piv[k] = p;
        if (p != k) for (j = 0; j < n; ++j) { rdg_real t = A[k * n + j]; A[k * n + j] = A[p * n + j]; A[p * n + j] = t; }
        if (big <= tol || big == 0) { singular = 1; continue; }
        for (i = k + 1; i < n; ++i) {
            rdg_real l = A[i * n + k] / A[k * n + k];
            A[i * n + k] = l;
            for (j = k + 1; j < n; ++j) A[i * n + j] -= l * A[k * n + j];
        }
    }
    return singular ? RDG_ERR_SINGULAR : RDG_OK;
}

RDGDEF rdg_status rdg_lu_solve(const rdg_real *LU, size_t n, const size_t *piv, rdg_real *b, size_t nrhs) {
    size_t i, j, c;
    if (!LU || !piv || !b || n == 0 || nrhs == 0) return RDG_ERR_INVALID;
    for (c = 0; c < nrhs; ++c) {
        for (i = 0; i < n; ++i) {           /* apply the row swaps in order */
            size_t p = piv[i];
            if (p >= n) return RDG_ERR_INVALID;
            if (p != i) { rdg_real t = b[i * nrhs + c]; b[i * nrhs + c] = b[p * nrhs + c]; b[p * nrhs + c] = t; }
        }
        for (i = 0; i < n; ++i) {           /* L y = P b */
            rdg_real s = b[i * nrhs + c];
            for (j = 0; j < i; ++j) s -= LU[i * n + j] * b[j * nrhs + c];
            b[i * nrhs + c] = s;
        }
        for (i = n; i-- > 0;) {             /* U x = y */
            rdg_real s = b[i * nrhs + c];
            if (LU[i * n + i] == 0) return RDG_ERR_SINGULAR;
            for (j = i + 1; j < n; ++j) s -= LU[i * n + j] * b[j * nrhs + c];
            b[i * nrhs + c] = s / LU[i * n + i];
        }
    }
    return RDG_OK;
}

/* yi <- (yi - sum_{k0 <= k < k1} c[(k - k0) cs] Y[k ld + .]) f over columns 0 .. nc - 1: rows
   four at a time, as ((c0 y0 + c1 y1) + (c2 y2 + c3 y3)), then one at a time, rounded as
   written; in blocks of up to 4 vectors of columns held in registers across the rows (a row
   kept in memory waits on its own store at every step). The step of the Cholesky
   factorisation and of its substitutions (rdg__chol, rdg__chol_rows). */
RDG__PRIVATE void rdg__chol_row(rdg_real *yi, const rdg_real *Y, size_t ld, size_t nc, size_t k0, size_t k1,
                                const rdg_real *c, size_t cs, rdg_real f) {
    size_t j = 0, k;
#if RDG__VW > 1
    size_t w;
    /* acc -= (c0 p[0] + c1 p[ld]) + (c2 p[2 ld] + c3 p[3 ld]), and acc -= ck p[0] */
#  define RDG__CHOL4(acc, p) acc = RDG__VSUB(acc, RDG__VADD(RDG__VADD(RDG__VMUL(c0, RDG__VLD(p)), RDG__VMUL(c1, RDG__VLD((p) + ld))), \
                                    RDG__VADD(RDG__VMUL(c2, RDG__VLD((p) + 2 * ld)), RDG__VMUL(c3, RDG__VLD((p) + 3 * ld)))))
#  define RDG__CHOL1(acc, p) acc = RDG__VSUB(acc, RDG__VMUL(ck, RDG__VLD(p)))
    for (; j < nc / RDG__VW * RDG__VW; j += w) {
        rdg__v a[4], vf = RDG__VSET(f);
        size_t u, nv = (nc - j) / RDG__VW < 4 ? (nc - j) / RDG__VW : 4;
        w = nv * RDG__VW;
        if (nv == 4) {           /* four named accumulators: -O2 keeps an array in memory */
            rdg__v a0 = RDG__VLD(yi + j), a1 = RDG__VLD(yi + j + RDG__VW);
            rdg__v a2 = RDG__VLD(yi + j + 2 * RDG__VW), a3 = RDG__VLD(yi + j + 3 * RDG__VW);
            for (k = k0; k + 4 <= k1; k += 4) {
                const rdg_real *y0 = Y + k * ld + j;
                rdg__v c0 = RDG__VSET(c[(k - k0) * cs]), c1 = RDG__VSET(c[(k + 1 - k0) * cs]);
                rdg__v c2 = RDG__VSET(c[(k + 2 - k0) * cs]), c3 = RDG__VSET(c[(k + 3 - k0) * cs]);
                RDG__CHOL4(a0, y0); RDG__CHOL4(a1, y0 + RDG__VW);
                RDG__CHOL4(a2, y0 + 2 * RDG__VW); RDG__CHOL4(a3, y0 + 3 * RDG__VW);
            }
            for (; k < k1; ++k) {
                const rdg_real *y0 = Y + k * ld + j;
                rdg__v ck = RDG__VSET(c[(k - k0) * cs]);
                RDG__CHOL1(a0, y0); RDG__CHOL1(a1, y0 + RDG__VW); RDG__CHOL1(a2, y0 + 2 * RDG__VW); RDG__CHOL1(a3, y0 + 3 * RDG__VW);
            }
            RDG__VST(yi + j, RDG__VMUL(a0, vf)); RDG__VST(yi + j + RDG__VW, RDG__VMUL(a1, vf));
            RDG__VST(yi + j + 2 * RDG__VW, RDG__VMUL(a2, vf)); RDG__VST(yi + j + 3 * RDG__VW, RDG__VMUL(a3, vf));
            continue;
        }
        for (u = 0; u < nv; ++u) a[u] = RDG__VLD(yi + j + u * RDG__VW);
        for (k = k0; k + 4 <= k1; k += 4) {
            const rdg_real *y0 = Y + k * ld + j;
            rdg__v c0 = RDG__VSET(c[(k - k0) * cs]), c1 = RDG__VSET(c[(k + 1 - k0) * cs]);
            rdg__v c2 = RDG__VSET(c[(k + 2 - k0) * cs]), c3 = RDG__VSET(c[(k + 3 - k0) * cs]);
            for (u = 0; u < nv; ++u) RDG__CHOL4(a[u], y0 + u * RDG__VW);
        }
        for (; k < k1; ++k) {
            rdg__v ck = RDG__VSET(c[(k - k0) * cs]);
            for (u = 0; u < nv; ++u) RDG__CHOL1(a[u], Y + k * ld + j + u * RDG__VW);
        }
        for (u = 0; u < nv; ++u) RDG__VST(yi + j + u * RDG__VW, RDG__VMUL(a[u], vf));
    }
#  undef RDG__CHOL4
#  undef RDG__CHOL1
#endif
    for (; j < nc; ++j) {
        rdg_real a = yi[j];
        for (k = k0; k + 4 <= k1; k += 4) {
            const rdg_real *y0 = Y + k * ld + j;
            a -= (c[(k - k0) * cs] * y0[0] + c[(k + 1 - k0) * cs] * y0[ld])
                 + (c[(k + 2 - k0) * cs] * y0[2 * ld] + c[(k + 3 - k0) * cs] * y0[3 * ld]);
        }
        for (; k < k1; ++k) a -= c[(k - k0) * cs] * Y[k * ld + j];
        yi[j] = a * f;
    }
}

/* Cholesky A = U^T U in place, U upper triangular: A is n x n, row-major with leading dimension
   ld >= rdg__pad(n) (rows ld apart; columns n .. ld - 1 scratch). Only the upper half (row i
   from column i on) is read; U is written over it, and the lower half and the padding are left
   0. 0 unless positive definite. Left-looking by rows of U,
       U_j = (A_j - sum_{l < j} U_lj U_l) / U_jj   (columns j .. n - 1),
   each row one rdg__chol_row pass from column j rounded down to a whole vector: the entries
   before column j are 0 in every row, so the pass needs no scalar head, and the padding no
   scalar tail (1.6 -> 1.0 us at n = 32 against the right-looking loops, which paid for short
   unaligned rows and for two transposed copies between the halves). On 0, A is left partly
   factored. */
RDG__PRIVATE int rdg__chol(rdg_real *A, size_t n, size_t ld) {
    size_t i, j, k;
    for (i = 0; i < n; ++i) {
        rdg_real *ai = A + i * ld;
        for (j = 0; j < i; ++j) ai[j] = 0;
        for (j = n; j < ld; ++j) ai[j] = 0;
    }
    for (j = 0; j < n; ++j) {
        rdg_real *uj = A + j * ld, s;
        size_t j0 = j / RDG__VW * RDG__VW;
        rdg__chol_row(uj + j0, A + j0, ld, ld - j0, 0, j, A + j, ld, RDG__R(1.0));
        for (k = j0; k < j; ++k) uj[k] = 0;      /* the lower half stays 0 */
        s = uj[j];
        if (!(s > 0)) return 0;
        s = RDG__SQRT(s);
        uj[j] = s;
        for (k = j + 1; k < n; ++k) uj[k] /= s;
    }
    return 1;
}

/* Solves the symmetric positive definite system A x = b by Cholesky (A: rdg__chol's layout and
   contract, overwritten by U). Returns 0 when A is not positive definite. Used inside the
   solvers, never exported. */
RDG__PRIVATE int rdg__cholsolve(rdg_real *A, size_t n, size_t ld, rdg_real *b) {
    size_t i, k;
    if (!rdg__chol(A, n, ld)) return 0;
    /* both substitutions by columns (no chain of dependent sums), times 1 / U_kk rather than
       divided by U_kk (the reciprocal does not wait for the substitution, so the processor
       computes it ahead) */
    for (k = 0; k < n; ++k) {                 /* U^T z = b: z_k, then b_i -= U_ki z_k (row k) */
        const rdg_real *uk = A + k * ld;
        rdg_real z = b[k] * (RDG__R(1.0) / uk[k]);
        b[k] = z;
        for (i = k + 1; i < n; ++i) b[i] -= uk[i] * z;
    }
    for (i = n; i-- > 0;) {                   /* U x = z: x_i, then b_k -= U_ki x_i (column i) */
        rdg_real x = b[i] * (RDG__R(1.0) / A[i * ld + i]);
        b[i] = x;
        for (k = 0; k < i; ++k) b[k] -= A[k * ld + i] * x;
    }
    return 1;
}

/* Y <- (U^T U)^-1 Y for n right-hand sides, the columns of Y (n x n, row-major), by row
   operations; U from rdg__chol (leading dimension ld). */
RDG__PRIVATE void rdg__chol_rows(const rdg_real *U, size_t n, size_t ld, rdg_real *Y) {
    size_t i;
    for (i = 0; i < n; ++i)                   /* U^T Z = Y, row i from rows k < i (column i of U) */
        rdg__chol_row(Y + i * n, Y, n, n, 0, i, U + i, ld, RDG__R(1.0) / U[i * ld + i]);
    for (i = n; i-- > 0;)                     /* U X = Z, row i from rows k > i (row i of U) */
        rdg__chol_row(Y + i * n, Y, n, n, i + 1, n, U + i * ld + i + 1, 1, RDG__R(1.0) / U[i * ld + i]);
}

/* M <- (I - bt u u^T) M for M (n x n, row-major; u zero before index a) and v <- the same
   applied to v (may be NULL); x: n scratch. */
RDG__PRIVATE void rdg__house_rows(const rdg_real *u, rdg_real bt, size_t a, size_t n, rdg_real *M,
                                  rdg_real *v, rdg_real *x) {
    size_t i, j;
    if (bt == 0) return;
    for (j = 0; j < n; ++j) x[j] = 0;
    rdg__rows_axpy(M + a * n, n, u + a, 1, n - a, 0, n, x);
    for (i = a; i < n; ++i) { rdg_real f = bt * u[i]; for (j = 0; j < n; ++j) M[i * n + j] -= f * x[j]; }
    if (v) {
        rdg_real s = 0;
        for (i = a; i < n; ++i) s += u[i] * v[i];
        s *= bt;
        for (i = a; i < n; ++i) v[i] -= s * u[i];
    }
}

/* >>schedule --------------------------------------------------------------------------------- */
RDGDEF void rdg_ou(rdg_real t, rdg_real *a, rdg_real *s2) {
    if (a) *a = RDG__EXP(-t);
    if (s2) *s2 = -RDG__EXPM1(RDG__R(-2.0) * t);
}

RDG__PRIVATE int rdg__grid_ok(rdg_real T, rdg_real t0, size_t K, const rdg_real *t) {
    return t && K >= 1 && rdg__isfinite(T) && rdg__isfinite(t0) && t0 > 0 && T > t0;
}

RDGDEF rdg_status rdg_grid_geometric(rdg_real T, rdg_real t0, size_t K, rdg_real *t) {
    size_t k;
    if (!rdg__grid_ok(T, t0, K, t)) return RDG_ERR_INVALID;
    for (k = 0; k <= K; ++k) t[k] = T * RDG__POW(t0 / T, (rdg_real)k / (rdg_real)K);
    t[0] = T; t[K] = t0;
    return RDG_OK;
}

RDGDEF rdg_status rdg_grid_uniform(rdg_real T, rdg_real t0, size_t K, rdg_real *t) {
    size_t k;
    if (!rdg__grid_ok(T, t0, K, t)) return RDG_ERR_INVALID;
    for (k = 0; k <= K; ++k) t[k] = T + (t0 - T) * (rdg_real)k / (rdg_real)K;
    t[K] = t0;
    return RDG_OK;
}

/* >>gmm ---------------------------------------------------------------------------------------
   The smoothed empirical density, MATH.md 2. One query point at a time is evaluated into a
   workspace (rdg__ws); the batch functions run points in parallel, one workspace per thread. */
RDGDEF rdg_status rdg_gmm_init(rdg_gmm *g, const rdg_real *x, size_t n, size_t d) {
    size_t i, nd;
    int ok = 1;
    rdg_real sc = 0;
    if (!g) return RDG_ERR_INVALID;
    memset(g, 0, sizeof *g);
    if (!x || n == 0 || d == 0) return RDG_ERR_INVALID;
    nd = rdg__mul(n, d, &ok);
    if (!ok || nd > RDG_MAX_ELEMENTS || d > 4096) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(x, nd)) return RDG_ERR_NONFINITE;
    for (i = 0; i < nd; ++i) if (RDG__FABS(x[i]) > sc) sc = RDG__FABS(x[i]);
    g->x = x; g->n = n; g->d = d; g->drop = RDG__R(40.0); g->scale = sc;
    g->valid = RDG__GMM_MAGIC;
    return RDG_OK;
}

RDG__PRIVATE int rdg__gmm_ok(const rdg_gmm *g) {
    return g && g->valid == RDG__GMM_MAGIC && g->x && g->n > 0 && g->d > 0 && g->d <= 4096
        && rdg__isfinite(g->drop) && g->drop >= 0;
}

RDG__PRIVATE int rdg__t_ok(rdg_real t) { return rdg__isfinite(t) && t > 0; }

/* Per-point workspace: everything known about p_t at one query point. */
typedef struct rdg__ws {
    size_t n, d, nk;       /* nk: number of kept (non-negligible) weights                      */
    size_t dp;             /* d rounded up to whole vectors (rdg__pad)                          */
    size_t *idx;           /* nk indices of kept points, ascending                              */
    rdg_real *w;           /* nk normalised weights (shares storage with the log-weights)       */
    rdg_real *m, *g, *dm;  /* d: posterior mean, score, mean minus the reference point          */
    rdg_real *C, *V, *M;   /* d x d: centred covariance, eigenvectors (columns), Jacobian accum. */
    rdg_real *mu, *lam;    /* d: eigenvalues of C and of H, descending                          */
    rdg_real *jw;          /* d x d + d: eigensolver input (destroyed)                           */
    rdg_real *tw;          /* d x d + 5 d: eigensolver scratch                                  */
    rdg_real *c, *ct, *u;  /* d: one centred point, in data and eigen coordinates; J row vector  */
    rdg_real *gt, *qt, *zz; /* d: score in eigen coordinates; curvature-gradient accumulator; scratch */
    rdg_real *den;         /* d x d: 1 / (mu_b - mu_a)                                          */
    rdg_real *ta, *tb, *tc; /* RDG__TILE x dp each: a tile of rows for the kernels (padding 0)   */
    rdg_real *acc, *vp;    /* dp x dp: kernel accumulator; V (or a basis) with padded rows      */
    rdg_real *dnp;         /* dp x dp: rows a < d* of 1 / (mu_b - mu_a), b >= d* (else 0)        */
    const rdg_real *xt;    /* d x N transposed data shared by a pool (NULL: use the rows)       */
    const rdg_real *xx;    /* N: |x_i|^2, beside xt                                             */
    rdg_real *xt_own;      /* the pool's first workspace owns xt                                */
    size_t ref;            /* index of the largest weight                                       */
    rdg_real a, s2, logp;
    rdg__top top;          /* rdg__frame_tan's solve, kept while the frame is lean             */
    size_t top_kv;         /* the vectors it was asked for                                      */
    int lean;              /* 1: mu_{k-1} (and its vector) not yet iterated (rdg__frame_finish) */
} rdg__ws;

RDG__PRIVATE void rdg__ws_free(rdg__ws *w) {
    if (!w) return;
    rdg_free(w->idx); rdg_free(w->w);
    rdg_free(w->m); rdg_free(w->ta); rdg_free(w->xt_own);
    memset(w, 0, sizeof *w);
}

RDG__PRIVATE int rdg__ws_alloc(rdg__ws *w, size_t n, size_t d) {
    int ok = 1;
    size_t dd = rdg__mul(d, d, &ok), tot, dp = rdg__pad(d), tt;
    memset(w, 0, sizeof *w);
    tt = rdg__mul(dp, 3 * RDG__TILE + 3 * dp, &ok);
    if (!ok) return 0;
    tot = 7 * dd + 17 * d;
    if (tot < dd) return 0;
    w->n = n; w->d = d; w->dp = dp;
    w->idx = (size_t *)rdg__alloc(n, sizeof(size_t));
    w->w = (rdg_real *)rdg__alloc(n, sizeof(rdg_real));
    w->m = (rdg_real *)rdg__alloc(tot, sizeof(rdg_real));
    w->ta = (rdg_real *)rdg__alloc(tt, sizeof(rdg_real));
    if (!w->idx || !w->w || !w->m || !w->ta) { rdg__ws_free(w); return 0; }
    memset(w->ta, 0, tt * sizeof(rdg_real));
    w->g = w->m + d; w->dm = w->g + d; w->mu = w->dm + d; w->lam = w->mu + d;
    w->c = w->lam + d; w->ct = w->c + d; w->u = w->ct + d; w->gt = w->u + d; w->qt = w->gt + d; w->zz = w->qt + d;
    w->C = w->zz + d; w->V = w->C + dd; w->M = w->V + dd; w->den = w->M + dd;
    w->jw = w->den + dd;   /* dd + d */
    w->tw = w->jw + dd + d; /* dd + 5 d */
    w->tb = w->ta + RDG__TILE * dp; w->tc = w->tb + RDG__TILE * dp;
    w->acc = w->tc + RDG__TILE * dp; w->vp = w->acc + dp * dp; w->dnp = w->vp + dp * dp;
    return 1;
}

/* Number of workspaces (threads) to use for B independent points. */
RDG__PRIVATE int rdg__nthreads(size_t B) {
#if RDG__HAVE_OMP
    int t = omp_get_max_threads();
    if ((size_t)t > B) t = (int)B;
    return t < 1 ? 1 : t;
#else
    (void)B;
    return 1;
#endif
}

RDG__PRIVATE int rdg__thread_id(void) {
#if RDG__HAVE_OMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* One transposed copy of the data, in panels of RDG__PANEL points (d x RDG__PANEL each), so
   that the distance kernel runs over contiguous points and a panel stays in cache; the N norms
   |x_i|^2 follow the panels. NULL without memory. */
RDG__PRIVATE rdg_real *rdg__xt_build(const rdg_gmm *g) {
    size_t n = g->n, d = g->d, npan = n / RDG__PANEL + (n % RDG__PANEL != 0);
    int ok = 1, ip;
    rdg_real *xt, *xx;
    xt = (rdg_real *)rdg__alloc(rdg__mul(n + RDG__PANEL, d + 1, &ok), sizeof(rdg_real));
    if (!ok || !xt) return NULL;
    xx = xt + (n + RDG__PANEL) * d;
    /* panels in parallel: the copy (and the first touch of its pages, costly on some virtual
       machines) is as large as a score-only pass */
    RDG__OMP(parallel for schedule(static) num_threads(rdg__nthreads(npan)))
    for (ip = 0; ip < (int)npan; ++ip) {
        size_t i0 = (size_t)ip * RDG__PANEL, i1 = n - i0 < RDG__PANEL ? n : i0 + RDG__PANEL, i, j;
        rdg_real *pan = xt + i0 * d;
        for (i = i0; i < i1; ++i) {
            rdg_real r = 0;
            for (j = 0; j < d; ++j) {
                rdg_real v = g->x[i * d + j];
                pan[j * RDG__PANEL + (i - i0)] = v;
                r += v * v;
            }
            xx[i] = r;
        }
    }
    return xt;
}

/* Points the count workspaces of a pool at a transposed copy xt of g's data (not owned). */
RDG__PRIVATE void rdg__pool_share_xt(rdg__ws *pool, int count, const rdg_gmm *g, const rdg_real *xt) {
    int k;
    for (k = 0; k < count; ++k) { pool[k].xt = xt; pool[k].xx = xt + (g->n + RDG__PANEL) * g->d; }
}

/* Gives the count workspaces of a pool one shared transposed copy of the data, owned by the
   first. Returns 0 without memory (the pool is left as it was). */
RDG__PRIVATE int rdg__pool_xt(rdg__ws *pool, int count, const rdg_gmm *g) {
    rdg_real *xt;
    if (count < 1 || pool[0].xt_own) return 1;
    xt = rdg__xt_build(g);
    if (!xt) return 0;
    pool[0].xt_own = xt;
    rdg__pool_share_xt(pool, count, g, xt);
    return 1;
}

/* c_j = f ((x_j - r_j) - m_j), j < d: whole vectors, then a scalar tail with the same
   roundings (the loop with four pointers did not vectorise: 5-8 % of W2 LM in each user). */
RDG__PRIVATE void rdg__centre_row(const rdg_real *x, const rdg_real *r, const rdg_real *m, rdg_real f, size_t d,
                                  rdg_real *c) {
    size_t j = 0;
#if RDG__VW > 1
    rdg__v vf = RDG__VSET(f);
    for (; j + RDG__VW <= d; j += RDG__VW)
        RDG__VST(c + j, RDG__VMUL(vf, RDG__VSUB(RDG__VSUB(RDG__VLD(x + j), RDG__VLD(r + j)), RDG__VLD(m + j))));
#endif
    for (; j < d; ++j) c[j] = f * ((x[j] - r[j]) - m[j]);
}

/* y += a x over n entries: whole vectors, then scalars through RDG__FMA (fused as the vector
   lanes are, in a SIMD build). Loops like it over two pointers that may alias do not
   vectorise at -O2 (they were a third of the tangent Jacobian's own time there). */
RDG__PRIVATE void rdg__axpy(size_t n, rdg_real a, const rdg_real *x, rdg_real *y) {
    size_t j = 0;
#if RDG__VW > 1
    rdg__v va = RDG__VSET(a);
    for (; j + RDG__VW <= n; j += RDG__VW) RDG__VST(y + j, RDG__VFMA(va, RDG__VLD(x + j), RDG__VLD(y + j)));
#endif
    for (; j < n; ++j) y[j] = RDG__FMA(a, x[j], y[j]);
}

/* Row i of the BFGS update B += y y^T / sy - Bs Bs^T / sBs: row_j += (a u_j) / su - (b v_j) / sv
   for j < n, with a = u_i, b = v_i, in whole vectors, then scalars, each rounded as written
   (the plain loop did not vectorise at -O2: 4 % of W2 LM there). The products commute, so a
   symmetric B stays exactly symmetric; the divisions stay divisions (reciprocals changed the
   rounding enough to move which of the crosscheck's hardest LM points converge). */
RDG__PRIVATE void rdg__bfgs_row(rdg_real *row, size_t n, rdg_real a, const rdg_real *u, rdg_real su, rdg_real b,
                                const rdg_real *v, rdg_real sv) {
    size_t j = 0;
#if RDG__VW > 1
    rdg__v va = RDG__VSET(a), vsu = RDG__VSET(su), vb = RDG__VSET(b), vsv = RDG__VSET(sv);
    for (; j + RDG__VW <= n; j += RDG__VW)
        RDG__VST(row + j, RDG__VADD(RDG__VLD(row + j), RDG__VSUB(RDG__VDIV(RDG__VMUL(va, RDG__VLD(u + j)), vsu),
                                                                 RDG__VDIV(RDG__VMUL(vb, RDG__VLD(v + j)), vsv))));
#endif
    for (; j < n; ++j) row[j] += a * u[j] / su - b * v[j] / sv;
}

/* Row c_k = x_{idx[k]} - m of the kept points, computed relative to the reference point (see
   rdg__eval), into a padded row (padding stays 0). */
RDG__PRIVATE void rdg__centred(const rdg_gmm *g, const rdg__ws *w, size_t k, rdg_real *c) {
    size_t d = g->d;
    rdg__centre_row(g->x + w->idx[k] * d, g->x + w->ref * d, w->dm, 1, d, c);
}

/* Copies the lower triangle of a dp-strided accumulator into a symmetric d x d matrix. */
RDG__PRIVATE void rdg__acc_sym(const rdg__ws *w, rdg_real *C) {
    size_t i, j, d = w->d, dp = w->dp;
    for (i = 0; i < d; ++i) for (j = 0; j <= i; ++j) C[i * d + j] = C[j * d + i] = w->acc[i * dp + j];
}

/* Log-weights e_i = -|x - a x_i|^2 / (2 s^2) of all N points into w->w; returns the largest. */
RDG__PRIVATE rdg_real rdg__eval_scan(const rdg_gmm *g, const rdg_real *x, rdg__ws *w) {
    rdg_real inv2s2 = RDG__R(0.5) / w->s2;
    if (!w->xt) return rdg__k_dist_rows(g->x, g->n, g->d, x, w->a, inv2s2, w->w);
    return rdg__k_dist(w->xt, g->n, g->d, x, w->a, inv2s2, w->w);
}

/* rdg__cov_tile for d <= RDG__SMALLD: four partial sums per entry (points p mod 4). */
RDG__PRIVATE void rdg__cov_small(const rdg_gmm *g, rdg__ws *w, size_t k0, size_t P, size_t d) {
    rdg_real ps[4][RDG__SMALLD * RDG__SMALLD], c[RDG__SMALLD];
    size_t i, j, l, p = 0;
    for (l = 0; l < 4; ++l) for (i = 0; i < d * d; ++i) ps[l][i] = 0;
    for (; p < P; ++p) {
        rdg_real wk = w->w[k0 + p];
        l = p & 3;
        rdg__centred(g, w, k0 + p, c);
        for (i = 0; i < d; ++i) for (j = 0; j <= i; ++j) ps[l][i * d + j] = RDG__FMA(c[i], wk * c[j], ps[l][i * d + j]);
    }
    for (i = 0; i < d; ++i) for (j = 0; j <= i; ++j)
        w->acc[i * w->dp + j] += (ps[0][i * d + j] + ps[1][i * d + j]) + (ps[2][i * d + j] + ps[3][i * d + j]);
}

/* The plane's C entries 00, 10, 11 (s3) into the accumulator's lower triangle. */
RDG__PRIVATE void rdg__acc_d2(rdg__ws *w, const rdg_real *s3) {
    w->acc[0] += s3[0];
    w->acc[w->dp] += s3[1];
    w->acc[w->dp + 1] += s3[2];
}

/* The same for d = 2 (the paper's plane experiments): rdg__k_cov2 over the P kept points
   idx[0..P) with their normalised weights wt. */
RDG__PRIVATE void rdg__cov_d2(const rdg_gmm *g, rdg__ws *w, const size_t *idx, const rdg_real *wt, size_t P) {
    rdg_real s3[3] = { 0, 0, 0 };
    rdg__k_cov2(g->x, idx, wt, P, g->x + w->ref * 2, w->dm, s3);
    rdg__acc_d2(w, s3);
}

/* C accumulator += sum over kept points k0 .. k0 + RDG__TILE - 1 of w_k c_k c_k^T (lower), as
   b_k b_k^T with b_k = sqrt(w_k) c_k: one tile of rows for both sides of the outer-product
   kernel, where c_k and w_k c_k took two (half the stores and of the L1 footprint beside the
   kernel's: W1's Hessian 5-7 % faster on one thread at t = 0.3 and 5, interleaved runs).
   ta: RDG__TILE x dp scratch (w->ta, or one shared by a block of queries, which use it one
   after the other). */
RDG__PRIVATE void rdg__cov_tile(const rdg_gmm *g, rdg__ws *w, size_t k0, rdg_real *ta) {
    size_t d = g->d, dp = w->dp, p, P = w->nk - k0 < RDG__TILE ? w->nk - k0 : RDG__TILE;
    const rdg_real *xr = g->x + w->ref * d;
    if (d <= RDG__SMALLD) {      /* the d (d + 1) / 2 entries directly, four partial sums each */
        if (d == 2) rdg__cov_d2(g, w, w->idx + k0, w->w + k0, P); else rdg__cov_small(g, w, k0, P, d);
        return;
    }
    for (p = 0; p < P; ++p)             /* rdg__centred and the weighting in one pass */
        rdg__centre_row(g->x + w->idx[k0 + p] * d, xr, w->dm, RDG__SQRT(w->w[k0 + p]), d, ta + p * dp);
    rdg__k_atb(P, dp, 0, ta, ta, w->acc, 1);
}

/* Mean m = x_ref + dm and score g = (a m - x) / s^2 from the accumulated dm. */
RDG__PRIVATE void rdg__tail_mean(const rdg_gmm *g, const rdg_real *x, rdg__ws *w) {
    size_t j, d = g->d;
    const rdg_real *xr = g->x + w->ref * d;
    for (j = 0; j < d; ++j) {
        w->m[j] = xr[j] + w->dm[j];
        w->g[j] = (w->a * w->m[j] - x[j]) / w->s2;
    }
}

/* log p_t(x) = emax + log sum - log N - (d / 2) log(2 pi s^2), sum = sum_i exp(e_i - emax) over
   the kept points (MATH.md 2: the log-sum-exp shifted by its maximum). */
RDG__PRIVATE rdg_real rdg__logp(rdg_real emax, rdg_real sum, size_t n, size_t d, rdg_real s2) {
    return emax + RDG__LOG(sum) - RDG__LOG((rdg_real)n) - RDG__R(0.5) * (rdg_real)d * RDG__LOG(RDG__R(2.0) * RDG__PI * s2);
}

/* Everything after the log-weights: e = w->w holds them for the m points src[0..m) (ascending;
   src NULL: points 0..m-1), among them every point within drop of the largest, emax. Keeps
   those (compacted in place, branch-free), then weights, log p, mean, score and (want_cov) C.
   want_cov < 0: stops after the weights, dm zeroed, for a caller that sums dm itself. */
RDG__PRIVATE void rdg__eval_tail(const rdg_gmm *g, const rdg_real *x, rdg__ws *w, int want_cov,
                                 const size_t *src, size_t m, rdg_real emax) {
    size_t n = g->n, d = g->d, dp = w->dp, j, k, nk, k0, imax = m;
    const rdg_real *X = g->x, *xr;
    rdg_real s2 = w->s2, cut, sum, inv;
    rdg_real *e = w->w;
    (void)dp;
    cut = g->drop > 0 ? emax - g->drop : -RDG__BIG;
    nk = rdg__k_compact(e, m, src, cut, emax, w->idx, &imax);
    if (imax == m) imax = 0;             /* every distance overflowed: e = -inf */
    imax = src ? src[imax] : imax;
    w->nk = nk;
    sum = rdg__k_exp(e, nk, emax);
    w->logp = rdg__logp(emax, sum, n, d, s2);
    inv = RDG__R(1.0) / sum;
    for (k = 0; k < nk; ++k) e[k] *= inv;
    w->ref = imax;
    xr = X + imax * d;
    for (j = 0; j < d; ++j) w->dm[j] = 0;
    if (want_cov < 0) return;            /* the caller accumulates dm itself (rdg_density_eval) */
    rdg__k_wsum(X, d, w->idx, e, nk, xr, w->dm);
    rdg__tail_mean(g, x, w);
    if (!want_cov) return;
    for (j = 0; j < dp * dp; ++j) w->acc[j] = 0;
    for (k0 = 0; k0 < nk; k0 += RDG__TILE) rdg__cov_tile(g, w, k0, w->ta);
    rdg__acc_sym(w, w->C);
}

/* rdg__eval_tail (want_cov < 0, plus dm) for the plane (d = 2) after a full scan, when at least
   a quarter of the points are kept (the 2-D experiments at most t, W1 at t = 0.01): the
   weights of all n points stay in place and in order, and log p, the reference point and dm
   come from contiguous passes over the rows, where compaction and gathered rows would cost
   more than the dropped points. The kept set, the reference and the mean's formula are
   rdg__eval_tail's; the order of the sums differs, and the weights are left unnormalised:
   w->w holds u_i = exp(e_i - emax) (0 below the cut) and *sum their sum, w_i = u_i / *sum.
   m3 (NULL: not wanted) receives C's entries 00, 10, 11 from the mean's own pass, shifted by
   the reference point (rdg__k_mom2: m3 / W - dm dm^T), where rdg__eval_tail takes a second
   pass centred on the mean: W1 at d = 2 1.3x-1.6x faster (tools/ab.sh, N = 1e3 to 1e5).
   Returns 0, having changed nothing, when fewer points are kept (then w->w must go through
   rdg__eval_tail); on 1, w->nk counts the kept points but w->idx is not set. */
RDG__PRIVATE int rdg__tail_plane(const rdg_gmm *g, rdg__ws *w, rdg_real emax, rdg_real *sum, rdg_real *m3) {
    size_t n = g->n, i, nk = 0, imax = 0, b;
    rdg_real *e = w->w, cut = g->drop > 0 ? emax - g->drop : -RDG__BIG, inv;
    if (g->d != 2) return 0;
    for (i = 0; i < n; ++i) nk += e[i] >= cut;
    if (nk < n / 4 || nk == 0) return 0;
    /* the first largest, as rdg__k_compact: blocks of 64 tested whole (a loop compilers
       vectorise), then the point within the block */
    for (b = 0; b + 64 <= n; b += 64) {
        int hit = 0;
        for (i = b; i < b + 64; ++i) hit |= e[i] == emax;
        if (hit) break;
    }
    for (imax = b; imax < n && !(e[imax] == emax); ++imax) {}
    if (imax == n) return 0;
    *sum = rdg__k_expcut(e, n, emax, cut);
    w->logp = rdg__logp(emax, *sum, n, 2, w->s2);
    w->nk = nk;
    w->ref = imax;
    w->dm[0] = w->dm[1] = 0;
    if (m3) {
        m3[0] = m3[1] = m3[2] = 0;
        rdg__k_mom2(g->x, e, n, g->x + imax * 2, w->dm, m3);
    } else rdg__k_wsum(g->x, 2, NULL, e, n, g->x + imax * 2, w->dm);
    inv = RDG__R(1.0) / *sum;
    w->dm[0] *= inv; w->dm[1] *= inv;
    if (m3) {
        m3[0] = RDG__FMA(-w->dm[0], w->dm[0], m3[0] * inv);
        m3[1] = RDG__FMA(-w->dm[1], w->dm[0], m3[1] * inv);
        m3[2] = RDG__FMA(-w->dm[1], w->dm[1], m3[2] * inv);
    }
    return 1;
}

/* Weights, log p, posterior mean and score at x (and C when want_cov), MATH.md 2.
   log-sum-exp shifted by its maximum; moments taken relative to the point of largest weight,
   so C keeps relative accuracy when one weight is close to 1. Weights below exp(-drop) of the
   largest are dropped: each is < exp(-drop) of the total, so every moment moves by at most
   N exp(-drop) relative (4e-18 N at the default 40). C = sum_k c_k (w_k c_k)^T runs through
   the outer-product kernel on tiles of RDG__TILE kept points. */
RDG__PRIVATE void rdg__eval(const rdg_gmm *g, const rdg_real *x, rdg__ws *w, int want_cov) {
    rdg_real emax = rdg__eval_scan(g, x, w);
    rdg__eval_tail(g, x, w, want_cov, NULL, g->n, emax);
}

/* The exact model's posterior mean (and score) at x into w->m, w->g: rdg_density_eval's
   arithmetic for one point (rdg__tail_plane where it applies, then w->idx is not set), so that
   every path to m_t that must agree with it bit for bit (the exact model in a parallel region,
   the L_PM targets and their loss) does. */
RDG__PRIVATE void rdg__eval_mean(const rdg_gmm *g, const rdg_real *x, rdg__ws *w) {
    rdg_real emax = rdg__eval_scan(g, x, w), usum;
    if (rdg__tail_plane(g, w, emax, &usum, NULL)) rdg__tail_mean(g, x, w);
    else rdg__eval_tail(g, x, w, 0, NULL, g->n, emax);
}

/* Number of e_i >= thr (NaN never), whole vectors at a time (exact: a double counts to 2^53). */
RDG__PRIVATE size_t rdg__count_ge(const rdg_real *e, size_t n, rdg_real thr) {
    size_t i = 0, m = 0;
#if RDG__VW > 1
    rdg__v acc = RDG__VSET(0.0), one = RDG__VSET(1.0), vt = RDG__VSET(thr);
    for (; i + RDG__VW <= n; i += RDG__VW) acc = RDG__VADD(acc, RDG__VKEEPGE(one, RDG__VLD(e + i), vt));
    m = (size_t)rdg__vsum(acc);
#endif
    for (; i < n; ++i) m += e[i] >= thr;
    return m;
}

/* The indices i with e_i >= thr, ascending, into idx (room for n); returns their number.
   Vectors with none are skipped; AVX-512 compresses the indices of 8 at a time (the full
   store may run past the count, never past the 8 lanes loaded: the count is <= i). */
RDG__PRIVATE size_t rdg__list_ge(const rdg_real *e, size_t n, rdg_real thr, size_t *idx) {
    size_t i = 0, i1, m = 0;
#if RDG__IDX8
    const __m512d vt = _mm512_set1_pd(thr);
    const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (; i + 8 <= n; i += 8) {
        __mmask8 keep = _mm512_cmp_pd_mask(_mm512_loadu_pd(e + i), vt, _CMP_GE_OQ);
        unsigned kb = (unsigned)keep;
        if (!kb) continue;
        _mm512_storeu_si512((void *)(idx + m), _mm512_maskz_compress_epi64(keep, _mm512_add_epi64(_mm512_set1_epi64((long long)i), iota)));
        m += rdg__popc8(kb);
    }
#endif
    for (; i < n; i = i1) {
        i1 = i + RDG__VW <= n ? i + RDG__VW : n;
#if RDG__VW > 1
        if (i1 - i == RDG__VW && !RDG__VANYGE(RDG__VLD(e + i), thr)) continue;
#endif
        for (; i < i1; ++i) { idx[m] = i; m += e[i] >= thr; }
    }
    return m;
}

/* Candidate sets: the set of points that can carry weight, reused from one evaluation to the
   next (the exact model's trajectories, W3 of tools/bench; projections at fixed t, W2). A full
   scan at (y0, a0, s0^2) keeps the
   points with r_i = |y0 - a0 x_i| <= R0 = sqrt(r_min^2 + 2 s0^2 drop) (weights within exp(-drop)
   of the largest); the candidate set S holds those with r_i <= R0 + 2 D (margin D). At a later
   (y, a, s^2) with s^2 <= s0^2 and |y - y0| + |a - a0| max_i |x_i| <= D, every distance moved
   by at most D, so r_min <= r_min0 + D, the new keep radius is <= R0 + D (sqrt(u^2 + c) is
   1-Lipschitz in u) and every point outside S lies beyond it: S holds every kept point and the
   largest weight, and the kept set, hence the result, is exactly that of a full scan (the
   distances of S are computed with the same rounding). Otherwise, a full scan rebuilds S. */
typedef struct rdg__cand {
    size_t *idx, m;            /* candidates, ascending; room for N                          */
    rdg_real *y0;              /* d: the point of the scan that built the set                */
    rdg_real *xt;              /* the candidates as transposed panels (room: rdg__cand_xt_len),
                                  so their distances take the panel kernel; NULL: by index    */
    rdg_real a0, s20, margin;
    int valid;
} rdg__cand;

#define RDG__CAND_MAXFRAC 4    /* a set above N / 4 points is not worth its scalar distances */

/* Points in a set's panels: m rounded up to whole vectors (the last point repeated), so the
   distance kernel has no scalar tail, when the N log-weights of a workspace have room. */
RDG__PRIVATE size_t rdg__cand_pad(size_t m, size_t n) {
    size_t mp = (m + RDG__VW - 1) / RDG__VW * RDG__VW;
    return mp <= n ? mp : m;
}

/* Reals of a set's own storage beside its N indices: y0 (d), then panel room for at most
   N / RDG__CAND_MAXFRAC points. */
RDG__PRIVATE size_t rdg__cand_xt_len(size_t n, size_t d) { return (n / RDG__CAND_MAXFRAC + RDG__PANEL) * d; }
RDG__PRIVATE size_t rdg__cand_len(size_t n, size_t d) { return d + rdg__cand_xt_len(n, d); }

/* An empty set on idx (room for N) and buf (rdg__cand_len reals). */
RDG__PRIVATE void rdg__cand_attach(rdg__cand *c, size_t *idx, rdg_real *buf, size_t d) {
    memset(c, 0, sizeof *c);
    c->idx = idx;
    c->y0 = buf;
    c->xt = buf + d;
}
#define RDG__CAND_MAXMEM ((size_t)256 << 20)   /* bytes of candidate sets (indices, panels), all threads */

/* Whether the set c holds every point that can carry weight at (y, w->a, w->s2) (xmax: the
   largest |x_i|); if so, evaluates there from the set alone (want_cov as rdg__eval_tail) and
   returns 1. */
RDG__PRIVATE int rdg__cand_eval(const rdg_gmm *g, rdg_real xmax, const rdg_real *y, rdg__ws *w,
                                rdg__cand *c, int want_cov) {
    size_t d = g->d, i;
    rdg_real dy = 0, emax;
    if (!c || !c->valid || w->s2 > c->s20) return 0;
    for (i = 0; i < d; ++i) dy += (y[i] - c->y0[i]) * (y[i] - c->y0[i]);
    if (RDG__SQRT(dy) + RDG__FABS(w->a - c->a0) * xmax > c->margin) return 0;
    if (c->xt)             /* the panel kernel: the same rounding as rdg__k_dist_idx */
        emax = rdg__k_dist(c->xt, rdg__cand_pad(c->m, g->n), d, y, w->a, RDG__R(0.5) / w->s2, w->w);
    else emax = rdg__k_dist_idx(g->x, d, c->idx, c->m, y, w->a, RDG__R(0.5) / w->s2, w->w);
    rdg__eval_tail(g, y, w, want_cov, c->idx, c->m, emax);
    return 1;
}

/* The candidate-set step of the sampler: the mean from the set alone when the bound allows. */
RDG__PRIVATE int rdg__exact_cand(const rdg_gmm *g, rdg_real xmax, const rdg_real *y, rdg__ws *w,
                                 rdg__cand *c, rdg_real *out) {
    if (!rdg__cand_eval(g, xmax, y, w, c, 0)) return 0;
    memcpy(out, w->m, g->d * sizeof(rdg_real));
    return 1;
}

/* A new candidate set from a full scan's log-weights e (largest emax) at y. patient: after a
   set of more than half the points, wait for s^2 to shrink (the sampler, whose s^2 falls). */
RDG__PRIVATE void rdg__cand_build(const rdg_gmm *g, const rdg_real *y, rdg_real a, rdg_real s2,
                                  const rdg_real *e, rdg_real emax, rdg__cand *c, int patient) {
    /* e_i = -r_i^2 / (2 s^2); margin D = sqrt(2 s^2 drop) / 4; the set is built with a relative
       slack of 1e-6 on the radius and the margin test keeps 1e-6 in hand, far above the
       rounding of the distances */
    size_t n = g->n, m;
    rdg_real rho2 = RDG__R(2.0) * s2 * g->drop, R0 = RDG__SQRT(-RDG__R(2.0) * s2 * emax + rho2);
    rdg_real D = RDG__R(0.25) * RDG__SQRT(rho2), Rc = (R0 + RDG__R(2.0) * D) * (1 + RDG__R(1e-6));
    rdg_real thr = -(Rc * Rc) / (RDG__R(2.0) * s2);
    if (!c || g->drop <= 0 || !rdg__isfinite(emax)) return;
    /* while the last set held more than half the points, wait for s^2 to shrink by a fifth
       before building again (no set is used meanwhile: full scans, exact as ever) */
    if (patient && c->m > n / 2 && c->s20 > 0 && s2 > RDG__R(0.8) * c->s20) { c->valid = 0; return; }
    /* count first; the indices only for a set that will be used */
    m = rdg__count_ge(e, n, thr);
    c->m = m;
    c->valid = m <= n / RDG__CAND_MAXFRAC;
    if (c->valid) rdg__list_ge(e, n, thr, c->idx);
    if (c->valid && c->xt && m > 0)   /* panels of RDG__PANEL candidates, d x RDG__PANEL each */
        rdg__k_panrows(g->x, g->d, c->idx, m, rdg__cand_pad(m, n), c->xt);
    memcpy(c->y0, y, g->d * sizeof(rdg_real));
    c->a0 = a; c->s20 = s2; c->margin = D * (1 - RDG__R(1e-6));
}

/* rdg__eval (with C) at fixed t through a candidate set c (NULL: plain): from the set when
   it covers x, else a full scan that builds a new set. Bit-identical to rdg__eval. */
RDG__PRIVATE void rdg__eval_near(const rdg_gmm *g, const rdg_real *x, rdg__ws *w, rdg__cand *c) {
    rdg_real emax;
    if (rdg__cand_eval(g, 0, x, w, c, 1)) return;
    emax = rdg__eval_scan(g, x, w);
    rdg__cand_build(g, x, w->a, w->s2, w->w, emax, c, 0);
    rdg__eval_tail(g, x, w, 1, NULL, g->n, emax);
}

RDG__PRIVATE void rdg__pool_free(rdg__ws *pool, int count) {
    int i;
    if (!pool) return;
    for (i = 0; i < count; ++i) rdg__ws_free(&pool[i]);
    rdg_free(pool);
}

/* count workspaces, each with room for N weights and d x d matrices; NULL on failure. */
RDG__PRIVATE rdg__ws *rdg__pool_alloc(int count, size_t n, size_t d, rdg_real t) {
    int i;
    rdg__ws *pool = (rdg__ws *)rdg__alloc((size_t)count, sizeof(rdg__ws));
    if (!pool) return NULL;
    memset(pool, 0, (size_t)count * sizeof(rdg__ws));
    for (i = 0; i < count; ++i) {
        if (!rdg__ws_alloc(&pool[i], n, d)) { rdg__pool_free(pool, count); return NULL; }
        rdg_ou(t, &pool[i].a, &pool[i].s2);
    }
    return pool;
}

/* Checks shared by the batch entry points: view, time, points. */
RDG__PRIVATE rdg_status rdg__batch_check(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B) {
    int ok = 1;
    size_t nd;
    if (!rdg__gmm_ok(g) || !y || B == 0 || !rdg__t_ok(t)) return RDG_ERR_INVALID;
    nd = rdg__mul(B, g->d, &ok);
    rdg__mul(nd, g->d, &ok);
    rdg__mul(B, g->n, &ok);
    if (!ok || B > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(y, nd)) return RDG_ERR_NONFINITE;
    return RDG_OK;
}

/* The reusable part of rdg_density_eval: workspaces grown to the largest call so far, and the
   transposed data built by the first call that streams it. */
struct rdg_density_ctx {
    const rdg_gmm *g;           /* the view                                                */
    const rdg_real *x;          /* its points, count and dimension when the context was made */
    size_t n, d;
    rdg__ws *pool;              /* cap workspaces                                          */
    int cap;
    rdg_real *xt;               /* rdg__xt_build's copy, or NULL                           */
};

RDG__PRIVATE void rdg__dctx_init(rdg_density_ctx *c, const rdg_gmm *g) {
    memset(c, 0, sizeof *c);
    c->g = g; c->x = g->x; c->n = g->n; c->d = g->d;
}

RDG__PRIVATE void rdg__dctx_release(rdg_density_ctx *c) {
    rdg__pool_free(c->pool, c->cap);
    rdg_free(c->xt);
    c->pool = NULL; c->cap = 0; c->xt = NULL;
}

RDGDEF rdg_status rdg_density_ctx_create(const rdg_gmm *g, rdg_density_ctx **ctx) {
    rdg_density_ctx *c;
    if (!ctx) return RDG_ERR_INVALID;
    *ctx = NULL;
    if (!rdg__gmm_ok(g)) return RDG_ERR_INVALID;
    c = (rdg_density_ctx *)rdg__alloc(1, sizeof *c);
    if (!c) return RDG_ERR_NOMEM;
    rdg__dctx_init(c, g);
    *ctx = c;
    return RDG_OK;
}

RDGDEF void rdg_density_ctx_free(rdg_density_ctx *ctx) {
    if (!ctx) return;
    rdg__dctx_release(ctx);
    rdg_free(ctx);
}

/* Makes room for count workspaces (and the transposed data when want_xt) and sets their time. */
RDG__PRIVATE rdg_status rdg__dctx_reserve(rdg_density_ctx *c, int count, int want_xt, rdg_real t) {
    int k;
    if (c->cap < count) {
        rdg__pool_free(c->pool, c->cap);
        c->cap = 0;
        c->pool = rdg__pool_alloc(count, c->n, c->d, t);
        if (!c->pool) return RDG_ERR_NOMEM;
        c->cap = count;
        if (c->xt) rdg__pool_share_xt(c->pool, c->cap, c->g, c->xt);
    }
    if (want_xt && !c->xt) {
        c->xt = rdg__xt_build(c->g);
        if (!c->xt) return RDG_ERR_NOMEM;
        rdg__pool_share_xt(c->pool, c->cap, c->g, c->xt);
    }
    for (k = 0; k < count; ++k) rdg_ou(t, &c->pool[k].a, &c->pool[k].s2);
    return RDG_OK;
}

RDGDEF rdg_status rdg_density_eval(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                   rdg_density_out *out) {
    rdg_density_ctx c;
    rdg_status st;
    if (!g) return RDG_ERR_INVALID;
    rdg__dctx_init(&c, g);
    st = rdg_density_eval_ctx(&c, t, y, B, out);
    rdg__dctx_release(&c);
    return st;
}

RDGDEF rdg_status rdg_density_eval_ctx(rdg_density_ctx *ctx, rdg_real t, const rdg_real *y, size_t B,
                                       rdg_density_out *out) {
    rdg_status st;
    rdg__ws *pool;
    const rdg_gmm *g;
    int nth, ib, want_cov;
    size_t d, nblk, qs;
    if (!out || !ctx) return RDG_ERR_INVALID;
    g = ctx->g;
    st = rdg__batch_check(g, t, y, B);
    if (st != RDG_OK) return st;
    if (g->x != ctx->x || g->n != ctx->n || g->d != ctx->d) return RDG_ERR_INVALID;
    d = g->d;
    want_cov = out->cov || out->hess;
    /* Blocks of queries: one pass over the data panels serves the whole block (the
       distance kernel, then the covariance tiles in step), so a large data set is streamed
       from memory once per block instead of once per query. A query's arithmetic does not
       depend on its block: results are the same for any B and any number of threads. */
    /* queries per block: about d / 4 (4 to RDG__QS), so that the data panels streamed per query
       (8 N d / qs bytes) stay near the query's own log-weights and indices (32 N bytes, which
       must stay in cache); about d / 2 from N = 32768 on, where those no longer stay in a
       core's cache anyway and the data is the larger stream (measured at N = 1e5, d = 32,
       alternating runs: 5 % faster at t = 5, 24 % at t = 0.3, 38 % at t = 0.01); fewer when
       that leaves the threads under two blocks each */
    qs = RDG__QB;
    while (qs < RDG__QS && (g->n >= 32768 ? 2 : 4) * qs < d) qs *= 2;
    while (qs > RDG__QB && B < 2 * qs * (size_t)rdg__nthreads(B)) qs /= 2;
    nblk = B / qs + (B % qs != 0);
    nth = rdg__nthreads(nblk);
    st = rdg__dctx_reserve(ctx, nth * (int)qs, B >= 4, t);
    if (st != RDG_OK) return st;
    pool = ctx->pool;
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ib = 0; ib < (int)nblk; ++ib) {
        rdg__ws *wq = &pool[(size_t)rdg__thread_id() * qs];
        size_t b0 = (size_t)ib * qs, nq = B - b0 < qs ? B - b0 : qs, q, i, j, k, n = g->n;
        size_t cur[RDG__QS];
        rdg_real mx[RDG__QS];
        int pl[RDG__QS];                     /* rdg__tail_plane took the query ... */
        rdg_real usum[RDG__QS];              /* ... its weights' sum and C (want_cov) */
        rdg_real c3[RDG__QS][3];
        if (nq % RDG__QB == 0 && wq[0].xt) {
            const rdg_real *yq[RDG__QS];
            rdg_real *ei[RDG__QS];
            for (q = 0; q < nq; ++q) { yq[q] = y + (b0 + q) * d; mx[q] = -RDG__BIG; }
            for (i = 0; i < n; i += RDG__TILE) {   /* RDG__TILE points stay in L1 for the whole block */
                for (q = 0; q < nq; ++q) ei[q] = wq[q].w + i;
                for (q = 0; q < nq; q += RDG__QB)
                    rdg__k_distq(wq[0].xt + i * d, n - i < RDG__TILE ? n - i : RDG__TILE, d, yq + q, wq[0].a,
                                 RDG__R(0.5) / wq[0].s2, ei + q, mx + q);
            }
        } else for (q = 0; q < nq; ++q) mx[q] = rdg__eval_scan(g, y + (b0 + q) * d, &wq[q]);
        for (q = 0; q < nq; ++q) {
            pl[q] = rdg__tail_plane(g, &wq[q], mx[q], &usum[q], want_cov ? c3[q] : NULL);
            if (!pl[q]) rdg__eval_tail(g, y + (b0 + q) * d, &wq[q], -1, NULL, n, mx[q]);
            cur[q] = 0;
        }
        /* dm of every query, in chunks of the data so that queries sharing kept points share
           them in cache; each query still sums its kept points in order */
        for (i = 0; i < n; i += RDG__WCHUNK)
            for (q = 0; q < nq; ++q) {
                rdg__ws *w = &wq[q];
                size_t k1 = cur[q], hi = w->nk;
                if (pl[q]) continue;
                while (k1 < hi) {            /* first kept index at or past the chunk's end */
                    size_t mid = k1 + (hi - k1) / 2;
                    if (w->idx[mid] < i + RDG__WCHUNK) k1 = mid + 1; else hi = mid;
                }
                rdg__k_wsum(g->x, d, w->idx + cur[q], w->w + cur[q], k1 - cur[q], g->x + w->ref * d, w->dm);
                cur[q] = k1;
            }
        for (q = 0; q < nq; ++q) rdg__tail_mean(g, y + (b0 + q) * d, &wq[q]);
        if (want_cov) {
            size_t k0, nkmax = 0;
            for (q = 0; q < nq; ++q) {
                for (j = 0; j < wq[q].dp * wq[q].dp; ++j) wq[q].acc[j] = 0;
                if (pl[q]) rdg__acc_d2(&wq[q], c3[q]);
                else if (wq[q].nk > nkmax) nkmax = wq[q].nk;
            }
            /* the block's queries share one tile (the first's): a tile per query would keep
               qs x RDG__TILE x dp reals (256 KB at d = 32, qs = 16) in the core's cache for
               nothing */
            for (k0 = 0; k0 < nkmax; k0 += RDG__TILE)
                for (q = 0; q < nq; ++q)
                    if (!pl[q] && k0 < wq[q].nk) rdg__cov_tile(g, &wq[q], k0, wq[0].ta);
            for (q = 0; q < nq; ++q) rdg__acc_sym(&wq[q], wq[q].C);
        }
        for (q = 0; q < nq; ++q) {
            rdg__ws *w = &wq[q];
            size_t b = b0 + q;
            if (out->logp) out->logp[b] = w->logp;
            if (out->mean) memcpy(out->mean + b * d, w->m, d * sizeof(rdg_real));
            if (out->score) memcpy(out->score + b * d, w->g, d * sizeof(rdg_real));
            if (out->weights) {
                rdg_real *wo = out->weights + b * g->n;
                if (pl[q]) { rdg_real inv = RDG__R(1.0) / usum[q]; for (i = 0; i < g->n; ++i) wo[i] = w->w[i] * inv; }
                else {
                    for (i = 0; i < g->n; ++i) wo[i] = 0;
                    for (k = 0; k < w->nk; ++k) wo[w->idx[k]] = w->w[k];
                }
            }
            if (out->cov) memcpy(out->cov + b * d * d, w->C, d * d * sizeof(rdg_real));
            if (out->hess) {
                /* (a/s^2) C (a/s^2), never (a^2/s^4) C: a^2/s^4 overflows for t < 1e-154 */
                rdg_real *h = out->hess + b * d * d, as = w->a / w->s2;
                for (i = 0; i < d; ++i) for (j = 0; j < d; ++j)
                    h[i * d + j] = (as * w->C[i * d + j]) * as - (i == j ? RDG__R(1.0) / w->s2 : 0);
            }
        }
    }
    return RDG_OK;
}

RDGDEF rdg_status rdg_density_d3(const rdg_gmm *g, rdg_real t, const rdg_real *y,
                                 const rdg_real *u, const rdg_real *v, rdg_real *out) {
    rdg__ws w;
    size_t d, j, k;
    rdg_real sc;
    rdg_status st;
    if (!u || !v || !out) return RDG_ERR_INVALID;
    st = rdg__batch_check(g, t, y, 1);
    if (st != RDG_OK) return st;
    d = g->d;
    if (!rdg__allfinite(u, d) || !rdg__allfinite(v, d)) return RDG_ERR_NONFINITE;
    if (!rdg__ws_alloc(&w, g->n, d)) return RDG_ERR_NOMEM;
    rdg_ou(t, &w.a, &w.s2);
    rdg__eval(g, y, &w, 0);
    for (j = 0; j < d; ++j) out[j] = 0;
    for (k = 0; k < w.nk; ++k) {
        rdg_real uc = 0, vc = 0, f;
        rdg__centred(g, &w, k, w.c);
        for (j = 0; j < d; ++j) { uc += u[j] * w.c[j]; vc += v[j] * w.c[j]; }
        f = w.w[k] * uc * vc;
        for (j = 0; j < d; ++j) out[j] += f * w.c[j];
    }
    sc = w.a / w.s2;
    for (j = 0; j < d; ++j) out[j] = ((out[j] * sc) * sc) * sc;
    rdg__ws_free(&w);
    return RDG_OK;
}

/* >>ridge -------------------------------------------------------------------------------------
   Frame, residual, Jacobian (MATH.md 3-4). The frame is taken from the eigenvectors of C:
   lam_j(H) = -1/s^2 + (a^2/s^4) mu_j(C) keeps relative accuracy when C is tiny; lam from mu: */
RDG__PRIVATE void rdg__frame_lam(rdg__ws *w) {
    size_t j;
    rdg_real as = w->a / w->s2;
    for (j = 0; j < w->d; ++j) w->lam[j] = (as * w->mu[j]) * as - RDG__R(1.0) / w->s2;
}

RDG__PRIVATE void rdg__frame(rdg__ws *w) {
    size_t d = w->d;
    memcpy(w->jw, w->C, d * d * sizeof(rdg_real));
    if (!rdg__eigh_ql(w->jw, d, w->mu, w->V, w->tw)) {
        /* QL ran out of steps (not seen in tests): Jacobi, whose 100 sweeps never run out */
        memcpy(w->jw, w->C, d * d * sizeof(rdg_real));
        (void)rdg__jacobi(w->jw, d, w->mu, w->V);
    }
    rdg__frame_lam(w);
}

/* An SCMS step's frame for d* = 1 from the last step's tangent vector (V's column 0; cold: from
   e_k, k the largest diagonal entry of C, for a first step; about 15 steps in W2): power
   iteration y <- C y / |C y| until the residual r = C y - th y (th = y.C y) has
   |r| <= 8 eps |C|_F, then a certificate. With C' = C - th y y^T, Weyl's inequality (a
   rank-one term cannot lift the second eigenvalue above the first of the rest) gives
       lam_1(C) <= lam_max(C') <= b = min(|C'|_F, sh + |C' - sh I|_F),  sh = tr C' / d,
   and the step takes y when b < th - |r| - cut (cut = RDG__GAP_NOISE th, plus the rounding of
   C'). Then the eigenvalue within |r| of th is lam_0, lam_0 - lam_1 > cut (the gap test is
   decided: not noisy), and y is v_0 to |r| / cut. Only the tangent vector and mu_0 are made
   (mu_1 .. get b, a bound); rdg__frame_finish makes the whole frame. Returns 0 (take the
   solver) when the residual would need more than RDG__WARM_STEPS steps at the rate seen, or
   b is too large (the top two eigenvalues close, or a heavy rest of the spectrum). About
   10 d^2 flops a step (8 steps a frame in W2) where the solver needs 4/3 d^3 and more. */
#define RDG__WARM_STEPS 24
RDG__PRIVATE int rdg__frame_warm(rdg__ws *w, int cold) {
    size_t d = w->d, i, j, it;
    const rdg_real *C = w->C;
    rdg_real *y = w->tw, *u = y + d, *r = u + d, *Cp = w->jw;
    rdg_real cn = 0, th = 0, rn = 0, rp = 0, tr, sh, f0, f1, bound, tol, nu, margin;
    /* (sums by rdg__dot's partial sums: a loop of d^2 dependent additions cost more than the
       iteration) */
    for (j = 0; j < d; ++j) cn += rdg__dot(C + j * d, C + j * d, d);
    cn = RDG__SQRT(cn);
    if (cold) {           /* no last step: e_k of C's largest diagonal entry (C e_k next) */
        size_t kx = 0;
        for (i = 1; i < d; ++i) if (C[i * d + i] > C[kx * d + kx]) kx = i;
        for (i = 0; i < d; ++i) y[i] = i == kx ? RDG__R(1.0) : 0;
    } else for (i = 0; i < d; ++i) y[i] = w->V[i * d];
    nu = rdg__dot(y, y, d);
    if (!(cn > 0) || !rdg__isfinite(cn) || !(nu > 0) || !rdg__isfinite(nu)) return 0;
    nu = RDG__R(1.0) / RDG__SQRT(nu);
    for (i = 0; i < d; ++i) y[i] *= nu;
    tol = RDG__R(8.0) * RDG__EPS * cn;
    for (it = 0;; ++it) {
        /* u = C y by rows of C (symmetric), the sums in registers across the rows */
        for (i = 0; i < d; ++i) u[i] = 0;
        rdg__rows_axpy(C, d, y, 1, d, 0, d, u);
        th = rdg__dot(y, u, d);
        for (i = 0; i < d; ++i) r[i] = u[i] - th * y[i];
        rn = RDG__SQRT(rdg__dot(r, r, d));
        if (rn <= tol) break;
        /* the residual falls by about lam_1 / lam_0 a step: give up early when that rate
           will not reach tol within the budget */
        nu = rdg__dot(u, u, d);
        if (it + 1 >= RDG__WARM_STEPS || !(nu > 0) || !rdg__isfinite(nu)) return 0;
        if (it >= 2 && (rn >= rp || (rdg_real)(RDG__WARM_STEPS - 1 - it) * RDG__LOG(rn / rp) > RDG__LOG(tol / rn))) return 0;
        rp = rn;
        nu = RDG__R(1.0) / RDG__SQRT(nu);
        for (i = 0; i < d; ++i) y[i] = u[i] * nu;
    }
    /* the bound: lam_max(C') <= sh + |C' - sh I|_F for any shift; sh = 0 and sh = tr C' / d
       (the best shift for the norm: a flat rest of the spectrum, whose norm alone is large) */
    for (j = 0, tr = 0; j < d; ++j) {
        for (i = 0; i < d; ++i) Cp[j * d + i] = C[j * d + i] - (th * y[j]) * y[i];
        tr += Cp[j * d + j];
    }
    sh = tr / (rdg_real)d;
    for (j = 0, f0 = 0, f1 = 0; j < d; ++j) {
        rdg_real *cj = Cp + j * d, s0 = rdg__dot(cj, cj, d), cjj = cj[j];
        f0 += s0;                                   /* rows' sums: independent chains */
        f1 += s0 - cjj * cjj + (cjj - sh) * (cjj - sh);
    }
    f0 = RDG__SQRT(f0);
    f1 = sh + RDG__SQRT(f1 > 0 ? f1 : 0);
    bound = f1 < f0 ? f1 : f0;
    margin = RDG__R(4.0) * (rdg_real)d * RDG__EPS * (cn + RDG__FABS(th));
    if (!(bound + margin < (th - rn) - RDG__GAP_NOISE * th)) return 0;
    rdg__put_col(y, d, w->V, 0);
    w->mu[0] = th;
    for (j = 1; j < d; ++j) w->mu[j] = bound;
    return 1;
}

/* The top of the frame, all an SCMS step and rdg__jac_tan need (k = d* + 1: the tangent
   vectors, mu_d* and, for the Jacobian only, its vector): V's first kv <= k columns, mu and lam
   at 0..k-1 and d - 1 (mu_{d-1} to ~ 1e-3 |C|; the entries between hold the bound mu_{k-1}),
   by rdg__eigh_top where it pays (k <= RDG__TOPK, d >= 16); else the full frame, which serves
   every caller too. Returns 1 for the top part only.
   lean: the last target (mu_{k-1}, the first normal one) is left at its bracket's midpoint
   (to 1e-4 |C|) and its vector not made until rdg__frame_finish: an SCMS step uses only the
   tangent vectors, and its gap test (rdg__gap_noisy) is mostly decided by the bracket.
   lean = 2 (k = 2: d* = 1) first tries rdg__frame_warm from V's column 0, the last step's;
   lean = 3 tries it cold (SCMS's first step). */
RDG__PRIVATE int rdg__frame_tan(rdg__ws *w, size_t k, size_t kv, int lean) {
    size_t d = w->d;
    w->lean = 0;
    if (k > RDG__TOPK || d < 16) { rdg__frame(w); return 0; }
    if (lean >= 2 && k == 2 && rdg__frame_warm(w, lean == 3)) {
        w->lean = 2;
        w->top_kv = kv;
        rdg__frame_lam(w);
        return 1;
    }
    memcpy(w->jw, w->C, d * d * sizeof(rdg_real));
    lean = lean && k >= 2;
    if (!rdg__eigh_top_begin(w->jw, d, k, w->tw, &w->top)
        || !rdg__eigh_top_vecs(w->jw, lean ? k - 1 : k, kv, w->mu, w->V, w->tw, &w->top)) {
        rdg__frame(w);
        return 0;
    }
    w->lean = lean;
    w->top_kv = kv;
    rdg__frame_lam(w);
    return 1;
}

/* Completes a lean frame: the bits rdg__frame_tan gives without lean. Returns 0 when the
   tangent vectors may have changed in their last bits: always after rdg__frame_warm's (the
   solver's replace them), and when the solver gave up on the last target (the full frame
   then: not seen in tests). */
RDG__PRIVATE int rdg__frame_finish(rdg__ws *w) {
    if (!w->lean) return 1;
    if (w->lean == 2) { (void)rdg__frame_tan(w, 2, w->top_kv, 0); return 0; }
    w->lean = 0;
    if (!rdg__eigh_top_vecs(w->jw, w->top.k, w->top_kv, w->mu, w->V, w->tw, &w->top)) { rdg__frame(w); return 0; }
    rdg__frame_lam(w);
    return 1;
}

/* SCMS's test for a frame that jitters: mu_d* - mu_{d*+1} <= RDG__GAP_NOISE mu_0, evaluated on
   the finished frame's mu_{d*+1} whenever that could change the answer. A lean frame's
   mu_{d*+1}, once iterated, lies in its bracket [lo, hi] (an eigenvalue alone in its bracket
   is accepted inside it; a cluster's is a midpoint within), and the rounded difference is
   monotone in it: one end decides the test when both ends give the same answer. */
RDG__PRIVATE int rdg__gap_noisy(rdg__ws *w, size_t ds) {
    rdg_real cut = RDG__GAP_NOISE * w->mu[0];
    if (w->lean == 2) return 0;               /* rdg__frame_warm's certificate */
    if (w->lean && ds + 1 == w->top.k) {
        rdg_real L = w->top.lo[ds] * w->top.sc, H = w->top.hi[ds] * w->top.sc;
        if (w->mu[ds - 1] - H > cut) return 0;
        if (w->mu[ds - 1] - L <= cut) return 1;
    }
    (void)rdg__frame_finish(w);
    return w->mu[ds - 1] - w->mu[ds] <= cut;
}

/* Eigengap lam_d* - lam_{d*+1} of H at the workspace's point. */
RDG__PRIVATE rdg_real rdg__gap(const rdg__ws *w, size_t ds) { return w->lam[ds - 1] - w->lam[ds]; }

/* Frame is usable when the eigengap is resolved above rounding in C. */
RDG__PRIVATE int rdg__frame_ok(const rdg__ws *w, size_t ds) {
    rdg_real tol = RDG__R(8.0) * RDG__EPS * (RDG__FABS(w->mu[0]) + RDG__FABS(w->mu[w->d - 1]));
    return w->mu[ds - 1] - w->mu[ds] > tol;
}

/* r = P_N g = g - T (T^T g) from the d* tangent columns T of V alone (rdg__frame_tan's part);
   returns |r|. */
RDG__PRIVATE rdg_real rdg__resid_tan(const rdg__ws *w, size_t ds, rdg_real *r) {
    size_t i, a, d = w->d;
    rdg_real nrm = 0;
    memcpy(r, w->g, d * sizeof(rdg_real));
    for (a = 0; a < ds; ++a) {
        rdg_real s = 0;
        for (i = 0; i < d; ++i) s += w->V[i * d + a] * w->g[i];
        for (i = 0; i < d; ++i) r[i] -= s * w->V[i * d + a];
    }
    for (i = 0; i < d; ++i) nrm += r[i] * r[i];
    return RDG__SQRT(nrm);
}

/* gt = V^T g; rE (d - d* entries) = E^T g; r (d entries, may be NULL) = P_N g. Returns |rE|. */
RDG__PRIVATE rdg_real rdg__resid(rdg__ws *w, size_t ds, rdg_real *rE, rdg_real *r) {
    size_t i, j, d = w->d;
    rdg_real nrm = 0;
    for (j = 0; j < d; ++j) {
        rdg_real s = 0;
        for (i = 0; i < d; ++i) s += w->V[i * d + j] * w->g[i];
        w->gt[j] = s;
    }
    for (j = ds; j < d; ++j) { if (rE) rE[j - ds] = w->gt[j]; nrm += w->gt[j] * w->gt[j]; }
    if (r) for (i = 0; i < d; ++i) {
        rdg_real s = 0;
        for (j = ds; j < d; ++j) s += w->V[i * d + j] * w->gt[j];
        r[i] = s;
    }
    return RDG__SQRT(nrm);
}

/* Jacobian accumulators at the workspace's point (after rdg__eval with C, rdg__frame and
   rdg__resid), MATH.md 4, in eigen coordinates (ct = V^T c_n, p = tangent part, pe = normal):
     J = V Jt V^T,  Jt = diag(0.., lam_E) + (a/s^2) M,  M = sum_n w_n u_n ct_n^T,
     u_a = p_a sum_b (e_b.g) pe_b / (mu_b - mu_a),   u_b = pe_b sum_a (v_a.g) p_a / (mu_b - mu_a),
   which is J = P_N H + [(d_k P_N) g]_k with d_k P_N from eigenvector perturbation, never
   forming d_k H. Only normal rows b >= d* when full == 0 (all the solver needs: JE = E^T J).
   qt = sum_n w_n pe_{n,d*}^2 ct_n gives grad lam_{d*+1} = (a/s^2)^3 V qt. */
RDG__PRIVATE int rdg__jac(const rdg_gmm *g, rdg__ws *w, size_t ds, int full) {
    size_t d = w->d, dp = w->dp, i, j, aa, bb, k0, r0 = full ? 0 : ds;
    if (!rdg__frame_ok(w, ds)) return 0;
    for (aa = 0; aa < ds; ++aa) for (bb = ds; bb < d; ++bb)
        w->den[aa * d + bb] = RDG__R(1.0) / (w->mu[bb] - w->mu[aa]);
    for (i = 0; i < d; ++i) memcpy(w->vp + i * dp, w->V + i * d, d * sizeof(rdg_real));
    for (i = 0; i < dp * dp; ++i) w->acc[i] = 0;
    for (j = 0; j < d; ++j) w->qt[j] = 0;
    if (!full) {                 /* den as padded rows for the kernel: z = (gt o ct_tangent) den */
        for (i = 0; i < dp * dp; ++i) w->dnp[i] = 0;
        for (aa = 0; aa < ds; ++aa) for (bb = ds; bb < d; ++bb) w->dnp[aa * dp + bb] = w->den[aa * d + bb];
    }
    for (k0 = 0; k0 < w->nk; k0 += RDG__TILE) {
        size_t P = w->nk - k0 < RDG__TILE ? w->nk - k0 : RDG__TILE, p;
        for (p = 0; p < P; ++p) rdg__centred(g, w, k0 + p, w->ta + p * dp);
        rdg__k_ab(P, dp, dp, d, w->ta, w->vp, w->tb);        /* rows ct_n = V^T c_n */
        if (!full) {
            /* normal rows only: u_b = w_n pe_b z_b, z_b = sum_a (v_a.g) p_a / (mu_b - mu_a), as
               one tile product Z = G Den with G_na = (v_a.g) p_na (ta is free again) */
            for (p = 0; p < P; ++p) {
                const rdg_real *ct = w->tb + p * dp;
                rdg_real *gr = w->ta + p * dp, f = w->w[k0 + p] * ct[ds] * ct[ds];
                for (aa = 0; aa < ds; ++aa) gr[aa] = w->gt[aa] * ct[aa];
                for (j = 0; j < d; ++j) w->qt[j] += f * ct[j];
            }
            rdg__k_ab(P, dp, dp, ds, w->ta, w->dnp, w->tc);
            for (p = 0; p < P; ++p) {
                const rdg_real *ct = w->tb + p * dp;
                rdg_real wk = w->w[k0 + p], *u = w->tc + p * dp;
                for (j = 0; j < ds; ++j) u[j] = 0;
                for (bb = ds; bb < d; ++bb) u[bb] = wk * (ct[bb] * u[bb]);
            }
            rdg__k_atb(P, dp, r0, w->tc, w->tb, w->acc, 0);
            continue;
        }
        for (p = 0; p < P; ++p) {
            /* u_n (times w_n) into row p of tc; z_b = sum_a (v_a.g) p_a / (mu_b - mu_a) */
            const rdg_real *ct = w->tb + p * dp;
            rdg_real wk = w->w[k0 + p], *u = w->tc + p * dp, f;
            for (j = ds; j < d; ++j) w->zz[j] = 0;
            for (aa = 0; aa < ds; ++aa) {
                rdg_real yv = 0, ga = w->gt[aa] * ct[aa];
                const rdg_real *da = w->den + aa * d;
                if (full) for (bb = ds; bb < d; ++bb) yv += w->gt[bb] * ct[bb] * da[bb];
                u[aa] = full ? wk * (ct[aa] * yv) : 0;
                for (bb = ds; bb < d; ++bb) w->zz[bb] += ga * da[bb];
            }
            for (bb = ds; bb < d; ++bb) u[bb] = wk * (ct[bb] * w->zz[bb]);
            f = wk * ct[ds] * ct[ds];
            for (j = 0; j < d; ++j) w->qt[j] += f * ct[j];
        }
        rdg__k_atb(P, dp, r0, w->tc, w->tb, w->acc, 0);  /* M += sum_n (w_n u_n) ct_n^T */
    }
    for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) w->M[i * d + j] = i < r0 ? 0 : w->acc[i * dp + j];
    return 1;
}

/* JE = E^T J ((d - d*) x d) and q = grad lam_{d*+1} (d), from rdg__jac's accumulators:
   row b of JE is lam_b e_b + (a/s^2) V M_b, taken as rows of M times V^T through the kernel. */
RDG__PRIVATE void rdg__je(const rdg__ws *w, size_t ds, rdg_real *JE, rdg_real *q) {
    size_t d = w->d, dp = w->dp, i, j, b0;
    rdg_real as = w->a / w->s2;
    for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) w->vp[j * dp + i] = w->V[i * d + j];  /* V^T */
    for (b0 = ds; b0 < d; b0 += RDG__TILE) {
        size_t P = d - b0 < RDG__TILE ? d - b0 : RDG__TILE, p;
        for (p = 0; p < P; ++p) memcpy(w->ta + p * dp, w->M + (b0 + p) * d, d * sizeof(rdg_real));
        rdg__k_ab(P, dp, dp, d, w->ta, w->vp, w->tb);
        for (p = 0; p < P; ++p) {
            rdg_real *row = JE + (b0 + p - ds) * d, lb = w->lam[b0 + p];
            const rdg_real *s = w->tb + p * dp;
            for (i = 0; i < d; ++i) row[i] = lb * w->V[i * d + b0 + p] + as * s[i];
        }
    }
    if (q) for (i = 0; i < d; ++i) {
        rdg_real s = 0;
        for (j = 0; j < d; ++j) s += w->V[i * d + j] * w->qt[j];
        q[i] = ((as * s) * as) * as;
    }
}

/* LM's JE and q from the whole frame when the normal space is at most half of it (2 (d - d*)
   columns fit in dp; the MNIST tables' d* = 16 and 25 at d = 32). rdg__jac's row
   M_b = sum_n w_n (v_b.c_n) z_nb ct_n, z_nb = sum_{a < d*} (v_a.g) (v_a.c_n) / (mu_b - mu_a),
   is the third-moment tensor sum_n w_n c_n c_n c_n taken at v_b and at
   y_b = sum_{a < d*} (v_a.g) v_a / (mu_b - mu_a) (it is linear in each slot: z_nb = y_b.c_n),
   so that V M_b = sum_n w_n (v_b.c_n) (y_b.c_n) c_n needs no rotation into the eigenbasis:
   per kept point the 2 (d - d*) projections and d - d* + 1 rows of outer products (the last
   for q = grad lam_{d*+1} = (a/s^2)^3 sum_n w_n (v_d*.c_n)^2 c_n), where rdg__jac takes
   d + d* + (d - d*) rows of d (d* = 25, d = 32: 768 multiply-adds a point against 2048).
   Rows of JE: lam_b v_b + (a/s^2) V M_b, as rdg__je's. Returns 0 when the frame is unresolved. */
RDG__PRIVATE int rdg__jac_nrm(const rdg_gmm *g, rdg__ws *w, size_t ds, rdg_real *JE, rdg_real *q) {
    size_t d = w->d, dp = w->dp, k = d - ds, nc = rdg__pad(2 * k), i, j, a, k0;
    rdg_real as = w->a / w->s2, *B = w->vp, *y = w->zz;
    if (!rdg__frame_ok(w, ds)) return 0;
    /* B (d rows, dp apart) = [v_d* .. v_{d-1}, y_d* .. y_{d-1}, 0 ..] */
    for (i = 0; i < d; ++i) {
        for (j = 0; j < k; ++j) B[i * dp + j] = w->V[i * d + ds + j];
        for (j = 2 * k; j < dp; ++j) B[i * dp + j] = 0;
    }
    for (j = 0; j < k; ++j) {
        for (a = 0; a < ds; ++a) y[a] = w->gt[a] / (w->mu[ds + j] - w->mu[a]);
        for (i = 0; i < d; ++i) B[i * dp + k + j] = rdg__dot(w->V + i * d, y, ds);
    }
    for (i = (ds - 1) * dp; i < dp * dp; ++i) w->acc[i] = 0;
    for (k0 = 0; k0 < w->nk; k0 += RDG__TILE) {
        size_t P = w->nk - k0 < RDG__TILE ? w->nk - k0 : RDG__TILE, p;
        for (p = 0; p < P; ++p) rdg__centred(g, w, k0 + p, w->ta + p * dp);
        rdg__k_ab(P, dp, nc, d, w->ta, B, w->tb);           /* (v_b.c_n, y_b.c_n) */
        for (p = 0; p < P; ++p) {
            const rdg_real *pr = w->tb + p * dp;
            rdg_real *u = w->tc + p * dp, wk = w->w[k0 + p];
            u[ds - 1] = wk * (pr[0] * pr[0]);
            for (j = 0; j < k; ++j) u[ds + j] = wk * (pr[j] * pr[k + j]);
            for (j = d; j < dp; ++j) u[j] = 0;
        }
        rdg__k_atb(P, dp, ds - 1, w->tc, w->ta, w->acc, 0);  /* rows d* - 1 ..: sum_n u_n c_n^T */
    }
    for (j = 0; j < k; ++j) {
        rdg_real *row = JE + j * d, lb = w->lam[ds + j];
        const rdg_real *m = w->acc + (ds + j) * dp;
        for (i = 0; i < d; ++i) row[i] = lb * w->V[i * d + ds + j] + as * m[i];
    }
    if (q) for (i = 0; i < d; ++i) q[i] = ((as * w->acc[(ds - 1) * dp + i]) * as) * as;
    return 1;
}

/* LM's Jacobian from the tangent frame alone (rdg__frame_tan with d* + 1 vectors: v_a, a < d*,
   and e = v_d*), where a full frame would cost the most (MATH.md 4, summed in closed form).
   Summing rdg__jac's eigenvector-perturbation terms over the normal b gives
     P_N J = P_N [ H + (a/s^2) sum_a (v_a.g) R_a S_a ],  S_a = sum_n w_n (v_a.c_n) c_n c_n^T,
   with R_a = sum_b e_b e_b^T / (mu_b - mu_a) = -P_N K_a^-1 P_N the reduced resolvent of C at
   mu_a, K_a = mu_a I - C + gam P_T positive definite (gam = mu_0 - mu_{d-1} + the eigengap).
   E: the last d - d* columns of Q, Q^T T = [R; 0] by Householder (any orthonormal basis of the
   normal space serves: LM only uses E through basis-free products), written into V's columns
   d*..; then JE = E^T (H - (a/s^2) sum_a (v_a.g) K_a^-1 P_N S_a), rE = E^T g and
   q = grad lam_{d*+1} = (a/s^2)^3 sum_n w_n (e.c_n)^2 c_n. Returns 0 (as rdg__jac) when the
   frame is unresolved. */
RDG__PRIVATE int rdg__jac_tan(const rdg_gmm *g, rdg__ws *w, size_t ds, rdg_real *JE, rdg_real *q,
                              rdg_real *rE) {
    size_t d = w->d, dp = w->dp, i, j, a, l, k0;
    rdg_real as = w->a / w->s2, gam, *K = w->acc, *Y = w->den, *Mt = w->M;   /* K: S_a's acc, once summed */
    rdg_real *U = w->tw, *bt = U + ds * d, *Qf = bt + ds;   /* reflectors, then Q */
    rdg_real *Vc = w->tw;          /* first: v_0 .. v_d* as contiguous rows (U comes later) */
    rdg_real *vap = w->tc, *vdp = w->tc + dp;   /* v_a and v_d* padded to dp */
    if (!rdg__frame_ok(w, ds)) return 0;
    gam = (w->mu[0] - w->mu[d - 1]) + (w->mu[ds - 1] - w->mu[ds]);
    for (i = 0; i < d * d; ++i) Mt[i] = (as * w->C[i]) * as;   /* Mt = H (a loop that vectorises) */
    for (i = 0; i < d; ++i) Mt[i * d + i] -= RDG__R(1.0) / w->s2;
    for (j = 0; j < d; ++j) w->qt[j] = 0;
    for (a = 0; a <= ds; ++a) for (i = 0; i < d; ++i) Vc[a * d + i] = w->V[i * d + a];
    for (i = 0; i < dp; ++i) {                     /* v_ds, padded, for the row dots */
        vdp[i] = i < d ? Vc[ds * d + i] : 0;
        vap[i] = 0;
    }
    for (a = 0; a < ds; ++a) {
        rdg_real ga = rdg__dot(Vc + a * d, w->g, d);
        for (i = 0; i < dp * dp; ++i) w->acc[i] = 0;
        for (i = 0; i < d; ++i) vap[i] = Vc[a * d + i];
        for (k0 = 0; k0 < w->nk; k0 += RDG__TILE) {      /* S_a, lower half, by tiles */
            size_t P = w->nk - k0 < RDG__TILE ? w->nk - k0 : RDG__TILE, p;
            rdg_real pa[RDG__TILE], pe[RDG__TILE];
            /* the centred rows, then their projections on v_a (and v_d*) as one batch */
            for (p = 0; p < P; ++p) rdg__centred(g, w, k0 + p, w->ta + p * dp);
            rdg__k_rowdot(P, dp, w->ta, vap, pa);
            if (a == 0) rdg__k_rowdot(P, dp, w->ta, vdp, pe);
            for (p = 0; p < P; ++p) {
                rdg_real *c = w->ta + p * dp, *wc = w->tb + p * dp, f, wk = w->w[k0 + p];
                f = wk * pa[p];
                for (j = 0; j < d; ++j) wc[j] = f * c[j];   /* (0 + f c by an FMA: the same bits) */
                if (a == 0) rdg__axpy(d, wk * pe[p] * pe[p], c, w->qt);
            }
            rdg__k_atb(P, dp, 0, w->ta, w->tb, w->acc, 1);
        }
        rdg__acc_sym(w, Y);
        for (l = 0; l < ds; ++l) {                 /* Y = P_N S_a: rows minus v_l (v_l^T S_a) */
            rdg_real *u = w->zz;
            for (j = 0; j < d; ++j) u[j] = 0;
            for (i = 0; i < d; ++i) rdg__axpy(d, Vc[l * d + i], Y + i * d, u);
            for (i = 0; i < d; ++i) rdg__axpy(d, -Vc[l * d + i], u, Y + i * d);
        }
        for (i = 0; i < d; ++i) {                  /* K_a, upper half (rows dp apart), by rows */
            rdg_real *ki = K + i * dp;
            for (j = i; j < d; ++j) ki[j] = -w->C[i * d + j];
            for (l = 0; l < ds; ++l) rdg__axpy(d - i, gam * Vc[l * d + i], Vc + l * d + i, ki + i);
            ki[i] += w->mu[a];
        }
        if (!rdg__chol(K, d, dp)) return 0;
        rdg__chol_rows(K, d, dp, Y);               /* Y = K_a^-1 P_N S_a */
        rdg__axpy(d * d, -(as * ga), Y, Mt);
    }
    /* Householder QR of the tangent columns: reflectors H_a = I - bt_a u_a u_a^T */
    for (a = 0; a < ds; ++a) for (i = 0; i < d; ++i) U[a * d + i] = w->V[i * d + a];
    for (a = 0; a < ds; ++a) {
        rdg_real *u = U + a * d, nx = 0, al;
        for (i = a; i < d; ++i) nx += u[i] * u[i];
        nx = RDG__SQRT(nx);
        for (i = 0; i < a; ++i) u[i] = 0;
        if (nx == 0) { bt[a] = 0; continue; }
        al = u[a] < 0 ? nx : -nx;
        bt[a] = RDG__R(1.0) / (nx * (nx + RDG__FABS(u[a])));
        u[a] -= al;
        for (l = a + 1; l < ds; ++l) {             /* the later tangent columns */
            rdg_real *y = U + l * d, s = 0;
            for (i = a; i < d; ++i) s += u[i] * y[i];
            s *= bt[a];
            for (i = a; i < d; ++i) y[i] -= s * u[i];
        }
    }
    /* Q^T Mt and Q^T g (H_0 first), Q = H_0 .. H_{d*-1} (last first, from I) */
    for (i = 0; i < d * d; ++i) Qf[i] = 0;
    for (i = 0; i < d; ++i) Qf[i * d + i] = 1;
    memcpy(w->u, w->g, d * sizeof(rdg_real));
    for (a = 0; a < ds; ++a) rdg__house_rows(U + a * d, bt[a], a, d, Mt, w->u, w->zz);
    for (a = ds; a-- > 0;) rdg__house_rows(U + a * d, bt[a], a, d, Qf, NULL, w->zz);
    for (i = 0; i < d; ++i) for (j = ds; j < d; ++j) w->V[i * d + j] = Qf[i * d + j];
    memcpy(JE, Mt + ds * d, (d - ds) * d * sizeof(rdg_real));
    if (rE) memcpy(rE, w->u + ds, (d - ds) * sizeof(rdg_real));
    if (q) for (i = 0; i < d; ++i) q[i] = ((as * w->qt[i]) * as) * as;
    return 1;
}

RDG__PRIVATE rdg_status rdg__dstar_check(const rdg_gmm *g, size_t dstar) {
    return (dstar >= 1 && dstar < g->d) ? RDG_OK : RDG_ERR_INVALID;
}

RDGDEF rdg_status rdg_ridge_frame(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                  rdg_real *lam, rdg_real *V) {
    rdg_status st = rdg__batch_check(g, t, y, B);
    rdg__ws *pool;
    int nth, ib;
    size_t d;
    if (st != RDG_OK) return st;
    if (!lam) return RDG_ERR_INVALID;
    d = g->d;
    nth = rdg__nthreads(B);
    pool = rdg__pool_alloc(nth, g->n, d, t);
    if (!pool) return RDG_ERR_NOMEM;
    if (B >= 4 && !rdg__pool_xt(pool, nth, g)) { rdg__pool_free(pool, nth); return RDG_ERR_NOMEM; }
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ib = 0; ib < (int)B; ++ib) {
        rdg__ws *w = &pool[rdg__thread_id()];
        size_t b = (size_t)ib;
        rdg__eval(g, y + b * d, w, 1);
        rdg__frame(w);
        memcpy(lam + b * d, w->lam, d * sizeof(rdg_real));
        if (V) memcpy(V + b * d * d, w->V, d * d * sizeof(rdg_real));
    }
    rdg__pool_free(pool, nth);
    return RDG_OK;
}

RDGDEF rdg_status rdg_ridge_residual(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                     size_t dstar, rdg_real *r, rdg_real *gap) {
    rdg_status st = rdg__batch_check(g, t, y, B);
    rdg__ws *pool;
    int nth, ib;
    size_t d;
    if (st != RDG_OK) return st;
    if (!r || rdg__dstar_check(g, dstar) != RDG_OK) return RDG_ERR_INVALID;
    d = g->d;
    nth = rdg__nthreads(B);
    pool = rdg__pool_alloc(nth, g->n, d, t);
    if (!pool) return RDG_ERR_NOMEM;
    if (B >= 4 && !rdg__pool_xt(pool, nth, g)) { rdg__pool_free(pool, nth); return RDG_ERR_NOMEM; }
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ib = 0; ib < (int)B; ++ib) {
        rdg__ws *w = &pool[rdg__thread_id()];
        size_t b = (size_t)ib;
        rdg__eval(g, y + b * d, w, 1);
        rdg__frame(w);
        rdg__resid(w, dstar, NULL, r + b * d);
        if (gap) gap[b] = rdg__gap(w, dstar);
    }
    rdg__pool_free(pool, nth);
    return RDG_OK;
}

RDGDEF rdg_status rdg_ridge_jacobian(const rdg_gmm *g, rdg_real t, const rdg_real *y,
                                     size_t dstar, rdg_real *J) {
    rdg_status st = rdg__batch_check(g, t, y, 1);
    rdg__ws w;
    size_t d, i, j, k;
    int ok;
    if (st != RDG_OK) return st;
    if (!J || rdg__dstar_check(g, dstar) != RDG_OK) return RDG_ERR_INVALID;
    d = g->d;
    if (!rdg__ws_alloc(&w, g->n, d)) return RDG_ERR_NOMEM;
    rdg_ou(t, &w.a, &w.s2);
    rdg__eval(g, y, &w, 1);
    rdg__frame(&w);
    rdg__resid(&w, dstar, NULL, NULL);
    ok = rdg__jac(g, &w, dstar, 1);
    if (ok) {
        /* Jt = diag(0.., lam_E) + (a/s^2) M, then J = V Jt V^T (Jt kept in w.C as scratch) */
        rdg_real as = w.a / w.s2;
        for (i = 0; i < d; ++i) for (j = 0; j < d; ++j)
            w.C[i * d + j] = as * w.M[i * d + j] + ((i == j && i >= dstar) ? w.lam[i] : 0);
        for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) {   /* M <- Jt V^T */
            rdg_real s = 0;
            for (k = 0; k < d; ++k) s += w.C[i * d + k] * w.V[j * d + k];
            w.M[i * d + j] = s;
        }
        for (i = 0; i < d; ++i) for (j = 0; j < d; ++j) {   /* J = V (Jt V^T) */
            rdg_real s = 0;
            for (k = 0; k < d; ++k) s += w.V[i * d + k] * w.M[k * d + j];
            J[i * d + j] = s;
        }
    }
    rdg__ws_free(&w);
    return ok ? RDG_OK : RDG_ERR_SINGULAR;
}

/* >>lm ----------------------------------------------------------------------------------------
   Projection onto the ridge, MATH.md 4: SCMS to get near the ridge, then an augmented
   Lagrangian with Levenberg-Marquardt damping and a damped-BFGS model of the Lagrangian's
   curvature I + sum_j lamhat_j hess r_j. The multiplier is carried as a d-vector Lam = E lamhat
   in the normal space, so that Lam . r(x) = lamhat^T E^T g needs no frame alignment between
   iterates (r = P_N g is invariant to rotations inside the normal space). */
typedef struct rdg__popts {
    size_t ds;
    rdg_real beta, ktol, rho, kappa, tolr;
    rdg_real hand;              /* LM takes over from SCMS once s^2 |r| <= hand (0: never)  */
    int method, max_iter, scms_iter;
} rdg__popts;

RDG__PRIVATE rdg_status rdg__popts_fill(const rdg_gmm *g, const rdg_project_opts *o, rdg__popts *p) {
    rdg_real sc;
    if (!o) return RDG_ERR_INVALID;
    if (rdg__dstar_check(g, o->dstar) != RDG_OK) return RDG_ERR_INVALID;
    if (!rdg__isfinite(o->beta) || o->beta < 0) return RDG_ERR_INVALID;
    if (o->method != RDG_PROJECT_LM && o->method != RDG_PROJECT_SCMS) return RDG_ERR_INVALID;
    if (o->max_iter < 0 || o->scms_iter < 0) return RDG_ERR_INVALID;
    if (!rdg__isfinite(o->rtol) || o->rtol < 0 || !rdg__isfinite(o->ktol) || o->ktol < 0
        || !rdg__isfinite(o->rho) || o->rho < 0 || !rdg__isfinite(o->kappa) || o->kappa < 0)
        return RDG_ERR_INVALID;
    p->ds = o->dstar;
    p->beta = o->beta;
    p->method = o->method;
    p->max_iter = o->max_iter ? o->max_iter : 100;
    p->scms_iter = o->scms_iter ? o->scms_iter : (o->method == RDG_PROJECT_SCMS ? 500 : 200);
    sc = g->scale > 1 ? g->scale : RDG__R(1.0);
    /* default 1e-10, never below 100 eps (the float build's residuals stop near 0.5 eps) */
    p->tolr = (o->rtol > 0 ? o->rtol : RDG__R(1e-10) > 100 * RDG__EPS ? RDG__R(1e-10) : 100 * RDG__EPS) * sc;
    /* SCMS converges linearly; LM from an SCMS point 1e-3 of the data scale off the ridge
       takes as many iterations as from a converged one (measured: W2 of tools/bench, 5.8 at
       t = 0.05 either way) and saves ~5 density evaluations per point */
    p->hand = o->method == RDG_PROJECT_LM ? RDG__R(1e-3) * sc : 0;
    p->ktol = o->ktol > 0 ? o->ktol : RDG__R(1e-6);
    p->rho = o->rho > 0 ? o->rho : RDG__R(1000.0);
    p->kappa = o->kappa > 0 ? o->kappa : RDG__R(1.0);
    return RDG_OK;
}

/* Least-squares multiplier lh = argmin |xy + JE^T lh| (JE: k x d), via the k x k normal
   equations; 0 when they are singular. G = JE JE^T is one product of JE^T (copied to JT,
   d x kp, kp = rdg__pad(k)) with itself through the outer-product kernel, and JE xy sums
   rows of JT: no short dot products (k (k + 1) / 2 + k of them before; the dot product's share
   of the W2 LM profile fell from 12 % to 8.5 %).
   G: room for kp x kp, JT: d x kp. */
RDG__PRIVATE void rdg__lsmult(const rdg_real *JE, size_t k, size_t d, const rdg_real *xy,
                              rdg_real *G, rdg_real *JT, rdg_real *lh) {
    size_t i, p, kp = rdg__pad(k);
    rdg_real tr = 0;
    for (p = 0; p < d; ++p) {
        rdg_real *jp = JT + p * kp;
        for (i = 0; i < k; ++i) jp[i] = JE[i * d + p];
        for (i = k; i < kp; ++i) jp[i] = 0;
    }
    for (i = 0; i < kp * kp; ++i) G[i] = 0;
    rdg__k_atb(d, kp, 0, JT, JT, G, 0);
    for (i = 0; i < k; ++i) { tr += G[i * kp + i]; lh[i] = 0; }
    for (p = 0; p < d; ++p) {
        rdg_real xp = xy[p];
        for (i = 0; i < k; ++i) lh[i] -= xp * JT[p * kp + i];
    }
    for (i = 0; i < k; ++i) G[i * kp + i] += RDG__EPS * tr;
    if (!rdg__cholsolve(G, k, kp, lh)) for (i = 0; i < k; ++i) lh[i] = 0;
}

/* Reals of LM scratch per thread for dimension d (A and JT: d x dp each, G: dp x dp,
   dp = rdg__pad(d)). */
RDG__PRIVATE size_t rdg__lm_len(size_t d) {
    size_t dp = rdg__pad(d);
    return 17 * d + 5 * d * d + 2 * d * dp + dp * dp;
}

/* out = JE^T JE (d x d) for JE (k x d), as a sum of row outer products (contiguous rows), each
   entry summed over the rows in order: row i from column i (rounded down to a whole vector)
   on, then mirrored (row_i row_j = row_j row_i exactly, so the same bits as both halves). */
RDG__PRIVATE void rdg__jtj(const rdg_real *JE, size_t k, size_t d, rdg_real *out) {
    size_t i, j;
    for (i = 0; i < d * d; ++i) out[i] = 0;
    if (d % RDG__VW == 0) {
        /* rows of whole vectors: the outer-product kernel's register tiles (lower half), then
           mirrored (W2 LM profile: J^T J 2.9 % of the time by the row sums below, 1.3 % so) */
        rdg__k_atb(k, d, 0, JE, JE, out, 1);
        for (i = 0; i < d; ++i) for (j = i + 1; j < d; ++j) out[i * d + j] = out[j * d + i];
        return;
    }
    for (i = 0; i < d; ++i) rdg__rows_axpy(JE, d, JE + i, d, k, i / RDG__VW * RDG__VW, d, out + i * d);
    for (i = 0; i < d; ++i) for (j = 0; j < i; ++j) out[i * d + j] = out[j * d + i];
}

/* out = v + JE^T u (JE: k x d), by rows of JE. */
RDG__PRIVATE void rdg__jtv(const rdg_real *JE, size_t k, size_t d, const rdg_real *u,
                           const rdg_real *v, rdg_real *out) {
    if (out != v) memcpy(out, v, d * sizeof(rdg_real));
    rdg__rows_axpy(JE, d, u, 1, k, 0, d, out);
}

RDG__PRIVATE void rdg__report(const rdg__popts *po, const rdg__ws *w, const rdg_real *x,
                              const rdg_real *y, rdg_real resid0, rdg_real resid, int iters,
                              int conv, rdg_project_info *info) {
    size_t j, d = w->d;
    rdg_real dist = 0;
    for (j = 0; j < d; ++j) dist += (x[j] - y[j]) * (x[j] - y[j]);
    info->distance = RDG__SQRT(dist);
    info->resid0 = resid0;
    info->resid = resid;
    info->iters = iters;
    info->gap = rdg__gap(w, po->ds);
    info->curv_ok = w->lam[po->ds] <= -po->beta;
    /* converged also needs a frame resolved well enough that r = P_N g means something:
       eigenvectors of C carry errors ~ eps |C| / gap, so the gap must exceed RDG__GAP_REL |C| */
    info->converged = conv && info->curv_ok && rdg__isfinite(resid)
                      && w->mu[po->ds - 1] - w->mu[po->ds] > RDG__GAP_REL * w->mu[0];
    info->reliable = info->converged && rdg__frame_ok(w, po->ds) && w->s2 * info->gap > RDG__GAP_REL;
}

/* LM's JE, q (and rE = E^T g for the tangent form, whose E it makes) at the workspace's point:
   from the whole frame (rdg__jac, rdg__je) or from the top one (rdg__jac_tan). 0: unresolved. */
RDG__PRIVATE int rdg__lm_jac(const rdg_gmm *g, rdg__ws *w, size_t ds, int tan, rdg_real *JE,
                             rdg_real *q, rdg_real *rE) {
    if (tan) return rdg__jac_tan(g, w, ds, JE, q, rE);
    if (rdg__pad(2 * (w->d - ds)) <= w->dp) return rdg__jac_nrm(g, w, ds, JE, q);
    if (!rdg__jac(g, w, ds, 0)) return 0;
    rdg__je(w, ds, JE, q);
    return 1;
}

/* SCMS (MATH.md 4): x <- x + P_N (a m - x) = x + s^2 r, from x, continuing the iteration count
   and the streak of unresolved frames in st. Returns 1 once s^2 |r| <= tolr; 2 once it is
   <= hand > 0 (LM takes over: a later call with hand = 0 resumes exactly where this one
   stopped, through the same iterates); 0 when it stops otherwise (iteration cap, residual not
   finite, frame unresolved 5 times running). cur holds the evaluation at the final x, r its
   residual, *res = |r|. The steps take lean frames (rdg__frame_tan: mu_d*'s inverse iteration
   is left until a return, when the frame is finished to the bits of a whole one; W2 SCMS at
   t = 0.05 about 6 % faster on one thread). */
typedef struct rdg__scms_state { int it, undef; rdg_real resid0; } rdg__scms_state;

RDG__PRIVATE int rdg__scms_run(const rdg_gmm *g, const rdg__popts *po, size_t ntop, rdg_real hand,
                               rdg_real *x, rdg__ws *cur, rdg__cand *cand, rdg_real *r, rdg__scms_state *st,
                               rdg_real *res) {
    size_t i, d = g->d, ds = po->ds;
    /* SCMS alone needs the d* tangent vectors; LM, which takes over from cur, also mu_d*'s */
    size_t kv = po->method == RDG_PROJECT_SCMS ? ds : ntop;
    rdg_real s2 = cur->s2, rn;
    int ret;
    for (;; ++st->it) {
        rdg__eval_near(g, x, cur, cand);
        (void)rdg__frame_tan(cur, ntop, kv, st->it > 0 ? 2 : 3);   /* lean: finished before a return */
        rn = rdg__resid_tan(cur, ds, r);
        *res = rn;
        if (st->it == 0) st->resid0 = rn;
        ret = s2 * rn <= po->tolr ? 1 : hand > 0 && s2 * rn <= hand ? 2
            : st->it >= po->scms_iter || !rdg__isfinite(rn) ? 0 : -1;
        if (ret < 0) {
            /* a frame that stays unresolved (gap below RDG__GAP_NOISE |C|) jitters the step: give up */
            st->undef = rdg__gap_noisy(cur, ds) ? st->undef + 1 : 0;
            if (st->undef >= 5) ret = 0;
        }
        if (ret >= 0) {   /* (the decision stands; r and |r| become the finished frame's) */
            if (!rdg__frame_finish(cur)) *res = rdg__resid_tan(cur, ds, r);
            return ret;
        }
        for (i = 0; i < d; ++i) x[i] += s2 * r[i];
    }
}

/* One point: y -> x (d entries), using two workspaces (current, trial), a candidate set for
   the density scans (NULL: full scans; either way the same bits) and LM scratch. */
RDG__PRIVATE void rdg__project_point(const rdg_gmm *g, const rdg_real *y, const rdg__popts *po,
                                     rdg__ws *wa, rdg__ws *wb, rdg__cand *cand, rdg_real *buf, rdg_real *x,
                                     rdg_project_info *info) {
    size_t d = g->d, ds = po->ds, k = d - ds, i, j;
    rdg__ws *cur = wa, *tr = wb, *ws;
    rdg_real *D = buf, *x1 = D + d, *xy = x1 + d, *r0 = xy + d, *r1 = r0 + d, *Lam = r1 + d;
    rdg_real *yv = Lam + d, *Bs = yv + d, *q0 = Bs + d, *q1 = q0 + d, *kv = q1 + d;
    rdg_real *lh = kv + d, *rE0 = lh + d, *rE1 = rE0 + d, *tmp = rE1 + d;
    size_t dp = rdg__pad(d);           /* A and G: rows dp apart (rdg__chol) */
    rdg_real *A = tmp + d, *Bm = A + d * dp, *JE0 = Bm + d * d, *JE1 = JE0 + d * d, *G = JE1 + d * d;
    rdg_real s2 = cur->s2, rhop = po->rho * s2 * s2, kapp = po->kappa * s2 * s2;
    rdg_real resid0 = 0, res0, res1, mu, nu, *sw, *xs = G + dp * dp, *JtJ = xs + d, *xh = JtJ + d * d;
    rdg_real *JT = xh + d;             /* d x dp: JE^T for rdg__lsmult */
    int conv = 0, iters = 0, have_best, collapsing = 0, handed;
    rdg__scms_state sc = { 0, 0, 0 };
    /* SCMS and the tangent-frame Jacobian (rdg__jac_tan) need the d* + 1 top eigenpairs */
    size_t ntop = ds + 1;
    int lmtan = ntop <= RDG__TOPK && d >= 16 && po->method == RDG_PROJECT_LM;

    memcpy(x, y, d * sizeof(rdg_real));
    conv = rdg__scms_run(g, po, ntop, po->hand, x, cur, cand, r0, &sc, &res0);
    handed = conv == 2;
    conv = conv == 1;
    resid0 = sc.resid0;
    if (po->method == RDG_PROJECT_SCMS) {
        rdg__report(po, cur, x, y, resid0, res0, sc.it, conv, info);
        return;
    }
    if (handed) memcpy(xh, x, d * sizeof(rdg_real));
    for (;;) {
        /* (the frame is whole unless lmtan: rdg__frame_tan returns the top part only where
           lmtan holds; rdg__jac_tan serves either) */
        if (!lmtan) res0 = rdg__resid(cur, ds, rE0, r0);
        /* keep the SCMS point: it is a ridge point, the best answer when LM cannot finish */
        memcpy(xs, x, d * sizeof(rdg_real));
        have_best = conv && rdg__frame_ok(cur, ds);
        if (rdg__isfinite(res0) && rdg__lm_jac(g, cur, ds, lmtan, JE0, q0, rE0)) break;
        if (!handed) {                                   /* frame undefined */
            rdg__report(po, cur, x, y, resid0, res0, 0, 0, info);
            return;
        }
        handed = 0;                   /* no Jacobian at the hand-over point: finish SCMS first */
        conv = rdg__scms_run(g, po, ntop, 0, x, cur, cand, r0, &sc, &res0) == 1;
    }
    conv = 0;
    rdg__jtj(JE0, k, d, JtJ);
    for (i = 0; i < d; ++i) xy[i] = x[i] - y[i];
    rdg__lsmult(JE0, k, d, xy, G, JT, lh);
    for (i = 0; i < d; ++i) {
        rdg_real s = 0;
        for (j = 0; j < k; ++j) s += cur->V[i * d + ds + j] * lh[j];
        Lam[i] = s;
    }
    for (i = 0; i < d * d; ++i) Bm[i] = 0;
    for (i = 0; i < d; ++i) Bm[i * d + i] = RDG__R(1.0);
    mu = RDG__R(1.0); nu = 2;
    while (iters < po->max_iter) {
        rdg_real dist, kkt = 0, c0, c1, dphi, pred, noise, kfloor;
        int accept;
        for (i = 0; i < d; ++i) xy[i] = x[i] - y[i];
        dist = RDG__SQRT(rdg__dot(xy, xy, d));
        rdg__jtv(JE0, k, d, lh, xy, Bs);
        kkt = RDG__SQRT(rdg__dot(Bs, Bs, d));
        c0 = cur->lam[ds] + po->beta; if (c0 < 0) c0 = 0;
        /* remember the latest nearly-feasible iterate: the answer if LM does not finish */
        if (s2 * res0 <= RDG__R(100.0) * po->tolr && c0 == 0 && rdg__frame_ok(cur, ds)) {
            have_best = 1;
            memcpy(xs, x, d * sizeof(rdg_real));
        }
        /* KKT floor: JE is a sum over nk kept points with rounding ~ sqrt(nk d) eps |JE|,
           and near-degenerate tangent/normal pairs make |JE| large (1/(mu_b - mu_a) terms),
           so |(x - y) + JE^T lh| cannot be resolved below ~ sqrt(nk d) eps |JE| |lh|. */
        kfloor = RDG__R(8.0) * RDG__SQRT((rdg_real)cur->nk * (rdg_real)d) * RDG__EPS
                 * RDG__SQRT(rdg__dot(JE0, JE0, k * d)) * RDG__SQRT(rdg__dot(lh, lh, k));
        if (s2 * res0 <= po->tolr && kkt <= po->ktol * (1 + dist) + kfloor && c0 == 0) { conv = 1; break; }
        ++iters;
        /* (Bm + mu I + rho' JE^T JE + kappa' q q^T) D = -(xy + JE^T (lh + rho' rE) + kappa' c q) */
        for (j = 0; j < k; ++j) tmp[j] = lh[j] + rhop * rE0[j];
        for (i = 0; i < d; ++i) Bs[i] = xy[i] + kapp * c0 * q0[i];
        rdg__jtv(JE0, k, d, tmp, Bs, D);
        for (i = 0; i < d; ++i) {              /* A: the upper half */
            rdg_real kq = kapp * q0[i];
            D[i] = -D[i];
            for (j = i; j < d; ++j) A[i * dp + j] = Bm[i * d + j] + rhop * JtJ[i * d + j] + kq * q0[j];
            A[i * dp + i] += mu;
        }
        if (!rdg__cholsolve(A, d, dp, D)) { mu *= 10; if (mu > RDG__R(1e12)) break; continue; }
        /* predicted change of phi on the undamped model; as A D = -grad it is
           -(D^T Bm D + 2 mu |D|^2 + rho' |JE D|^2 + kappa' (q.D)^2) */
        {
            rdg_real qd = rdg__dot(q0, D, d), jd2 = 0;
            for (j = 0; j < k; ++j) { rdg_real v = rdg__dot(JE0 + j * d, D, d); jd2 += v * v; }
            for (i = 0; i < d; ++i) Bs[i] = rdg__dot(Bm + i * d, D, d);
            pred = -(rdg__dot(D, Bs, d) + 2 * mu * rdg__dot(D, D, d) + rhop * jd2 + kapp * qd * qd);
        }
        for (i = 0; i < d; ++i) x1[i] = x[i] + D[i];
        rdg__eval_near(g, x1, tr, cand);
        if (lmtan) {
            rdg__frame_tan(tr, ntop, ntop, 0);
            res1 = rdg__resid_tan(tr, ds, r1);
        } else {
            rdg__frame(tr);
            res1 = rdg__resid(tr, ds, rE1, r1);
        }
        c1 = tr->lam[ds] + po->beta; if (c1 < 0) c1 = 0;
        /* phi(x1) - phi(x) by a difference formula (no cancellation against |x - y|^2) */
        dphi = rdg__dot(D, D, d) + 2 * rdg__dot(D, xy, d);
        dphi += 2 * (rdg__dot(Lam, r1, d) - rdg__dot(Lam, r0, d));
        dphi += rhop * (res1 - res0) * (res1 + res0) + kapp * (c1 - c0) * (c1 + c0);
        /* Below rounding noise phi cannot rank the points (near the optimum its change is
           second order while each term carries errors ~ eps |Lam| |g|): then a step is taken
           when it lowers the KKT residual without raising the constraint residual. */
        accept = 0;
        if (rdg__isfinite(dphi) && rdg__isfinite(res1)) {
            rdg_real lnorm = RDG__SQRT(rdg__dot(Lam, Lam, d)), gnorm = RDG__SQRT(rdg__dot(cur->g, cur->g, d));
            noise = RDG__R(256.0) * RDG__EPS * (dist * dist + rdg__dot(D, D, d)
                    + RDG__R(2.0) * lnorm * (res0 + res1 + gnorm) + rhop * (res0 + res1) * (res0 + res1));
            if (dphi < 0) accept = rdg__lm_jac(g, tr, ds, lmtan, JE1, q1, rE1);
            else if (dphi <= noise && (res1 <= res0 || s2 * res1 <= po->tolr)
                     && rdg__lm_jac(g, tr, ds, lmtan, JE1, q1, rE1)) {
                rdg_real kkt1 = 0;
                for (i = 0; i < d; ++i) Bs[i] = x1[i] - y[i];
                rdg__lsmult(JE1, k, d, Bs, G, JT, kv);
                rdg__jtv(JE1, k, d, kv, Bs, Bs);
                kkt1 = rdg__dot(Bs, Bs, d);
                accept = RDG__SQRT(kkt1) < kkt;
            }
        }
        if (accept) {
            rdg_real ratio = pred < 0 && dphi < 0 ? dphi / pred : 1, f;
            /* the iterates run into a ridge boundary where the eigengap closes: no KKT point
               there, and converged needs a gap above RDG__GAP_REL |C|, so stop after 5 accepted
               steps below it (RDG__GAP_NOISE before: such runs spent 10-20 % of the MNIST
               tables' LM iterations between the two; of 3300 projections at d* = 8, 16, 25
               none that converged had 5 accepted steps running below RDG__GAP_REL) */
            collapsing = tr->mu[ds - 1] - tr->mu[ds] < RDG__GAP_REL * tr->mu[0] ? collapsing + 1 : 0;
            rdg_real sy, sBs;
            /* BFGS on the Lagrangian gradient (x - y) + J^T Lam with Lam held fixed */
            for (j = 0; j < k; ++j) {          /* E1^T Lam */
                rdg_real s = 0;
                for (i = 0; i < d; ++i) s += tr->V[i * d + ds + j] * Lam[i];
                tmp[j] = s;
            }
            rdg__jtv(JE1, k, d, tmp, D, yv);
            for (j = 0; j < k; ++j) tmp[j] = -lh[j];
            rdg__jtv(JE0, k, d, tmp, yv, yv);
            for (i = 0; i < d; ++i) Bs[i] = rdg__dot(Bm + i * d, D, d);
            sBs = rdg__dot(D, Bs, d);
            sy = rdg__dot(D, yv, d);
            if (sBs > 0 && rdg__isfinite(sy)) {
                if (sy < RDG__R(0.2) * sBs) {   /* Powell damping keeps Bm positive definite */
                    rdg_real th = RDG__R(0.8) * sBs / (sBs - sy);
                    for (i = 0; i < d; ++i) yv[i] = th * yv[i] + (1 - th) * Bs[i];
                    sy = rdg__dot(D, yv, d);
                }
                for (i = 0; i < d; ++i)
                    rdg__bfgs_row(Bm + i * d, d, yv[i], yv, sy, Bs[i], Bs, sBs);
            }
            ws = cur; cur = tr; tr = ws;
            sw = JE0; JE0 = JE1; JE1 = sw;
            rdg__jtj(JE0, k, d, JtJ);
            sw = q0; q0 = q1; q1 = sw;
            sw = rE0; rE0 = rE1; rE1 = sw;
            sw = r0; r0 = r1; r1 = sw;
            memcpy(x, x1, d * sizeof(rdg_real));
            res0 = res1;
            for (i = 0; i < d; ++i) xy[i] = x[i] - y[i];
            rdg__lsmult(JE0, k, d, xy, G, JT, lh);
            for (i = 0; i < d; ++i) {          /* Lam = E lh */
                rdg_real s = 0;
                for (j = 0; j < k; ++j) s += cur->V[i * d + ds + j] * lh[j];
                Lam[i] = s;
            }
            /* Nielsen's damping update: shrink mu by up to 3 when the model predicted well */
            f = RDG__R(2.0) * ratio - 1;
            f = 1 - f * f * f;
            mu *= f > RDG__R(1.0) / 3 ? f : RDG__R(1.0) / 3;
            if (mu < RDG__R(1e-12)) mu = RDG__R(1e-12);
            nu = 2;
            if (collapsing >= 5) break;
        } else {
            mu *= nu; nu *= 2;
            if (mu > RDG__R(1e12)) break;
        }
    }
    if (!conv && !have_best && handed) {
        /* LM did not finish and met no ridge point: finish SCMS from the hand-over point
           (the SCMS point LM would have started from without the hand-over) */
        memcpy(x1, xh, d * sizeof(rdg_real));
        if (rdg__scms_run(g, po, ntop, 0, x1, tr, cand, r1, &sc, &res1) == 1 && rdg__frame_ok(tr, ds)) {
            memcpy(xs, x1, d * sizeof(rdg_real));
            have_best = 1;
        }
    }
    if (!conv && have_best) {           /* LM did not finish: report its best ridge point */
        memcpy(x, xs, d * sizeof(rdg_real));
        rdg__eval_near(g, x, cur, cand);
        rdg__frame(cur);
        res0 = rdg__resid(cur, ds, NULL, NULL);
    }
    rdg__report(po, cur, x, y, resid0, res0, iters, conv, info);
}

/* The state rdg_ridge_project needs per call, kept by a context: the density context's view,
   workspaces (2 per thread: the point and the trial point) and panels, and per thread the LM
   scratch followed by a candidate set's y0 and panels (beside its N indices in cidx). */
struct rdg_project_ctx {
    rdg_density_ctx dc;
    rdg_real *scratch;
    rdg__cand *cands;          /* NULL when the data drops no weight (drop = 0)              */
    size_t *cidx;
    size_t per;                /* scratch reals per thread                                  */
    int nth;                   /* threads the scratch and the sets have room for             */
};

RDG__PRIVATE void rdg__pctx_release(rdg_project_ctx *c) {
    rdg__dctx_release(&c->dc);
    rdg_free(c->scratch); rdg_free(c->cands); rdg_free(c->cidx);
    c->scratch = NULL; c->cands = NULL; c->cidx = NULL; c->per = 0; c->nth = 0;
}

RDGDEF rdg_status rdg_project_ctx_create(const rdg_gmm *g, rdg_project_ctx **ctx) {
    rdg_project_ctx *c;
    if (!ctx) return RDG_ERR_INVALID;
    *ctx = NULL;
    if (!rdg__gmm_ok(g)) return RDG_ERR_INVALID;
    c = (rdg_project_ctx *)rdg__alloc(1, sizeof *c);
    if (!c) return RDG_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    rdg__dctx_init(&c->dc, g);
    *ctx = c;
    return RDG_OK;
}

RDGDEF void rdg_project_ctx_free(rdg_project_ctx *ctx) {
    if (!ctx) return;
    rdg__pctx_release(ctx);
    rdg_free(ctx);
}

/* Room for nth threads at time t, every candidate set emptied (a set is bound to one t). */
RDG__PRIVATE rdg_status rdg__pctx_reserve(rdg_project_ctx *c, int nth, rdg_real t) {
    const rdg_gmm *g = c->dc.g;
    size_t d = g->d, len = rdg__lm_len(d), per = len + (g->drop > 0 ? rdg__cand_len(g->n, d) : 0);
    int ok = 1, ib;
    rdg_status st;
    rdg__mul(per, (size_t)nth, &ok);
    rdg__mul(g->n, (size_t)nth, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    st = rdg__dctx_reserve(&c->dc, 2 * nth, 1, t);
    if (st != RDG_OK) return st;
    if (c->nth < nth || c->per != per || (g->drop > 0) != (c->cands != NULL)) {
        rdg_free(c->scratch); rdg_free(c->cands); rdg_free(c->cidx);
        c->scratch = NULL; c->cands = NULL; c->cidx = NULL; c->per = 0; c->nth = 0;
        c->scratch = (rdg_real *)rdg__alloc(per * (size_t)nth, sizeof(rdg_real));
        if (!c->scratch) return RDG_ERR_NOMEM;
        if (g->drop > 0) {      /* candidate sets for the density scans (none without dropping) */
            c->cands = (rdg__cand *)rdg__alloc((size_t)nth, sizeof(rdg__cand));
            c->cidx = (size_t *)rdg__alloc(g->n * (size_t)nth, sizeof(size_t));
            if (!c->cands || !c->cidx) return RDG_ERR_NOMEM;
        }
        c->per = per; c->nth = nth;
    }
    if (c->cands)
        for (ib = 0; ib < c->nth; ++ib)
            rdg__cand_attach(&c->cands[ib], c->cidx + (size_t)ib * g->n,
                             c->scratch + (size_t)ib * per + len, d);
    return RDG_OK;
}

RDGDEF rdg_status rdg_ridge_project(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                    const rdg_project_opts *opts, rdg_real *out,
                                    rdg_project_info *info) {
    rdg_project_ctx c;
    rdg_status st;
    if (!g) return RDG_ERR_INVALID;
    memset(&c, 0, sizeof c);
    rdg__dctx_init(&c.dc, g);
    st = rdg_ridge_project_ctx(&c, t, y, B, opts, out, info);
    rdg__pctx_release(&c);
    return st;
}

RDGDEF rdg_status rdg_ridge_project_ctx(rdg_project_ctx *ctx, rdg_real t, const rdg_real *y, size_t B,
                                        const rdg_project_opts *opts, rdg_real *out,
                                        rdg_project_info *info) {
    rdg_status st;
    rdg__popts po;
    const rdg_gmm *g;
    size_t d;
    int nth, ib;
    if (!ctx || !out) return RDG_ERR_INVALID;
    g = ctx->dc.g;
    st = rdg__batch_check(g, t, y, B);
    if (st != RDG_OK) return st;
    if (g->x != ctx->dc.x || g->n != ctx->dc.n || g->d != ctx->dc.d) return RDG_ERR_INVALID;
    st = rdg__popts_fill(g, opts, &po);
    if (st != RDG_OK) return st;
    d = g->d;
    nth = rdg__nthreads(B);
    st = rdg__pctx_reserve(ctx, nth, t);
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ib = 0; ib < (int)B; ++ib) {
        int id = rdg__thread_id();
        size_t b = (size_t)ib;
        rdg_project_info tmp;
        rdg__project_point(g, y + b * d, &po, &ctx->dc.pool[2 * id], &ctx->dc.pool[2 * id + 1],
                           ctx->cands ? &ctx->cands[id] : NULL, ctx->scratch + (size_t)id * ctx->per,
                           out + b * d, info ? &info[b] : &tmp);
    }
    return RDG_OK;
}

RDGDEF rdg_status rdg_ridge_trace(const rdg_gmm *g, rdg_real t, const rdg_real *seeds,
                                  size_t nseeds, const rdg_project_opts *opts, rdg_real min_sep,
                                  rdg_real **out, size_t *nout) {
    rdg_project_opts o;
    rdg_project_info *info = NULL;
    rdg_real *P = NULL, sep2;
    size_t d, i, j, kept = 0;
    rdg_status st;
    if (!out || !nout) return RDG_ERR_INVALID;
    *out = NULL; *nout = 0;
    if (!opts || !rdg__isfinite(min_sep) || min_sep < 0) return RDG_ERR_INVALID;
    st = rdg__batch_check(g, t, seeds, nseeds);
    if (st != RDG_OK) return st;
    d = g->d;
    o = *opts;
    o.method = RDG_PROJECT_SCMS;
    if (min_sep == 0) min_sep = RDG__R(1e-3) * (g->scale > 1 ? g->scale : RDG__R(1.0));
    sep2 = min_sep * min_sep;
    P = (rdg_real *)rdg__alloc(nseeds * d, sizeof(rdg_real));
    info = (rdg_project_info *)rdg__alloc(nseeds, sizeof(rdg_project_info));
    if (!P || !info) { rdg_free(P); rdg_free(info); return RDG_ERR_NOMEM; }
    st = rdg_ridge_project(g, t, seeds, nseeds, &o, P, info);
    if (st == RDG_OK) {
        /* keep reliable points, in seed order, each at least min_sep from those kept before */
        for (i = 0; i < nseeds; ++i) {
            int dup = 0;
            if (!info[i].reliable) continue;
            for (j = 0; j < kept && !dup; ++j) {
                size_t l;
                rdg_real s = 0;
                for (l = 0; l < d; ++l) { rdg_real df = P[i * d + l] - P[j * d + l]; s += df * df; }
                dup = s < sep2;
            }
            if (!dup) { memmove(P + kept * d, P + i * d, d * sizeof(rdg_real)); ++kept; }
        }
        if (kept) { *out = P; *nout = kept; P = NULL; }
    }
    rdg_free(P);
    rdg_free(info);
    return st;
}


/* >>model -------------------------------------------------------------------------------------
   The model interface, the exact (memorising) model m_t and the time embeddings, MATH.md 2, 6. */
RDG__PRIVATE int rdg__model_ok(const rdg_model *m) {
    /* enums compared as unsigned: short-enum ABIs (arm-none-eabi) make '< 0' always false */
    return m && m->eval && m->d > 0 && (unsigned)m->kind <= (unsigned)RDG_MODEL_MLP;
}

RDGDEF rdg_status rdg_model_eval(const rdg_model *m, rdg_real t, const rdg_real *x, size_t B,
                                 rdg_real *out) {
    int ok = 1;
    size_t nd;
    if (!rdg__model_ok(m) || !x || !out || B == 0 || !rdg__t_ok(t)) return RDG_ERR_INVALID;
    nd = rdg__mul(B, m->d, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(x, nd)) return RDG_ERR_NONFINITE;
    return m->eval(m->self, t, x, B, out);
}

/* 1 inside an active OpenMP parallel region (a nested one would run on one thread). */
RDG__PRIVATE int rdg__in_parallel(void) {
#if RDG__HAVE_OMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

/* eval of the exact model: the posterior mean of rdg_density_eval. Called from inside a
   parallel region (the samplers), it evaluates the batch serially into one workspace instead
   of asking rdg_density_eval for one workspace per thread of a region that cannot start;
   both paths run the same per-point code (rdg__eval), so the results are identical. */
RDG__PRIVATE rdg_status rdg__exact_eval(const void *self, rdg_real t, const rdg_real *x,
                                        size_t B, rdg_real *out) {
    const rdg_gmm *g = (const rdg_gmm *)self;
    rdg_density_out o;
    rdg_status st;
    rdg__ws w;
    size_t b, d;
    if (!rdg__in_parallel()) {
        memset(&o, 0, sizeof o);
        o.mean = out;
        return rdg_density_eval(g, t, x, B, &o);
    }
    if (!out) return RDG_ERR_INVALID;
    st = rdg__batch_check(g, t, x, B);
    if (st != RDG_OK) return st;
    d = g->d;
    if (!rdg__ws_alloc(&w, g->n, d)) return RDG_ERR_NOMEM;
    rdg_ou(t, &w.a, &w.s2);
    for (b = 0; b < B; ++b) {
        rdg__eval_mean(g, x + b * d, &w);
        memcpy(out + b * d, w.m, d * sizeof(rdg_real));
    }
    rdg__ws_free(&w);
    return RDG_OK;
}

/* Fills a model view (zeroed first, so a refused one is inert); ok says the object is valid. */
RDG__PRIVATE rdg_status rdg__model_view(rdg_model *m, int ok, rdg_model_kind kind, size_t d,
                                        rdg_model_fn eval, const void *self) {
    if (!m) return RDG_ERR_INVALID;
    memset(m, 0, sizeof *m);
    if (!ok) return RDG_ERR_INVALID;
    m->kind = kind; m->d = d; m->eval = eval; m->self = self;
    return RDG_OK;
}

RDGDEF rdg_status rdg_model_exact(rdg_model *m, const rdg_gmm *g) {
    int ok = rdg__gmm_ok(g);
    return rdg__model_view(m, ok, RDG_MODEL_EXACT, ok ? g->d : 0, rdg__exact_eval, g);
}

/* Fourier embedding, layout e[0] = 1, e[k] = sin(2 pi k t / T), e[nfreq + k] = cos(2 pi k t / T),
   k = 1..nfreq. The phase t / T is formed first, so k t / T is exact up to one rounding of t/T. */
RDGDEF rdg_status rdg_embed_fourier(rdg_real t, rdg_real T, size_t nfreq, rdg_real *e) {
    size_t k;
    rdg_real ph;
    if (!e || !rdg__t_ok(t) || !rdg__t_ok(T) || nfreq == 0 || nfreq > ((size_t)-1 - 1) / 2)
        return RDG_ERR_INVALID;
    ph = RDG__R(2.0) * RDG__PI * (t / T);
    e[0] = RDG__R(1.0);
    for (k = 1; k <= nfreq; ++k) {
        rdg_real ang = ph * (rdg_real)k;
        e[k] = RDG__SIN(ang);
        e[nfreq + k] = RDG__COS(ang);
    }
    return RDG_OK;
}

/* Sinusoidal embedding (transformer / DDPM style) of a continuous time t > 0.
   The phase variable is tau = 1000 ln(t / 0.005) / ln(2000): a log scale, because sampling
   runs on a geometric grid and training draws t log-uniformly, so equal steps in ln t are
   equally important; pinned so that the paper's range [t0, T] = [0.005, 10] maps to
   [0, 1000], the integer-timestep range the frequencies w_j = 1000^(-2j/dim) are made for.
   On the default K = 1000 grid step k then sits at tau = 1000 - k exactly as DDPM's integer
   step would: the fastest component (w_0 = 1) turns by 1 radian per step, and the slowest
   (w = 1000^(-1 + 2/dim)) by 1000^(2/dim) radians over the whole range (1.5 rad for dim = 32),
   so it stays monotone and the embedding is unambiguous. Times outside [0.005, 10] extend
   the same line (tau < 0 or > 1000) and remain valid. The map is fixed, not taken from a
   schedule, so a saved MLP means the same thing whatever T and t0 a sampler later uses. */
RDGDEF rdg_status rdg_embed_sinusoidal(rdg_real t, size_t dim, rdg_real *e) {
    size_t j, half;
    rdg_real tau, lnb = RDG__LOG(RDG__R(1000.0));
    if (!e || !rdg__t_ok(t) || dim < 2 || dim % 2 != 0) return RDG_ERR_INVALID;
    half = dim / 2;
    tau = RDG__R(1000.0) * (RDG__LOG(t / RDG__R(0.005)) / RDG__LOG(RDG__R(2000.0)));
    for (j = 0; j < half; ++j) {
        rdg_real w = RDG__EXP(-lnb * (RDG__R(2.0) * (rdg_real)j / (rdg_real)dim));
        e[2 * j] = RDG__SIN(tau * w);
        e[2 * j + 1] = RDG__COS(tau * w);
    }
    return RDG_OK;
}

/* >>sampler -----------------------------------------------------------------------------------
   Reverse-time sampling, MATH.md 1. Trajectories run in batches, each run start to finish by
   one thread: one model call per step (two for Heun), then the update of each trajectory from
   its own stream (seed, i): d normals for y_0, then d per SDE step, in coordinate order.
   Nothing is reduced across trajectories or threads, so the output does not depend on the
   number of threads. A model sees batches of a size fixed by n alone (rdg__sample_batch); the
   exact model, whose arithmetic for a trajectory does not depend on the others of its batch,
   gets batches cut to the threads instead (rdg__exact_batches). */
#define RDG__SAMPLE_BATCH_MIN 8
#define RDG__SAMPLE_BATCH_MAX 64

/* Batch size: ceil(n / 16) clamped to [8, 64], so that a few hundred trajectories still make
   16 batches for the threads while large runs get the model's most efficient batch. */
RDG__PRIVATE size_t rdg__sample_batch(size_t n) {
    size_t bs = n / 16 + (n % 16 != 0);
    if (bs < RDG__SAMPLE_BATCH_MIN) bs = RDG__SAMPLE_BATCH_MIN;
    if (bs > RDG__SAMPLE_BATCH_MAX) bs = RDG__SAMPLE_BATCH_MAX;
    return bs;
}

RDGDEF size_t rdg_sample_ncheck(size_t K, size_t every) {
    size_t q, C;
    if (K == 0) K = 1000;
    if (every == 0 || every >= K) return 2;
    q = K / every;
    C = q + 1 + (K % every != 0);
    return C < q ? 0 : C;
}

/* The expanded square |y|^2 - 2a y.x_i + a^2 |x_i|^2 costs one FMA per coordinate instead of
   two, but its log-weights carry an absolute rounding error up to about
   (d + 4) eps (|y| + a max|x_i|)^2 / (2 s^2) instead of a relative one: allowed while that
   bound is below 1e-11 (every weight and moment then within 1e-11 relative; early in sampling,
   where no weight can be dropped and the scan is the whole cost). Sets *c0 = |y|^2 / (2 s^2),
   the square's constant term, rounded here once for every caller (a trajectory's bits must not
   depend on whether it is scanned alone or in a batch). */
RDG__PRIVATE int rdg__square_ok(const rdg__ws *w, size_t d, rdg_real xmax, const rdg_real *y, rdg_real *c0) {
    size_t i;
    rdg_real s = 0, nb;
    for (i = 0; i < d; ++i) s += y[i] * y[i];
    *c0 = RDG__R(0.5) * s / w->s2;
    nb = RDG__SQRT(s) + w->a * xmax;
    return w->xx && (rdg_real)(d + 4) * RDG__EPS * nb * nb * (RDG__R(0.5) / w->s2) <= RDG__R(1e-11);
}

/* Whether a trajectory fresh from a full scan (its new set c) takes the dense weighted sums:
   when its set says that more than half the points can carry weight, or it has none. */
RDG__PRIVATE int rdg__exact_dense(const rdg_gmm *g, const rdg__cand *c) {
    return !c || !(g->drop > 0) || c->m > g->n / 2;
}

/* rdg__k_wsumq for one weight vector: out[j] += sum_{i < n} w_i x_ij, each output's sum over
   the rows in the same order and with the same fused steps (bit for bit one query of it). */
RDG__PRIVATE void rdg__k_wsum1(const rdg_real *X, size_t n, size_t d, const rdg_real *w, rdg_real *out) {
    size_t i;
    for (i = 0; i < n; ++i) rdg__axpy(d, w[i], X + i * d, out);
}

/* The dense weights from N log-weights e (largest emax), in place: exp(e_i - emax), 0 below
   the cut (so the kept set is that of rdg__eval). Returns their sum. */
RDG__PRIVATE rdg_real rdg__exact_expw(const rdg_gmm *g, rdg_real *e, rdg_real emax) {
    return rdg__k_expcut(e, g->n, emax, g->drop > 0 ? emax - g->drop : -RDG__BIG);
}

/* The dense mean m = sum_i w_i x_i / sum_i w_i from the log-weights e (largest emax; turned into
   weights in place), as one query of rdg__exact_scan's sums. */
RDG__PRIVATE void rdg__exact_mean1(const rdg_gmm *g, rdg_real *e, rdg_real emax, rdg_real *out) {
    size_t j;
    rdg_real sum = rdg__exact_expw(g, e, emax);
    for (j = 0; j < g->d; ++j) out[j] = 0;
    rdg__k_wsum1(g->x, g->n, g->d, e, out);
    for (j = 0; j < g->d; ++j) out[j] /= sum;
}

/* The same full-scan step for one trajectory (a batch's lone full scan). */
RDG__PRIVATE void rdg__exact_one(const rdg_gmm *g, rdg_real xmax, const rdg_real *y, rdg__ws *w,
                                 rdg__cand *c, rdg_real *out) {
    size_t n = g->n, d = g->d;
    rdg_real c0, emax;
    if (rdg__square_ok(w, d, xmax, y, &c0)) {
        rdg_real c1 = w->a / w->s2, c2 = RDG__R(0.5) * w->a * c1;
        emax = rdg__k_dot(w->xt, w->xx, n, d, y, c1, c2, c0, w->w);
    } else emax = rdg__eval_scan(g, y, w);
    rdg__cand_build(g, y, w->a, w->s2, w->w, emax, c, 1);
    if (rdg__exact_dense(g, c)) rdg__exact_mean1(g, w->w, emax, out);
    else {
        rdg__eval_tail(g, y, w, 0, NULL, n, emax);
        memcpy(out, w->m, d * sizeof(rdg_real));
    }
}

/* Posterior means of the exact model for the nq trajectories of a batch that need a full scan
   (nq <= RDG__EXACT_BS; wq: RDG__QB workspaces sharing the data panels, a and s^2 set; E: nq x N
   log-weights; acc: (nq + RDG__QB) d reals). Members go in groups of RDG__QB (the last padded
   with a repeat, ignored), those that allow the expanded square apart from the others, so that
   each member's arithmetic is its own whatever its batch. The data pass runs over blocks of
   RDG__SCAN_BLK points and serves every group while a block is in the first-level cache (W3 of
   tools/bench on AVX2, N = 2000, d = 32, interleaved runs: 20 % faster on one thread and 18 %
   on two than a pass over all N per group of four, which read the data from beyond the core's
   caches for every group; blocks of 64 points beat 128 and 256). Then a new candidate set
   each; members whose set says that at most half the points can carry weight take the kept
   points alone (rdg__eval_tail), the others (rdg__exact_dense) share the dense weighted sums
   (0 below the cut, so the kept set is that of rdg__eval) in the same blocks. A member's path
   depends on itself alone, and every distance and every output's sum over the points runs in
   one order whatever the grouping: each member gets the bits rdg__exact_one gives it alone. */
#define RDG__EXACT_BS 32    /* trajectories per batch of the exact model, at most            */
#define RDG__SCAN_BLK 64    /* points per block of the data pass: a multiple of RDG__PANEL and
                               of four vectors, so no kernel block straddles two data blocks */
RDG__PRIVATE void rdg__exact_scan(const rdg_gmm *g, rdg_real xmax, const rdg_real *const *y, size_t nq,
                                  rdg__ws *wq, rdg_real *E, rdg_real *acc, rdg__cand *const *cand,
                                  rdg_real *const *out) {
    size_t n = g->n, d = g->d, ord[RDG__EXACT_BS], dl[RDG__EXACT_BS], nok = 0, nd = 0, i0, q, j, k, s0, ng;
    rdg_real c0[RDG__EXACT_BS], mx[RDG__EXACT_BS], sum[RDG__EXACT_BS], a = wq[0].a, s2 = wq[0].s2;
    int dot[RDG__EXACT_BS];
    if (nq == 1) { rdg__exact_one(g, xmax, y[0], wq, cand[0], out[0]); return; }
    for (q = 0; q < nq; ++q) {
        dot[q] = rdg__square_ok(&wq[0], d, xmax, y[q], &c0[q]);
        mx[q] = -RDG__BIG;
    }
    for (q = 0; q < nq; ++q) if (dot[q]) ord[nok++] = q;
    for (q = 0, j = nok; q < nq; ++q) if (!dot[q]) ord[j++] = q;
    for (i0 = 0; i0 < n; i0 += RDG__SCAN_BLK) {
        size_t cnt = n - i0 < RDG__SCAN_BLK ? n - i0 : RDG__SCAN_BLK;
        for (s0 = 0; s0 < nq; s0 += ng) {          /* a group: up to RDG__QB members of one kind */
            const rdg_real *yq[RDG__QB];
            rdg_real *eq[RDG__QB], mq[RDG__QB], cq[RDG__QB];
            ng = (s0 < nok ? nok : nq) - s0;
            if (ng > RDG__QB) ng = RDG__QB;
            for (k = 0; k < RDG__QB; ++k) {
                q = ord[s0 + (k < ng ? k : ng - 1)];
                yq[k] = y[q]; eq[k] = E + q * n + i0; mq[k] = mx[q]; cq[k] = c0[q];
            }
            if (s0 < nok)
                rdg__k_dotq(wq[0].xt + i0 * d, wq[0].xx + i0, cnt, d, yq, a / s2, RDG__R(0.5) * a * (a / s2), cq, eq, mq);
            else rdg__k_distq(wq[0].xt + i0 * d, cnt, d, yq, a, RDG__R(0.5) / s2, eq, mq);
            for (k = 0; k < ng; ++k) mx[ord[s0 + k]] = mq[k];
        }
    }
    for (q = 0; q < nq; ++q) {
        rdg__cand_build(g, y[q], a, s2, E + q * n, mx[q], cand[q], 1);
        if (rdg__exact_dense(g, cand[q])) dl[nd++] = q;
    }
    for (q = 0, j = 0; q < nq; ++q) {
        if (j < nd && dl[j] == q) { ++j; continue; }
        memcpy(wq[0].w, E + q * n, n * sizeof(rdg_real));
        rdg__eval_tail(g, y[q], &wq[0], 0, NULL, n, mx[q]);
        memcpy(out[q], wq[0].m, d * sizeof(rdg_real));
    }
    if (nd == 0) return;
    for (j = 0; j < nd; ++j) sum[j] = rdg__exact_expw(g, E + dl[j] * n, mx[dl[j]]);
    for (j = 0; j < (nd + RDG__QB - 1) / RDG__QB * RDG__QB * d; ++j) acc[j] = 0;
    for (i0 = 0; i0 < n; i0 += RDG__SCAN_BLK) {
        size_t cnt = n - i0 < RDG__SCAN_BLK ? n - i0 : RDG__SCAN_BLK;
        for (s0 = 0; s0 < nd; s0 += RDG__QB) {
            const rdg_real *wk[RDG__QB];
            for (k = 0; k < RDG__QB; ++k) wk[k] = E + dl[s0 + k < nd ? s0 + k : nd - 1] * n + i0;
            if (s0 + 1 == nd) rdg__k_wsum1(g->x + i0 * d, cnt, d, wk[0], acc + s0 * d);
            else rdg__k_wsumq(g->x + i0 * d, cnt, d, wk, acc + s0 * d);
        }
    }
    for (j = 0; j < nd; ++j)
        for (k = 0; k < d; ++k) out[dl[j]][k] = acc[j * d + k] / sum[j];
}

/* Checkpoint index of step k (0..K), or (size_t)-1 when k is not a checkpoint. */
RDG__PRIVATE size_t rdg__ck_index(size_t k, size_t K, size_t every, size_t C) {
    if (k == K) return C - 1;
    if (k == 0) return 0;
    if (every == 0 || every >= K || k % every != 0) return (size_t)-1;
    return k / every;
}

/* Per-step constants shared read-only by the threads: t_k, a_k, s_k^2 for k = 0..K, and
   h_k = t_k - t_{k+1}, sqrt(2 h_k) for k = 0..K-1. */
typedef struct rdg__sched {
    const rdg_real *t, *a, *s2, *h, *sq;
    size_t K, every, C, n, d, bs;   /* bs: the largest batch                                  */
    size_t nbatch, unit;            /* the exact model's batches: whole units (RDG__QB or 1)  */
    int ode;
    unsigned long long seed;
    const rdg_gmm *g;          /* exact model: evaluated here, with candidate sets (else NULL) */
    rdg_real xmax;             /* max_i |x_i| of g                                             */
} rdg__sched;

/* The exact model's batches (returned: their number; *bs: the largest; *unit: see below): a
   whole number of batches per thread, each of at most RDG__EXACT_BS trajectories, the
   trajectories cut evenly, so that the threads get equal shares and the full scans of a batch
   share their data passes. The cut is in units of RDG__QB trajectories (sizes differ by at
   most RDG__QB; only the last batch ends short) when there are enough of them, so that the
   scans' groups of RDG__QB are full while every trajectory needs one (200 on two threads: 8
   batches of 28 or 24, where batches of 25 padded every seventh group with three repeats);
   else in single trajectories (sizes differ by at most one). Fewer per batch when the
   candidate sets (RDG__CAND_MAXMEM) or the scans' log-weights (RDG__SCAN_MAXMEM) of a batch
   per thread would not fit. The results do not depend on the cut: rdg__exact_scan keeps each
   trajectory's arithmetic its own. */
#define RDG__SCAN_MAXMEM ((size_t)64 << 20)   /* bytes of rdg__exact_scan's log-weights, all threads */
RDG__PRIVATE size_t rdg__exact_batches(const rdg_gmm *g, size_t n, size_t *bs, size_t *unit) {
    size_t T = (size_t)rdg__nthreads(n), bmax = RDG__EXACT_BS, b, r, nb, per, u, nu;
    int ok = 1;
    per = rdg__mul(rdg__cand_len(g->n, g->d), sizeof(rdg_real), &ok) + rdg__mul(g->n, sizeof(size_t), &ok);
    b = ok ? RDG__CAND_MAXMEM / per / T : 0;
    if (g->drop > 0 && b >= 1 && b < bmax) bmax = b;   /* b = 0: no sets at all (rdg_sample) */
    b = RDG__SCAN_MAXMEM / (g->n * sizeof(rdg_real)) / T;
    if (b < bmax) bmax = b < 1 ? 1 : b;
    r = n / (T * bmax) + (n % (T * bmax) != 0);
    nb = r * T < n ? r * T : n;
    u = bmax % RDG__QB == 0 ? RDG__QB : 1;
    nu = n / u + (n % u != 0);                       /* units */
    if (nu < nb) { u = 1; nu = n; }
    *unit = u;
    *bs = u * (nu / nb + (nu % nb != 0));
    return nb;
}

/* Batch c: trajectories [*i0, *i0 + *nb) (the exact model's batches, S->g set: S->unit's cut
   evenly, the last batch ending at n). */
RDG__PRIVATE void rdg__batch_range(const rdg__sched *S, size_t c, size_t *i0, size_t *nb) {
    if (S->g) {
        size_t u = S->unit, nu = S->n / u + (S->n % u != 0), q = nu / S->nbatch, r = nu % S->nbatch;
        *i0 = u * (c * q + (c < r ? c : r));
        *nb = u * (q + (c < r));
        if (*nb > S->n - *i0) *nb = S->n - *i0;
    } else {
        *i0 = c * S->bs;
        *nb = S->n - *i0 < S->bs ? S->n - *i0 : S->bs;
    }
}

/* The exact model's per-thread state: RDG__QB workspaces over the shared data panels,
   rdg__exact_scan's log-weights (bs x N) and sums ((bs + RDG__QB) d), and a candidate set per
   trajectory of the batch (cand NULL: plain scans). */
typedef struct rdg__xthread {
    rdg__ws *w;
    rdg_real *E, *acc;
    rdg__cand *cand;
} rdg__xthread;

/* The model at (t_k or t_{k+1}) for a batch: the exact model (th) takes each trajectory from its
   candidate set when the bound allows (*hits of them) and the others in one rdg__exact_scan;
   else m->eval. */
RDG__PRIVATE rdg_status rdg__sample_model(const rdg_model *m, const rdg__sched *S, size_t k,
                                          const rdg_real *y, size_t nb, rdg_real *mb, const rdg__xthread *th,
                                          size_t *hits) {
    size_t b, nq = 0, d = S->d;
    const rdg_real *yg[RDG__EXACT_BS];
    rdg__cand *cg[RDG__EXACT_BS];
    rdg_real *og[RDG__EXACT_BS];
    *hits = 0;
    if (!S->g) return m->eval(m->self, S->t[k], y, nb, mb);
    for (b = 0; b < RDG__QB; ++b) { th->w[b].a = S->a[k]; th->w[b].s2 = S->s2[k]; }
    for (b = 0; b < nb; ++b) {
        rdg__cand *c = th->cand ? th->cand + b : NULL;
        if (rdg__exact_cand(S->g, S->xmax, y + b * d, th->w, c, mb + b * d)) continue;
        yg[nq] = y + b * d; cg[nq] = c; og[nq] = mb + b * d;
        ++nq;
    }
    if (nq > 0) rdg__exact_scan(S->g, S->xmax, yg, nq, th->w, th->E, th->acc, cg, og);
    *hits = nb - nq;
    return RDG_OK;
}

/* dst = y + (a m - y) / s2 + extra * (a m - y) / s2: the SDE drift y + 2g (extra 1) or the
   ODE drift y + g (extra 0), g the model's score. */
RDG__PRIVATE void rdg__drift(const rdg_real *y, const rdg_real *m, size_t len, rdg_real a,
                             rdg_real s2, rdg_real gfac, rdg_real *dst) {
    size_t i;
    for (i = 0; i < len; ++i) {
        rdg_real g = (a * m[i] - y[i]) / s2;
        dst[i] = y[i] + gfac * g;
    }
}

/* Steps k0 .. k1 - 1 for trajectories b0 .. b0 + nb - 1 of the batch that starts at trajectory
   i0 (buf: 4 bs d reals, rng: bs states, both for the whole batch). split: stop early, after
   the first step at which the exact model served more than half of them from their candidate
   sets; *kend: the step reached. */
RDG__PRIVATE rdg_status rdg__sample_steps(const rdg_model *m, const rdg__sched *S, size_t i0, size_t b0,
                                          size_t nb, size_t k0, size_t k1, rdg_real *buf, rdg_rng *rng,
                                          rdg_real *traj, const rdg__xthread *th0, int split, size_t *kend) {
    size_t d = S->d, len = nb * d, b, j, k, c, hits;
    rdg_real *y = buf + b0 * d, *mb = buf + (S->bs + b0) * d, *f0 = mb + S->bs * d, *yp = f0 + S->bs * d;
    rdg__xthread tsub, *th = NULL;
    rdg_status st;
    if (th0) { tsub = *th0; tsub.cand = th0->cand ? th0->cand + b0 : NULL; th = &tsub; }
    rng += b0;
    for (k = k0; k < k1; ++k) {
        rdg_real h = S->h[k];
        st = rdg__sample_model(m, S, k, y, nb, mb, th, &hits);
        if (st != RDG_OK) return st;
        if (!S->ode) {
            /* Euler-Maruyama: y <- y + h (y + 2 g) + sqrt(2 h) xi (xi drawn into yp) */
            rdg__drift(y, mb, len, S->a[k], S->s2[k], RDG__R(2.0), f0);
            for (b = 0; b < nb; ++b) {
                rdg_real *yb = y + b * d, *fb = f0 + b * d, *xi = yp + b * d;
                rdg__rng_normals(&rng[b], xi, d);
                for (j = 0; j < d; ++j) yb[j] = yb[j] + h * fb[j] + S->sq[k] * xi[j];
            }
        } else {
            /* Heun: f0 = f(y, t_k), yp = y + h f0, y <- y + h/2 (f0 + f(yp, t_{k+1})) */
            rdg_real hh = RDG__R(0.5) * h;
            size_t hits2;
            rdg__drift(y, mb, len, S->a[k], S->s2[k], RDG__R(1.0), f0);
            for (j = 0; j < len; ++j) yp[j] = y[j] + h * f0[j];
            if (!rdg__allfinite(yp, len)) return RDG_ERR_NONFINITE;
            st = rdg__sample_model(m, S, k + 1, yp, nb, mb, th, &hits2);
            if (st != RDG_OK) return st;
            for (j = 0; j < len; ++j) {
                rdg_real f1 = yp[j] + (S->a[k + 1] * mb[j] - yp[j]) / S->s2[k + 1];
                y[j] = y[j] + hh * (f0[j] + f1);
            }
        }
        if (!rdg__allfinite(y, len)) return RDG_ERR_NONFINITE;
        c = rdg__ck_index(k + 1, S->K, S->every, S->C);
        if (traj && c != (size_t)-1) memcpy(traj + (c * S->n + i0 + b0) * d, y, len * sizeof(rdg_real));
        if (split && 2 * hits > nb) { ++k; break; }
    }
    *kend = k;
    return RDG_OK;
}

/* Runs trajectories i0 .. i0 + nb - 1 (nb <= bs) from y_0 to y_K. buf holds 4 bs d reals,
   rng bs states. Writes out, traj rows. The exact model's batch runs its steps together while
   full scans, which share their data passes, are most of the work; once its candidate sets
   serve most trajectories, it runs them RDG__QB at a time to the end instead, so that the
   sets of those few stay in the core's cache from step to step (the trajectories are
   independent: the same bits). On AVX2 (Zen3, 512 KB L2) this measured within noise of
   running the whole batch together; it is kept for cores whose L2 holds four sets, where
   batches of more than four trajectories ran 6-20 % slower in earlier rounds. */
RDG__PRIVATE rdg_status rdg__sample_batch_run(const rdg_model *m, const rdg__sched *S, size_t i0,
                                              size_t nb, rdg_real *buf, rdg_rng *rng,
                                              rdg_real *out, rdg_real *traj, const rdg__xthread *th) {
    size_t d = S->d, b, b0, k;
    rdg_status st;
    int split = th && th->cand && nb > RDG__QB;
    for (b = 0; b < nb; ++b) {
        rdg_rng_init(&rng[b], S->seed, (unsigned long long)(i0 + b));
        rdg__rng_normals(&rng[b], buf + b * d, d);
    }
    if (traj) memcpy(traj + i0 * d, buf, nb * d * sizeof(rdg_real));
    if (th && th->cand)
        for (b = 0; b < nb; ++b) { th->cand[b].valid = 0; th->cand[b].m = 0; th->cand[b].s20 = 0; }
    st = rdg__sample_steps(m, S, i0, 0, nb, 0, S->K, buf, rng, traj, th, split, &k);
    for (b0 = 0; st == RDG_OK && k < S->K && b0 < nb; b0 += RDG__QB) {
        size_t kk;
        st = rdg__sample_steps(m, S, i0, b0, nb - b0 < RDG__QB ? nb - b0 : RDG__QB, k, S->K, buf, rng, traj, th, 0, &kk);
    }
    if (st != RDG_OK) return st;
    memcpy(out + i0 * d, buf, nb * d * sizeof(rdg_real));
    return RDG_OK;
}

/* The sample is the state y_K at t_K = t0 as the last step leaves it (noise included for the
   SDE), as in the paper: no final denoising step y -> m(y, t0) (a caller who wants it calls
   rdg_model_eval at t0). y_K sits at scale a_t0 of the data, blurred by s_t0. */
RDGDEF rdg_status rdg_sample(const rdg_model *m, size_t n, const rdg_sample_opts *o,
                             rdg_real *out, rdg_real *traj, rdg_real *times) {
    rdg__sched S;
    rdg_real T, t0, *sched = NULL, *buf = NULL, *tt, *aa, *ss, *hh, *sq, *cbuf = NULL, *xbuf = NULL;
    rdg_rng *rngs = NULL;
    rdg__ws *pool = NULL;
    rdg__cand *cands = NULL;
    size_t *cidx = NULL;
    rdg_status *bst = NULL, st = RDG_OK;
    size_t K, C, nbatch, k, len, nd, xper = 0;
    const rdg_gmm *g = NULL;
    int ok = 1, nth, ic, exact;
    if (!rdg__model_ok(m) || !o || !out || n == 0) return RDG_ERR_INVALID;
    if (!rdg__isfinite(o->T) || !rdg__isfinite(o->t0) || o->T < 0 || o->t0 < 0) return RDG_ERR_INVALID;
    if (o->ode != 0 && o->ode != 1) return RDG_ERR_INVALID;
    T = o->T > 0 ? o->T : RDG__R(10.0);
    t0 = o->t0 > 0 ? o->t0 : RDG__R(0.005);
    K = o->K ? o->K : 1000;
    if (!(T > t0)) return RDG_ERR_INVALID;
    C = rdg_sample_ncheck(K, o->every);
    if (C == 0 || K == (size_t)-1) return RDG_ERR_OVERFLOW;
    nd = rdg__mul(n, m->d, &ok);
    rdg__mul(nd, C, &ok);
    rdg__mul(K + 1, 5, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    exact = m->kind == RDG_MODEL_EXACT && m->eval == rdg__exact_eval;
    if (exact) {
        g = (const rdg_gmm *)m->self;
        nbatch = rdg__exact_batches(g, n, &S.bs, &S.unit);
    } else {
        S.unit = 1;
        S.bs = rdg__sample_batch(n);
        nbatch = n / S.bs + (n % S.bs != 0);
    }
    S.nbatch = nbatch;
    len = rdg__mul(rdg__mul(S.bs, m->d, &ok), 4, &ok);
    if (!ok || nbatch > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    nth = rdg__nthreads(nbatch);
    rdg__mul(len, (size_t)nth, &ok);
    rdg__mul(S.bs, (size_t)nth, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;

    sched = (rdg_real *)rdg__alloc(5 * (K + 1), sizeof(rdg_real));
    buf = (rdg_real *)rdg__alloc(len * (size_t)nth, sizeof(rdg_real));
    rngs = (rdg_rng *)rdg__alloc(S.bs * (size_t)nth, sizeof(rdg_rng));
    bst = (rdg_status *)rdg__alloc(nbatch, sizeof(rdg_status));
    if (!sched || !buf || !rngs || !bst) { st = RDG_ERR_NOMEM; goto done; }
    tt = sched; aa = tt + (K + 1); ss = aa + (K + 1); hh = ss + (K + 1); sq = hh + (K + 1);
    st = rdg_grid_geometric(T, t0, K, tt);
    if (st != RDG_OK) goto done;
    for (k = 0; k <= K; ++k) rdg_ou(tt[k], &aa[k], &ss[k]);
    for (k = 0; k < K; ++k) { hh[k] = tt[k] - tt[k + 1]; sq[k] = RDG__SQRT(RDG__R(2.0) * hh[k]); }
    hh[K] = 0; sq[K] = 0;
    S.t = tt; S.a = aa; S.s2 = ss; S.h = hh; S.sq = sq;
    S.K = K; S.every = o->every; S.C = C; S.n = n; S.d = m->d; S.ode = o->ode; S.seed = o->seed;
    S.g = NULL; S.xmax = 0;
    if (exact) {
        /* the exact model runs here: per thread, RDG__QB workspaces over shared data panels and
           rdg__exact_scan's scratch (bs log-weight rows, sums), and a candidate set per
           trajectory of a batch (plain scans when drop = 0 or when the sets would need more
           than RDG__CAND_MAXMEM) */
        size_t i, j, nc = rdg__mul(S.bs, (size_t)nth, &ok), cper = rdg__cand_len(g->n, g->d);
        S.g = g;
        for (i = 0; i < g->n; ++i) {
            rdg_real r = 0;
            for (j = 0; j < g->d; ++j) r += g->x[i * g->d + j] * g->x[i * g->d + j];
            if (r > S.xmax) S.xmax = r;
        }
        S.xmax = RDG__SQRT(S.xmax);
        xper = rdg__mul(S.bs, g->n, &ok) + rdg__mul(S.bs + RDG__QB, g->d, &ok);
        rdg__mul(xper, (size_t)nth, &ok);
        if (!ok) { st = RDG_ERR_OVERFLOW; goto done; }
        xbuf = (rdg_real *)rdg__alloc(xper * (size_t)nth, sizeof(rdg_real));
        pool = rdg__pool_alloc(nth * RDG__QB, g->n, g->d, tt[0]);
        if (!xbuf || !pool || !rdg__pool_xt(pool, nth * RDG__QB, g)) { st = RDG_ERR_NOMEM; goto done; }
        /* per set: N indices, then y0 (d reals) and the panels */
        if (g->drop > 0 && ok
            && rdg__mul(nc, g->n * sizeof(size_t) + cper * sizeof(rdg_real), &ok) <= RDG__CAND_MAXMEM && ok) {
            cands = (rdg__cand *)rdg__alloc(nc, sizeof(rdg__cand));
            cidx = (size_t *)rdg__alloc(nc * g->n, sizeof(size_t));
            cbuf = (rdg_real *)rdg__alloc(nc * cper, sizeof(rdg_real));
            if (!cands || !cidx || !cbuf) { st = RDG_ERR_NOMEM; goto done; }
            for (i = 0; i < nc; ++i) rdg__cand_attach(&cands[i], cidx + i * g->n, cbuf + i * cper, g->d);
        }
    }
    if (times)
        for (k = 0; k <= K; ++k) {
            size_t c = rdg__ck_index(k, K, S.every, C);
            if (c != (size_t)-1) times[c] = tt[k];
        }

    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ic = 0; ic < (int)nbatch; ++ic) {
        size_t tid = (size_t)rdg__thread_id(), i0, nb;
        rdg__xthread th;
        rdg__batch_range(&S, (size_t)ic, &i0, &nb);
        th.w = pool ? pool + tid * RDG__QB : NULL;
        th.E = xbuf ? xbuf + tid * xper : NULL;
        th.acc = xbuf ? th.E + S.bs * g->n : NULL;
        th.cand = cands ? cands + tid * S.bs : NULL;
        bst[ic] = rdg__sample_batch_run(m, &S, i0, nb, buf + tid * len, rngs + tid * S.bs, out, traj,
                                        exact ? &th : NULL);
    }
    for (k = 0; k < nbatch; ++k)
        if (bst[k] != RDG_OK) { st = bst[k]; break; }
done:
    rdg_free(sched); rdg_free(buf); rdg_free(rngs); rdg_free(bst);
    rdg_free(cands); rdg_free(cidx); rdg_free(cbuf); rdg_free(xbuf);
    if (pool) rdg__pool_free(pool, nth * RDG__QB);
    return st;
}

/* >>dmm ---------------------------------------------------------------------------------------
   Denoising mean matching, MATH.md 6. The quadrature is a "plan": the time nodes t_q (nt + 1 of
   them, geometric or uniform), and the weight of one sample at node q,
       wq_q = trapezoid weight of node q * w(t_q) / (samples per node).
   Node q draws its samples from the stream (seed, q) alone: first (with nsub) the indices of the
   nsub data points, then for each point and draw d standard normals, x_t = a_t x0 + s_t xi.
   rdg_dmm_loss, rdg_pm_loss and rdg_rf_quad_build all walk the same plan, so they see exactly
   the same samples with exactly the same weights. Node losses are summed serially in node
   order, so every result is bit-identical for any number of threads. */
typedef struct rdg__dmm_plan {
    const rdg_gmm *g;
    size_t d, nq, npts, ndraw, nper;    /* nq = nt + 1 nodes; nper = npts * ndraw samples/node */
    int sub;                            /* 1: npts = nsub points drawn per node              */
    int pm;                             /* 1: targets m_t(x_t) instead of x0 (pm_target)     */
    unsigned long long seed;
    rdg_real *t, *wq;                   /* nq each (one allocation, base t)                   */
} rdg__dmm_plan;

/* o (may be NULL) with its defaults filled in. */
RDG__PRIVATE void rdg__dmm_defaults(const rdg_dmm_opts *o, rdg_dmm_opts *r) {
    if (o) *r = *o; else memset(r, 0, sizeof *r);
    if (r->T == 0) r->T = RDG__R(10.0);
    if (r->t0 == 0) r->t0 = RDG__R(0.005);
    if (r->nt == 0) r->nt = 2000;
    if (r->ndraw == 0) r->ndraw = 1;
}

RDG__PRIVATE rdg_status rdg__dmm_opts_check(const rdg_dmm_opts *r) {
    if ((unsigned)r->weight > (unsigned)RDG_WEIGHT_USER) return RDG_ERR_INVALID;
    if (r->weight == RDG_WEIGHT_USER && !r->user_fn) return RDG_ERR_INVALID;
    if (!rdg__isfinite(r->T) || !rdg__isfinite(r->t0) || !(r->t0 > 0) || !(r->T > r->t0))
        return RDG_ERR_INVALID;
    if (r->nt >= (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    return RDG_OK;
}

/* w(t) for checked, defaulted options. */
RDG__PRIVATE rdg_status rdg__dmm_w(const rdg_dmm_opts *r, rdg_real t, rdg_real *w) {
    rdg_real a, s2, v;
    rdg_ou(t, &a, &s2);
    switch (r->weight) {
    case RDG_WEIGHT_ONE: v = RDG__R(1.0); break;
    case RDG_WEIGHT_SIGMA2: v = s2; break;
    case RDG_WEIGHT_SNR: v = (a / s2) * a; break;
    default: v = r->user_fn(t, r->user); break;
    }
    if (!rdg__isfinite(v)) return RDG_ERR_NONFINITE;
    if (v < 0) return RDG_ERR_INVALID;      /* a negative weight makes the loss unbounded below */
    *w = v;
    return RDG_OK;
}

RDGDEF rdg_status rdg_dmm_weight(const rdg_dmm_opts *o, rdg_real t, rdg_real *w) {
    rdg_dmm_opts r;
    rdg_status st;
    if (!w || !rdg__t_ok(t)) return RDG_ERR_INVALID;
    rdg__dmm_defaults(o, &r);
    st = rdg__dmm_opts_check(&r);
    if (st != RDG_OK) return st;
    return rdg__dmm_w(&r, t, w);
}

RDG__PRIVATE void rdg__dmm_plan_free(rdg__dmm_plan *p) { rdg_free(p->t); p->t = p->wq = NULL; }

/* Validates the options against the data and builds the plan (user weights are evaluated
   here, serially, once per node: user_fn need not be thread-safe). */
RDG__PRIVATE rdg_status rdg__dmm_plan_make(const rdg_dmm_opts *o, const rdg_gmm *g, rdg__dmm_plan *p) {
    rdg_dmm_opts r;
    rdg_status st;
    size_t q, nq;
    int ok = 1;
    memset(p, 0, sizeof *p);
    if (!rdg__gmm_ok(g)) return RDG_ERR_INVALID;
    rdg__dmm_defaults(o, &r);
    st = rdg__dmm_opts_check(&r);
    if (st != RDG_OK) return st;
    nq = r.nt + 1;
    p->g = g; p->d = g->d; p->nq = nq; p->seed = r.seed; p->ndraw = r.ndraw; p->pm = r.pm_target != 0;
    p->sub = r.nsub != 0;
    p->npts = p->sub ? r.nsub : g->n;
    p->nper = rdg__mul(p->npts, p->ndraw, &ok);
    rdg__mul(rdg__mul(p->nper, p->d, &ok), p->d, &ok);
    rdg__mul(p->nper, nq, &ok);
    rdg__mul(p->nper, g->n, &ok);
    if (!ok || p->nper > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    p->t = (rdg_real *)rdg__alloc(2 * nq, sizeof(rdg_real));
    if (!p->t) return RDG_ERR_NOMEM;
    p->wq = p->t + nq;
    st = r.uniform_grid ? rdg_grid_uniform(r.T, r.t0, r.nt, p->t) : rdg_grid_geometric(r.T, r.t0, r.nt, p->t);
    for (q = 0; q < nq && st == RDG_OK; ++q) {
        /* trapezoid weight of node q on the decreasing grid t_0 = T > ... > t_nt = t0 */
        rdg_real h = 0, w;
        if (q > 0) h += p->t[q - 1] - p->t[q];
        if (q + 1 < nq) h += p->t[q] - p->t[q + 1];
        st = rdg__dmm_w(&r, p->t[q], &w);
        p->wq[q] = RDG__R(0.5) * h * w / (rdg_real)p->nper;
    }
    if (st != RDG_OK) rdg__dmm_plan_free(p);
    return st;
}

/* The nper samples of node q: x0 (clean, or with pm_target the exact posterior mean m_t(x_t))
   and xt (noised), nper x d each. RDG_ERR_NOMEM only with pm_target. */
RDG__PRIVATE rdg_status rdg__dmm_node(const rdg__dmm_plan *p, size_t q, rdg_real *x0, rdg_real *xt) {
    rdg_rng r;
    size_t i, k, j, d = p->d, n = p->g->n;
    rdg_real a, s2, s;
    rdg_ou(p->t[q], &a, &s2);
    s = RDG__SQRT(s2);
    rdg_rng_init(&r, p->seed, (unsigned long long)q);
    for (i = 0; i < p->npts; ++i) {
        size_t src = i;
        const rdg_real *xs;
        if (p->sub) {
            src = (size_t)(rdg_rng_uniform(&r) * (rdg_real)n);
            if (src >= n) src = n - 1;
        }
        xs = p->g->x + src * d;
        for (k = 0; k < p->ndraw; ++k) {
            rdg_real *o0 = x0 + (i * p->ndraw + k) * d, *ot = xt + (i * p->ndraw + k) * d;
            for (j = 0; j < d; ++j) { o0[j] = xs[j]; ot[j] = a * xs[j] + s * rdg_rng_normal(&r); }
        }
    }
    if (p->pm) {   /* the same draws, regressed on E[X_0 | X_t = x_t] (L_PM, minimum 0) */
        rdg__ws w;
        if (!rdg__ws_alloc(&w, n, d)) return RDG_ERR_NOMEM;
        w.a = a; w.s2 = s2;
        for (i = 0; i < p->nper; ++i) {
            rdg__eval_mean(p->g, xt + i * d, &w);
            memcpy(x0 + i * d, w.m, d * sizeof(rdg_real));
        }
        rdg__ws_free(&w);
    }
    return RDG_OK;
}

RDG__PRIVATE rdg_status rdg__dmm_model_check(const rdg_model *m, const rdg_gmm *g) {
    if (!m || !m->eval || !rdg__gmm_ok(g) || m->d != g->d) return RDG_ERR_INVALID;
    return RDG_OK;
}

RDGDEF rdg_status rdg_dmm_loss(const rdg_model *m, const rdg_gmm *data, const rdg_dmm_opts *o,
                               rdg_real *loss) {
    rdg__dmm_plan p;
    rdg_status st;
    rdg_real *nodeL = NULL, *buf = NULL, tot = 0;
    int *nodest = NULL, nth, iq, ok = 1;
    size_t q, blk;
    if (!loss) return RDG_ERR_INVALID;
    *loss = 0;
    st = rdg__dmm_model_check(m, data);
    if (st != RDG_OK) return st;
    st = rdg__dmm_plan_make(o, data, &p);
    if (st != RDG_OK) return st;
    nth = rdg__nthreads(p.nq);
    blk = rdg__mul(3, p.nper * p.d, &ok);
    rdg__mul(blk, (size_t)nth, &ok);
    if (!ok) { rdg__dmm_plan_free(&p); return RDG_ERR_OVERFLOW; }
    nodeL = (rdg_real *)rdg__alloc(p.nq, sizeof(rdg_real));
    nodest = (int *)rdg__alloc(p.nq, sizeof(int));
    buf = (rdg_real *)rdg__alloc((size_t)nth, blk * sizeof(rdg_real));
    if (!nodeL || !nodest || !buf) {
        rdg_free(nodeL); rdg_free(nodest); rdg_free(buf); rdg__dmm_plan_free(&p);
        return RDG_ERR_NOMEM;
    }
    /* nodes in parallel (the model contract allows concurrent eval calls); one model call
       per node; each node's sum is formed by one thread in a fixed order */
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (iq = 0; iq < (int)p.nq; ++iq) {
        size_t qq = (size_t)iq, i, nd = p.nper * p.d;
        rdg_real *x0 = buf + (size_t)rdg__thread_id() * blk, *xt = x0 + nd, *out = xt + nd, s = 0;
        rdg_status sq = rdg__dmm_node(&p, qq, x0, xt);
        if (sq == RDG_OK) sq = m->eval(m->self, p.t[qq], xt, p.nper, out);
        nodest[qq] = (int)sq;
        if (sq == RDG_OK) for (i = 0; i < nd; ++i) { rdg_real e = out[i] - x0[i]; s += e * e; }
        nodeL[qq] = p.wq[qq] * s;
    }
    for (q = 0; q < p.nq; ++q) {
        if (nodest[q] != 0 && st == RDG_OK) st = (rdg_status)nodest[q];
        tot += nodeL[q];
    }
    rdg_free(nodeL); rdg_free(nodest); rdg_free(buf); rdg__dmm_plan_free(&p);
    if (st != RDG_OK) return st;
    *loss = tot;
    return rdg__isfinite(tot) ? RDG_OK : RDG_ERR_NONFINITE;
}

RDGDEF rdg_status rdg_pm_loss(const rdg_model *m, const rdg_gmm *data, const rdg_dmm_opts *o,
                              const rdg_project_opts *popts, rdg_real *loss, rdg_real *LN,
                              rdg_real *LT, size_t *nfail) {
    rdg__dmm_plan p;
    rdg_status st;
    rdg_real *x0, *xt, *out, *mt, *proj = NULL, *lam = NULL, *V = NULL, *buf;
    rdg_project_info *info = NULL;
    rdg_density_out dout;
    rdg_density_ctx *dctx = NULL;
    rdg_project_ctx *pctx = NULL;
    rdg_real tot = 0, totN = 0, totT = 0;
    size_t q, b, i, j, d, nper, dstar = 0, fails = 0;
    int split = LN || LT;
    if (!loss) return RDG_ERR_INVALID;
    *loss = 0;
    if (LN) *LN = 0;
    if (LT) *LT = 0;
    if (nfail) *nfail = 0;
    st = rdg__dmm_model_check(m, data);
    if (st != RDG_OK) return st;
    if (split) {
        if (!popts || popts->dstar < 1 || popts->dstar >= data->d) return RDG_ERR_INVALID;
        dstar = popts->dstar;
    }
    st = rdg__dmm_plan_make(o, data, &p);
    if (st != RDG_OK) return st;
    d = p.d; nper = p.nper;
    buf = (rdg_real *)rdg__alloc(nper * d, (split ? 6 + d : 4) * sizeof(rdg_real));
    if (split) info = (rdg_project_info *)rdg__alloc(nper, sizeof(rdg_project_info));
    /* contexts: the nodes' density and projection calls share their workspaces */
    if (buf && (!split || info)) st = rdg_density_ctx_create(data, &dctx);
    if (st == RDG_OK && split && buf && info) st = rdg_project_ctx_create(data, &pctx);
    if (!buf || (split && !info) || st != RDG_OK) {
        rdg_free(buf); rdg_free(info); rdg__dmm_plan_free(&p);
        rdg_density_ctx_free(dctx); rdg_project_ctx_free(pctx);
        return st != RDG_OK ? st : RDG_ERR_NOMEM;
    }
    x0 = buf; xt = x0 + nper * d; out = xt + nper * d; mt = out + nper * d;
    if (split) { proj = mt + nper * d; lam = proj + nper * d; V = lam + nper * d; }
    memset(&dout, 0, sizeof dout);
    dout.mean = mt;
    /* nodes in order; the model, the density and the projection parallelise over the batch */
    for (q = 0; q < p.nq && st == RDG_OK; ++q) {
        rdg_real s = 0, sN = 0, sT = 0, t = p.t[q];
        st = rdg__dmm_node(&p, q, x0, xt);
        if (st == RDG_OK) st = m->eval(m->self, t, xt, nper, out);
        if (st == RDG_OK) st = rdg_density_eval_ctx(dctx, t, xt, nper, &dout);
        if (st != RDG_OK) break;
        for (i = 0; i < nper * d; ++i) { out[i] -= mt[i]; s += out[i] * out[i]; }   /* out = e */
        if (split) {
            st = rdg_ridge_project_ctx(pctx, t, xt, nper, popts, proj, info);
            if (st != RDG_OK) break;
            for (b = 0; b < nper; ++b) if (!info[b].converged || !rdg__allfinite(proj + b * d, d)) {
                memcpy(proj + b * d, xt + b * d, d * sizeof(rdg_real));
                ++fails;
            }
            st = rdg_ridge_frame(data, t, proj, nper, lam, V);
            if (st != RDG_OK) break;
            for (b = 0; b < nper; ++b) {
                const rdg_real *Vb = V + b * d * d, *e = out + b * d;
                for (j = 0; j < d; ++j) {
                    rdg_real c = 0;
                    for (i = 0; i < d; ++i) c += Vb[i * d + j] * e[i];
                    if (j < dstar) sT += c * c; else sN += c * c;
                }
            }
        }
        tot += p.wq[q] * s; totN += p.wq[q] * sN; totT += p.wq[q] * sT;
    }
    rdg_free(buf); rdg_free(info); rdg__dmm_plan_free(&p);
    rdg_density_ctx_free(dctx); rdg_project_ctx_free(pctx);
    if (st != RDG_OK) return st;
    *loss = tot;
    if (LN) *LN = totN;
    if (LT) *LT = totT;
    if (nfail) *nfail = fails;
    return rdg__isfinite(tot) && rdg__isfinite(totN) && rdg__isfinite(totT) ? RDG_OK : RDG_ERR_NONFINITE;
}

/* >>linalg (large) -----------------------------------------------------------------------------
   Symmetric eigen-decomposition for large n (the RFNN kernel K, M x M with M in the thousands),
   where cyclic Jacobi is far too slow. Textbook algorithm (Golub & Van Loan, "Matrix
   Computations", 4th ed.: 5.1 Householder vectors, 8.3.1 tridiagonalisation, 5.1.6 backward
   accumulation, 8.3.2-8.3.3 implicit symmetric QR step with Wilkinson shift), written out here:
     1. Householder tridiagonalisation Q^T A Q = T. The rank-2 update of step k is applied lazily,
        fused with the matrix-vector product of step k+1, so the trailing matrix is read once per
        step. Rows are updated in parallel (each row by one thread: deterministic).
     2. Q accumulated backwards, in place (the Householder vectors live in the stale columns).
     3. Implicit QR steps with Wilkinson shifts on T, deflating from the bottom; the Givens
        rotations of one sweep are stored, then applied to the rows of Z = Q in parallel.
     4. Eigenvalues sorted descending (ties by index), columns permuted, each eigenvector signed
        so that its largest component is positive (as rdg_eigh does).
   Cost ~ (8/3 + 2/3 + 6) n^3 flops. */
RDG__PRIVATE rdg_real rdg__rf_hypot(rdg_real x, rdg_real y) {
    rdg_real ax = RDG__FABS(x), ay = RDG__FABS(y), r;
    if (ax < ay) { r = ax; ax = ay; ay = r; }
    if (ax == 0) return 0;
    r = ay / ax;
    return ax * RDG__SQRT(RDG__R(1.0) + r * r);
}

/* Dot product with four independent partial sums (a fixed order: deterministic); the RFNN
   and the PCA use it. */
RDG__PRIVATE rdg_real rdg__dot4(const rdg_real *a, const rdg_real *b, size_t n) {
    rdg_real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    /* the last n % 4, as a count (gcc 12 -O3 -fopenmp warned falsely about an index loop) */
    for (n -= i; n > 0; --n, ++i) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

typedef struct rdg__rf_vi { rdg_real v; size_t i; } rdg__rf_vi;

RDG__PRIVATE int rdg__rf_vi_desc(const void *pa, const void *pb) {
    const rdg__rf_vi *a = (const rdg__rf_vi *)pa, *b = (const rdg__rf_vi *)pb;
    if (a->v > b->v) return -1;
    if (a->v < b->v) return 1;
    return a->i < b->i ? -1 : (a->i > b->i);
}

/* Applies the rotations (rc[k - lo], rs[k - lo]), k = lo..hi-1, in order, to columns k, k+1 of
   nr consecutive rows of Z (row stride ld): Z <- Z G_lo ... G_{hi-1}. Four rows at a time are
   interleaved (independent chains, for instruction-level parallelism); the arithmetic of each
   row is the same in both paths. */
RDG__PRIVATE void rdg__rf_rot_rows(rdg_real *Z, size_t ld, size_t nr, size_t lo, size_t hi,
                                   const rdg_real *rc, const rdg_real *rs) {
    size_t k, r;
    if (nr == 4) {
        rdg_real *z0 = Z, *z1 = z0 + ld, *z2 = z1 + ld, *z3 = z2 + ld;
        rdg_real t0 = z0[lo], t1 = z1[lo], t2 = z2[lo], t3 = z3[lo];
        for (k = lo; k < hi; ++k) {
            rdg_real c = rc[k - lo], s = rs[k - lo];
            rdg_real u0 = z0[k + 1], u1 = z1[k + 1], u2 = z2[k + 1], u3 = z3[k + 1];
            z0[k] = c * t0 - s * u0; t0 = s * t0 + c * u0;
            z1[k] = c * t1 - s * u1; t1 = s * t1 + c * u1;
            z2[k] = c * t2 - s * u2; t2 = s * t2 + c * u2;
            z3[k] = c * t3 - s * u3; t3 = s * t3 + c * u3;
        }
        z0[hi] = t0; z1[hi] = t1; z2[hi] = t2; z3[hi] = t3;
        return;
    }
    for (r = 0; r < nr; ++r) {
        rdg_real *z = Z + r * ld, tt = z[lo];
        for (k = lo; k < hi; ++k) {
            rdg_real c = rc[k - lo], s = rs[k - lo], u = z[k + 1];
            z[k] = c * tt - s * u; tt = s * tt + c * u;
        }
        z[hi] = tt;
    }
}

/* The QR iteration of rdg__eigh_tqr on a private copy (d, e) of T (dg0, off0), applying the
   rotations to rows r0..r1-1 of Z. The rotations of successive sweeps are buffered (rc, rs: cap
   >= n entries each; lh: cap sweep bounds) and applied per group of 4 rows, so that a group
   stays in cache across several sweeps. Returns 0, or -2 when maxit sweeps do not suffice;
   w (may be NULL) receives the unsorted eigenvalues and *iters the number of sweeps. */
RDG__PRIVATE int rdg__rf_qr_rows(const rdg_real *dg0, const rdg_real *off0, size_t n, rdg_real *Z,
                                 size_t r0, size_t r1, rdg_real *dg, rdg_real *off, rdg_real *rc,
                                 rdg_real *rs, size_t *lh, size_t cap, size_t maxit, size_t *iters,
                                 rdg_real *w) {
    size_t used = 0, nsw = 0, hi = n - 1, iter = 0, k, lo = 0;
    int ret = 0;
    memcpy(dg, dg0, n * sizeof(rdg_real));
    memcpy(off, off0, n * sizeof(rdg_real));
    for (;;) {
        int finished = 1;
        while (hi > 0) {                               /* the next unreduced block [lo, hi] */
            if (RDG__FABS(off[hi - 1]) <= RDG__EPS * (RDG__FABS(dg[hi - 1]) + RDG__FABS(dg[hi]))) {
                off[hi - 1] = 0; --hi; continue;
            }
            lo = hi - 1;
            while (lo > 0 && RDG__FABS(off[lo - 1]) > RDG__EPS * (RDG__FABS(dg[lo - 1]) + RDG__FABS(dg[lo]))) --lo;
            if (lo > 0) off[lo - 1] = 0;
            finished = 0;
            break;
        }
        if (!finished && ++iter > maxit) { ret = -2; finished = 1; }
        if (finished || used + (hi - lo) > cap || 2 * nsw + 2 > cap) {
            size_t g, sw;                              /* flush the buffered sweeps */
            for (g = r0; g < r1; g += 4) {
                size_t nr = g + 4 <= r1 ? 4 : r1 - g, at = 0;
                for (sw = 0; sw < nsw; ++sw) {
                    rdg__rf_rot_rows(Z + g * n, n, nr, lh[2 * sw], lh[2 * sw + 1], rc + at, rs + at);
                    at += lh[2 * sw + 1] - lh[2 * sw];
                }
            }
            used = 0; nsw = 0;
            if (finished) break;
        }
        {   /* one implicit QR sweep with the Wilkinson shift of the trailing 2 x 2 block */
            rdg_real dd = RDG__R(0.5) * (dg[hi - 1] - dg[hi]), bb = off[hi - 1], mu, x, z, den;
            den = dd + (dd >= 0 ? rdg__rf_hypot(dd, bb) : -rdg__rf_hypot(dd, bb));
            mu = dg[hi] - bb * (bb / den);
            x = dg[lo] - mu; z = off[lo];
            for (k = lo; k < hi; ++k) {
                rdg_real r = rdg__rf_hypot(x, z), c, s, a0, a1, e, cs;
                if (r == 0) { c = RDG__R(1.0); s = 0; } else { c = x / r; s = -z / r; }
                if (k > lo) off[k - 1] = r;
                a0 = dg[k]; a1 = dg[k + 1]; e = off[k]; cs = c * s;
                dg[k] = c * c * a0 - RDG__R(2.0) * cs * e + s * s * a1;
                dg[k + 1] = s * s * a0 + RDG__R(2.0) * cs * e + c * c * a1;
                off[k] = cs * (a0 - a1) + (c * c - s * s) * e;
                if (k + 1 < hi) { z = -s * off[k + 1]; off[k + 1] *= c; x = off[k]; }
                rc[used + k - lo] = c; rs[used + k - lo] = s;
            }
            lh[2 * nsw] = lo; lh[2 * nsw + 1] = hi;
            used += hi - lo; ++nsw;
        }
    }
    if (w) { memcpy(w, dg, n * sizeof(rdg_real)); *iters = iter; }
    return ret;
}

/* Z (n x n, row-major, symmetric, both triangles) is overwritten by the eigenvectors (column j
   belongs to w[j]); w receives the eigenvalues, descending. Returns 0 on success, -1 when an
   allocation fails, -2 when the QR iteration does not converge in 30 n sweeps. */
RDG__PRIVATE int rdg__eigh_tqr(rdg_real *Z, size_t n, rdg_real *w) {
    rdg_real *dg, *off, *bet, *v, *p, *pw, *pv, *tmp = NULL;
    rdg__rf_vi *ord;
    size_t k, i, j, iter = 0, maxit = 30 * n + 30;
    int nth = rdg__nthreads(n), ret = 0;
    dg = (rdg_real *)rdg__alloc(n, 7 * sizeof(rdg_real));
    ord = (rdg__rf_vi *)rdg__alloc(n, sizeof(rdg__rf_vi));
    if (!dg || !ord) { rdg_free(dg); rdg_free(ord); return -1; }
    off = dg + n; bet = off + n; v = bet + n; p = v + n; pw = p + n; pv = pw + n;
    for (i = 0; i < n; ++i) { pv[i] = pw[i] = 0; off[i] = bet[i] = 0; }
    /* 1. tridiagonalisation; (pv, pw) is the pending rank-2 update of the previous step */
    for (k = 0; k + 2 < n; ++k) {
        rdg_real *rk = Z + k * n, xmax = 0, ss = 0, alpha, x1, mu, v1, beta, kp = 0;
        int ii, ilo = (int)(k + 1), ihi = (int)n, have_pending = k > 0;
        if (have_pending) for (j = k; j < n; ++j) rk[j] -= pv[k] * pw[j] + pw[k] * pv[j];
        dg[k] = rk[k];
        for (j = k + 1; j < n; ++j) if (RDG__FABS(rk[j]) > xmax) xmax = RDG__FABS(rk[j]);
        for (j = k + 2; j < n; ++j) { rdg_real u = rk[j] / (xmax > 0 ? xmax : RDG__R(1.0)); ss += u * u; }
        x1 = rk[k + 1];
        if (ss == 0) {                               /* already reduced: no reflection */
            beta = 0; off[k] = x1;
            for (j = k + 1; j < n; ++j) v[j] = 0;
        } else {
            rdg_real u1 = x1 / xmax;
            alpha = xmax * RDG__SQRT(u1 * u1 + ss);
            mu = x1 >= 0 ? -alpha : alpha;
            v1 = x1 - mu;                            /* no cancellation: same sign as x1 */
            beta = (alpha + RDG__FABS(x1)) / alpha;
            v[k + 1] = RDG__R(1.0);
            for (j = k + 2; j < n; ++j) v[j] = rk[j] / v1;
            off[k] = mu;
        }
        bet[k] = beta;
        for (j = k + 1; j < n; ++j) Z[j * n + k] = v[j];   /* column k is stale from now on */
        /* rows k+1..n-1: apply the pending update, then p = beta A v */
        RDG__OMP(parallel for schedule(static) num_threads(nth) if (n - k > 256))
        for (ii = ilo; ii < ihi; ++ii) {
            size_t r = (size_t)ii, jj;
            rdg_real *row = Z + r * n, acc = 0;
            if (have_pending) {
                rdg_real a1 = pv[r], a2 = pw[r];
                for (jj = k + 1; jj < n; ++jj) row[jj] -= a1 * pw[jj] + a2 * pv[jj];
            }
            if (beta != 0) acc = rdg__dot4(row + k + 1, v + k + 1, n - k - 1);
            p[r] = beta * acc;
        }
        for (j = k + 1; j < n; ++j) kp += p[j] * v[j];
        kp *= RDG__R(0.5) * beta;
        for (j = k + 1; j < n; ++j) { pv[j] = v[j]; pw[j] = p[j] - kp * v[j]; }
        pv[k] = pw[k] = 0;
    }
    if (n >= 2) {
        size_t a = n - 2, b = n - 1;
        if (n > 2) {                                 /* the last pending update, rows n-2, n-1 */
            for (j = a; j < n; ++j) Z[a * n + j] -= pv[a] * pw[j] + pw[a] * pv[j];
            for (j = a; j < n; ++j) Z[b * n + j] -= pv[b] * pw[j] + pw[b] * pv[j];
        }
        dg[a] = Z[a * n + a]; dg[b] = Z[b * n + b]; off[a] = Z[a * n + b];
    } else {
        dg[0] = Z[0];
    }
    /* 2. Q = H_0 ... H_{n-3} by backward accumulation, in place, in groups of RB reflectors:
       the group's vectors are copied out, their rows/columns reset to the identity, then each
       panel of 16 columns (in cache) gets the group's reflectors H_khi, ..., H_klo in turn;
       reflector k touches rows and columns > k only. Panels in parallel, no reductions. */
    if (n >= 3) {
        size_t RB = 32, khi, klo;
        rdg_real *vb = (rdg_real *)rdg__alloc(RB, n * sizeof(rdg_real));
        if (!vb) { rdg_free(dg); rdg_free(ord); return -1; }
        Z[(n - 1) * n + (n - 1)] = RDG__R(1.0);
        for (khi = n - 3 + 1; khi-- > 0; khi = klo) {
            int jb, nbj;
            size_t kk, c0;
            klo = khi + 1 > RB ? khi + 1 - RB : 0;
            for (kk = klo; kk <= khi; ++kk)         /* v_kk on rows kk+1..n-1 */
                for (i = kk + 1; i < n; ++i) vb[(kk - klo) * n + i] = Z[i * n + kk];
            for (kk = klo + 1; kk <= khi + 1; ++kk) {
                for (j = klo + 1; j < n; ++j) { Z[kk * n + j] = 0; Z[j * n + kk] = 0; }
                Z[kk * n + kk] = RDG__R(1.0);
            }
            c0 = klo + 1;
            nbj = (int)((n - c0 + 15) / 16);
            RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth) if ((n - klo) * (khi - klo + 1) > 32768))
            for (jb = 0; jb < nbj; ++jb) {
                size_t ja = c0 + (size_t)jb * 16, je = ja + 16 < n ? ja + 16 : n, k2, r, jj;
                rdg_real acc[16];
                for (k2 = khi + 1; k2-- > klo;) {
                    const rdg_real *vk = vb + (k2 - klo) * n;
                    size_t js = ja > k2 + 1 ? ja : k2 + 1, nj;
                    rdg_real beta = bet[k2];
                    if (js >= je || beta == 0) continue;
                    nj = je - js;
                    for (jj = 0; jj < nj; ++jj) acc[jj] = 0;
                    for (r = k2 + 1; r < n; ++r) {
                        const rdg_real *row = Z + r * n + js;
                        rdg_real vr = vk[r];
                        for (jj = 0; jj < nj; ++jj) acc[jj] += vr * row[jj];
                    }
                    for (jj = 0; jj < nj; ++jj) acc[jj] *= beta;
                    for (r = k2 + 1; r < n; ++r) {
                        rdg_real *row = Z + r * n + js, vr = vk[r];
                        for (jj = 0; jj < nj; ++jj) row[jj] -= vr * acc[jj];
                    }
                }
            }
            if (klo == 0) break;
        }
        rdg_free(vb);
        for (j = 0; j < n; ++j) { Z[j] = 0; Z[j * n] = 0; }
        Z[0] = RDG__R(1.0);
    } else if (n == 2) {
        Z[0] = Z[3] = RDG__R(1.0); Z[1] = Z[2] = 0;
    } else {
        Z[0] = RDG__R(1.0);
    }
    /* 3. implicit symmetric QR with Wilkinson shifts. No synchronisation: every thread runs the
       same (O(n) per sweep, deterministic) iteration on its own copy of T and applies the
       rotations to its own block of rows of Z (block edges are multiples of 4, so each row is
       always handled by the same kernel). */
    {
        int ic, nch = nth;
        size_t cap = 4 * n + 64, per = 2 * n + 2 * cap;   /* rotations buffered per flush */
        rdg_real *qs = (rdg_real *)rdg__alloc((size_t)nch, per * sizeof(rdg_real));
        size_t *lh = (size_t *)rdg__alloc((size_t)nch, cap * sizeof(size_t));
        int *res = (int *)rdg__alloc((size_t)nch, sizeof(int));
        if (!qs || !lh || !res) { rdg_free(qs); rdg_free(lh); rdg_free(res); rdg_free(dg); rdg_free(ord); return -1; }
        RDG__OMP(parallel for schedule(static, 1) num_threads(nth))
        for (ic = 0; ic < nch; ++ic) {
            size_t ng = (n + 3) / 4, g0 = ng * (size_t)ic / (size_t)nch, g1 = ng * ((size_t)ic + 1) / (size_t)nch;
            size_t r0 = 4 * g0, r1 = 4 * g1 < n ? 4 * g1 : n;
            rdg_real *sc = qs + (size_t)ic * per;
            res[ic] = rdg__rf_qr_rows(dg, off, n, Z, r0, r1, sc, sc + n, sc + 2 * n, sc + 2 * n + cap,
                                      lh + (size_t)ic * cap, cap, maxit, &iter, ic == 0 ? w : NULL);
        }
        ret = res[0];
        rdg_free(qs); rdg_free(lh); rdg_free(res);
    }
    /* 4. sort descending, permute columns, fix signs */
    for (i = 0; i < n; ++i) { ord[i].v = w[i]; ord[i].i = i; }
    qsort(ord, n, sizeof(rdg__rf_vi), rdg__rf_vi_desc);
    for (i = 0; i < n; ++i) w[i] = ord[i].v;
    tmp = (rdg_real *)rdg__alloc((size_t)nth, n * sizeof(rdg_real));
    if (!tmp) { rdg_free(dg); rdg_free(ord); return -1; }
    {
        int ir;
        RDG__OMP(parallel for schedule(static) num_threads(nth) if (n > 64))
        for (ir = 0; ir < (int)n; ++ir) {
            rdg_real *row = Z + (size_t)ir * n, *tr = tmp + (size_t)rdg__thread_id() * n;
            size_t jj;
            for (jj = 0; jj < n; ++jj) tr[jj] = row[ord[jj].i];
            memcpy(row, tr, n * sizeof(rdg_real));
        }
    }
    for (j = 0; j < n; ++j) { p[j] = 0; v[j] = RDG__R(1.0); }   /* p: max |component|, v: sign */
    for (i = 0; i < n; ++i) {
        const rdg_real *row = Z + i * n;
        for (j = 0; j < n; ++j) {
            rdg_real a = RDG__FABS(row[j]);
            if (a > p[j]) { p[j] = a; v[j] = row[j] < 0 ? RDG__R(-1.0) : RDG__R(1.0); }
        }
    }
    for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) Z[i * n + j] *= v[j];
    rdg_free(tmp); rdg_free(dg); rdg_free(ord);
    return ret;
}

/* >>rf -----------------------------------------------------------------------------------------
   Random feature network, MATH.md 6: m(x, t) = A relu(W x + U e(t) + b) / sqrt(M).
   Streams: W, U, b, A are drawn from (seed, RDG__RF_STREAM + 0..3), so rdg_rf_init_A(GAUSS)
   with the same seed reproduces the A of rdg_rfnn_init, and a network never shares a stream
   with the DMM nodes (which use (seed, q) for small q).
   Fourier embedding (rdg_embed_fourier) e(t) = [1, sin(2 pi k t / T) for k = 1..nfreq,
   cos(2 pi k t / T) for k = 1..nfreq] (sines first, then cosines).
   Features of one sample: c(t) = U e(t) + b is computed once per time, then
   phi_j = max(0, c_j + W_j . x) / sqrt(M). The loss, the model view and the quadratic form all
   call the same two helpers, so their features are bit-identical. */
#define RDG__RF_STREAM 0x5246464E00000000ULL   /* "RFFN" */
#define RDG__RF_MAXM ((size_t)1 << 20)

RDG__PRIVATE int rdg__rf_ok(const rdg_rfnn *rf) {
    return rf && rf->W && rf->U && rf->b && rf->A && rf->d >= 1 && rf->d <= 4096 && rf->M >= 1
        && rf->M <= RDG__RF_MAXM && rf->nfreq >= 1 && rf->nfreq <= RDG__RF_MAXM
        && rdg__isfinite(rf->T) && rf->T > 0;
}

/* c = U e(t) + b (M entries); e is 2 nfreq + 1 scratch. The model evaluates this at every
   call (M (2 nfreq + 1) = 514k multiply-adds for the paper's width 2000 and 128 frequencies),
   and a single running sum per row, one dependent multiply-add per entry without contraction,
   was most of the RFNN sampling time: in the SIMD build four rows at a time, two vector
   accumulators each (eight FMA chains), the row's last E mod 2 VW entries added in order;
   rdg__dot per row otherwise. */
RDG__PRIVATE void rdg__rf_shift(const rdg_rfnn *rf, rdg_real t, rdg_real *c, rdg_real *e) {
    size_t j = 0, E = 2 * rf->nfreq + 1;
    (void)rdg_embed_fourier(t, rf->T, rf->nfreq, e);   /* arguments checked by the callers */
#if RDG__VW > 1
    {
        size_t E2 = E / (2 * RDG__VW) * (2 * RDG__VW), l;
        for (; j + 4 <= rf->M; j += 4) {
            const rdg_real *u0 = rf->U + j * E, *u1 = u0 + E, *u2 = u1 + E, *u3 = u2 + E;
            rdg__v a0 = RDG__VSET(0.0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
            rdg_real s0, s1, s2, s3;
            for (l = 0; l < E2; l += 2 * RDG__VW) {
                rdg__v e0 = RDG__VLD(e + l), e1 = RDG__VLD(e + l + RDG__VW);
                a0 = RDG__VFMA(RDG__VLD(u0 + l), e0, a0); a1 = RDG__VFMA(RDG__VLD(u0 + l + RDG__VW), e1, a1);
                b0 = RDG__VFMA(RDG__VLD(u1 + l), e0, b0); b1 = RDG__VFMA(RDG__VLD(u1 + l + RDG__VW), e1, b1);
                c0 = RDG__VFMA(RDG__VLD(u2 + l), e0, c0); c1 = RDG__VFMA(RDG__VLD(u2 + l + RDG__VW), e1, c1);
                d0 = RDG__VFMA(RDG__VLD(u3 + l), e0, d0); d1 = RDG__VFMA(RDG__VLD(u3 + l + RDG__VW), e1, d1);
            }
            s0 = rdg__vsum(RDG__VADD(a0, a1)); s1 = rdg__vsum(RDG__VADD(b0, b1));
            s2 = rdg__vsum(RDG__VADD(c0, c1)); s3 = rdg__vsum(RDG__VADD(d0, d1));
            for (l = E2; l < E; ++l) { s0 += u0[l] * e[l]; s1 += u1[l] * e[l]; s2 += u2[l] * e[l]; s3 += u3[l] * e[l]; }
            c[j] = s0 + rf->b[j]; c[j + 1] = s1 + rf->b[j + 1]; c[j + 2] = s2 + rf->b[j + 2]; c[j + 3] = s3 + rf->b[j + 3];
        }
    }
#endif
    for (; j < rf->M; ++j) c[j] = rdg__dot(rf->U + j * E, e, E) + rf->b[j];
}

/* phi (M) of one point x (d) given c = U e(t) + b and wt = W transposed (d x M): the sums
   z_j = (c_j + w_j0 x_0) + w_j1 x_1 + .. as loops over j, which vectorise (a loop over the rows
   of W, a d-long inner loop and a branch per feature, was half of the RFNN sampling time).
   One loop for every caller, so that a point's features have the same bits whatever the
   number of points in the call, also where the compiler contracts a * b + c into an FMA. */
RDG__PRIVATE void rdg__rf_feat(const rdg_rfnn *rf, const rdg_real *c, const rdg_real *x, rdg_real *phi,
                               const rdg_real *wt) {
    size_t j, k, d = rf->d, M = rf->M;
    rdg_real sc = RDG__R(1.0) / RDG__SQRT((rdg_real)M);
    for (j = 0; j < M; ++j) phi[j] = c[j];
    for (k = 0; k < d; ++k) {
        const rdg_real *wk = wt + k * M;
        rdg_real xk = x[k];
        for (j = 0; j < M; ++j) phi[j] += wk[j] * xk;
    }
    for (j = 0; j < M; ++j) {             /* ReLU without a branch */
        rdg_real z = phi[j];
        phi[j] = (z > 0 ? z : RDG__R(0.0)) * sc;
    }
}

/* wt = W transposed (d x M), rdg__rf_feat's layout. */
RDG__PRIVATE void rdg__rf_wt(const rdg_rfnn *rf, rdg_real *wt) {
    size_t j, k, d = rf->d, M = rf->M;
    for (j = 0; j < M; ++j) for (k = 0; k < d; ++k) wt[k * M + j] = rf->W[j * d + k];
}

RDG__PRIVATE void rdg__rf_gauss(rdg_real *v, size_t n, rdg_real sd, unsigned long long seed,
                                unsigned long long stream) {
    rdg_rng r;
    size_t i;
    rdg_rng_init(&r, seed, stream);
    for (i = 0; i < n; ++i) v[i] = sd * rdg_rng_normal(&r);
}

RDGDEF rdg_status rdg_rfnn_init(rdg_rfnn *rf, size_t d, size_t M, size_t nfreq, rdg_real T,
                                unsigned long long seed) {
    size_t E, tot;
    int ok = 1;
    if (!rf) return RDG_ERR_INVALID;
    memset(rf, 0, sizeof *rf);
    if (nfreq == 0) nfreq = 128;
    if (T == 0) T = RDG__R(10.0);
    if (d == 0 || M == 0 || !rdg__isfinite(T) || !(T > 0)) return RDG_ERR_INVALID;
    if (d > 4096 || M > RDG__RF_MAXM || nfreq > RDG__RF_MAXM) return RDG_ERR_OVERFLOW;
    E = 2 * nfreq + 1;
    tot = rdg__mul(M, d + E + 1 + d, &ok);
    if (!ok || tot > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    rf->W = (rdg_real *)rdg__alloc(tot, sizeof(rdg_real));
    if (!rf->W) return RDG_ERR_NOMEM;
    rf->U = rf->W + M * d; rf->b = rf->U + M * E; rf->A = rf->b + M;
    rf->d = d; rf->M = M; rf->nfreq = nfreq; rf->T = T;
    rdg__rf_gauss(rf->W, M * d, RDG__R(1.0) / RDG__SQRT((rdg_real)d), seed, RDG__RF_STREAM + 0);
    rdg__rf_gauss(rf->U, M * E, RDG__R(1.0) / RDG__SQRT((rdg_real)E), seed, RDG__RF_STREAM + 1);
    rdg__rf_gauss(rf->b, M, RDG__R(1.0), seed, RDG__RF_STREAM + 2);
    rdg__rf_gauss(rf->A, d * M, RDG__R(1.0), seed, RDG__RF_STREAM + 3);
    return RDG_OK;
}

RDGDEF void rdg_rfnn_free(rdg_rfnn *rf) {
    if (!rf) return;
    rdg_free(rf->W);
    memset(rf, 0, sizeof *rf);
}

/* Shared by features and the model: checks and the per-call scratch: c (M), e (E), nth rows of
   phi (M each), W transposed (d x M, for rdg__rf_feat; *wt points to it). */
RDG__PRIVATE rdg_status rdg__rf_begin(const rdg_rfnn *rf, rdg_real t, const rdg_real *x, size_t B,
                                      int nth, rdg_real **scratch, rdg_real **wt) {
    int ok = 1;
    size_t E, M = rf ? rf->M : 0, d = rf ? rf->d : 0, len;
    *scratch = NULL; *wt = NULL;
    if (!rdg__rf_ok(rf) || !x || B == 0 || !rdg__t_ok(t)) return RDG_ERR_INVALID;
    rdg__mul(B, M, &ok);
    rdg__mul(B, d, &ok);
    E = 2 * rf->nfreq + 1;
    len = rdg__mul(M, (size_t)nth + 1 + d, &ok) + E;
    if (!ok || len < E || B > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(x, B * d)) return RDG_ERR_NONFINITE;
    *scratch = (rdg_real *)rdg__alloc(len, sizeof(rdg_real));
    if (!*scratch) return RDG_ERR_NOMEM;
    *wt = *scratch + M * ((size_t)nth + 1) + E;
    rdg__rf_wt(rf, *wt);
    rdg__rf_shift(rf, t, *scratch, *scratch + M);
    return RDG_OK;
}

RDGDEF rdg_status rdg_rfnn_features(const rdg_rfnn *rf, rdg_real t, const rdg_real *x, size_t B,
                                    rdg_real *phi) {
    rdg_real *c, *wt;
    rdg_status st;
    int ib;
    if (!phi) return RDG_ERR_INVALID;
    st = rdg__rf_begin(rf, t, x, B, 0, &c, &wt);
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(static) if (B * rf->M > 65536))
    for (ib = 0; ib < (int)B; ++ib)
        rdg__rf_feat(rf, c, x + (size_t)ib * rf->d, phi + (size_t)ib * rf->M, wt);
    rdg_free(c);
    return RDG_OK;
}

/* The model: out_b = A phi(x_b, t). Points in parallel (nested calls run on one thread). */
RDG__PRIVATE rdg_status rdg__rf_eval(const void *self, rdg_real t, const rdg_real *x, size_t B,
                                     rdg_real *out) {
    const rdg_rfnn *rf = (const rdg_rfnn *)self;
    rdg_real *c, *wt;
    rdg_status st;
    int ib, nth = rdg__nthreads(B);
    if (!out) return RDG_ERR_INVALID;
    st = rdg__rf_begin(rf, t, x, B, nth, &c, &wt);
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(static) num_threads(nth) if (B * rf->M > 65536))
    for (ib = 0; ib < (int)B; ++ib) {
        size_t b = (size_t)ib, i, M = rf->M, d = rf->d;
        rdg_real *phi = c + M + 2 * rf->nfreq + 1 + (size_t)rdg__thread_id() * M;
        rdg__rf_feat(rf, c, x + b * d, phi, wt);
        for (i = 0; i < d; ++i) out[b * d + i] = rdg__dot4(rf->A + i * M, phi, M);
    }
    rdg_free(c);
    return RDG_OK;
}

RDGDEF rdg_status rdg_rfnn_model(const rdg_rfnn *rf, rdg_model *m) {
    int ok = rdg__rf_ok(rf);
    return rdg__model_view(m, ok, RDG_MODEL_RFNN, ok ? rf->d : 0, rdg__rf_eval, rf);
}

/* The quadratic form of the DMM loss in A (MATH.md 6). One allocation (base K) holds
   K (M x M), kvec (M x M), B (d x M), Ainf (d x M), kval (M) and, after them, two private
   d-vectors: crow_i = sum_q w_q x0_qi^2 (c by output row) and lex_i, the DMM loss of the exact
   posterior mean by output row on the same samples (for the row split of the architecture
   error). */
RDG__PRIVATE rdg_real *rdg__rfq_crow(const rdg_rf_quad *q) { return q->kval + q->M; }
RDG__PRIVATE rdg_real *rdg__rfq_lex(const rdg_rf_quad *q) { return q->kval + q->M + q->d; }

RDG__PRIVATE int rdg__rfq_ok(const rdg_rf_quad *q) {
    return q && q->K && q->B && q->kval && q->kvec && q->Ainf && q->d >= 1 && q->M >= 1
        && q->M <= RDG__RF_MAXM;
}

RDGDEF void rdg_rf_quad_free(rdg_rf_quad *q) {
    if (!q) return;
    rdg_free(q->K);
    memset(q, 0, sizeof *q);
}

/* K[i0..i0+ni-1][j0..j0+nj-1] += sum_s P[s][i] Q[s][j] (P, Q sample-major with leading
   dimension ld); 4 x 4 register block with a generic edge. */
RDG__PRIVATE void rdg__rf_k44(const rdg_real *P, const rdg_real *Q, size_t ld, size_t sc,
                              size_t i0, size_t ni, size_t j0, size_t nj, rdg_real *K, size_t M) {
    size_t s;
    if (ni == 4 && nj == 4) {
        rdg_real a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        rdg_real a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        rdg_real *k0 = K + i0 * M + j0, *k1 = k0 + M, *k2 = k1 + M, *k3 = k2 + M;
        for (s = 0; s < sc; ++s) {
            const rdg_real *p = P + s * ld + i0, *qq = Q + s * ld + j0;
            rdg_real p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
            rdg_real q0 = qq[0], q1 = qq[1], q2 = qq[2], q3 = qq[3];
            a00 += p0 * q0; a01 += p0 * q1; a02 += p0 * q2; a03 += p0 * q3;
            a10 += p1 * q0; a11 += p1 * q1; a12 += p1 * q2; a13 += p1 * q3;
            a20 += p2 * q0; a21 += p2 * q1; a22 += p2 * q2; a23 += p2 * q3;
            a30 += p3 * q0; a31 += p3 * q1; a32 += p3 * q2; a33 += p3 * q3;
        }
        k0[0] += a00; k0[1] += a01; k0[2] += a02; k0[3] += a03;
        k1[0] += a10; k1[1] += a11; k1[2] += a12; k1[3] += a13;
        k2[0] += a20; k2[1] += a21; k2[2] += a22; k2[3] += a23;
        k3[0] += a30; k3[1] += a31; k3[2] += a32; k3[3] += a33;
    } else {
        size_t r, c;
        for (r = 0; r < ni; ++r) for (c = 0; c < nj; ++c) {
            rdg_real a = 0;
            for (s = 0; s < sc; ++s) a += P[s * ld + i0 + r] * Q[s * ld + j0 + c];
            K[(i0 + r) * M + j0 + c] += a;
        }
    }
}

#if RDG__VW > 1
/* K[i M + j] += sum_{s < sc} P[s ld + i] Q[s ld + j] for i0 <= i < i1 and the nj columns from
   j0 (nj whole pairs of vectors): 4 rows x 2 vectors of K in registers per pass over the
   samples, one FMA per sample and entry, in sample order. A block of 64 x 64 entries reads
   2 x 64 columns of the slab (2 x 128 KB at 256 samples), which stay in the second-level cache
   while its tiles stream them: the 4 x 4 blocks of rdg__rf_k44 went back to the whole slab
   (beyond the caches at width 2000) for 16 multiply-adds per sample. */
RDG__PRIVATE void rdg__rf_kblk(const rdg_real *P, const rdg_real *Q, size_t ld, size_t sc,
                               size_t i0, size_t i1, size_t j0, size_t nj, rdg_real *K, size_t M) {
    size_t i = i0, v, n;
    for (; i < i1; i = i + 4 <= i1 ? i + 4 : i + 1) for (v = j0; v < j0 + nj; v += 2 * RDG__VW) {
        rdg_real *c = K + i * M + v;
        if (i + 4 <= i1) {
            RDG__R2LD(0, M); RDG__R2LD(1, M); RDG__R2LD(2, M); RDG__R2LD(3, M);
            for (n = 0; n < sc; ++n) {
                const rdg_real *a = P + n * ld + i;
                rdg__v b0 = RDG__VLD(Q + n * ld + v), b1 = RDG__VLD(Q + n * ld + v + RDG__VW), s;
                RDG__INREG(b0); RDG__INREG(b1);
                RDG__R2FMA(0); RDG__R2FMA(1); RDG__R2FMA(2); RDG__R2FMA(3);
            }
            RDG__R2ST(0, M); RDG__R2ST(1, M); RDG__R2ST(2, M); RDG__R2ST(3, M);
        } else {                         /* the last rows, one at a time */
            RDG__R2LD(0, M);
            for (n = 0; n < sc; ++n) {
                const rdg_real *a = P + n * ld + i;
                rdg__v b0 = RDG__VLD(Q + n * ld + v), b1 = RDG__VLD(Q + n * ld + v + RDG__VW), s;
                RDG__R2FMA(0);
            }
            RDG__R2ST(0, M);
        }
    }
}
#endif

/* Adds one slab of sc samples to K (lower triangle by 4 x 4 blocks; in the SIMD build, when M
   is a whole number of vector pairs, by blocks of 64 x 64 through rdg__rf_kblk, the diagonal
   blocks whole: K's upper triangle is overwritten by the lower afterwards), B and the row
   constants. PS: sc x M features, QS: scratch sc x M, ws: weights, X0: sc x d. Row blocks of
   K in parallel; every entry is summed by one thread in sample order. */
RDG__PRIVATE void rdg__rf_slab(rdg_rf_quad *q, const rdg_real *PS, rdg_real *QS, const rdg_real *ws,
                               const rdg_real *X0, size_t sc, rdg_real *crow) {
    size_t M = q->M, d = q->d, s, i, j;
    int ib, nb = (int)((M + 3) / 4), jb, nbj = (int)((M + 255) / 256);
    for (s = 0; s < sc; ++s) for (j = 0; j < M; ++j) QS[s * M + j] = ws[s] * PS[s * M + j];
#if RDG__VW > 1
    if (M % (2 * RDG__VW) == 0) {
        int nb64 = (int)((M + 63) / 64);
        RDG__OMP(parallel for schedule(dynamic, 1))
        for (ib = nb64 - 1; ib >= 0; --ib) {      /* long rows first: better balance */
            size_t i0 = (size_t)ib * 64, i1 = i0 + 64 < M ? i0 + 64 : M, j0;
            for (j0 = 0; j0 <= i0; j0 += 64)
                rdg__rf_kblk(PS, QS, M, sc, i0, i1, j0, j0 + 64 <= M ? 64 : M - j0, q->K, M);
        }
        nb = 0;                                    /* K done */
    }
#endif
    RDG__OMP(parallel for schedule(dynamic, 1))
    for (ib = nb - 1; ib >= 0; --ib) {            /* long rows first: better balance */
        size_t i0 = (size_t)ib * 4, ni = i0 + 4 <= M ? 4 : M - i0, j0;
        for (j0 = 0; j0 <= i0; j0 += 4)
            rdg__rf_k44(PS, QS, M, sc, i0, ni, j0, j0 + 4 <= M ? 4 : M - j0, q->K, M);
    }
    RDG__OMP(parallel for schedule(static))
    for (jb = 0; jb < nbj; ++jb) {
        size_t ja = (size_t)jb * 256, je = ja + 256 < M ? ja + 256 : M, ss, ii, jj;
        for (ii = 0; ii < d; ++ii) {
            rdg_real *Bi = q->B + ii * M;
            for (ss = 0; ss < sc; ++ss) {
                rdg_real f = X0[ss * d + ii];
                const rdg_real *qs = QS + ss * M;
                if (f != 0) for (jj = ja; jj < je; ++jj) Bi[jj] += f * qs[jj];
            }
        }
    }
    for (s = 0; s < sc; ++s) for (i = 0; i < d; ++i) crow[i] += ws[s] * X0[s * d + i] * X0[s * d + i];
}

/* Eigen-decomposition of K, pseudo-inverse rank, A_inf = B K^+, cstar. */
RDG__PRIVATE int rdg__rf_rank(const rdg_rf_quad *q) {
    size_t j, r = 0;
    rdg_real tol = (rdg_real)q->M * RDG__EPS * q->kval[0];
    if (!(q->kval[0] > 0)) return 0;
    for (j = 0; j < q->M; ++j) if (q->kval[j] > tol) r = j + 1;
    return (int)r;
}

/* R = A U (d x M), U = kvec: R_ij = sum_r A_ir U_rj; columns in parallel blocks. */
RDG__PRIVATE void rdg__rf_times_U(const rdg_rf_quad *q, const rdg_real *A, rdg_real *R) {
    size_t M = q->M, d = q->d;
    int jb, nbj = (int)((M + 127) / 128);
    RDG__OMP(parallel for schedule(static) if (M > 128))
    for (jb = 0; jb < nbj; ++jb) {
        size_t ja = (size_t)jb * 128, je = ja + 128 < M ? ja + 128 : M, i, r, jj;
        for (i = 0; i < d; ++i) {
            rdg_real *Ri = R + i * M;
            for (jj = ja; jj < je; ++jj) Ri[jj] = 0;
            for (r = 0; r < M; ++r) {
                rdg_real a = A[i * M + r];
                const rdg_real *u = q->kvec + r * M;
                if (a != 0) for (jj = ja; jj < je; ++jj) Ri[jj] += a * u[jj];
            }
        }
    }
}

/* A = G U^T (d x M): A_ir = sum_j G_ij U_rj; rows r in parallel. */
RDG__PRIVATE void rdg__rf_times_Ut(const rdg_rf_quad *q, const rdg_real *G, rdg_real *A) {
    size_t M = q->M, d = q->d;
    int ir;
    RDG__OMP(parallel for schedule(static) if (M > 128))
    for (ir = 0; ir < (int)M; ++ir) {
        size_t r = (size_t)ir, i;
        for (i = 0; i < d; ++i) A[i * M + r] = rdg__dot4(G + i * M, q->kvec + r * M, M);
    }
}

/* lex_i = sum over the plan's samples of w (m_t(x_t)_i - x0_i)^2: the exact posterior mean's
   DMM loss by output row. Nodes in parallel, one density workspace per thread, per-node
   partial sums added in node order. */
RDG__PRIVATE rdg_status rdg__rf_lex(const rdg__dmm_plan *p, rdg_real *lex) {
    size_t d = p->d, nd = p->nper * d, q, i;
    int nth = rdg__nthreads(p->nq), iq, ok = 1;
    rdg__ws *pool;
    rdg_real *part, *buf;
    rdg__mul(rdg__mul(nd, 2, &ok), (size_t)nth, &ok);
    rdg__mul(p->nq, d, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    pool = rdg__pool_alloc(nth, p->g->n, d, p->t[0]);
    part = (rdg_real *)rdg__alloc(p->nq * d, sizeof(rdg_real));
    buf = (rdg_real *)rdg__alloc(2 * nd * (size_t)nth, sizeof(rdg_real));
    if (!pool || !part || !buf) { rdg__pool_free(pool, nth); rdg_free(part); rdg_free(buf); return RDG_ERR_NOMEM; }
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (iq = 0; iq < (int)p->nq; ++iq) {
        int tid = rdg__thread_id();
        rdg__ws *w = &pool[tid];
        rdg_real *x0 = buf + (size_t)tid * 2 * nd, *xt = x0 + nd, *pq = part + (size_t)iq * d;
        size_t b, j;
        for (j = 0; j < d; ++j) pq[j] = 0;
        if (rdg__dmm_node(p, (size_t)iq, x0, xt) != RDG_OK) { pq[0] = -1; continue; }   /* NOMEM marker */
        rdg_ou(p->t[iq], &w->a, &w->s2);
        for (b = 0; b < p->nper; ++b) {
            rdg__eval_mean(p->g, xt + b * d, w);
            for (j = 0; j < d; ++j) { rdg_real e = w->m[j] - x0[b * d + j]; pq[j] += e * e; }
        }
        for (j = 0; j < d; ++j) pq[j] *= p->wq[iq];
    }
    for (q = 0; q < p->nq; ++q) if (part[q * d] < 0) { rdg__pool_free(pool, nth); rdg_free(part); rdg_free(buf); return RDG_ERR_NOMEM; }
    for (q = 0; q < p->nq; ++q) for (i = 0; i < d; ++i) lex[i] += part[q * d + i];
    rdg__pool_free(pool, nth); rdg_free(part); rdg_free(buf);
    return RDG_OK;
}

RDGDEF rdg_status rdg_rf_quad_build(const rdg_rfnn *rf, const rdg_gmm *data,
                                    const rdg_dmm_opts *o, rdg_rf_quad *q) {
    rdg__dmm_plan p;
    rdg_status st;
    rdg_real *base, *X0 = NULL, *XT = NULL, *CT = NULL, *PS = NULL, *QS = NULL, *WS = NULL, *EM = NULL;
    rdg_real *crow, *lex, *WT;
    size_t M, d, MM, tot, npn, q0, ns, SC = 256, i, j;
    int ok = 1, eig;
    if (!q) return RDG_ERR_INVALID;
    memset(q, 0, sizeof *q);
    if (!rdg__rf_ok(rf) || !rdg__gmm_ok(data) || rf->d != data->d) return RDG_ERR_INVALID;
    st = rdg__dmm_plan_make(o, data, &p);
    if (st != RDG_OK) return st;
    M = rf->M; d = rf->d;
    MM = rdg__mul(M, M, &ok);
    tot = rdg__mul(2, MM, &ok);
    rdg__mul(4, rdg__mul(d, M, &ok), &ok);          /* d M below, 2 d M in tot: no wrap */
    tot += 2 * d * M + M + 2 * d;
    if (!ok || tot < MM) { rdg__dmm_plan_free(&p); return RDG_ERR_OVERFLOW; }
    base = (rdg_real *)rdg__alloc(tot, sizeof(rdg_real));
    npn = p.nper <= SC ? SC / p.nper : 1;          /* nodes per group */
    if (npn > p.nq) npn = p.nq;
    ns = npn * p.nper;                             /* samples per group */
    X0 = (rdg_real *)rdg__alloc(ns * d, 2 * sizeof(rdg_real));
    CT = (rdg_real *)rdg__alloc(npn * M + 2 * rf->nfreq + 1 + d * M, sizeof(rdg_real));   /* + W^T */
    PS = (rdg_real *)rdg__alloc(SC * M, 2 * sizeof(rdg_real));
    WS = (rdg_real *)rdg__alloc(ns, sizeof(rdg_real));
    if (!base || !X0 || !CT || !PS || !WS) {
        rdg_free(base); rdg_free(X0); rdg_free(CT); rdg_free(PS); rdg_free(WS);
        rdg__dmm_plan_free(&p);
        return RDG_ERR_NOMEM;
    }
    XT = X0 + ns * d; QS = PS + SC * M; EM = CT + npn * M; WT = EM + 2 * rf->nfreq + 1;
    rdg__rf_wt(rf, WT);
    q->d = d; q->M = M;
    q->K = base; q->kvec = base + MM; q->B = q->kvec + MM; q->Ainf = q->B + d * M;
    q->kval = q->Ainf + d * M;
    crow = rdg__rfq_crow(q); lex = rdg__rfq_lex(q);
    memset(base, 0, tot * sizeof(rdg_real));
    /* groups of whole nodes; each group is cut into slabs of at most SC samples */
    for (q0 = 0; q0 < p.nq && st == RDG_OK; q0 += npn) {
        size_t q1 = q0 + npn < p.nq ? q0 + npn : p.nq, nsg = (q1 - q0) * p.nper, s0, qq;
        int iq;
        RDG__OMP(parallel for schedule(static))
        for (iq = (int)q0; iq < (int)q1; ++iq) {
            size_t off = ((size_t)iq - q0) * p.nper * d;
            WS[off / d] = rdg__dmm_node(&p, (size_t)iq, X0 + off, XT + off) != RDG_OK ? -1 : 0;   /* NOMEM marker */
        }
        for (qq = q0; qq < q1; ++qq) if (WS[(qq - q0) * p.nper] < 0) st = RDG_ERR_NOMEM;
        if (st != RDG_OK) break;
        for (qq = q0; qq < q1; ++qq) {             /* c(t) per node; weights per sample */
            rdg__rf_shift(rf, p.t[qq], CT + (qq - q0) * M, EM);
            for (i = 0; i < p.nper; ++i) WS[(qq - q0) * p.nper + i] = p.wq[qq];
        }
        for (s0 = 0; s0 < nsg && st == RDG_OK; s0 += SC) {
            size_t sc = nsg - s0 < SC ? nsg - s0 : SC;
            int is;
            RDG__OMP(parallel for schedule(static))
            for (is = 0; is < (int)sc; ++is) {
                size_t s = s0 + (size_t)is, node = s / p.nper;
                rdg__rf_feat(rf, CT + node * M, XT + s * d, PS + (size_t)is * M, WT);
            }
            rdg__rf_slab(q, PS, QS, WS + s0, X0 + s0 * d, sc, crow);
        }
    }
    rdg_free(X0); rdg_free(CT); rdg_free(PS); rdg_free(WS);
    if (st == RDG_OK) st = rdg__rf_lex(&p, lex);
    rdg__dmm_plan_free(&p);
    if (st != RDG_OK) { rdg_rf_quad_free(q); return st; }
    for (i = 0; i < M; ++i) for (j = 0; j < i; ++j) q->K[j * M + i] = q->K[i * M + j];
    for (i = 0; i < d; ++i) q->c += crow[i];
    /* eigen-decomposition, A_inf = B K^+ = sum_j (B u_j / k_j) u_j^T, cstar */
    memcpy(q->kvec, q->K, MM * sizeof(rdg_real));
    eig = rdg__eigh_tqr(q->kvec, M, q->kval);
    if (eig != 0) { rdg_rf_quad_free(q); return eig == -1 ? RDG_ERR_NOMEM : RDG_ERR_NOT_CONVERGED; }
    {
        rdg_real *G = (rdg_real *)rdg__alloc(d * M, sizeof(rdg_real)), cs = 0;
        size_t rank = (size_t)rdg__rf_rank(q);
        if (!G) { rdg_rf_quad_free(q); return RDG_ERR_NOMEM; }
        rdg__rf_times_U(q, q->B, G);
        for (i = 0; i < d; ++i) for (j = 0; j < M; ++j) {
            rdg_real g = G[i * M + j];
            if (j < rank) { cs += g * (g / q->kval[j]); G[i * M + j] = g / q->kval[j]; }
            else G[i * M + j] = 0;
        }
        rdg__rf_times_Ut(q, G, q->Ainf);
        q->cstar = q->c - cs;
        rdg_free(G);
    }
    return RDG_OK;
}

/* G = A K (d x M), K symmetric: G_ij = K_j . A_i; columns in parallel. */
RDG__PRIVATE void rdg__rf_times_K(const rdg_rf_quad *q, const rdg_real *A, rdg_real *G) {
    size_t M = q->M, d = q->d;
    int ij;
    RDG__OMP(parallel for schedule(static) if (M > 128))
    for (ij = 0; ij < (int)M; ++ij) {
        size_t j = (size_t)ij, i;
        for (i = 0; i < d; ++i) G[i * M + j] = rdg__dot4(q->K + j * M, A + i * M, M);
    }
}

/* L_i(A) = a_i K a_i - 2 a_i . b_i + crow_i per output row (G: d x M scratch). */
RDG__PRIVATE void rdg__rf_rowloss(const rdg_rf_quad *q, const rdg_real *A, rdg_real *G, rdg_real *Li) {
    size_t i, M = q->M;
    const rdg_real *crow = rdg__rfq_crow(q);
    rdg__rf_times_K(q, A, G);
    for (i = 0; i < q->d; ++i) {
        const rdg_real *a = A + i * M;
        Li[i] = rdg__dot4(a, G + i * M, M) - RDG__R(2.0) * rdg__dot4(a, q->B + i * M, M) + crow[i];
    }
}

RDG__PRIVATE rdg_status rdg__rf_A_check(const rdg_rf_quad *q, const rdg_real *A) {
    if (!rdg__rfq_ok(q) || !A) return RDG_ERR_INVALID;
    if (!rdg__allfinite(A, q->d * q->M)) return RDG_ERR_NONFINITE;
    return RDG_OK;
}

RDGDEF rdg_status rdg_rf_quad_loss(const rdg_rf_quad *q, const rdg_real *A, rdg_real *loss) {
    rdg_real *G, tot;
    size_t i, M;
    rdg_status st = rdg__rf_A_check(q, A);
    if (!loss) return RDG_ERR_INVALID;
    *loss = 0;
    if (st != RDG_OK) return st;
    M = q->M;
    G = (rdg_real *)rdg__alloc(q->d * M + q->d, sizeof(rdg_real));
    if (!G) return RDG_ERR_NOMEM;
    rdg__rf_times_K(q, A, G);
    tot = q->c;
    for (i = 0; i < q->d; ++i) {
        const rdg_real *a = A + i * M;
        tot += rdg__dot4(a, G + i * M, M) - RDG__R(2.0) * rdg__dot4(a, q->B + i * M, M);
    }
    rdg_free(G);
    *loss = tot;
    return rdg__isfinite(tot) ? RDG_OK : RDG_ERR_NONFINITE;
}

RDGDEF rdg_status rdg_rf_gd(const rdg_rf_quad *q, rdg_real *A, rdg_real eta, size_t steps) {
    rdg_real *G;
    size_t k, i, n;
    rdg_status st = rdg__rf_A_check(q, A);
    if (st != RDG_OK) return st;
    if (!rdg__isfinite(eta) || !(eta > 0)) return RDG_ERR_INVALID;
    n = q->d * q->M;
    G = (rdg_real *)rdg__alloc(n, sizeof(rdg_real));
    if (!G) return RDG_ERR_NOMEM;
    for (k = 0; k < steps; ++k) {
        rdg__rf_times_K(q, A, G);
        for (i = 0; i < n; ++i) A[i] -= eta * (RDG__R(2.0) * G[i] - RDG__R(2.0) * q->B[i]);
    }
    rdg_free(G);
    return rdg__allfinite(A, n) ? RDG_OK : RDG_ERR_NONFINITE;
}

/* log(1 + x) accurate for small |x| (x > -1). */
RDG__PRIVATE rdg_real rdg__rf_log1p(rdg_real x) {
    if (RDG__FABS(x) < RDG__R(1e-4))
        return x * (RDG__R(1.0) - x * (RDG__R(0.5) - x * (RDG__R(1.0) / RDG__R(3.0) - x * RDG__R(0.25))));
    return RDG__LOG(RDG__R(1.0) + x);
}

/* f = (1 - 2 eta k_j)^k and 1 - f, both to full relative accuracy when 2 eta k_j is tiny. */
RDG__PRIVATE void rdg__rf_decay(rdg_real kj, rdg_real eta, size_t k, rdg_real *f, rdg_real *omf) {
    rdg_real x = RDG__R(2.0) * eta * kj;
    if (k == 0 || x == 0) { *f = RDG__R(1.0); *omf = 0; return; }
    if (x < 1) {
        rdg_real lg = (rdg_real)k * rdg__rf_log1p(-x);
        *f = RDG__EXP(lg);
        *omf = -RDG__EXPM1(lg);
    } else {                                       /* oscillating or divergent GD */
        *f = RDG__POW(RDG__R(1.0) - x, (rdg_real)k);
        *omf = RDG__R(1.0) - *f;
    }
}

/* Spectral coordinates of the GD iterate: P0 = A0 U, Bu = B U (both d x M, caller scratch). */
RDG__PRIVATE void rdg__rf_spectral(const rdg_rf_quad *q, const rdg_real *A0, rdg_real *P0, rdg_real *Bu) {
    rdg__rf_times_U(q, A0, P0);
    rdg__rf_times_U(q, q->B, Bu);
}

RDGDEF rdg_status rdg_rf_closed_form(const rdg_rf_quad *q, const rdg_real *A0, rdg_real eta,
                                     size_t k, rdg_real *Ak) {
    rdg_real *P0, *Bu;
    size_t i, j, M, d, rank;
    rdg_status st = rdg__rf_A_check(q, A0);
    if (st != RDG_OK) return st;
    if (!Ak || !rdg__isfinite(eta) || !(eta > 0)) return RDG_ERR_INVALID;
    M = q->M; d = q->d;
    if (!rdg__allfinite(q->kval, M)) return RDG_ERR_INVALID;
    P0 = (rdg_real *)rdg__alloc(2 * d * M, sizeof(rdg_real));
    if (!P0) return RDG_ERR_NOMEM;
    Bu = P0 + d * M;
    rdg__rf_spectral(q, A0, P0, Bu);
    rank = (size_t)rdg__rf_rank(q);
    /* G_j = f_j A0 u_j + (1 - f_j) B u_j / k_j on range(K); A0 u_j on its kernel */
    for (j = 0; j < rank; ++j) {
        rdg_real f, omf;
        rdg__rf_decay(q->kval[j], eta, k, &f, &omf);
        for (i = 0; i < d; ++i) P0[i * M + j] = f * P0[i * M + j] + omf * (Bu[i * M + j] / q->kval[j]);
    }
    rdg__rf_times_Ut(q, P0, Ak);
    rdg_free(P0);
    return rdg__allfinite(Ak, d * M) ? RDG_OK : RDG_ERR_NONFINITE;
}

RDGDEF rdg_status rdg_rf_init_A(const rdg_rf_quad *q, rdg_rf_init kind, size_t d, size_t M,
                                unsigned long long seed, rdg_real *A) {
    size_t i, j, n;
    int ok = 1;
    if (!A || d == 0 || M == 0) return RDG_ERR_INVALID;
    n = rdg__mul(d, M, &ok);
    if (!ok || n > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    switch (kind) {
    case RDG_RF_INIT_GAUSS: rdg__rf_gauss(A, n, RDG__R(1.0), seed, RDG__RF_STREAM + 3); break;
    case RDG_RF_INIT_ZERO: for (i = 0; i < n; ++i) A[i] = 0; break;
    case RDG_RF_INIT_ONES: for (i = 0; i < n; ++i) A[i] = RDG__R(1.0); break;
    case RDG_RF_INIT_SLOW: {
        /* every row sqrt(M) u, u the eigenvector of the smallest eigenvalue kept by the
           pseudo-inverse (k > M eps k_max): |A|_F^2 = d M, as for ONES */
        int r;
        rdg_real sc = RDG__SQRT((rdg_real)M);
        if (!rdg__rfq_ok(q) || q->d != d || q->M != M) return RDG_ERR_INVALID;
        r = rdg__rf_rank(q);
        if (r == 0) return RDG_ERR_SINGULAR;       /* K = 0: no non-zero eigenvalue */
        for (i = 0; i < d; ++i) for (j = 0; j < M; ++j) A[i * M + j] = sc * q->kvec[j * M + (size_t)(r - 1)];
        break;
    }
    default: return RDG_ERR_INVALID;
    }
    return RDG_OK;
}

RDGDEF rdg_status rdg_rf_split(const rdg_rf_quad *q, const rdg_real *A0, rdg_real eta, size_t k,
                               rdg_real lpm_min, const size_t *normal_rows, size_t nnormal,
                               rdg_rf_errors *e) {
    rdg_real *P0, *Bu, *Ak, *G, *Li, *opt_i;
    const rdg_real *crow, *lex;
    unsigned char *isn;
    size_t i, j, M, d, rank;
    rdg_status st;
    if (!e) return RDG_ERR_INVALID;
    memset(e, 0, sizeof *e);
    st = rdg__rf_A_check(q, A0);
    if (st != RDG_OK) return st;
    M = q->M; d = q->d;
    if (!rdg__isfinite(eta) || !(eta > 0) || !rdg__isfinite(lpm_min) || nnormal > d
        || (nnormal > 0 && !normal_rows) || !rdg__allfinite(q->kval, M)) return RDG_ERR_INVALID;
    isn = (unsigned char *)rdg__alloc(d, 1);
    P0 = (rdg_real *)rdg__alloc(4 * d * M + 2 * d, sizeof(rdg_real));
    if (!isn || !P0) { rdg_free(isn); rdg_free(P0); return RDG_ERR_NOMEM; }
    memset(isn, 0, d);
    for (i = 0; i < nnormal; ++i) {
        if (normal_rows[i] >= d || isn[normal_rows[i]]) { rdg_free(isn); rdg_free(P0); return RDG_ERR_INVALID; }
        isn[normal_rows[i]] = 1;
    }
    Bu = P0 + d * M; Ak = Bu + d * M; G = Ak + d * M; Li = G + d * M; opt_i = Li + d;
    crow = rdg__rfq_crow(q); lex = rdg__rfq_lex(q);
    st = rdg_rf_closed_form(q, A0, eta, k, Ak);
    if (st == RDG_OK) {
        rdg_real tot = 0;
        rdg__rf_rowloss(q, Ak, G, Li);
        for (i = 0; i < d; ++i) tot += Li[i];
        e->loss = tot;
        rdg__rf_spectral(q, A0, P0, Bu);
        rank = (size_t)rdg__rf_rank(q);
        /* opt_i = sum_j k_j f_j^2 ((A0 - Ainf) u_j)_i^2; L_i(Ainf) = crow_i - sum_j (B u_j)_i^2 / k_j */
        for (i = 0; i < d; ++i) { opt_i[i] = 0; Li[i] = crow[i]; }
        for (j = 0; j < rank; ++j) {
            rdg_real f, omf, kj = q->kval[j];
            rdg__rf_decay(kj, eta, k, &f, &omf);
            for (i = 0; i < d; ++i) {
                rdg_real bu = Bu[i * M + j], dlt = P0[i * M + j] - bu / kj;
                opt_i[i] += kj * (f * dlt) * (f * dlt);
                Li[i] -= bu * (bu / kj);
            }
        }
        e->arch = q->cstar - lpm_min;
        for (i = 0; i < d; ++i) {
            e->opt += opt_i[i];
            if (isn[i]) { e->opt_normal += opt_i[i]; e->arch_normal += Li[i] - lex[i]; }
            else e->opt_tangent += opt_i[i];
        }
        e->arch_tangent = e->arch - e->arch_normal;
    }
    rdg_free(isn); rdg_free(P0);
    return st;
}

/* >>mlp ---------------------------------------------------------------------------------------
   Small MLP posterior-mean model (MATH.md 6; paper K.2, J.3): hand-written forward and backward
   (llm.c style), Adam, minibatch training on the DMM loss, and the model-file format.

   Network. L = nhidden + 1 linear layers; layer l maps in_l -> out_l with
       in_0 = d + temb   (the input [x, e(t)], e the sinusoidal embedding of rdg_embed_sinusoidal)
       out_l = hidden[l] for l < nhidden,   out_{L-1} = d,   in_{l+1} = out_l,
   and ReLU after every layer but the last. Parameters, one buffer, layer after layer:
       W_l (out_l x in_l, row-major: W_l[o * in_l + i]), then b_l (out_l).
   params, grads, adam_m and adam_v are one allocation of 4 nparams reals, in that order, so
   rdg_mlp_free releases net->params only.

   Threads. A batch is cut into chunks of RDG__MLP_CHUNK points, a number fixed by the batch
   size alone. Each chunk is computed by one thread into its own loss partial and gradient
   buffer; those are then added up serially in chunk order. Loss, gradient and so training are
   therefore bit-identical for any number of threads. */
#define RDG__MLP_CHUNK 32
/* Batches with fewer than this many (points x parameters) run on one thread. */
#define RDG__MLP_PAR_MIN ((size_t)1 << 18)

/* a + b without overflow, or 0 with *ok cleared. */
RDG__PRIVATE size_t rdg__mlp_add(size_t a, size_t b, int *ok) {
    if (b > (size_t)-1 - a) { *ok = 0; return 0; }
    return a + b;
}

/* Validates a shape and counts its parameters. RDG_ERR_INVALID: a zero size, odd temb, NULL
   hidden; RDG_ERR_OVERFLOW: d or temb over 4096, nhidden over RDG_MLP_MAX_LAYERS, nparams over
   RDG_MAX_ELEMENTS or overflowing. */
RDG__PRIVATE rdg_status rdg__mlp_count(size_t d, size_t temb, size_t nhidden, const size_t *hidden,
                                       size_t *nparams) {
    size_t l, in, out, n = 0;
    int ok = 1;
    if (d == 0 || temb == 0 || nhidden == 0 || !hidden) return RDG_ERR_INVALID;
    if (d > 4096 || temb > 4096 || nhidden > RDG_MLP_MAX_LAYERS) return RDG_ERR_OVERFLOW;
    if (temb % 2) return RDG_ERR_INVALID;
    for (l = 0; l < nhidden; ++l) if (hidden[l] == 0) return RDG_ERR_INVALID;
    in = d + temb;
    for (l = 0; l <= nhidden; ++l) {
        out = l < nhidden ? hidden[l] : d;
        n = rdg__mlp_add(n, rdg__mul(out, rdg__mlp_add(in, 1, &ok), &ok), &ok);
        in = out;
    }
    if (!ok || n > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    *nparams = n;
    return RDG_OK;
}

/* Layer l (0 .. nhidden): fan-in *in, fan-out *out, offset of W_l in params (b_l follows at
   *off + *out * *in). The net's shape has passed rdg__mlp_count. */
RDG__PRIVATE void rdg__mlp_layer(const rdg_mlp *net, size_t l, size_t *in, size_t *out, size_t *off) {
    size_t k, i = net->d + net->temb, o = 0, p = 0;
    for (k = 0; k <= l; ++k) {
        o = k < net->nhidden ? net->hidden[k] : net->d;
        if (k < l) { p += o * (i + 1); i = o; }
    }
    *in = i; *out = o; *off = p;
}

/* A net fit to use: a valid shape whose count matches nparams, and a parameter buffer. */
RDG__PRIVATE int rdg__mlp_ok(const rdg_mlp *net) {
    size_t n;
    return net && net->params
        && rdg__mlp_count(net->d, net->temb, net->nhidden, net->hidden, &n) == RDG_OK
        && n == net->nparams;
}

/* Zeroes *net, sets its shape and allocates params | grads | adam_m | adam_v, all zero. */
RDG__PRIVATE rdg_status rdg__mlp_alloc(rdg_mlp *net, size_t d, size_t temb, size_t nhidden,
                                       const size_t *hidden) {
    size_t n, l, total;
    int ok = 1;
    rdg_status st;
    memset(net, 0, sizeof *net);
    st = rdg__mlp_count(d, temb, nhidden, hidden, &n);
    if (st != RDG_OK) return st;
    total = rdg__mul(n, 4, &ok);
    (void)rdg__mul(total, sizeof(rdg_real), &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    net->params = (rdg_real *)rdg__alloc(total, sizeof(rdg_real));
    if (!net->params) return RDG_ERR_NOMEM;
    memset(net->params, 0, total * sizeof(rdg_real));
    net->grads = net->params + n;
    net->adam_m = net->grads + n;
    net->adam_v = net->adam_m + n;
    net->d = d; net->temb = temb; net->nhidden = nhidden; net->nparams = n;
    for (l = 0; l < nhidden; ++l) net->hidden[l] = hidden[l];
    return RDG_OK;
}

RDGDEF rdg_status rdg_mlp_init(rdg_mlp *net, size_t d, size_t nhidden, const size_t *hidden,
                               size_t temb, unsigned long long seed) {
    rdg_rng r;
    rdg_status st;
    size_t l, k, in, out, off;
    if (!net) return RDG_ERR_INVALID;
    memset(net, 0, sizeof *net);
    if (temb == 0) temb = 32;
    st = rdg__mlp_alloc(net, d, temb, nhidden, hidden);
    if (st != RDG_OK) return st;
    /* He initialisation: W_l ~ N(0, 2 / in_l), b_l = 0, drawn layer by layer from (seed, 0). */
    rdg_rng_init(&r, seed, 0);
    for (l = 0; l <= nhidden; ++l) {
        rdg_real sd;
        rdg__mlp_layer(net, l, &in, &out, &off);
        sd = RDG__SQRT(RDG__R(2.0) / (rdg_real)in);
        for (k = 0; k < out * in; ++k) net->params[off + k] = sd * rdg_rng_normal(&r);
    }
    return RDG_OK;
}

RDGDEF void rdg_mlp_free(rdg_mlp *net) {
    if (!net) return;
    rdg_free(net->params);
    memset(net, 0, sizeof *net);
}

RDGDEF void rdg_mlp_zero_grad(rdg_mlp *net) {
    if (!net || !net->grads) return;
    memset(net->grads, 0, net->nparams * sizeof(rdg_real));
}

/* ---- kernels ---------------------------------------------------------------------------------
   All arrays row-major; C is the number of points (rows) in a chunk. */

/* y[0..n) += a x[0..n), as a statement block: unrolled by four over independent entries (each
   y[i] gets the same operations in the same order as the plain loop: no reassociation), loads
   before stores so that the compiler may pair them into SIMD without an aliasing proof. */
#define RDG__MLP_AXPY(y, a, x, n) do {                                                  \
    size_t i_;                                                                          \
    for (i_ = 0; i_ + 4 <= (n); i_ += 4) {                                              \
        rdg_real y0_ = (y)[i_] + (a) * (x)[i_], y1_ = (y)[i_ + 1] + (a) * (x)[i_ + 1];  \
        rdg_real y2_ = (y)[i_ + 2] + (a) * (x)[i_ + 2];                                 \
        rdg_real y3_ = (y)[i_ + 3] + (a) * (x)[i_ + 3];                                 \
        (y)[i_] = y0_; (y)[i_ + 1] = y1_; (y)[i_ + 2] = y2_; (y)[i_ + 3] = y3_;         \
    }                                                                                   \
    for (; i_ < (n); ++i_) (y)[i_] += (a) * (x)[i_];                                    \
} while (0)

/* Layers at least this wide run their forward pass in column form (below). */
#define RDG__MLP_COLUMN_MIN 16

/* WT: the transposed weights (in_l x out_l, at the offset of W_l; bias slots unused) of every
   layer that runs in column form. */
RDG__PRIVATE void rdg__mlp_transpose(const rdg_mlp *net, rdg_real *WT) {
    size_t l, o, i, in, out, off;
    for (l = 0; l <= net->nhidden; ++l) {
        const rdg_real *W;
        rdg__mlp_layer(net, l, &in, &out, &off);
        if (out < RDG__MLP_COLUMN_MIN) continue;
        W = net->params + off;
        for (o = 0; o < out; ++o) for (i = 0; i < in; ++i) WT[off + i * out + o] = W[o * in + i];
    }
}

/* out (C x O) = inp (C x I) W^T + bias;  W: O x I row-major, WT = W^T (I x O), bias: O.
   Wide layers (O >= RDG__MLP_COLUMN_MIN) in column form, y = bias + sum_i x_i WT[i, :] in
   order i = 0..I-1 (exactly-zero inputs, common after ReLU, add nothing and are skipped);
   narrow ones (the output layer) in row form, y_o = bias_o + W[o, :] . x with four partial
   sums added in a fixed order. Either way each row depends on its own input row only, by a
   fixed sequence of operations. */
RDG__PRIVATE void rdg__mlp_linear_forward(rdg_real *out, const rdg_real *inp, const rdg_real *W,
                                          const rdg_real *WT, const rdg_real *bias, size_t C,
                                          size_t I, size_t O) {
    size_t b, i, o;
    for (b = 0; b < C; ++b) {
        const rdg_real *x = inp + b * I;
        rdg_real *y = out + b * O;
        if (O >= RDG__MLP_COLUMN_MIN) {
            memcpy(y, bias, O * sizeof(rdg_real));
            for (i = 0; i < I; ++i) {
                const rdg_real xi = x[i], *wc = WT + i * O;
                if (xi != 0) RDG__MLP_AXPY(y, xi, wc, O);
            }
        } else {
            for (o = 0; o < O; ++o) {
                const rdg_real *w = W + o * I;
                rdg_real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (i = 0; i + 4 <= I; i += 4) {
                    s0 += w[i] * x[i];         s1 += w[i + 1] * x[i + 1];
                    s2 += w[i + 2] * x[i + 2]; s3 += w[i + 3] * x[i + 3];
                }
                for (; i < I; ++i) s0 += w[i] * x[i];
                y[o] = bias[o] + ((s0 + s1) + (s2 + s3));
            }
        }
    }
}

/* Backward of rdg__mlp_linear_forward, given dout = dL/dout (C x O) and W (O x I, row-major).
   ACCUMULATES:
     dW (O x I) += dout^T inp,  db (O) += sum over rows of dout,
     dinp (C x I) += dout W     (skipped when dinp is NULL: the input layer needs no dinp). */
RDG__PRIVATE void rdg__mlp_linear_backward(rdg_real *dinp, rdg_real *dW, rdg_real *db,
                                           const rdg_real *dout, const rdg_real *inp,
                                           const rdg_real *W, size_t C, size_t I, size_t O) {
    size_t b, o;
    for (b = 0; b < C; ++b) {
        const rdg_real *x = inp + b * I, *dy = dout + b * O;
        rdg_real *dx = dinp ? dinp + b * I : NULL;
        for (o = 0; o < O; ++o) {
            const rdg_real g = dy[o], *w = W + o * I;
            rdg_real *dw = dW + o * I;
            if (g == 0) continue;               /* dead ReLU units: nothing to add */
            db[o] += g;
            RDG__MLP_AXPY(dw, g, x, I);
            if (dx) RDG__MLP_AXPY(dx, g, w, I);
        }
    }
}

/* The hidden activation and its derivative, defined together from one predicate so that they
   cannot drift apart (STYLE 23): relu(z) = z [z > 0], relu'(z) = [z > 0] (0 at the kink). */
#define RDG__MLP_ACT_ON(z) ((z) > 0)
/* h (n) = relu(z) */
RDG__PRIVATE void rdg__mlp_act_forward(rdg_real *h, const rdg_real *z, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) h[i] = RDG__MLP_ACT_ON(z[i]) ? z[i] : 0;
}
/* dz (n) += dh * relu'(z), ACCUMULATING, z the forward pre-activation. */
RDG__PRIVATE void rdg__mlp_act_backward(rdg_real *dz, const rdg_real *dh, const rdg_real *z, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) if (RDG__MLP_ACT_ON(z[i])) dz[i] += dh[i];
}

/* ---- workspace -------------------------------------------------------------------------------
   nchunk chunks of per reals each; within a chunk (C = RDG__MLP_CHUNK rows):
     inp   C x in_0     the input [x, e(t)]
     z[l]  C x out_l    pre-activations (z[L-1] is the output m)
     h[l]  C x out_l    relu(z[l]), hidden layers only
     da,db C x maxw     backward buffers (maxw: the widest of in_0 and the out_l)
     g     nparams      the chunk's gradient (only when the workspace is for training)
   then part: nchunk loss partials, and WT: the transposed weights of rdg__mlp_transpose
   (nparams, shared by the chunks, filled once per batch). */
typedef struct rdg__mlp_ws {
    size_t nchunk, per;
    size_t z[RDG_MLP_MAX_LAYERS + 1], h[RDG_MLP_MAX_LAYERS];
    size_t inp, da, db, g;
    rdg_real *buf, *part, *WT;
} rdg__mlp_ws;

RDG__PRIVATE void rdg__mlp_ws_free(rdg__mlp_ws *ws) {
    rdg_free(ws->buf);
    ws->buf = ws->part = ws->WT = NULL;
}

/* Workspace for batches of up to B points; with_grad adds the per-chunk gradients. */
RDG__PRIVATE rdg_status rdg__mlp_ws_alloc(const rdg_mlp *net, size_t B, int with_grad,
                                          rdg__mlp_ws *ws) {
    size_t C = RDG__MLP_CHUNK, L = net->nhidden + 1, l, in, out, off, maxw, p = 0, total;
    int ok = 1;
    memset(ws, 0, sizeof *ws);
    ws->nchunk = B / C + (B % C != 0);
    maxw = net->d + net->temb;
    for (l = 0; l < L; ++l) {
        rdg__mlp_layer(net, l, &in, &out, &off);
        if (out > maxw) maxw = out;
    }
    ws->inp = p; p = rdg__mlp_add(p, rdg__mul(C, net->d + net->temb, &ok), &ok);
    for (l = 0; l < L; ++l) {
        rdg__mlp_layer(net, l, &in, &out, &off);
        ws->z[l] = p; p = rdg__mlp_add(p, rdg__mul(C, out, &ok), &ok);
        if (l + 1 < L) { ws->h[l] = p; p = rdg__mlp_add(p, rdg__mul(C, out, &ok), &ok); }
    }
    ws->da = p; p = rdg__mlp_add(p, rdg__mul(C, maxw, &ok), &ok);
    ws->db = p; p = rdg__mlp_add(p, rdg__mul(C, maxw, &ok), &ok);
    ws->g = p;
    if (with_grad) p = rdg__mlp_add(p, net->nparams, &ok);
    ws->per = p;
    total = rdg__mlp_add(rdg__mul(p, ws->nchunk, &ok), ws->nchunk, &ok);
    total = rdg__mlp_add(total, net->nparams, &ok);
    (void)rdg__mul(total, sizeof(rdg_real), &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    ws->buf = (rdg_real *)rdg__alloc(total, sizeof(rdg_real));
    if (!ws->buf) return RDG_ERR_NOMEM;
    ws->part = ws->buf + p * ws->nchunk;
    ws->WT = ws->part + ws->nchunk;
    return RDG_OK;
}

/* Fills the chunk's input rows [x_b, e(t_b)]. tstride 0: one time t[0] for every row. */
RDG__PRIVATE void rdg__mlp_input(const rdg_mlp *net, rdg_real *inp, const rdg_real *x,
                                 const rdg_real *t, size_t tstride, size_t C) {
    size_t b, d = net->d, in0 = net->d + net->temb;
    for (b = 0; b < C; ++b) {
        rdg_real *row = inp + b * in0;
        memcpy(row, x + b * d, d * sizeof(rdg_real));
        /* t > 0 and temb even were checked by the callers: the embedding cannot fail */
        if (b == 0 || tstride) (void)rdg_embed_sinusoidal(t[b * tstride], net->temb, row + d);
        else memcpy(row + d, inp + d, net->temb * sizeof(rdg_real));
    }
}

/* Forward pass of one chunk (C rows) whose input rows are already filled, with ws->WT filled
   by rdg__mlp_transpose; w is the chunk's part of the workspace. The output m is
   w + ws->z[nhidden] (C x d). */
RDG__PRIVATE void rdg__mlp_forward(const rdg_mlp *net, const rdg__mlp_ws *ws, rdg_real *w, size_t C) {
    size_t l, L = net->nhidden + 1, in, out, off;
    for (l = 0; l < L; ++l) {
        const rdg_real *x = l == 0 ? w + ws->inp : w + ws->h[l - 1];
        rdg__mlp_layer(net, l, &in, &out, &off);
        rdg__mlp_linear_forward(w + ws->z[l], x, net->params + off, ws->WT + off,
                                net->params + off + out * in, C, in, out);
        if (l + 1 < L) rdg__mlp_act_forward(w + ws->h[l], w + ws->z[l], C * out);
    }
}

/* Loss sum_b wt_b |m_b - target_b|^2 of one chunk after rdg__mlp_forward; when g is not NULL,
   the backward pass ACCUMULATES its gradient into g (nparams), and when dx is not NULL, the
   input gradient dL/dx (C x d) is written there. */
RDG__PRIVATE rdg_real rdg__mlp_backward(const rdg_mlp *net, const rdg__mlp_ws *ws, rdg_real *w,
                                        const rdg_real *target, const rdg_real *wt, size_t C,
                                        rdg_real *g, rdg_real *dx) {
    size_t b, j, l, d = net->d, L = net->nhidden + 1, in, out, off;
    const rdg_real *m = w + ws->z[L - 1];
    rdg_real *da = w + ws->da, *db = w + ws->db, loss = 0;
    for (b = 0; b < C; ++b) {
        rdg_real wb = wt ? wt[b] : RDG__R(1.0), s = 0;
        for (j = 0; j < d; ++j) {
            rdg_real e = m[b * d + j] - target[b * d + j];
            s += e * e;
            da[b * d + j] = RDG__R(2.0) * wb * e;           /* dL/dm */
        }
        loss += wb * s;
    }
    if (!g && !dx) return loss;
    for (l = L; l-- > 0;) {
        /* da holds dL/dz_l (C x out_l) */
        const rdg_real *x = l == 0 ? w + ws->inp : w + ws->h[l - 1];
        int want_din = l > 0 || dx != NULL;
        rdg__mlp_layer(net, l, &in, &out, &off);
        if (want_din) memset(db, 0, C * in * sizeof(rdg_real));
        if (g) {
            rdg__mlp_linear_backward(want_din ? db : NULL, g + off, g + off + out * in, da, x,
                                     net->params + off, C, in, out);
        } else {
            /* input gradient only: dinp += dout W (the dinp part of rdg__mlp_linear_backward) */
            size_t o;
            for (b = 0; b < C; ++b) for (o = 0; o < out; ++o) {
                const rdg_real gg = da[b * out + o], *wr = net->params + off + o * in;
                rdg_real *dr = db + b * in;
                RDG__MLP_AXPY(dr, gg, wr, in);
            }
        }
        if (l > 0) {
            memset(da, 0, C * in * sizeof(rdg_real));
            rdg__mlp_act_backward(da, db, w + ws->z[l - 1], C * in);
        } else if (dx) {
            for (b = 0; b < C; ++b) memcpy(dx + b * d, db + b * in, d * sizeof(rdg_real));
        }
    }
    return loss;
}

/* Loss and gradient of a batch (validated by the caller) with a workspace for >= B points:
   chunks in parallel, partials summed serially in chunk order (see the section comment).
   g: gradient to ACCUMULATE into (nparams) or NULL; dx (B x d) or NULL. */
RDG__PRIVATE rdg_real rdg__mlp_batch(const rdg_mlp *net, const rdg__mlp_ws *ws, const rdg_real *x,
                                     const rdg_real *t, const rdg_real *target, const rdg_real *wt,
                                     size_t B, rdg_real *g, rdg_real *dx) {
    size_t C = RDG__MLP_CHUNK, nc = B / C + (B % C != 0), c, j, d = net->d;
    rdg_real loss = 0;
    int ic, nth = rdg__nthreads(nc);
    /* a parallel region only for batches worth one: about B nparams multiply-adds each way */
    int par = nc > 1 && B * net->nparams >= RDG__MLP_PAR_MIN;
    (void)nth; (void)par;
    rdg__mlp_transpose(net, ws->WT);
    RDG__OMP(parallel for schedule(static) num_threads(nth) if (par))
    for (ic = 0; ic < (int)nc; ++ic) {
        size_t b0 = (size_t)ic * C, cn = B - b0 < C ? B - b0 : C;
        rdg_real *w = ws->buf + (size_t)ic * ws->per;
        rdg_real *gc = g ? w + ws->g : NULL;
        if (gc) memset(gc, 0, net->nparams * sizeof(rdg_real));
        rdg__mlp_input(net, w + ws->inp, x + b0 * d, t + b0, 1, cn);
        rdg__mlp_forward(net, ws, w, cn);
        ws->part[ic] = rdg__mlp_backward(net, ws, w, target + b0 * d, wt ? wt + b0 : NULL, cn, gc,
                                         dx ? dx + b0 * d : NULL);
    }
    for (c = 0; c < nc; ++c) {
        loss += ws->part[c];
        if (g) {
            const rdg_real *gc = ws->buf + c * ws->per + ws->g;
            for (j = 0; j < net->nparams; ++j) g[j] += gc[j];
        }
    }
    return loss;
}

/* Argument checks shared by rdg_mlp_loss_grad and its input-gradient twin. */
RDG__PRIVATE rdg_status rdg__mlp_batch_check(const rdg_mlp *net, const rdg_real *x, const rdg_real *t,
                                             const rdg_real *target, const rdg_real *wt, size_t B) {
    size_t b, n;
    int ok = 1;
    if (!rdg__mlp_ok(net) || !x || !t || !target || B == 0) return RDG_ERR_INVALID;
    n = rdg__mul(B, net->d, &ok);
    if (!ok || n > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(t, B) || !rdg__allfinite(x, n) || !rdg__allfinite(target, n)
        || (wt && !rdg__allfinite(wt, B)) || !rdg__allfinite(net->params, net->nparams))
        return RDG_ERR_NONFINITE;
    for (b = 0; b < B; ++b) {
        if (!rdg__t_ok(t[b])) return RDG_ERR_INVALID;
        if (wt && wt[b] < 0) return RDG_ERR_INVALID;
    }
    return RDG_OK;
}

RDGDEF rdg_status rdg_mlp_loss_grad(rdg_mlp *net, const rdg_real *x, const rdg_real *t,
                                    const rdg_real *target, const rdg_real *wt, size_t B,
                                    rdg_real *loss) {
    rdg__mlp_ws ws;
    rdg_real l;
    rdg_status st = rdg__mlp_batch_check(net, x, t, target, wt, B);
    if (st != RDG_OK) return st;
    st = rdg__mlp_ws_alloc(net, B, net->grads != NULL, &ws);
    if (st != RDG_OK) return st;
    l = rdg__mlp_batch(net, &ws, x, t, target, wt, B, net->grads, NULL);
    rdg__mlp_ws_free(&ws);
    if (loss) *loss = l;
    return RDG_OK;
}

/* Input gradient dx = d loss / d x (B x d) of the loss of rdg_mlp_loss_grad; net->grads is not
   touched. (Private: for the finite-difference tests and for callers inside the library.) */
RDG__PRIVATE rdg_status rdg__mlp_input_grad(const rdg_mlp *net, const rdg_real *x, const rdg_real *t,
                                            const rdg_real *target, const rdg_real *wt, size_t B,
                                            rdg_real *loss, rdg_real *dx) {
    rdg__mlp_ws ws;
    rdg_real l;
    rdg_status st = rdg__mlp_batch_check(net, x, t, target, wt, B);
    if (st != RDG_OK) return st;
    if (!dx) return RDG_ERR_INVALID;
    st = rdg__mlp_ws_alloc(net, B, 0, &ws);
    if (st != RDG_OK) return st;
    l = rdg__mlp_batch(net, &ws, x, t, target, wt, B, NULL, dx);
    rdg__mlp_ws_free(&ws);
    if (loss) *loss = l;
    return RDG_OK;
}

RDGDEF rdg_status rdg_mlp_adam(rdg_mlp *net, rdg_real lr) {
    const rdg_real b1 = RDG__R(0.9), b2 = RDG__R(0.999), eps = RDG__R(1e-8);
    rdg_real c1, c2;
    size_t j;
    if (!rdg__mlp_ok(net) || !net->grads || !net->adam_m || !net->adam_v || net->adam_t < 0)
        return RDG_ERR_INVALID;
    if (!rdg__isfinite(lr) || lr <= 0) return RDG_ERR_INVALID;
    if (!rdg__allfinite(net->grads, net->nparams)) return RDG_ERR_NONFINITE;
    if (net->adam_t < LONG_MAX) net->adam_t++;
    /* bias corrections 1 - beta^t */
    c1 = 1 - RDG__POW(b1, (rdg_real)net->adam_t);
    c2 = 1 - RDG__POW(b2, (rdg_real)net->adam_t);
    for (j = 0; j < net->nparams; ++j) {
        rdg_real g = net->grads[j];
        rdg_real m = net->adam_m[j] = b1 * net->adam_m[j] + (1 - b1) * g;
        rdg_real v = net->adam_v[j] = b2 * net->adam_v[j] + (1 - b2) * g * g;
        net->params[j] -= lr * (m / c1) / (RDG__SQRT(v / c2) + eps);
    }
    return RDG_OK;
}

/* ---- the model view ----------------------------------------------------------------------- */
/* eval of rdg_mlp_model: reads the net only, allocates its own scratch (one chunk), so
   concurrent calls on one net are safe. Each output row depends on its input row alone,
   computed in a fixed order: results do not depend on B or on how a caller splits a batch. */
RDG__PRIVATE rdg_status rdg__mlp_eval(const void *self, rdg_real t, const rdg_real *x, size_t B,
                                      rdg_real *out) {
    const rdg_mlp *net = (const rdg_mlp *)self;
    rdg__mlp_ws ws;
    rdg_status st;
    size_t b0, d;
    if (!rdg__mlp_ok(net) || !x || !out || B == 0 || !rdg__t_ok(t)) return RDG_ERR_INVALID;
    d = net->d;
    st = rdg__mlp_ws_alloc(net, B < RDG__MLP_CHUNK ? B : RDG__MLP_CHUNK, 0, &ws);
    if (st != RDG_OK) return st;
    rdg__mlp_transpose(net, ws.WT);
    for (b0 = 0; b0 < B; b0 += RDG__MLP_CHUNK) {
        size_t cn = B - b0 < RDG__MLP_CHUNK ? B - b0 : RDG__MLP_CHUNK;
        rdg__mlp_input(net, ws.buf + ws.inp, x + b0 * d, &t, 0, cn);
        rdg__mlp_forward(net, &ws, ws.buf, cn);
        memcpy(out + b0 * d, ws.buf + ws.z[net->nhidden], cn * d * sizeof(rdg_real));
    }
    rdg__mlp_ws_free(&ws);
    return RDG_OK;
}

RDGDEF rdg_status rdg_mlp_model(const rdg_mlp *net, rdg_model *m) {
    int ok = rdg__mlp_ok(net);
    return rdg__model_view(m, ok, RDG_MODEL_MLP, ok ? net->d : 0, rdg__mlp_eval, net);
}

/* ---- training ----------------------------------------------------------------------------
   Why t is drawn log-uniformly on [t0, T]: the loss weight and the difficulty of the problem
   change over decades of t (w = a_t^2/s_t^2 runs from ~200 at t0 = 0.005 to ~1e-9 at T = 10;
   the posterior mean goes from a near-step function of x at small t to the nearly constant
   data mean at large t), and the sampler spends its steps on a geometric grid, equally many
   per decade. Uniform t would put ~99.95 % of the samples above t = 0.005 + 0.005 and give
   the small-t regime, where the ridge geometry is decided, almost no training signal.
   Log-uniform draws weight time by dt / t, i.e. each step minimises
       (1/B) sum_b w(t_b) |m(x_b, t_b) - x0_b|^2,
   an unbiased estimate of int w(t) E|m - x0|^2 dt / (t log(T/t0)): the DMM loss of MATH.md 6
   under the sampler's time measure. Its pointwise minimiser is the same posterior mean; only
   the trade-off between times differs from the uniform-measure quadrature of rdg_dmm_loss.

   Step k of a call is the net's Adam step net->adam_t (0 for a fresh net): its minibatch -
   for each of B points an index (uniform, with replacement), a time, d normals - comes from
   the stream (seed, adam_t) alone. A run is reproducible, independent of the thread count, and
   two calls of s steps equal one call of 2 s steps. The loss reported to progress (after steps
   100, 200, ... of the call) is the mean minibatch loss (1/B) sum_b w(t_b) |m - x0_b|^2 over
   those 100 steps; *final_loss is that mean over the last min(steps, 100)-step window. A
   non-finite loss or gradient stops training with RDG_ERR_NONFINITE, leaving the parameters
   of the last good step. */
RDG__PRIVATE rdg_status rdg__mlp_weight(const rdg_train_opts *o, rdg_weight kind, rdg_real t,
                                        rdg_real *w) {
    rdg_real a, s2;
    rdg_ou(t, &a, &s2);
    switch (kind) {
    case RDG_WEIGHT_ONE: *w = 1; break;
    case RDG_WEIGHT_SIGMA2: *w = s2; break;
    case RDG_WEIGHT_SNR: *w = a * a / s2; break;
    case RDG_WEIGHT_USER: *w = o->user_fn(t, o->user); break;
    default: return RDG_ERR_INVALID;
    }
    if (!rdg__isfinite(*w)) return RDG_ERR_NONFINITE;
    if (*w < 0) return RDG_ERR_INVALID;
    return RDG_OK;
}

RDGDEF rdg_status rdg_mlp_train(rdg_mlp *net, const rdg_gmm *data, const rdg_train_opts *o,
                                rdg_real *final_loss) {
    rdg_train_opts def;
    size_t steps, B, k, b, j, d, n, nb = 0;
    rdg_real lr, T, t0, lrange, acc = 0, last = 0;
    rdg_real *x = NULL, *t, *x0, *wt;
    rdg__mlp_ws ws;
    rdg_status st = RDG_OK;
    int ok = 1;
    if (!rdg__mlp_ok(net) || !net->grads || !net->adam_m || !net->adam_v || !rdg__gmm_ok(data))
        return RDG_ERR_INVALID;
    if (data->d != net->d) return RDG_ERR_SHAPE;
    if (!o) { memset(&def, 0, sizeof def); o = &def; }
    steps = o->steps ? o->steps : 20000;
    B = o->batch ? o->batch : 256;
    lr = o->lr != 0 ? o->lr : RDG__R(1e-3);
    T = o->T != 0 ? o->T : RDG__R(10.0);
    t0 = o->t0 != 0 ? o->t0 : RDG__R(0.005);
    if (!rdg__isfinite(lr) || lr <= 0 || !rdg__t_ok(T) || !rdg__t_ok(t0) || t0 >= T)
        return RDG_ERR_INVALID;
    if ((unsigned)o->weight > (unsigned)RDG_WEIGHT_USER
        || (o->weight == RDG_WEIGHT_USER && !o->user_fn))
        return RDG_ERR_INVALID;
    if (!rdg__allfinite(net->params, net->nparams)) return RDG_ERR_NONFINITE;
    d = net->d;
    n = rdg__mul(B, d, &ok);
    if (!ok || n > RDG_MAX_ELEMENTS || B > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    st = rdg__mlp_ws_alloc(net, B, 1, &ws);
    if (st != RDG_OK) return st;
    x = (rdg_real *)rdg__alloc(2 * n + 2 * B, sizeof(rdg_real));
    if (!x) { rdg__mlp_ws_free(&ws); return RDG_ERR_NOMEM; }
    x0 = x + n; t = x0 + n; wt = t + B;
    lrange = RDG__LOG(T / t0);
    for (k = 0; k < steps; ++k) {
        rdg_rng r;
        rdg_real loss;
        rdg_rng_init(&r, o->seed, (unsigned long long)net->adam_t);
        for (b = 0; b < B; ++b) {
            size_t i = (size_t)(rdg_rng_u64(&r) % (unsigned long long)data->n);
            rdg_real a, s2, s, wb;
            rdg_real tb = t0 * RDG__EXP(rdg_rng_uniform(&r) * lrange);
            if (tb > T) tb = T;
            if (tb < t0) tb = t0;
            rdg_ou(tb, &a, &s2);
            s = RDG__SQRT(s2);
            st = rdg__mlp_weight(o, o->weight, tb, &wb);
            if (st != RDG_OK) goto done;
            for (j = 0; j < d; ++j) {
                rdg_real xi = data->x[i * d + j];
                x0[b * d + j] = xi;
                x[b * d + j] = a * xi + s * rdg_rng_normal(&r);
            }
            t[b] = tb;
            wt[b] = wb / (rdg_real)B;
        }
        rdg_mlp_zero_grad(net);
        loss = rdg__mlp_batch(net, &ws, x, t, x0, wt, B, net->grads, NULL);
        if (!rdg__isfinite(loss)) { st = RDG_ERR_NONFINITE; goto done; }
        st = rdg_mlp_adam(net, lr);
        if (st != RDG_OK) goto done;
        acc += loss; nb++;
        if ((k + 1) % 100 == 0 || k + 1 == steps) {
            last = acc / (rdg_real)nb;
            if ((k + 1) % 100 == 0 && o->progress) o->progress(k + 1, last, o->progress_user);
            acc = 0; nb = 0;
        }
    }
done:
    rdg_free(x);
    rdg__mlp_ws_free(&ws);
    if (st == RDG_OK && final_loss) *final_loss = last;
    return st;
}

/* ---- model files ---------------------------------------------------------------------------
   Layout (all integers little-endian, reals IEEE float64 little-endian):
     "RDGMODEL"  8 bytes
     u32 version = 1,  u32 kind (RDG_MODEL_RFNN = 2, RDG_MODEL_MLP = 3)
     RFNN: u64 d, u64 M, u64 nfreq, f64 T          MLP: u64 d, u64 temb, u64 nhidden, u64 hidden[nhidden]
     u64 count  (the parameter count the sizes imply)
     f64 parameters[count]   RFNN: W (M x d), U (M x (2 nfreq + 1)), b (M), A (d x M); MLP: params
   Adam moments and gradients are not stored: a loaded MLP has them zero (adam_t 0).
   Bytes are assembled one by one: no pointer casts, any alignment, any host byte order. */
#define RDG__MF_VERSION 1u

RDG__PRIVATE void rdg__mf_put_u64(unsigned char *p, unsigned long long v) {
    int i;
    for (i = 0; i < 8; ++i) p[i] = (unsigned char)(v >> (8 * i));
}
RDG__PRIVATE void rdg__mf_put_f64(unsigned char *p, rdg_real x) {
    double v = (double)x;
    unsigned long long u;
    memcpy(&u, &v, 8);
    rdg__mf_put_u64(p, u);
}
RDG__PRIVATE unsigned long long rdg__mf_get(const unsigned char *p, int nbytes) {
    unsigned long long v = 0;
    int i;
    for (i = nbytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

/* Reader over a byte image: every read checks the remaining length. */
typedef struct rdg__mf_rd { const unsigned char *p; size_t len, pos; } rdg__mf_rd;

RDG__PRIVATE rdg_status rdg__mf_u(rdg__mf_rd *r, int nbytes, unsigned long long *v) {
    if (r->len - r->pos < (size_t)nbytes) return RDG_ERR_TRUNCATED;
    *v = rdg__mf_get(r->p + r->pos, nbytes);
    r->pos += (size_t)nbytes;
    return RDG_OK;
}

/* A size field: truncated, zero (RDG_ERR_FORMAT), over cap (RDG_ERR_OVERFLOW). */
RDG__PRIVATE rdg_status rdg__mf_size(rdg__mf_rd *r, size_t cap, size_t *out) {
    unsigned long long v;
    rdg_status st = rdg__mf_u(r, 8, &v);
    if (st != RDG_OK) return st;
    if (v == 0) return RDG_ERR_FORMAT;
    if (v > (unsigned long long)cap) return RDG_ERR_OVERFLOW;
    *out = (size_t)v;
    return RDG_OK;
}

/* An f64 field into *x; 0 when it is NaN or Inf, or (float builds) out of float's range,
   whose conversion would be undefined behaviour. */
RDG__PRIVATE int rdg__mf_real(const unsigned char *p, rdg_real *x) {
    unsigned long long u = rdg__mf_get(p, 8);
    double v;
    memcpy(&v, &u, 8);
    if (!(v - v == v - v)) return 0;
#ifdef RDG_REAL_FLOAT
    if (v > (double)FLT_MAX || v < -(double)FLT_MAX) return 0;
#endif
    *x = (rdg_real)v;
    return 1;
}

/* Parameter count of an RFNN shape, M d + M (2 nfreq + 1) + M + d M, with the caps of
   rdg_rfnn_init (d <= 4096, M and nfreq <= RDG__RF_MAXM), so that a loaded network is one
   rdg_rfnn_init could have made. */
RDG__PRIVATE rdg_status rdg__mf_rf_count(size_t d, size_t M, size_t nfreq, size_t *count) {
    int ok = 1;
    size_t de, n;
    if (d == 0 || M == 0 || nfreq == 0) return RDG_ERR_INVALID;
    if (d > 4096 || M > RDG__RF_MAXM || nfreq > RDG__RF_MAXM) return RDG_ERR_OVERFLOW;
    de = 2 * nfreq + 1;
    n = rdg__mul(M, d, &ok);
    n = rdg__mlp_add(n, rdg__mul(M, de, &ok), &ok);
    n = rdg__mlp_add(n, M, &ok);
    n = rdg__mlp_add(n, rdg__mul(d, M, &ok), &ok);
    if (!ok || n > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    *count = n;
    return RDG_OK;
}

RDGDEF void rdg_model_file_free(rdg_model_file *f) {
    if (!f) return;
    rdg_rfnn_free(&f->rf);
    rdg_mlp_free(&f->mlp);
    memset(f, 0, sizeof *f);
}

RDGDEF rdg_status rdg_model_file_save_mem(const rdg_model_file *f, void **buf, size_t *len) {
    unsigned char *out;
    size_t hdr, count, total, pos, i, l;
    int ok = 1;
    rdg_status st;
    if (buf) *buf = NULL;
    if (len) *len = 0;
    if (!f || !buf || !len) return RDG_ERR_INVALID;
    if (f->kind == RDG_MODEL_RFNN) {
        const rdg_rfnn *rf = &f->rf;
        size_t de;
        if (!rf->W || !rf->U || !rf->b || !rf->A) return RDG_ERR_INVALID;
        st = rdg__mf_rf_count(rf->d, rf->M, rf->nfreq, &count);
        if (st != RDG_OK) return st;
        de = 2 * rf->nfreq + 1;
        if (!rdg__isfinite(rf->T)) return RDG_ERR_NONFINITE;
        if (rf->T <= 0) return RDG_ERR_INVALID;
        if (!rdg__allfinite(rf->W, rf->M * rf->d) || !rdg__allfinite(rf->U, rf->M * de)
            || !rdg__allfinite(rf->b, rf->M) || !rdg__allfinite(rf->A, rf->d * rf->M))
            return RDG_ERR_NONFINITE;
        hdr = 16 + 4 * 8;
    } else if (f->kind == RDG_MODEL_MLP) {
        if (!rdg__mlp_ok(&f->mlp)) return RDG_ERR_INVALID;
        count = f->mlp.nparams;
        if (!rdg__allfinite(f->mlp.params, count)) return RDG_ERR_NONFINITE;
        hdr = 16 + 8 * (3 + f->mlp.nhidden);
    } else {
        return RDG_ERR_INVALID;
    }
    total = rdg__mlp_add(rdg__mlp_add(hdr, 8, &ok), rdg__mul(count, 8, &ok), &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    out = (unsigned char *)rdg__alloc(total, 1);
    if (!out) return RDG_ERR_NOMEM;
    memcpy(out, "RDGMODEL", 8);
    for (i = 0; i < 4; ++i) out[8 + i] = (unsigned char)(RDG__MF_VERSION >> (8 * i));
    for (i = 0; i < 4; ++i) out[12 + i] = (unsigned char)((unsigned)f->kind >> (8 * i));
    pos = 16;
    if (f->kind == RDG_MODEL_RFNN) {
        const rdg_rfnn *rf = &f->rf;
        size_t de = 2 * rf->nfreq + 1;
        rdg__mf_put_u64(out + pos, rf->d); pos += 8;
        rdg__mf_put_u64(out + pos, rf->M); pos += 8;
        rdg__mf_put_u64(out + pos, rf->nfreq); pos += 8;
        rdg__mf_put_f64(out + pos, rf->T); pos += 8;
        rdg__mf_put_u64(out + pos, count); pos += 8;
        for (i = 0; i < rf->M * rf->d; ++i, pos += 8) rdg__mf_put_f64(out + pos, rf->W[i]);
        for (i = 0; i < rf->M * de; ++i, pos += 8) rdg__mf_put_f64(out + pos, rf->U[i]);
        for (i = 0; i < rf->M; ++i, pos += 8) rdg__mf_put_f64(out + pos, rf->b[i]);
        for (i = 0; i < rf->d * rf->M; ++i, pos += 8) rdg__mf_put_f64(out + pos, rf->A[i]);
    } else {
        const rdg_mlp *net = &f->mlp;
        rdg__mf_put_u64(out + pos, net->d); pos += 8;
        rdg__mf_put_u64(out + pos, net->temb); pos += 8;
        rdg__mf_put_u64(out + pos, net->nhidden); pos += 8;
        for (l = 0; l < net->nhidden; ++l, pos += 8) rdg__mf_put_u64(out + pos, net->hidden[l]);
        rdg__mf_put_u64(out + pos, count); pos += 8;
        for (i = 0; i < count; ++i, pos += 8) rdg__mf_put_f64(out + pos, net->params[i]);
    }
    RDG_ASSERT(pos == total);
    *buf = out;
    *len = total;
    return RDG_OK;
}

RDGDEF rdg_status rdg_model_file_load_mem(const void *buf, size_t len, rdg_model_file *f) {
    rdg__mf_rd r;
    unsigned long long v;
    size_t count = 0, i, need;
    rdg_real *dst;
    rdg_status st;
    int ok = 1;
    if (!f) return RDG_ERR_INVALID;
    memset(f, 0, sizeof *f);
    if (!buf) return RDG_ERR_INVALID;
    r.p = (const unsigned char *)buf; r.len = len; r.pos = 0;
    /* magic: a wrong byte is a format error even in a short image */
    if (memcmp(r.p, "RDGMODEL", len < 8 ? len : 8) != 0) return RDG_ERR_FORMAT;
    if (len < 8) return RDG_ERR_TRUNCATED;
    r.pos = 8;
    if ((st = rdg__mf_u(&r, 4, &v)) != RDG_OK) return st;
    if (v != RDG__MF_VERSION) return RDG_ERR_FORMAT;
    if ((st = rdg__mf_u(&r, 4, &v)) != RDG_OK) return st;
    if (v == (unsigned long long)RDG_MODEL_RFNN) {
        size_t d, M, nfreq;
        rdg_real T;
        if ((st = rdg__mf_size(&r, 4096, &d)) != RDG_OK) return st;
        if ((st = rdg__mf_size(&r, RDG__RF_MAXM, &M)) != RDG_OK) return st;
        if ((st = rdg__mf_size(&r, RDG__RF_MAXM, &nfreq)) != RDG_OK) return st;
        if (r.len - r.pos < 8) return RDG_ERR_TRUNCATED;
        if (!rdg__mf_real(r.p + r.pos, &T)) return RDG_ERR_NONFINITE;
        r.pos += 8;
        if (T <= 0) return RDG_ERR_FORMAT;
        if ((st = rdg__mf_rf_count(d, M, nfreq, &count)) != RDG_OK) return st;
        f->rf.d = d; f->rf.M = M; f->rf.nfreq = nfreq; f->rf.T = T;
        f->kind = RDG_MODEL_RFNN;
    } else if (v == (unsigned long long)RDG_MODEL_MLP) {
        size_t d, temb, nh, hid[RDG_MLP_MAX_LAYERS] = { 0 }, l;
        if ((st = rdg__mf_size(&r, 4096, &d)) != RDG_OK) return st;
        if ((st = rdg__mf_size(&r, 4096, &temb)) != RDG_OK) return st;
        if ((st = rdg__mf_size(&r, RDG_MLP_MAX_LAYERS, &nh)) != RDG_OK) return st;
        for (l = 0; l < nh; ++l)
            if ((st = rdg__mf_size(&r, RDG_MAX_ELEMENTS, &hid[l])) != RDG_OK) return st;
        st = rdg__mlp_count(d, temb, nh, hid, &count);
        if (st != RDG_OK) return st == RDG_ERR_INVALID ? RDG_ERR_FORMAT : st;
        /* shape only for now: the buffers are allocated once the length has been checked */
        f->mlp.d = d; f->mlp.temb = temb; f->mlp.nhidden = nh;
        for (l = 0; l < nh; ++l) f->mlp.hidden[l] = hid[l];
        f->kind = RDG_MODEL_MLP;
    } else {
        return RDG_ERR_FORMAT;
    }
    if ((st = rdg__mf_u(&r, 8, &v)) != RDG_OK) goto fail;
    if (v != (unsigned long long)count) { st = RDG_ERR_FORMAT; goto fail; }
    need = rdg__mul(count, 8, &ok);
    if (!ok) { st = RDG_ERR_OVERFLOW; goto fail; }
    if (r.len - r.pos < need) { st = RDG_ERR_TRUNCATED; goto fail; }
    if (r.len - r.pos > need) { st = RDG_ERR_FORMAT; goto fail; }   /* trailing bytes */
    if (f->kind == RDG_MODEL_RFNN) {
        /* one block W | U | b | A from W, as rdg_rfnn_init allocates it (rdg_rfnn_free) */
        rdg_rfnn *rf = &f->rf;
        dst = (rdg_real *)rdg__alloc(count, sizeof(rdg_real));
        if (!dst) { st = RDG_ERR_NOMEM; goto fail; }
        rf->W = dst;
        rf->U = rf->W + rf->M * rf->d;
        rf->b = rf->U + rf->M * (2 * rf->nfreq + 1);
        rf->A = rf->b + rf->M;
    } else {
        rdg_mlp shape = f->mlp;
        st = rdg__mlp_alloc(&f->mlp, shape.d, shape.temb, shape.nhidden, shape.hidden);
        if (st != RDG_OK) goto fail;
        dst = f->mlp.params;
    }
    for (i = 0; i < count; ++i, r.pos += 8) {
        if (!rdg__mf_real(r.p + r.pos, &dst[i])) { st = RDG_ERR_NONFINITE; goto fail; }
    }
    return RDG_OK;
fail:
    rdg_model_file_free(f);
    return st;
}

RDGDEF rdg_status rdg_model_file_model(const rdg_model_file *f, rdg_model *m) {
    if (!m) return RDG_ERR_INVALID;
    memset(m, 0, sizeof *m);
    if (!f) return RDG_ERR_INVALID;
    if (f->kind == RDG_MODEL_MLP) return rdg_mlp_model(&f->mlp, m);
    if (f->kind == RDG_MODEL_RFNN) return rdg_rfnn_model(&f->rf, m);
    return RDG_ERR_INVALID;
}

#ifndef RDG_NO_STDIO
RDGDEF rdg_status rdg_model_file_save(const char *path, const rdg_model_file *f) {
    void *buf;
    size_t len;
    rdg_status st;
    if (!path) return RDG_ERR_INVALID;
    st = rdg_model_file_save_mem(f, &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg__write_whole(path, buf, len);
    rdg_free(buf);
    return st;
}

RDGDEF rdg_status rdg_model_file_load(const char *path, rdg_model_file *f) {
    unsigned char *buf;
    size_t len;
    rdg_status st;
    if (!f) return RDG_ERR_INVALID;
    memset(f, 0, sizeof *f);
    if (!path) return RDG_ERR_INVALID;
    st = rdg__read_whole(path, rdg__file_limit(), &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg_model_file_load_mem(buf, len, f);
    rdg_free(buf);
    return st;
}
#endif /* RDG_NO_STDIO */

/* >>diag --------------------------------------------------------------------------------------
   Reach - align - slide diagnostics, MATH.md 5 and 7. */
RDG__PRIVATE rdg_status rdg__diag_fill(const rdg_gmm *g, const rdg_diag_opts *o, rdg_diag_opts *p) {
    rdg__popts po;
    rdg_status st;
    if (!o) return RDG_ERR_INVALID;
    *p = *o;
    if (!rdg__isfinite(p->tube) || p->tube < 0 || !rdg__isfinite(p->eps_dom) || p->eps_dom < 0
        || p->eps_dom >= 1 || !rdg__isfinite(p->mem_ratio) || p->mem_ratio < 0 || p->mem_ratio > 1)
        return RDG_ERR_INVALID;
    if (p->tube == 0) p->tube = RDG__R(1.0);
    if (p->eps_dom == 0) p->eps_dom = RDG__R(0.1);
    if (p->mem_ratio == 0) p->mem_ratio = RDG__R(1.0) / 3;
    st = rdg__popts_fill(g, &p->proj, &po);
    return st;
}

/* Frame of H at the centre a_t x_i into w (V, lam). Where x_i's own weight is within 1e-6 of 1
   the centred covariance is rounding noise (or exactly 0 after dropping), so the frame comes
   from the leave-one-out covariance, whose eigenvectors C approaches as t -> 0. */
RDG__PRIVATE void rdg__centre_frame(const rdg_gmm *g, rdg__ws *w, size_t ci) {
    size_t d = g->d, n = g->n, j, l, k;
    const rdg_real *X = g->x, *xc = X + ci * d;
    rdg_real a = w->a, self = 0, emax = -RDG__BIG, sum = 0, scale = a * a / (RDG__R(2.0) * w->s2);
    for (j = 0; j < d; ++j) w->u[j] = a * xc[j];
    rdg__eval(g, w->u, w, 1);
    for (k = 0; k < w->nk; ++k) if (w->idx[k] == ci) self = w->w[k];
    if (self < 1 - RDG__R(1e-6)) { rdg__frame(w); return; }
    for (j = 0; j < n; ++j) {          /* leave-one-out log-weights, into w->w */
        rdg_real s = 0;
        for (l = 0; l < d; ++l) { rdg_real df = X[j * d + l] - xc[l]; s += df * df; }
        w->w[j] = j == ci ? -RDG__BIG : -s * scale;
        if (j != ci && w->w[j] > emax) emax = w->w[j];
    }
    for (j = 0; j < d * d; ++j) w->C[j] = 0;
    for (j = 0; j < n; ++j) {
        rdg_real wj;
        if (j == ci || w->w[j] < emax - (g->drop > 0 ? g->drop : RDG__BIG)) continue;
        wj = RDG__EXP(w->w[j] - emax);
        sum += wj;
        for (l = 0; l < d; ++l) w->c[l] = X[j * d + l] - xc[l];
        for (l = 0; l < d; ++l) for (k = 0; k <= l; ++k) w->C[l * d + k] += wj * w->c[l] * w->c[k];
    }
    if (sum > 0) for (l = 0; l < d; ++l) for (k = 0; k <= l; ++k) {
        w->C[l * d + k] /= sum;
        w->C[k * d + l] = w->C[l * d + k];
    }
    rdg__frame(w);
}

RDGDEF rdg_status rdg_diag_samples(const rdg_gmm *data, rdg_real t, const rdg_real *x, size_t n,
                                   const rdg_diag_opts *o, rdg_sample_diag *out, rdg_real *zeta) {
    rdg_diag_opts p;
    rdg_project_info *info;
    rdg_real *P, s_t;
    rdg__ws *pool;
    rdg_status st;
    size_t d, ds;
    int nth, ib;
    if (!out) return RDG_ERR_INVALID;
    st = rdg__batch_check(data, t, x, n);
    if (st != RDG_OK) return st;
    st = rdg__diag_fill(data, o, &p);
    if (st != RDG_OK) return st;
    d = data->d; ds = p.proj.dstar;
    P = (rdg_real *)rdg__alloc(n * d, sizeof(rdg_real));
    info = (rdg_project_info *)rdg__alloc(n, sizeof(rdg_project_info));
    if (!P || !info) { rdg_free(P); rdg_free(info); return RDG_ERR_NOMEM; }
    st = rdg_ridge_project(data, t, x, n, &p.proj, P, info);
    rdg_free(P);
    if (st != RDG_OK) { rdg_free(info); return st; }
    nth = rdg__nthreads(n);
    pool = rdg__pool_alloc(nth, data->n, d, t);
    if (!pool) { rdg_free(info); return RDG_ERR_NOMEM; }
    if (!rdg__pool_xt(pool, nth, data)) { rdg__pool_free(pool, nth); rdg_free(info); return RDG_ERR_NOMEM; }
    s_t = RDG__SQRT(pool[0].s2);
    RDG__OMP(parallel for schedule(dynamic, 4) num_threads(nth))
    for (ib = 0; ib < (int)n; ++ib) {
        rdg__ws *w = &pool[rdg__thread_id()];
        size_t i = (size_t)ib, j, l, k, ci;
        const rdg_real *xi = x + i * d;
        rdg_sample_diag *sd = &out[i];
        rdg_real b1 = RDG__BIG, b2 = RDG__BIG, cw = 0;
        memset(sd, 0, sizeof *sd);
        sd->proj = info[i];
        sd->in_tube = info[i].reliable && info[i].distance < p.tube * s_t;
        rdg__eval(data, xi, w, 0);
        ci = w->ref;
        for (k = 0; k < w->nk; ++k) if (w->idx[k] == ci) cw = w->w[k];
        sd->centre = ci; sd->centre_weight = cw;
        for (j = 0; j < data->n; ++j) {          /* two nearest centres a_t x_j */
            rdg_real s = 0;
            for (l = 0; l < d; ++l) { rdg_real df = xi[l] - w->a * data->x[j * d + l]; s += df * df; }
            if (s < b1) { b2 = b1; b1 = s; } else if (s < b2) b2 = s;
        }
        sd->nn_ratio = (data->n < 2 || b2 == 0) ? 0 : RDG__SQRT(b1 / b2);
        sd->memorised = sd->nn_ratio < p.mem_ratio;
        sd->dominant = cw >= 1 - p.eps_dom;
        if (zeta) for (l = 0; l < ds; ++l) zeta[i * ds + l] = 0;
        if (sd->dominant) {                      /* zeta_i(x) = V_i^T (x - a_t x_i) */
            rdg_real nrm = 0;
            rdg__centre_frame(data, w, ci);
            for (l = 0; l < ds; ++l) {
                rdg_real z = 0;
                for (j = 0; j < d; ++j) z += w->V[j * d + l] * (xi[j] - w->a * data->x[ci * d + j]);
                if (zeta) zeta[i * ds + l] = z;
                nrm += z * z;
            }
            sd->tangent_norm = RDG__SQRT(nrm);
        }
        if (sd->memorised) sd->kind = RDG_KIND_COPY;
        else if (!info[i].reliable) sd->kind = RDG_KIND_UNDEFINED;
        else sd->kind = sd->in_tube ? RDG_KIND_ON_RIDGE : RDG_KIND_OFF_RIDGE;
    }
    rdg__pool_free(pool, nth);
    rdg_free(info);
    return RDG_OK;
}

RDGDEF rdg_status rdg_diag_table(const rdg_gmm *data, const rdg_real *traj, size_t C, size_t n,
                                 const rdg_real *times, const size_t *steps,
                                 const rdg_diag_opts *o, rdg_stab_row *rows, rdg_real *dist,
                                 rdg_real *reach) {
    rdg_sample_diag *sd;
    rdg_status st = RDG_OK;
    size_t c, i, nd;
    int ok = 1;
    if (!data || !traj || !times || !rows || C == 0 || n == 0) return RDG_ERR_INVALID;
    if (!rdg__gmm_ok(data)) return RDG_ERR_INVALID;
    nd = rdg__mul(n, data->d, &ok);
    rdg__mul(nd, C, &ok);
    rdg__mul(n, C, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    for (c = 0; c < C; ++c) if (!rdg__t_ok(times[c])) return RDG_ERR_INVALID;
    sd = (rdg_sample_diag *)rdg__alloc(n, sizeof(rdg_sample_diag));
    if (!sd) return RDG_ERR_NOMEM;
    if (reach) for (i = 0; i < n; ++i) reach[i] = -1;
    for (c = 0; c < C && st == RDG_OK; ++c) {
        rdg_stab_row *r = &rows[c];
        rdg_real sd1 = 0, sd2 = 0, sr0 = 0, sgap = 0, stan = 0;
        st = rdg_diag_samples(data, times[c], traj + c * nd, n, o, sd, NULL);
        if (st != RDG_OK) break;
        memset(r, 0, sizeof *r);
        r->step = steps ? steps[c] : c;
        r->t = times[c];
        for (i = 0; i < n; ++i) {               /* serial sums in sample order: deterministic */
            const rdg_project_info *pi = &sd[i].proj;
            if (pi->reliable) { r->reliable++; sd1 += pi->distance; sd2 += pi->distance * pi->distance; }
            if (pi->curv_ok) r->curv_ok++;
            if (!pi->converged) r->failures++;
            sr0 += pi->resid0;
            sgap += pi->gap;
            if (sd[i].dominant) { r->dominant++; stan += sd[i].tangent_norm * sd[i].tangent_norm; }
            if (sd[i].in_tube) r->in_tube++;
            if (sd[i].memorised) r->memorised++;
            if (dist) dist[c * n + i] = pi->reliable ? pi->distance : -1;
            if (reach && reach[i] < 0 && sd[i].in_tube) reach[i] = times[c];
        }
        r->mean_dist = r->reliable ? sd1 / (rdg_real)r->reliable : -1;
        r->normal_err = r->reliable ? sd2 / (rdg_real)r->reliable : -1;
        r->mean_resid0 = sr0 / (rdg_real)n;
        r->mean_gap = sgap / (rdg_real)n;
        r->tangent_err = r->dominant ? stan / (rdg_real)r->dominant : -1;
    }
    rdg_free(sd);
    return st;
}

/* >>io ----------------------------------------------------------------------------------------
   .npy (NumPy format 1.0-3.0). The header is a Python dict literal, parsed by a small
   locale-independent reader; payloads are decoded by byte assembly (no pointer casts). */
RDGDEF void rdg_array_free(rdg_array *a) {
    if (!a) return;
    rdg_free(a->data);
    memset(a, 0, sizeof *a);
}

typedef struct rdg__hdr { const char *p, *end; } rdg__hdr;

RDG__PRIVATE void rdg__skipws(rdg__hdr *h) { while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) h->p++; }

RDG__PRIVATE int rdg__accept(rdg__hdr *h, char c) {
    rdg__skipws(h);
    if (h->p < h->end && *h->p == c) { h->p++; return 1; }
    return 0;
}

/* A quoted string (single or double quotes) into out (cap bytes, NUL-terminated). */
RDG__PRIVATE int rdg__str(rdg__hdr *h, char *out, size_t cap) {
    char q;
    size_t n = 0;
    rdg__skipws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return 0;
    q = *h->p++;
    while (h->p < h->end && *h->p != q) {
        if (n + 1 >= cap) return 0;
        out[n++] = *h->p++;
    }
    if (h->p >= h->end) return 0;
    h->p++;
    out[n] = 0;
    return 1;
}

RDG__PRIVATE int rdg__word(rdg__hdr *h, const char *w) {
    size_t n = strlen(w);
    rdg__skipws(h);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) { h->p += n; return 1; }
    return 0;
}

/* A shape tuple "(3, 4)", "(5,)" or "()". Returns an rdg_status. */
RDG__PRIVATE rdg_status rdg__shape(rdg__hdr *h, rdg_array *a) {
    if (!rdg__accept(h, '(')) return RDG_ERR_FORMAT;
    a->ndim = 0;
    for (;;) {
        size_t v = 0;
        int digits = 0;
        if (rdg__accept(h, ')')) break;
        rdg__skipws(h);
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            size_t dg = (size_t)(*h->p - '0');
            if (v > ((size_t)-1 - dg) / 10) return RDG_ERR_OVERFLOW;
            v = v * 10 + dg;
            h->p++; digits++;
        }
        if (!digits) return RDG_ERR_FORMAT;
        if (a->ndim >= RDG_NPY_MAX_DIMS) return RDG_ERR_DTYPE;
        a->shape[a->ndim++] = v;
        if (rdg__accept(h, ',')) continue;
        if (rdg__accept(h, ')')) break;
        return RDG_ERR_FORMAT;
    }
    return RDG_OK;
}

RDG__PRIVATE int rdg__little_endian(void) {
    unsigned int one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

RDG__PRIVATE rdg_status rdg__npy_parse(const void *buf, size_t len, rdg_array *a) {
    const unsigned char *u = (const unsigned char *)buf;
    size_t hlen, off, i, count = 1, item = 0, need;
    int seen_descr = 0, seen_fo = 0, seen_shape = 0, fortran = 0, big = 0, ok = 1;
    char key[32], descr[16];
    rdg__hdr h;
    rdg_status st;
    if (!a) return RDG_ERR_INVALID;
    memset(a, 0, sizeof *a);
    if (!buf && len) return RDG_ERR_INVALID;
    if (len < 10 || memcmp(u, "\x93NUMPY", 6) != 0) return RDG_ERR_FORMAT;
    if (u[6] == 1) { hlen = (size_t)u[8] | ((size_t)u[9] << 8); off = 10; }
    else if (u[6] == 2 || u[6] == 3) {
        if (len < 12) return RDG_ERR_TRUNCATED;
        hlen = (size_t)u[8] | ((size_t)u[9] << 8) | ((size_t)u[10] << 16) | ((size_t)u[11] << 24);
        off = 12;
    } else return RDG_ERR_FORMAT;
    if (hlen > len - off) return RDG_ERR_TRUNCATED;
    h.p = (const char *)u + off; h.end = h.p + hlen;
    if (!rdg__accept(&h, '{')) return RDG_ERR_FORMAT;
    for (;;) {
        if (rdg__accept(&h, '}')) break;
        if (!rdg__str(&h, key, sizeof key) || !rdg__accept(&h, ':')) return RDG_ERR_FORMAT;
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            if (!rdg__str(&h, descr, sizeof descr)) return RDG_ERR_DTYPE;  /* e.g. a record dtype */
            seen_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_fo) {
            if (rdg__word(&h, "True")) fortran = 1;
            else if (!rdg__word(&h, "False")) return RDG_ERR_FORMAT;
            seen_fo = 1;
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            st = rdg__shape(&h, a);
            if (st != RDG_OK) { memset(a, 0, sizeof *a); return st; }
            seen_shape = 1;
        } else return RDG_ERR_FORMAT;
        if (rdg__accept(&h, ',')) continue;
        if (rdg__accept(&h, '}')) break;
        return RDG_ERR_FORMAT;
    }
    if (!seen_descr || !seen_fo || !seen_shape) { memset(a, 0, sizeof *a); return RDG_ERR_FORMAT; }
    if (fortran) { memset(a, 0, sizeof *a); return RDG_ERR_DTYPE; }
    if (strlen(descr) == 3 && descr[1] == 'f' && (descr[2] == '8' || descr[2] == '4')
        && (descr[0] == '<' || descr[0] == '>' || descr[0] == '=' || descr[0] == '|')) {
        item = (size_t)(descr[2] - '0');
        big = descr[0] == '>' || ((descr[0] == '=' || descr[0] == '|') && !rdg__little_endian());
    } else { memset(a, 0, sizeof *a); return RDG_ERR_DTYPE; }
    for (i = 0; i < a->ndim; ++i) count = rdg__mul(count, a->shape[i], &ok);
    if (!ok || count > RDG_MAX_ELEMENTS) { memset(a, 0, sizeof *a); return RDG_ERR_OVERFLOW; }
    a->count = count;
    off += hlen;
    need = rdg__mul(count, item, &ok);
    if (!ok) { memset(a, 0, sizeof *a); return RDG_ERR_OVERFLOW; }
    if (need > len - off) { memset(a, 0, sizeof *a); return RDG_ERR_TRUNCATED; }
    a->data = (rdg_real *)rdg__alloc(count, sizeof(rdg_real));
    if (!a->data) { memset(a, 0, sizeof *a); return RDG_ERR_NOMEM; }
    for (i = 0; i < count; ++i) {
        const unsigned char *p = u + off + i * item;
        size_t b;
        if (item == 8) {
            unsigned long long v = 0;
            double dv;
            for (b = 0; b < 8; ++b) v |= (unsigned long long)p[big ? b : 7 - b] << (8 * (7 - b));
            memcpy(&dv, &v, 8);
            a->data[i] = (rdg_real)dv;
        } else {
            unsigned long v = 0;
            unsigned int v32;
            float fv;
            for (b = 0; b < 4; ++b) v |= (unsigned long)p[big ? b : 3 - b] << (8 * (3 - b));
            v32 = (unsigned int)v;
            memcpy(&fv, &v32, 4);
            a->data[i] = (rdg_real)fv;
        }
    }
    return RDG_OK;
}

/* Every failure leaves *a zeroed (the parser may stop after filling the shape). */
RDGDEF rdg_status rdg_npy_read_mem(const void *buf, size_t len, rdg_array *a) {
    rdg_status st;
    if (!a) return RDG_ERR_INVALID;
    st = rdg__npy_parse(buf, len, a);
    if (st != RDG_OK) { rdg_free(a->data); memset(a, 0, sizeof *a); }
    return st;
}

RDGDEF rdg_status rdg_npy_write_mem(const rdg_real *data, size_t ndim, const size_t *shape,
                                    void **buf, size_t *len) {
    char hdr[512];
    size_t hl = 0, i, count = 1, total, b;
    int ok = 1;
    unsigned char *out;
    if (!buf || !len) return RDG_ERR_INVALID;
    *buf = NULL; *len = 0;
    if (ndim > RDG_NPY_MAX_DIMS || (ndim && !shape)) return RDG_ERR_INVALID;
    for (i = 0; i < ndim; ++i) count = rdg__mul(count, shape[i], &ok);
    if (!ok || count > RDG_MAX_ELEMENTS) return RDG_ERR_OVERFLOW;
    if (count && !data) return RDG_ERR_INVALID;
    /* header text, written without printf so no locale or stdio is involved */
    {
        const char *head = "{'descr': '<f8', 'fortran_order': False, 'shape': (";
        memcpy(hdr, head, strlen(head)); hl = strlen(head);
        for (i = 0; i < ndim; ++i) {
            char dig[24];
            size_t nd = 0, v = shape[i];
            do { dig[nd++] = (char)('0' + v % 10); v /= 10; } while (v);
            while (nd) hdr[hl++] = dig[--nd];
            if (ndim == 1 || i + 1 < ndim) hdr[hl++] = ',';
            if (i + 1 < ndim) hdr[hl++] = ' ';
        }
        memcpy(hdr + hl, "), }", 4); hl += 4;
        while ((10 + hl + 1) % 64) hdr[hl++] = ' ';
        hdr[hl++] = '\n';
    }
    total = rdg__mul(count, 8, &ok);
    if (!ok || total > (size_t)-1 - 10 - hl) return RDG_ERR_OVERFLOW;
    total += 10 + hl;
    out = (unsigned char *)RDG_MALLOC(total, NULL);
    if (!out) return RDG_ERR_NOMEM;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hl & 0xff); out[9] = (unsigned char)(hl >> 8);
    memcpy(out + 10, hdr, hl);
    for (i = 0; i < count; ++i) {
        double dv = (double)data[i];
        unsigned long long v;
        memcpy(&v, &dv, 8);
        for (b = 0; b < 8; ++b) out[10 + hl + i * 8 + b] = (unsigned char)(v >> (8 * b));
    }
    *buf = out; *len = total;
    return RDG_OK;
}

#ifndef RDG_NO_STDIO
RDGDEF rdg_status rdg_npy_read(const char *path, rdg_array *a) {
    unsigned char *buf;
    size_t len;
    rdg_status st;
    if (!a) return RDG_ERR_INVALID;
    memset(a, 0, sizeof *a);
    if (!path) return RDG_ERR_INVALID;
    st = rdg__read_whole(path, rdg__file_limit(), &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg_npy_read_mem(buf, len, a);
    rdg_free(buf);
    return st;
}

RDGDEF rdg_status rdg_npy_write(const char *path, const rdg_real *data, size_t ndim,
                                const size_t *shape) {
    void *buf;
    size_t len;
    rdg_status st;
    if (!path) return RDG_ERR_INVALID;
    st = rdg_npy_write_mem(data, ndim, shape, &buf, &len);
    if (st != RDG_OK) return st;
    st = rdg__write_whole(path, buf, len);
    rdg_free(buf);
    return st;
}
#endif /* RDG_NO_STDIO */

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

/* G (m x m) = (1/n) R R^T for R (m x len, row-major): G_ij = R_i . R_j / n, both triangles.
   Entry (i, j) is computed by one thread in a fixed order: deterministic. */
RDG__PRIVATE void rdg__pca_gram(const rdg_real *R, size_t m, size_t len, size_t n, rdg_real *G) {
    int ii, im = (int)m;
    rdg_real inv = RDG__R(1.0) / (rdg_real)n;
    RDG__OMP(parallel for schedule(dynamic, 8) if (m * len > 65536))
    for (ii = 0; ii < im; ++ii) {
        size_t i = (size_t)ii, j;
        for (j = 0; j <= i; ++j) G[i * m + j] = rdg__dot4(R + i * len, R + j * len, len) * inv;
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
    if ((unsigned)scaling > (unsigned)RDG_PCA_SCALE_WHITEN)
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
                        rdg_real pr = rdg__dot4(u, v, D);
                        for (c = 0; c < D; ++c) v[c] -= pr * u[c];
                    }
                    nv = RDG__SQRT(rdg__dot4(v, v, D));
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
#    if defined(RDG_NO_SIMD) || defined(__TINYC__)
#      define STBI_NO_SIMD          /* tcc has no <emmintrin.h>; RDG_NO_SIMD means no intrinsics at all */
#    endif
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

#endif /* RIDGEDIFF_IMPLEMENTATION_DONE */
#endif /* RIDGEDIFF_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the ridgediff authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
In jurisdictions that recognize copyright laws, the author or authors of this
software dedicate any and all copyright interest in the software to the public
domain. We make this dedication for the benefit of the public at large and to
the detriment of our heirs and successors. We intend this dedication to be an
overt act of relinquishment in perpetuity of all present and future rights to
this software under copyright law.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN
ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
------------------------------------------------------------------------------
*/
