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
#    define RDGDEF static
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
   (N, d >= 1, no NaN/Inf, N*d without overflow) and every function taking a rdg_gmm
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
     ktol      KKT tolerance |(x-y) + JE^T lam| <= ktol (1 + |x - y|) (default 1e-8)
     rho       augmented-Lagrangian penalty, dimensionless (default 10)
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
