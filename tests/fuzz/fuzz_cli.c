/* Fuzz target: the command-line program tools/ridgediff.c, whole (argument parsing, option
   values, file loading, the verbs), through its main() renamed to rdg_cli_main.

   Input format: the bytes before the first NUL are the arguments after argv[0], one per line
   ('\n'; empty lines are empty arguments; at most 24). The bytes after the first NUL, if any,
   are written to the file "in.npy" beside the fixed inputs, so the fuzzer can also reach the
   loaders through the CLI.

   Safety: the program runs in a private temporary directory (created once, removed at exit);
   '/' in an argument becomes '_' so no path leaves it; the fixed inputs (x.npy 5x2, y.npy 3x2,
   z.npy 4x3, f4.npy float32 2x2) are rewritten before each run and everything else the run
   created is deleted after it. stdout/stderr go to /dev/null in replay unless RDG_FUZZ_VERBOSE is set (libFuzzer:
   -close_fd_mask=3).
   Cost guard (rdg_fz_cheap): verbs other than density/project/help run only with small numbers
   (and train only with explicit small sizes), so "--steps 1e9" cannot turn a fuzz run into a
   benchmark; such inputs are not run at all. */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define main rdg_cli_main
#include "tools/ridgediff.c"
#undef main

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define RDG_FZ_MAXARG 24
static char rdg_fz_dir[64];
static int rdg_fz_ready = 0;
static const char *const rdg_fz_fixed[] = { "x.npy", "y.npy", "z.npy", "f4.npy" };

/* Removes every entry of the current directory except the fixed inputs (all when keep == 0). */
static void rdg_fz_clean(int keep) {
    DIR *d = opendir(".");
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        size_t k;
        int fixed = 0;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        for (k = 0; keep && k < sizeof rdg_fz_fixed / sizeof *rdg_fz_fixed; ++k)
            if (!strcmp(e->d_name, rdg_fz_fixed[k])) fixed = 1;
        if (!fixed && unlink(e->d_name) != 0) rmdir(e->d_name);
    }
    closedir(d);
}

static void rdg_fz_atexit(void) {
    if (!rdg_fz_ready) return;
    rdg_fz_clean(0);
    if (chdir("/") == 0) rmdir(rdg_fz_dir);
}

static void rdg_fz_write(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    if (fclose(f) != 0) abort();
}

static void rdg_fz_put_npy(const char *path, const rdg_real *v, size_t r, size_t c) {
    size_t shape[2];
    void *buf;
    size_t len;
    shape[0] = r; shape[1] = c;
    if (rdg_npy_write_mem(v, 2, shape, &buf, &len) != RDG_OK) abort();
    rdg_fz_write(path, buf, len);
    rdg_free(buf);
}

static void rdg_fz_fixed_inputs(void) {
    static const rdg_real X[10] = { -3, 0, 3, 0, 0, 1, 1, 1, -1, 0.5 };
    static const rdg_real Y[6] = { 0.5, 0.7, -1, 2, 0, 0 };
    static const rdg_real Z[12] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    /* float32 2x2, little-endian: {1, 2, 3, 4}, header padded to 128 bytes as numpy does */
    static const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    static const unsigned char vals[16] = { 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40,
                                            0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40 };
    unsigned char F4[128 + 16];
    memset(F4, ' ', sizeof F4);
    memcpy(F4, "\x93NUMPY\x01\x00\x76\x00", 10);
    memcpy(F4 + 10, dict, sizeof dict - 1);
    F4[127] = '\n';
    memcpy(F4 + 128, vals, 16);
    rdg_fz_put_npy("x.npy", X, 5, 2);
    rdg_fz_put_npy("y.npy", Y, 3, 2);
    rdg_fz_put_npy("z.npy", Z, 4, 3);
    rdg_fz_write("f4.npy", F4, sizeof F4);
}

static void rdg_fz_setup(void) {
    int fd;
    strcpy(rdg_fz_dir, "/tmp/rdg_fuzz_cli.XXXXXX");
    if (!mkdtemp(rdg_fz_dir) || chdir(rdg_fz_dir) != 0) abort();
    rdg_fz_ready = 1;
    atexit(rdg_fz_atexit);
#ifndef RDG_LIBFUZZER   /* under libFuzzer, fuzz.sh passes -close_fd_mask=3 instead */
    if (!getenv("RDG_FUZZ_VERBOSE")) {
        fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
    }
#else
    (void)fd;
#endif
}

/* 1 when the argument (or the value after '=' in "--name=value") looks like a number larger
   than 64 in magnitude or not finite; a list "a,b" is checked item by item. */
static int rdg_fz_big_number(const char *s) {
    const char *eq = strchr(s, '=');
    if (s[0] == '-' && s[1] == '-' && eq) s = eq + 1;
    for (;;) {
        char *end;
        double v = strtod(s, &end);
        if (end != s && !(v >= -64 && v <= 64)) return 1;
        s = strchr(s, ',');
        if (!s) return 0;
        ++s;
    }
}

static int rdg_fz_has(int argc, char **argv, const char *opt) {
    int k;
    size_t n = strlen(opt);
    for (k = 2; k < argc; ++k)
        if (!strncmp(argv[k], opt, n) && (argv[k][n] == 0 || argv[k][n] == '=')) return 1;
    return 0;
}

/* The cost guard: density/project/help run whatever the numbers (their cost is bounded by the
   input files, which max_len bounds); other verbs only with every number <= 64, and verbs whose
   defaults are expensive (train: 20000 steps, 2000 features, 256x256 hidden) only when the
   arguments set the steps and the size explicitly. */
static int rdg_fz_cheap(int argc, char **argv) {
    int k;
    if (argc < 2 || argv[1][0] == '-' || !strcmp(argv[1], "density") || !strcmp(argv[1], "project")
        || !strcmp(argv[1], "help"))
        return 1;
    for (k = 2; k < argc; ++k)
        if (rdg_fz_big_number(argv[k])) return 0;
    if (!strcmp(argv[1], "sample")) return 1;
    return rdg_fz_has(argc, argv, "--steps") &&
           (rdg_fz_has(argc, argv, "--width") || rdg_fz_has(argc, argv, "--hidden"));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    char *text, *argv[RDG_FZ_MAXARG + 2], *p;
    size_t n = 0, argsz = 0;
    int argc = 1;
    if (!rdg_fz_ready) rdg_fz_setup();
    while (argsz < size && data[argsz] != 0) argsz++;
    text = (char *)malloc(argsz + 1);
    if (!text) return 0;
    memcpy(text, data, argsz);
    text[argsz] = 0;
    for (n = 0; n < argsz; ++n) if (text[n] == '/') text[n] = '_';
    argv[0] = (char *)"ridgediff";
    p = text;
    if (argsz > 0) {
        for (;;) {
            char *nl = strchr(p, '\n');
            if (argc > RDG_FZ_MAXARG) break;
            argv[argc++] = p;
            if (!nl) break;
            *nl = 0;
            p = nl + 1;
        }
    }
    argv[argc] = NULL;
    rdg_fz_fixed_inputs();
    if (argsz < size) rdg_fz_write("in.npy", data + argsz + 1, size - argsz - 1);
    if (rdg_fz_cheap(argc, argv)) rdg_cli_main(argc, argv);
    fflush(stdout);
    clearerr(stdout);
    rdg_fz_clean(1);
    free(text);
    return 0;
}

#ifndef RDG_LIBFUZZER
#include "fuzz_main.c"
#endif
