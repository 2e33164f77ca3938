/* mnist_sheets - writes the MNIST digits of one class as a PNG tile sheet (grey, 8-bit, 28 x 28
   tiles, row by row). The number of tiles per row is the largest divisor of the digit count
   between 16 and 64, so the grid is full and rdg_png_sheet_read(path, 28, 28, 0, ...) returns
   exactly the digits (980 fours: 49 per row x 20 rows; 944 eights: 59 per row x 16 rows). Only
   when no such divisor exists are there 40 per row with black tiles after the last digit.
   Not part of the library: it uses ridgediff's IDX loader and stb_image_write (Debian's
   libstb-dev, /usr/include/stb/stb_image_write.h).

   Build and run (from the repository root; data/README.md, section "MNIST 4s and 8s"):
       cc -std=c99 -O2 -I. -o build/mnist_sheets tools/mnist_sheets.c -lm
       ./build/mnist_sheets ../shared/data/mnist/mnist10k-images-idx3-ubyte \
           ../shared/data/mnist/mnist10k-labels-idx1-ubyte 4 data/mnist/fours.png
       ./build/mnist_sheets ../shared/data/mnist/mnist10k-images-idx3-ubyte \
           ../shared/data/mnist/mnist10k-labels-idx1-ubyte 8 data/mnist/eights.png
   Prints the number of digits written. The pixels are copied byte for byte (idx read raw). */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#ifndef RDG_LATENT_DECLARED

#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>


int main(int argc, char **argv) {
    rdg_array img, lab;
    rdg_status st;
    size_t i, n, count = 0, t, th, tw, rows, W, H, r, c, per = 40;
    int digit;
    unsigned char *sheet;
    if (argc != 5) {
        fprintf(stderr, "usage: %s IMAGES.idx3 LABELS.idx1 DIGIT OUT.png\n", argv[0]);
        return 2;
    }
    digit = atoi(argv[3]);
    if ((st = rdg_idx_read(argv[1], 1, &img)) != RDG_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], rdg_status_str(st)); return 1;
    }
    if ((st = rdg_idx_read(argv[2], 1, &lab)) != RDG_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], rdg_status_str(st)); rdg_array_free(&img); return 1;
    }
    if (img.ndim != 3 || lab.ndim != 1 || img.shape[0] != lab.shape[0]) {
        fprintf(stderr, "images and labels do not match\n");
        rdg_array_free(&img); rdg_array_free(&lab); return 1;
    }
    n = img.shape[0]; th = img.shape[1]; tw = img.shape[2];
    for (i = 0; i < n; ++i) count += (int)lab.data[i] == digit;
    if (count == 0) { fprintf(stderr, "no digit %d\n", digit); rdg_array_free(&img); rdg_array_free(&lab); return 1; }
    for (t = 16; t <= 64; ++t) if (count % t == 0) per = t;
    rows = (count + per - 1) / per;
    W = per * tw; H = rows * th;
    sheet = (unsigned char *)calloc(W * H, 1);
    if (!sheet) { rdg_array_free(&img); rdg_array_free(&lab); return 1; }
    for (i = 0, t = 0; i < n; ++i) {
        const rdg_real *src = img.data + i * th * tw;
        unsigned char *dst;
        if ((int)lab.data[i] != digit) continue;
        dst = sheet + (t / per) * th * W + (t % per) * tw;
        for (r = 0; r < th; ++r) for (c = 0; c < tw; ++c) dst[r * W + c] = (unsigned char)src[r * tw + c];
        ++t;
    }
    if (!stbi_write_png(argv[4], (int)W, (int)H, 1, sheet, (int)W)) {
        fprintf(stderr, "%s: write failed\n", argv[4]); free(sheet);
        rdg_array_free(&img); rdg_array_free(&lab); return 1;
    }
    printf("%s: %lu digits (%d), %lu per row, %lu x %lu px\n", argv[4], (unsigned long)count, digit,
           (unsigned long)per, (unsigned long)W, (unsigned long)H);
    free(sheet); rdg_array_free(&img); rdg_array_free(&lab);
    return 0;
}
