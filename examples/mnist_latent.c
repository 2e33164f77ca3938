/* cc -O2 -std=c99 -fopenmp -o mnist_latent examples/mnist_latent.c -lm

   mnist_latent - the paper's MNIST experiment without a VAE (Section 5.3, Figure 6, Appendix
   J.5): digits 4 and 8 from data/mnist/ (PNG sheets, read with stb_image from Debian's
   libstb-dev), a 32-dimensional PCA latent scaled to unit mean variance, a latent MLP (256, 256)
   trained with Adam on the DMM loss, 200 reverse-SDE trajectories of 1000 steps, and the
   stability table every 100 steps for d* = 25, 16, 8, 1. Writes DIR/mnist_samples.png (decoded
   samples) and DIR/mnist_trajectories.svg (a 2-D PCA view of the latent trajectories).
   Run from the repository root: ./mnist_latent [DIR (.)] [--quick] */
#define RIDGEDIFF_IMPLEMENTATION
#define RIDGEDIFF_STB_IMAGE
#include "../ridgediff.h"
#include "../tools/experiments.h"

int main(int argc, char **argv) {
    const char *dir = ".";
    rdx_mnist_opts o;
    rdg_stab_row tables[4 * 64];
    rdg_status st;
    int i, quick = 0;
    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else dir = argv[i];
    }
    rdx_mnist_default(&o, quick);
    st = rdx_mnist(stdout, stderr, dir, &o, tables, NULL);
    if (st != RDG_OK) { fprintf(stderr, "mnist_latent: %s\n", rdg_status_str(st)); return 1; }
    return 0;
}
