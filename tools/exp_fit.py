#!/usr/bin/env python3
"""Coefficients of ridgediff's vector exp (rdg__vexp in ridgediff.h, RDG__EXPQ0..8).

exp(r) = 1 + r + r^2 q(r) on |r| <= ln2/2, q of degree 8, fitted for relative error by
iteratively reweighted least squares at Chebyshev nodes (residuals in long double), which
approaches the minimax fit. Prints the coefficients and the worst relative error of the
double-precision evaluation (Horner here; the header's Estrin order gives the same bound,
checked by tests/test_kernels.c against long double). Needs numpy (python3-numpy).
Usage: python3 tools/exp_fit.py [degree]   (degree of the whole polynomial, default 10)
"""
import sys
import numpy as np

ld = np.longdouble


def fit(deg):
    h = ld(np.log(2)) / 2
    m = deg - 1                               # coefficients of q
    n = 4000
    r = np.cos(np.pi * (np.arange(n) + 0.5) / n).astype(ld) * h
    r = r[np.abs(r) > 1e-6]
    ex = np.exp(r)
    f = (ex - 1 - r) / r ** 2                 # the q that makes the fit exact
    w = r ** 2 / ex                           # relative error of p = r^2 (q - f) / exp(r)
    A = np.vstack([r ** k for k in range(m)]).T
    W = np.ones_like(r)
    for _ in range(30):
        Aw = (A * (w * W)[:, None]).astype(np.float64)
        c, *_ = np.linalg.lstsq(Aw, (f * w * W).astype(np.float64), rcond=None)
        c = c.astype(ld)
        res = (f - A @ c) * w                  # one refinement step on the long double residual
        dc, *_ = np.linalg.lstsq(Aw, (res * W).astype(np.float64), rcond=None)
        c = c + dc.astype(ld)
        err = np.abs((A @ c - f) * w)
        W = W * (err / err.max()) ** 0.3 + 1e-3
    cd = c.astype(np.float64)
    rr = np.linspace(-float(h), float(h), 200001)
    p = np.full_like(rr, cd[-1])
    for k in range(m - 2, -1, -1):
        p = p * rr + cd[k]
    p = p * rr + 1.0
    p = p * rr + 1.0
    true = np.exp(rr.astype(ld))
    return cd, float(err.max()), float(np.max(np.abs((p.astype(ld) - true) / true)))


if __name__ == "__main__":
    deg = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    cd, e_fit, e_dbl = fit(deg)
    for k, v in enumerate(cd):
        print("#  define RDG__EXPQ%d %.17g" % (k, v))
    print("fit error %.3g, evaluated in double %.3g (relative)" % (e_fit, e_dbl))
