/* Writes valid model files (a small RFNN and a small MLP, and truncated copies) into the
   directory given as argv[1]: seeds for the model fuzz target. Run by tests/fuzz/fuzz.sh at
   build time (the format may still change, so generated seeds follow it automatically). */
#define RIDGEDIFF_IMPLEMENTATION
#include "ridgediff.h"
#include <stdio.h>
#include <string.h>

static int put(const char *dir, const char *name, const void *p, size_t n) {
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f) return 1;
    if (n && fwrite(p, 1, n, f) != n) { fclose(f); return 1; }
    return fclose(f) != 0;
}

static int save(const char *dir, const char *name, const rdg_model_file *mf) {
    void *buf = NULL;
    size_t len = 0;
    char nm[256];
    int bad;
    if (rdg_model_file_save_mem(mf, &buf, &len) != RDG_OK) return 1;
    bad = put(dir, name, buf, len);
    snprintf(nm, sizeof nm, "%s_trunc", name);
    bad |= put(dir, nm, buf, len / 2);
    snprintf(nm, sizeof nm, "%s_header", name);
    bad |= put(dir, nm, buf, len < 48 ? len : 48);
    rdg_free(buf);
    return bad;
}

int main(int argc, char **argv) {
    rdg_model_file mf;
    size_t hidden[2] = { 8, 4 };
    int bad = 0;
    if (argc < 2) return 2;
#ifndef RDG_FZ_NO_RFNN   /* fuzz.sh retries with this while rdg_rfnn_init does not exist */
    memset(&mf, 0, sizeof mf);
    mf.kind = RDG_MODEL_RFNN;
    if (rdg_rfnn_init(&mf.rf, 2, 6, 2, 0, 1) != RDG_OK) return 1;
    bad |= save(argv[1], "rfnn_d2_m6", &mf);
    rdg_rfnn_free(&mf.rf);
#endif
    memset(&mf, 0, sizeof mf);
    mf.kind = RDG_MODEL_MLP;
    if (rdg_mlp_init(&mf.mlp, 2, 2, hidden, 4, 1) != RDG_OK) return 1;
    bad |= save(argv[1], "mlp_d2_8_4", &mf);
    rdg_mlp_free(&mf.mlp);
    return bad;
}
