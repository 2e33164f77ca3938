/* tools/plot.h - pictures for ridgediff's tools: standalone SVG 1.1 figures, PNG image grids
   and a small XHTML report writer. Not part of the library; no dependency beyond stb
   (Debian libstb-dev: <stb/stb_image_write.h>) and ridgediff.h's rdg_status / rdg_real.

   One header, every function static. Every function returns rdg_status (RDG_OK = 0, errors
   negative); nothing is global; everything allocated is freed by the matching *_free.
   Numbers are written with snprintf("%.6g") in the C locale and normalised so that a program
   that changed LC_NUMERIC still writes '.'; NaN/Inf are never written (non-finite coordinates
   are skipped: a polyline is broken there; a NaN field cell is transparent).
   Files are written to "<path>.tmp" and renamed over <path>.

   stb_image_write: this header compiles its implementation (static) into the including
   translation unit. If the program already compiles stb_image_write's implementation
   elsewhere, define RDP_NO_STB_IMPLEMENTATION before including this header.
   RDP_STB_IMAGE_WRITE_HEADER overrides the include (default <stb/stb_image_write.h>).

   API (data arrays are rdg_real, x/y interleaved "xy" arrays hold n points x0 y0 x1 y1 ...):

     rdp_plot *p;  rdp_style s = {0};
     rdp_plot_new(&p, 640, 480);
     rdp_plot_set_labels(p, "title", "x", "y");
     rdp_plot_set_bounds(p, x0, x1, y0, y1);         (optional, else automatic)
     rdp_plot_set_axes(p, xlog, ylog, equal_aspect); rdp_plot_set_legend(p, RDP_LEGEND_...);
     rdp_plot_add_field(p, v, nx, ny, x0, x1, y0, y1, vmin, vmax, RDP_CMAP_VIRIDIS, "log p");
     rdp_plot_add_points(p, xy, n, &s);              (s.label -> legend entry)
     rdp_plot_add_polyline(p, xy, n, &s);
     rdp_plot_add_series(p, x, y, n, &s);            (line plot; x may be NULL: 0..n-1)
     rdp_plot_add_polyline_colored(p, xy, n, val, vmin, vmax, log, RDP_CMAP_PLASMA, width, "t");
     rdp_plot_add_text(p, x, y, "text", &s, RDP_ANCHOR_START);
     rdp_plot_svg(p, &buf) / rdp_plot_save_svg(p, "fig.svg");  rdp_plot_free(p);

     rdp_png_grid("grid.png", img, n, w, h, ncols, border, scale);
     rdp_html h; rdp_html_begin(&h, "title"); rdp_html_heading(&h, 2, "..."); rdp_html_text(...);
     rdp_html_image(&h, "fig.svg", "alt", "caption", width); rdp_html_table(&h, cells, r, c, 1);
     rdp_html_save(&h, "report.html"); rdp_html_free(&h);
*/
#ifndef RIDGEDIFF_TOOLS_PLOT_H
#define RIDGEDIFF_TOOLS_PLOT_H

#include "../ridgediff.h"
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Without stb (RDP_NO_STB defined, or a compiler whose __has_include cannot find it, e.g. a
   cross or musl toolchain), PNGs are written by rdp_png_encode_stored: valid, uncompressed. */
#if !defined(RDP_NO_STB) && !defined(RDP_STB_IMAGE_WRITE_HEADER) && defined(__has_include)
#  if !__has_include(<stb/stb_image_write.h>)
#    define RDP_NO_STB
#  endif
#endif
#ifndef RDP_NO_STB
#  ifndef RDP_NO_STB_IMPLEMENTATION
#    ifndef STB_IMAGE_WRITE_IMPLEMENTATION
#      define STB_IMAGE_WRITE_IMPLEMENTATION
#    endif
#    ifndef STB_IMAGE_WRITE_STATIC
#      define STB_IMAGE_WRITE_STATIC
#    endif
#  endif
#  ifdef RDP_STB_IMAGE_WRITE_HEADER
#    include RDP_STB_IMAGE_WRITE_HEADER
#  else
#    include <stb/stb_image_write.h>
#  endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RDP_FN static __attribute__((unused))
#  define RDP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define RDP_FN static
#  define RDP_PRINTF(a, b)
#endif

#define RDP_MAX_POINTS   ((size_t)1 << 26)   /* cap on points in one item                 */
#define RDP_MAX_GRID     ((size_t)1 << 24)   /* cap on nx * ny of a field                 */
#define RDP_MAX_PNG_SIDE 16384               /* cap on a PNG's width and height, in pixels */

/* ==== growable string buffer ============================================================== */

/* A byte buffer kept NUL-terminated. The first error sticks in err: later appends do nothing
   and return it, so a long chain of appends needs one check at the end. */
typedef struct rdp_buf {
    char *p;
    size_t len, cap;
    rdg_status err;
} rdp_buf;

RDP_FN rdg_status rdp_buf_init(rdp_buf *b) {
    if (!b) return RDG_ERR_INVALID;
    b->p = NULL; b->len = 0; b->cap = 0; b->err = RDG_OK;
    return RDG_OK;
}

RDP_FN rdg_status rdp_buf_free(rdp_buf *b) {
    if (!b) return RDG_ERR_INVALID;
    free(b->p);
    return rdp_buf_init(b);
}

RDP_FN rdg_status rdp_buf_reserve(rdp_buf *b, size_t extra) {
    size_t need, nc;
    char *q;
    if (!b) return RDG_ERR_INVALID;
    if (b->err) return b->err;
    if (extra > (size_t)-1 - b->len - 1) return b->err = RDG_ERR_OVERFLOW;
    need = b->len + extra + 1;
    if (need <= b->cap) return RDG_OK;
    nc = b->cap ? b->cap : 256;
    while (nc < need) {
        if (nc > (size_t)-1 / 2) { nc = need; break; }
        nc *= 2;
    }
    q = (char *)realloc(b->p, nc);
    if (!q) return b->err = RDG_ERR_NOMEM;
    b->p = q; b->cap = nc;
    return RDG_OK;
}

RDP_FN rdg_status rdp_buf_put(rdp_buf *b, const void *s, size_t n) {
    rdg_status st;
    if (!b || (!s && n)) return b ? (b->err = RDG_ERR_INVALID) : RDG_ERR_INVALID;
    if ((st = rdp_buf_reserve(b, n)) != RDG_OK) return st;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return RDG_OK;
}

RDP_FN rdg_status rdp_buf_puts(rdp_buf *b, const char *s) {
    if (!s) return b ? (b->err = RDG_ERR_INVALID) : RDG_ERR_INVALID;
    return rdp_buf_put(b, s, strlen(s));
}

/* printf-style append. Only for formats whose output is known to be safe markup (integers,
   fixed strings): text goes through rdp_buf_escape and reals through rdp_buf_num. */
RDP_FN rdg_status rdp_buf_printf(rdp_buf *b, const char *fmt, ...) RDP_PRINTF(2, 3);
RDP_FN rdg_status rdp_buf_printf(rdp_buf *b, const char *fmt, ...) {
    va_list ap;
    int n;
    rdg_status st;
    if (!b || !fmt) return b ? (b->err = RDG_ERR_INVALID) : RDG_ERR_INVALID;
    if (b->err) return b->err;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return b->err = RDG_ERR_INVALID;
    if ((st = rdp_buf_reserve(b, (size_t)n)) != RDG_OK) return st;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RDG_OK;
}

/* Formats v with the printf format fmt (one double conversion) into out[32], locale-free:
   any character other than digits, '-', '+', 'e', 'E' becomes '.', and "-0" becomes "0".
   Returns RDG_ERR_NONFINITE for NaN/Inf (out is then "0"). */
RDP_FN rdg_status rdp_fmt(char out[32], double v, const char *fmt) {
    char *c;
    int n;
    if (!out || !fmt) return RDG_ERR_INVALID;
    out[0] = '0'; out[1] = 0;
    if (!(v == v) || v > DBL_MAX || v < -DBL_MAX) return RDG_ERR_NONFINITE;
    n = snprintf(out, 32, fmt, v);
    if (n < 0 || n >= 32) { out[0] = '0'; out[1] = 0; return RDG_ERR_OVERFLOW; }
    for (c = out; *c; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '-' || *c == '+' || *c == 'e' || *c == 'E'))
            *c = '.';
    if (strchr(out, '.') && !strchr(out, 'e') && !strchr(out, 'E')) {   /* 1.50 -> 1.5 */
        size_t L = strlen(out);
        while (L > 0 && out[L - 1] == '0') out[--L] = 0;
        if (L > 0 && out[L - 1] == '.') out[--L] = 0;
    }
    if ((c = strchr(out, 'e')) != NULL || (c = strchr(out, 'E')) != NULL) {   /* e-007 -> e-07 */
        char *d = c + 1;
        if (*d == '+' || *d == '-') d++;
        while (d[0] == '0' && strlen(d) > 2) memmove(d, d + 1, strlen(d));
    }
    if (strcmp(out, "-0") == 0 || out[0] == 0) { out[0] = '0'; out[1] = 0; }
    return RDG_OK;
}

/* Appends a real number (%.6g). Non-finite: sets err = RDG_ERR_NONFINITE, writes nothing. */
RDP_FN rdg_status rdp_buf_num(rdp_buf *b, double v) {
    char s[32];
    rdg_status st;
    if (!b) return RDG_ERR_INVALID;
    if ((st = rdp_fmt(s, v, "%.6g")) != RDG_OK) return b->err = st;
    return rdp_buf_puts(b, s);
}

/* Appends a pixel coordinate (two decimals, clamped to +-1e6 px). */
RDP_FN rdg_status rdp_buf_px(rdp_buf *b, double v) {
    char s[32];
    rdg_status st;
    if (!b) return RDG_ERR_INVALID;
    if (v > 1e6) v = 1e6;
    if (v < -1e6) v = -1e6;
    if ((st = rdp_fmt(s, v, "%.2f")) != RDG_OK) return b->err = st;
    return rdp_buf_puts(b, s);
}

/* Appends text escaped for XML character data and attribute values (& < > " '). Bytes that
   XML 1.0 forbids (control characters other than tab, newline, carriage return) are dropped;
   malformed UTF-8 is replaced by U+FFFD, so the output is always well-formed UTF-8. */
RDP_FN rdg_status rdp_buf_escape(rdp_buf *b, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    if (!b || !s) return b ? (b->err = RDG_ERR_INVALID) : RDG_ERR_INVALID;
    while (*u && !b->err) {
        unsigned c = *u;
        if (c < 0x80) {
            switch (c) {
            case '&': rdp_buf_puts(b, "&amp;"); break;
            case '<': rdp_buf_puts(b, "&lt;"); break;
            case '>': rdp_buf_puts(b, "&gt;"); break;
            case '"': rdp_buf_puts(b, "&quot;"); break;
            case '\'': rdp_buf_puts(b, "&#39;"); break;
            default:
                if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') rdp_buf_put(b, u, 1);
                break;
            }
            u++;
        } else {
            size_t k, len = 0;
            unsigned long cp = 0, minv = 0;
            if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; minv = 0x80; }
            else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; minv = 0x800; }
            else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; minv = 0x10000; }
            for (k = 1; k < len; k++) {
                if ((u[k] & 0xC0) != 0x80) { len = 0; break; }
                cp = (cp << 6) | (u[k] & 0x3F);
            }
            if (len == 0 || cp < minv || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
                cp == 0xFFFE || cp == 0xFFFF) {
                rdp_buf_puts(b, "\xEF\xBF\xBD");
                u++;
            } else {
                rdp_buf_put(b, u, len);
                u += len;
            }
        }
    }
    return b->err;
}

/* Writes the buffer to path via path.tmp + rename. */
RDP_FN rdg_status rdp_buf_save(const rdp_buf *b, const char *path) {
    rdp_buf tmp;
    FILE *f;
    int ok;
    if (!b || !path || !*path) return RDG_ERR_INVALID;
    if (b->err) return b->err;
    rdp_buf_init(&tmp);
    rdp_buf_puts(&tmp, path);
    rdp_buf_puts(&tmp, ".tmp");
    if (tmp.err) { rdg_status st = tmp.err; rdp_buf_free(&tmp); return st; }
    f = fopen(tmp.p, "wb");
    if (!f) { rdp_buf_free(&tmp); return RDG_ERR_IO; }
    ok = (b->len == 0 || fwrite(b->p, 1, b->len, f) == b->len);
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp.p, path) != 0) {
        remove(path);                                /* for systems that refuse to replace */
        ok = (rename(tmp.p, path) == 0);
    }
    if (!ok) remove(tmp.p);
    rdp_buf_free(&tmp);
    return ok ? RDG_OK : RDG_ERR_IO;
}

/* Appends base64 of n bytes. */
RDP_FN rdg_status rdp_buf_base64(rdp_buf *b, const unsigned char *d, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    rdg_status st;
    char q[4];
    if (!b || (!d && n)) return b ? (b->err = RDG_ERR_INVALID) : RDG_ERR_INVALID;
    if (n / 3 > ((size_t)-1 - 8) / 4) return b->err = RDG_ERR_OVERFLOW;
    if ((st = rdp_buf_reserve(b, (n + 2) / 3 * 4)) != RDG_OK) return st;
    for (i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)d[i] << 16;
        if (i + 1 < n) v |= (unsigned long)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        rdp_buf_put(b, q, 4);
    }
    return b->err;
}

static unsigned long rdp__crc32(unsigned long crc, const unsigned char *d, size_t n) {
    size_t i;
    int k;
    crc = ~crc & 0xFFFFFFFFUL;
    for (i = 0; i < n; i++) {
        crc ^= d[i];
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320UL & (0UL - (crc & 1UL)));
    }
    return ~crc & 0xFFFFFFFFUL;
}

static void rdp__be32(unsigned char *q, unsigned long v) {
    q[0] = (unsigned char)((v >> 24) & 255); q[1] = (unsigned char)((v >> 16) & 255);
    q[2] = (unsigned char)((v >> 8) & 255);  q[3] = (unsigned char)(v & 255);
}

static void rdp__png_chunk(rdp_buf *out, const char *type, const unsigned char *d, size_t n) {
    unsigned char q[4];
    unsigned long crc;
    rdp__be32(q, (unsigned long)n);
    rdp_buf_put(out, q, 4);
    rdp_buf_put(out, type, 4);
    rdp_buf_put(out, d, n);
    crc = rdp__crc32(0, (const unsigned char *)type, 4);
    crc = rdp__crc32(crc, d, n);
    rdp__be32(q, crc);
    rdp_buf_put(out, q, 4);
}

/* Encodes w x h pixels of comp channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; 8-bit, rows top
   to bottom) as an uncompressed PNG (zlib "stored" blocks), appending the bytes to out. */
RDP_FN rdg_status rdp_png_encode_stored(rdp_buf *out, const unsigned char *px, size_t w, size_t h, int comp) {
    static const unsigned char sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
    static const unsigned char ctype[5] = { 0, 0, 4, 2, 6 };
    unsigned char hdr[13];
    rdp_buf z;
    size_t row, total, done = 0;
    unsigned long a = 1, b2 = 0;
    if (!out || !px || w == 0 || h == 0 || comp < 1 || comp > 4) return RDG_ERR_INVALID;
    if (w > RDP_MAX_PNG_SIDE || h > RDP_MAX_PNG_SIDE) return RDG_ERR_OVERFLOW;
    if (out->err) return out->err;
    row = 1 + w * (size_t)comp;
    total = row * h;                                   /* <= 16384 * 65537: fits 32 bits */
    rdp__be32(hdr, (unsigned long)w); rdp__be32(hdr + 4, (unsigned long)h);
    hdr[8] = 8; hdr[9] = ctype[comp]; hdr[10] = 0; hdr[11] = 0; hdr[12] = 0;
    rdp_buf_init(&z);
    if (rdp_buf_reserve(&z, total + total / 65535 * 5 + 16) != RDG_OK) return out->err = z.err;
    rdp_buf_put(&z, "\x78\x01", 2);
    while (done < total) {                             /* blocks of <= 65535 bytes */
        size_t n = total - done > 65535 ? 65535 : total - done, k;
        unsigned char bh[5];
        bh[0] = (unsigned char)(done + n == total ? 1 : 0);
        bh[1] = (unsigned char)(n & 255); bh[2] = (unsigned char)(n >> 8);
        bh[3] = (unsigned char)(~n & 255); bh[4] = (unsigned char)((~n >> 8) & 255);
        rdp_buf_put(&z, bh, 5);
        for (k = 0; k < n; k++, done++) {               /* byte `done` of the filtered image */
            size_t y = done / row, x = done % row;
            unsigned char c = x == 0 ? 0 : px[y * (row - 1) + x - 1];
            rdp_buf_put(&z, &c, 1);
            a = (a + c) % 65521UL; b2 = (b2 + a) % 65521UL;
        }
    }
    {
        unsigned char ad[4];
        rdp__be32(ad, (b2 << 16) | a);
        rdp_buf_put(&z, ad, 4);
    }
    rdp_buf_put(out, sig, 8);
    rdp__png_chunk(out, "IHDR", hdr, 13);
    if (z.err) { rdg_status st = z.err; rdp_buf_free(&z); return out->err = st; }
    rdp__png_chunk(out, "IDAT", (const unsigned char *)z.p, z.len);
    rdp__png_chunk(out, "IEND", hdr, 0);
    rdp_buf_free(&z);
    return out->err;
}

#ifndef RDP_NO_STB
/* stbi_write_*_to_func callback: appends to an rdp_buf. */
static void rdp__stb_sink(void *ctx, void *data, int size) {
    if (size > 0) rdp_buf_put((rdp_buf *)ctx, data, (size_t)size);
}
#endif

/* Encodes w x h pixels of comp channels (8-bit) as PNG, appending the file's bytes to out:
   compressed by stb_image_write, or uncompressed without stb (RDP_NO_STB). */
RDP_FN rdg_status rdp_png_encode(rdp_buf *out, const unsigned char *px, size_t w, size_t h, int comp) {
    if (!out || !px || w == 0 || h == 0 || comp < 1 || comp > 4) return RDG_ERR_INVALID;
    if (w > RDP_MAX_PNG_SIDE || h > RDP_MAX_PNG_SIDE) return RDG_ERR_OVERFLOW;
    if (out->err) return out->err;
#ifdef RDP_NO_STB
    return rdp_png_encode_stored(out, px, w, h, comp);
#else
    if (!stbi_write_png_to_func(rdp__stb_sink, out, (int)w, (int)h, comp, px, (int)(w * (size_t)comp)))
        return out->err ? out->err : RDG_ERR_NOMEM;
    return out->err;
#endif
}

/* ==== colour maps ========================================================================= */

typedef enum rdp_cmap {
    RDP_CMAP_VIRIDIS = 0,
    RDP_CMAP_PLASMA = 1,
    RDP_CMAP_INFERNO = 2,
    RDP_CMAP_GREYS = 3,      /* white (0) to near-black (1) */
    RDP_CMAP_COUNT_ = 4
} rdp_cmap;

/* Colour of u in [0, 1] (clamped; NaN -> 0) under the map: 10 matplotlib samples, linearly
   interpolated in sRGB. */
RDP_FN rdg_status rdp_cmap_rgb(rdp_cmap m, double u, unsigned char rgb[3]) {
    static const unsigned char tab[4][10][3] = {
        { {0x44,0x01,0x54},{0x48,0x28,0x78},{0x3e,0x49,0x89},{0x31,0x68,0x8e},{0x26,0x82,0x8e},
          {0x1f,0x9e,0x89},{0x35,0xb7,0x79},{0x6e,0xce,0x58},{0xb5,0xde,0x2b},{0xfd,0xe7,0x25} },
        { {0x0d,0x08,0x87},{0x46,0x03,0x9f},{0x72,0x01,0xa8},{0x9c,0x17,0x9e},{0xbd,0x37,0x86},
          {0xd8,0x57,0x6b},{0xed,0x79,0x53},{0xfb,0x9f,0x3a},{0xfd,0xca,0x26},{0xf0,0xf9,0x21} },
        { {0x00,0x00,0x04},{0x1b,0x0c,0x41},{0x4a,0x0c,0x6b},{0x78,0x1c,0x6d},{0xa5,0x2c,0x60},
          {0xcf,0x44,0x46},{0xed,0x69,0x25},{0xfb,0x9b,0x06},{0xf7,0xd1,0x3d},{0xfc,0xff,0xa4} },
        { {0xff,0xff,0xff},{0xf0,0xf0,0xf0},{0xdf,0xdf,0xdf},{0xc8,0xc8,0xc8},{0xad,0xad,0xad},
          {0x8f,0x8f,0x8f},{0x6f,0x6f,0x6f},{0x51,0x51,0x51},{0x33,0x33,0x33},{0x15,0x15,0x15} } };
    double s, f;
    int i, k;
    if (!rgb || (int)m < 0 || (int)m >= (int)RDP_CMAP_COUNT_) return RDG_ERR_INVALID;
    if (!(u == u) || u < 0) u = 0;
    if (u > 1) u = 1;
    s = u * 9.0;
    i = (int)s;
    if (i > 8) i = 8;
    f = s - i;
    for (k = 0; k < 3; k++) {
        double c = tab[m][i][k] + f * ((double)tab[m][i + 1][k] - tab[m][i][k]);
        rgb[k] = (unsigned char)(c + 0.5);
    }
    return RDG_OK;
}

/* ==== the plot object ===================================================================== */

typedef enum rdp_marker {
    RDP_MARK_CIRCLE = 0, RDP_MARK_SQUARE = 1, RDP_MARK_TRIANGLE = 2, RDP_MARK_DIAMOND = 3,
    RDP_MARK_CROSS = 4, RDP_MARK_PLUS = 5
} rdp_marker;

typedef enum rdp_edge { RDP_EDGE_NONE = 0, RDP_EDGE_WHITE = 1, RDP_EDGE_BLACK = 2 } rdp_edge;
typedef enum rdp_dash { RDP_DASH_SOLID = 0, RDP_DASH_DASHED = 1, RDP_DASH_DOTTED = 2 } rdp_dash;
typedef enum rdp_anchor { RDP_ANCHOR_START = 0, RDP_ANCHOR_MIDDLE = 1, RDP_ANCHOR_END = 2 } rdp_anchor;
typedef enum rdp_legend_pos {
    RDP_LEGEND_TOP_RIGHT = 0, RDP_LEGEND_TOP_LEFT = 1, RDP_LEGEND_BOTTOM_LEFT = 2,
    RDP_LEGEND_BOTTOM_RIGHT = 3, RDP_LEGEND_NONE = 4
} rdp_legend_pos;

/* Style of an item. All-zero is a valid default: black, default size, circle, opaque. */
typedef struct rdp_style {
    long rgb;             /* 0xRRGGBB; negative: the next colour of the plot's palette      */
    double size;          /* points: marker radius px (default 3); lines: width px (1.5);
                             text: font size px (12)                                        */
    double marker_size;   /* series only: > 0 also marks every point with this radius        */
    double opacity;       /* 0 < opacity <= 1; 0 means 1                                     */
    int marker;           /* rdp_marker (points, series markers)                             */
    int edge;             /* rdp_edge: marker outline                                        */
    int dash;             /* rdp_dash (lines, series)                                        */
    const char *label;    /* legend entry (copied); NULL: none                               */
} rdp_style;

enum { RDP__FIELD = 1, RDP__POINTS, RDP__LINE, RDP__CLINE, RDP__TEXT };

typedef struct rdp__item {
    int kind;
    size_t n, nx, ny;
    double *xy, *val;              /* owned copies                                            */
    double x0, x1, y0, y1;         /* field extent                                            */
    double vmin, vmax;             /* field / coloured-line value range                       */
    int vlog, cmap, anchor;
    rdp_style st;                  /* st.label unused: label below                            */
    unsigned long color;           /* resolved colour                                         */
    char *label, *text;
} rdp__item;

typedef struct rdp_plot {
    double width, height;
    char *title, *xlabel, *ylabel;
    int fixed, xlog, ylog, equal, legend;
    double bx0, bx1, by0, by1;
    int palette_next;
    rdp__item *items;
    size_t nitems, capitems;
} rdp_plot;

static char *rdp__strdup(const char *s) {
    size_t n;
    char *r;
    if (!s) return NULL;
    n = strlen(s);
    r = (char *)malloc(n + 1);
    if (r) memcpy(r, s, n + 1);
    return r;
}

static int rdp__finite(double v) { return v == v && v <= DBL_MAX && v >= -DBL_MAX; }

RDP_FN rdg_status rdp_plot_free(rdp_plot *p) {
    size_t i;
    if (!p) return RDG_ERR_INVALID;
    for (i = 0; i < p->nitems; i++) {
        free(p->items[i].xy); free(p->items[i].val);
        free(p->items[i].label); free(p->items[i].text);
    }
    free(p->items); free(p->title); free(p->xlabel); free(p->ylabel);
    free(p);
    return RDG_OK;
}

/* A new empty plot of width x height px (each in [100, 10000]). */
RDP_FN rdg_status rdp_plot_new(rdp_plot **out, int width, int height) {
    rdp_plot *p;
    if (!out) return RDG_ERR_INVALID;
    *out = NULL;
    if (width < 100 || width > 10000 || height < 100 || height > 10000) return RDG_ERR_INVALID;
    p = (rdp_plot *)calloc(1, sizeof *p);
    if (!p) return RDG_ERR_NOMEM;
    p->width = width; p->height = height;
    *out = p;
    return RDG_OK;
}

static rdg_status rdp__set_str(char **dst, const char *s) {
    char *c = NULL;
    if (s && !(c = rdp__strdup(s))) return RDG_ERR_NOMEM;
    free(*dst);
    *dst = c;
    return RDG_OK;
}

/* Title and axis labels (each may be NULL for none). */
RDP_FN rdg_status rdp_plot_set_labels(rdp_plot *p, const char *title, const char *xlabel, const char *ylabel) {
    rdg_status st;
    if (!p) return RDG_ERR_INVALID;
    if ((st = rdp__set_str(&p->title, title)) != RDG_OK) return st;
    if ((st = rdp__set_str(&p->xlabel, xlabel)) != RDG_OK) return st;
    return rdp__set_str(&p->ylabel, ylabel);
}

/* Fixed data bounds (finite, x0 < x1, y0 < y1; positive on a log axis). */
RDP_FN rdg_status rdp_plot_set_bounds(rdp_plot *p, double x0, double x1, double y0, double y1) {
    if (!p) return RDG_ERR_INVALID;
    if (!rdp__finite(x0) || !rdp__finite(x1) || !rdp__finite(y0) || !rdp__finite(y1))
        return RDG_ERR_NONFINITE;
    if (!(x0 < x1) || !(y0 < y1)) return RDG_ERR_INVALID;
    p->bx0 = x0; p->bx1 = x1; p->by0 = y0; p->by1 = y1; p->fixed = 1;
    return RDG_OK;
}

/* Back to automatic bounds (the default). */
RDP_FN rdg_status rdp_plot_auto_bounds(rdp_plot *p) {
    if (!p) return RDG_ERR_INVALID;
    p->fixed = 0;
    return RDG_OK;
}

/* Log-scale axes (values <= 0 are then skipped) and equal aspect (one data unit is the same
   length on both axes; linear axes only). */
RDP_FN rdg_status rdp_plot_set_axes(rdp_plot *p, int xlog, int ylog, int equal) {
    if (!p) return RDG_ERR_INVALID;
    p->xlog = xlog != 0; p->ylog = ylog != 0; p->equal = equal != 0;
    return RDG_OK;
}

RDP_FN rdg_status rdp_plot_set_legend(rdp_plot *p, int pos) {
    if (!p || pos < 0 || pos > (int)RDP_LEGEND_NONE) return RDG_ERR_INVALID;
    p->legend = pos;
    return RDG_OK;
}

static rdg_status rdp__push(rdp_plot *p, rdp__item **it) {
    if (p->nitems == p->capitems) {
        size_t nc = p->capitems ? 2 * p->capitems : 8;
        rdp__item *q;
        if (nc > ((size_t)-1) / sizeof *q) return RDG_ERR_OVERFLOW;
        q = (rdp__item *)realloc(p->items, nc * sizeof *q);
        if (!q) return RDG_ERR_NOMEM;
        p->items = q; p->capitems = nc;
    }
    *it = &p->items[p->nitems];
    memset(*it, 0, sizeof **it);
    return RDG_OK;
}

static unsigned long rdp__palette(int i) {
    static const unsigned long tab[10] = { 0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                           0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf };
    return tab[((i % 10) + 10) % 10];
}

static rdg_status rdp__check_style(const rdp_style *s) {
    if (!s) return RDG_OK;
    if (!rdp__finite(s->size) || s->size < 0 || s->size > 1000) return RDG_ERR_INVALID;
    if (!rdp__finite(s->marker_size) || s->marker_size < 0 || s->marker_size > 1000) return RDG_ERR_INVALID;
    if (!rdp__finite(s->opacity) || s->opacity < 0 || s->opacity > 1) return RDG_ERR_INVALID;
    if (s->rgb > 0xFFFFFFL) return RDG_ERR_INVALID;
    if (s->marker < 0 || s->marker > (int)RDP_MARK_PLUS) return RDG_ERR_INVALID;
    if (s->edge < 0 || s->edge > (int)RDP_EDGE_BLACK) return RDG_ERR_INVALID;
    if (s->dash < 0 || s->dash > (int)RDP_DASH_DOTTED) return RDG_ERR_INVALID;
    return RDG_OK;
}

/* Fills in an item's style, colour and label; on failure the item is not kept. */
static rdg_status rdp__item_style(rdp_plot *p, rdp__item *it, const rdp_style *s) {
    rdg_status st = rdp__check_style(s);
    if (st != RDG_OK) return st;
    if (s) it->st = *s;
    it->st.label = NULL;
    if (it->st.rgb < 0) it->color = rdp__palette(p->palette_next++);
    else it->color = (unsigned long)it->st.rgb;
    if (s && s->label && !(it->label = rdp__strdup(s->label))) return RDG_ERR_NOMEM;
    return RDG_OK;
}

static rdg_status rdp__copy_xy(const rdg_real *x, const rdg_real *y, size_t n, size_t stride,
                               double **out) {
    size_t i;
    double *d;
    if (n == 0 || n > RDP_MAX_POINTS) return n ? RDG_ERR_OVERFLOW : RDG_ERR_INVALID;
    d = (double *)malloc(2 * n * sizeof *d);
    if (!d) return RDG_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        d[2 * i] = x ? (double)x[i * stride] : (double)i;
        d[2 * i + 1] = (double)y[i * stride];
    }
    *out = d;
    return RDG_OK;
}

static rdg_status rdp__add_xy(rdp_plot *p, int kind, const rdg_real *x, const rdg_real *y,
                              size_t n, size_t stride, const rdp_style *s) {
    rdp__item *it;
    rdg_status st;
    if (!p || !y) return RDG_ERR_INVALID;
    if ((st = rdp__check_style(s)) != RDG_OK) return st;
    if ((st = rdp__push(p, &it)) != RDG_OK) return st;
    it->kind = kind;
    it->n = n;
    if ((st = rdp__copy_xy(x, y, n, stride, &it->xy)) != RDG_OK) return st;
    if ((st = rdp__item_style(p, it, s)) != RDG_OK) { free(it->xy); free(it->label); return st; }
    p->nitems++;
    return RDG_OK;
}

/* n points xy[2i], xy[2i+1] drawn as markers. Non-finite points are skipped. */
RDP_FN rdg_status rdp_plot_add_points(rdp_plot *p, const rdg_real *xy, size_t n, const rdp_style *s) {
    if (!xy) return RDG_ERR_INVALID;
    return rdp__add_xy(p, RDP__POINTS, xy, xy + 1, n, 2, s);
}

/* A polyline through n points (broken at non-finite points). */
RDP_FN rdg_status rdp_plot_add_polyline(rdp_plot *p, const rdg_real *xy, size_t n, const rdp_style *s) {
    if (!xy) return RDG_ERR_INVALID;
    return rdp__add_xy(p, RDP__LINE, xy, xy + 1, n, 2, s);
}

/* A named series y[i] against x[i] (x NULL: i) for line plots: a polyline, optionally with
   markers (s->marker_size > 0). s NULL or s->rgb < 0 takes the next palette colour. */
RDP_FN rdg_status rdp_plot_add_series(rdp_plot *p, const rdg_real *x, const rdg_real *y, size_t n,
                                      const rdp_style *s) {
    rdp_style d;
    if (!y) return RDG_ERR_INVALID;
    memset(&d, 0, sizeof d);
    if (s) d = *s; else d.rgb = -1;
    return rdp__add_xy(p, RDP__LINE, x, y, n, 1, &d);
}

/* A polyline coloured by a value per point (e.g. the time t along a trajectory): segment i
   (point i to i+1) takes the colour of the mean of val[i], val[i+1] (geometric mean when log)
   mapped from [vmin, vmax] (log10 scale when log != 0; then vmin > 0) through cmap. The plot
   shows a colour bar per distinct (vmin, vmax, log, cmap, label). width <= 0: 1.5 px. */
RDP_FN rdg_status rdp_plot_add_polyline_colored(rdp_plot *p, const rdg_real *xy, size_t n,
                                                const rdg_real *val, double vmin, double vmax,
                                                int log, int cmap, double width, const char *label) {
    rdp__item *it;
    rdg_status st;
    size_t i;
    if (!p || !xy || !val || n == 0) return RDG_ERR_INVALID;
    if (n > RDP_MAX_POINTS) return RDG_ERR_OVERFLOW;
    if (!rdp__finite(vmin) || !rdp__finite(vmax)) return RDG_ERR_NONFINITE;
    if (!(vmin < vmax) || (log && !(vmin > 0))) return RDG_ERR_INVALID;
    if (cmap < 0 || cmap >= (int)RDP_CMAP_COUNT_) return RDG_ERR_INVALID;
    if (!rdp__finite(width) || width > 1000) return RDG_ERR_INVALID;
    if ((st = rdp__push(p, &it)) != RDG_OK) return st;
    it->kind = RDP__CLINE;
    it->n = n; it->vmin = vmin; it->vmax = vmax; it->vlog = log != 0; it->cmap = cmap;
    it->st.size = width > 0 ? width : 1.5;
    if ((st = rdp__copy_xy(xy, xy + 1, n, 2, &it->xy)) != RDG_OK) return st;
    it->val = (double *)malloc(n * sizeof *it->val);
    if (!it->val) { free(it->xy); return RDG_ERR_NOMEM; }
    for (i = 0; i < n; i++) it->val[i] = (double)val[i];
    if (label && !(it->label = rdp__strdup(label))) { free(it->xy); free(it->val); return RDG_ERR_NOMEM; }
    p->nitems++;
    return RDG_OK;
}

/* A scalar field on an nx x ny grid drawn as a heatmap under everything else: v[j*nx + i] is
   the cell [x0 + i dx, x0 + (i+1) dx] x [y0 + j dy, y0 + (j+1) dy], dx = (x1-x0)/nx,
   dy = (y1-y0)/ny (row j = 0 at the bottom). Colours map [vmin, vmax] (vmin >= vmax: the
   finite range of v) through cmap; NaN cells are transparent, +-Inf clamp. label: the colour
   bar's label (NULL: no colour bar). Automatic bounds become the field's extent. */
RDP_FN rdg_status rdp_plot_add_field(rdp_plot *p, const rdg_real *v, size_t nx, size_t ny,
                                     double x0, double x1, double y0, double y1,
                                     double vmin, double vmax, int cmap, const char *label) {
    rdp__item *it;
    rdg_status st;
    size_t i, n;
    if (!p || !v || nx == 0 || ny == 0) return RDG_ERR_INVALID;
    if (nx > RDP_MAX_PNG_SIDE || ny > RDP_MAX_PNG_SIDE || nx > RDP_MAX_GRID / ny) return RDG_ERR_OVERFLOW;
    if (!rdp__finite(x0) || !rdp__finite(x1) || !rdp__finite(y0) || !rdp__finite(y1) ||
        !rdp__finite(vmin) || !rdp__finite(vmax)) return RDG_ERR_NONFINITE;
    if (!(x0 < x1) || !(y0 < y1)) return RDG_ERR_INVALID;
    if (cmap < 0 || cmap >= (int)RDP_CMAP_COUNT_) return RDG_ERR_INVALID;
    n = nx * ny;
    if (!(vmin < vmax)) {                              /* automatic range */
        int any = 0;
        for (i = 0; i < n; i++) {
            double a = (double)v[i];
            if (!rdp__finite(a)) continue;
            if (!any || a < vmin) vmin = a;
            if (!any || a > vmax) vmax = a;
            any = 1;
        }
        if (!any) { vmin = 0; vmax = 1; }
        if (!(vmin < vmax)) { vmin -= 0.5; vmax += 0.5; }
        if (!rdp__finite(vmax - vmin)) return RDG_ERR_OVERFLOW;
    }
    if ((st = rdp__push(p, &it)) != RDG_OK) return st;
    it->kind = RDP__FIELD;
    it->nx = nx; it->ny = ny; it->n = n;
    it->x0 = x0; it->x1 = x1; it->y0 = y0; it->y1 = y1;
    it->vmin = vmin; it->vmax = vmax; it->cmap = cmap;
    it->val = (double *)malloc(n * sizeof *it->val);
    if (!it->val) return RDG_ERR_NOMEM;
    for (i = 0; i < n; i++) it->val[i] = (double)v[i];
    if (label && !(it->label = rdp__strdup(label))) { free(it->val); return RDG_ERR_NOMEM; }
    p->nitems++;
    return RDG_OK;
}

/* Text at data point (x, y), anchored by anchor (rdp_anchor); s->size is the font size,
   s->rgb the colour (s may be NULL). Skipped when the point is not finite. */
RDP_FN rdg_status rdp_plot_add_text(rdp_plot *p, double x, double y, const char *text,
                                    const rdp_style *s, int anchor) {
    rdp__item *it;
    rdg_status st;
    rdp_style d;
    if (!p || !text || anchor < 0 || anchor > (int)RDP_ANCHOR_END) return RDG_ERR_INVALID;
    if ((st = rdp__check_style(s)) != RDG_OK) return st;
    memset(&d, 0, sizeof d);
    if (s) d = *s;
    d.label = NULL;
    if ((st = rdp__push(p, &it)) != RDG_OK) return st;
    it->kind = RDP__TEXT;
    it->n = 1; it->anchor = anchor;
    it->xy = (double *)malloc(2 * sizeof *it->xy);
    if (!it->xy) return RDG_ERR_NOMEM;
    it->xy[0] = x; it->xy[1] = y;
    if (!(it->text = rdp__strdup(text))) { free(it->xy); return RDG_ERR_NOMEM; }
    if ((st = rdp__item_style(p, it, &d)) != RDG_OK) { free(it->xy); free(it->text); return st; }
    p->nitems++;
    return RDG_OK;
}

/* ---- rendering ----------------------------------------------------------------------------- */

typedef struct rdp__axis {
    double lo, hi;          /* data range                                                      */
    int log;
    double p0, p1;          /* pixel positions of lo and hi                                    */
    double ticks[64];
    int nticks;
    double minor[128];      /* unlabelled ticks (log axes)                                     */
    int nminor;
} rdp__axis;

static double rdp__f(const rdp__axis *a, double v) { return a->log ? log10(v) : v; }

static int rdp__valid(const rdp__axis *a, double v) { return rdp__finite(v) && (!a->log || v > 0); }

static double rdp__map(const rdp__axis *a, double v) {
    double f0 = rdp__f(a, a->lo), f1 = rdp__f(a, a->hi);
    return a->p0 + (rdp__f(a, v) - f0) / (f1 - f0) * (a->p1 - a->p0);
}

/* Tick positions for [lo, hi]: linear 1-2-5 steps aiming at about `target` ticks, or log
   decades (with 2 and 5 when the range spans less than two decades). */
static void rdp__ticks(rdp__axis *a, int target) {
    a->nticks = 0; a->nminor = 0;
    if (a->log) {
        double l0 = log10(a->lo), l1 = log10(a->hi);
        int e0 = (int)floor(l0), e1 = (int)ceil(l1), e, step = 1, k;
        if (e1 - e0 > 60) e1 = e0 + 60;
        while ((e1 - e0) / step > 8) step++;
        for (e = e0; e <= e1; e++) {
            double base = pow(10.0, e);
            for (k = 1; k <= 9; k++) {
                double v = base * k;
                if (v < a->lo * (1 - 1e-9) || v > a->hi * (1 + 1e-9)) continue;
                if (k == 1 && (e - e0) % step == 0) { if (a->nticks < 64) a->ticks[a->nticks++] = v; }
                else if ((k == 2 || k == 5) && (l1 - l0) < 1.3) { if (a->nticks < 64) a->ticks[a->nticks++] = v; }
                else if (step == 1 && a->nminor < 128) a->minor[a->nminor++] = v;
            }
        }
        if (a->nticks < 2 && (l1 - l0) < 0.4) {        /* under half a decade: linear ticks */
            a->log = 0;
            rdp__ticks(a, target);
            a->log = 1;
            a->nminor = 0;
        }
    } else {
        double span = a->hi - a->lo, raw = span / (target > 1 ? target : 1), mag, step, t;
        long k0, k;
        mag = pow(10.0, floor(log10(raw)));
        step = raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10;
        step *= mag;
        k0 = (long)ceil(a->lo / step - 1e-9);
        for (k = k0; a->nticks < 64; k++) {
            t = (double)k * step;
            if (t > a->hi + step * 1e-9) break;
            if (fabs(t) < step * 1e-9) t = 0;
            a->ticks[a->nticks++] = t;
        }
    }
}

static void rdp__tick_label(char out[32], double v, int logax) {
    if (logax) {
        double e = log10(v);
        if (fabs(e - floor(e + 0.5)) < 1e-9 && (e > 3.5 || e < -2.5)) {
            snprintf(out, 32, "1e%d", (int)floor(e + 0.5));
            return;
        }
    }
    rdp_fmt(out, v, "%.6g");
    if (out[0] == '-' && strlen(out) < 29) {           /* typographic minus, U+2212 */
        memmove(out + 3, out + 1, strlen(out));
        out[0] = (char)0xE2; out[1] = (char)0x88; out[2] = (char)0x92;
    }
}

/* Automatic range of one coordinate (0: x, 1: y) over the items. */
static void rdp__auto_range(const rdp_plot *p, int c, int logax, double *lo, double *hi) {
    size_t i, k;
    int any = 0, field = 0;
    double a = 0, b = 0;
    for (i = 0; i < p->nitems; i++) {                  /* fields define the frame */
        const rdp__item *it = &p->items[i];
        double f0, f1;
        if (it->kind != RDP__FIELD) continue;
        f0 = c ? it->y0 : it->x0; f1 = c ? it->y1 : it->x1;
        if (logax && !(f0 > 0)) continue;
        if (!field || f0 < a) a = f0;
        if (!field || f1 > b) b = f1;
        field = 1;
    }
    if (field) { *lo = a; *hi = b; return; }
    for (i = 0; i < p->nitems; i++) {
        const rdp__item *it = &p->items[i];
        if (it->kind == RDP__FIELD) continue;
        for (k = 0; k < it->n; k++) {
            double v = it->xy[2 * k + (size_t)c], o = it->xy[2 * k + 1 - (size_t)c];
            if (!rdp__finite(v) || !rdp__finite(o) || (logax && !(v > 0))) continue;
            if (!any || v < a) a = v;
            if (!any || v > b) b = v;
            any = 1;
        }
    }
    if (!any) { a = logax ? 1 : 0; b = logax ? 10 : 1; }
    if (logax) {
        double la = log10(a), lb = log10(b), pad;
        if (lb - la < 1e-12) { la -= 0.5; lb += 0.5; }
        pad = 0.05 * (lb - la);
        a = pow(10.0, la - pad); b = pow(10.0, lb + pad);
    } else {
        double pad;
        if (!(b - a > 1e-12 * (fabs(a) + fabs(b)))) { double h = a != 0 ? 0.1 * fabs(a) : 1; a -= h; b += h; }
        pad = 0.05 * (b - a);
        a -= pad; b += pad;
    }
    *lo = a; *hi = b;
}

typedef struct rdp__cbar {
    double vmin, vmax;
    int log, cmap;
    const char *label;
} rdp__cbar;

static void rdp__rgb_hex(char out[8], unsigned long c) {
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)((c >> 16) & 255), (unsigned)((c >> 8) & 255),
             (unsigned)(c & 255));
}

static unsigned long rdp__cmap_color(int cmap, double u) {
    unsigned char rgb[3];
    rdp_cmap_rgb((rdp_cmap)cmap, u, rgb);
    return ((unsigned long)rgb[0] << 16) | ((unsigned long)rgb[1] << 8) | rgb[2];
}

static void rdp__attr_px(rdp_buf *b, const char *name, double v) {
    rdp_buf_printf(b, " %s=\"", name);
    rdp_buf_px(b, v);
    rdp_buf_puts(b, "\"");
}

static void rdp__text(rdp_buf *b, double x, double y, const char *anchor, double size,
                      const char *extra, const char *text) {
    rdp_buf_puts(b, "<text");
    rdp__attr_px(b, "x", x);
    rdp__attr_px(b, "y", y);
    if (anchor) rdp_buf_printf(b, " text-anchor=\"%s\"", anchor);
    rdp_buf_puts(b, " font-size=\"");
    rdp_buf_px(b, size);
    rdp_buf_puts(b, "\"");
    if (extra) rdp_buf_puts(b, extra);
    rdp_buf_puts(b, ">");
    rdp_buf_escape(b, text);
    rdp_buf_puts(b, "</text>\n");
}

/* One marker centred at (x, y) with radius r, inside a <g> that sets fill and stroke. */
static void rdp__marker(rdp_buf *b, int m, double x, double y, double r) {
    switch (m) {
    case RDP_MARK_SQUARE:
        rdp_buf_puts(b, "<rect"); rdp__attr_px(b, "x", x - r); rdp__attr_px(b, "y", y - r);
        rdp__attr_px(b, "width", 2 * r); rdp__attr_px(b, "height", 2 * r); rdp_buf_puts(b, "/>");
        break;
    case RDP_MARK_TRIANGLE: case RDP_MARK_DIAMOND: case RDP_MARK_CROSS: case RDP_MARK_PLUS:
        rdp_buf_puts(b, "<path d=\"M");
        if (m == RDP_MARK_TRIANGLE) {
            rdp_buf_px(b, x); rdp_buf_puts(b, " "); rdp_buf_px(b, y - 1.2 * r);
            rdp_buf_puts(b, "L"); rdp_buf_px(b, x + 1.1 * r); rdp_buf_puts(b, " "); rdp_buf_px(b, y + 0.8 * r);
            rdp_buf_puts(b, "L"); rdp_buf_px(b, x - 1.1 * r); rdp_buf_puts(b, " "); rdp_buf_px(b, y + 0.8 * r);
            rdp_buf_puts(b, "Z");
        } else if (m == RDP_MARK_DIAMOND) {
            rdp_buf_px(b, x); rdp_buf_puts(b, " "); rdp_buf_px(b, y - 1.3 * r);
            rdp_buf_puts(b, "L"); rdp_buf_px(b, x + r); rdp_buf_puts(b, " "); rdp_buf_px(b, y);
            rdp_buf_puts(b, "L"); rdp_buf_px(b, x); rdp_buf_puts(b, " "); rdp_buf_px(b, y + 1.3 * r);
            rdp_buf_puts(b, "L"); rdp_buf_px(b, x - r); rdp_buf_puts(b, " "); rdp_buf_px(b, y);
            rdp_buf_puts(b, "Z");
        } else {                                       /* cross or plus: two strokes */
            double d = m == RDP_MARK_CROSS ? 0.8 * r : r, ay = m == RDP_MARK_CROSS ? d : 0;
            rdp_buf_px(b, x - d); rdp_buf_puts(b, " "); rdp_buf_px(b, y - ay);
            rdp_buf_puts(b, "L"); rdp_buf_px(b, x + d); rdp_buf_puts(b, " "); rdp_buf_px(b, y + ay);
            rdp_buf_puts(b, "M");
            if (m == RDP_MARK_CROSS) {
                rdp_buf_px(b, x - d); rdp_buf_puts(b, " "); rdp_buf_px(b, y + d);
                rdp_buf_puts(b, "L"); rdp_buf_px(b, x + d); rdp_buf_puts(b, " "); rdp_buf_px(b, y - d);
            } else {
                rdp_buf_px(b, x); rdp_buf_puts(b, " "); rdp_buf_px(b, y - d);
                rdp_buf_puts(b, "L"); rdp_buf_px(b, x); rdp_buf_puts(b, " "); rdp_buf_px(b, y + d);
            }
        }
        rdp_buf_puts(b, "\"/>");
        break;
    default:
        rdp_buf_puts(b, "<circle"); rdp__attr_px(b, "cx", x); rdp__attr_px(b, "cy", y);
        rdp__attr_px(b, "r", r); rdp_buf_puts(b, "/>");
        break;
    }
}

/* Opens a <g> with the paint of a marker group. */
static void rdp__marker_group(rdp_buf *b, const rdp__item *it, double r) {
    char hex[8];
    int stroked = it->st.marker == RDP_MARK_CROSS || it->st.marker == RDP_MARK_PLUS;
    rdp__rgb_hex(hex, it->color);
    if (stroked) {
        rdp_buf_printf(b, "<g fill=\"none\" stroke=\"%s\" stroke-width=\"", hex);
        rdp_buf_px(b, r > 4 ? r / 3 : 1.3);
        rdp_buf_puts(b, "\" stroke-linecap=\"round\"");
    } else {
        rdp_buf_printf(b, "<g fill=\"%s\"", hex);
        if (it->st.edge == RDP_EDGE_WHITE) rdp_buf_puts(b, " stroke=\"#ffffff\" stroke-width=\"0.8\"");
        else if (it->st.edge == RDP_EDGE_BLACK) rdp_buf_puts(b, " stroke=\"#000000\" stroke-width=\"0.8\"");
    }
    if (it->st.opacity > 0 && it->st.opacity < 1) {
        rdp_buf_puts(b, " opacity=\"");
        rdp_buf_num(b, it->st.opacity);
        rdp_buf_puts(b, "\"");
    }
    rdp_buf_puts(b, ">");
}

static void rdp__line_attrs(rdp_buf *b, const rdp__item *it, int with_color) {
    double w = it->st.size > 0 ? it->st.size : 1.5;
    if (with_color) {
        char hex[8];
        rdp__rgb_hex(hex, it->color);
        rdp_buf_printf(b, " stroke=\"%s\"", hex);
    }
    rdp_buf_puts(b, " fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\" stroke-width=\"");
    rdp_buf_px(b, w);
    rdp_buf_puts(b, "\"");
    if (it->st.dash == RDP_DASH_DASHED) {
        rdp_buf_puts(b, " stroke-dasharray=\""); rdp_buf_px(b, 4 * w); rdp_buf_puts(b, ",");
        rdp_buf_px(b, 2.5 * w); rdp_buf_puts(b, "\"");
    } else if (it->st.dash == RDP_DASH_DOTTED) {
        rdp_buf_puts(b, " stroke-dasharray=\"0.1,"); rdp_buf_px(b, 2.5 * w); rdp_buf_puts(b, "\"");
    }
    if (it->st.opacity > 0 && it->st.opacity < 1) {
        rdp_buf_puts(b, " stroke-opacity=\""); rdp_buf_num(b, it->st.opacity); rdp_buf_puts(b, "\"");
    }
}

/* Heatmap of a field as an embedded PNG. */
static rdg_status rdp__field_svg(rdp_buf *b, const rdp__item *it, const rdp__axis *ax, const rdp__axis *ay) {
    unsigned char *px;
    rdp_buf png;
    size_t i, j;
    double X0, X1, Y0, Y1;
    rdg_status st;
    if (ax->log && !(it->x0 > 0)) return RDG_OK;
    if (ay->log && !(it->y0 > 0)) return RDG_OK;
    px = (unsigned char *)malloc(it->n * 4);
    if (!px) return RDG_ERR_NOMEM;
    for (j = 0; j < it->ny; j++) {
        unsigned char *row = px + (it->ny - 1 - j) * it->nx * 4;
        for (i = 0; i < it->nx; i++) {
            double v = it->val[j * it->nx + i];
            unsigned char *q = row + 4 * i;
            if (!(v == v)) { q[0] = q[1] = q[2] = q[3] = 0; continue; }
            rdp_cmap_rgb((rdp_cmap)it->cmap, (v - it->vmin) / (it->vmax - it->vmin), q);
            q[3] = 255;
        }
    }
    rdp_buf_init(&png);
    st = rdp_png_encode(&png, px, it->nx, it->ny, 4);
    free(px);
    if (st != RDG_OK) { rdp_buf_free(&png); return st; }
    X0 = rdp__map(ax, it->x0); X1 = rdp__map(ax, it->x1);
    Y0 = rdp__map(ay, it->y1); Y1 = rdp__map(ay, it->y0);
    rdp_buf_puts(b, "<image");
    rdp__attr_px(b, "x", X0); rdp__attr_px(b, "y", Y0);
    rdp__attr_px(b, "width", X1 - X0); rdp__attr_px(b, "height", Y1 - Y0);
    rdp_buf_puts(b, " preserveAspectRatio=\"none\" xlink:href=\"data:image/png;base64,");
    rdp_buf_base64(b, (const unsigned char *)png.p, png.len);
    rdp_buf_puts(b, "\"/>\n");
    rdp_buf_free(&png);
    return b->err;
}

/* A polyline through the valid points, broken where a point is invalid. */
static void rdp__polyline_svg(rdp_buf *b, const rdp__item *it, const rdp__axis *ax, const rdp__axis *ay) {
    size_t k = 0;
    rdp_buf_puts(b, "<g");
    rdp__line_attrs(b, it, 1);
    rdp_buf_puts(b, ">\n");
    while (k < it->n) {
        size_t s = k, e;
        while (s < it->n && !(rdp__valid(ax, it->xy[2 * s]) && rdp__valid(ay, it->xy[2 * s + 1]))) s++;
        e = s;
        while (e < it->n && rdp__valid(ax, it->xy[2 * e]) && rdp__valid(ay, it->xy[2 * e + 1])) e++;
        if (e > s) {
            size_t q;
            rdp_buf_puts(b, "<polyline points=\"");
            for (q = s; q < e; q++) {
                if (q > s) rdp_buf_puts(b, " ");
                rdp_buf_px(b, rdp__map(ax, it->xy[2 * q]));
                rdp_buf_puts(b, ",");
                rdp_buf_px(b, rdp__map(ay, it->xy[2 * q + 1]));
            }
            if (e - s == 1) {                          /* a lone point: a zero-length segment */
                rdp_buf_puts(b, " ");
                rdp_buf_px(b, rdp__map(ax, it->xy[2 * s]));
                rdp_buf_puts(b, ",");
                rdp_buf_px(b, rdp__map(ay, it->xy[2 * s + 1]));
            }
            rdp_buf_puts(b, "\"/>\n");
        }
        k = e;
    }
    rdp_buf_puts(b, "</g>\n");
}

/* Colour level (0..63) of segment k of a coloured line, or -1 when it is not drawn. */
static int rdp__seg_level(const rdp__item *it, size_t k, const rdp__axis *ax, const rdp__axis *ay) {
    double v0 = it->val[k], v1 = it->val[k + 1], v, u;
    int lv;
    if (!rdp__valid(ax, it->xy[2 * k]) || !rdp__valid(ay, it->xy[2 * k + 1]) ||
        !rdp__valid(ax, it->xy[2 * k + 2]) || !rdp__valid(ay, it->xy[2 * k + 3])) return -1;
    if (!rdp__finite(v0) || !rdp__finite(v1)) return -1;
    if (it->vlog) {
        if (!(v0 > 0) || !(v1 > 0)) return -1;
        v = 0.5 * (log10(v0) + log10(v1));
        u = (v - log10(it->vmin)) / (log10(it->vmax) - log10(it->vmin));
    } else {
        v = 0.5 * v0 + 0.5 * v1;
        u = (v - it->vmin) / (it->vmax - it->vmin);
    }
    if (!(u == u)) return -1;
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    lv = (int)(u * 63 + 0.5);
    return lv;
}

static void rdp__cline_svg(rdp_buf *b, const rdp__item *it, const rdp__axis *ax, const rdp__axis *ay) {
    size_t k = 0;
    rdp_buf_puts(b, "<g fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\" stroke-width=\"");
    rdp_buf_px(b, it->st.size);
    rdp_buf_puts(b, "\">\n");
    while (k + 1 < it->n) {
        int lv = rdp__seg_level(it, k, ax, ay);
        size_t e = k + 1, q;
        char hex[8];
        if (lv < 0) { k++; continue; }
        while (e + 1 < it->n && rdp__seg_level(it, e, ax, ay) == lv) e++;
        rdp__rgb_hex(hex, rdp__cmap_color(it->cmap, lv / 63.0));
        rdp_buf_printf(b, "<polyline stroke=\"%s\" points=\"", hex);
        for (q = k; q <= e; q++) {
            if (q > k) rdp_buf_puts(b, " ");
            rdp_buf_px(b, rdp__map(ax, it->xy[2 * q]));
            rdp_buf_puts(b, ",");
            rdp_buf_px(b, rdp__map(ay, it->xy[2 * q + 1]));
        }
        rdp_buf_puts(b, "\"/>\n");
        k = e;
    }
    rdp_buf_puts(b, "</g>\n");
}

static void rdp__points_svg(rdp_buf *b, const rdp__item *it, const rdp__axis *ax, const rdp__axis *ay,
                            double r) {
    size_t k;
    double xa = ax->p0 < ax->p1 ? ax->p0 : ax->p1, xb = ax->p0 < ax->p1 ? ax->p1 : ax->p0;
    double ya = ay->p0 < ay->p1 ? ay->p0 : ay->p1, yb = ay->p0 < ay->p1 ? ay->p1 : ay->p0;
    rdp__marker_group(b, it, r);
    rdp_buf_puts(b, "\n");
    for (k = 0; k < it->n; k++) {
        double X, Y;
        if (!rdp__valid(ax, it->xy[2 * k]) || !rdp__valid(ay, it->xy[2 * k + 1])) continue;
        X = rdp__map(ax, it->xy[2 * k]); Y = rdp__map(ay, it->xy[2 * k + 1]);
        if (X < xa - 2 * r - 2 || X > xb + 2 * r + 2 || Y < ya - 2 * r - 2 || Y > yb + 2 * r + 2) continue;
        rdp__marker(b, it->st.marker, X, Y, r);
        rdp_buf_puts(b, "\n");
    }
    rdp_buf_puts(b, "</g>\n");
}

/* Estimated width in px of a label in a sans font of size fs. */
static double rdp__text_w(const char *s, double fs) {
    double w = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (; *u; u++) if ((*u & 0xC0) != 0x80) w += (*u == '.' || *u == '-' || *u == '1') ? 0.45 : 0.6;
    return w * fs;
}

static void rdp__axis_ticks_svg(rdp_buf *b, const rdp__axis *a, int vertical, double at, double dir) {
    int k;
    char lab[32];
    double fs = 11;
    for (k = 0; k < a->nticks + a->nminor; k++) {
        int major = k < a->nticks;
        double v = major ? a->ticks[k] : a->minor[k - a->nticks];
        double P = rdp__map(a, v), len = major ? 5 : 3;
        if (!rdp__finite(P)) continue;
        if (vertical) {
            rdp_buf_puts(b, "<line"); rdp__attr_px(b, "x1", at); rdp__attr_px(b, "y1", P);
            rdp__attr_px(b, "x2", at + dir * len); rdp__attr_px(b, "y2", P); rdp_buf_puts(b, "/>\n");
            if (major) {
                rdp__tick_label(lab, v, a->log);
                rdp__text(b, at + dir * (len + 3), P + 0.35 * fs, dir < 0 ? "end" : "start", fs,
                          " stroke=\"none\"", lab);
            }
        } else {
            rdp_buf_puts(b, "<line"); rdp__attr_px(b, "x1", P); rdp__attr_px(b, "y1", at);
            rdp__attr_px(b, "x2", P); rdp__attr_px(b, "y2", at + dir * len); rdp_buf_puts(b, "/>\n");
            if (major) {
                rdp__tick_label(lab, v, a->log);
                rdp__text(b, P, at + dir * (len + 3) + (dir > 0 ? fs * 0.85 : 0), "middle", fs,
                          " stroke=\"none\"", lab);
            }
        }
    }
}

/* Appends the plot as a standalone SVG 1.1 document to out. */
RDP_FN rdg_status rdp_plot_svg(const rdp_plot *p, rdp_buf *out) {
    rdp__axis ax, ay;
    rdp__cbar cb[8];
    int ncb = 0, c, k, nleg = 0, has_field = 0;
    size_t i;
    double left, right, top, bottom, W, H, pw, ph, maxlab = 0;
    char lab[32];
    rdp_buf *b = out;
    rdg_status st;
    if (!p || !out) return RDG_ERR_INVALID;
    if (out->err) return out->err;
    W = p->width; H = p->height;
    memset(&ax, 0, sizeof ax); memset(&ay, 0, sizeof ay);
    ax.log = p->xlog; ay.log = p->ylog;

    /* colour bars: one per distinct (range, scale, map, label) */
    for (i = 0; i < p->nitems; i++) {
        const rdp__item *it = &p->items[i];
        int dup = 0;
        if ((it->kind != RDP__FIELD && it->kind != RDP__CLINE) || !it->label) continue;
        if (it->kind == RDP__FIELD) has_field = 1;
        for (c = 0; c < ncb; c++)
            if (cb[c].vmin == it->vmin && cb[c].vmax == it->vmax && cb[c].log == it->vlog &&
                cb[c].cmap == it->cmap && strcmp(cb[c].label, it->label) == 0) dup = 1;
        if (!dup && ncb < 8) {
            cb[ncb].vmin = it->vmin; cb[ncb].vmax = it->vmax; cb[ncb].log = it->vlog;
            cb[ncb].cmap = it->cmap; cb[ncb].label = it->label; ncb++;
        }
    }
    for (i = 0; i < p->nitems; i++) if (p->items[i].kind == RDP__FIELD) has_field = 1;

    /* data bounds */
    if (p->fixed) {
        ax.lo = p->bx0; ax.hi = p->bx1; ay.lo = p->by0; ay.hi = p->by1;
        if ((ax.log && !(ax.lo > 0)) || (ay.log && !(ay.lo > 0))) return b->err = RDG_ERR_INVALID;
    } else {
        rdp__auto_range(p, 0, ax.log, &ax.lo, &ax.hi);
        rdp__auto_range(p, 1, ay.log, &ay.lo, &ay.hi);
    }
    if (!rdp__finite(ax.hi - ax.lo) || !rdp__finite(ay.hi - ay.lo)) return b->err = RDG_ERR_OVERFLOW;

    /* layout: the left margin fits the y tick labels */
    top = p->title ? 38 : 16;
    bottom = p->xlabel ? 50 : 32;
    right = 18 + ncb * 72.0;
    ph = H - top - bottom;
    rdp__ticks(&ay, ph > 300 ? 7 : 5);
    for (k = 0; k < ay.nticks; k++) {
        double w;
        rdp__tick_label(lab, ay.ticks[k], ay.log);
        w = rdp__text_w(lab, 11);
        if (w > maxlab) maxlab = w;
    }
    left = 14 + maxlab + (p->ylabel ? 22 : 4);
    pw = W - left - right;
    if (pw < 20 || ph < 20) return b->err = RDG_ERR_INVALID;
    if (p->equal && !ax.log && !ay.log) {            /* shrink the box along the long side */
        double sx = (ax.hi - ax.lo) / pw, sy = (ay.hi - ay.lo) / ph;
        if (sx > sy) { double nh = (ay.hi - ay.lo) / sx; top += 0.5 * (ph - nh); ph = nh; }
        else { double nw = (ax.hi - ax.lo) / sy; left += 0.5 * (pw - nw); pw = nw; }
        if (pw < 20 || ph < 20) return b->err = RDG_ERR_INVALID;
        rdp__ticks(&ay, ph > 300 ? 7 : 5);
    }
    ax.p0 = left; ax.p1 = left + pw;
    ay.p0 = top + ph; ay.p1 = top;
    rdp__ticks(&ax, pw > 400 ? 7 : 5);

    /* document */
    rdp_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    rdp_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\""
                   " version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                   " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
                   (int)W, (int)H, (int)W, (int)H);
    if (p->title) { rdp_buf_puts(b, "<title>"); rdp_buf_escape(b, p->title); rdp_buf_puts(b, "</title>\n"); }
    rdp_buf_puts(b, "<defs>\n<clipPath id=\"rdp-area\"><rect");
    rdp__attr_px(b, "x", left); rdp__attr_px(b, "y", top);
    rdp__attr_px(b, "width", pw); rdp__attr_px(b, "height", ph);
    rdp_buf_puts(b, "/></clipPath>\n");
    for (c = 0; c < ncb; c++) {
        rdp_buf_printf(b, "<linearGradient id=\"rdp-cb%d\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n", c);
        for (k = 0; k <= 16; k++) {
            char hex[8];
            rdp__rgb_hex(hex, rdp__cmap_color(cb[c].cmap, k / 16.0));
            rdp_buf_printf(b, "<stop offset=\"%d%%\" stop-color=\"%s\"/>\n", k * 100 / 16, hex);
        }
        rdp_buf_puts(b, "</linearGradient>\n");
    }
    rdp_buf_puts(b, "</defs>\n");
    rdp_buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", (int)W, (int)H);

    /* plot area: grid lines (without a field), fields, then the rest in order */
    rdp_buf_puts(b, "<g clip-path=\"url(#rdp-area)\">\n");
    if (!has_field) {
        rdp_buf_puts(b, "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
        for (k = 0; k < ax.nticks; k++) {
            double X = rdp__map(&ax, ax.ticks[k]);
            rdp_buf_puts(b, "<line"); rdp__attr_px(b, "x1", X); rdp__attr_px(b, "y1", top);
            rdp__attr_px(b, "x2", X); rdp__attr_px(b, "y2", top + ph); rdp_buf_puts(b, "/>\n");
        }
        for (k = 0; k < ay.nticks; k++) {
            double Y = rdp__map(&ay, ay.ticks[k]);
            rdp_buf_puts(b, "<line"); rdp__attr_px(b, "x1", left); rdp__attr_px(b, "y1", Y);
            rdp__attr_px(b, "x2", left + pw); rdp__attr_px(b, "y2", Y); rdp_buf_puts(b, "/>\n");
        }
        rdp_buf_puts(b, "</g>\n");
    }
    for (i = 0; i < p->nitems; i++)
        if (p->items[i].kind == RDP__FIELD && (st = rdp__field_svg(b, &p->items[i], &ax, &ay)) != RDG_OK)
            return b->err = st;
    for (i = 0; i < p->nitems; i++) {
        const rdp__item *it = &p->items[i];
        switch (it->kind) {
        case RDP__CLINE: rdp__cline_svg(b, it, &ax, &ay); break;
        case RDP__LINE:
            rdp__polyline_svg(b, it, &ax, &ay);
            if (it->st.marker_size > 0) rdp__points_svg(b, it, &ax, &ay, it->st.marker_size);
            break;
        case RDP__POINTS: rdp__points_svg(b, it, &ax, &ay, it->st.size > 0 ? it->st.size : 3); break;
        case RDP__TEXT:
            if (rdp__valid(&ax, it->xy[0]) && rdp__valid(&ay, it->xy[1])) {
                char hex[8], extra[40];
                rdp__rgb_hex(hex, it->color);
                snprintf(extra, sizeof extra, " fill=\"%s\"", hex);
                rdp__text(b, rdp__map(&ax, it->xy[0]), rdp__map(&ay, it->xy[1]),
                          it->anchor == RDP_ANCHOR_MIDDLE ? "middle" : it->anchor == RDP_ANCHOR_END ? "end" : "start",
                          it->st.size > 0 ? it->st.size : 12, extra, it->text);
            }
            break;
        default: break;
        }
        if (b->err) break;
    }
    rdp_buf_puts(b, "</g>\n");

    /* frame, ticks, labels */
    rdp_buf_puts(b, "<g stroke=\"#000000\" stroke-width=\"1\" fill=\"#000000\">\n<rect fill=\"none\"");
    rdp__attr_px(b, "x", left); rdp__attr_px(b, "y", top);
    rdp__attr_px(b, "width", pw); rdp__attr_px(b, "height", ph); rdp_buf_puts(b, "/>\n");
    rdp__axis_ticks_svg(b, &ax, 0, top + ph, 1);
    rdp__axis_ticks_svg(b, &ay, 1, left, -1);
    rdp_buf_puts(b, "</g>\n");
    if (p->xlabel) rdp__text(b, left + 0.5 * pw, top + ph + 38, "middle", 13, NULL, p->xlabel);
    if (p->ylabel) {
        char tr[96], sx[32], sy[32];
        double lx = left - maxlab - 20;
        rdp_fmt(sx, lx, "%.2f"); rdp_fmt(sy, top + 0.5 * ph, "%.2f");
        snprintf(tr, sizeof tr, " transform=\"rotate(-90 %s %s)\"", sx, sy);
        rdp__text(b, lx, top + 0.5 * ph, "middle", 13, tr, p->ylabel);
    }
    if (p->title) rdp__text(b, left + 0.5 * pw, top - 14, "middle", 15, " font-weight=\"bold\"", p->title);

    /* colour bars, right of the plot */
    for (c = 0; c < ncb; c++) {
        rdp__axis ca;
        double x = left + pw + 14 + c * 72.0, wbar = 12, cbw = 0;
        memset(&ca, 0, sizeof ca);
        ca.lo = cb[c].vmin; ca.hi = cb[c].vmax; ca.log = cb[c].log;
        ca.p0 = top + ph; ca.p1 = top;
        rdp__ticks(&ca, 6);
        for (k = 0; k < ca.nticks; k++) {
            double w;
            rdp__tick_label(lab, ca.ticks[k], ca.log);
            w = rdp__text_w(lab, 11);
            if (w > cbw) cbw = w;
        }
        rdp_buf_printf(b, "<rect fill=\"url(#rdp-cb%d)\" stroke=\"#000000\" stroke-width=\"0.8\"", c);
        rdp__attr_px(b, "x", x); rdp__attr_px(b, "y", top);
        rdp__attr_px(b, "width", wbar); rdp__attr_px(b, "height", ph); rdp_buf_puts(b, "/>\n");
        rdp_buf_puts(b, "<g stroke=\"#000000\" stroke-width=\"1\" fill=\"#000000\">\n");
        rdp__axis_ticks_svg(b, &ca, 1, x + wbar, 1);
        rdp_buf_puts(b, "</g>\n");
        {
            char tr[96], sx[32], sy[32];
            double lx = x + wbar + 8 + cbw + 14, ly = top + 0.5 * ph;
            rdp_fmt(sx, lx, "%.2f"); rdp_fmt(sy, ly, "%.2f");
            snprintf(tr, sizeof tr, " transform=\"rotate(-90 %s %s)\"", sx, sy);
            rdp__text(b, lx, ly, "middle", 12, tr, cb[c].label);
        }
    }

    /* legend */
    for (i = 0; i < p->nitems; i++)
        if (p->items[i].label && (p->items[i].kind == RDP__POINTS || p->items[i].kind == RDP__LINE)) nleg++;
    if (nleg && p->legend != RDP_LEGEND_NONE) {
        double fs = 12, row = 18, wmax = 0, lw, lh, lx, ly;
        int r = 0;
        for (i = 0; i < p->nitems; i++) {
            const rdp__item *it = &p->items[i];
            if (it->label && (it->kind == RDP__POINTS || it->kind == RDP__LINE)) {
                double w = rdp__text_w(it->label, fs);
                if (w > wmax) wmax = w;
            }
        }
        lw = 44 + wmax; lh = 8 + nleg * row;
        lx = (p->legend == RDP_LEGEND_TOP_LEFT || p->legend == RDP_LEGEND_BOTTOM_LEFT) ? left + 10 : left + pw - 10 - lw;
        ly = (p->legend == RDP_LEGEND_BOTTOM_LEFT || p->legend == RDP_LEGEND_BOTTOM_RIGHT) ? top + ph - 10 - lh : top + 10;
        rdp_buf_puts(b, "<g>\n<rect fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#b0b0b0\" stroke-width=\"0.8\" rx=\"3\"");
        rdp__attr_px(b, "x", lx); rdp__attr_px(b, "y", ly);
        rdp__attr_px(b, "width", lw); rdp__attr_px(b, "height", lh); rdp_buf_puts(b, "/>\n");
        for (i = 0; i < p->nitems; i++) {
            const rdp__item *it = &p->items[i];
            double cy = ly + 4 + (r + 0.5) * row;
            if (!it->label || !(it->kind == RDP__POINTS || it->kind == RDP__LINE)) continue;
            if (it->kind == RDP__LINE) {
                rdp_buf_puts(b, "<line");
                rdp__line_attrs(b, it, 1);
                rdp__attr_px(b, "x1", lx + 8); rdp__attr_px(b, "y1", cy);
                rdp__attr_px(b, "x2", lx + 34); rdp__attr_px(b, "y2", cy); rdp_buf_puts(b, "/>\n");
                if (it->st.marker_size > 0) {
                    rdp__marker_group(b, it, it->st.marker_size);
                    rdp__marker(b, it->st.marker, lx + 21, cy, it->st.marker_size);
                    rdp_buf_puts(b, "</g>\n");
                }
            } else {
                double rr = it->st.size > 0 ? it->st.size : 3;
                if (rr > 6) rr = 6;
                rdp__marker_group(b, it, rr);
                rdp__marker(b, it->st.marker, lx + 21, cy, rr);
                rdp_buf_puts(b, "</g>\n");
            }
            rdp__text(b, lx + 40, cy + 0.35 * fs, "start", fs, NULL, it->label);
            r++;
        }
        rdp_buf_puts(b, "</g>\n");
    }
    rdp_buf_puts(b, "</svg>\n");
    return b->err;
}

/* Writes the plot's SVG to path (via path.tmp + rename). */
RDP_FN rdg_status rdp_plot_save_svg(const rdp_plot *p, const char *path) {
    rdp_buf b;
    rdg_status st;
    if (!p || !path) return RDG_ERR_INVALID;
    rdp_buf_init(&b);
    st = rdp_plot_svg(p, &b);
    if (st == RDG_OK) st = rdp_buf_save(&b, path);
    rdp_buf_free(&b);
    return st;
}

/* ==== PNG image grids ===================================================================== */

/* Tiles n grayscale images of w x h (img[k*w*h + r*w + c], row 0 on top, values in [0, 1],
   clamped; NaN drawn as 0.5) into a grid of ncols columns (0: about square), each pixel
   scaled to scale x scale (1..16), separated by border px (0..8) of mid-grey, and writes it
   as an 8-bit grayscale PNG. */
RDP_FN rdg_status rdp_png_grid(const char *path, const rdg_real *img, size_t n, size_t w, size_t h,
                               size_t ncols, size_t border, size_t scale) {
    size_t rows, W, H, k, r, c, sw, sh;
    unsigned char *px;
    rdp_buf png;
    rdg_status st;
    if (!path || !img || n == 0 || w == 0 || h == 0) return RDG_ERR_INVALID;
    if (border > 8 || scale == 0 || scale > 16) return RDG_ERR_INVALID;
    if (w > RDP_MAX_PNG_SIDE || h > RDP_MAX_PNG_SIDE || n > RDP_MAX_GRID) return RDG_ERR_OVERFLOW;
    if (ncols == 0) { ncols = (size_t)ceil(sqrt((double)n)); if (ncols == 0) ncols = 1; }
    if (ncols > n) ncols = n;
    rows = (n + ncols - 1) / ncols;
    sw = w * scale; sh = h * scale;
    if (ncols > RDP_MAX_PNG_SIDE || rows > RDP_MAX_PNG_SIDE) return RDG_ERR_OVERFLOW;
    W = ncols * (sw + border) + border;
    H = rows * (sh + border) + border;
    if (W > RDP_MAX_PNG_SIDE || H > RDP_MAX_PNG_SIDE) return RDG_ERR_OVERFLOW;
    px = (unsigned char *)malloc(W * H);
    if (!px) return RDG_ERR_NOMEM;
    memset(px, 128, W * H);
    for (k = 0; k < n; k++) {
        size_t ox = border + (k % ncols) * (sw + border), oy = border + (k / ncols) * (sh + border);
        const rdg_real *im = img + k * w * h;
        for (r = 0; r < sh; r++)
            for (c = 0; c < sw; c++) {
                double v = (double)im[(r / scale) * w + c / scale];
                if (!(v == v)) v = 0.5;
                if (v < 0) v = 0;
                if (v > 1) v = 1;
                px[(oy + r) * W + ox + c] = (unsigned char)(v * 255 + 0.5);
            }
    }
    rdp_buf_init(&png);
    st = rdp_png_encode(&png, px, W, H, 1);
    free(px);
    if (st == RDG_OK) st = rdp_buf_save(&png, path);
    rdp_buf_free(&png);
    return st;
}

/* ==== HTML report ========================================================================= */

/* An XHTML5 page (well-formed XML, so xmllint parses it). */
typedef struct rdp_html {
    rdp_buf b;
    int closed;
} rdp_html;

/* Starts a page (h is then always safe to rdp_html_free, even after an error). */
RDP_FN rdg_status rdp_html_begin(rdp_html *h, const char *title) {
    if (!h) return RDG_ERR_INVALID;
    rdp_buf_init(&h->b);
    h->closed = 0;
    if (!title) return h->b.err = RDG_ERR_INVALID;
    rdp_buf_puts(&h->b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
                 "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
                 "<meta charset=\"utf-8\"/>\n<title>");
    rdp_buf_escape(&h->b, title);
    rdp_buf_puts(&h->b, "</title>\n<style type=\"text/css\">\n"
                 "body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; max-width: 1100px;"
                 " margin: 2em auto; padding: 0 1em; color: #222; }\n"
                 "table { border-collapse: collapse; margin: 1em 0; }\n"
                 "th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }\n"
                 "th { background: #eee; }\n"
                 "figure { margin: 1em 0; }\n figcaption { font-size: 0.9em; color: #555; }\n"
                 "pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }\n"
                 "</style>\n</head>\n<body>\n<h1>");
    rdp_buf_escape(&h->b, title);
    rdp_buf_puts(&h->b, "</h1>\n");
    return h->b.err;
}

RDP_FN rdg_status rdp_html_free(rdp_html *h) {
    if (!h) return RDG_ERR_INVALID;
    return rdp_buf_free(&h->b);
}

static rdg_status rdp__html_open(rdp_html *h) {
    if (!h) return RDG_ERR_INVALID;
    if (h->closed) return RDG_ERR_INVALID;
    return h->b.err;
}

/* <hN> heading, level 1..6. */
RDP_FN rdg_status rdp_html_heading(rdp_html *h, int level, const char *text) {
    rdg_status st = rdp__html_open(h);
    if (st != RDG_OK) return st;
    if (level < 1 || level > 6 || !text) return RDG_ERR_INVALID;
    rdp_buf_printf(&h->b, "<h%d>", level);
    rdp_buf_escape(&h->b, text);
    rdp_buf_printf(&h->b, "</h%d>\n", level);
    return h->b.err;
}

/* A paragraph of text. */
RDP_FN rdg_status rdp_html_text(rdp_html *h, const char *text) {
    rdg_status st = rdp__html_open(h);
    if (st != RDG_OK) return st;
    if (!text) return RDG_ERR_INVALID;
    rdp_buf_puts(&h->b, "<p>");
    rdp_buf_escape(&h->b, text);
    rdp_buf_puts(&h->b, "</p>\n");
    return h->b.err;
}

/* Preformatted text (e.g. a command line or a log excerpt). */
RDP_FN rdg_status rdp_html_pre(rdp_html *h, const char *text) {
    rdg_status st = rdp__html_open(h);
    if (st != RDG_OK) return st;
    if (!text) return RDG_ERR_INVALID;
    rdp_buf_puts(&h->b, "<pre>");
    rdp_buf_escape(&h->b, text);
    rdp_buf_puts(&h->b, "</pre>\n");
    return h->b.err;
}

/* A figure: <img src alt> (width px when > 0) and an optional caption (NULL: none). */
RDP_FN rdg_status rdp_html_image(rdp_html *h, const char *src, const char *alt, const char *caption,
                                 int width) {
    rdg_status st = rdp__html_open(h);
    if (st != RDG_OK) return st;
    if (!src || !*src || width < 0) return RDG_ERR_INVALID;
    rdp_buf_puts(&h->b, "<figure>\n<img src=\"");
    rdp_buf_escape(&h->b, src);
    rdp_buf_puts(&h->b, "\" alt=\"");
    rdp_buf_escape(&h->b, alt ? alt : "");
    rdp_buf_puts(&h->b, "\"");
    if (width > 0) rdp_buf_printf(&h->b, " width=\"%d\"", width);
    rdp_buf_puts(&h->b, "/>\n");
    if (caption) {
        rdp_buf_puts(&h->b, "<figcaption>");
        rdp_buf_escape(&h->b, caption);
        rdp_buf_puts(&h->b, "</figcaption>\n");
    }
    rdp_buf_puts(&h->b, "</figure>\n");
    return h->b.err;
}

/* A table of nrows x ncols cells (row-major; a NULL cell is empty); the first header_rows
   rows are header cells. */
RDP_FN rdg_status rdp_html_table(rdp_html *h, const char *const *cells, size_t nrows, size_t ncols,
                                 size_t header_rows) {
    size_t r, c;
    rdg_status st = rdp__html_open(h);
    if (st != RDG_OK) return st;
    if (!cells || nrows == 0 || ncols == 0 || header_rows > nrows) return RDG_ERR_INVALID;
    if (ncols > ((size_t)-1) / nrows) return RDG_ERR_OVERFLOW;
    rdp_buf_puts(&h->b, "<table>\n");
    for (r = 0; r < nrows && !h->b.err; r++) {
        const char *tag = r < header_rows ? "th" : "td";
        if (r == 0 && header_rows) rdp_buf_puts(&h->b, "<thead>\n");
        if (r == header_rows) rdp_buf_puts(&h->b, "<tbody>\n");
        rdp_buf_puts(&h->b, "<tr>");
        for (c = 0; c < ncols; c++) {
            const char *s = cells[r * ncols + c];
            rdp_buf_printf(&h->b, "<%s>", tag);
            rdp_buf_escape(&h->b, s ? s : "");
            rdp_buf_printf(&h->b, "</%s>", tag);
        }
        rdp_buf_puts(&h->b, "</tr>\n");
        if (r + 1 == header_rows) rdp_buf_puts(&h->b, "</thead>\n");
    }
    if (header_rows < nrows) rdp_buf_puts(&h->b, "</tbody>\n");
    rdp_buf_puts(&h->b, "</table>\n");
    return h->b.err;
}

/* Closes the page (once) and writes it to path (via path.tmp + rename). */
RDP_FN rdg_status rdp_html_save(rdp_html *h, const char *path) {
    if (!h || !path) return RDG_ERR_INVALID;
    if (h->b.err) return h->b.err;
    if (!h->closed) {
        rdp_buf_puts(&h->b, "</body>\n</html>\n");
        if (h->b.err) return h->b.err;
        h->closed = 1;
    }
    return rdp_buf_save(&h->b, path);
}

#endif /* RIDGEDIFF_TOOLS_PLOT_H */
