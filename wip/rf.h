/* ridgediff.h implementation fragment under development (issue 3); merged into ridgediff.h when done. */

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
    if ((int)r->weight < 0 || (int)r->weight > (int)RDG_WEIGHT_USER) return RDG_ERR_INVALID;
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
            rdg__eval(p->g, xt + i * d, &w, 0);
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
    if (!buf || (split && !info)) { rdg_free(buf); rdg_free(info); rdg__dmm_plan_free(&p); return RDG_ERR_NOMEM; }
    x0 = buf; xt = x0 + nper * d; out = xt + nper * d; mt = out + nper * d;
    if (split) { proj = mt + nper * d; lam = proj + nper * d; V = lam + nper * d; }
    memset(&dout, 0, sizeof dout);
    dout.mean = mt;
    /* nodes in order; the model, the density and the projection parallelise over the batch */
    for (q = 0; q < p.nq && st == RDG_OK; ++q) {
        rdg_real s = 0, sN = 0, sT = 0, t = p.t[q];
        st = rdg__dmm_node(&p, q, x0, xt);
        if (st == RDG_OK) st = m->eval(m->self, t, xt, nper, out);
        if (st == RDG_OK) st = rdg_density_eval(data, t, xt, nper, &dout);
        if (st != RDG_OK) break;
        for (i = 0; i < nper * d; ++i) { out[i] -= mt[i]; s += out[i] * out[i]; }   /* out = e */
        if (split) {
            st = rdg_ridge_project(data, t, xt, nper, popts, proj, info);
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

/* Dot product with four independent partial sums (a fixed order: deterministic). */
RDG__PRIVATE rdg_real rdg__rf_dot4(const rdg_real *a, const rdg_real *b, size_t n) {
    rdg_real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) s0 += a[i] * b[i];
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
            if (beta != 0) acc = rdg__rf_dot4(row + k + 1, v + k + 1, n - k - 1);
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

/* c = U e(t) + b (M entries); e is 2 nfreq + 1 scratch. */
RDG__PRIVATE void rdg__rf_shift(const rdg_rfnn *rf, rdg_real t, rdg_real *c, rdg_real *e) {
    size_t j, l, E = 2 * rf->nfreq + 1;
    (void)rdg_embed_fourier(t, rf->T, rf->nfreq, e);   /* arguments checked by the callers */
    for (j = 0; j < rf->M; ++j) {
        const rdg_real *u = rf->U + j * E;
        rdg_real s = 0;
        for (l = 0; l < E; ++l) s += u[l] * e[l];
        c[j] = s + rf->b[j];
    }
}

/* phi (M) of one point x (d) given c = U e(t) + b. */
RDG__PRIVATE void rdg__rf_feat(const rdg_rfnn *rf, const rdg_real *c, const rdg_real *x, rdg_real *phi) {
    size_t j, k, d = rf->d, M = rf->M;
    rdg_real sc = RDG__R(1.0) / RDG__SQRT((rdg_real)M);
    for (j = 0; j < M; ++j) {
        const rdg_real *w = rf->W + j * d;
        rdg_real z = c[j];
        for (k = 0; k < d; ++k) z += w[k] * x[k];
        phi[j] = z > 0 ? z * sc : 0;
    }
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

/* Shared by features and the model: checks and the per-call scratch (c, e, nth rows of phi). */
RDG__PRIVATE rdg_status rdg__rf_begin(const rdg_rfnn *rf, rdg_real t, const rdg_real *x, size_t B,
                                      int nth, rdg_real **scratch) {
    int ok = 1;
    size_t E;
    *scratch = NULL;
    if (!rdg__rf_ok(rf) || !x || B == 0 || !rdg__t_ok(t)) return RDG_ERR_INVALID;
    rdg__mul(B, rf->M, &ok);
    rdg__mul(B, rf->d, &ok);
    if (!ok || B > (size_t)INT_MAX) return RDG_ERR_OVERFLOW;
    if (!rdg__allfinite(x, B * rf->d)) return RDG_ERR_NONFINITE;
    E = 2 * rf->nfreq + 1;
    *scratch = (rdg_real *)rdg__alloc(rf->M * ((size_t)nth + 1) + E, sizeof(rdg_real));
    if (!*scratch) return RDG_ERR_NOMEM;
    rdg__rf_shift(rf, t, *scratch, *scratch + rf->M);
    return RDG_OK;
}

RDGDEF rdg_status rdg_rfnn_features(const rdg_rfnn *rf, rdg_real t, const rdg_real *x, size_t B,
                                    rdg_real *phi) {
    rdg_real *c;
    rdg_status st;
    int ib;
    if (!phi) return RDG_ERR_INVALID;
    st = rdg__rf_begin(rf, t, x, B, 0, &c);
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(static) if (B * rf->M > 65536))
    for (ib = 0; ib < (int)B; ++ib)
        rdg__rf_feat(rf, c, x + (size_t)ib * rf->d, phi + (size_t)ib * rf->M);
    rdg_free(c);
    return RDG_OK;
}

/* The model: out_b = A phi(x_b, t). Points in parallel (nested calls run on one thread). */
RDG__PRIVATE rdg_status rdg__rf_eval(const void *self, rdg_real t, const rdg_real *x, size_t B,
                                     rdg_real *out) {
    const rdg_rfnn *rf = (const rdg_rfnn *)self;
    rdg_real *c;
    rdg_status st;
    int ib, nth = rdg__nthreads(B);
    if (!out) return RDG_ERR_INVALID;
    st = rdg__rf_begin(rf, t, x, B, nth, &c);
    if (st != RDG_OK) return st;
    RDG__OMP(parallel for schedule(static) num_threads(nth) if (B * rf->M > 65536))
    for (ib = 0; ib < (int)B; ++ib) {
        size_t b = (size_t)ib, i, M = rf->M, d = rf->d;
        rdg_real *phi = c + M + 2 * rf->nfreq + 1 + (size_t)rdg__thread_id() * M;
        rdg__rf_feat(rf, c, x + b * d, phi);
        for (i = 0; i < d; ++i) out[b * d + i] = rdg__rf_dot4(rf->A + i * M, phi, M);
    }
    rdg_free(c);
    return RDG_OK;
}

RDGDEF rdg_status rdg_rfnn_model(const rdg_rfnn *rf, rdg_model *m) {
    if (!m) return RDG_ERR_INVALID;
    memset(m, 0, sizeof *m);
    if (!rdg__rf_ok(rf)) return RDG_ERR_INVALID;
    m->kind = RDG_MODEL_RFNN;
    m->d = rf->d;
    m->eval = rdg__rf_eval;
    m->self = rf;
    return RDG_OK;
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

/* Adds one slab of sc samples to K (lower triangle by 4 x 4 blocks), B and the row constants.
   PS: sc x M features, QS: scratch sc x M, ws: weights, X0: sc x d. Row blocks of K in
   parallel; every entry is summed by one thread in sample order. */
RDG__PRIVATE void rdg__rf_slab(rdg_rf_quad *q, const rdg_real *PS, rdg_real *QS, const rdg_real *ws,
                               const rdg_real *X0, size_t sc, rdg_real *crow) {
    size_t M = q->M, d = q->d, s, i, j;
    int ib, nb = (int)((M + 3) / 4), jb, nbj = (int)((M + 255) / 256);
    for (s = 0; s < sc; ++s) for (j = 0; j < M; ++j) QS[s * M + j] = ws[s] * PS[s * M + j];
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
        for (i = 0; i < d; ++i) A[i * M + r] = rdg__rf_dot4(G + i * M, q->kvec + r * M, M);
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
            rdg__eval(p->g, xt + b * d, w, 0);
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
    rdg_real *crow, *lex;
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
    tot += 2 * d * M + M + 2 * d;
    if (!ok || tot < MM) { rdg__dmm_plan_free(&p); return RDG_ERR_OVERFLOW; }
    base = (rdg_real *)rdg__alloc(tot, sizeof(rdg_real));
    npn = p.nper <= SC ? SC / p.nper : 1;          /* nodes per group */
    if (npn > p.nq) npn = p.nq;
    ns = npn * p.nper;                             /* samples per group */
    X0 = (rdg_real *)rdg__alloc(ns * d, 2 * sizeof(rdg_real));
    CT = (rdg_real *)rdg__alloc(npn * M + 2 * rf->nfreq + 1, sizeof(rdg_real));
    PS = (rdg_real *)rdg__alloc(SC * M, 2 * sizeof(rdg_real));
    WS = (rdg_real *)rdg__alloc(ns, sizeof(rdg_real));
    if (!base || !X0 || !CT || !PS || !WS) {
        rdg_free(base); rdg_free(X0); rdg_free(CT); rdg_free(PS); rdg_free(WS);
        rdg__dmm_plan_free(&p);
        return RDG_ERR_NOMEM;
    }
    XT = X0 + ns * d; QS = PS + SC * M; EM = CT + npn * M;
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
                rdg__rf_feat(rf, CT + node * M, XT + s * d, PS + (size_t)is * M);
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
        for (i = 0; i < d; ++i) G[i * M + j] = rdg__rf_dot4(q->K + j * M, A + i * M, M);
    }
}

/* L_i(A) = a_i K a_i - 2 a_i . b_i + crow_i per output row (G: d x M scratch). */
RDG__PRIVATE void rdg__rf_rowloss(const rdg_rf_quad *q, const rdg_real *A, rdg_real *G, rdg_real *Li) {
    size_t i, M = q->M;
    const rdg_real *crow = rdg__rfq_crow(q);
    rdg__rf_times_K(q, A, G);
    for (i = 0; i < q->d; ++i) {
        const rdg_real *a = A + i * M;
        Li[i] = rdg__rf_dot4(a, G + i * M, M) - RDG__R(2.0) * rdg__rf_dot4(a, q->B + i * M, M) + crow[i];
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
        tot += rdg__rf_dot4(a, G + i * M, M) - RDG__R(2.0) * rdg__rf_dot4(a, q->B + i * M, M);
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
