/* ridgediff.h implementation fragment under development (issue 3); merged into ridgediff.h when done. */

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
    if (!m) return RDG_ERR_INVALID;
    memset(m, 0, sizeof *m);
    if (!rdg__mlp_ok(net)) return RDG_ERR_INVALID;
    m->kind = RDG_MODEL_MLP;
    m->d = net->d;
    m->eval = rdg__mlp_eval;
    m->self = net;
    return RDG_OK;
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
    if ((int)o->weight < (int)RDG_WEIGHT_ONE || (int)o->weight > (int)RDG_WEIGHT_USER
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
#ifndef RDG__RF_MAXM
#  define RDG__RF_MAXM ((size_t)1 << 20)
#endif
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
    size_t len, pl;
    char *tmp;
    FILE *fp;
    int bad;
    rdg_status st;
    if (!path) return RDG_ERR_INVALID;
    st = rdg_model_file_save_mem(f, &buf, &len);
    if (st != RDG_OK) return st;
    pl = strlen(path);
    tmp = (char *)rdg__alloc(pl + 5, 1);
    if (!tmp) { rdg_free(buf); return RDG_ERR_NOMEM; }
    memcpy(tmp, path, pl); memcpy(tmp + pl, ".tmp", 5);
    fp = fopen(tmp, "wb");
    if (!fp) { rdg_free(buf); rdg_free(tmp); return RDG_ERR_IO; }
    bad = fwrite(buf, 1, len, fp) != len;
    bad |= fclose(fp) != 0;
#ifdef _WIN32
    if (!bad) remove(path);
#endif
    if (!bad) bad = rename(tmp, path) != 0;
    if (bad) remove(tmp);
    rdg_free(buf); rdg_free(tmp);
    return bad ? RDG_ERR_IO : RDG_OK;
}

RDGDEF rdg_status rdg_model_file_load(const char *path, rdg_model_file *f) {
    FILE *fp;
    unsigned char *buf = NULL, *nb;
    size_t cap = 0, len = 0, got;
    size_t limit = RDG_MAX_ELEMENTS > ((size_t)-1 - (1u << 20)) / 8 ? (size_t)-1 / 2
                 : RDG_MAX_ELEMENTS * 8 + (1u << 20);
    rdg_status st;
    if (!f) return RDG_ERR_INVALID;
    memset(f, 0, sizeof *f);
    if (!path) return RDG_ERR_INVALID;
    fp = fopen(path, "rb");
    if (!fp) return RDG_ERR_IO;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (cap > limit) { rdg_free(buf); fclose(fp); return RDG_ERR_OVERFLOW; }
            nb = (unsigned char *)RDG_REALLOC(buf, ncap, NULL);
            if (!nb) { rdg_free(buf); fclose(fp); return RDG_ERR_NOMEM; }
            buf = nb; cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    if (ferror(fp)) { rdg_free(buf); fclose(fp); return RDG_ERR_IO; }
    fclose(fp);
    st = rdg_model_file_load_mem(buf, len, f);
    rdg_free(buf);
    return st;
}
#endif /* RDG_NO_STDIO */
