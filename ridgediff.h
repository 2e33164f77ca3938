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
     >>linalg    Jacobi eigen-decomposition, LU                        (textbook algorithms)
     >>schedule  OU schedule a_t, s_t; time grids                       (MATH.md 1)
     >>gmm       smoothed empirical density: log p, mean, score, Hessian (MATH.md 2)
     >>ridge     frame, residual, Jacobian, LM and SCMS projection, trace (MATH.md 3-4)
     >>io        .npy read (float32/float64, both byte orders) and write

   CONFIGURATION (define before including the implementation)
     RDG_REAL_FLOAT       rdg_real is float instead of double
     RDG_MALLOC(sz,u) RDG_REALLOC(p,sz,u) RDG_FREE(p,u)   allocator (all or none); u is NULL
     RDG_ASSERT(x)        internal invariants only (default: assert)
     RDG_NO_SIMD          never use SIMD intrinsics (scalar C99 everywhere)
     RDG_NO_OPENMP        never use OpenMP even when compiled with -fopenmp
     RDG_NO_STDIO         no FILE* functions (memory loaders remain)
     RIDGEDIFF_STATIC     every public function static (private to one translation unit)
     RDG_MAX_ELEMENTS     cap on the element count of a loaded array (default 2^31)

   THREADS
     No global mutable state: every function is reentrant. Batch functions run their points
     in parallel under OpenMP; each point is computed by one thread in a fixed order, so the
     results are bit-identical for any number of threads.

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
/* xoshiro256** seeded through splitmix64. A (seed, stream) pair names an independent stream:
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
     scms_iter SCMS iterations, as the method or as LM's start (default 500 / 200)
     rtol      residual tolerance on s_t^2 |r| relative to max(1, data scale) (default 1e-10)
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
     reliable = converged and s_t^2 gap > 1e-8 (MATH.md 4: below that the frame is noise). */
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

/* Traces a ridge: projects nseeds seed points (nseeds x d) by SCMS, keeps those that
   converge with curvature ok and s_t^2 gap > 1e-8, and removes duplicates closer than
   min_sep (default, when 0: 1e-3 * max(1, data scale)). *out is allocated (RDG_MALLOC,
   release with rdg_free) with *nout x d points; *out is NULL when nothing survives. */
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
   normals for y_0, the same for SDE and ODE, then d per SDE step) and the model sees batches
   whose size depends on n alone: results are bit-identical for any number of threads, and
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
    size_t reliable;            /* converged with s_t^2 gap > 1e-8                           */
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
#if defined(__GNUC__) || defined(__clang__)
#  define RDG__PRIVATE static __attribute__((unused))
#else
#  define RDG__PRIVATE static
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
#  define RDG__POW powf
#  define RDG__EPS FLT_EPSILON
#  define RDG__BIG FLT_MAX
#else
#  define RDG__R(x) (x)
#  define RDG__SQRT sqrt
#  define RDG__EXP exp
#  define RDG__EXPM1 expm1
#  define RDG__LOG log
#  define RDG__FABS fabs
#  define RDG__POW pow
#  define RDG__EPS DBL_EPSILON
#  define RDG__BIG DBL_MAX
#endif
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

RDGDEF rdg_real rdg_rng_uniform(rdg_rng *r) {
    /* 53 random bits, shifted by half an ulp: in (0, 1), never 0 or 1 */
    double u = ((double)(rdg_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    return (rdg_real)u;
}

RDGDEF rdg_real rdg_rng_normal(rdg_rng *r) {
    double u1, u2, rad;
    if (r->has_spare) { r->has_spare = 0; return r->spare; }
    u1 = ((double)(rdg_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    u2 = ((double)(rdg_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    rad = sqrt(-2.0 * log(u1));
    r->spare = (rdg_real)(rad * sin(6.283185307179586476925 * u2));
    r->has_spare = 1;
    return (rdg_real)(rad * cos(6.283185307179586476925 * u2));
}

/* >>linalg ----------------------------------------------------------------------------------
   Cyclic Jacobi (Golub & Van Loan 8.5.2-8.5.3, with Rutishauser's update formulas written out
   from the rotation J^T A J). Works on a full symmetric copy; V accumulates the rotations. */
RDG__PRIVATE int rdg__jacobi(rdg_real *A, size_t n, rdg_real *w, rdg_real *V) {
    size_t p, q, r, i, j;
    int sweep;
    rdg_real fro = 0, off;
    for (i = 0; i < n * n; ++i) fro += A[i] * A[i];
    fro = RDG__SQRT(fro);
    if (V) for (i = 0; i < n; ++i) for (j = 0; j < n; ++j) V[i * n + j] = (i == j) ? RDG__R(1.0) : RDG__R(0.0);
    for (sweep = 0; sweep < 100; ++sweep) {
        off = 0;
        for (p = 0; p < n; ++p) for (q = p + 1; q < n; ++q) off += A[p * n + q] * A[p * n + q];
        off = RDG__SQRT(off);
        if (off <= RDG__EPS * RDG__R(0.25) * fro || off == 0) break;
        for (p = 0; p + 1 < n; ++p) {
            for (q = p + 1; q < n; ++q) {
                rdg_real apq = A[p * n + q], app = A[p * n + p], aqq = A[q * n + q];
                rdg_real theta, t, c, s, tau;
                if (apq == 0) continue;
                /* after a few sweeps, an element negligible beside both diagonals is set to 0 */
                if (sweep > 3 && RDG__FABS(apq) < RDG__EPS * RDG__R(1e-2) * RDG__FABS(app)
                    && RDG__FABS(apq) < RDG__EPS * RDG__R(1e-2) * RDG__FABS(aqq)) {
                    A[p * n + q] = A[q * n + p] = 0;
                    continue;
                }
                theta = (aqq - app) / (RDG__R(2.0) * apq);
                t = RDG__R(1.0) / (RDG__FABS(theta) + RDG__SQRT(RDG__R(1.0) + theta * theta));
                if (theta < 0) t = -t;
                if (!rdg__isfinite(t)) t = 0;          /* theta overflowed: apq is negligible */
                c = RDG__R(1.0) / RDG__SQRT(RDG__R(1.0) + t * t);
                s = t * c;
                tau = s / (RDG__R(1.0) + c);
                A[p * n + p] = app - t * apq;
                A[q * n + q] = aqq + t * apq;
                A[p * n + q] = A[q * n + p] = 0;
                for (r = 0; r < n; ++r) {
                    rdg_real arp, arq;
                    if (r == p || r == q) continue;
                    arp = A[r * n + p]; arq = A[r * n + q];
                    A[r * n + p] = A[p * n + r] = arp - s * (arq + tau * arp);
                    A[r * n + q] = A[q * n + r] = arq + s * (arp - tau * arq);
                }
                if (V) for (r = 0; r < n; ++r) {
                    rdg_real vrp = V[r * n + p], vrq = V[r * n + q];
                    V[r * n + p] = vrp - s * (vrq + tau * vrp);
                    V[r * n + q] = vrq + s * (vrp - tau * vrq);
                }
            }
        }
    }
    for (i = 0; i < n; ++i) w[i] = A[i * n + i];
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

/* Solves the symmetric positive definite system A x = b by Cholesky (A overwritten by its factor).
   Returns 0 when A is not positive definite. Used inside the solvers, never exported. */
RDG__PRIVATE int rdg__cholsolve(rdg_real *A, size_t n, rdg_real *b) {
    size_t i, j, k;
    for (j = 0; j < n; ++j) {
        rdg_real s = A[j * n + j];
        for (k = 0; k < j; ++k) s -= A[j * n + k] * A[j * n + k];
        if (!(s > 0)) return 0;
        s = RDG__SQRT(s);
        A[j * n + j] = s;
        for (i = j + 1; i < n; ++i) {
            rdg_real v = A[i * n + j];
            for (k = 0; k < j; ++k) v -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = v / s;
        }
    }
    for (i = 0; i < n; ++i) {
        rdg_real s = b[i];
        for (k = 0; k < i; ++k) s -= A[i * n + k] * b[k];
        b[i] = s / A[i * n + i];
    }
    for (i = n; i-- > 0;) {
        rdg_real s = b[i];
        for (k = i + 1; k < n; ++k) s -= A[k * n + i] * b[k];
        b[i] = s / A[i * n + i];
    }
    return 1;
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
    size_t *idx;           /* nk indices of kept points, ascending                              */
    rdg_real *w;           /* nk normalised weights (shares storage with the log-weights)       */
    rdg_real *m, *g, *dm;  /* d: posterior mean, score, mean minus the reference point          */
    rdg_real *C, *V, *M;   /* d x d: centred covariance, eigenvectors (columns), Jacobian accum. */
    rdg_real *mu, *lam;    /* d: eigenvalues of C and of H, descending                          */
    rdg_real *jw;          /* d x d + d: Jacobi scratch                                          */
    rdg_real *c, *ct, *u;  /* d: one centred point, in data and eigen coordinates; J row vector  */
    rdg_real *gt, *qt;     /* d: score in eigen coordinates; curvature-gradient accumulator      */
    rdg_real *den;         /* d x d: 1 / (mu_b - mu_a)                                          */
    size_t ref;            /* index of the largest weight                                       */
    rdg_real a, s2, logp;
} rdg__ws;

RDG__PRIVATE void rdg__ws_free(rdg__ws *w) {
    if (!w) return;
    rdg_free(w->idx); rdg_free(w->w);
    rdg_free(w->m);
    memset(w, 0, sizeof *w);
}

RDG__PRIVATE int rdg__ws_alloc(rdg__ws *w, size_t n, size_t d) {
    int ok = 1;
    size_t dd = rdg__mul(d, d, &ok), tot;
    memset(w, 0, sizeof *w);
    if (!ok) return 0;
    tot = 6 * dd + 10 * d;
    if (tot < dd) return 0;
    w->n = n; w->d = d;
    w->idx = (size_t *)rdg__alloc(n, sizeof(size_t));
    w->w = (rdg_real *)rdg__alloc(n, sizeof(rdg_real));
    w->m = (rdg_real *)rdg__alloc(tot, sizeof(rdg_real));
    if (!w->idx || !w->w || !w->m) { rdg__ws_free(w); return 0; }
    w->g = w->m + d; w->dm = w->g + d; w->mu = w->dm + d; w->lam = w->mu + d;
    w->c = w->lam + d; w->ct = w->c + d; w->u = w->ct + d; w->gt = w->u + d; w->qt = w->gt + d;
    w->C = w->qt + d; w->V = w->C + dd; w->M = w->V + dd; w->den = w->M + dd;
    w->jw = w->den + dd;   /* dd + d */
    return 1;
}

/* Weights, log p, posterior mean and score at x (and C when want_cov), MATH.md 2.
   log-sum-exp shifted by its maximum; moments taken relative to the point of largest weight,
   so C keeps relative accuracy when one weight is close to 1. */
RDG__PRIVATE void rdg__eval(const rdg_gmm *g, const rdg_real *x, rdg__ws *w, int want_cov) {
    size_t n = g->n, d = g->d, i, j, k, nk = 0;
    const rdg_real *X = g->x, *xr;
    rdg_real a = w->a, s2 = w->s2, inv2s2 = RDG__R(0.5) / s2;
    rdg_real emax = -RDG__BIG, cut, sum = 0, inv;
    rdg_real *e = w->w;
    size_t imax = 0;
    for (i = 0; i < n; ++i) {
        const rdg_real *xi = X + i * d;
        rdg_real s = 0;
        for (j = 0; j < d; ++j) { rdg_real df = x[j] - a * xi[j]; s += df * df; }
        e[i] = -s * inv2s2;
        if (e[i] > emax) { emax = e[i]; imax = i; }
    }
    cut = g->drop > 0 ? emax - g->drop : -RDG__BIG;
    for (i = 0; i < n; ++i) {            /* compact in place: nk <= i */
        if (e[i] >= cut) {
            rdg_real v = RDG__EXP(e[i] - emax);
            w->idx[nk] = i; e[nk] = v; sum += v; ++nk;
        }
    }
    w->nk = nk;
    w->logp = emax + RDG__LOG(sum) - RDG__LOG((rdg_real)n)
              - RDG__R(0.5) * (rdg_real)d * RDG__LOG(RDG__R(2.0) * RDG__PI * s2);
    inv = RDG__R(1.0) / sum;
    for (k = 0; k < nk; ++k) e[k] *= inv;
    w->ref = imax;
    xr = X + imax * d;
    for (j = 0; j < d; ++j) w->dm[j] = 0;
    for (k = 0; k < nk; ++k) {
        const rdg_real *xi = X + w->idx[k] * d;
        rdg_real wk = e[k];
        for (j = 0; j < d; ++j) w->dm[j] += wk * (xi[j] - xr[j]);
    }
    for (j = 0; j < d; ++j) {
        w->m[j] = xr[j] + w->dm[j];
        w->g[j] = (a * w->m[j] - x[j]) / s2;
    }
    if (!want_cov) return;
    for (j = 0; j < d * d; ++j) w->C[j] = 0;
    for (k = 0; k < nk; ++k) {
        const rdg_real *xi = X + w->idx[k] * d;
        rdg_real wk = e[k], *c = w->c;
        for (j = 0; j < d; ++j) c[j] = (xi[j] - xr[j]) - w->dm[j];
        for (i = 0; i < d; ++i) {
            rdg_real wci = wk * c[i], *Ci = w->C + i * d;
            for (j = 0; j <= i; ++j) Ci[j] += wci * c[j];
        }
    }
    for (i = 0; i < d; ++i) for (j = 0; j < i; ++j) w->C[j * d + i] = w->C[i * d + j];
}

/* c_k = x_{idx[k]} - m, computed relative to the reference point (see rdg__eval). */
RDG__PRIVATE void rdg__centred(const rdg_gmm *g, const rdg__ws *w, size_t k, rdg_real *c) {
    size_t j, d = g->d;
    const rdg_real *xi = g->x + w->idx[k] * d, *xr = g->x + w->ref * d;
    for (j = 0; j < d; ++j) c[j] = (xi[j] - xr[j]) - w->dm[j];
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

RDGDEF rdg_status rdg_density_eval(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                   rdg_density_out *out) {
    rdg_status st;
    rdg__ws *pool;
    int nth, ib, want_cov;
    size_t d;
    if (!out) return RDG_ERR_INVALID;
    st = rdg__batch_check(g, t, y, B);
    if (st != RDG_OK) return st;
    d = g->d;
    want_cov = out->cov || out->hess;
    nth = rdg__nthreads(B);
    pool = rdg__pool_alloc(nth, g->n, d, t);
    if (!pool) return RDG_ERR_NOMEM;
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ib = 0; ib < (int)B; ++ib) {
        rdg__ws *w = &pool[rdg__thread_id()];
        size_t b = (size_t)ib, i, j, k;
        rdg__eval(g, y + b * d, w, want_cov);
        if (out->logp) out->logp[b] = w->logp;
        if (out->mean) memcpy(out->mean + b * d, w->m, d * sizeof(rdg_real));
        if (out->score) memcpy(out->score + b * d, w->g, d * sizeof(rdg_real));
        if (out->weights) {
            rdg_real *wo = out->weights + b * g->n;
            for (i = 0; i < g->n; ++i) wo[i] = 0;
            for (k = 0; k < w->nk; ++k) wo[w->idx[k]] = w->w[k];
        }
        if (out->cov) memcpy(out->cov + b * d * d, w->C, d * d * sizeof(rdg_real));
        if (out->hess) {
            /* (a/s^2) C (a/s^2), never (a^2/s^4) C: a^2/s^4 overflows for t < 1e-154 */
            rdg_real *h = out->hess + b * d * d, as = w->a / w->s2;
            for (i = 0; i < d; ++i) for (j = 0; j < d; ++j)
                h[i * d + j] = (as * w->C[i * d + j]) * as - (i == j ? RDG__R(1.0) / w->s2 : 0);
        }
    }
    rdg__pool_free(pool, nth);
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
   lam_j(H) = -1/s^2 + (a^2/s^4) mu_j(C) keeps relative accuracy when C is tiny. */
RDG__PRIVATE void rdg__frame(rdg__ws *w) {
    size_t j, d = w->d;
    rdg_real as = w->a / w->s2;
    memcpy(w->jw, w->C, d * d * sizeof(rdg_real));
    (void)rdg__jacobi(w->jw, d, w->mu, w->V);   /* 100 sweeps never run out for symmetric input */
    for (j = 0; j < d; ++j) w->lam[j] = (as * w->mu[j]) * as - RDG__R(1.0) / w->s2;
}

/* Eigengap lam_d* - lam_{d*+1} of H at the workspace's point. */
RDG__PRIVATE rdg_real rdg__gap(const rdg__ws *w, size_t ds) { return w->lam[ds - 1] - w->lam[ds]; }

/* Frame is usable when the eigengap is resolved above rounding in C. */
RDG__PRIVATE int rdg__frame_ok(const rdg__ws *w, size_t ds) {
    rdg_real tol = RDG__R(8.0) * RDG__EPS * (RDG__FABS(w->mu[0]) + RDG__FABS(w->mu[w->d - 1]));
    return w->mu[ds - 1] - w->mu[ds] > tol;
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
    size_t d = w->d, i, j, aa, bb, k;
    if (!rdg__frame_ok(w, ds)) return 0;
    for (aa = 0; aa < ds; ++aa) for (bb = ds; bb < d; ++bb)
        w->den[aa * d + bb] = RDG__R(1.0) / (w->mu[bb] - w->mu[aa]);
    for (i = 0; i < d * d; ++i) w->M[i] = 0;
    for (j = 0; j < d; ++j) w->qt[j] = 0;
    for (k = 0; k < w->nk; ++k) {
        rdg_real wk = w->w[k], f;
        rdg__centred(g, w, k, w->c);
        for (j = 0; j < d; ++j) {
            rdg_real s = 0;
            for (i = 0; i < d; ++i) s += w->V[i * d + j] * w->c[i];
            w->ct[j] = s;
        }
        for (aa = 0; aa < ds; ++aa) {
            rdg_real yv = 0;
            if (full) for (bb = ds; bb < d; ++bb) yv += w->gt[bb] * w->ct[bb] * w->den[aa * d + bb];
            w->u[aa] = w->ct[aa] * yv;
        }
        for (bb = ds; bb < d; ++bb) {
            rdg_real z = 0;
            for (aa = 0; aa < ds; ++aa) z += w->gt[aa] * w->ct[aa] * w->den[aa * d + bb];
            w->u[bb] = w->ct[bb] * z;
        }
        for (i = full ? 0 : ds; i < d; ++i) {
            rdg_real wu = wk * w->u[i], *Mi = w->M + i * d;
            for (j = 0; j < d; ++j) Mi[j] += wu * w->ct[j];
        }
        f = wk * w->ct[ds] * w->ct[ds];
        for (j = 0; j < d; ++j) w->qt[j] += f * w->ct[j];
    }
    return 1;
}

/* JE = E^T J ((d - d*) x d) and q = grad lam_{d*+1} (d), from rdg__jac's accumulators. */
RDG__PRIVATE void rdg__je(const rdg__ws *w, size_t ds, rdg_real *JE, rdg_real *q) {
    size_t d = w->d, i, j, bb;
    rdg_real as = w->a / w->s2;
    for (bb = ds; bb < d; ++bb) {
        rdg_real *row = JE + (bb - ds) * d;
        const rdg_real *Mb = w->M + bb * d;
        for (i = 0; i < d; ++i) {
            rdg_real s = w->lam[bb] * w->V[i * d + bb];
            for (j = 0; j < d; ++j) s += as * Mb[j] * w->V[i * d + j];
            row[i] = s;
        }
    }
    if (q) for (i = 0; i < d; ++i) {
        rdg_real s = 0;
        for (j = 0; j < d; ++j) s += w->V[i * d + j] * w->qt[j];
        q[i] = ((as * s) * as) * as;
    }
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
    p->tolr = (o->rtol > 0 ? o->rtol : RDG__R(1e-10)) * sc;
    p->ktol = o->ktol > 0 ? o->ktol : RDG__R(1e-6);
    p->rho = o->rho > 0 ? o->rho : RDG__R(1000.0);
    p->kappa = o->kappa > 0 ? o->kappa : RDG__R(1.0);
    return RDG_OK;
}

RDG__PRIVATE rdg_real rdg__dot(const rdg_real *u, const rdg_real *v, size_t n) {
    size_t i;
    rdg_real s = 0;
    for (i = 0; i < n; ++i) s += u[i] * v[i];
    return s;
}

/* Least-squares multiplier lh = argmin |xy + JE^T lh| (JE: k x d), via the k x k normal
   equations; 0 when they are singular. */
RDG__PRIVATE void rdg__lsmult(const rdg_real *JE, size_t k, size_t d, const rdg_real *xy,
                              rdg_real *G, rdg_real *lh) {
    size_t i, j;
    rdg_real tr = 0;
    for (i = 0; i < k; ++i) {
        for (j = 0; j <= i; ++j) G[i * k + j] = G[j * k + i] = rdg__dot(JE + i * d, JE + j * d, d);
        tr += G[i * k + i];
        lh[i] = -rdg__dot(JE + i * d, xy, d);
    }
    for (i = 0; i < k; ++i) G[i * k + i] += RDG__EPS * tr;
    if (!rdg__cholsolve(G, k, lh)) for (i = 0; i < k; ++i) lh[i] = 0;
}

/* Reals of LM scratch per thread for dimension d. */
RDG__PRIVATE size_t rdg__lm_len(size_t d) { return 17 * d + 6 * d * d; }

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
       eigenvectors of C carry errors ~ eps |C| / gap, so the gap must exceed 1e-8 |C| */
    info->converged = conv && info->curv_ok && rdg__isfinite(resid)
                      && w->mu[po->ds - 1] - w->mu[po->ds] > RDG__R(1e-8) * w->mu[0];
    info->reliable = info->converged && rdg__frame_ok(w, po->ds) && w->s2 * info->gap > RDG__R(1e-8);
}

/* One point: y -> x (d entries), using two workspaces (current, trial) and LM scratch. */
RDG__PRIVATE void rdg__project_point(const rdg_gmm *g, const rdg_real *y, const rdg__popts *po,
                                     rdg__ws *wa, rdg__ws *wb, rdg_real *buf, rdg_real *x,
                                     rdg_project_info *info) {
    size_t d = g->d, ds = po->ds, k = d - ds, i, j;
    rdg__ws *cur = wa, *tr = wb, *ws;
    rdg_real *D = buf, *x1 = D + d, *xy = x1 + d, *r0 = xy + d, *r1 = r0 + d, *Lam = r1 + d;
    rdg_real *yv = Lam + d, *Bs = yv + d, *q0 = Bs + d, *q1 = q0 + d, *kv = q1 + d;
    rdg_real *lh = kv + d, *rE0 = lh + d, *rE1 = rE0 + d, *tmp = rE1 + d;
    rdg_real *A = tmp + d, *Bm = A + d * d, *JE0 = Bm + d * d, *JE1 = JE0 + d * d, *G = JE1 + d * d;
    rdg_real s2 = cur->s2, rhop = po->rho * s2 * s2, kapp = po->kappa * s2 * s2;
    rdg_real resid0 = 0, res0, res1, mu, nu, *sw, *xs = G + d * d;
    int it, conv = 0, iters = 0, have_best;

    /* SCMS: x <- x + P_N (a m - x) = x + s^2 r */
    memcpy(x, y, d * sizeof(rdg_real));
    for (it = 0;; ++it) {
        rdg__eval(g, x, cur, 1);
        rdg__frame(cur);
        res0 = rdg__resid(cur, ds, rE0, r0);
        if (it == 0) resid0 = res0;
        if (s2 * res0 <= po->tolr) { conv = 1; break; }
        if (it >= po->scms_iter || !rdg__isfinite(res0)) break;
        for (i = 0; i < d; ++i) x[i] += s2 * r0[i];
    }
    if (po->method == RDG_PROJECT_SCMS) {
        rdg__report(po, cur, x, y, resid0, res0, it, conv, info);
        return;
    }
    /* keep the SCMS point: it is a ridge point, the best answer when LM cannot finish */
    memcpy(xs, x, d * sizeof(rdg_real));
    have_best = conv && rdg__frame_ok(cur, ds);
    conv = 0;
    if (!rdg__isfinite(res0) || !rdg__jac(g, cur, ds, 0)) {   /* frame undefined: cannot start */
        rdg__report(po, cur, x, y, resid0, res0, 0, 0, info);
        return;
    }
    rdg__je(cur, ds, JE0, q0);
    for (i = 0; i < d; ++i) xy[i] = x[i] - y[i];
    rdg__lsmult(JE0, k, d, xy, G, lh);
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
        for (i = 0; i < d; ++i) {
            rdg_real s = xy[i];
            for (j = 0; j < k; ++j) s += JE0[j * d + i] * lh[j];
            kkt += s * s;
        }
        kkt = RDG__SQRT(kkt);
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
        for (i = 0; i < d; ++i) {
            rdg_real s = xy[i] + kapp * c0 * q0[i];
            for (j = 0; j < k; ++j) s += JE0[j * d + i] * tmp[j];
            D[i] = -s;
            for (j = 0; j <= i; ++j) {
                size_t l;
                rdg_real v = Bm[i * d + j] + kapp * q0[i] * q0[j];
                for (l = 0; l < k; ++l) v += rhop * JE0[l * d + i] * JE0[l * d + j];
                A[i * d + j] = A[j * d + i] = v;
            }
            A[i * d + i] += mu;
        }
        if (!rdg__cholsolve(A, d, D)) { mu *= 10; if (mu > RDG__R(1e12)) break; continue; }
        /* predicted change of phi on the undamped model; as A D = -grad it is
           -(D^T Bm D + 2 mu |D|^2 + rho' |JE D|^2 + kappa' (q.D)^2) */
        {
            rdg_real qd = rdg__dot(q0, D, d), jd2 = 0;
            for (j = 0; j < k; ++j) { rdg_real v = rdg__dot(JE0 + j * d, D, d); jd2 += v * v; }
            for (i = 0; i < d; ++i) Bs[i] = rdg__dot(Bm + i * d, D, d);
            pred = -(rdg__dot(D, Bs, d) + 2 * mu * rdg__dot(D, D, d) + rhop * jd2 + kapp * qd * qd);
        }
        for (i = 0; i < d; ++i) x1[i] = x[i] + D[i];
        rdg__eval(g, x1, tr, 1);
        rdg__frame(tr);
        res1 = rdg__resid(tr, ds, rE1, r1);
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
            if (dphi < 0) accept = rdg__jac(g, tr, ds, 0);
            else if (dphi <= noise && (res1 <= res0 || s2 * res1 <= po->tolr) && rdg__jac(g, tr, ds, 0)) {
                rdg_real kkt1 = 0;
                rdg__je(tr, ds, JE1, q1);
                for (i = 0; i < d; ++i) Bs[i] = x1[i] - y[i];
                rdg__lsmult(JE1, k, d, Bs, G, kv);
                for (i = 0; i < d; ++i) {
                    rdg_real sv = Bs[i];
                    for (j = 0; j < k; ++j) sv += JE1[j * d + i] * kv[j];
                    kkt1 += sv * sv;
                }
                accept = RDG__SQRT(kkt1) < kkt;
            }
        }
        if (accept) {
            rdg_real ratio = pred < 0 && dphi < 0 ? dphi / pred : 1, f;
            rdg_real sy, sBs;
            rdg__je(tr, ds, JE1, q1);
            /* BFGS on the Lagrangian gradient (x - y) + J^T Lam with Lam held fixed */
            for (j = 0; j < k; ++j) {          /* E1^T Lam */
                rdg_real s = 0;
                for (i = 0; i < d; ++i) s += tr->V[i * d + ds + j] * Lam[i];
                tmp[j] = s;
            }
            for (i = 0; i < d; ++i) {
                rdg_real s = D[i];
                for (j = 0; j < k; ++j) s += JE1[j * d + i] * tmp[j] - JE0[j * d + i] * lh[j];
                yv[i] = s;
            }
            for (i = 0; i < d; ++i) Bs[i] = rdg__dot(Bm + i * d, D, d);
            sBs = rdg__dot(D, Bs, d);
            sy = rdg__dot(D, yv, d);
            if (sBs > 0 && rdg__isfinite(sy)) {
                if (sy < RDG__R(0.2) * sBs) {   /* Powell damping keeps Bm positive definite */
                    rdg_real th = RDG__R(0.8) * sBs / (sBs - sy);
                    for (i = 0; i < d; ++i) yv[i] = th * yv[i] + (1 - th) * Bs[i];
                    sy = rdg__dot(D, yv, d);
                }
                for (i = 0; i < d; ++i) for (j = 0; j < d; ++j)
                    Bm[i * d + j] += yv[i] * yv[j] / sy - Bs[i] * Bs[j] / sBs;
            }
            ws = cur; cur = tr; tr = ws;
            sw = JE0; JE0 = JE1; JE1 = sw;
            sw = q0; q0 = q1; q1 = sw;
            sw = rE0; rE0 = rE1; rE1 = sw;
            sw = r0; r0 = r1; r1 = sw;
            memcpy(x, x1, d * sizeof(rdg_real));
            res0 = res1;
            for (i = 0; i < d; ++i) xy[i] = x[i] - y[i];
            rdg__lsmult(JE0, k, d, xy, G, lh);
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
        } else {
            mu *= nu; nu *= 2;
            if (mu > RDG__R(1e12)) break;
        }
    }
    if (!conv && have_best) {           /* LM did not finish: report its best ridge point */
        memcpy(x, xs, d * sizeof(rdg_real));
        rdg__eval(g, x, cur, 1);
        rdg__frame(cur);
        res0 = rdg__resid(cur, ds, NULL, NULL);
    }
    rdg__report(po, cur, x, y, resid0, res0, iters, conv, info);
}

RDGDEF rdg_status rdg_ridge_project(const rdg_gmm *g, rdg_real t, const rdg_real *y, size_t B,
                                    const rdg_project_opts *opts, rdg_real *out,
                                    rdg_project_info *info) {
    rdg_status st = rdg__batch_check(g, t, y, B);
    rdg__popts po;
    rdg__ws *pool;
    rdg_real *scratch;
    size_t d, len;
    int nth, ib, ok = 1;
    if (st != RDG_OK) return st;
    if (!out) return RDG_ERR_INVALID;
    st = rdg__popts_fill(g, opts, &po);
    if (st != RDG_OK) return st;
    d = g->d;
    nth = rdg__nthreads(B);
    len = rdg__lm_len(d);
    rdg__mul(len, (size_t)nth, &ok);
    if (!ok) return RDG_ERR_OVERFLOW;
    pool = rdg__pool_alloc(2 * nth, g->n, d, t);
    if (!pool) return RDG_ERR_NOMEM;
    scratch = (rdg_real *)rdg__alloc(len * (size_t)nth, sizeof(rdg_real));
    if (!scratch) { rdg__pool_free(pool, 2 * nth); return RDG_ERR_NOMEM; }
    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ib = 0; ib < (int)B; ++ib) {
        int id = rdg__thread_id();
        size_t b = (size_t)ib;
        rdg_project_info tmp;
        rdg__project_point(g, y + b * d, &po, &pool[2 * id], &pool[2 * id + 1],
                           scratch + (size_t)id * len, out + b * d, info ? &info[b] : &tmp);
    }
    rdg_free(scratch);
    rdg__pool_free(pool, 2 * nth);
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

RDGDEF rdg_status rdg_npy_read_mem(const void *buf, size_t len, rdg_array *a) {
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
    need = count * item;
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
    FILE *f;
    unsigned char *buf = NULL, *nb;
    size_t cap = 0, len = 0, got;
    size_t limit = RDG_MAX_ELEMENTS > ((size_t)-1 - (1u << 20)) / 8 ? (size_t)-1 / 2
                 : RDG_MAX_ELEMENTS * 8 + (1u << 20);
    rdg_status st;
    if (!a) return RDG_ERR_INVALID;
    memset(a, 0, sizeof *a);
    if (!path) return RDG_ERR_INVALID;
    f = fopen(path, "rb");
    if (!f) return RDG_ERR_IO;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (cap > limit) { rdg_free(buf); fclose(f); return RDG_ERR_OVERFLOW; }
            nb = (unsigned char *)RDG_REALLOC(buf, ncap, NULL);
            if (!nb) { rdg_free(buf); fclose(f); return RDG_ERR_NOMEM; }
            buf = nb; cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) { rdg_free(buf); fclose(f); return RDG_ERR_IO; }
    fclose(f);
    st = rdg_npy_read_mem(buf, len, a);
    rdg_free(buf);
    return st;
}

RDGDEF rdg_status rdg_npy_write(const char *path, const rdg_real *data, size_t ndim,
                                const size_t *shape) {
    void *buf;
    size_t len, pl;
    char *tmp;
    FILE *f;
    int bad;
    rdg_status st;
    if (!path) return RDG_ERR_INVALID;
    st = rdg_npy_write_mem(data, ndim, shape, &buf, &len);
    if (st != RDG_OK) return st;
    pl = strlen(path);
    tmp = (char *)RDG_MALLOC(pl + 5, NULL);
    if (!tmp) { rdg_free(buf); return RDG_ERR_NOMEM; }
    memcpy(tmp, path, pl); memcpy(tmp + pl, ".tmp", 5);
    f = fopen(tmp, "wb");
    if (!f) { rdg_free(buf); rdg_free(tmp); return RDG_ERR_IO; }
    bad = fwrite(buf, 1, len, f) != len;
    bad |= fclose(f) != 0;
#ifdef _WIN32
    if (!bad) remove(path);
#endif
    if (!bad) bad = rename(tmp, path) != 0;
    if (bad) remove(tmp);
    rdg_free(buf); rdg_free(tmp);
    return bad ? RDG_ERR_IO : RDG_OK;
}
#endif /* RDG_NO_STDIO */

/* DEVELOPMENT ONLY (issue 3): fragments that are merged into this file before release. */
#include "wip/model_sampler.h"
#include "wip/rf.h"
#include "wip/mlp.h"
#include "wip/latent.h"

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
