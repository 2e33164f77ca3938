/* Fuzz target: the model file loader rdg_model_file_load_mem ("MODEL.rdg", RFNN or MLP).
   Properties beyond "no crash, no sanitizer report":
     - on failure the status is a known error code and rdg_model_file_free is safe;
     - on success the model view evaluates at one point (only when the network is small, to
       keep each run cheap) without crashing, and saving then loading again gives the same
       bytes (save(load(save(load(x)))) == save(load(x))).
   The Makefile builds this target only once the loader exists (tests/fuzz/fuzz.sh probes it). */
#define _DEFAULT_SOURCE 1   /* POSIX parts of the replay driver (dup, getcwd, opendir) */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include <stdlib.h>
#include <string.h>

#define RDG_FZ_REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    rdg_model_file f, g;
    rdg_model m;
    rdg_status st;
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    memset(&f, 0x5a, sizeof f);                /* the loader must reset it whatever it held */
    st = rdg_model_file_load_mem(size ? data : NULL, size, &f);
    if (st != RDG_OK) {
        RDG_FZ_REQUIRE(st < 0 && st > RDG_STATUS_MIN_);
        rdg_model_file_free(&f);
        return 0;
    }
    RDG_FZ_REQUIRE(f.kind == RDG_MODEL_RFNN || f.kind == RDG_MODEL_MLP);
    if (rdg_model_file_model(&f, &m) == RDG_OK && m.d >= 1 && m.d <= 64) {
        rdg_real x[64], out[64];
        size_t j;
        for (j = 0; j < m.d; ++j) x[j] = (rdg_real)0.25 * (rdg_real)j - 1;
        (void)rdg_model_eval(&m, (rdg_real)0.5, x, 1, out);
    }
    if (rdg_model_file_save_mem(&f, &b1, &l1) == RDG_OK) {
        memset(&g, 0, sizeof g);
        st = rdg_model_file_load_mem(b1, l1, &g);
        RDG_FZ_REQUIRE(st == RDG_OK);
        RDG_FZ_REQUIRE(rdg_model_file_save_mem(&g, &b2, &l2) == RDG_OK);
        RDG_FZ_REQUIRE(l1 == l2 && memcmp(b1, b2, l1) == 0);
        rdg_model_file_free(&g);
        rdg_free(b1);
        rdg_free(b2);
    }
    rdg_model_file_free(&f);
    return 0;
}

#ifndef RDG_LIBFUZZER
#include "fuzz_main.c"
#endif
