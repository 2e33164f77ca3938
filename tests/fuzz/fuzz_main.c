/* Plain replay driver for the fuzz targets (stb's fuzz_main.c idea): built into a target when
   it is NOT compiled under libFuzzer (the Makefile defines RDG_LIBFUZZER for libFuzzer builds).
   Usage: <target> FILE_OR_DIR...   Each file (each regular file of a directory, sorted) is fed
   once to LLVMFuzzerTestOneInput. A crash or sanitizer report is the failure; the last line is
   "<target>: N passed, 0 failed" (the run.sh convention). Linux/POSIX only (opendir). */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <dirent.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int rdg_fz_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int rdg_fz_run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
    for (;;) {
        if (n == cap) {
            unsigned char *nb;
            cap = cap ? 2 * cap : 4096;
            nb = (unsigned char *)realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return -1; }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    /* an exact-size copy so that ASan sees reads past the end of the input */
    {
        unsigned char *exact = (unsigned char *)malloc(n ? n : 1);
        if (!exact) { free(buf); return -1; }
        if (n) memcpy(exact, buf, n);
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    return 0;
}

int main(int argc, char **argv) {
    int i, pass = 0, fail = 0;
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    char cwd[4096];
    /* the report goes to a copy of stdout taken now: a target may redirect stdout (fuzz_cli) */
    int rep_fd = dup(1);
    FILE *rep = rep_fd >= 0 ? fdopen(rep_fd, "w") : NULL;
    /* absolute paths first: a target may change the working directory (fuzz_cli does) */
    if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
    for (i = 1; i < argc; ++i) {
        if (argv[i][0] != '/' && cwd[0]) {
            size_t len = strlen(cwd) + strlen(argv[i]) + 2;
            char *p = (char *)malloc(len);
            if (p) { snprintf(p, len, "%s/%s", cwd, argv[i]); argv[i] = p; }
        }
    }
    for (i = 1; i < argc; ++i) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { fprintf(stderr, "cannot stat %s\n", argv[i]); fail++; continue; }
        if (S_ISDIR(st.st_mode)) {
            DIR *dir = opendir(argv[i]);
            struct dirent *e;
            char **names = NULL;
            size_t nn = 0, cap = 0, k;
            if (!dir) { fail++; continue; }
            while ((e = readdir(dir)) != NULL) {
                char *p;
                size_t len;
                if (e->d_name[0] == '.') continue;
                len = strlen(argv[i]) + strlen(e->d_name) + 2;
                p = (char *)malloc(len);
                if (!p) break;
                snprintf(p, len, "%s/%s", argv[i], e->d_name);
                if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) { free(p); continue; }
                if (nn == cap) {
                    char **nb = (char **)realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
                    if (!nb) { free(p); break; }
                    names = nb;
                }
                names[nn++] = p;
            }
            closedir(dir);
            if (nn) qsort(names, nn, sizeof *names, rdg_fz_cmp);
            for (k = 0; k < nn; ++k) {
                if (getenv("RDG_FUZZ_VERBOSE")) fprintf(stderr, "replay %s\n", names[k]);
                if (rdg_fz_run_file(names[k]) == 0) pass++; else fail++;
                free(names[k]);
            }
            free(names);
        } else {
            if (rdg_fz_run_file(argv[i]) == 0) pass++; else fail++;
        }
    }
    fprintf(rep ? rep : stdout, "%s: %d passed, %d failed\n", name, pass, fail);
    if (rep) fclose(rep);
    return fail ? 1 : 0;
}
