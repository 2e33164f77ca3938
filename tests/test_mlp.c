/* Unit tests for the MLP (>>mlp): every layer's backward against central finite differences,
   the input gradient, accumulation, training lowers the DMM loss on 2-D data, reproducible and
   thread-count-independent training, model files (round trips to identical bytes and outputs,
   every corruption and every truncation refused with its status), and bad input. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define EXPECT(call, want) do {                                                        \
    rdg_status st_ = (call);                                                           \
    CHECK(st_ == (want), "%s -> %d (%s), want %d (%s)", #call, (int)st_,               \
          rdg_status_str(st_), (int)(want), rdg_status_str(want));                     \
} while (0)

/* a small net with two hidden layers (so that every kind of layer is checked), and random
   (nonzero) biases so that the bias gradients are exercised too */
static void small_net(rdg_mlp *net, unsigned long long seed) {
    static const size_t hid[2] = { 17, 5 };   /* 17: column-form forward; 5, 3: row form */
    rdg_rng r;
    size_t j;
    if (rdg_mlp_init(net, 3, 2, hid, 4, seed) != RDG_OK) { printf("init failed\n"); exit(2); }
    rdg_rng_init(&r, seed, 99);
    for (j = 0; j < net->nparams; ++j) net->params[j] += 0.3 * rdg_rng_normal(&r);
}

static void random_batch(size_t B, size_t d, unsigned long long seed, double *x, double *t,
                         double *tg, double *wt) {
    rdg_rng r;
    size_t i;
    rdg_rng_init(&r, seed, 7);
    for (i = 0; i < B * d; ++i) x[i] = 2 * rdg_rng_normal(&r);
    for (i = 0; i < B * d; ++i) tg[i] = rdg_rng_normal(&r);
    for (i = 0; i < B; ++i) t[i] = 0.005 * pow(2000.0, rdg_rng_uniform(&r));
    if (wt) for (i = 0; i < B; ++i) wt[i] = 0.1 + rdg_rng_uniform(&r);
}

/* loss only: a view of the net without a gradient buffer */
static double loss_of(const rdg_mlp *net, const double *x, const double *t, const double *tg,
                      const double *wt, size_t B) {
    rdg_mlp v = *net;
    double l = -1;
    v.grads = NULL;
    if (rdg_mlp_loss_grad(&v, x, t, tg, wt, B, &l) != RDG_OK) return NAN;
    return l;
}

/* every parameter (every layer's W and b) against central differences; the loss is piecewise
   quadratic in each single parameter, so away from ReLU kinks the difference is exact up to
   rounding, about eps L / h in absolute terms (h = 1e-4; no ReLU kink is crossed with these
   seeds). Relative error |fd - g| / max(|fd|, |g|, 1e-4 max_j |g_j|): entries 10^4 times
   below the largest are compared at that floor, where rounding would otherwise dominate. */
static void test_gradcheck(size_t B, int with_wt) {
    rdg_mlp net;
    double *x, *t, *tg, *wt, *gan, *dx, l0, maxrel = 0, maxrel_x = 0, h = 1e-4, gmax = 0;
    size_t j, nbad = 0, L;
    small_net(&net, 11 + B);
    x = (double *)malloc(B * 3 * sizeof(double)); tg = (double *)malloc(B * 3 * sizeof(double));
    t = (double *)malloc(B * sizeof(double)); wt = (double *)malloc(B * sizeof(double));
    gan = (double *)malloc(net.nparams * sizeof(double)); dx = (double *)malloc(B * 3 * sizeof(double));
    random_batch(B, 3, 5 + B, x, t, tg, wt);
    if (!with_wt) { free(wt); wt = NULL; }
    rdg_mlp_zero_grad(&net);
    EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, B, &l0), RDG_OK);
    memcpy(gan, net.grads, net.nparams * sizeof(double));
    for (j = 0; j < net.nparams; ++j) if (fabs(gan[j]) > gmax) gmax = fabs(gan[j]);
    CHECK_CLOSE(l0, loss_of(&net, x, t, tg, wt, B), 0, "loss with and without gradient");
    for (j = 0; j < net.nparams; ++j) {
        double p = net.params[j], lp, lm, fd, den, rel;
        net.params[j] = p + h; lp = loss_of(&net, x, t, tg, wt, B);
        net.params[j] = p - h; lm = loss_of(&net, x, t, tg, wt, B);
        net.params[j] = p;
        fd = (lp - lm) / (2 * h);
        den = fabs(fd) > fabs(gan[j]) ? fabs(fd) : fabs(gan[j]);
        if (den < 1e-4 * gmax) den = 1e-4 * gmax;   /* entries 1e4 x below the largest */
        rel = fabs(fd - gan[j]) / den;
        if (rel > maxrel) maxrel = rel;
        if (rel >= 1e-6) {
            if (nbad++ < 5) printf("  param %zu: analytic %.12g fd %.12g\n", j, gan[j], fd);
        }
    }
    printf("ok gradcheck B=%zu wt=%d: %zu parameters, max |g| %.3g, max rel err %.2e\n", B, with_wt,
           net.nparams, gmax, maxrel);
    CHECK(nbad == 0 && maxrel < 1e-6, "gradcheck B=%zu: %zu parameters off, max rel %.3g", B, nbad, maxrel);
    /* every layer has nonzero gradient entries (no layer silently skipped) */
    for (L = 0; L <= net.nhidden; ++L) {
        size_t in, out, off, k, nz = 0;
        rdg__mlp_layer(&net, L, &in, &out, &off);
        for (k = 0; k < out * (in + 1); ++k) nz += gan[off + k] != 0;
        CHECK(nz > 0, "layer %zu has an all-zero gradient", L);
    }
    /* the input gradient */
    {
        double l1 = 0, dmax = 0;
        EXPECT(rdg__mlp_input_grad(&net, x, t, tg, wt, B, &l1, dx), RDG_OK);
        CHECK_CLOSE(l1, l0, 0, "loss of the input-gradient pass");
        for (j = 0; j < B * 3; ++j) if (fabs(dx[j]) > dmax) dmax = fabs(dx[j]);
        for (j = 0; j < B * 3; ++j) {
            double p = x[j], lp, lm, fd, den, rel;
            x[j] = p + h; lp = loss_of(&net, x, t, tg, wt, B);
            x[j] = p - h; lm = loss_of(&net, x, t, tg, wt, B);
            x[j] = p;
            fd = (lp - lm) / (2 * h);
            den = fabs(fd) > fabs(dx[j]) ? fabs(fd) : fabs(dx[j]);
            if (den < 1e-4 * dmax) den = 1e-4 * dmax;
            rel = fabs(fd - dx[j]) / den;
            if (rel > maxrel_x) maxrel_x = rel;
        }
        printf("ok input gradient B=%zu: max rel err %.2e\n", B, maxrel_x);
        CHECK(maxrel_x < 1e-6, "input gradient: max rel err %.3g", maxrel_x);
    }
    /* backward accumulates: a second call without zero_grad doubles the gradient */
    {
        double maxd = 0;
        EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, B, NULL), RDG_OK);
        for (j = 0; j < net.nparams; ++j) {
            double e = fabs(net.grads[j] - 2 * gan[j]);
            if (e > maxd) maxd = e;
        }
        CHECK(maxd < 1e-12, "accumulation: |g2 - 2 g1| = %g", maxd);
        rdg_mlp_zero_grad(&net);
        for (j = 0; j < net.nparams && net.grads[j] == 0; ++j) {}
        CHECK(j == net.nparams, "zero_grad leaves a nonzero entry");
    }
    free(x); free(t); free(tg); free(wt); free(gan); free(dx);
    rdg_mlp_free(&net);
}

/* The model view: outputs agree with the loss (target 0, wt 1: loss = sum |m|^2), do not
   depend on how the batch is split, and one-point calls match batch calls bit for bit. */
static void test_model_view(void) {
    rdg_mlp net;
    rdg_model m;
    double x[70 * 3], t[70], z[70 * 3], out[70 * 3], out2[70 * 3], s = 0, l = 0;
    size_t i;
    small_net(&net, 3);
    random_batch(70, 3, 8, x, t, z, NULL);
    memset(z, 0, sizeof z);
    for (i = 0; i < 70; ++i) t[i] = 0.37;
    EXPECT(rdg_mlp_model(&net, &m), RDG_OK);
    CHECK(m.kind == RDG_MODEL_MLP && m.d == 3 && m.eval && m.self == &net, "model view fields");
    EXPECT(m.eval(m.self, 0.37, x, 70, out), RDG_OK);
    for (i = 0; i < 70 * 3; ++i) s += out[i] * out[i];
    EXPECT(rdg_mlp_loss_grad(&net, x, t, z, NULL, 70, &l), RDG_OK);
    CHECK_CLOSE(s, l, 1e-13, "eval against loss");
    EXPECT(m.eval(m.self, 0.37, x, 33, out2), RDG_OK);
    EXPECT(m.eval(m.self, 0.37, x + 33 * 3, 37, out2 + 33 * 3), RDG_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0, "eval depends on the batch split");
    for (i = 0; i < 70; ++i) EXPECT(m.eval(m.self, 0.37, x + i * 3, 1, out2 + i * 3), RDG_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0, "one-point eval differs from batch eval");
    EXPECT(m.eval(m.self, 0, x, 1, out), RDG_ERR_INVALID);
    EXPECT(m.eval(m.self, 0.3, NULL, 1, out), RDG_ERR_INVALID);
    EXPECT(m.eval(m.self, 0.3, x, 0, out), RDG_ERR_INVALID);
    EXPECT(m.eval(NULL, 0.3, x, 1, out), RDG_ERR_INVALID);
    rdg_mlp_free(&net);
}

/* ---- training ------------------------------------------------------------------------------ */
static const double TWO[4] = { -3, 0, 3, 0 };

typedef struct { size_t calls, last_step; double first, last; } prog_rec;
static void progress(size_t step, rdg_real loss, void *user) {
    prog_rec *p = (prog_rec *)user;
    if (p->calls == 0) p->first = loss;
    p->calls++; p->last_step = step; p->last = loss;
}

/* A fixed evaluation set of the DMM loss (weight 1, log-uniform t) on the two-point data. */
static double eval_loss(const rdg_mlp *net) {
    enum { NE = 512 };
    static double x[NE * 2], t[NE], x0[NE * 2];
    rdg_rng r;
    size_t b;
    rdg_rng_init(&r, 4242, 0);
    for (b = 0; b < NE; ++b) {
        double a, s2, tb = 0.005 * pow(2000.0, rdg_rng_uniform(&r));
        size_t i = (size_t)(rdg_rng_u64(&r) % 2);
        rdg_ou(tb, &a, &s2);
        t[b] = tb;
        x0[2 * b] = TWO[2 * i]; x0[2 * b + 1] = TWO[2 * i + 1];
        x[2 * b] = a * x0[2 * b] + sqrt(s2) * rdg_rng_normal(&r);
        x[2 * b + 1] = a * x0[2 * b + 1] + sqrt(s2) * rdg_rng_normal(&r);
    }
    return loss_of(net, x, t, x0, NULL, NE) / NE;
}

static void test_train(void) {
    rdg_mlp net;
    rdg_gmm g;
    rdg_train_opts o;
    prog_rec pr;
    size_t hid[1] = { 32 };
    double before, after, fl = -1;
    memset(&o, 0, sizeof o); memset(&pr, 0, sizeof pr);
    EXPECT(rdg_gmm_init(&g, TWO, 2, 2), RDG_OK);
    EXPECT(rdg_mlp_init(&net, 2, 1, hid, 16, 1), RDG_OK);
    before = eval_loss(&net);
    o.steps = 400; o.batch = 64; o.lr = 3e-3; o.seed = 5;
    o.progress = progress; o.progress_user = &pr;
    EXPECT(rdg_mlp_train(&net, &g, &o, &fl), RDG_OK);
    after = eval_loss(&net);
    printf("ok train: DMM loss %.4f -> %.4f (minibatch: %.4f at step 100, %.4f at step 400)\n",
           before, after, pr.first, pr.last);
    CHECK(after < 0.5 * before, "training did not lower the loss: %g -> %g", before, after);
    CHECK(pr.calls == 4 && pr.last_step == 400, "progress: %zu calls, last step %zu", pr.calls, pr.last_step);
    CHECK(fl == pr.last, "final loss %g is not the last window's %g", fl, pr.last);
    CHECK(net.adam_t == 400, "adam_t = %ld", net.adam_t);
    /* at small t the learned mean is close to the two-point posterior mean (+-3 tanh(...), 0) */
    {
        rdg_model m;
        double y[4] = { 2.0, 0.3, -2.5, -0.2 }, out[4];
        EXPECT(rdg_mlp_model(&net, &m), RDG_OK);
        EXPECT(m.eval(m.self, 0.05, y, 2, out), RDG_OK);
        CHECK(fabs(out[0] - 3) < 1 && fabs(out[2] + 3) < 1 && fabs(out[1]) < 1 && fabs(out[3]) < 1,
              "m(y, 0.05) = (%g %g), (%g %g)", out[0], out[1], out[2], out[3]);
    }
    rdg_mlp_free(&net);
}

/* the same seed gives the same net; two calls of 20 steps equal one of 40; 1 and 2 threads
   give identical bytes (batch 400 x 2850 parameters: above RDG__MLP_PAR_MIN, so the chunks
   really run in parallel under OpenMP) */
static void train_n(rdg_mlp *net, size_t steps, size_t calls, int threads) {
    rdg_gmm g;
    rdg_train_opts o;
    size_t hid[2] = { 64, 32 }, c;
    static const double X3[6] = { 0, 0, 5, 0, 0, 5 };
    memset(&o, 0, sizeof o);
    o.steps = steps; o.batch = 400; o.lr = 1e-3; o.seed = 77; o.weight = RDG_WEIGHT_SNR;
    if (rdg_gmm_init(&g, X3, 3, 2) != RDG_OK || rdg_mlp_init(net, 2, 2, hid, 8, 9) != RDG_OK) {
        printf("setup failed\n"); exit(2);
    }
#ifdef _OPENMP
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    for (c = 0; c < calls; ++c) EXPECT(rdg_mlp_train(net, &g, &o, NULL), RDG_OK);
}

static void test_reproducible(void) {
    rdg_mlp a, b, c;
    train_n(&a, 40, 1, 1);
    CHECK(400 * a.nparams >= RDG__MLP_PAR_MIN, "the thread test runs below the parallel threshold");
    train_n(&b, 20, 2, 1);
    CHECK(memcmp(a.params, b.params, a.nparams * sizeof(double)) == 0,
          "2 x 20 steps differ from 40 steps");
    train_n(&c, 40, 1, 2);
    CHECK(memcmp(a.params, c.params, a.nparams * sizeof(double)) == 0
          && memcmp(a.adam_v, c.adam_v, a.nparams * sizeof(double)) == 0,
          "training differs between 1 and 2 threads");
#ifdef _OPENMP
    printf("ok training bit-identical with 1 and 2 threads (OpenMP)\n");
    omp_set_num_threads(2);
#else
    printf("ok training reproducible (no OpenMP in this build)\n");
#endif
    rdg_mlp_free(&a); rdg_mlp_free(&b); rdg_mlp_free(&c);
}

/* ---- model files --------------------------------------------------------------------------- */
static void put_u64(unsigned char *p, unsigned long long v) {
    int i;
    for (i = 0; i < 8; ++i) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double v) {
    unsigned long long u;
    memcpy(&u, &v, 8);
    put_u64(p, u);
}

/* loads a copy of exactly len bytes (so ASan sees any read past the end) */
static rdg_status load_copy(const unsigned char *img, size_t len, rdg_model_file *f) {
    unsigned char *c = (unsigned char *)malloc(len ? len : 1);
    rdg_status st;
    memcpy(c, img, len);
    st = rdg_model_file_load_mem(c, len, f);
    free(c);
    return st;
}

/* a modified image must be refused with want, leaving *f zeroed */
static void expect_bad(const unsigned char *img, size_t len, size_t at, const unsigned char *bytes,
                       size_t nb, rdg_status want, const char *what) {
    unsigned char *c = (unsigned char *)malloc(len);
    rdg_model_file f;
    rdg_status st;
    memcpy(c, img, len);
    memcpy(c + at, bytes, nb);
    memset(&f, 0x5a, sizeof f);
    st = rdg_model_file_load_mem(c, len, &f);
    CHECK(st == want, "%s: status %d (%s), want %d", what, (int)st, rdg_status_str(st), (int)want);
    CHECK(f.kind == 0 && f.mlp.params == NULL && f.rf.W == NULL, "%s: *f not zeroed", what);
    rdg_model_file_free(&f);
    free(c);
}

static void test_files_mlp(void) {
    rdg_model_file f, g;
    rdg_model m1, m2;
    void *buf = NULL, *buf2 = NULL;
    unsigned char *img, b8[8];
    size_t len = 0, len2 = 0, k, ntrunc = 0, hdr;
    double x[10 * 3], t[10], z[10 * 3], o1[30], o2[30];
    memset(&f, 0, sizeof f);
    small_net(&f.mlp, 21);
    f.kind = RDG_MODEL_MLP;
    EXPECT(rdg_model_file_save_mem(&f, &buf, &len), RDG_OK);
    img = (unsigned char *)buf;
    hdr = 16 + 8 * (3 + 2) + 8;
    CHECK(len == hdr + 8 * f.mlp.nparams, "image length %zu", len);
    CHECK(memcmp(img, "RDGMODEL\x01\x00\x00\x00\x03\x00\x00\x00", 16) == 0, "image header bytes");
    EXPECT(load_copy(img, len, &g), RDG_OK);
    CHECK(g.kind == RDG_MODEL_MLP && g.mlp.nparams == f.mlp.nparams && g.mlp.d == 3
          && g.mlp.temb == 4 && g.mlp.nhidden == 2 && g.mlp.hidden[0] == 17 && g.mlp.hidden[1] == 5,
          "reloaded shape");
    CHECK(memcmp(g.mlp.params, f.mlp.params, f.mlp.nparams * sizeof(double)) == 0, "reloaded parameters differ");
    CHECK(g.mlp.grads && g.mlp.adam_m && g.mlp.adam_v && g.mlp.adam_t == 0, "reloaded net is trainable");
    random_batch(10, 3, 3, x, t, z, NULL);
    EXPECT(rdg_model_file_model(&f, &m1), RDG_OK);
    EXPECT(rdg_model_file_model(&g, &m2), RDG_OK);
    EXPECT(m1.eval(m1.self, 0.2, x, 10, o1), RDG_OK);
    EXPECT(m2.eval(m2.self, 0.2, x, 10, o2), RDG_OK);
    CHECK(memcmp(o1, o2, sizeof o1) == 0, "reloaded model gives different outputs");
    EXPECT(rdg_model_file_save_mem(&g, &buf2, &len2), RDG_OK);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0, "save(load(save)) differs");
    rdg_free(buf2);
    rdg_model_file_free(&g);
#ifndef RDG_NO_STDIO
    {
        const char *path = "build/test_mlp_model.rdg";
        rdg_status st = rdg_model_file_save(path, &f);
        if (st == RDG_ERR_IO) { path = "test_mlp_model.rdg"; st = rdg_model_file_save(path, &f); }
        EXPECT(st, RDG_OK);
        EXPECT(rdg_model_file_load(path, &g), RDG_OK);
        EXPECT(rdg_model_file_model(&g, &m2), RDG_OK);
        EXPECT(m2.eval(m2.self, 0.2, x, 10, o2), RDG_OK);
        CHECK(memcmp(o1, o2, sizeof o1) == 0, "file round trip gives different outputs");
        rdg_model_file_free(&g);
        remove(path);
        EXPECT(rdg_model_file_load(path, &g), RDG_ERR_IO);
        EXPECT(rdg_model_file_save("/nonexistent-dir/x/model.rdg", &f), RDG_ERR_IO);
    }
#endif
    /* corruption */
    b8[0] = 'X'; expect_bad(img, len, 0, b8, 1, RDG_ERR_FORMAT, "magic");
    b8[0] = 'r'; expect_bad(img, len, 7, b8, 1, RDG_ERR_FORMAT, "magic last byte");
    b8[0] = 2; expect_bad(img, len, 8, b8, 1, RDG_ERR_FORMAT, "version 2");
    b8[0] = 0; expect_bad(img, len, 8, b8, 1, RDG_ERR_FORMAT, "version 0");
    b8[0] = 7; expect_bad(img, len, 12, b8, 1, RDG_ERR_FORMAT, "kind 7");
    b8[0] = 0; expect_bad(img, len, 12, b8, 1, RDG_ERR_FORMAT, "kind 0 (user)");
    b8[0] = 1; expect_bad(img, len, 12, b8, 1, RDG_ERR_FORMAT, "kind 1 (exact)");
    b8[0] = 2; expect_bad(img, len, 12, b8, 1, RDG_ERR_FORMAT, "kind RFNN on an MLP image");
    put_u64(b8, 0); expect_bad(img, len, 16, b8, 8, RDG_ERR_FORMAT, "d = 0");
    put_u64(b8, 4); expect_bad(img, len, 16, b8, 8, RDG_ERR_FORMAT, "d changed (count mismatch)");
    put_u64(b8, 5000); expect_bad(img, len, 16, b8, 8, RDG_ERR_OVERFLOW, "d over 4096");
    put_u64(b8, 5); expect_bad(img, len, 24, b8, 8, RDG_ERR_FORMAT, "odd temb");
    put_u64(b8, 0); expect_bad(img, len, 24, b8, 8, RDG_ERR_FORMAT, "temb = 0");
    put_u64(b8, 0); expect_bad(img, len, 32, b8, 8, RDG_ERR_FORMAT, "nhidden = 0");
    put_u64(b8, 1); expect_bad(img, len, 32, b8, 8, RDG_ERR_FORMAT, "nhidden 1 (layout shifts)");
    put_u64(b8, 9); expect_bad(img, len, 32, b8, 8, RDG_ERR_OVERFLOW, "nhidden over the cap");
    put_u64(b8, ~0ULL); expect_bad(img, len, 32, b8, 8, RDG_ERR_OVERFLOW, "nhidden 2^64-1");
    put_u64(b8, 0); expect_bad(img, len, 40, b8, 8, RDG_ERR_FORMAT, "hidden[0] = 0");
    put_u64(b8, 7); expect_bad(img, len, 40, b8, 8, RDG_ERR_FORMAT, "hidden[0] changed");
    put_u64(b8, 1ULL << 40); expect_bad(img, len, 40, b8, 8, RDG_ERR_OVERFLOW, "hidden[0] 2^40");
    put_u64(b8, 1ULL << 31); expect_bad(img, len, 48, b8, 8, RDG_ERR_OVERFLOW, "hidden[1] 2^31 (count over cap)");
    put_u64(b8, f.mlp.nparams + 1); expect_bad(img, len, hdr - 8, b8, 8, RDG_ERR_FORMAT, "count + 1");
    put_u64(b8, f.mlp.nparams - 1); expect_bad(img, len, hdr - 8, b8, 8, RDG_ERR_FORMAT, "count - 1");
    put_u64(b8, ~0ULL); expect_bad(img, len, hdr - 8, b8, 8, RDG_ERR_FORMAT, "count 2^64-1");
    put_f64(b8, NAN); expect_bad(img, len, hdr, b8, 8, RDG_ERR_NONFINITE, "NaN first parameter");
    put_f64(b8, -INFINITY); expect_bad(img, len, len - 8, b8, 8, RDG_ERR_NONFINITE, "-Inf last parameter");
    put_f64(b8, INFINITY); expect_bad(img, len, hdr + 8 * 17, b8, 8, RDG_ERR_NONFINITE, "Inf parameter");
    {   /* one trailing byte */
        unsigned char *c = (unsigned char *)malloc(len + 1);
        memcpy(c, img, len); c[len] = 0;
        EXPECT(rdg_model_file_load_mem(c, len + 1, &g), RDG_ERR_FORMAT);
        rdg_model_file_free(&g);
        free(c);
    }
    for (k = 0; k < len; ++k) {
        rdg_status st = load_copy(img, k, &g);
        if (st != RDG_ERR_TRUNCATED || g.kind != 0 || g.mlp.params) {
            if (ntrunc++ < 5) printf("  truncated at %zu: status %d\n", k, (int)st);
        }
        rdg_model_file_free(&g);
    }
    CHECK(ntrunc == 0, "%zu of %zu truncations not refused as RDG_ERR_TRUNCATED", ntrunc, len);
    printf("ok model file (MLP, %zu bytes): round trip, 27 corruptions, %zu truncations\n", len, len);
    rdg_free(buf);
    rdg_model_file_free(&f);
}

static void test_files_rfnn(void) {
    /* an RFNN built by hand: d = 2, M = 3, nfreq = 1 -> W 3x2, U 3x3, b 3, A 2x3: 24 values */
    double P[24];
    rdg_model_file f, g;
    void *buf = NULL, *buf2 = NULL;
    unsigned char *img, b8[8];
    size_t len = 0, len2 = 0, k, ntrunc = 0, i;
    for (i = 0; i < 24; ++i) P[i] = 0.25 * (double)i - 2.0;
    memset(&f, 0, sizeof f);
    f.kind = RDG_MODEL_RFNN;
    f.rf.d = 2; f.rf.M = 3; f.rf.nfreq = 1; f.rf.T = 10;
    f.rf.W = P; f.rf.U = P + 6; f.rf.b = P + 15; f.rf.A = P + 18;
    EXPECT(rdg_model_file_save_mem(&f, &buf, &len), RDG_OK);
    img = (unsigned char *)buf;
    CHECK(len == 16 + 32 + 8 + 8 * 24, "RFNN image length %zu", len);
    EXPECT(load_copy(img, len, &g), RDG_OK);
    CHECK(g.kind == RDG_MODEL_RFNN && g.rf.d == 2 && g.rf.M == 3 && g.rf.nfreq == 1 && g.rf.T == 10,
          "RFNN reloaded shape");
    CHECK(g.rf.W && memcmp(g.rf.W, P, 6 * 8) == 0 && memcmp(g.rf.U, P + 6, 9 * 8) == 0
          && memcmp(g.rf.b, P + 15, 3 * 8) == 0 && memcmp(g.rf.A, P + 18, 6 * 8) == 0,
          "RFNN reloaded W, U, b, A differ");
    EXPECT(rdg_model_file_save_mem(&g, &buf2, &len2), RDG_OK);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0, "RFNN save(load(save)) differs");
    rdg_free(buf2);
    rdg_model_file_free(&g);
    /* read as an MLP, T = 10.0 lands in hidden[0]: 0x4024000000000000, over the cap */
    b8[0] = 3; expect_bad(img, len, 12, b8, 1, RDG_ERR_OVERFLOW, "kind MLP on an RFNN image");
    put_u64(b8, 0); expect_bad(img, len, 24, b8, 8, RDG_ERR_FORMAT, "M = 0");
    put_u64(b8, 0); expect_bad(img, len, 32, b8, 8, RDG_ERR_FORMAT, "nfreq = 0");
    put_u64(b8, 9000); expect_bad(img, len, 16, b8, 8, RDG_ERR_OVERFLOW, "RFNN d over 4096");
    put_u64(b8, 1ULL << 62); expect_bad(img, len, 32, b8, 8, RDG_ERR_OVERFLOW, "nfreq 2^62");
    put_u64(b8, 4); expect_bad(img, len, 24, b8, 8, RDG_ERR_FORMAT, "M changed");
    put_f64(b8, NAN); expect_bad(img, len, 40, b8, 8, RDG_ERR_NONFINITE, "T NaN");
    put_f64(b8, -1); expect_bad(img, len, 40, b8, 8, RDG_ERR_FORMAT, "T negative");
    put_f64(b8, NAN); expect_bad(img, len, 56 + 8 * 20, b8, 8, RDG_ERR_NONFINITE, "NaN in A");
    for (k = 0; k < len; ++k) {
        rdg_status st = load_copy(img, k, &g);
        if (st != RDG_ERR_TRUNCATED || g.kind != 0 || g.rf.W) {
            if (ntrunc++ < 5) printf("  RFNN truncated at %zu: status %d\n", k, (int)st);
        }
        rdg_model_file_free(&g);
    }
    CHECK(ntrunc == 0, "%zu of %zu RFNN truncations not refused", ntrunc, len);
    /* saving refuses bad structs */
    f.rf.T = NAN; EXPECT(rdg_model_file_save_mem(&f, &buf2, &len2), RDG_ERR_NONFINITE);
    f.rf.T = 10; P[3] = INFINITY;
    EXPECT(rdg_model_file_save_mem(&f, &buf2, &len2), RDG_ERR_NONFINITE);
    CHECK(buf2 == NULL && len2 == 0, "failed save leaves a buffer");
    P[3] = 0; f.rf.A = NULL;
    EXPECT(rdg_model_file_save_mem(&f, &buf2, &len2), RDG_ERR_INVALID);
    rdg_free(buf);
    /* a network from rdg_rfnn_init: reloads to identical outputs, released by rdg_rfnn_free */
    {
        rdg_model m1, m2;
        double x[8] = { 0.1, -0.3, 2.0, 1.0, -1.5, 0.2, 0.0, 0.7 }, o1[8], o2[8];
        memset(&f, 0, sizeof f);
        f.kind = RDG_MODEL_RFNN;
        EXPECT(rdg_rfnn_init(&f.rf, 2, 50, 4, 10, 3), RDG_OK);
        EXPECT(rdg_model_file_save_mem(&f, &buf, &len), RDG_OK);
        EXPECT(rdg_model_file_load_mem(buf, len, &g), RDG_OK);
        EXPECT(rdg_model_file_model(&f, &m1), RDG_OK);
        EXPECT(rdg_model_file_model(&g, &m2), RDG_OK);
        CHECK(m2.kind == RDG_MODEL_RFNN && m2.d == 2, "RFNN model view");
        EXPECT(m1.eval(m1.self, 0.3, x, 4, o1), RDG_OK);
        EXPECT(m2.eval(m2.self, 0.3, x, 4, o2), RDG_OK);
        CHECK(memcmp(o1, o2, sizeof o1) == 0, "reloaded RFNN gives different outputs");
        put_u64(b8, (1ULL << 20) + 1);
        expect_bad((unsigned char *)buf, len, 24, b8, 8, RDG_ERR_OVERFLOW, "M over rdg_rfnn_init's cap");
        rdg_model_file_free(&g);
        rdg_model_file_free(&f);
        rdg_free(buf);
    }
}

/* ---- bad input ------------------------------------------------------------------------------ */
static rdg_real user_w(rdg_real t, void *u) { (void)u; return t; }
static rdg_real user_nan(rdg_real t, void *u) { (void)u; (void)t; return NAN; }

static void test_bad_input(void) {
    rdg_mlp net, z;
    rdg_model m;
    rdg_gmm g, g3;
    rdg_train_opts o;
    rdg_model_file f;
    size_t hid[3] = { 4, 0, 4 }, big[2] = { (size_t)1 << 20, (size_t)1 << 20 }, nine[9];
    double x[6] = { 1, 2, 3, 4, 5, 6 }, t[2] = { 0.1, 1 }, tg[6] = { 0 }, wt[2] = { 1, 1 }, l;
    static const double X3[6] = { 0, 0, 1, 0, 0, 1 };
    void *buf;
    size_t len, i;
    for (i = 0; i < 9; ++i) nine[i] = 2;
    memset(&z, 0, sizeof z);
    EXPECT(rdg_mlp_init(NULL, 2, 1, hid, 0, 0), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_init(&net, 0, 1, hid, 0, 0), RDG_ERR_INVALID);
    CHECK(net.params == NULL, "failed init leaves params");
    EXPECT(rdg_mlp_init(&net, 2, 0, hid, 0, 0), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_init(&net, 2, 1, NULL, 0, 0), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_init(&net, 2, 2, hid, 0, 0), RDG_ERR_INVALID);       /* hidden[1] = 0 */
    EXPECT(rdg_mlp_init(&net, 2, 1, hid, 3, 0), RDG_ERR_INVALID);       /* odd temb */
    EXPECT(rdg_mlp_init(&net, 5000, 1, hid, 0, 0), RDG_ERR_OVERFLOW);
    EXPECT(rdg_mlp_init(&net, 2, 1, hid, 5000, 0), RDG_ERR_OVERFLOW);
    EXPECT(rdg_mlp_init(&net, 2, 9, nine, 0, 0), RDG_ERR_OVERFLOW);
    EXPECT(rdg_mlp_init(&net, 2, 2, big, 0, 0), RDG_ERR_OVERFLOW);       /* 2^40 weights */
    rdg_mlp_free(&net); rdg_mlp_free(NULL); rdg_mlp_free(&z);
    rdg_mlp_zero_grad(NULL); rdg_mlp_zero_grad(&z);
    EXPECT(rdg_mlp_init(&net, 3, 1, hid, 0, 0), RDG_OK);
    CHECK(net.temb == 32, "temb default %zu", net.temb);
    rdg_mlp_free(&net);

    EXPECT(rdg_mlp_init(&net, 3, 1, hid, 2, 0), RDG_OK);
    EXPECT(rdg_mlp_loss_grad(NULL, x, t, tg, wt, 2, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_loss_grad(&z, x, t, tg, wt, 2, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_loss_grad(&net, NULL, t, tg, wt, 2, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_loss_grad(&net, x, NULL, tg, wt, 2, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_loss_grad(&net, x, t, NULL, wt, 2, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 0, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, SIZE_MAX / 2, &l), RDG_ERR_OVERFLOW);
    x[5] = NAN; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_NONFINITE); x[5] = 6;
    tg[0] = INFINITY; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_NONFINITE); tg[0] = 0;
    t[1] = NAN; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_NONFINITE);
    t[1] = 0; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_INVALID);
    t[1] = -1; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_INVALID); t[1] = 1;
    wt[0] = -1; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_INVALID);
    wt[0] = NAN; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_NONFINITE); wt[0] = 1;
    net.nparams++; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_INVALID); net.nparams--;
    net.nhidden = 9; EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, wt, 2, &l), RDG_ERR_INVALID); net.nhidden = 1;
    EXPECT(rdg_mlp_loss_grad(&net, x, t, tg, NULL, 2, NULL), RDG_OK);

    EXPECT(rdg_mlp_adam(NULL, 1e-3), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_adam(&net, 0), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_adam(&net, -1), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_adam(&net, NAN), RDG_ERR_INVALID);
    net.grads[1] = NAN; EXPECT(rdg_mlp_adam(&net, 1e-3), RDG_ERR_NONFINITE); net.grads[1] = 0;
    CHECK(net.adam_t == 0, "failed adam steps counted");
    EXPECT(rdg_mlp_adam(&net, 1e-3), RDG_OK);
    CHECK(net.adam_t == 1, "adam_t %ld", net.adam_t);

    EXPECT(rdg_mlp_model(&net, NULL), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_model(NULL, &m), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_model(&z, &m), RDG_ERR_INVALID);

    EXPECT(rdg_gmm_init(&g, TWO, 2, 2), RDG_OK);
    EXPECT(rdg_gmm_init(&g3, X3, 2, 3), RDG_OK);
    memset(&o, 0, sizeof o);
    o.steps = 3; o.batch = 4;
    EXPECT(rdg_mlp_train(NULL, &g, &o, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_train(&net, NULL, &o, &l), RDG_ERR_INVALID);
    EXPECT(rdg_mlp_train(&net, &g, &o, &l), RDG_ERR_SHAPE);             /* d 2 vs net d 3 */
    EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_OK);
    o.T = 1; o.t0 = 2; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID);
    o.T = NAN; o.t0 = 0; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID);
    o.T = 0; o.t0 = -1; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID); o.t0 = 0;
    o.lr = -1; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID);
    o.lr = INFINITY; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID); o.lr = 0;
    o.weight = RDG_WEIGHT_USER; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID);
    o.user_fn = user_w; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_OK);
    o.user_fn = user_nan; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_NONFINITE);
    o.weight = (rdg_weight)9; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID);
    o.weight = RDG_WEIGHT_ONE;
    g3.valid = 0; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_INVALID);
    {   /* a net with NaN parameters cannot be trained */
        double p = net.params[0];
        EXPECT(rdg_gmm_init(&g3, X3, 2, 3), RDG_OK);
        net.params[0] = NAN; EXPECT(rdg_mlp_train(&net, &g3, &o, &l), RDG_ERR_NONFINITE);
        net.params[0] = p;
    }

    memset(&f, 0, sizeof f);
    EXPECT(rdg_model_file_save_mem(NULL, &buf, &len), RDG_ERR_INVALID);
    EXPECT(rdg_model_file_save_mem(&f, &buf, &len), RDG_ERR_INVALID);   /* kind 0 */
    f.kind = RDG_MODEL_MLP;
    EXPECT(rdg_model_file_save_mem(&f, &buf, &len), RDG_ERR_INVALID);   /* empty net */
    f.mlp = net;
    EXPECT(rdg_model_file_save_mem(&f, NULL, &len), RDG_ERR_INVALID);
    EXPECT(rdg_model_file_save_mem(&f, &buf, NULL), RDG_ERR_INVALID);
    net.params[2] = NAN; f.mlp = net;
    EXPECT(rdg_model_file_save_mem(&f, &buf, &len), RDG_ERR_NONFINITE);
    net.params[2] = 0;
    EXPECT(rdg_model_file_load_mem(NULL, 10, &f), RDG_ERR_INVALID);
    CHECK(f.kind == 0 && f.mlp.params == NULL, "failed load leaves *f set");
    EXPECT(rdg_model_file_load_mem(x, 10, NULL), RDG_ERR_INVALID);
    EXPECT(rdg_model_file_model(&f, &m), RDG_ERR_INVALID);              /* empty file struct */
    EXPECT(rdg_model_file_model(NULL, &m), RDG_ERR_INVALID);
    EXPECT(rdg_model_file_model(&f, NULL), RDG_ERR_INVALID);
    rdg_model_file_free(&f); rdg_model_file_free(NULL);
#ifndef RDG_NO_STDIO
    EXPECT(rdg_model_file_save(NULL, &f), RDG_ERR_INVALID);
    EXPECT(rdg_model_file_load(NULL, &f), RDG_ERR_INVALID);
    EXPECT(rdg_model_file_load("x", NULL), RDG_ERR_INVALID);
#endif
    rdg_mlp_free(&net);
}

int main(void) {
    test_gradcheck(7, 1);
    test_gradcheck(70, 0);     /* three chunks, the last one partial */
    test_model_view();
    test_train();
    test_reproducible();
    test_files_mlp();
    test_files_rfnn();
    test_bad_input();
    RDG_TEST_END("test_mlp");
}
