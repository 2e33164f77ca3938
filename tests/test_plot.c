/* Tests for tools/plot.h (pictures for the tools, not part of the library): a scatter figure
   of the two-point ridge (log-density heatmap, data, traced ridge, spiral trajectories coloured
   by t), a line plot with a log y axis, a PNG image grid read back with stb_image, and an
   XHTML report. Every written file is checked to exist, be non-empty, be well-formed XML
   (a small checker here; tests/svg_check.sh runs xmllint on them too) and hold no "nan"/"inf".
   The files go to a temporary directory that is removed at the end, or to $RDG_PLOT_OUT (kept,
   e.g. RDG_PLOT_OUT=build/plots ./build/test_plot && sh tests/svg_check.sh build/plots/x.svg ...).
   Toolchains without stb (musl, cross, mingw: __has_include fails) test plot.h's own
   uncompressed PNG writer and skip the decoding checks; on Windows the files go to ".". */
#define _POSIX_C_SOURCE 200809L
#include "../tools/plot.h"
#include "rdg_test.h"
#if defined(__has_include)
#  if __has_include(<stb/stb_image.h>)
#    define HAVE_STB_IMAGE 1
#  endif
#elif !defined(RDP_NO_STB)
#  define HAVE_STB_IMAGE 1
#endif
#ifdef HAVE_STB_IMAGE
#  define STB_IMAGE_IMPLEMENTATION
#  define STBI_NO_SIMD
#  include <stb/stb_image.h>
#endif
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#  include <sys/stat.h>
#  include <unistd.h>
#endif

#define PI 3.14159265358979323846

/* ---- helpers --------------------------------------------------------------------------- */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    long n;
    *len = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        s = (char *)malloc((size_t)n + 1);
        if (s && fread(s, 1, (size_t)n, f) == (size_t)n) { s[n] = 0; *len = (size_t)n; }
        else { free(s); s = NULL; }
    }
    fclose(f);
    return s;
}

/* A minimal XML well-formedness check: balanced, correctly nested tags, quoted attributes
   without '<', only the five predefined entities or numeric references, comments / PIs /
   DOCTYPE skipped. Returns NULL when fine, else a description. */
static const char *xml_check(const char *s) {
    static char msg[160];
    char stack[64][48];
    const char *open_tag;
    int depth = 0, roots = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            const char *e = strchr(p, ';');
            if (!e || e - p > 10) return "bad entity";
            if (!(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 || strncmp(p, "&gt;", 4) == 0 ||
                  strncmp(p, "&quot;", 6) == 0 || strncmp(p, "&apos;", 6) == 0 || p[1] == '#'))
                return "unknown entity";
            p = e + 1;
            continue;
        }
        if (*p == '>') return "stray '>' in text is legal XML but not expected here";
        if (*p != '<') { p++; continue; }
        if (strncmp(p, "<?", 2) == 0) { p = strstr(p, "?>"); if (!p) return "open PI"; p += 2; continue; }
        if (strncmp(p, "<!--", 4) == 0) { p = strstr(p, "-->"); if (!p) return "open comment"; p += 3; continue; }
        if (strncmp(p, "<!", 2) == 0) { p = strchr(p, '>'); if (!p) return "open DOCTYPE"; p++; continue; }
        if (p[1] == '/') {
            const char *e = p + 2;
            size_t n;
            while (*e && (isalnum((unsigned char)*e) || *e == ':' || *e == '-' || *e == '_')) e++;
            n = (size_t)(e - p - 2);
            if (*e != '>') return "bad end tag";
            if (depth == 0) return "end tag without start";
            depth--;
            if (strlen(stack[depth]) != n || strncmp(stack[depth], p + 2, n) != 0) {
                open_tag = stack[depth];
                snprintf(msg, sizeof msg, "end tag </%.*s> closes <%.40s>", (int)(n > 40 ? 40 : n), p + 2, open_tag);
                return msg;
            }
            p = e + 1;
            continue;
        } else {
            const char *e = p + 1;
            size_t n;
            while (*e && (isalnum((unsigned char)*e) || *e == ':' || *e == '-' || *e == '_')) e++;
            n = (size_t)(e - p - 1);
            if (n == 0 || n >= 48) return "bad tag name";
            for (;;) {                                       /* attributes */
                while (*e == ' ' || *e == '\n' || *e == '\t' || *e == '\r') e++;
                if (*e == '>' || (e[0] == '/' && e[1] == '>')) break;
                if (!isalpha((unsigned char)*e)) return "bad attribute";
                while (*e && *e != '=' && *e != '>' && *e != ' ') e++;
                if (*e != '=' || (e[1] != '"' && e[1] != '\'')) return "attribute without quoted value";
                {
                    char q = e[1];
                    e += 2;
                    while (*e && *e != q) { if (*e == '<') return "'<' in attribute"; e++; }
                    if (!*e) return "open attribute";
                    e++;
                }
            }
            if (depth == 0) roots++;
            if (roots > 1) return "more than one root element";
            if (*e == '>') {
                if (depth >= 64) return "too deep";
                memcpy(stack[depth], p + 1, n); stack[depth][n] = 0; depth++;
                p = e + 1;
            } else p = e + 2;
        }
    }
    if (depth) { snprintf(msg, sizeof msg, "unclosed <%s>", stack[depth - 1]); return msg; }
    return roots == 1 ? NULL : "no root element";
}

/* Text outside data: URIs holds no word nan / inf / infinity (any case). */
static int has_nan_inf(const char *s) {
    size_t n = strlen(s), i;
    char *c = (char *)malloc(n + 1);
    int bad = 0;
    if (!c) return 1;
    for (i = 0; i < n; i++) c[i] = (char)tolower((unsigned char)s[i]);
    c[n] = 0;
    for (i = 0; i + 7 < n; i++)                                /* blank out base64 payloads */
        if (strncmp(c + i, "base64,", 7) == 0) {
            size_t j = i + 7;
            while (c[j] && c[j] != '"') c[j++] = ' ';
            i = j;
        }
    for (i = 0; i < n && !bad; i++) {                          /* the words nan, inf(inity) */
        size_t L = strncmp(c + i, "nan", 3) == 0 ? 3 : strncmp(c + i, "infinity", 8) == 0 ? 8 :
                   strncmp(c + i, "inf", 3) == 0 ? 3 : 0;
        if (L && (i == 0 || !isalnum((unsigned char)c[i - 1])) && !isalnum((unsigned char)c[i + L]))
            bad = 1;
    }
    free(c);
    return bad;
}

static void check_file(const char *path, int xml) {
    size_t len = 0;
    char *s = read_all(path, &len);
    CHECK(s != NULL && len > 100, "%s: missing or too small (%zu bytes)", path, len);
    if (s && xml) {
        const char *why = xml_check(s);
        CHECK(why == NULL, "%s: not well-formed: %s", path, why ? why : "");
        CHECK(!has_nan_inf(s), "%s: contains nan or inf", path);
        CHECK(strncmp(s, "<?xml", 5) == 0, "%s: no XML declaration", path);
    }
    free(s);
}

static int file_contains(const char *path, const char *needle) {
    size_t len;
    char *s = read_all(path, &len);
    int r = s && strstr(s, needle) != NULL;
    free(s);
    return r;
}

static void join(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* log p_t of the two-point data (+-3, 0) at time t (OU: a = e^-t, s^2 = 1 - e^-2t). */
static double logp2(double x, double y, double t) {
    double a = exp(-t), s2 = 1 - exp(-2 * t);
    double d0 = ((x - 3 * a) * (x - 3 * a) + y * y) / (2 * s2);
    double d1 = ((x + 3 * a) * (x + 3 * a) + y * y) / (2 * s2);
    double m = d0 < d1 ? d0 : d1;
    return -m + log(0.5 * (exp(-(d0 - m)) + exp(-(d1 - m)))) - log(2 * PI * s2);
}

/* ---- the pictures -------------------------------------------------------------------- */
static void scatter_figure(const char *dir) {
    enum { NX = 160, NY = 120, NTRAJ = 6, K = 200, NR = 41 };
    rdg_real *field = (rdg_real *)malloc(sizeof(rdg_real) * NX * NY);
    rdg_real data[4] = { -3, 0, 3, 0 }, ridge[2 * NR], traj[2 * (K + 1)], tt[K + 1], ends[2 * NTRAJ];
    rdp_plot *p = NULL;
    rdp_style s;
    char path[512];
    const double T = 10, t0 = 0.005, tf = 0.5;
    int i, j, k;
    CHECK(field != NULL, "alloc");
    if (!field) return;
    for (j = 0; j < NY; j++)
        for (i = 0; i < NX; i++) {
            double x = -5 + 10 * (i + 0.5) / NX, y = -3.75 + 7.5 * (j + 0.5) / NY;
            field[j * NX + i] = logp2(x, y, tf);
        }
    field[5] = NAN;                                               /* a transparent cell */
    for (i = 0; i < NR; i++) { ridge[2 * i] = -3 * exp(-tf) + 6 * exp(-tf) * i / (NR - 1); ridge[2 * i + 1] = 0; }

    CHECK(rdp_plot_new(&p, 720, 520) == RDG_OK, "plot_new");
    if (!p) { free(field); return; }
    CHECK(rdp_plot_set_labels(p, "Two-point data: ridge & trajectories (t = 0.5)", "x\xe2\x82\x81", "x\xe2\x82\x82") == RDG_OK, "labels");
    CHECK(rdp_plot_set_axes(p, 0, 0, 1) == RDG_OK, "equal aspect");
    CHECK(rdp_plot_add_field(p, field, NX, NY, -5, 5, -3.75, 3.75, -12, 0, RDP_CMAP_VIRIDIS, "log p_t(x)") == RDG_OK, "field");
    for (k = 0; k < NTRAJ; k++) {                                  /* spirals onto the ridge */
        double ang0 = 2 * PI * k / NTRAJ + 0.3, sgn = k % 2 ? 1 : -1;
        for (i = 0; i <= K; i++) {
            double t = T * pow(t0 / T, (double)i / K), u = (double)i / K;
            double r = 3.2 * (1 - u) + 0.15, ang = ang0 + sgn * 2.5 * PI * u;
            double cx = (k % 3 - 1) * 1.5 * u;
            traj[2 * i] = cx + r * cos(ang) * (1 - 0.3 * u);
            traj[2 * i + 1] = r * sin(ang) * (1 - u) * 0.9;
            tt[i] = t;
        }
        if (k == 0) traj[2 * 50] = NAN;                             /* broken, not "nan" */
        ends[2 * k] = traj[2 * K]; ends[2 * k + 1] = traj[2 * K + 1];
        CHECK(rdp_plot_add_polyline_colored(p, traj, K + 1, tt, t0, T, 1, RDP_CMAP_PLASMA, 1.6, "time t (log scale)") == RDG_OK, "traj %d", k);
    }
    memset(&s, 0, sizeof s);
    s.rgb = 0xff3030; s.size = 1.8; s.label = "traced ridge";
    CHECK(rdp_plot_add_points(p, ridge, NR, &s) == RDG_OK, "ridge");
    s.rgb = 0xffffff; s.size = 3.2; s.edge = RDP_EDGE_BLACK; s.marker = RDP_MARK_DIAMOND; s.label = "sample x(t\xe2\x82\x80)";
    CHECK(rdp_plot_add_points(p, ends, NTRAJ, &s) == RDG_OK, "ends");
    s.rgb = 0x000000; s.size = 6; s.edge = RDP_EDGE_WHITE; s.marker = RDP_MARK_CIRCLE; s.label = "data x_i";
    CHECK(rdp_plot_add_points(p, data, 2, &s) == RDG_OK, "data");
    memset(&s, 0, sizeof s);
    s.rgb = 0xffffff; s.size = 12;
    CHECK(rdp_plot_add_text(p, 3, 0.45, "x\xe2\x82\x82 = (3, 0)", &s, RDP_ANCHOR_MIDDLE) == RDG_OK, "text");
    CHECK(rdp_plot_add_text(p, NAN, 0, "skipped", &s, RDP_ANCHOR_START) == RDG_OK, "NaN text is skipped");
    join(path, sizeof path, dir, "scatter.svg");
    CHECK(rdp_plot_save_svg(p, path) == RDG_OK, "save scatter");
    check_file(path, 1);
    CHECK(file_contains(path, "data:image/png;base64,iVBORw0KGgo"), "heatmap is an embedded PNG");
    CHECK(file_contains(path, "&amp; trajectories"), "title escaped");
    CHECK(!file_contains(path, "skipped"), "text at NaN not written");
    rdp_plot_free(p);
    free(field);
}

static void line_figure(const char *dir) {
    enum { N = 101 };
    rdg_real step[N], dist[N], tang[N], bound[N];
    rdp_plot *p = NULL;
    rdp_style s;
    char path[512];
    int i;
    for (i = 0; i < N; i++) {
        step[i] = 10 * i;
        dist[i] = 2.5 * exp(-i / 12.0) + 3e-3;
        tang[i] = 1.2 * exp(-i / 40.0) + 2e-2 * (1 + 0.2 * sin(i * 0.7));
        bound[i] = i < 30 ? -1 : 0.5 * exp(-i / 30.0);            /* non-positive: skipped on log */
    }
    dist[7] = NAN; tang[12] = INFINITY;
    CHECK(rdp_plot_new(&p, 640, 420) == RDG_OK, "plot_new");
    if (!p) return;
    rdp_plot_set_labels(p, "Reach, align, slide", "sampling step k", "error");
    CHECK(rdp_plot_set_axes(p, 0, 1, 0) == RDG_OK, "log y");
    memset(&s, 0, sizeof s);
    s.rgb = -1; s.size = 2; s.label = "distance to ridge";
    CHECK(rdp_plot_add_series(p, step, dist, N, &s) == RDG_OK, "series 1");
    s.label = "tangential error"; s.marker_size = 2.5; s.marker = RDP_MARK_SQUARE;
    CHECK(rdp_plot_add_series(p, step, tang, N, &s) == RDG_OK, "series 2");
    s.label = "a bound <x>"; s.marker_size = 0; s.dash = RDP_DASH_DASHED; s.rgb = 0x444444; s.size = 1.2;
    CHECK(rdp_plot_add_series(p, NULL, bound, N, &s) == RDG_OK, "series 3 (x = index)");
    join(path, sizeof path, dir, "lines.svg");
    CHECK(rdp_plot_save_svg(p, path) == RDG_OK, "save lines");
    check_file(path, 1);
    CHECK(file_contains(path, "a bound &lt;x&gt;"), "legend label escaped");
    CHECK(file_contains(path, ">0.01<") && file_contains(path, ">0.1<"), "log tick labels");
    rdp_plot_free(p);

    /* linear axes, fixed bounds, every marker kind, points outside and NaN points */
    CHECK(rdp_plot_new(&p, 400, 300) == RDG_OK, "plot_new 2");
    if (!p) return;
    CHECK(rdp_plot_set_bounds(p, -1, 1, -1, 1) == RDG_OK, "bounds");
    rdp_plot_set_legend(p, RDP_LEGEND_BOTTOM_LEFT);
    for (i = 0; i <= RDP_MARK_PLUS; i++) {
        rdg_real xy[6] = { 0, 0, 5, 5, NAN, 0 };
        xy[0] = -0.8 + 0.3 * i; xy[1] = 0.2 * i - 0.5;
        memset(&s, 0, sizeof s);
        s.rgb = -1; s.marker = i; s.size = 5; s.opacity = 0.8; s.label = "m";
        CHECK(rdp_plot_add_points(p, xy, 3, &s) == RDG_OK, "marker %d", i);
    }
    join(path, sizeof path, dir, "markers.svg");
    CHECK(rdp_plot_save_svg(p, path) == RDG_OK, "save markers");
    check_file(path, 1);
    rdp_plot_free(p);
}

static void png_grid(const char *dir) {
    enum { W = 28, H = 28, N = 12 };
    rdg_real *img = (rdg_real *)malloc(sizeof(rdg_real) * W * H * N);
    char path[512];
    unsigned char *px;
    int w = 0, h = 0, comp = 0, k, r, c;
    CHECK(img != NULL, "alloc");
    if (!img) return;
    for (k = 0; k < N; k++)                                        /* rings of growing radius */
        for (r = 0; r < H; r++)
            for (c = 0; c < W; c++) {
                double d = sqrt((r - 13.5) * (r - 13.5) + (c - 13.5) * (c - 13.5));
                img[(k * H + r) * W + c] = exp(-(d - 3 - k) * (d - 3 - k) / 3.0);
            }
    img[0] = 1.0;                                                   /* image 0, pixel (0, 0) */
    img[W * H + 1] = 7.0;                                           /* clamped to 1 */
    img[2 * W * H + 2] = NAN;                                       /* drawn as 0.5 */
    join(path, sizeof path, dir, "grid.png");
    CHECK(rdp_png_grid(path, img, N, W, H, 4, 1, 2) == RDG_OK, "png grid");
    check_file(path, 0);
#ifdef HAVE_STB_IMAGE
    px = stbi_load(path, &w, &h, &comp, 1);
    CHECK(px != NULL, "stbi_load: %s", px ? "" : stbi_failure_reason());
    if (px) {
        int cw = 2 * W + 1;
        CHECK(w == 4 * cw + 1 && h == 3 * (2 * H + 1) + 1, "grid size %d x %d", w, h);
        CHECK(comp == 1, "grayscale (%d channels)", comp);
        CHECK(px[0] == 128 && px[w * 5 + cw] == 128, "border grey: %d %d", px[0], px[w * 5 + cw]);
        CHECK(px[1 * w + 1] == 255 && px[2 * w + 2] == 255, "image 0 pixel (0,0) scaled 2x: %d", px[w + 1]);
        CHECK(px[1 * w + cw + 1 + 2] == 255, "image 1 clamped pixel: %d", px[w + cw + 3]);
        CHECK(px[1 * w + 2 * cw + 1 + 4] == 128, "image 2 NaN pixel: %d", px[w + 2 * cw + 5]);
        {   /* image 5 (row 1, col 1) centre: ring radius 8 -> value at the centre is ~0 */
            int oy = 1 + (2 * H + 1), ox = 1 + cw;
            CHECK(px[(oy + 27) * w + ox + 27] < 5, "image 5 centre dark: %d", px[(oy + 27) * w + ox + 27]);
        }
        stbi_image_free(px);
    }
    /* auto column count, no border, scale 1 */
#else
    (void)px; (void)w; (void)h; (void)comp; (void)r; (void)c;
    printf("note: stb_image.h not found, PNG files not decoded\n");
#endif
    join(path, sizeof path, dir, "grid1.png");
    CHECK(rdp_png_grid(path, img, 5, W, H, 0, 0, 1) == RDG_OK, "png grid auto");
    check_file(path, 0);
#ifdef HAVE_STB_IMAGE
    px = stbi_load(path, &w, &h, &comp, 1);
    CHECK(px && w == 3 * W && h == 2 * H, "auto grid size %d x %d", w, h);
    if (px) { CHECK(px[0] == 255, "pixel (0,0) = %d", px[0]); stbi_image_free(px); }
#endif
    CHECK(rdp_png_grid(path, img, 5, W, H, 0, 9, 1) == RDG_ERR_INVALID, "border > 8");
    CHECK(rdp_png_grid(path, img, 5, W, H, 0, 1, 0) == RDG_ERR_INVALID, "scale 0");
    CHECK(rdp_png_grid(path, img, 5, 20000, 1, 0, 1, 1) == RDG_ERR_OVERFLOW, "too wide");
    free(img);
}

/* plot.h's own uncompressed PNG writer (used without stb): every colour type, and an image
   larger than one 65535-byte stored block. */
static void png_stored(void) {
    enum { SW = 300, SH = 120 };
    unsigned char *px = (unsigned char *)malloc(SW * SH * 4);
    int comp, i;
    CHECK(px != NULL, "alloc");
    if (!px) return;
    for (i = 0; i < SW * SH * 4; i++) px[i] = (unsigned char)((i * 7 + i / 1000) & 255);
    for (comp = 1; comp <= 4; comp++) {
        rdp_buf b;
        rdp_buf_init(&b);
        CHECK(rdp_png_encode_stored(&b, px, SW, SH, comp) == RDG_OK, "stored png comp %d", comp);
        CHECK(b.len > (size_t)(SW * SH * comp) && memcmp(b.p, "\x89PNG\r\n\x1a\n", 8) == 0, "png header, size %zu", b.len);
#ifdef HAVE_STB_IMAGE
        {
            int w = 0, h = 0, n = 0, same = 1;
            unsigned char *q = stbi_load_from_memory((const unsigned char *)b.p, (int)b.len, &w, &h, &n, 0);
            CHECK(q && w == SW && h == SH && n == comp, "stored png decodes (comp %d): %s", comp,
                  q ? "" : stbi_failure_reason());
            if (q && w == SW && h == SH && n == comp)
                for (i = 0; i < SW * SH * comp; i++) if (q[i] != px[i]) { same = 0; break; }
            CHECK(same, "stored png pixels round-trip (comp %d)", comp);
            stbi_image_free(q);
        }
#endif
        rdp_buf_free(&b);
    }
    {
        rdp_buf b;
        rdp_buf_init(&b);
        CHECK(rdp_png_encode_stored(&b, px, 0, SH, 1) == RDG_ERR_INVALID, "w 0");
        CHECK(rdp_png_encode_stored(&b, px, SW, SH, 5) == RDG_ERR_INVALID, "comp 5");
        CHECK(rdp_png_encode(&b, px, 20000, 1, 1) == RDG_ERR_OVERFLOW, "too wide");
        rdp_buf_free(&b);
    }
    free(px);
}

static void html_report(const char *dir) {
    rdp_html h;
    char path[512];
    const char *cells[] = { "step", "t", "dist", "note",
                            "0", "10", "2.5", "<b>bold?</b> & \"quoted\" 'single'",
                            "1000", "0.005", "0.003", NULL,
                            "bad utf8 \xff\xfe end", "ctl\x01\x1f", "\xe2\x82", "\xce\xbb ok" };
    CHECK(rdp_html_begin(&h, "ridgediff report: two <points> & more") == RDG_OK, "html begin");
    CHECK(rdp_html_heading(&h, 2, "Figures") == RDG_OK, "heading");
    CHECK(rdp_html_heading(&h, 7, "x") == RDG_ERR_INVALID, "heading level 7");
    CHECK(rdp_html_text(&h, "Samples reach the tube, align to the ridge, then slide along it.") == RDG_OK, "text");
    CHECK(rdp_html_image(&h, "scatter.svg", "scatter", "Trajectories coloured by t.", 720) == RDG_OK, "img");
    CHECK(rdp_html_image(&h, "lines.svg", "a \"quoted\" alt", NULL, 0) == RDG_OK, "img 2");
    CHECK(rdp_html_image(&h, "grid.png", NULL, "Grid & tiles", 0) == RDG_OK, "img 3");
    CHECK(rdp_html_table(&h, cells, 4, 4, 1) == RDG_OK, "table");
    CHECK(rdp_html_table(&h, cells, 1, 4, 0) == RDG_OK, "table without header");
    CHECK(rdp_html_pre(&h, "ridgediff sample --out x.npy < in > out") == RDG_OK, "pre");
    join(path, sizeof path, dir, "report.html");
    CHECK(rdp_html_save(&h, path) == RDG_OK, "html save");
    CHECK(rdp_html_save(&h, path) == RDG_OK, "html save twice (closed once)");
    CHECK(rdp_html_text(&h, "late") == RDG_ERR_INVALID, "append after close");
    rdp_html_free(&h);
    check_file(path, 1);
    CHECK(file_contains(path, "&lt;b&gt;bold?&lt;/b&gt; &amp; &quot;quoted&quot; &#39;single&#39;"), "cell escaped");
    CHECK(file_contains(path, "two &lt;points&gt; &amp; more"), "title escaped");
    CHECK(file_contains(path, "bad utf8 \xef\xbf\xbd\xef\xbf\xbd end"), "bad UTF-8 replaced");
    CHECK(file_contains(path, "<td>ctl</td>"), "control characters dropped");
    CHECK(file_contains(path, "\xce\xbb ok"), "valid UTF-8 kept");
    CHECK(!file_contains(path, "\xe2\x82<"), "truncated UTF-8 replaced");
}

static void errors(const char *dir) {
    rdp_plot *p = NULL;
    rdp_buf b;
    rdp_style s;
    char path[512], num[32];
    rdg_real xy[4] = { 0, 0, 1, 1 }, v[2] = { 1, 2 }, f[4] = { NAN, NAN, NAN, NAN };
    CHECK(rdp_plot_new(&p, 50, 400) == RDG_ERR_INVALID && p == NULL, "tiny plot");
    CHECK(rdp_plot_new(NULL, 400, 400) == RDG_ERR_INVALID, "NULL out");
    CHECK(rdp_plot_new(&p, 400, 300) == RDG_OK, "plot");
    if (!p) return;
    CHECK(rdp_plot_set_bounds(p, NAN, 1, 0, 1) == RDG_ERR_NONFINITE, "NaN bounds");
    CHECK(rdp_plot_set_bounds(p, 1, 1, 0, 1) == RDG_ERR_INVALID, "empty bounds");
    CHECK(rdp_plot_add_points(p, NULL, 2, NULL) == RDG_ERR_INVALID, "NULL points");
    CHECK(rdp_plot_add_points(p, xy, 0, NULL) == RDG_ERR_INVALID, "no points");
    CHECK(rdp_plot_add_polyline_colored(p, xy, 2, v, 0, 1, 1, RDP_CMAP_PLASMA, 1, "t") == RDG_ERR_INVALID, "log vmin 0");
    CHECK(rdp_plot_add_polyline_colored(p, xy, 2, v, 2, 1, 0, RDP_CMAP_PLASMA, 1, "t") == RDG_ERR_INVALID, "vmin > vmax");
    CHECK(rdp_plot_add_polyline_colored(p, xy, 2, v, 0, INFINITY, 0, RDP_CMAP_PLASMA, 1, "t") == RDG_ERR_NONFINITE, "inf vmax");
    CHECK(rdp_plot_add_polyline_colored(p, xy, 2, v, 0, 1, 0, 99, 1, "t") == RDG_ERR_INVALID, "bad cmap");
    CHECK(rdp_plot_add_field(p, f, 2, 2, 0, 1, 0, 1, 0, 0, RDP_CMAP_VIRIDIS, NULL) == RDG_OK, "all-NaN field");
    CHECK(rdp_plot_add_field(p, f, 2, 2, 0, NAN, 0, 1, 0, 0, RDP_CMAP_VIRIDIS, NULL) == RDG_ERR_NONFINITE, "NaN extent");
    CHECK(rdp_plot_add_field(p, f, 0, 2, 0, 1, 0, 1, 0, 0, RDP_CMAP_VIRIDIS, NULL) == RDG_ERR_INVALID, "nx 0");
    memset(&s, 0, sizeof s);
    s.size = NAN;
    CHECK(rdp_plot_add_points(p, xy, 2, &s) == RDG_ERR_INVALID, "NaN style size");
    s.size = 1; s.rgb = 0x1000000L;
    CHECK(rdp_plot_add_points(p, xy, 2, &s) == RDG_ERR_INVALID, "bad colour");
    s.rgb = 0; s.marker = 17;
    CHECK(rdp_plot_add_points(p, xy, 2, &s) == RDG_ERR_INVALID, "bad marker");
    CHECK(rdp_plot_add_text(p, 0, 0, NULL, NULL, 0) == RDG_ERR_INVALID, "NULL text");
    CHECK(rdp_plot_set_legend(p, 9) == RDG_ERR_INVALID, "bad legend position");
    join(path, sizeof path, dir, "no/such/dir/x.svg");
    CHECK(rdp_plot_save_svg(p, path) == RDG_ERR_IO, "unwritable path");
    join(path, sizeof path, dir, "empty.svg");
    CHECK(rdp_plot_save_svg(p, path) == RDG_OK, "plot with only a NaN field");
    check_file(path, 1);
    rdp_plot_free(p);

    CHECK(rdp_fmt(num, NAN, "%.6g") == RDG_ERR_NONFINITE && strcmp(num, "0") == 0, "fmt NaN");
    CHECK(rdp_fmt(num, -INFINITY, "%.6g") == RDG_ERR_NONFINITE, "fmt -inf");
    CHECK(rdp_fmt(num, -0.0, "%.2f") == RDG_OK && strcmp(num, "0") == 0, "fmt -0 -> %s", num);
    CHECK(rdp_fmt(num, 1.5, "%.2f") == RDG_OK && strcmp(num, "1.5") == 0, "fmt 1.50 -> %s", num);
    CHECK(rdp_fmt(num, 1e-7, "%.6g") == RDG_OK && strcmp(num, "1e-07") == 0, "fmt 1e-7 -> %s", num);
    CHECK(rdp_fmt(num, 2.5e100, "%.6g") == RDG_OK && strcmp(num, "2.5e+100") == 0, "fmt 2.5e100 -> %s", num);
    CHECK(rdp_fmt(num, -12345678.0, "%.6g") == RDG_OK && strcmp(num, "-1.23457e+07") == 0, "fmt -> %s", num);
    rdp_buf_init(&b);
    CHECK(rdp_buf_num(&b, NAN) == RDG_ERR_NONFINITE && b.err == RDG_ERR_NONFINITE, "buf NaN sticks");
    CHECK(rdp_buf_puts(&b, "x") == RDG_ERR_NONFINITE && b.len == 0, "append after error");
    rdp_buf_free(&b);
    CHECK(has_nan_inf("<a x=\"-NaN\"/>") && has_nan_inf("1,inf") && !has_nan_inf("inference info"),
          "the nan/inf checker itself");
    rdp_buf_init(&b);
    CHECK(rdp_buf_base64(&b, (const unsigned char *)"Man", 3) == RDG_OK && strcmp(b.p, "TWFu") == 0, "base64 3");
    CHECK(rdp_buf_base64(&b, (const unsigned char *)"Ma", 2) == RDG_OK && strcmp(b.p, "TWFuTWE=") == 0, "base64 2");
    CHECK(rdp_buf_base64(&b, (const unsigned char *)"M", 1) == RDG_OK && strcmp(b.p, "TWFuTWE=TQ==") == 0, "base64 1");
    rdp_buf_free(&b);
}

int main(void) {
    char path[600];
    const char *keep = getenv("RDG_PLOT_OUT"), *dir;
#ifndef _WIN32
    char tmpl[] = "/tmp/rdg_plot.XXXXXX";
#endif
    const char *names[] = { "scatter.svg", "lines.svg", "markers.svg", "grid.png", "grid1.png",
                            "report.html", "empty.svg" };
    size_t i;
    if (keep && *keep) {
#ifndef _WIN32
        mkdir(keep, 0777);
#endif
        dir = keep;
    } else {
#ifdef _WIN32
        dir = ".";
#else
        dir = mkdtemp(tmpl);
        CHECK(dir != NULL, "mkdtemp");
        if (!dir) RDG_TEST_END("test_plot");
#endif
    }
    scatter_figure(dir);
    line_figure(dir);
    png_grid(dir);
    png_stored();
    html_report(dir);
    errors(dir);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {        /* no .tmp left behind */
        FILE *f;
        snprintf(path, sizeof path, "%s/%s.tmp", dir, names[i]);
        f = fopen(path, "rb");
        CHECK(f == NULL, "%s left behind", path);
        if (f) fclose(f);
    }
    if (!(keep && *keep)) {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            remove(path);
        }
#ifndef _WIN32
        rmdir(dir);
#endif
    }
    RDG_TEST_END("test_plot");
}
