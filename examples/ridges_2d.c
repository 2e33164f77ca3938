/* cc -O2 -std=c99 -fopenmp -o ridges_2d examples/ridges_2d.c -lm

   ridges_2d - the paper's 2-D experiments (Figures 3 and 9-17): for two, three and four points
   (a symmetric square, an unsymmetric four, a triangle with a point inside) it trains a random
   feature network on the DMM loss (closed form of 1e5 GD steps), samples it with the reverse
   SDE, and draws log p_t, the ridge and the trajectories into DIR/<set>.svg. It prints, per
   set, how many final samples are copies of training points and how many are on-ridge
   interpolations (MATH.md 7). Usage: ./ridges_2d [DIR (.)] [--quick] */
#define RIDGEDIFF_IMPLEMENTATION
#include "../ridgediff.h"
#include "../tools/experiments.h"

int main(int argc, char **argv) {
    const char *dir = ".";
    rdx_opts o;
    rdg_status st;
    int i, quick = 0;
    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else dir = argv[i];
    }
    rdx_opts_default(&o, quick);
    st = rdx_ridges_2d(stdout, dir, &o);
    if (st != RDG_OK) { fprintf(stderr, "ridges_2d: %s\n", rdg_status_str(st)); return 1; }
    return 0;
}
