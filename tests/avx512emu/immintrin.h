/* tests/avx512emu/immintrin.h: the AVX-512F intrinsics ridgediff.h uses, in plain C99, so that
   the header's AVX-512 paths run (and are tested) on a CPU without AVX-512. tests/simd.sh
   builds the suites with
       cc -std=c99 -ffp-contract=off -D__AVX512F__ -I tests/avx512emu ...
   (no -mavx512f): `#include <immintrin.h>` finds this file before the compiler's, and
   ridgediff.h takes its AVX-512 branch. Each function does, lane by lane, what Intel's manual
   says the instruction does, with the same IEEE-754 double operations (fma() for the fused
   ones), so a kernel gives the bits it gives on AVX-512 hardware; _mm512_reduce_add_pd sums in
   GCC's order (halves, then quarters, then the last pair). Only what ridgediff.h uses is here,
   for finite operands where the manual has special cases (getexp, getmant). Test-only: never
   part of the library. */
#ifndef RDG_AVX512EMU_IMMINTRIN_H
#define RDG_AVX512EMU_IMMINTRIN_H
#include <math.h>
#include <string.h>

#define RDG_AVX512EMU 1
/* ridgediff.h's register pin is an asm statement on a vector register, which a struct cannot
   be; with this set it pins nothing. */
#define RDG__INREG(v) ((void)0)

typedef struct { double f[8]; } __m512d;
typedef struct { long long i[8]; } __m512i;
typedef unsigned char __mmask8;

#define _CMP_EQ_OQ 0x00
#define _CMP_LT_OS 0x01
#define _CMP_LE_OS 0x02
#define _CMP_NEQ_UQ 0x04
#define _CMP_GE_OS 0x0d
#define _CMP_GT_OS 0x0e
#define _CMP_LT_OQ 0x11
#define _CMP_LE_OQ 0x12
#define _CMP_GE_OQ 0x1d
#define _CMP_GT_OQ 0x1e
#define _MM_FROUND_TO_NEAREST_INT 0x00
#define _MM_FROUND_NO_EXC 0x08
#define _MM_MANT_NORM_1_2 0
#define _MM_MANT_NORM_p5_2 1
#define _MM_MANT_NORM_p5_1 2
#define _MM_MANT_NORM_p75_1p5 3
#define _MM_MANT_SIGN_src 0
#define _MM_MANT_SIGN_zero 1

#define RDG__EMU_MAP(expr) { __m512d r_; int l_; for (l_ = 0; l_ < 8; ++l_) r_.f[l_] = (expr); return r_; }
#define RDG__EMU_ON(k) (((unsigned)(k) >> l_) & 1u)

static __inline __m512d _mm512_loadu_pd(const void *p) { __m512d r; memcpy(r.f, p, sizeof r.f); return r; }
static __inline void _mm512_storeu_pd(void *p, __m512d a) { memcpy(p, a.f, sizeof a.f); }
static __inline __m512i _mm512_loadu_si512(const void *p) { __m512i r; memcpy(r.i, p, sizeof r.i); return r; }
static __inline void _mm512_storeu_si512(void *p, __m512i a) { memcpy(p, a.i, sizeof a.i); }
static __inline __m512d _mm512_set1_pd(double x) RDG__EMU_MAP(x)
static __inline __m512d _mm512_setzero_pd(void) RDG__EMU_MAP(0.0)
static __inline __m512i _mm512_set1_epi64(long long x) {
    __m512i r; int l; for (l = 0; l < 8; ++l) r.i[l] = x; return r;
}
/* arguments from the highest lane down, as Intel's set_* */
static __inline __m512i _mm512_set_epi64(long long e7, long long e6, long long e5, long long e4,
                                         long long e3, long long e2, long long e1, long long e0) {
    __m512i r;
    r.i[0] = e0; r.i[1] = e1; r.i[2] = e2; r.i[3] = e3; r.i[4] = e4; r.i[5] = e5; r.i[6] = e6; r.i[7] = e7;
    return r;
}
static __inline __m512i _mm512_add_epi64(__m512i a, __m512i b) {
    __m512i r; int l;
    for (l = 0; l < 8; ++l) r.i[l] = (long long)((unsigned long long)a.i[l] + (unsigned long long)b.i[l]);
    return r;
}
static __inline __m512i _mm512_maskz_slli_epi64(__mmask8 k, __m512i a, unsigned imm) {
    __m512i r; int l_;
    for (l_ = 0; l_ < 8; ++l_)
        r.i[l_] = RDG__EMU_ON(k) && imm < 64 ? (long long)((unsigned long long)a.i[l_] << imm) : 0;
    return r;
}

static __inline __m512d _mm512_add_pd(__m512d a, __m512d b) RDG__EMU_MAP(a.f[l_] + b.f[l_])
static __inline __m512d _mm512_sub_pd(__m512d a, __m512d b) RDG__EMU_MAP(a.f[l_] - b.f[l_])
static __inline __m512d _mm512_mul_pd(__m512d a, __m512d b) RDG__EMU_MAP(a.f[l_] * b.f[l_])
static __inline __m512d _mm512_div_pd(__m512d a, __m512d b) RDG__EMU_MAP(a.f[l_] / b.f[l_])
static __inline __m512d _mm512_fmadd_pd(__m512d a, __m512d b, __m512d c) RDG__EMU_MAP(fma(a.f[l_], b.f[l_], c.f[l_]))
static __inline __m512d _mm512_fnmadd_pd(__m512d a, __m512d b, __m512d c) RDG__EMU_MAP(fma(-a.f[l_], b.f[l_], c.f[l_]))
static __inline __m512d _mm512_mask_add_pd(__m512d src, __mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? a.f[l_] + b.f[l_] : src.f[l_])
static __inline __m512d _mm512_mask_sub_pd(__m512d src, __mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? a.f[l_] - b.f[l_] : src.f[l_])
/* MAXPD / MINPD: the second operand when either is NaN or both are zeros */
static __inline __m512d _mm512_maskz_max_pd(__mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? (a.f[l_] > b.f[l_] ? a.f[l_] : b.f[l_]) : 0.0)
static __inline __m512d _mm512_maskz_min_pd(__mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? (a.f[l_] < b.f[l_] ? a.f[l_] : b.f[l_]) : 0.0)
static __inline __m512d _mm512_maskz_sqrt_pd(__mmask8 k, __m512d a) RDG__EMU_MAP(RDG__EMU_ON(k) ? sqrt(a.f[l_]) : 0.0)
/* round to the nearest integer, ties to even (the default mode), scale 0 */
static __inline __m512d _mm512_maskz_roundscale_pd(__mmask8 k, __m512d a, int imm)
    RDG__EMU_MAP(((void)imm, RDG__EMU_ON(k) ? nearbyint(a.f[l_]) : 0.0))
/* a 2^floor(b) */
static __inline double rdg__emu_scalef(double a, double b) {
    double e = floor(b);
    if (e != e) return e;
    if (e > 4000.0) e = 4000.0;
    if (e < -4000.0) e = -4000.0;
    return ldexp(a, (int)e);
}
static __inline __m512d _mm512_maskz_scalef_pd(__mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? rdg__emu_scalef(a.f[l_], b.f[l_]) : 0.0)
/* floor(log2 |a|) as a double (finite non-zero a) */
static __inline double rdg__emu_getexp(double a) {
    int e;
    if (a == 0.0) return -HUGE_VAL;
    if (a != a || fabs(a) > 1.7976931348623157e308) return a != a ? a : HUGE_VAL;
    (void)frexp(a, &e);
    return (double)(e - 1);
}
static __inline __m512d _mm512_maskz_getexp_pd(__mmask8 k, __m512d a) RDG__EMU_MAP(RDG__EMU_ON(k) ? rdg__emu_getexp(a.f[l_]) : 0.0)
/* the mantissa normalised to [1/2, 1) (the only interval ridgediff.h asks for), sign of a */
static __inline double rdg__emu_getmant(double a, int interval, int sign) {
    int e;
    double m = frexp(a, &e);
    if (interval != _MM_MANT_NORM_p5_1 || a != a) return a != a ? a : m;
    return sign == _MM_MANT_SIGN_zero ? fabs(m) : m;
}
static __inline __m512d _mm512_maskz_getmant_pd(__mmask8 k, __m512d a, int interval, int sign)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? rdg__emu_getmant(a.f[l_], interval, sign) : 0.0)

static __inline int rdg__emu_cmp(double a, double b, int pred) {
    switch (pred & 0x1f) {
    case _CMP_EQ_OQ: return a == b;
    case _CMP_LT_OS: case _CMP_LT_OQ: return a < b;
    case _CMP_LE_OS: case _CMP_LE_OQ: return a <= b;
    case _CMP_NEQ_UQ: return !(a == b);
    case _CMP_GE_OS: case _CMP_GE_OQ: return a >= b;
    case _CMP_GT_OS: case _CMP_GT_OQ: return a > b;
    default: return -1;   /* a predicate this file lacks: the caller's test fails loudly */
    }
}
static __inline __mmask8 _mm512_cmp_pd_mask(__m512d a, __m512d b, int pred) {
    unsigned m = 0; int l;
    for (l = 0; l < 8; ++l) {
        int c = rdg__emu_cmp(a.f[l], b.f[l], pred);
        if (c < 0) { m = 0xA5u; break; }
        m |= (unsigned)c << l;
    }
    return (__mmask8)m;
}
static __inline __m512d _mm512_mask_mov_pd(__m512d src, __mmask8 k, __m512d a) RDG__EMU_MAP(RDG__EMU_ON(k) ? a.f[l_] : src.f[l_])
static __inline __m512d _mm512_maskz_mov_pd(__mmask8 k, __m512d a) RDG__EMU_MAP(RDG__EMU_ON(k) ? a.f[l_] : 0.0)
/* the selected lanes packed to the low end, the rest zero */
static __inline __m512d _mm512_maskz_compress_pd(__mmask8 k, __m512d a) {
    __m512d r = _mm512_setzero_pd(); int l_, n = 0;
    for (l_ = 0; l_ < 8; ++l_) if (RDG__EMU_ON(k)) r.f[n++] = a.f[l_];
    return r;
}
static __inline __m512i _mm512_maskz_compress_epi64(__mmask8 k, __m512i a) {
    __m512i r = _mm512_set1_epi64(0); int l_, n = 0;
    for (l_ = 0; l_ < 8; ++l_) if (RDG__EMU_ON(k)) r.i[n++] = a.i[l_];
    return r;
}
/* lane l from base + idx[l] * scale bytes where k is set, else from src */
static __inline __m512d _mm512_mask_i64gather_pd(__m512d src, __mmask8 k, __m512i idx, const void *base, int scale) {
    __m512d r = src; int l_;
    for (l_ = 0; l_ < 8; ++l_)
        if (RDG__EMU_ON(k)) memcpy(&r.f[l_], (const char *)base + idx.i[l_] * scale, sizeof(double));
    return r;
}
/* lane l: (idx[l] & 8 ? b : a)[idx[l] & 7] */
static __inline __m512d _mm512_permutex2var_pd(__m512d a, __m512i idx, __m512d b)
    RDG__EMU_MAP((idx.i[l_] & 8) ? b.f[idx.i[l_] & 7] : a.f[idx.i[l_] & 7])
/* 128-bit lanes: two of a (imm bits 0-1, 2-3), then two of b (bits 4-5, 6-7) */
static __inline __m512d _mm512_maskz_shuffle_f64x2(__mmask8 k, __m512d a, __m512d b, int imm)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? (l_ < 4 ? a : b).f[2 * ((imm >> (2 * (l_ / 2))) & 3) + (l_ & 1)] : 0.0)
/* per 128-bit lane: (a low, b low) and (a high, b high) */
static __inline __m512d _mm512_maskz_unpacklo_pd(__mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? ((l_ & 1) ? b : a).f[l_ & ~1] : 0.0)
static __inline __m512d _mm512_maskz_unpackhi_pd(__mmask8 k, __m512d a, __m512d b)
    RDG__EMU_MAP(RDG__EMU_ON(k) ? ((l_ & 1) ? b : a).f[l_ | 1] : 0.0)
/* GCC's order: upper half + lower half, then the two 128-bit quarters, then the pair */
static __inline double _mm512_reduce_add_pd(__m512d a) {
    double h0 = a.f[4] + a.f[0], h1 = a.f[5] + a.f[1], h2 = a.f[6] + a.f[2], h3 = a.f[7] + a.f[3];
    double q0 = h2 + h0, q1 = h3 + h1;
    return q0 + q1;
}
#undef RDG__EMU_ON
#undef RDG__EMU_MAP
#endif
