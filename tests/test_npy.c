/* Unit tests for the .npy reader and writer: round trips, hand-made byte images of every
   supported dtype/byte order and format version, and every documented failure status. */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include "rdg_test.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>

/* ---- building .npy images by hand -------------------------------------------------------- */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 256);
        while (nc < b->len + n) nc *= 2;
        b->p = (unsigned char *)realloc(b->p, nc);
        if (!b->p) { fprintf(stderr, "out of memory\n"); exit(2); }
        b->cap = nc;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

/* magic + version + header length + dict padded with spaces and '\n' to a multiple of align */
static void npy_header(bytes *b, int major, int minor, const char *dict, size_t align) {
    unsigned char pre[12];
    size_t pre_len = (major == 1) ? 10 : 12, dl = strlen(dict), total, hl, i;
    memcpy(pre, "\x93NUMPY", 6);
    pre[6] = (unsigned char)major;
    pre[7] = (unsigned char)minor;
    total = pre_len + dl + 1;
    if (align) total = (total + align - 1) / align * align;
    hl = total - pre_len;
    if (major == 1) {
        pre[8] = (unsigned char)(hl & 0xff);
        pre[9] = (unsigned char)(hl >> 8);
    } else {
        pre[8] = (unsigned char)(hl & 0xff);
        pre[9] = (unsigned char)((hl >> 8) & 0xff);
        pre[10] = (unsigned char)((hl >> 16) & 0xff);
        pre[11] = (unsigned char)((hl >> 24) & 0xff);
    }
    put(b, pre, pre_len);
    put(b, dict, dl);
    for (i = pre_len + dl; i + 1 < total; i++) put(b, " ", 1);
    put(b, "\n", 1);
}

static int host_is_little(void) {
    const unsigned int one = 1;
    return *(const unsigned char *)&one == 1;
}

/* append n values as float32/float64 in the given byte order */
static void put_f32(bytes *b, const float *v, size_t n, int little) {
    size_t i, k;
    for (i = 0; i < n; i++) {
        unsigned char c[4], o[4];
        memcpy(c, &v[i], 4);
        for (k = 0; k < 4; k++) o[k] = (little == host_is_little()) ? c[k] : c[3 - k];
        put(b, o, 4);
    }
}
static void put_f64(bytes *b, const double *v, size_t n, int little) {
    size_t i, k;
    for (i = 0; i < n; i++) {
        unsigned char c[8], o[8];
        memcpy(c, &v[i], 8);
        for (k = 0; k < 8; k++) o[k] = (little == host_is_little()) ? c[k] : c[7 - k];
        put(b, o, 8);
    }
}

static rdg_status read_image(const bytes *b, rdg_array *a) {
    /* pre-fill with garbage (data NULL so that a missing zeroing cannot free garbage) */
    a->data = NULL;
    a->ndim = 77;
    a->count = 99;
    a->shape[0] = 5;
    return rdg_npy_read_mem(b->p, b->len, a);
}

static void check_zeroed(const rdg_array *a, const char *what) {
    CHECK(a->data == NULL && a->ndim == 0 && a->count == 0, "%s: array not zeroed after failure "
          "(data %p ndim %zu count %zu)", what, (void *)a->data, a->ndim, a->count);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_round_trip(void) {
    const size_t shapes[3][3] = { { 7, 0, 0 }, { 3, 5, 0 }, { 2, 3, 4 } };
    size_t nd;
    for (nd = 1; nd <= 3; nd++) {
        size_t count = 1, i;
        double *v;
        void *buf = NULL;
        size_t len = 0;
        rdg_array a;
        rdg_status st;
        for (i = 0; i < nd; i++) count *= shapes[nd - 1][i];
        v = (double *)malloc(count * sizeof *v);
        if (!v) { CHECK(0, "malloc"); return; }
        for (i = 0; i < count; i++) v[i] = (i % 3 == 0 ? -1.0 : 1.0) * (0.1 * (double)i + 1e-300 * (double)(i % 5)) + (i == 4 ? 1e300 : 0);
        if (count > 6) v[6] = 5e-324; /* a subnormal survives */
        st = rdg_npy_write_mem(v, nd, shapes[nd - 1], &buf, &len);
        CHECK(st == RDG_OK && buf != NULL, "write_mem %zu-D: status %d", nd, (int)st);
        if (st != RDG_OK) { free(v); continue; }
        /* the image: magic, version, '<f8', C order, shape text, payload at the end, aligned */
        {
            const unsigned char *p = (const unsigned char *)buf;
            size_t hl, pre, off;
            char *hdr;
            char shape_txt[64];
            CHECK(len > 10 && memcmp(p, "\x93NUMPY", 6) == 0, "written magic");
            pre = (p[6] == 1) ? 10 : 12;
            hl = (p[6] == 1) ? (size_t)p[8] | ((size_t)p[9] << 8)
                             : (size_t)p[8] | ((size_t)p[9] << 8) | ((size_t)p[10] << 16) |
                                   ((size_t)p[11] << 24);
            off = pre + hl;
            CHECK(off % 16 == 0, "header length %zu not aligned to 16", off);
            CHECK(len == off + count * 8, "written length %zu, want %zu + %zu", len, off, count * 8);
            hdr = (char *)malloc(hl + 1);
            if (hdr) {
                memcpy(hdr, p + pre, hl);
                hdr[hl] = 0;
                CHECK(strstr(hdr, "'descr': '<f8'") != NULL, "written descr: %s", hdr);
                CHECK(strstr(hdr, "'fortran_order': False") != NULL, "written fortran_order: %s", hdr);
                if (nd == 1) sprintf(shape_txt, "'shape': (%zu,)", shapes[0][0]);
                else if (nd == 2) sprintf(shape_txt, "'shape': (%zu, %zu)", shapes[1][0], shapes[1][1]);
                else sprintf(shape_txt, "'shape': (%zu, %zu, %zu)", shapes[2][0], shapes[2][1], shapes[2][2]);
                CHECK(strstr(hdr, shape_txt) != NULL, "written shape: want %s in %s", shape_txt, hdr);
                CHECK(hdr[hl - 1] == '\n', "header does not end in newline");
                free(hdr);
            }
            /* payload is little-endian float64 */
            if (len == off + count * 8) {
                int same = 1;
                for (i = 0; i < count; i++) {
                    unsigned char c[8], e[8];
                    size_t k;
                    memcpy(c, &v[i], 8);
                    for (k = 0; k < 8; k++) e[k] = host_is_little() ? c[k] : c[7 - k];
                    if (memcmp(e, p + off + 8 * i, 8)) same = 0;
                }
                CHECK(same, "payload bytes differ from little-endian float64");
            }
        }
        st = rdg_npy_read_mem(buf, len, &a);
        CHECK(st == RDG_OK, "read back %zu-D: status %d", nd, (int)st);
        if (st == RDG_OK) {
            CHECK(a.ndim == nd && a.count == count, "read back %zu-D: ndim %zu count %zu", nd, a.ndim,
                  a.count);
            for (i = 0; i < nd && i < a.ndim; i++)
                CHECK(a.shape[i] == shapes[nd - 1][i], "shape[%zu] = %zu", i, a.shape[i]);
            CHECK(a.count == count && memcmp(a.data, v, count * sizeof *v) == 0,
                  "round trip %zu-D data differs", nd);
        }
        rdg_array_free(&a);
        rdg_free(buf);
        free(v);
    }
#ifndef RDG_NO_STDIO
    /* file round trip, and a missing file */
    {
        const double v[6] = { 1, 2, 3, -4.5, 1e-10, 7 };
        const size_t sh[2] = { 2, 3 };
        char path[64];
        rdg_array a;
        rdg_status st;
        FILE *f;
        sprintf(path, "build/test_npy_roundtrip.npy");
        st = rdg_npy_write(path, v, 2, sh);
        if (st == RDG_ERR_IO) { /* build/ may not exist when run elsewhere */
            sprintf(path, "test_npy_tmp.npy");
            st = rdg_npy_write(path, v, 2, sh);
        }
        CHECK(st == RDG_OK, "npy_write: status %d", (int)st);
        st = rdg_npy_read(path, &a);
        CHECK(st == RDG_OK && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 &&
                  memcmp(a.data, v, sizeof v) == 0, "file round trip: status %d", (int)st);
        rdg_array_free(&a);
        /* no temporary left behind */
        {
            char tmp[80];
            sprintf(tmp, "%s.tmp", path);
            f = fopen(tmp, "rb");
            CHECK(f == NULL, "npy_write left %s behind", tmp);
            if (f) fclose(f);
        }
        remove(path);
        st = rdg_npy_read("build/definitely/not/here.npy", &a);
        CHECK(st == RDG_ERR_IO, "read missing file: status %d", (int)st);
        check_zeroed(&a, "missing file");
        st = rdg_npy_write("build/definitely/not/here.npy", v, 2, sh);
        CHECK(st == RDG_ERR_IO, "write into a missing directory: status %d", (int)st);
    }
#endif
}

static void test_hand_made(void) {
    const float f[6] = { 1.5f, -2.25f, 3.1f, 0.0f, -0.0f, 1e-30f };
    const double dv[4] = { 3.141592653589793, -1e-300, 2.5e300, -0.0 };
    int little;
    /* float32, both byte orders, 2x3 */
    for (little = 0; little <= 1; little++) {
        bytes b = { NULL, 0, 0 };
        rdg_array a;
        rdg_status st;
        size_t i;
        npy_header(&b, 1, 0, little ? "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
                                    : "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 64);
        put_f32(&b, f, 6, little);
        st = read_image(&b, &a);
        CHECK(st == RDG_OK, "float32 %s: status %d", little ? "LE" : "BE", (int)st);
        if (st == RDG_OK) {
            CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6, "float32 shape");
            for (i = 0; i < 6 && i < a.count; i++)
                CHECK(a.data[i] == (double)f[i] && !signbit(a.data[i]) == !signbit(f[i]),
                      "float32 %s [%zu] = %.9g, want %.9g", little ? "LE" : "BE", i, a.data[i], (double)f[i]);
        }
        rdg_array_free(&a);
        free(b.p);
    }
    /* float64, both byte orders, 1-D */
    for (little = 0; little <= 1; little++) {
        bytes b = { NULL, 0, 0 };
        rdg_array a;
        rdg_status st;
        npy_header(&b, 1, 0, little ? "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"
                                    : "{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }", 64);
        put_f64(&b, dv, 4, little);
        st = read_image(&b, &a);
        CHECK(st == RDG_OK && a.ndim == 1 && a.count == 4 && memcmp(a.data, dv, sizeof dv) == 0,
              "float64 %s: status %d", little ? "LE" : "BE", (int)st);
        rdg_array_free(&a);
        free(b.p);
    }
    /* format versions 2.0 and 3.0, native '=' and '|' byte order, other key orders, 16-byte
       alignment (older numpy), no trailing comma, a 3-D shape without spaces */
    {
        struct { int maj; const char *dict; size_t align; size_t nd, s0, s1, s2; } cases[] = {
            { 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 64, 2, 2, 2, 0 },
            { 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 64, 1, 4, 0, 0 },
            { 1, "{'shape': (2, 2), 'descr': '<f8', 'fortran_order': False}", 16, 2, 2, 2, 0 },
            { 1, "{'fortran_order': False, 'shape': (1,2,2), 'descr': '<f8'}", 16, 3, 1, 2, 2 },
            { 1, "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (4,)}", 64, 1, 4, 0, 0 },
            { 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 1), }", 0, 2, 4, 1, 0 },
        };
        size_t c;
        for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            bytes b = { NULL, 0, 0 };
            rdg_array a;
            rdg_status st;
            npy_header(&b, cases[c].maj, 0, cases[c].dict, cases[c].align);
            put_f64(&b, dv, 4, 1);
            st = read_image(&b, &a);
            CHECK(st == RDG_OK, "header case %zu (%s): status %d", c, cases[c].dict, (int)st);
            if (st == RDG_OK) {
                CHECK(a.ndim == cases[c].nd && a.shape[0] == cases[c].s0 &&
                          (a.ndim < 2 || a.shape[1] == cases[c].s1) &&
                          (a.ndim < 3 || a.shape[2] == cases[c].s2) && a.count == 4,
                      "header case %zu: ndim %zu shape %zu", c, a.ndim, a.shape[0]);
                CHECK(memcmp(a.data, dv, sizeof dv) == 0, "header case %zu: data", c);
            }
            rdg_array_free(&a);
            free(b.p);
        }
    }
    {
        const char *native[2] = { "{'descr': '=f8', 'fortran_order': False, 'shape': (4,), }",
                                  "{'descr': '|f8', 'fortran_order': False, 'shape': (4,), }" };
        int k;
        for (k = 0; k < 2; k++) {
            bytes b = { NULL, 0, 0 };
            rdg_array a;
            rdg_status st;
            npy_header(&b, 1, 0, native[k], 64);
            put_f64(&b, dv, 4, host_is_little());
            st = read_image(&b, &a);
            CHECK(st == RDG_OK && a.count == 4 && memcmp(a.data, dv, sizeof dv) == 0,
                  "native dtype %s: status %d", native[k], (int)st);
            rdg_array_free(&a);
            free(b.p);
        }
    }
    /* extra bytes after the payload are not an error; a payload that is exactly right is */
    {
        bytes b = { NULL, 0, 0 };
        rdg_array a;
        npy_header(&b, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 64);
        put_f32(&b, f, 3, 1);
        CHECK(read_image(&b, &a) == RDG_OK && a.count == 3 && a.data[2] == (double)f[2],
              "float32 exact payload");
        rdg_array_free(&a);
        free(b.p);
    }
}

static void expect_status(const char *dict, int major, size_t payload_bytes, rdg_status want,
                          const char *what) {
    bytes b = { NULL, 0, 0 };
    rdg_array a;
    rdg_status st;
    unsigned char *z = (unsigned char *)calloc(payload_bytes + 1, 1);
    npy_header(&b, major, 0, dict, 64);
    if (z) put(&b, z, payload_bytes);
    st = read_image(&b, &a);
    CHECK(st == want, "%s: status %d (%s), want %d (%s)", what, (int)st, rdg_status_str(st),
          (int)want, rdg_status_str(want));
    check_zeroed(&a, what);
    rdg_array_free(&a);
    free(z);
    free(b.p);
}

/* for cases where two statuses are both defensible readings of the documentation */
static void expect_status2(const char *dict, size_t payload_bytes, rdg_status w1, rdg_status w2,
                           const char *what) {
    bytes b = { NULL, 0, 0 };
    rdg_array a;
    rdg_status st;
    unsigned char *z = (unsigned char *)calloc(payload_bytes + 1, 1);
    npy_header(&b, 1, 0, dict, 64);
    if (z) put(&b, z, payload_bytes);
    st = read_image(&b, &a);
    CHECK(st == w1 || st == w2, "%s: status %d (%s), want %d or %d", what, (int)st,
          rdg_status_str(st), (int)w1, (int)w2);
    check_zeroed(&a, what);
    rdg_array_free(&a);
    free(z);
    free(b.p);
}

static void test_bad(void) {
    /* dtypes and layout */
    expect_status("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 1, 32,
                  RDG_ERR_DTYPE, "fortran order");
    expect_status("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", 1, 16,
                  RDG_ERR_DTYPE, "dtype <i4");
    expect_status("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", 1, 8,
                  RDG_ERR_DTYPE, "dtype <f2");
    expect_status("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", 1, 4,
                  RDG_ERR_DTYPE, "dtype |u1");
    expect_status("{'descr': '<c16', 'fortran_order': False, 'shape': (4,), }", 1, 64,
                  RDG_ERR_DTYPE, "dtype <c16");
    /* malformed headers */
    expect_status("hello world, this is not a dict", 1, 32, RDG_ERR_FORMAT, "garbage header");
    expect_status("{'descr': '<f8', 'fortran_order': False, }", 1, 32, RDG_ERR_FORMAT,
                  "missing shape");
    expect_status("{'fortran_order': False, 'shape': (4,), }", 1, 32, RDG_ERR_FORMAT,
                  "missing descr");
    expect_status("{'descr': '<f8', 'shape': (4,), }", 1, 32, RDG_ERR_FORMAT,
                  "missing fortran_order");
    expect_status("{'descr': '<f8', 'fortran_order': False, 'shape': (4, }", 1, 32,
                  RDG_ERR_FORMAT, "unclosed shape tuple");
    expect_status("{'descr': '<f8', 'fortran_order': False, 'shape': (-4,), }", 1, 32,
                  RDG_ERR_FORMAT, "negative dimension");
    expect_status2("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
                   8, RDG_ERR_FORMAT, RDG_ERR_DTYPE, "9 dimensions");
    /* truncation */
    expect_status("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 1, 47,
                  RDG_ERR_TRUNCATED, "payload one byte short");
    expect_status("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 1, 0,
                  RDG_ERR_TRUNCATED, "no payload");
    /* huge shapes: overflow of the product, and over the element cap; no huge allocation */
    expect_status("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }",
                  1, 64, RDG_ERR_OVERFLOW, "shape product overflows");
    expect_status("{'descr': '<f8', 'fortran_order': False, 'shape': (3000000000,), }", 1, 64,
                  RDG_ERR_OVERFLOW, "count over the cap");
    expect_status2("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
                   64, RDG_ERR_OVERFLOW, RDG_ERR_FORMAT, "dimension overflows size_t");
    /* bad magic, bad version, truncated header */
    {
        bytes b = { NULL, 0, 0 };
        rdg_array a;
        rdg_status st;
        const double one = 1.0;
        npy_header(&b, 1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 64);
        put_f64(&b, &one, 1, 1);
        CHECK(read_image(&b, &a) == RDG_OK && a.count == 1 && a.data[0] == 1.0, "good 1-element image");
        rdg_array_free(&a);
        b.p[1] = 'M';
        st = read_image(&b, &a);
        CHECK(st == RDG_ERR_FORMAT, "bad magic: status %d", (int)st);
        check_zeroed(&a, "bad magic");
        b.p[1] = 'N';
        b.p[0] = 0x94;
        CHECK(read_image(&b, &a) == RDG_ERR_FORMAT, "bad magic byte 0");
        b.p[0] = 0x93;
        b.p[6] = 9;
        st = read_image(&b, &a);
        CHECK(st == RDG_ERR_FORMAT, "unknown major version 9: status %d", (int)st);
        b.p[6] = 1;
        /* header length pointing past the end of the buffer */
        {
            size_t len = b.len;
            b.len = 40;
            st = read_image(&b, &a);
            CHECK(st == RDG_ERR_TRUNCATED || st == RDG_ERR_FORMAT,
                  "header cut at 40 bytes: status %d", (int)st);
            check_zeroed(&a, "header cut");
            b.len = 9;
            st = read_image(&b, &a);
            CHECK(st == RDG_ERR_TRUNCATED || st == RDG_ERR_FORMAT, "9-byte image: status %d", (int)st);
            b.len = len;
        }
        /* header length field larger than the file */
        b.p[8] = 0xff;
        b.p[9] = 0x7f;
        st = read_image(&b, &a);
        CHECK(st == RDG_ERR_TRUNCATED || st == RDG_ERR_FORMAT, "header length past the end: status %d",
              (int)st);
        free(b.p);
    }
    /* zero-length buffers */
    {
        rdg_array a;
        rdg_status st;
        const unsigned char one = 0x93;
        a.data = NULL;
        a.ndim = 3;
        a.count = 3;
        st = rdg_npy_read_mem(&one, 0, &a);
        CHECK(st == RDG_ERR_FORMAT || st == RDG_ERR_TRUNCATED, "zero-length buffer: status %d", (int)st);
        check_zeroed(&a, "zero-length buffer");
        st = rdg_npy_read_mem(NULL, 0, &a);
        CHECK(st == RDG_ERR_INVALID || st == RDG_ERR_FORMAT || st == RDG_ERR_TRUNCATED,
              "NULL zero-length buffer: status %d", (int)st);
        check_zeroed(&a, "NULL buffer");
        CHECK(rdg_npy_read_mem(&one, 1, NULL) == RDG_ERR_INVALID, "NULL array");
    }
    /* writer bad input */
    {
        const double v[2] = { 1, 2 };
        const size_t sh[1] = { 2 }, sh9[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 2 };
        void *buf = NULL;
        size_t len = 0;
        CHECK(rdg_npy_write_mem(NULL, 1, sh, &buf, &len) == RDG_ERR_INVALID, "write NULL data");
        CHECK(rdg_npy_write_mem(v, 1, NULL, &buf, &len) == RDG_ERR_INVALID, "write NULL shape");
        CHECK(rdg_npy_write_mem(v, 1, sh, NULL, &len) == RDG_ERR_INVALID, "write NULL buf");
        CHECK(rdg_npy_write_mem(v, 1, sh, &buf, NULL) == RDG_ERR_INVALID, "write NULL len");
        CHECK(rdg_npy_write_mem(v, 9, sh9, &buf, &len) != RDG_OK, "write 9 dimensions");
    }
    /* rdg_array_free on a zeroed struct, twice, and on NULL-free */
    {
        rdg_array a;
        memset(&a, 0, sizeof a);
        rdg_array_free(&a);
        rdg_array_free(&a);
        CHECK(a.data == NULL, "array_free on zeroed struct");
        rdg_free(NULL);
    }
}

int main(void) {
    test_round_trip();
    test_hand_made();
    test_bad();
    RDG_TEST_END("test_npy");
}
