/* tools/experiments.h - the paper's experiments as functions, shared by `ridgediff demo`,
   `ridgediff analyze` and the examples. Not part of the library: it uses ridgediff.h's public
   API and tools/plot.h for pictures. Every function returns rdg_status and writes its tables
   to a FILE* (and, where it says so, pictures into a directory).

   Include after ridgediff.h (with its implementation, and RIDGEDIFF_STB_IMAGE for MNIST). */
#ifndef RIDGEDIFF_TOOLS_EXPERIMENTS_H
#define RIDGEDIFF_TOOLS_EXPERIMENTS_H

#include "plot.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RDX_FN static __attribute__((unused))
#else
#  define RDX_FN static
#endif

RDX_FN double rdx_now(void) {
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

/* "dir/name" into buf (cap bytes); 0 when it does not fit. */
RDX_FN int rdx_path(char *buf, size_t cap, const char *dir, const char *name) {
    int n = snprintf(buf, cap, "%s/%s", dir ? dir : ".", name);
    return n > 0 && (size_t)n < cap;
}

/* The paper's stability table (Appendix J.5) with the directional errors, one row per
   checkpoint. Means over no sample print as "-". */
RDX_FN void rdx_print_table(FILE *f, const rdg_stab_row *rows, size_t C, size_t n) {
    size_t c;
    fprintf(f, "%6s %9s %10s %8s %8s %11s %10s %8s %10s %10s %6s %6s\n", "step", "t", "mean_dist",
            "reliable", "curv_ok", "mean_resid", "mean_gap", "failures", "normal_err", "tangent_err",
            "tube", "memo");
    for (c = 0; c < C; ++c) {
        const rdg_stab_row *r = &rows[c];
        char md[32], ne[32], te[32];
        if (r->reliable) snprintf(md, sizeof md, "%.4g", (double)r->mean_dist); else strcpy(md, "-");
        if (r->reliable) snprintf(ne, sizeof ne, "%.4g", (double)r->normal_err); else strcpy(ne, "-");
        if (r->dominant) snprintf(te, sizeof te, "%.4g", (double)r->tangent_err); else strcpy(te, "-");
        fprintf(f, "%6lu %9.4g %10s %5lu/%-3lu %8lu %11.4g %10.3g %8lu %10s %10s %6lu %6lu\n",
                (unsigned long)r->step, (double)r->t, md, (unsigned long)r->reliable, (unsigned long)n,
                (unsigned long)r->curv_ok, (double)r->mean_resid0, (double)r->mean_gap,
                (unsigned long)r->failures, ne, te, (unsigned long)r->in_tube, (unsigned long)r->memorised);
    }
}

/* CSV of the same table (header line + one row per checkpoint). */
RDX_FN void rdx_table_csv(FILE *f, const rdg_stab_row *rows, size_t C) {
    size_t c;
    fprintf(f, "step,t,mean_dist,reliable,curv_ok,mean_resid,mean_gap,failures,normal_err,tangent_err,dominant,in_tube,memorised\n");
    for (c = 0; c < C; ++c) {
        const rdg_stab_row *r = &rows[c];
        fprintf(f, "%lu,%.17g,%.17g,%lu,%lu,%.17g,%.17g,%lu,%.17g,%.17g,%lu,%lu,%lu\n", (unsigned long)r->step,
                (double)r->t, (double)r->mean_dist, (unsigned long)r->reliable, (unsigned long)r->curv_ok,
                (double)r->mean_resid0, (double)r->mean_gap, (unsigned long)r->failures,
                (double)r->normal_err, (double)r->tangent_err, (unsigned long)r->dominant,
                (unsigned long)r->in_tube, (unsigned long)r->memorised);
    }
}

/* Line plot of a table column against the step (one series per table). */
RDX_FN rdg_status rdx_plot_column(const char *path, const char *title, const char *ylabel,
                                  const rdg_stab_row *const *tables, const char *const *names,
                                  size_t ntab, size_t C, int column, int ylog) {
    rdp_plot *p = NULL;
    rdg_real *x = NULL, *y = NULL;
    rdg_status st;
    size_t k, c;
    x = (rdg_real *)malloc(C * sizeof(rdg_real));
    y = (rdg_real *)malloc(C * sizeof(rdg_real));
    if (!x || !y) { free(x); free(y); return RDG_ERR_NOMEM; }
    st = rdp_plot_new(&p, 640, 420);
    if (st == RDG_OK) st = rdp_plot_set_labels(p, title, "sampler step", ylabel);
    if (st == RDG_OK) st = rdp_plot_set_axes(p, 0, ylog, 0);
    for (k = 0; k < ntab && st == RDG_OK; ++k) {
        rdp_style s;
        memset(&s, 0, sizeof s);
        s.label = names[k];
        s.marker_size = 2.5; s.rgb = -1;
        for (c = 0; c < C; ++c) {
            const rdg_stab_row *r = &tables[k][c];
            double v = column == 0 ? (double)r->mean_dist : column == 1 ? (double)r->normal_err : (double)r->tangent_err;
            int ok = column == 2 ? r->dominant > 0 : r->reliable > 0;
            x[c] = (rdg_real)r->step;
            y[c] = ok && (!ylog || v > 0) ? (rdg_real)v : (rdg_real)NAN;
        }
        st = rdp_plot_add_series(p, x, y, C, &s);
    }
    if (st == RDG_OK) st = rdp_plot_save_svg(p, path);
    rdp_plot_free(p);
    free(x); free(y);
    return st;
}

/* ---------------------------------------------------------------------------------------------
   2-D ridges and samples (paper Figures 3, 9-17): an RFNN trained on the data by the closed
   form of gradient descent, sampled by the reverse SDE; the picture shows log p_t and the
   ridge at t_pic under the trajectories and the final samples. */
typedef struct rdx_opts {
    size_t width;           /* RFNN width (2000 in the paper)                   */
    size_t gd_steps;        /* 100000                                           */
    size_t ntraj;           /* trajectories                                     */
    size_t K;               /* sampler steps (1000)                             */
    size_t ndraw;           /* noise draws per point and quadrature node        */
    unsigned long long seed;
    int quick;              /* smaller settings for tests                       */
} rdx_opts;

RDX_FN void rdx_opts_default(rdx_opts *o, int quick) {
    memset(o, 0, sizeof *o);
    o->width = quick ? 300 : 1000;
    o->gd_steps = 100000;
    o->ntraj = quick ? 100 : 400;
    o->K = 1000;
    o->ndraw = quick ? 1 : 2;
    o->seed = 1;
    o->quick = quick;
}

/* Samples of an RFNN trained on X (N x 2) with weight w; traj (C x n x 2) allocated. */
RDX_FN rdg_status rdx_rfnn_samples(const rdg_gmm *g, rdg_weight w, const rdx_opts *o, size_t every,
                                   rdg_real **traj, rdg_real **times, size_t *C) {
    rdg_rfnn rf;
    rdg_dmm_opts dq;
    rdg_rf_quad q;
    rdg_model m;
    rdg_sample_opts so;
    rdg_real *A0 = NULL, *out = NULL;
    rdg_status st;
    size_t d = g->d;
    *traj = NULL; *times = NULL;
    memset(&q, 0, sizeof q);
    memset(&rf, 0, sizeof rf);
    memset(&dq, 0, sizeof dq);
    dq.weight = w; dq.ndraw = o->ndraw; dq.seed = o->seed; dq.pm_target = 1;
    st = rdg_rfnn_init(&rf, d, o->width, 128, 10, o->seed);
    if (st == RDG_OK) st = rdg_rf_quad_build(&rf, g, &dq, &q);
    if (st == RDG_OK) {
        A0 = (rdg_real *)malloc(d * o->width * sizeof(rdg_real));
        if (!A0) st = RDG_ERR_NOMEM;
        else {
            memcpy(A0, rf.A, d * o->width * sizeof(rdg_real));
            st = rdg_rf_closed_form(&q, A0, (rdg_real)0.004, o->gd_steps, rf.A);
        }
    }
    if (st == RDG_OK) st = rdg_rfnn_model(&rf, &m);
    if (st == RDG_OK) {
        memset(&so, 0, sizeof so);
        so.K = o->K; so.every = every; so.seed = o->seed + 11;
        *C = rdg_sample_ncheck(so.K, so.every);
        out = (rdg_real *)malloc(o->ntraj * d * sizeof(rdg_real));
        *traj = (rdg_real *)malloc(*C * o->ntraj * d * sizeof(rdg_real));
        *times = (rdg_real *)malloc(*C * sizeof(rdg_real));
        if (!out || !*traj || !*times) st = RDG_ERR_NOMEM;
        else st = rdg_sample(&m, o->ntraj, &so, out, *traj, *times);
    }
    free(out); free(A0);
    rdg_rf_quad_free(&q);
    rdg_rfnn_free(&rf);
    if (st != RDG_OK) { free(*traj); free(*times); *traj = NULL; *times = NULL; }
    return st;
}

/* The 2-D figure: log p_t field at t_pic, ridge traced at t_pic, ntr trajectories coloured by
   time, final samples, data. */
RDX_FN rdg_status rdx_figure_2d(const char *path, const char *title, const rdg_gmm *g, rdg_real t_pic,
                                const rdg_real *traj, const rdg_real *times, size_t C, size_t n,
                                size_t ntr, rdg_real lo_x, rdg_real hi_x, rdg_real lo_y, rdg_real hi_y,
                                size_t *nridge) {
    enum { NX = 120, NY = 90 };
    rdp_plot *p = NULL;
    rdg_real *grid = NULL, *logp = NULL, *ridge = NULL, *xy = NULL, *tv = NULL, *fin = NULL;
    rdg_density_out dout;
    rdg_project_opts po;
    rdg_status st;
    size_t i, j, c, c0, nr = 0;
    rdg_real vmax = -1e300, vmin;
    grid = (rdg_real *)malloc(NX * NY * 2 * sizeof(rdg_real));
    logp = (rdg_real *)malloc(NX * NY * sizeof(rdg_real));
    xy = (rdg_real *)malloc(C * 2 * sizeof(rdg_real));
    tv = (rdg_real *)malloc(C * sizeof(rdg_real));
    fin = (rdg_real *)malloc(n * 2 * sizeof(rdg_real));
    if (!grid || !logp || !xy || !tv || !fin) { st = RDG_ERR_NOMEM; goto done; }
    for (j = 0; j < NY; ++j) for (i = 0; i < NX; ++i) {
        grid[2 * (j * NX + i)] = lo_x + (hi_x - lo_x) * ((rdg_real)i + (rdg_real)0.5) / NX;
        grid[2 * (j * NX + i) + 1] = lo_y + (hi_y - lo_y) * ((rdg_real)j + (rdg_real)0.5) / NY;
    }
    memset(&dout, 0, sizeof dout);
    dout.logp = logp;
    st = rdg_density_eval(g, t_pic, grid, NX * NY, &dout);
    if (st != RDG_OK) goto done;
    for (i = 0; i < NX * NY; ++i) if (logp[i] > vmax) vmax = logp[i];
    vmin = vmax - 12;
    for (i = 0; i < NX * NY; ++i) if (logp[i] < vmin) logp[i] = vmin;
    memset(&po, 0, sizeof po);
    po.dstar = 1;
    st = rdg_ridge_trace(g, t_pic, grid, NX * NY, &po, 0, &ridge, &nr);
    if (st != RDG_OK) goto done;
    if (nridge) *nridge = nr;
    st = rdp_plot_new(&p, 720, 560);
    if (st == RDG_OK) st = rdp_plot_set_labels(p, title, "x_1", "x_2");
    if (st == RDG_OK) st = rdp_plot_set_bounds(p, lo_x, hi_x, lo_y, hi_y);
    if (st == RDG_OK) st = rdp_plot_set_axes(p, 0, 0, 1);
    if (st == RDG_OK) st = rdp_plot_add_field(p, logp, NX, NY, lo_x, hi_x, lo_y, hi_y, vmin, vmax,
                                              RDP_CMAP_VIRIDIS, "log p_t");
    /* trajectories from t = 1 on: before that they are prior noise and hide the picture */
    for (c0 = 0; c0 + 1 < C && times[c0] > 1; ++c0) {}
    for (i = 0; i < ntr && i < n && st == RDG_OK; ++i) {
        for (c = c0; c < C; ++c) {
            xy[2 * (c - c0)] = traj[(c * n + i) * 2];
            xy[2 * (c - c0) + 1] = traj[(c * n + i) * 2 + 1];
            tv[c - c0] = times[c];
        }
        st = rdp_plot_add_polyline_colored(p, xy, C - c0, tv, times[C - 1], times[c0], 1, RDP_CMAP_PLASMA, 0.8,
                                           i == 0 ? "t" : NULL);
    }
    if (st == RDG_OK && nr) {
        rdp_style s;
        memset(&s, 0, sizeof s);
        s.rgb = 0xE41A1C; s.size = 1.6; s.label = "ridge";
        st = rdp_plot_add_points(p, ridge, nr, &s);
    }
    if (st == RDG_OK) {
        rdp_style s;
        memset(&s, 0, sizeof s);
        for (i = 0; i < n; ++i) { fin[2 * i] = traj[((C - 1) * n + i) * 2]; fin[2 * i + 1] = traj[((C - 1) * n + i) * 2 + 1]; }
        s.rgb = 0xFFFFFF; s.size = 2.2; s.label = "samples";
        st = rdp_plot_add_points(p, fin, n, &s);
    }
    if (st == RDG_OK) {
        rdp_style s;
        memset(&s, 0, sizeof s);
        s.rgb = 0x000000; s.size = 5; s.edge = RDP_EDGE_WHITE; s.label = "data";
        st = rdp_plot_add_points(p, g->x, g->n, &s);
    }
    if (st == RDG_OK) st = rdp_plot_save_svg(p, path);
done:
    rdp_plot_free(p);
    rdg_free(ridge);
    free(grid); free(logp); free(xy); free(tv); free(fin);
    return st;
}

typedef struct rdx_set2d {
    const char *name, *title;
    size_t n;
    rdg_real x[10];
} rdx_set2d;

/* The 2-D data sets of the paper's Figures 3 and 9-17 (coordinates: MATH.md 6 and our choices
   where the paper's were lost in its text; see EXPERIMENTS.md). */
static const rdx_set2d rdx_sets2d[] = {
    { "two_points", "two points (+-3, 0)", 2, { -3, 0, 3, 0 } },
    { "three_points", "three points (0,0), (5,0), (0,5)", 3, { 0, 0, 5, 0, 0, 5 } },
    { "four_symmetric", "four points, symmetric square", 4, { -3, -3, 3, -3, 3, 3, -3, 3 } },
    { "four_unsymmetric", "four points, unsymmetric", 4, { -4, -1, 2, -3, 3, 2, -1, 3 } },
    { "four_triangle", "triangle with a point inside", 4, { -4, -2.5, 4, -2.5, 0, 4, 0, -0.3 } }
};
#define RDX_NSETS2D (sizeof rdx_sets2d / sizeof rdx_sets2d[0])

/* Runs every 2-D set: ridge + samples picture (dir/<name>.svg) and a line of numbers each. */
RDX_FN rdg_status rdx_ridges_2d(FILE *f, const char *dir, const rdx_opts *o) {
    size_t k;
    fprintf(f, "2-D ridges and samples: RFNN width %lu, %lu GD steps (closed form), %lu trajectories x %lu steps\n",
            (unsigned long)o->width, (unsigned long)o->gd_steps, (unsigned long)o->ntraj, (unsigned long)o->K);
    fprintf(f, "%-18s %8s %10s %12s %14s %9s\n", "data", "ridge@.1", "memorised", "on-ridge", "mean dist(.1)", "seconds");
    for (k = 0; k < RDX_NSETS2D; ++k) {
        const rdx_set2d *s = &rdx_sets2d[k];
        rdg_gmm g;
        rdg_real *traj = NULL, *times = NULL, lo_x = 1e300, hi_x = -1e300, lo_y = 1e300, hi_y = -1e300;
        rdg_sample_diag *sd = NULL;
        rdg_diag_opts dopt;
        size_t C = 0, i, nr = 0, mem = 0, onr = 0, nrel = 0;
        double t0 = rdx_now(), md = 0;
        char path[1024];
        rdg_status st = rdg_gmm_init(&g, s->x, s->n, 2);
        if (st == RDG_OK) st = rdx_rfnn_samples(&g, RDG_WEIGHT_ONE, o, o->K / 50 ? o->K / 50 : 1, &traj, &times, &C);
        for (i = 0; i < s->n; ++i) {
            if (s->x[2 * i] < lo_x) lo_x = s->x[2 * i];
            if (s->x[2 * i] > hi_x) hi_x = s->x[2 * i];
            if (s->x[2 * i + 1] < lo_y) lo_y = s->x[2 * i + 1];
            if (s->x[2 * i + 1] > hi_y) hi_y = s->x[2 * i + 1];
        }
        lo_x -= 2; hi_x += 2; lo_y -= 2; hi_y += 2;
        if (st == RDG_OK && !rdx_path(path, sizeof path, dir, s->name)) st = RDG_ERR_INVALID;
        if (st == RDG_OK) {
            strncat(path, ".svg", sizeof path - strlen(path) - 1);
            st = rdx_figure_2d(path, s->title, &g, (rdg_real)0.1, traj, times, C, o->ntraj, 40,
                               lo_x, hi_x, lo_y, hi_y, &nr);
        }
        if (st == RDG_OK) {   /* the final samples, judged at t = 0.1 where the ridge is defined */
            sd = (rdg_sample_diag *)malloc(o->ntraj * sizeof *sd);
            memset(&dopt, 0, sizeof dopt);
            dopt.proj.dstar = 1;
            if (!sd) st = RDG_ERR_NOMEM;
            else st = rdg_diag_samples(&g, (rdg_real)0.1, traj + (C - 1) * o->ntraj * 2, o->ntraj, &dopt, sd, NULL);
        }
        if (st == RDG_OK) for (i = 0; i < o->ntraj; ++i) {
            mem += sd[i].memorised;
            onr += sd[i].kind == RDG_KIND_ON_RIDGE;
            if (sd[i].proj.reliable) { md += (double)sd[i].proj.distance; ++nrel; }
        }
        if (st != RDG_OK) { free(sd); free(traj); free(times); return st; }
        fprintf(f, "%-18s %8lu %9.1f%% %11.1f%% %14.3g %9.1f\n", s->name, (unsigned long)nr,
                100.0 * (double)mem / (double)o->ntraj, 100.0 * (double)onr / (double)o->ntraj,
                nrel ? md / (double)nrel : -1.0, rdx_now() - t0);
        fflush(f);
        free(sd); free(traj); free(times);
    }
    return RDG_OK;
}

#ifdef RIDGEDIFF_STB_IMAGE
/* ---------------------------------------------------------------------------------------------
   MNIST 4 vs 8 in a 32-dimensional PCA latent (paper Section 5.3, Figures 5-6, Appendix J.5):
   a latent MLP (256, 256) trained on the DMM loss, ntraj trajectories of K steps, the stability
   table every K/10 steps for several d*, a grid of decoded samples and a 2-D view of the
   trajectories (PCA of the latent). */
typedef struct rdx_mnist_opts {
    const char *datadir;       /* holding mnist/fours.png, mnist/eights.png            */
    size_t latent;             /* 32                                                   */
    size_t train_steps;        /* MLP Adam steps                                       */
    size_t ntraj, K;           /* 200, 1000                                            */
    size_t dstars[4], ndstar;  /* ridge dimensions for the tables                      */
    double nn_target;          /* median nearest-neighbour distance of the latent (0.6) */
    unsigned long long seed;
} rdx_mnist_opts;

RDX_FN void rdx_mnist_default(rdx_mnist_opts *o, int quick) {
    memset(o, 0, sizeof *o);
    o->datadir = "data";
    o->latent = 32;
    o->train_steps = quick ? 300 : 6000;
    o->ntraj = quick ? 24 : 200;
    o->K = 1000;
    o->dstars[0] = 25; o->dstars[1] = 16; o->dstars[2] = 8; o->dstars[3] = 1;
    o->ndstar = quick ? 1 : 4;
    o->seed = 3;
    o->nn_target = 0.6;
}

/* Median distance from a point to its nearest other point (O(n^2 d)). */
RDX_FN double rdx_median_nn(const rdg_real *Z, size_t n, size_t k) {
    double *nn = (double *)malloc(n * sizeof(double)), med;
    size_t i, j, l;
    if (!nn || n < 2) { free(nn); return 0; }
    for (i = 0; i < n; ++i) {
        double best = 1e300;
        for (j = 0; j < n; ++j) {
            double s = 0;
            if (j == i) continue;
            for (l = 0; l < k; ++l) { double q = (double)(Z[i * k + l] - Z[j * k + l]); s += q * q; }
            if (s < best) best = s;
        }
        nn[i] = sqrt(best);
    }
    for (i = 1; i < n; ++i) {          /* insertion sort: n ~ 2000, once */
        double v = nn[i];
        for (j = i; j > 0 && nn[j - 1] > v; --j) nn[j] = nn[j - 1];
        nn[j] = v;
    }
    med = nn[n / 2];
    free(nn);
    return med;
}

static void rdx__progress(size_t step, rdg_real loss, void *user) {
    FILE *f = (FILE *)user;
    fprintf(f, "  mlp step %6lu  loss %.5g\n", (unsigned long)step, (double)loss);
    fflush(f);
}

RDX_FN rdg_status rdx_mnist(FILE *f, FILE *progress, const char *outdir, const rdx_mnist_opts *o,
                            rdg_stab_row *tables /* ndstar x 11 */, size_t *Cout) {
    rdg_array fours, eights;
    rdg_real *X = NULL, *Z = NULL, *out = NULL, *traj = NULL, *times = NULL, *dec = NULL, *view = NULL;
    rdg_pca pca, pca2;
    rdg_gmm g;
    rdg_mlp net;
    rdg_model m;
    rdg_train_opts to;
    rdg_sample_opts so;
    rdg_status st;
    size_t n4, n8, n, D = 784, k = o->latent, C = 0, i, every = o->K / 10 ? o->K / 10 : 1;
    size_t hidden[2] = { 256, 256 }, steps[64];
    size_t c;
    char path[1024];
    double t0 = rdx_now(), tt;
    rdg_real loss = 0;
    double scale, mednn;
    memset(&fours, 0, sizeof fours); memset(&eights, 0, sizeof eights);
    memset(&pca, 0, sizeof pca); memset(&pca2, 0, sizeof pca2); memset(&net, 0, sizeof net);
    if (!rdx_path(path, sizeof path, o->datadir, "mnist/fours.png")) return RDG_ERR_INVALID;
    st = rdg_png_sheet_read(path, 28, 28, 0, &fours);
    if (st == RDG_OK && rdx_path(path, sizeof path, o->datadir, "mnist/eights.png"))
        st = rdg_png_sheet_read(path, 28, 28, 0, &eights);
    if (st != RDG_OK) goto done;
    n4 = fours.shape[0]; n8 = eights.shape[0]; n = n4 + n8;
    X = (rdg_real *)malloc(n * D * sizeof(rdg_real));
    Z = (rdg_real *)malloc(n * k * sizeof(rdg_real));
    if (!X || !Z) { st = RDG_ERR_NOMEM; goto done; }
    memcpy(X, fours.data, n4 * D * sizeof(rdg_real));
    memcpy(X + n4 * D, eights.data, n8 * D * sizeof(rdg_real));
    st = rdg_pca_fit(X, n, D, k, RDG_PCA_SCALE_UNIT_MEAN, &pca);
    if (st == RDG_OK) st = rdg_pca_encode(&pca, X, n, Z);
    if (st != RDG_OK) goto done;
    /* Latent scale (MATH.md 5): at unit mean variance the median nearest-neighbour distance is
       about 3, so below t ~ 0.1 every sample sees one dominant centre and the ridge frame
       underflows (s_t^2 gap < 1e-8). Shrinking the latent so that the median nearest-neighbour
       distance is o->nn_target (0.6 = 6 s_t0) keeps the frame resolved down to t0. */
    mednn = rdx_median_nn(Z, n, k);
    scale = mednn > 0 ? o->nn_target / mednn : 1;
    for (i = 0; i < n * k; ++i) Z[i] *= (rdg_real)scale;
    for (i = 0; i < k; ++i) pca.scale[i] *= (rdg_real)scale;   /* decode() undoes it */
    st = rdg_gmm_init(&g, Z, n, k);
    if (st != RDG_OK) goto done;
    fprintf(f, "MNIST 4 vs 8: %lu fours + %lu eights, PCA to %lu dims (%.1f%% of the variance); latent at unit mean\n"
               "variance, then x %.3f so that the median nearest-neighbour distance is %.2f (MATH.md 5)\n",
            (unsigned long)n4, (unsigned long)n8, (unsigned long)k, 100.0 * (double)pca.explained, scale, o->nn_target);
    /* latent MLP */
    tt = rdx_now();
    st = rdg_mlp_init(&net, k, 2, hidden, 0, o->seed);
    if (st != RDG_OK) goto done;
    memset(&to, 0, sizeof to);
    to.steps = o->train_steps; to.seed = o->seed; to.lr = (rdg_real)1e-3;
    to.progress = progress ? rdx__progress : NULL; to.progress_user = progress;
    st = rdg_mlp_train(&net, &g, &to, &loss);
    if (st != RDG_OK) goto done;
    fprintf(f, "latent MLP (256, 256): %lu Adam steps, final minibatch loss %.4g, %.1f s\n",
            (unsigned long)o->train_steps, (double)loss, rdx_now() - tt);
    /* sampling */
    tt = rdx_now();
    st = rdg_mlp_model(&net, &m);
    if (st != RDG_OK) goto done;
    memset(&so, 0, sizeof so);
    so.K = o->K; so.every = every; so.seed = o->seed + 1;
    C = rdg_sample_ncheck(so.K, so.every);
    if (C > 64) { st = RDG_ERR_INVALID; goto done; }
    out = (rdg_real *)malloc(o->ntraj * k * sizeof(rdg_real));
    traj = (rdg_real *)malloc(C * o->ntraj * k * sizeof(rdg_real));
    times = (rdg_real *)malloc(C * sizeof(rdg_real));
    if (!out || !traj || !times) { st = RDG_ERR_NOMEM; goto done; }
    st = rdg_sample(&m, o->ntraj, &so, out, traj, times);
    if (st != RDG_OK) goto done;
    fprintf(f, "sampling: %lu trajectories x %lu steps in %.1f s\n", (unsigned long)o->ntraj,
            (unsigned long)o->K, rdx_now() - tt);
    for (c = 0; c < C; ++c) steps[c] = c * every < o->K ? c * every : o->K;
    /* stability tables */
    for (i = 0; i < o->ndstar; ++i) {
        rdg_diag_opts dopt;
        memset(&dopt, 0, sizeof dopt);
        dopt.proj.dstar = o->dstars[i];
        tt = rdx_now();
        st = rdg_diag_table(&g, traj, C, o->ntraj, times, steps, &dopt, tables + i * C, NULL, NULL);
        if (st != RDG_OK) goto done;
        fprintf(f, "\nstability table, d* = %lu (%.1f s)\n", (unsigned long)o->dstars[i], rdx_now() - tt);
        rdx_print_table(f, tables + i * C, C, o->ntraj);
        fflush(f);
    }
    if (Cout) *Cout = C;
    /* pictures: decoded samples, and a 2-D view of the latent trajectories */
    if (outdir) {
        size_t nshow = o->ntraj < 100 ? o->ntraj : 100;
        dec = (rdg_real *)malloc(nshow * D * sizeof(rdg_real));
        if (!dec) { st = RDG_ERR_NOMEM; goto done; }
        st = rdg_pca_decode(&pca, out, nshow, dec);
        if (st == RDG_OK && rdx_path(path, sizeof path, outdir, "mnist_samples.png"))
            st = rdp_png_grid(path, dec, nshow, 28, 28, 10, 1, 2);
        if (st == RDG_OK) st = rdg_pca_fit(Z, n, k, 2, RDG_PCA_SCALE_NONE, &pca2);
        if (st == RDG_OK) {
            size_t ntr = o->ntraj < 30 ? o->ntraj : 30, j;
            rdp_plot *p = NULL;
            rdg_real *xy = (rdg_real *)malloc(C * 2 * sizeof(rdg_real)), *tv = (rdg_real *)malloc(C * sizeof(rdg_real));
            rdg_real *dv = (rdg_real *)malloc(n * 2 * sizeof(rdg_real));
            rdp_style s;
            if (!xy || !tv || !dv) st = RDG_ERR_NOMEM;
            if (st == RDG_OK) st = rdg_pca_encode(&pca2, Z, n, dv);
            if (st == RDG_OK) st = rdp_plot_new(&p, 720, 560);
            if (st == RDG_OK) st = rdp_plot_set_labels(p, "MNIST 4 vs 8: latent trajectories (2-D PCA view)", "pc 1", "pc 2");
            if (st == RDG_OK) {
                memset(&s, 0, sizeof s);
                s.rgb = 0x999999; s.size = 1.5; s.label = "training latents";
                st = rdp_plot_add_points(p, dv, n, &s);
            }
            for (j = 0; j < ntr && st == RDG_OK; ++j) {
                for (c = 0; c < C && st == RDG_OK; ++c) {
                    st = rdg_pca_encode(&pca2, traj + (c * o->ntraj + j) * k, 1, xy + 2 * c);
                    tv[c] = times[c];
                }
                if (st == RDG_OK)
                    st = rdp_plot_add_polyline_colored(p, xy, C, tv, times[C - 1], times[0], 1, RDP_CMAP_PLASMA,
                                                       1.0, j == 0 ? "t" : NULL);
            }
            if (st == RDG_OK && rdx_path(path, sizeof path, outdir, "mnist_trajectories.svg")) st = rdp_plot_save_svg(p, path);
            rdp_plot_free(p);
            free(xy); free(tv); free(dv);
        }
    }
    fprintf(f, "MNIST experiment: %.1f s in all\n", rdx_now() - t0);
done:
    rdg_array_free(&fours); rdg_array_free(&eights);
    rdg_pca_free(&pca); rdg_pca_free(&pca2);
    rdg_mlp_free(&net);
    free(X); free(Z); free(out); free(traj); free(times); free(dec); free(view);
    return st;
}
#endif /* RIDGEDIFF_STB_IMAGE */

#endif /* RIDGEDIFF_TOOLS_EXPERIMENTS_H */
