/* Minimal test harness for ridgediff's tests: each CHECK counts one pass or one failure.
   A test program ends with RDG_TEST_END(), which prints "name: N passed, M failed" and
   returns non-zero when anything failed. */
#ifndef RDG_TEST_H
#define RDG_TEST_H
#include <stdio.h>
#include <math.h>

static int rdg_t_pass = 0, rdg_t_fail = 0;

#define CHECK(cond, ...) do {                                                  \
    if (cond) { rdg_t_pass++; }                                                \
    else { rdg_t_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__);           \
           printf(__VA_ARGS__); printf("\n"); }                                \
} while (0)

/* |a - b| <= tol * max(1, |b|)  (relative for large values, absolute near 0) */
#define CHECK_CLOSE(a, b, tol, what) do {                                      \
    double ca_ = (double)(a), cb_ = (double)(b);                               \
    double sc_ = fabs(cb_) > 1.0 ? fabs(cb_) : 1.0;                            \
    CHECK(fabs(ca_ - cb_) <= (tol) * sc_, "%s: %.17g vs %.17g (tol %g)",       \
          what, ca_, cb_, (double)(tol));                                      \
} while (0)

#define RDG_TEST_END(name) do {                                                \
    printf("%s: %d passed, %d failed\n", name, rdg_t_pass, rdg_t_fail);        \
    return rdg_t_fail ? 1 : 0;                                                 \
} while (0)
#endif
