/* ridgediff - command-line front end of ridgediff.h.

   ridgediff <verb> [--option value ...]      ridgediff <verb> --help      ridgediff --help

   Every verb is one row of the table `verbs` below: a name, a one-line summary, a synopsis,
   a table of its options (parsed by the shared parser parse_options) and a function that
   runs it. To add a verb: write its option table and run function, add a row.

   Conventions every verb keeps (scripts rely on them):
     - success is quiet (nothing on stdout or stderr unless the verb's purpose is to print);
     - an error is ONE line on stderr, "ridgediff <verb>: <what went wrong>", and a non-zero
       exit: 2 for usage errors (bad or missing options or values), 1 for runtime errors
       (unreadable or malformed files, failed computations, failed writes);
     - outputs are written only after everything is computed, each through a temporary file
       renamed into place; if one of several outputs cannot be written, those already written
       by this invocation are removed. No partial output file is ever left behind. */
/* POSIX, for isatty and clock_gettime (training progress on a terminal); must precede every
   #include. Elsewhere the program builds without them (no progress, clock() timing). */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200112L
#endif
#define RIDGEDIFF_IMPLEMENTATION
#define RIDGEDIFF_STB_IMAGE
#include "ridgediff.h"
#include "experiments.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#include <sys/stat.h>
#define HAVE_POSIX 1
#else
#define HAVE_POSIX 0
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_OPTS 16
#define MAX_OUTPUTS 8

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                  */

/* Prints "ridgediff <verb>: <message>" as exactly one line on stderr (line breaks inside the
   message, e.g. from a file name, are replaced so that the line stays one line). */
#if defined(__GNUC__) || defined(__clang__)
static void errmsg(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
static void errmsg(const char *verb, const char *fmt, ...)
{
    char buf[2048];
    size_t i;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (i = 0; buf[i]; i++)
        if (buf[i] == '\n' || buf[i] == '\r') buf[i] = '?';
    if (verb) fprintf(stderr, "ridgediff %s: %s\n", verb, buf);
    else fprintf(stderr, "ridgediff: %s\n", buf);
}

/* "(2, 3)" or "(5,)" into buf */
static const char *shape_str(const rdg_array *a, char *buf, size_t len)
{
    size_t i, used = 0;
    int n = snprintf(buf, len, "(");
    if (n < 0) return "(?)";
    used = (size_t)n;
    for (i = 0; i < a->ndim && used < len; i++) {
        n = snprintf(buf + used, len - used, i ? ", %lu" : "%lu", (unsigned long)a->shape[i]);
        if (n < 0) return "(?)";
        used += (size_t)n;
    }
    if (used < len) snprintf(buf + used, len - used, a->ndim == 1 ? ",)" : ")");
    return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* Shared option parser                                                                      */

typedef enum opt_kind {
    OPT_IN,       /* path of an input file                                                  */
    OPT_OUT,      /* path of an output file (no two outputs may name the same path)         */
    OPT_REAL,     /* finite real number                                                     */
    OPT_INT,      /* integer                                                                */
    OPT_CHOICE,   /* one word out of `choices` ("lm|scms")                                  */
    OPT_LIST,     /* comma-separated integers >= 1, at most MAX_LIST of them ("256,256")      */
    OPT_FLAG      /* no value: present or absent (ival 1 or 0)                              */
} opt_kind;

#define MAX_LIST 8

typedef enum opt_bound { NO_BOUND = 0, ABOVE, AT_LEAST } opt_bound;

typedef struct opt_spec {
    const char *name;      /* without the leading "--"                                      */
    opt_kind kind;
    int required;
    const char *meta;      /* value placeholder in the help                                 */
    const char *help;      /* one line                                                      */
    opt_bound bound;       /* for OPT_REAL and OPT_INT: value > lo, value >= lo, or none    */
    double lo;
    const char *choices;   /* for OPT_CHOICE: "a|b|c"                                        */
    const char *dflt;      /* default value as text (applied when the option is absent)     */
} opt_spec;

typedef struct opt_val {
    int set;               /* given on the command line                                     */
    const char *str;       /* the text (or the default's text)                              */
    double real;           /* OPT_REAL                                                      */
    long ival;             /* OPT_INT                                                       */
} opt_val;

struct verb;
typedef int (*verb_fn)(const struct verb *v, const opt_val *val);

typedef struct verb {
    const char *name;
    const char *summary;   /* one line for `ridgediff --help`                               */
    const char *synopsis;  /* the usage line(s), without the leading "usage: "              */
    const char *about;     /* a paragraph printed under the synopsis (may be NULL)          */
    const opt_spec *opts;
    size_t nopts;
    verb_fn run;
} verb;

static int is_help_flag(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }

/* 1 when s is a whole finite number; *bad says why not (0 not a number, 1 not finite) */
static int parse_real(const char *s, double *out, int *bad)
{
    char *end;
    double v;
    *bad = 0;
    if (!*s || isspace((unsigned char)*s)) return 0;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end) return 0;
    if (!isfinite(v)) { *bad = 1; return 0; }
    *out = v;
    return 1;
}

/* 1 when s is a whole integer in range of long; *bad: 0 not an integer, 1 out of range */
static int parse_int(const char *s, long *out, int *bad)
{
    char *end;
    long v;
    *bad = 0;
    if (!*s || isspace((unsigned char)*s)) return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end) return 0;
    if (errno == ERANGE) { *bad = 1; return 0; }
    *out = v;
    return 1;
}

static int in_choices(const char *word, const char *choices)
{
    size_t n = strlen(word);
    const char *p = choices;
    if (n == 0) return 0;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, word, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

/* Parses "a,b,c" (integers >= 1, at most MAX_LIST) into out; returns the count, or 0 when the
   text is not such a list. */
static size_t parse_list(const char *s, size_t *out)
{
    size_t n = 0;
    for (;;) {
        char *end;
        unsigned long v;
        if (!isdigit((unsigned char)*s) || n == MAX_LIST) return 0;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno == ERANGE || v == 0 || v > 1000000) return 0;
        out[n++] = (size_t)v;
        if (!*end) return n;
        if (*end != ',') return 0;
        s = end + 1;
    }
}

/* Converts and checks one value; 0 on success, EXIT_USAGE after printing the error. */
static int set_value(const verb *v, const opt_spec *o, const char *text, opt_val *out)
{
    int bad;
    out->str = text;
    switch (o->kind) {
    case OPT_FLAG:
        out->ival = 1;
        return 0;
    case OPT_LIST: {
        size_t tmp[MAX_LIST];
        if (!parse_list(text, tmp)) {
            errmsg(v->name, "option --%s needs 1 to %d comma-separated integers from 1 to 1000000, got '%s'",
                   o->name, MAX_LIST, text);
            return EXIT_USAGE;
        }
        return 0;
    }
    case OPT_IN: case OPT_OUT:
        if (!*text) { errmsg(v->name, "option --%s needs a file name, got an empty string", o->name); return EXIT_USAGE; }
        return 0;
    case OPT_CHOICE:
        if (!in_choices(text, o->choices)) {
            errmsg(v->name, "option --%s must be one of %s, got '%s'", o->name, o->choices, text);
            return EXIT_USAGE;
        }
        return 0;
    case OPT_REAL:
        if (!parse_real(text, &out->real, &bad)) {
            errmsg(v->name, bad ? "option --%s must be a finite number, got '%s'"
                                : "option --%s needs a number, got '%s'", o->name, text);
            return EXIT_USAGE;
        }
        if ((o->bound == ABOVE && !(out->real > o->lo)) || (o->bound == AT_LEAST && !(out->real >= o->lo))) {
            errmsg(v->name, "option --%s must be %s %g, got %s", o->name, o->bound == ABOVE ? ">" : ">=",
                   o->lo, text);
            return EXIT_USAGE;
        }
        return 0;
    case OPT_INT:
        if (!parse_int(text, &out->ival, &bad)) {
            errmsg(v->name, bad ? "option --%s is out of range: '%s'" : "option --%s needs an integer, got '%s'",
                   o->name, text);
            return EXIT_USAGE;
        }
        if ((o->bound == ABOVE && !((double)out->ival > o->lo)) ||
            (o->bound == AT_LEAST && !((double)out->ival >= o->lo))) {
            errmsg(v->name, "option --%s must be %s %g, got %s", o->name, o->bound == ABOVE ? ">" : ">=",
                   o->lo, text);
            return EXIT_USAGE;
        }
        return 0;
    }
    return 0;
}

/* Parses argv[1..argc-1] (argv[0] is the verb) against v->opts into val[0..nopts-1].
   Accepts "--name value" and "--name=value". Returns 0 or EXIT_USAGE (message printed). */
static int parse_options(const verb *v, int argc, char **argv, opt_val *val)
{
    int i, rc;
    size_t k, j;
    for (k = 0; k < v->nopts; k++) {
        val[k].set = 0; val[k].str = NULL; val[k].real = 0; val[k].ival = 0;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *name, *eq, *text;
        size_t len;
        const opt_spec *o = NULL;
        if (a[0] != '-' || !strcmp(a, "-") || !strcmp(a, "--")) {
            errmsg(v->name, "unexpected argument '%s' (options are --name value)", a);
            return EXIT_USAGE;
        }
        if (a[1] != '-') { errmsg(v->name, "unknown option '%s' (options are --name value)", a); return EXIT_USAGE; }
        name = a + 2;
        eq = strchr(name, '=');
        len = eq ? (size_t)(eq - name) : strlen(name);
        for (k = 0; k < v->nopts; k++)
            if (strlen(v->opts[k].name) == len && !strncmp(v->opts[k].name, name, len)) { o = &v->opts[k]; break; }
        if (!o) {
            errmsg(v->name, "unknown option '--%.*s' (see 'ridgediff %s --help')", (int)len, name, v->name);
            return EXIT_USAGE;
        }
        if (val[k].set) { errmsg(v->name, "option --%s given more than once", o->name); return EXIT_USAGE; }
        if (o->kind == OPT_FLAG) {
            if (eq) { errmsg(v->name, "option --%s takes no value, got '%s'", o->name, eq + 1); return EXIT_USAGE; }
            val[k].set = 1; val[k].ival = 1; val[k].str = "";
            continue;
        }
        if (eq) text = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) text = argv[++i];
        else { errmsg(v->name, "option --%s needs a value (%s)", o->name, o->meta); return EXIT_USAGE; }
        if ((rc = set_value(v, o, text, &val[k])) != 0) return rc;
        val[k].set = 1;
    }
    for (k = 0; k < v->nopts; k++) {
        if (val[k].set) continue;
        if (v->opts[k].required) { errmsg(v->name, "missing required option --%s %s", v->opts[k].name, v->opts[k].meta); return EXIT_USAGE; }
        if (v->opts[k].dflt && (rc = set_value(v, &v->opts[k], v->opts[k].dflt, &val[k])) != 0) return rc;
    }
    for (k = 0; k < v->nopts; k++) {
        if (!val[k].set || v->opts[k].kind != OPT_OUT) continue;
        for (j = k + 1; j < v->nopts; j++)
            if (val[j].set && v->opts[j].kind == OPT_OUT && !strcmp(val[k].str, val[j].str)) {
                errmsg(v->name, "options --%s and --%s name the same file '%s'", v->opts[k].name,
                       v->opts[j].name, val[k].str);
                return EXIT_USAGE;
            }
    }
    return 0;
}

static void print_verb_help(const verb *v, FILE *f)
{
    size_t k;
    fprintf(f, "usage: %s\n", v->synopsis);
    if (v->about) fprintf(f, "\n%s\n", v->about);
    if (v->nopts) fprintf(f, "\noptions:\n");
    for (k = 0; k < v->nopts; k++) {
        const opt_spec *o = &v->opts[k];
        char left[64];
        snprintf(left, sizeof left, *o->meta ? "--%s %s" : "--%s", o->name, o->meta);
        fprintf(f, "  %-20s %s%s", left, o->help, o->required ? " (required)" : "");
        if (o->dflt) fprintf(f, " (default %s)", o->dflt);
        fprintf(f, "\n");
    }
    fprintf(f, "  %-20s %s\n", "--help", "print this help and exit");
}

/* ---------------------------------------------------------------------------------------- */
/* Allocation, input, output                                                                 */

/* malloc(a * b * c * size) with overflow checking; NULL on overflow or failure. Never called
   with a zero product by the verbs below (sizes are validated non-zero first). */
static void *alloc_array(size_t a, size_t b, size_t c, size_t size)
{
    size_t n = a;
    if (b && n > (size_t)-1 / b) return NULL;
    n *= b;
    if (c && n > (size_t)-1 / c) return NULL;
    n *= c;
    if (size && n > (size_t)-1 / size) return NULL;
    n *= size;
    return malloc(n ? n : 1);
}

/* Reads a .npy file that must hold a non-empty 2-D array; `what` names it in messages
   ("data", "points"). Returns 0 or EXIT_RUNTIME (message printed, *a freed). */
static int load_matrix(const char *verb_name, const char *what, const char *path, rdg_array *a)
{
    rdg_status st;
    char sh[128];
    FILE *f;
    memset(a, 0, sizeof *a);
    f = fopen(path, "rb");
    if (!f) {
        errmsg(verb_name, "cannot open %s file '%s': %s", what, path, strerror(errno));
        return EXIT_RUNTIME;
    }
    fclose(f);
    st = rdg_npy_read(path, a);
    if (st != RDG_OK) {
        errmsg(verb_name, "cannot read %s file '%s': %s", what, path, rdg_status_str(st));
        rdg_array_free(a);
        return EXIT_RUNTIME;
    }
    if (a->ndim != 2) {
        errmsg(verb_name, "%s '%s' must be a 2-D array (rows, d), got shape %s", what, path,
               shape_str(a, sh, sizeof sh));
        rdg_array_free(a);
        return EXIT_RUNTIME;
    }
    if (a->shape[0] == 0 || a->shape[1] == 0) {
        errmsg(verb_name, "%s '%s' is empty (shape %s)", what, path, shape_str(a, sh, sizeof sh));
        rdg_array_free(a);
        return EXIT_RUNTIME;
    }
    return 0;
}

/* Loads data (N, d) and points (B, d), checks them and builds the density view.
   Returns 0 or EXIT_RUNTIME (message printed, both arrays freed). */
static int load_data_points(const char *verb_name, const char *data_path, const char *points_path,
                            rdg_array *X, rdg_array *Y, rdg_gmm *g)
{
    rdg_status st;
    size_t i;
    char s1[128], s2[128];
    memset(Y, 0, sizeof *Y);
    if (load_matrix(verb_name, "data", data_path, X)) return EXIT_RUNTIME;
    if (load_matrix(verb_name, "points", points_path, Y)) { rdg_array_free(X); return EXIT_RUNTIME; }
    if (X->shape[1] != Y->shape[1]) {
        errmsg(verb_name, "data '%s' has shape %s but points '%s' have shape %s: the number of "
               "columns d must match", data_path, shape_str(X, s1, sizeof s1), points_path,
               shape_str(Y, s2, sizeof s2));
        goto fail;
    }
    st = rdg_gmm_init(g, X->data, X->shape[0], X->shape[1]);
    if (st == RDG_ERR_NONFINITE) {
        errmsg(verb_name, "data '%s' contains NaN or Inf", data_path);
        goto fail;
    }
    if (st != RDG_OK) {
        errmsg(verb_name, "data '%s' cannot be used: %s", data_path, rdg_status_str(st));
        goto fail;
    }
    for (i = 0; i < Y->count; i++)
        if (!isfinite(Y->data[i])) {
            errmsg(verb_name, "points '%s' contain NaN or Inf (row %lu)", points_path,
                   (unsigned long)(i / Y->shape[1]));
            goto fail;
        }
    return 0;
fail:
    rdg_array_free(X);
    rdg_array_free(Y);
    return EXIT_RUNTIME;
}

/* The outputs one invocation has written so far, to remove them if a later one fails. */
typedef struct written_set {
    const char *path[MAX_OUTPUTS];
    size_t n;
} written_set;

static void written_rollback(written_set *w)
{
    while (w->n) remove(w->path[--w->n]);
}

static int write_npy(const char *verb_name, written_set *w, const char *path, const rdg_real *data,
                     size_t ndim, const size_t *shape)
{
    rdg_status st = rdg_npy_write(path, data, ndim, shape);
    if (st != RDG_OK) {
        errmsg(verb_name, "cannot write '%s': %s", path, rdg_status_str(st));
        written_rollback(w);
        return EXIT_RUNTIME;
    }
    if (w->n < MAX_OUTPUTS) w->path[w->n++] = path;
    return 0;
}

/* "<path>.tmp" in a new buffer, NULL when out of memory */
static char *tmp_name(const char *path)
{
    size_t n = strlen(path);
    char *t = (char *)malloc(n + 5);
    if (t) { memcpy(t, path, n); memcpy(t + n, ".tmp", 5); }
    return t;
}

/* Writes the per-point projection report (CSV) through <path>.tmp and a rename. */
static int write_info_csv(const char *verb_name, written_set *w, const char *path,
                          const rdg_project_info *info, size_t B)
{
    char *tmp = tmp_name(path);
    FILE *f;
    size_t i;
    int ok = 1, err = 0;
    if (!tmp) { errmsg(verb_name, "cannot write '%s': out of memory", path); written_rollback(w); return EXIT_RUNTIME; }
    f = fopen(tmp, "w");
    if (!f) {
        errmsg(verb_name, "cannot write '%s': %s", path, strerror(errno));
        free(tmp); written_rollback(w);
        return EXIT_RUNTIME;
    }
    if (fprintf(f, "distance,resid0,resid,iters,converged,curv_ok,gap\n") < 0) ok = 0;
    for (i = 0; ok && i < B; i++)
        if (fprintf(f, "%.17g,%.17g,%.17g,%d,%d,%d,%.17g\n", (double)info[i].distance,
                    (double)info[i].resid0, (double)info[i].resid, info[i].iters,
                    info[i].converged ? 1 : 0, info[i].curv_ok ? 1 : 0, (double)info[i].gap) < 0)
            ok = 0;
    if (ok && fflush(f) != 0) ok = 0;
    if (ok && ferror(f)) ok = 0;
    if (!ok) err = errno;
    if (fclose(f) != 0 && ok) { ok = 0; err = errno; }
    if (ok && rename(tmp, path) != 0) { ok = 0; err = errno; }
    if (!ok) {
        errmsg(verb_name, "cannot write '%s': %s", path, err ? strerror(err) : "write error");
        remove(tmp);
        free(tmp);
        written_rollback(w);
        return EXIT_RUNTIME;
    }
    free(tmp);
    if (w->n < MAX_OUTPUTS) w->path[w->n++] = path;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* density                                                                                   */

enum { DE_DATA, DE_POINTS, DE_T, DE_LOGP, DE_SCORE, DE_HESS, DE_MEAN, DE_NOPTS };

static const opt_spec density_opts[DE_NOPTS] = {
    [DE_DATA]   = { "data", OPT_IN, 1, "X.npy", "training data, shape (N, d)", NO_BOUND, 0, NULL, NULL },
    [DE_POINTS] = { "points", OPT_IN, 1, "Y.npy", "query points, shape (B, d)", NO_BOUND, 0, NULL, NULL },
    [DE_T]      = { "t", OPT_REAL, 1, "T", "diffusion time, > 0", ABOVE, 0, NULL, NULL },
    [DE_LOGP]   = { "logp", OPT_OUT, 0, "F.npy", "write log p_t(y), shape (B,)", NO_BOUND, 0, NULL, NULL },
    [DE_SCORE]  = { "score", OPT_OUT, 0, "F.npy", "write the score grad log p_t(y), shape (B, d)", NO_BOUND, 0, NULL, NULL },
    [DE_HESS]   = { "hessian", OPT_OUT, 0, "F.npy", "write the Hessian of log p_t, shape (B, d, d)", NO_BOUND, 0, NULL, NULL },
    [DE_MEAN]   = { "mean", OPT_OUT, 0, "F.npy", "write the posterior mean E[X_0 | X_t = y], shape (B, d)", NO_BOUND, 0, NULL, NULL },
};

static int run_density(const verb *v, const opt_val *val)
{
    rdg_array X, Y;
    rdg_gmm g;
    rdg_density_out out;
    rdg_status st;
    written_set w;
    size_t B, d, shape[3];
    int rc = EXIT_RUNTIME;

    if (!val[DE_LOGP].set && !val[DE_SCORE].set && !val[DE_HESS].set && !val[DE_MEAN].set) {
        errmsg(v->name, "nothing to compute: give at least one of --logp, --score, --hessian, --mean");
        return EXIT_USAGE;
    }
    if (load_data_points(v->name, val[DE_DATA].str, val[DE_POINTS].str, &X, &Y, &g)) return EXIT_RUNTIME;
    B = Y.shape[0];
    d = Y.shape[1];
    memset(&out, 0, sizeof out);
    w.n = 0;
    if ((val[DE_LOGP].set && !(out.logp = (rdg_real *)alloc_array(B, 1, 1, sizeof(rdg_real)))) ||
        (val[DE_SCORE].set && !(out.score = (rdg_real *)alloc_array(B, d, 1, sizeof(rdg_real)))) ||
        (val[DE_HESS].set && !(out.hess = (rdg_real *)alloc_array(B, d, d, sizeof(rdg_real)))) ||
        (val[DE_MEAN].set && !(out.mean = (rdg_real *)alloc_array(B, d, 1, sizeof(rdg_real))))) {
        errmsg(v->name, "out of memory for %lu points in %lu dimensions", (unsigned long)B, (unsigned long)d);
        goto done;
    }
    st = rdg_density_eval(&g, (rdg_real)val[DE_T].real, Y.data, B, &out);
    if (st != RDG_OK) {
        errmsg(v->name, "density evaluation failed: %s", rdg_status_str(st));
        goto done;
    }
    shape[0] = B; shape[1] = d; shape[2] = d;
    if (out.logp && write_npy(v->name, &w, val[DE_LOGP].str, out.logp, 1, shape)) goto done;
    if (out.score && write_npy(v->name, &w, val[DE_SCORE].str, out.score, 2, shape)) goto done;
    if (out.hess && write_npy(v->name, &w, val[DE_HESS].str, out.hess, 3, shape)) goto done;
    if (out.mean && write_npy(v->name, &w, val[DE_MEAN].str, out.mean, 2, shape)) goto done;
    rc = 0;
done:
    free(out.logp); free(out.score); free(out.hess); free(out.mean);
    rdg_array_free(&X);
    rdg_array_free(&Y);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* project                                                                                   */

enum { PR_DATA, PR_POINTS, PR_T, PR_DSTAR, PR_BETA, PR_METHOD, PR_OUT, PR_INFO, PR_NOPTS };

static const opt_spec project_opts[PR_NOPTS] = {
    [PR_DATA]   = { "data", OPT_IN, 1, "X.npy", "training data, shape (N, d)", NO_BOUND, 0, NULL, NULL },
    [PR_POINTS] = { "points", OPT_IN, 1, "Y.npy", "points to project, shape (B, d)", NO_BOUND, 0, NULL, NULL },
    [PR_T]      = { "t", OPT_REAL, 1, "T", "diffusion time, > 0", ABOVE, 0, NULL, NULL },
    [PR_DSTAR]  = { "dstar", OPT_INT, 1, "K", "ridge dimension, 1 <= K < d", AT_LEAST, 1, NULL, NULL },
    [PR_BETA]   = { "beta", OPT_REAL, 0, "B", "curvature threshold: curvature ok when lam_{K+1} <= -B", AT_LEAST, 0, NULL, "0" },
    [PR_METHOD] = { "method", OPT_CHOICE, 0, "lm|scms", "Levenberg-Marquardt (nearest ridge point) or SCMS", NO_BOUND, 0, "lm|scms", "lm" },
    [PR_OUT]    = { "out", OPT_OUT, 1, "P.npy", "write the projected points, shape (B, d)", NO_BOUND, 0, NULL, NULL },
    [PR_INFO]   = { "info", OPT_OUT, 0, "I.csv", "write the per-point report (CSV, one row per point)", NO_BOUND, 0, NULL, NULL },
};

static int run_project(const verb *v, const opt_val *val)
{
    rdg_array X, Y;
    rdg_gmm g;
    rdg_project_opts o;
    rdg_project_info *info = NULL;
    rdg_real *P = NULL;
    rdg_status st;
    written_set w;
    size_t B, d, shape[2];
    int rc = EXIT_RUNTIME;

    if (load_data_points(v->name, val[PR_DATA].str, val[PR_POINTS].str, &X, &Y, &g)) return EXIT_RUNTIME;
    B = Y.shape[0];
    d = Y.shape[1];
    w.n = 0;
    if ((unsigned long)val[PR_DSTAR].ival >= (unsigned long)d) {
        errmsg(v->name, "option --dstar must be < d = %lu (the number of columns of '%s'), got %ld",
               (unsigned long)d, val[PR_DATA].str, val[PR_DSTAR].ival);
        rc = EXIT_USAGE;
        goto done;
    }
    memset(&o, 0, sizeof o);
    o.dstar = (size_t)val[PR_DSTAR].ival;
    o.beta = (rdg_real)val[PR_BETA].real;
    o.method = strcmp(val[PR_METHOD].str, "scms") ? RDG_PROJECT_LM : RDG_PROJECT_SCMS;
    if (!(P = (rdg_real *)alloc_array(B, d, 1, sizeof(rdg_real))) ||
        (val[PR_INFO].set && !(info = (rdg_project_info *)alloc_array(B, 1, 1, sizeof *info)))) {
        errmsg(v->name, "out of memory for %lu points in %lu dimensions", (unsigned long)B, (unsigned long)d);
        goto done;
    }
    st = rdg_ridge_project(&g, (rdg_real)val[PR_T].real, Y.data, B, &o, P, info);
    if (st != RDG_OK) {
        errmsg(v->name, "projection failed: %s", rdg_status_str(st));
        goto done;
    }
    shape[0] = B; shape[1] = d;
    if (write_npy(v->name, &w, val[PR_OUT].str, P, 2, shape)) goto done;
    if (info && write_info_csv(v->name, &w, val[PR_INFO].str, info, B)) goto done;
    rc = 0;
done:
    free(P);
    free(info);
    rdg_array_free(&X);
    rdg_array_free(&Y);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Progress on a terminal                                                                    */

/* 1 when stderr is a terminal (progress lines are shown only then; scripts see quiet runs) */
static int stderr_is_tty(void)
{
#if HAVE_POSIX
    return isatty(STDERR_FILENO);
#else
    return 0;
#endif
}

/* seconds on a monotonic clock (CPU time where POSIX is absent) */
static double now_seconds(void)
{
#if HAVE_POSIX
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
    return (double)clock() / CLOCKS_PER_SEC;
}

typedef struct progress_state {
    const char *verb;
    size_t total;
    double start;
    int shown;
} progress_state;

static void train_progress(size_t step, rdg_real loss, void *user)
{
    progress_state *p = (progress_state *)user;
    double el = now_seconds() - p->start;
    fprintf(stderr, "\rridgediff %s: step %lu/%lu  loss %.6g  %.0f steps/s   ", p->verb, (unsigned long)step,
            (unsigned long)p->total, (double)loss, el > 0 ? (double)step / el : 0.0);
    fflush(stderr);
    p->shown = 1;
}

/* ---------------------------------------------------------------------------------------- */
/* train                                                                                     */

enum { TR_DATA, TR_MODEL, TR_WIDTH, TR_HIDDEN, TR_WEIGHT, TR_STEPS, TR_LR, TR_SEED, TR_OUT, TR_NOPTS };

static const opt_spec train_opts[TR_NOPTS] = {
    [TR_DATA]   = { "data", OPT_IN, 1, "X.npy", "training data, shape (N, d)", NO_BOUND, 0, NULL, NULL },
    [TR_MODEL]  = { "model", OPT_CHOICE, 1, "rfnn|mlp", "random feature network or small MLP", NO_BOUND, 0, "rfnn|mlp", NULL },
    [TR_WIDTH]  = { "width", OPT_INT, 0, "M", "rfnn: number of random features (default 2000)", ABOVE, 0, NULL, NULL },
    [TR_HIDDEN] = { "hidden", OPT_LIST, 0, "H1,H2,..", "mlp: hidden layer widths (default 256,256)", NO_BOUND, 0, NULL, NULL },
    [TR_WEIGHT] = { "weight", OPT_CHOICE, 0, "one|sigma2|snr", "loss weight w(t): 1, s_t^2 or a_t^2/s_t^2", NO_BOUND, 0, "one|sigma2|snr", "one" },
    [TR_STEPS]  = { "steps", OPT_INT, 0, "S", "GD steps (rfnn, default 100000) or Adam steps (mlp, default 20000)", AT_LEAST, 0, NULL, NULL },
    [TR_LR]     = { "lr", OPT_REAL, 0, "LR", "learning rate (default 0.004 rfnn, 0.001 mlp)", ABOVE, 0, NULL, NULL },
    [TR_SEED]   = { "seed", OPT_INT, 0, "S", "random seed (network, noise draws)", AT_LEAST, 0, NULL, "0" },
    [TR_OUT]    = { "out", OPT_OUT, 1, "MODEL.rdg", "write the trained model", NO_BOUND, 0, NULL, NULL },
};

/* Trains an RFNN: builds the quadratic form of the DMM loss, then takes the GD iterate after
   `steps` steps in closed form (the same iterate as rdg_rf_gd, in one eigen-basis product). */
static int train_rfnn(const verb *v, const opt_val *val, const rdg_gmm *g, rdg_model_file *f, int tty)
{
    rdg_dmm_opts dopt;
    rdg_rf_quad q;
    rdg_status st;
    rdg_real *Ak = NULL, eta, loss0 = 0, loss = 0;
    size_t M = val[TR_WIDTH].set ? (size_t)val[TR_WIDTH].ival : 2000;
    size_t steps = val[TR_STEPS].set ? (size_t)val[TR_STEPS].ival : 100000, i, dm;
    unsigned long long seed = (unsigned long long)val[TR_SEED].ival;
    double t_start = now_seconds();
    int rc = EXIT_RUNTIME;

    eta = (rdg_real)(val[TR_LR].set ? val[TR_LR].real : 0.004);
    memset(&q, 0, sizeof q);
    memset(&dopt, 0, sizeof dopt);
    dopt.weight = !strcmp(val[TR_WEIGHT].str, "sigma2") ? RDG_WEIGHT_SIGMA2
                : !strcmp(val[TR_WEIGHT].str, "snr") ? RDG_WEIGHT_SNR : RDG_WEIGHT_ONE;
    /* the noise draws use a seed of their own, so they never repeat the network's streams */
    dopt.seed = seed + 0x9E3779B97F4A7C15ULL;
    st = rdg_rfnn_init(&f->rf, g->d, M, 0, 0, seed);
    if (st != RDG_OK) {
        errmsg(v->name, "cannot build an RFNN of width %lu in d = %lu: %s", (unsigned long)M,
               (unsigned long)g->d, rdg_status_str(st));
        return EXIT_RUNTIME;
    }
    f->kind = RDG_MODEL_RFNN;
    if (tty) fprintf(stderr, "ridgediff %s: rfnn M = %lu: building the quadratic form of the loss ...\n",
                     v->name, (unsigned long)M);
    st = rdg_rf_quad_build(&f->rf, g, &dopt, &q);
    if (st != RDG_OK) {
        errmsg(v->name, "cannot build the quadratic form of the loss (M = %lu): %s", (unsigned long)M,
               rdg_status_str(st));
        return EXIT_RUNTIME;
    }
    if (q.kval && (double)eta * (double)q.kval[0] > 1.0) {
        errmsg(v->name, "--lr %g makes gradient descent diverge on this data: it needs lr < 1/k_max = %.6g",
               (double)eta, 1.0 / (double)q.kval[0]);
        goto done;
    }
    dm = g->d * M;
    if (!(Ak = (rdg_real *)alloc_array(g->d, M, 1, sizeof(rdg_real)))) {
        errmsg(v->name, "out of memory for the RFNN weights (d = %lu, M = %lu)", (unsigned long)g->d, (unsigned long)M);
        goto done;
    }
    if (tty) rdg_rf_quad_loss(&q, f->rf.A, &loss0);
    st = rdg_rf_closed_form(&q, f->rf.A, eta, steps, Ak);
    if (st != RDG_OK) {
        errmsg(v->name, "gradient descent (closed form, %lu steps) failed: %s", (unsigned long)steps, rdg_status_str(st));
        goto done;
    }
    for (i = 0; i < dm; i++)
        if (!isfinite(Ak[i])) {
            errmsg(v->name, "gradient descent diverged (--lr %g, %lu steps)", (double)eta, (unsigned long)steps);
            goto done;
        }
    memcpy(f->rf.A, Ak, dm * sizeof(rdg_real));
    if (tty) {
        rdg_rf_quad_loss(&q, f->rf.A, &loss);
        fprintf(stderr, "ridgediff %s: loss %.6g -> %.6g after %lu GD steps (lr %g; best possible %.6g), %.1f s\n",
                v->name, (double)loss0, (double)loss, (unsigned long)steps, (double)eta, (double)q.cstar,
                now_seconds() - t_start);
    }
    rc = 0;
done:
    free(Ak);
    rdg_rf_quad_free(&q);
    return rc;
}

static int train_mlp(const verb *v, const opt_val *val, const rdg_gmm *g, rdg_model_file *f, int tty)
{
    rdg_train_opts to;
    rdg_status st;
    rdg_real loss = 0;
    progress_state ps;
    size_t hidden[MAX_LIST] = { 256, 256 }, nh = 2;
    double el;

    if (val[TR_HIDDEN].set) nh = parse_list(val[TR_HIDDEN].str, hidden);
    if (nh > RDG_MLP_MAX_LAYERS) {
        errmsg(v->name, "option --hidden: at most %d layers", RDG_MLP_MAX_LAYERS);
        return EXIT_USAGE;
    }
    st = rdg_mlp_init(&f->mlp, g->d, nh, hidden, 0, (unsigned long long)val[TR_SEED].ival);
    if (st != RDG_OK) {
        errmsg(v->name, "cannot build an MLP with hidden layers %s in d = %lu: %s",
               val[TR_HIDDEN].set ? val[TR_HIDDEN].str : "256,256", (unsigned long)g->d, rdg_status_str(st));
        return EXIT_RUNTIME;
    }
    f->kind = RDG_MODEL_MLP;
    memset(&to, 0, sizeof to);
    to.steps = val[TR_STEPS].set ? (size_t)val[TR_STEPS].ival : 20000;
    to.lr = (rdg_real)(val[TR_LR].set ? val[TR_LR].real : 1e-3);
    to.weight = !strcmp(val[TR_WEIGHT].str, "sigma2") ? RDG_WEIGHT_SIGMA2
              : !strcmp(val[TR_WEIGHT].str, "snr") ? RDG_WEIGHT_SNR : RDG_WEIGHT_ONE;
    to.seed = (unsigned long long)val[TR_SEED].ival + 0x9E3779B97F4A7C15ULL;
    ps.verb = v->name; ps.total = to.steps; ps.start = now_seconds(); ps.shown = 0;
    if (tty) { to.progress = train_progress; to.progress_user = &ps; }
    if (to.steps == 0) return 0;
    st = rdg_mlp_train(&f->mlp, g, &to, &loss);
    if (ps.shown) fprintf(stderr, "\n");
    if (st != RDG_OK) {
        errmsg(v->name, "training failed: %s", st == RDG_ERR_NONFINITE
               ? "the loss became NaN or Inf (try a smaller --lr)" : rdg_status_str(st));
        return EXIT_RUNTIME;
    }
    if (!isfinite(loss)) {
        errmsg(v->name, "training diverged: the loss is %g (try a smaller --lr)", (double)loss);
        return EXIT_RUNTIME;
    }
    if (tty) {
        el = now_seconds() - ps.start;
        fprintf(stderr, "ridgediff %s: %lu steps, final loss %.6g, %.1f s (%.0f steps/s)\n", v->name,
                (unsigned long)to.steps, (double)loss, el, el > 0 ? (double)to.steps / el : 0.0);
    }
    return 0;
}

static int run_train(const verb *v, const opt_val *val)
{
    rdg_array X;
    rdg_gmm g;
    rdg_model_file f;
    rdg_status st;
    int rfnn = !strcmp(val[TR_MODEL].str, "rfnn"), rc, tty = stderr_is_tty();

    if (rfnn && val[TR_HIDDEN].set) { errmsg(v->name, "option --hidden applies to --model mlp only"); return EXIT_USAGE; }
    if (!rfnn && val[TR_WIDTH].set) { errmsg(v->name, "option --width applies to --model rfnn only"); return EXIT_USAGE; }
    if (load_matrix(v->name, "data", val[TR_DATA].str, &X)) return EXIT_RUNTIME;
    st = rdg_gmm_init(&g, X.data, X.shape[0], X.shape[1]);
    if (st != RDG_OK) {
        if (st == RDG_ERR_NONFINITE) errmsg(v->name, "data '%s' contains NaN or Inf", val[TR_DATA].str);
        else errmsg(v->name, "data '%s' cannot be used: %s", val[TR_DATA].str, rdg_status_str(st));
        rdg_array_free(&X);
        return EXIT_RUNTIME;
    }
    memset(&f, 0, sizeof f);
    rc = rfnn ? train_rfnn(v, val, &g, &f, tty) : train_mlp(v, val, &g, &f, tty);
    if (rc == 0) {
        st = rdg_model_file_save(val[TR_OUT].str, &f);
        if (st != RDG_OK) {
            errmsg(v->name, "cannot write '%s': %s", val[TR_OUT].str, rdg_status_str(st));
            rc = EXIT_RUNTIME;
        }
    }
    rdg_model_file_free(&f);
    rdg_array_free(&X);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* sample                                                                                    */

enum { SA_MODEL, SA_EXACT, SA_N, SA_STEPS, SA_T, SA_T0, SA_ODE, SA_SEED, SA_OUT, SA_TRAJ, SA_TIMES,
       SA_EVERY, SA_NOPTS };

static const opt_spec sample_opts[SA_NOPTS] = {
    [SA_MODEL] = { "model", OPT_IN, 0, "MODEL.rdg", "a model written by 'ridgediff train'", NO_BOUND, 0, NULL, NULL },
    [SA_EXACT] = { "exact", OPT_IN, 0, "X.npy", "use the exact posterior mean of this data (N, d) instead", NO_BOUND, 0, NULL, NULL },
    [SA_N]     = { "n", OPT_INT, 1, "N", "number of samples (trajectories)", ABOVE, 0, NULL, NULL },
    [SA_STEPS] = { "steps", OPT_INT, 0, "K", "time steps from T to t0", ABOVE, 0, NULL, "1000" },
    [SA_T]     = { "T", OPT_REAL, 0, "T", "start time (prior N(0, I))", ABOVE, 0, NULL, "10" },
    [SA_T0]    = { "t0", OPT_REAL, 0, "T0", "early-stopping time, 0 < T0 < T", ABOVE, 0, NULL, "0.005" },
    [SA_ODE]   = { "ode", OPT_FLAG, 0, "", "probability-flow ODE (Heun) instead of the reverse SDE", NO_BOUND, 0, NULL, NULL },
    [SA_SEED]  = { "seed", OPT_INT, 0, "S", "random seed", AT_LEAST, 0, NULL, "0" },
    [SA_OUT]   = { "out", OPT_OUT, 1, "SAMPLES.npy", "write the samples at t0, shape (N, d)", NO_BOUND, 0, NULL, NULL },
    [SA_TRAJ]  = { "traj", OPT_OUT, 0, "TRAJ.npy", "write the states at steps 0, E, 2E, ..., K: (C, N, d)", NO_BOUND, 0, NULL, NULL },
    [SA_TIMES] = { "times", OPT_OUT, 0, "TIMES.npy", "with --traj: write the times of those steps, (C,)", NO_BOUND, 0, NULL, NULL },
    [SA_EVERY] = { "every", OPT_INT, 0, "E", "with --traj: checkpoint spacing in steps", ABOVE, 0, NULL, "100" },
};

static int run_sample(const verb *v, const opt_val *val)
{
    rdg_array X;
    rdg_gmm g;
    rdg_model_file f;
    rdg_model m;
    rdg_sample_opts o;
    rdg_status st;
    rdg_real *out = NULL, *traj = NULL, *times = NULL;
    written_set w;
    size_t n, d, C, shape[3];
    int rc = EXIT_RUNTIME, want_traj = val[SA_TRAJ].set;
    FILE *fp;

    if (val[SA_MODEL].set == val[SA_EXACT].set) {
        errmsg(v->name, val[SA_MODEL].set ? "give --model or --exact, not both"
                                          : "missing the model: give --model MODEL.rdg or --exact X.npy");
        return EXIT_USAGE;
    }
    if (!(val[SA_T].real > val[SA_T0].real)) {
        errmsg(v->name, "option --t0 must be < --T, got --t0 %s and --T %s", val[SA_T0].str, val[SA_T].str);
        return EXIT_USAGE;
    }
    if (!want_traj && (val[SA_TIMES].set || val[SA_EVERY].set)) {
        errmsg(v->name, "option --%s needs --traj", val[SA_TIMES].set ? "times" : "every");
        return EXIT_USAGE;
    }
    memset(&X, 0, sizeof X);
    memset(&f, 0, sizeof f);
    w.n = 0;
    if (val[SA_EXACT].set) {
        if (load_matrix(v->name, "data", val[SA_EXACT].str, &X)) return EXIT_RUNTIME;
        st = rdg_gmm_init(&g, X.data, X.shape[0], X.shape[1]);
        if (st == RDG_ERR_NONFINITE) { errmsg(v->name, "data '%s' contains NaN or Inf", val[SA_EXACT].str); goto done; }
        if (st != RDG_OK) { errmsg(v->name, "data '%s' cannot be used: %s", val[SA_EXACT].str, rdg_status_str(st)); goto done; }
        st = rdg_model_exact(&m, &g);
    } else {
        if (!(fp = fopen(val[SA_MODEL].str, "rb"))) {
            errmsg(v->name, "cannot open model file '%s': %s", val[SA_MODEL].str, strerror(errno));
            return EXIT_RUNTIME;
        }
        fclose(fp);
        st = rdg_model_file_load(val[SA_MODEL].str, &f);
        if (st != RDG_OK) {
            errmsg(v->name, "cannot read model file '%s': %s", val[SA_MODEL].str, rdg_status_str(st));
            goto done;
        }
        st = rdg_model_file_model(&f, &m);
    }
    if (st != RDG_OK) { errmsg(v->name, "cannot use the model: %s", rdg_status_str(st)); goto done; }
    n = (size_t)val[SA_N].ival;
    d = m.d;
    memset(&o, 0, sizeof o);
    o.T = (rdg_real)val[SA_T].real;
    o.t0 = (rdg_real)val[SA_T0].real;
    o.K = (size_t)val[SA_STEPS].ival;
    o.ode = val[SA_ODE].set;
    o.seed = (unsigned long long)val[SA_SEED].ival;
    o.every = want_traj ? (size_t)val[SA_EVERY].ival : 0;
    C = rdg_sample_ncheck(o.K, o.every);
    if (!(out = (rdg_real *)alloc_array(n, d, 1, sizeof(rdg_real))) ||
        (want_traj && (C == 0 || !(traj = (rdg_real *)alloc_array(C, n, d, sizeof(rdg_real))))) ||
        (val[SA_TIMES].set && !(times = (rdg_real *)alloc_array(C, 1, 1, sizeof(rdg_real))))) {
        errmsg(v->name, "out of memory for %lu samples in %lu dimensions%s", (unsigned long)n, (unsigned long)d,
               want_traj ? " with their trajectories" : "");
        goto done;
    }
    st = rdg_sample(&m, n, &o, out, traj, times);
    if (st != RDG_OK) {
        errmsg(v->name, "sampling failed: %s", st == RDG_ERR_NONFINITE
               ? "a trajectory reached NaN or Inf (the model returns non-finite values)" : rdg_status_str(st));
        goto done;
    }
    shape[0] = n; shape[1] = d;
    if (write_npy(v->name, &w, val[SA_OUT].str, out, 2, shape)) goto done;
    shape[0] = C; shape[1] = n; shape[2] = d;
    if (traj && write_npy(v->name, &w, val[SA_TRAJ].str, traj, 3, shape)) goto done;
    if (times && write_npy(v->name, &w, val[SA_TIMES].str, times, 1, shape)) goto done;
    rc = 0;
done:
    free(out); free(traj); free(times);
    rdg_model_file_free(&f);
    rdg_array_free(&X);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* analyze: the reach-align-slide diagnostics of any model's trajectories                    */

static int finish_stdout(const char *verb_name);

enum { AN_DATA, AN_TRAJ, AN_TIMES, AN_DSTAR, AN_BETA, AN_CSV, AN_JSON, AN_NOPTS };
static const opt_spec analyze_opts[AN_NOPTS] = {
    [AN_DATA]  = { "data", OPT_IN, 1, "X.npy", "training data, shape (N, d)", NO_BOUND, 0, NULL, NULL },
    [AN_TRAJ]  = { "traj", OPT_IN, 1, "TRAJ.npy", "trajectories: states at C checkpoints, shape (C, n, d)", NO_BOUND, 0, NULL, NULL },
    [AN_TIMES] = { "times", OPT_IN, 1, "TIMES.npy", "the diffusion time t of each checkpoint, shape (C,)", NO_BOUND, 0, NULL, NULL },
    [AN_DSTAR] = { "dstar", OPT_INT, 1, "K", "ridge dimension, 1 <= K < d", AT_LEAST, 1, NULL, NULL },
    [AN_BETA]  = { "beta", OPT_REAL, 0, "B", "curvature threshold: curvature ok when lam_{K+1} <= -B", AT_LEAST, 0, NULL, "0" },
    [AN_CSV]   = { "csv", OPT_OUT, 0, "F.csv", "write the stability table as CSV", NO_BOUND, 0, NULL, NULL },
    [AN_JSON]  = { "json", OPT_OUT, 0, "F.json", "write the table, the summary and the reach times as JSON", NO_BOUND, 0, NULL, NULL },
};

/* Writes text produced by fn(f, ctx) to path through a temporary file. 0 or EXIT_RUNTIME. */
typedef void (*text_fn)(FILE *f, const void *ctx);
static int write_text(const char *verb_name, written_set *w, const char *path, text_fn fn, const void *ctx)
{
    char *tmp = tmp_name(path);
    FILE *f;
    int bad;
    if (!tmp) { errmsg(verb_name, "out of memory"); return EXIT_RUNTIME; }
    if (!(f = fopen(tmp, "w"))) {
        errmsg(verb_name, "cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return EXIT_RUNTIME;
    }
    fn(f, ctx);
    bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (!bad) bad = rename(tmp, path) != 0;
    if (bad) {
        errmsg(verb_name, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return EXIT_RUNTIME;
    }
    free(tmp);
    if (w->n < MAX_OUTPUTS) w->path[w->n++] = path;
    return 0;
}

typedef struct analysis {
    const rdg_stab_row *rows;
    size_t C, n, dstar, kinds[4];
    const rdg_real *reach;
    double memorised, mean_reach;
    size_t nreach;
} analysis;

static void analysis_csv(FILE *f, const void *ctx)
{
    const analysis *a = (const analysis *)ctx;
    rdx_table_csv(f, a->rows, a->C);
}

static void json_num(FILE *f, double v)
{
    if (v == v && v <= 1.7976931348623157e308 && v >= -1.7976931348623157e308) fprintf(f, "%.17g", v);
    else fputs("null", f);
}

static void analysis_json(FILE *f, const void *ctx)
{
    const analysis *a = (const analysis *)ctx;
    size_t c, i;
    fprintf(f, "{\n  \"dstar\": %lu,\n  \"trajectories\": %lu,\n  \"checkpoints\": %lu,\n  \"table\": [\n",
            (unsigned long)a->dstar, (unsigned long)a->n, (unsigned long)a->C);
    for (c = 0; c < a->C; ++c) {
        const rdg_stab_row *r = &a->rows[c];
        fprintf(f, "    {\"checkpoint\": %lu, \"t\": ", (unsigned long)r->step); json_num(f, (double)r->t);
        fprintf(f, ", \"mean_dist\": "); if (r->reliable) json_num(f, (double)r->mean_dist); else fputs("null", f);
        fprintf(f, ", \"reliable\": %lu, \"curv_ok\": %lu, \"mean_resid\": ", (unsigned long)r->reliable, (unsigned long)r->curv_ok);
        json_num(f, (double)r->mean_resid0);
        fprintf(f, ", \"mean_gap\": "); json_num(f, (double)r->mean_gap);
        fprintf(f, ", \"failures\": %lu, \"normal_err\": ", (unsigned long)r->failures);
        if (r->reliable) json_num(f, (double)r->normal_err); else fputs("null", f);
        fprintf(f, ", \"tangent_err\": "); if (r->dominant) json_num(f, (double)r->tangent_err); else fputs("null", f);
        fprintf(f, ", \"dominant\": %lu, \"in_tube\": %lu, \"memorised\": %lu}%s\n", (unsigned long)r->dominant,
                (unsigned long)r->in_tube, (unsigned long)r->memorised, c + 1 < a->C ? "," : "");
    }
    fprintf(f, "  ],\n  \"summary\": {\"memorised_fraction\": "); json_num(f, a->memorised);
    fprintf(f, ", \"copies\": %lu, \"on_ridge\": %lu, \"off_ridge\": %lu, \"undefined\": %lu, \"reached\": %lu, \"mean_reach_time\": ",
            (unsigned long)a->kinds[0], (unsigned long)a->kinds[1], (unsigned long)a->kinds[2], (unsigned long)a->kinds[3],
            (unsigned long)a->nreach);
    if (a->nreach) json_num(f, a->mean_reach); else fputs("null", f);
    fprintf(f, "},\n  \"reach_time\": [");
    for (i = 0; i < a->n; ++i) {
        if (i) fputs(", ", f);
        if (a->reach[i] < 0) fputs("null", f); else json_num(f, (double)a->reach[i]);
    }
    fprintf(f, "]\n}\n");
}

static int run_analyze(const verb *v, const opt_val *val)
{
    rdg_array X, T, tm;
    rdg_gmm g;
    rdg_diag_opts o;
    rdg_stab_row *rows = NULL;
    rdg_sample_diag *sd = NULL;
    rdg_real *reach = NULL;
    analysis an;
    written_set w;
    rdg_status st;
    size_t C, n, d, i;
    int rc = EXIT_RUNTIME;
    char s1[128], s2[128];

    memset(&T, 0, sizeof T); memset(&tm, 0, sizeof tm);
    w.n = 0;
    if (load_matrix(v->name, "data", val[AN_DATA].str, &X)) return EXIT_RUNTIME;
    st = rdg_npy_read(val[AN_TRAJ].str, &T);
    if (st != RDG_OK) { errmsg(v->name, "cannot read trajectories '%s': %s", val[AN_TRAJ].str, rdg_status_str(st)); goto done; }
    st = rdg_npy_read(val[AN_TIMES].str, &tm);
    if (st != RDG_OK) { errmsg(v->name, "cannot read times '%s': %s", val[AN_TIMES].str, rdg_status_str(st)); goto done; }
    if (T.ndim != 3 || T.shape[0] == 0 || T.shape[1] == 0 || T.shape[2] != X.shape[1]) {
        errmsg(v->name, "trajectories '%s' must have shape (C, n, d) with d = %lu (the data's), got %s",
               val[AN_TRAJ].str, (unsigned long)X.shape[1], shape_str(&T, s1, sizeof s1));
        goto done;
    }
    if (tm.ndim != 1 || tm.shape[0] != T.shape[0]) {
        errmsg(v->name, "times '%s' must have shape (C,) = (%lu,), got %s", val[AN_TIMES].str,
               (unsigned long)T.shape[0], shape_str(&tm, s2, sizeof s2));
        goto done;
    }
    C = T.shape[0]; n = T.shape[1]; d = T.shape[2];
    for (i = 0; i < C; ++i)
        if (!(tm.data[i] > 0) || !isfinite(tm.data[i])) {
            errmsg(v->name, "times '%s': entry %lu is not a finite t > 0", val[AN_TIMES].str, (unsigned long)i);
            goto done;
        }
    for (i = 0; i < T.count; ++i)
        if (!isfinite(T.data[i])) {
            errmsg(v->name, "trajectories '%s' contain NaN or Inf (checkpoint %lu)", val[AN_TRAJ].str,
                   (unsigned long)(i / (n * d)));
            goto done;
        }
    st = rdg_gmm_init(&g, X.data, X.shape[0], d);
    if (st != RDG_OK) {
        errmsg(v->name, "data '%s' cannot be used: %s", val[AN_DATA].str,
               st == RDG_ERR_NONFINITE ? "it contains NaN or Inf" : rdg_status_str(st));
        goto done;
    }
    if ((size_t)val[AN_DSTAR].ival >= d) {
        errmsg(v->name, "option --dstar must be < d = %lu, got %ld", (unsigned long)d, val[AN_DSTAR].ival);
        rc = EXIT_USAGE;
        goto done;
    }
    memset(&o, 0, sizeof o);
    o.proj.dstar = (size_t)val[AN_DSTAR].ival;
    o.proj.beta = (rdg_real)val[AN_BETA].real;
    rows = (rdg_stab_row *)alloc_array(C, 1, 1, sizeof *rows);
    reach = (rdg_real *)alloc_array(n, 1, 1, sizeof *reach);
    sd = (rdg_sample_diag *)alloc_array(n, 1, 1, sizeof *sd);
    if (!rows || !reach || !sd) { errmsg(v->name, "out of memory for %lu trajectories", (unsigned long)n); goto done; }
    st = rdg_diag_table(&g, T.data, C, n, tm.data, NULL, &o, rows, NULL, reach);
    if (st == RDG_OK) st = rdg_diag_samples(&g, tm.data[C - 1], T.data + (C - 1) * n * d, n, &o, sd, NULL);
    if (st != RDG_OK) { errmsg(v->name, "analysis failed: %s", rdg_status_str(st)); goto done; }
    memset(&an, 0, sizeof an);
    an.rows = rows; an.C = C; an.n = n; an.dstar = o.proj.dstar; an.reach = reach;
    for (i = 0; i < n; ++i) {
        an.kinds[sd[i].kind]++;
        if (reach[i] >= 0) { an.nreach++; an.mean_reach += (double)reach[i]; }
    }
    an.memorised = (double)an.kinds[RDG_KIND_COPY] / (double)n;
    if (an.nreach) an.mean_reach /= (double)an.nreach;
    printf("ridgediff analyze: %lu trajectories, %lu checkpoints, d = %lu, d* = %lu, beta = %g\n",
           (unsigned long)n, (unsigned long)C, (unsigned long)d, (unsigned long)o.proj.dstar, (double)o.proj.beta);
    printf("stability table (checkpoint index in the step column; means over reliable samples):\n");
    rdx_print_table(stdout, rows, C, n);
    printf("summary at t = %g: memorised %.1f%% (copies %lu), on-ridge %lu, off-ridge %lu, frame undefined %lu;\n"
           "reached the tube: %lu of %lu trajectories", (double)tm.data[C - 1], 100.0 * an.memorised,
           (unsigned long)an.kinds[0], (unsigned long)an.kinds[1], (unsigned long)an.kinds[2],
           (unsigned long)an.kinds[3], (unsigned long)an.nreach, (unsigned long)n);
    if (an.nreach) printf(", mean reach time t = %.4g", an.mean_reach);
    printf("\n");
    if (val[AN_CSV].set && write_text(v->name, &w, val[AN_CSV].str, analysis_csv, &an)) goto done;
    if (val[AN_JSON].set && write_text(v->name, &w, val[AN_JSON].str, analysis_json, &an)) goto done;
    rc = finish_stdout(v->name);
done:
    if (rc) written_rollback(&w);
    free(rows); free(reach); free(sd);
    rdg_array_free(&X); rdg_array_free(&T); rdg_array_free(&tm);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* demo and report: the paper's experiments on the bundled data, and their HTML page         */

enum { DM_OUT, DM_DATA, DM_QUICK, DM_NOPTS };
static const opt_spec demo_opts[DM_NOPTS] = {
    [DM_OUT]   = { "out", OPT_OUT, 0, "DIR", "directory for tables, pictures and index.html", NO_BOUND, 0, NULL, "demo-out" },
    [DM_DATA]  = { "data", OPT_IN, 0, "DIR", "the bundled data directory", NO_BOUND, 0, NULL, "data" },
    [DM_QUICK] = { "quick", OPT_FLAG, 0, "", "smaller settings (a smoke test, about a minute)", NO_BOUND, 0, NULL, NULL },
};

enum { RP_OUT, RP_NOPTS };
static const opt_spec report_opts[RP_NOPTS] = {
    [RP_OUT] = { "out", OPT_OUT, 1, "DIR", "directory written by 'ridgediff demo'", NO_BOUND, 0, NULL, NULL },
};

/* Appends a text file as <pre> (skipped when missing). */
static rdg_status html_pre_file(rdp_html *h, const char *dir, const char *name)
{
    char path[1024], *buf;
    FILE *f;
    long len;
    rdg_status st;
    if (!rdx_path(path, sizeof path, dir, name) || !(f = fopen(path, "rb"))) return RDG_OK;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return RDG_ERR_IO; }
    buf = (char *)malloc((size_t)len + 1);
    if (!buf) { fclose(f); return RDG_ERR_NOMEM; }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); fclose(f); return RDG_ERR_IO; }
    buf[len] = 0;
    fclose(f);
    st = rdp_html_pre(h, buf);
    free(buf);
    return st;
}

static int file_exists(const char *dir, const char *name)
{
    char path[1024];
    FILE *f;
    if (!rdx_path(path, sizeof path, dir, name) || !(f = fopen(path, "rb"))) return 0;
    fclose(f);
    return 1;
}

/* DIR/index.html from what `demo` left in DIR. */
static int write_report(const char *verb_name, const char *dir)
{
    static const char *figs2d[] = { "two_points", "three_points", "four_symmetric", "four_unsymmetric", "four_triangle" };
    rdp_html h;
    rdg_status st;
    char path[1024], name[256];
    size_t i;
    int any = 0;
    st = rdp_html_begin(&h, "ridgediff: reach - align - slide, reproduced");
    if (st == RDG_OK) st = rdp_html_text(&h, "The paper's experiments (He, Qiu, Tao 2026) run by 'ridgediff demo' on the "
                                             "bundled data. Tables are plain text as the programs print them; "
                                             "EXPERIMENTS.md compares them with the paper.");
    if (st == RDG_OK && file_exists(dir, "ridges_2d.txt")) {
        any = 1;
        st = rdp_html_heading(&h, 2, "2-D ridges and samples (Figures 3, 9-17)");
        if (st == RDG_OK) st = html_pre_file(&h, dir, "ridges_2d.txt");
        for (i = 0; i < sizeof figs2d / sizeof figs2d[0] && st == RDG_OK; ++i) {
            snprintf(name, sizeof name, "%s.svg", figs2d[i]);
            if (file_exists(dir, name)) st = rdp_html_image(&h, name, figs2d[i], figs2d[i], 640);
        }
    }
    if (st == RDG_OK && file_exists(dir, "mnist.txt")) {
        any = 1;
        st = rdp_html_heading(&h, 2, "MNIST 4 vs 8 in a 32-dimensional PCA latent (Section 5.3, Figure 6, Appendix J.5)");
        if (st == RDG_OK) st = html_pre_file(&h, dir, "mnist.txt");
        if (st == RDG_OK && file_exists(dir, "mnist_distance.svg"))
            st = rdp_html_image(&h, "mnist_distance.svg", "mean distance to the ridge", "Mean distance to the ridge against the sampler step (Figure 6a)", 640);
        if (st == RDG_OK && file_exists(dir, "mnist_tangent.svg"))
            st = rdp_html_image(&h, "mnist_tangent.svg", "tangential error", "Tangential error against the sampler step (Figure 6b-c)", 640);
        if (st == RDG_OK && file_exists(dir, "mnist_samples.png"))
            st = rdp_html_image(&h, "mnist_samples.png", "decoded samples", "Decoded samples at t0", 560);
        if (st == RDG_OK && file_exists(dir, "mnist_trajectories.svg"))
            st = rdp_html_image(&h, "mnist_trajectories.svg", "latent trajectories", "Trajectories in a 2-D PCA view of the latent (Figure 5)", 640);
    }
    if (st == RDG_OK && !any) {
        errmsg(verb_name, "'%s' holds no results of 'ridgediff demo' (ridges_2d.txt, mnist.txt)", dir);
        rdp_html_free(&h);
        return EXIT_RUNTIME;
    }
    if (st == RDG_OK && rdx_path(path, sizeof path, dir, "index.html")) st = rdp_html_save(&h, path);
    rdp_html_free(&h);
    if (st != RDG_OK) { errmsg(verb_name, "cannot write the report in '%s': %s", dir, rdg_status_str(st)); return EXIT_RUNTIME; }
    return 0;
}

static int run_report(const verb *v, const opt_val *val)
{
    return write_report(v->name, val[RP_OUT].str);
}

/* Opens DIR/name for a table, or reports. */
static FILE *open_table(const char *verb_name, const char *dir, const char *name)
{
    char path[1024];
    FILE *f;
    if (!rdx_path(path, sizeof path, dir, name) || !(f = fopen(path, "w"))) {
        errmsg(verb_name, "cannot write '%s/%s': %s", dir, name, strerror(errno));
        return NULL;
    }
    return f;
}

static int run_demo(const verb *v, const opt_val *val)
{
    const char *dir = val[DM_OUT].str;
    int quick = val[DM_QUICK].set;
    rdx_opts o;
    rdx_mnist_opts mo;
    rdg_stab_row tables[4 * 64];
    const rdg_stab_row *tabs[4];
    const char *names[4];
    char nbuf[4][32], path[1024];
    size_t C = 0, i;
    rdg_status st;
    FILE *f;
    double t0 = now_seconds();
#if HAVE_POSIX
    mkdir(dir, 0777);
#endif
    fprintf(stderr, "ridgediff demo: writing to %s/%s\n", dir, quick ? " (quick settings)" : "");
    /* 1. 2-D ridges and samples */
    fprintf(stderr, "[1/2] 2-D ridges and samples (RFNN, five data sets)...\n");
    if (!(f = open_table(v->name, dir, "ridges_2d.txt"))) return EXIT_RUNTIME;
    rdx_opts_default(&o, quick);
    st = rdx_ridges_2d(f, dir, &o);
    fclose(f);
    if (st != RDG_OK) { errmsg(v->name, "2-D experiment failed: %s", rdg_status_str(st)); return EXIT_RUNTIME; }
    fprintf(stderr, "      done, %.0f s\n", now_seconds() - t0);
    /* 2. MNIST */
    fprintf(stderr, "[2/2] MNIST 4 vs 8: PCA latent, MLP training, 1000-step sampling, stability tables...\n");
    if (!(f = open_table(v->name, dir, "mnist.txt"))) return EXIT_RUNTIME;
    rdx_mnist_default(&mo, quick);
    mo.datadir = val[DM_DATA].str;
    st = rdx_mnist(f, stderr, dir, &mo, tables, &C);
    fclose(f);
    if (st != RDG_OK) { errmsg(v->name, "MNIST experiment failed: %s", rdg_status_str(st)); return EXIT_RUNTIME; }
    for (i = 0; i < mo.ndstar; ++i) {
        tabs[i] = tables + i * C;
        snprintf(nbuf[i], sizeof nbuf[i], "d* = %lu", (unsigned long)mo.dstars[i]);
        names[i] = nbuf[i];
    }
    if (rdx_path(path, sizeof path, dir, "mnist_distance.svg"))
        st = rdx_plot_column(path, "MNIST latent: mean distance to the ridge", "mean distance", tabs, names, mo.ndstar, C, 0, 1);
    if (st == RDG_OK && rdx_path(path, sizeof path, dir, "mnist_tangent.svg"))
        st = rdx_plot_column(path, "MNIST latent: tangential error", "mean |zeta|^2", tabs, names, mo.ndstar, C, 2, 1);
    if (st != RDG_OK) { errmsg(v->name, "cannot draw the MNIST plots: %s", rdg_status_str(st)); return EXIT_RUNTIME; }
    fprintf(stderr, "      done, %.0f s\n", now_seconds() - t0);
    if (write_report(v->name, dir)) return EXIT_RUNTIME;
    fprintf(stderr, "ridgediff demo: %s/index.html written (%.0f s)\n", dir, now_seconds() - t0);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The verbs                                                                                 */

static const verb verbs[] = {
    { "density", "evaluate log p_t, its score, Hessian and posterior mean at points",
      "ridgediff density --data X.npy --points Y.npy --t T [--logp F.npy] [--score F.npy]\n"
      "                         [--hessian F.npy] [--mean F.npy]",
      "Evaluates the smoothed empirical density p_t(y) = (1/N) sum_i N(y; a_t x_i, s_t^2 I) of\n"
      "the data X (N, d) at the points Y (B, d), a_t = exp(-t), s_t^2 = 1 - exp(-2t).\n"
      "Writes the requested arrays as float64 .npy files; at least one output is required.",
      density_opts, DE_NOPTS, run_density },
    { "project", "project points onto the K-dimensional log-density ridge of p_t",
      "ridgediff project --data X.npy --points Y.npy --t T --dstar K [--beta B]\n"
      "                         [--method lm|scms] --out P.npy [--info I.csv]",
      "Projects each point of Y (B, d) onto the K-dimensional log-density ridge of p_t,\n"
      "{ x : P_N(x) grad log p_t(x) = 0, lam_{K+1}(x) <= -beta } with beta = --beta, where\n"
      "lam_1 >= ... >= lam_d are the eigenvalues of the Hessian of log p_t and P_N projects\n"
      "onto the eigenvectors of lam_{K+1..d}. --info writes one CSV row per point, in input\n"
      "order, with the header distance,resid0,resid,iters,converged,curv_ok,gap (points that\n"
      "do not converge are reported there, not treated as errors).",
      project_opts, PR_NOPTS, run_project },
    { "train", "train a posterior-mean model (RFNN or MLP) on the denoising loss",
      "ridgediff train --data X.npy --model rfnn|mlp [--width M] [--hidden H1,H2,..]\n"
      "                         [--weight one|sigma2|snr] [--steps S] [--lr LR] [--seed S] --out MODEL.rdg",
      "Trains a model m(x, t) of the posterior mean E[X_0 | X_t = x] on the data X (N, d) with\n"
      "the denoising mean-matching loss int_{0.005}^{10} w(t) E |m(a_t x0 + s_t xi, t) - x0|^2 dt.\n"
      "rfnn: m = A relu(W x + U e(t) + b) / sqrt(M) with only A trained; the loss is quadratic\n"
      "in A, so S steps of full-batch gradient descent from A ~ N(0, 1) are computed in closed\n"
      "form. mlp: ReLU layers on [x, sinusoidal embedding of t], Adam on minibatches of 256.\n"
      "Progress is shown on stderr when it is a terminal; otherwise success is quiet.",
      train_opts, TR_NOPTS, run_train },
    { "sample", "generate samples by the reverse SDE or the probability-flow ODE",
      "ridgediff sample (--model MODEL.rdg | --exact X.npy) --n N [--steps K] [--T T]\n"
      "                         [--t0 T0] [--ode] [--seed S] --out SAMPLES.npy\n"
      "                         [--traj TRAJ.npy [--times TIMES.npy] [--every E]]",
      "Runs N trajectories from N(0, I) at time T down to t0 on the geometric grid\n"
      "t_k = T (t0/T)^(k/K): Euler-Maruyama for the reverse SDE (default) or Heun for the\n"
      "probability-flow ODE (--ode), with the score (a_t m(y, t) - y) / s_t^2 of the model.\n"
      "The samples are the states at t0 (no final denoising step). Trajectory i uses random\n"
      "stream (S, i) only: the output is the same for any number of threads. --traj writes\n"
      "the states at steps 0, E, 2E, ..., K (C of them), --times their times t.",
      sample_opts, SA_NOPTS, run_sample },
    { "analyze", "reach-align-slide diagnostics and the stability table of trajectories",
      "ridgediff analyze --data X.npy --traj TRAJ.npy --times TIMES.npy --dstar K [--beta B]\n"
      "                         [--csv F] [--json F]",
      "Projects every state of TRAJ (C, n, d) onto the K-dimensional ridge of p_t at its time\n"
      "(TIMES, (C,)) and prints the paper's stability table per checkpoint: mean distance over\n"
      "reliable samples (converged, s_t^2 gap > 1e-8), reliable and curvature-ok counts, mean\n"
      "initial residual and eigengap, failures, the normal error (mean squared distance) and the\n"
      "tangential error (mean |zeta|^2 in centre-dominant regions), tube and memorised counts;\n"
      "then a summary of the last checkpoint (copies, on-ridge interpolations, off-ridge) and the\n"
      "reach times. Works on trajectories from any sampler, e.g. exported from PyTorch.",
      analyze_opts, AN_NOPTS, run_analyze },
    { "demo", "reproduce the paper's experiments on the bundled data (tables, pictures, HTML)",
      "ridgediff demo [--out DIR] [--data DIR] [--quick]",
      "Runs the 2-D ridge experiments (two, three and four points, RFNN) and the MNIST 4 vs 8\n"
      "latent experiment (PCA, MLP, 200 trajectories x 1000 steps, stability tables for\n"
      "d* = 25, 16, 8, 1), with progress on stderr, and writes DIR/index.html.",
      demo_opts, DM_NOPTS, run_demo },
    { "report", "write DIR/index.html from the results 'ridgediff demo' left in DIR",
      "ridgediff report --out DIR",
      NULL, report_opts, RP_NOPTS, run_report },
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static const verb *find_verb(const char *name)
{
    size_t i;
    for (i = 0; i < NVERBS; i++)
        if (!strcmp(verbs[i].name, name)) return &verbs[i];
    return NULL;
}

static void print_main_help(FILE *f)
{
    size_t i;
    fprintf(f, "ridgediff %s - the smoothed empirical density of a data set, its log-density\n"
               "ridges, and projections onto them\n\n", rdg_version_string());
    fprintf(f, "usage: ridgediff <verb> [--option value ...]\n"
               "       ridgediff <verb> --help      ridgediff help <verb>      ridgediff --version\n\n");
    fprintf(f, "verbs:\n");
    for (i = 0; i < NVERBS; i++) fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\nArrays are .npy files (float32 or float64 read; float64 written). Success is\n"
               "quiet; an error is one line on stderr. Exit status: 0 success, 1 runtime error,\n"
               "2 usage error.\n");
}

/* 0, or 1 after reporting that stdout could not be written (e.g. `--help > /dev/full`) */
static int finish_stdout(const char *verb_name)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        errmsg(verb_name, "cannot write to standard output: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const verb *v;
    opt_val val[MAX_OPTS];
    int i, rc;

    if (argc < 2) {
        errmsg(NULL, "no verb given (run 'ridgediff --help' for usage)");
        return EXIT_USAGE;
    }
    if (is_help_flag(argv[1]) || !strcmp(argv[1], "help")) {
        if (!strcmp(argv[1], "help") && argc > 2) {
            if (argc > 3) { errmsg(NULL, "help takes at most one verb"); return EXIT_USAGE; }
            if (!(v = find_verb(argv[2]))) {
                errmsg(NULL, "unknown verb '%s' (run 'ridgediff --help' for the list)", argv[2]);
                return EXIT_USAGE;
            }
            print_verb_help(v, stdout);
            return finish_stdout(v->name);
        }
        print_main_help(stdout);
        return finish_stdout(NULL);
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ridgediff %s\n", rdg_version_string());
        return finish_stdout(NULL);
    }
    if (!(v = find_verb(argv[1]))) {
        errmsg(NULL, "unknown verb '%s' (run 'ridgediff --help' for the list)", argv[1]);
        return EXIT_USAGE;
    }
    for (i = 2; i < argc; i++)
        if (is_help_flag(argv[i])) {
            print_verb_help(v, stdout);
            return finish_stdout(v->name);
        }
    if (v->nopts > MAX_OPTS) { errmsg(v->name, "internal error: too many options"); return EXIT_RUNTIME; }
    if ((rc = parse_options(v, argc - 1, argv + 1, val)) != 0) return rc;
    return v->run(v, val);
}
