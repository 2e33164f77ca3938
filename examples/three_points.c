/* cc -O2 -std=c99 -o three_points examples/three_points.c -lm
   (run it from the repository root: ./three_points, or ./three_points -v to list every point)

   three_points - the paper's three-point setting: data (0,0), (5,0), (0,5) in R^2. At each t
   the program traces the d* = 1 ridge of log p_t from a grid of seeds, splits the ridge points
   into connected pieces, prints a table of the pieces and draws the ridge on a 60 x 30
   character grid ('o' = the mixture centres a_t x_i, '.' = ridge points).

   What to look for. The ridge is reported only where its frame is numerically defined
   (s_t^2 gap > 1e-8). At small t that is only around the two saddles, midway between the corner
   point and each of the other two: near a mode one weight dominates, the eigengap underflows
   and rdg_ridge_trace drops the points; along the hypotenuse there is no ridge at all (its
   middle is a dip of the density, curved upwards in every direction). As t grows the pieces
   lengthen: by t = 0.5 they have joined into one L through all three modes, at t = 1 it is a
   bent curve (as in the paper's Figure 3), and at t = 2 the data have blurred into one
   elongated bump whose ridge is nearly a straight line along the direction (1, -1). */
#define RIDGEDIFF_IMPLEMENTATION
#include "../ridgediff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LO (-2.0)   /* the seed box and the picture: [LO, HI] x [LO, HI] */
#define HI 7.0
#define NS 91       /* seeds per axis (spacing 0.1) */
#define W 60        /* picture size in characters */
#define H 30
#define LINK 0.3    /* ridge points closer than this belong to the same piece */

/* Prints the library's message and returns 1 when a call failed. */
static int failed(rdg_status st, const char *call)
{
    if (st == RDG_OK) return 0;
    fprintf(stderr, "three_points: %s: %s\n", call, rdg_status_str(st));
    return 1;
}

/* Orders points (x_1, x_2) by x_1, then x_2. */
static int by_x1(const void *p, const void *q)
{
    const rdg_real *a = (const rdg_real *)p, *b = (const rdg_real *)q;
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* v, with values that would print as -0.00 shown as 0.00 */
static double tidy(double v) { return fabs(v) < 5e-3 ? 0.0 : v; }

/* Union-find root with path halving. */
static size_t root(size_t *parent, size_t i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* Groups the n points into pieces (single linkage at distance LINK) and prints one row per
   piece, numbered in order of their smallest x_1. Returns the number of pieces, 0 on no memory. */
static size_t print_pieces(const rdg_real *pts, size_t n)
{
    size_t *parent = (size_t *)malloc(2 * n * sizeof *parent), *label = parent + n;
    size_t i, j, k, npieces = 0;
    if (!parent) return 0;
    for (i = 0; i < n; i++) parent[i] = i;
    for (i = 0; i < n; i++)              /* points are sorted by x_1: stop at the first far one */
        for (j = i + 1; j < n && pts[2 * j] - pts[2 * i] < LINK; j++)
            if (hypot(pts[2 * j] - pts[2 * i], pts[2 * j + 1] - pts[2 * i + 1]) < LINK)
                parent[root(parent, i)] = root(parent, j);
    for (i = 0; i < n; i++) label[i] = (size_t)-1;
    printf("  piece  points      x_1 range          x_2 range\n");
    for (i = 0; i < n; i++) {
        size_t r = root(parent, i), cnt = 0;
        double lo1 = HUGE_VAL, hi1 = -HUGE_VAL, lo2 = HUGE_VAL, hi2 = -HUGE_VAL;
        if (label[r] != (size_t)-1) continue;          /* piece already printed */
        label[r] = npieces++;
        for (k = i; k < n; k++) {
            if (root(parent, k) != r) continue;
            cnt++;
            lo1 = fmin(lo1, pts[2 * k]);     hi1 = fmax(hi1, pts[2 * k]);
            lo2 = fmin(lo2, pts[2 * k + 1]); hi2 = fmax(hi2, pts[2 * k + 1]);
        }
        printf("  %5lu  %6lu   [%5.2f, %5.2f]     [%5.2f, %5.2f]\n",
               (unsigned long)npieces, (unsigned long)cnt, tidy(lo1), tidy(hi1), tidy(lo2), tidy(hi2));
    }
    free(parent);
    return npieces;
}

/* Draws the ridge points and the centres a * x_i on a W x H character grid, x_2 upwards. */
static void draw(const rdg_real *pts, size_t n, const rdg_real *X, size_t N, double a)
{
    char pic[H][W + 1];
    size_t i;
    int r;
    for (r = 0; r < H; r++) { memset(pic[r], ' ', W); pic[r][W] = '\0'; }
    for (i = 0; i < n + N; i++) {
        double x1 = i < n ? pts[2 * i] : a * X[2 * (i - n)];
        double x2 = i < n ? pts[2 * i + 1] : a * X[2 * (i - n) + 1];
        int c = (int)floor((x1 - LO) / (HI - LO) * W), row = H - 1 - (int)floor((x2 - LO) / (HI - LO) * H);
        if (c >= 0 && c < W && row >= 0 && row < H) pic[row][c] = i < n ? '.' : 'o';
    }
    printf("  +"); for (r = 0; r < W; r++) putchar('-'); printf("+  x_2 = %.0f\n", HI);
    for (r = 0; r < H; r++) printf("  |%s|\n", pic[r]);
    printf("  +"); for (r = 0; r < W; r++) putchar('-'); printf("+  x_2 = %.0f\n", LO);
    printf("   x_1 = %.0f%*sx_1 = %.0f\n\n", LO, W - 11, "", HI);
}

int main(int argc, char **argv)
{
    static const rdg_real X[3 * 2] = { 0, 0,   5, 0,   0, 5 };
    static const double ts[] = { 0.05, 0.2, 0.5, 1, 2 };
    static rdg_real seeds[NS * NS * 2];
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    rdg_project_opts o = {0};          /* every zero field means "the documented default" */
    rdg_gmm g;
    size_t i, j;

    if (failed(rdg_gmm_init(&g, X, 3, 2), "rdg_gmm_init")) return 1;
    for (i = 0; i < NS; i++)
        for (j = 0; j < NS; j++) {
            seeds[2 * (i * NS + j)] = LO + (HI - LO) * (double)i / (NS - 1);
            seeds[2 * (i * NS + j) + 1] = LO + (HI - LO) * (double)j / (NS - 1);
        }
    o.dstar = 1;                       /* a 1-dimensional ridge: a curve */

    printf("three_points: data (0,0), (5,0), (0,5); d* = 1 ridge traced from %d seeds in "
           "[%.0f,%.0f]^2\n\n", NS * NS, LO, HI);
    for (i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        rdg_real a, s2, *ridge = NULL;
        size_t n = 0, npieces = 0;
        rdg_ou((rdg_real)ts[i], &a, &s2);
        if (failed(rdg_ridge_trace(&g, (rdg_real)ts[i], seeds, NS * NS, &o, 0, &ridge, &n),
                   "rdg_ridge_trace"))
            return 1;
        printf("t = %.2f   a_t = %.4f   s_t = %.4f   ridge points: %lu\n",
               ts[i], (double)a, sqrt((double)s2), (unsigned long)n);
        if (n > 0) {
            qsort(ridge, n, 2 * sizeof *ridge, by_x1);
            npieces = print_pieces(ridge, n);
            if (npieces == 0) { rdg_free(ridge); fprintf(stderr, "three_points: out of memory\n"); return 1; }
            if (verbose)
                for (j = 0; j < n; j++)
                    printf("    %8.4f %8.4f\n", (double)ridge[2 * j], (double)ridge[2 * j + 1]);
        }
        draw(ridge, n, X, 3, a);
        rdg_free(ridge);
    }
    return 0;
}
