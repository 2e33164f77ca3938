/* ridgediff.h implementation fragment under development (issue 3); merged into ridgediff.h when done. */

/* Sine and cosine in the precision of rdg_real (belongs in >>config when merged). */
#ifndef RDG__SIN
#  ifdef RDG_REAL_FLOAT
#    define RDG__SIN sinf
#    define RDG__COS cosf
#  else
#    define RDG__SIN sin
#    define RDG__COS cos
#  endif
#endif

/* >>model -------------------------------------------------------------------------------------
   The model interface, the exact (memorising) model m_t and the time embeddings, MATH.md 2, 6. */
RDG__PRIVATE int rdg__model_ok(const rdg_model *m) {
    return m && m->eval && m->d > 0 && (int)m->kind >= (int)RDG_MODEL_USER
        && (int)m->kind <= (int)RDG_MODEL_MLP;
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
        rdg__eval(g, x + b * d, &w, 0);
        memcpy(out + b * d, w.m, d * sizeof(rdg_real));
    }
    rdg__ws_free(&w);
    return RDG_OK;
}

RDGDEF rdg_status rdg_model_exact(rdg_model *m, const rdg_gmm *g) {
    if (!m) return RDG_ERR_INVALID;
    memset(m, 0, sizeof *m);
    if (!rdg__gmm_ok(g)) return RDG_ERR_INVALID;
    m->kind = RDG_MODEL_EXACT;
    m->d = g->d;
    m->eval = rdg__exact_eval;
    m->self = g;
    return RDG_OK;
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
   Reverse-time sampling, MATH.md 1. Trajectories run in batches of a size fixed by n alone;
   batch c covers trajectories [c bs, min(n, (c+1) bs)) and is run start to finish by one
   thread: one model call per step (two for Heun), then the update of each trajectory from its
   own stream (seed, i): d normals for y_0, then d per SDE step, drawn coordinate by
   coordinate. Nothing is reduced across trajectories or threads, so the output does not
   depend on the number of threads. */
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
    size_t K, every, C, n, d, bs;
    int ode;
    unsigned long long seed;
} rdg__sched;

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

/* Runs trajectories i0 .. i0 + nb - 1 (nb <= bs) from y_0 to y_K. buf holds 4 bs d reals,
   rng bs states. Writes out, traj rows. */
RDG__PRIVATE rdg_status rdg__sample_batch_run(const rdg_model *m, const rdg__sched *S, size_t i0,
                                              size_t nb, rdg_real *buf, rdg_rng *rng,
                                              rdg_real *out, rdg_real *traj) {
    size_t d = S->d, len = nb * d, b, j, k, c;
    rdg_real *y = buf, *mb = buf + S->bs * d, *f0 = mb + S->bs * d, *yp = f0 + S->bs * d;
    rdg_status st;
    for (b = 0; b < nb; ++b) {
        rdg_rng_init(&rng[b], S->seed, (unsigned long long)(i0 + b));
        for (j = 0; j < d; ++j) y[b * d + j] = rdg_rng_normal(&rng[b]);
    }
    if (traj) memcpy(traj + i0 * d, y, len * sizeof(rdg_real));
    for (k = 0; k < S->K; ++k) {
        rdg_real h = S->h[k];
        st = m->eval(m->self, S->t[k], y, nb, mb);
        if (st != RDG_OK) return st;
        if (!S->ode) {
            /* Euler-Maruyama: y <- y + h (y + 2 g) + sqrt(2 h) xi */
            rdg__drift(y, mb, len, S->a[k], S->s2[k], RDG__R(2.0), f0);
            for (b = 0; b < nb; ++b) {
                rdg_real *yb = y + b * d, *fb = f0 + b * d;
                for (j = 0; j < d; ++j) yb[j] = yb[j] + h * fb[j] + S->sq[k] * rdg_rng_normal(&rng[b]);
            }
        } else {
            /* Heun: f0 = f(y, t_k), yp = y + h f0, y <- y + h/2 (f0 + f(yp, t_{k+1})) */
            rdg_real hh = RDG__R(0.5) * h;
            rdg__drift(y, mb, len, S->a[k], S->s2[k], RDG__R(1.0), f0);
            for (j = 0; j < len; ++j) yp[j] = y[j] + h * f0[j];
            if (!rdg__allfinite(yp, len)) return RDG_ERR_NONFINITE;
            st = m->eval(m->self, S->t[k + 1], yp, nb, mb);
            if (st != RDG_OK) return st;
            for (j = 0; j < len; ++j) {
                rdg_real f1 = yp[j] + (S->a[k + 1] * mb[j] - yp[j]) / S->s2[k + 1];
                y[j] = y[j] + hh * (f0[j] + f1);
            }
        }
        if (!rdg__allfinite(y, len)) return RDG_ERR_NONFINITE;
        c = rdg__ck_index(k + 1, S->K, S->every, S->C);
        if (traj && c != (size_t)-1) memcpy(traj + (c * S->n + i0) * d, y, len * sizeof(rdg_real));
    }
    memcpy(out + i0 * d, y, len * sizeof(rdg_real));
    return RDG_OK;
}

/* The sample is the state y_K at t_K = t0 as the last step leaves it (noise included for the
   SDE), as in the paper: no final denoising step y -> m(y, t0) (a caller who wants it calls
   rdg_model_eval at t0). y_K sits at scale a_t0 of the data, blurred by s_t0. */
RDGDEF rdg_status rdg_sample(const rdg_model *m, size_t n, const rdg_sample_opts *o,
                             rdg_real *out, rdg_real *traj, rdg_real *times) {
    rdg__sched S;
    rdg_real T, t0, *sched = NULL, *buf = NULL, *tt, *aa, *ss, *hh, *sq;
    rdg_rng *rngs = NULL;
    rdg_status *bst = NULL, st = RDG_OK;
    size_t K, C, nbatch, k, len, nd;
    int ok = 1, nth, ic;
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
    S.bs = rdg__sample_batch(n);
    nbatch = n / S.bs + (n % S.bs != 0);
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
    if (times)
        for (k = 0; k <= K; ++k) {
            size_t c = rdg__ck_index(k, K, S.every, C);
            if (c != (size_t)-1) times[c] = tt[k];
        }

    RDG__OMP(parallel for schedule(dynamic, 1) num_threads(nth))
    for (ic = 0; ic < (int)nbatch; ++ic) {
        int tid = rdg__thread_id();
        size_t i0 = (size_t)ic * S.bs, nb = n - i0 < S.bs ? n - i0 : S.bs;
        bst[ic] = rdg__sample_batch_run(m, &S, i0, nb, buf + (size_t)tid * len,
                                        rngs + (size_t)tid * S.bs, out, traj);
    }
    for (k = 0; k < nbatch; ++k)
        if (bst[k] != RDG_OK) { st = bst[k]; break; }
done:
    rdg_free(sched); rdg_free(buf); rdg_free(rngs); rdg_free(bst);
    return st;
}
