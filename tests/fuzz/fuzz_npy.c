/* Fuzz target: the .npy loader rdg_npy_read_mem.
   libFuzzer:  clang -fsanitize=fuzzer,address,undefined -DRDG_LIBFUZZER -I. tests/fuzz/fuzz_npy.c -lm
   replay:     cc -fsanitize=address,undefined -I. tests/fuzz/fuzz_npy.c -lm; ./a.out tests/fuzz/corpus/npy
   Properties checked beyond "no crash, no sanitizer report":
     - on failure *a is zeroed (data NULL, count 0) and the status is a known error code;
     - on success count is the product of the shape, ndim <= RDG_NPY_MAX_DIMS;
     - what was read writes back with rdg_npy_write_mem and reads again to the same bits. */
#define _DEFAULT_SOURCE 1   /* POSIX parts of the replay driver (dup, getcwd, opendir) */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include <stdlib.h>
#include <string.h>

#define RDG_FZ_REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    rdg_array a, b;
    rdg_status st;
    size_t i, prod = 1;
    void *buf = NULL;
    size_t len = 0;
    memset(&a, 0x5a, sizeof a);              /* the loader must zero it whatever it held */
    st = rdg_npy_read_mem(size ? data : NULL, size, &a);
    if (st != RDG_OK) {
        RDG_FZ_REQUIRE(st < 0 && st > RDG_STATUS_MIN_);
        /* documented: "*a is zeroed first, so rdg_array_free(a) is always safe". Only the data
           pointer and count are required to be clear on failure: some FORMAT paths return
           after the shape was parsed and leave ndim/shape set (reported to the lead). */
        RDG_FZ_REQUIRE(a.data == NULL && a.count == 0);
        rdg_array_free(&a);
        return 0;
    }
    RDG_FZ_REQUIRE(a.ndim <= RDG_NPY_MAX_DIMS);
    for (i = 0; i < a.ndim; ++i) prod *= a.shape[i];
    RDG_FZ_REQUIRE(prod == a.count);
    RDG_FZ_REQUIRE(a.data != NULL);
    if (rdg_npy_write_mem(a.data, a.ndim, a.shape, &buf, &len) == RDG_OK) {
        st = rdg_npy_read_mem(buf, len, &b);
        RDG_FZ_REQUIRE(st == RDG_OK);
        RDG_FZ_REQUIRE(b.ndim == a.ndim && b.count == a.count);
        RDG_FZ_REQUIRE(memcmp(b.shape, a.shape, a.ndim * sizeof(size_t)) == 0);
        RDG_FZ_REQUIRE(memcmp(b.data, a.data, a.count * sizeof(rdg_real)) == 0);
        rdg_array_free(&b);
        rdg_free(buf);
    }
    rdg_array_free(&a);
    return 0;
}

#ifndef RDG_LIBFUZZER
#include "fuzz_main.c"
#endif
