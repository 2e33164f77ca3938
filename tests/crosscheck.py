#!/usr/bin/env python3
"""crosscheck.py RIDGEDIFF - compares the ridgediff CLI with the independent numpy reference
tools/ref_ridge.py (MATH.md sections 1-4). Run by tests/crosscheck.sh (`make crosscheck`).
Fixed seeds; about 1.5 minutes on 2 cores (the reference solver dominates).

  selftest the reference's own checks (finite differences of score, Hessian, d3 contraction,
           Jacobian, grad lam; two-point, circle and curve projections).

  density  four data sets (d = 2, 8, 32, 64), query points near the data (and a few far away),
           t in {1e-3, 0.05, 0.5, 5}: log p, posterior mean, score and Hessian agree to a max
           relative error of 1e-9, each against a natural scale:
             logp    max(|ref|, 1)
             mean    max(|ref|, max |X|)            (m is a weighted sum of data points)
             score   max(max_k |g_ref,k|, max(|y|_inf, a_t max|X|) / s_t^2)   per point
                     (g = (a m - y)/s^2: rounding of the two terms cannot be avoided)
             hess    max abs entry of that point's reference Hessian
  project  2-D two-cluster (also with beta = 0.3/s_t^2) and circle data (d* = 1), and 32-D
           clustered data with spectral gaps at 3 and 25 (d* = 3, 25), t in {0.05, 0.5},
           methods lm and scms:
             - every point the CSV marks converged, where the reference frame is defined
               (s_t^2 gap > 1e-8), satisfies the ridge condition in the reference:
               s_t^2 |P_N g| <= 1e-7 max(1, max|X|) (converged points with an undefined frame
               are counted, not judged: r is rounding noise there);
             - curv_ok agrees with the reference lam_{d*+1} <= -beta (up to 1e-8 |lam|);
             - the CSV columns: distance = |P - y| (1e-12), gap (1e-6 relative), resid0 = |r(y)|
               (1e-6 relative where s_t^2 gap(y) > 1e-6), s_t^2 resid (1e-9 max(1, max|X|));
             - lm (beta = 0): converged fraction among points whose frame at the output is
               resolved to the tolerance (reference s_t^2 gap > 1e-6: the frame's rounding,
               about eps / (s_t^2 gap) relative, must stay below s_t^2 |r| <= 1e-10 at the
               distances here; with s_t^2 gap near 1e-7 it is 2e-9, and whether such a point
               meets 1e-10 depends on the vector width's rounding) >= 95 %; rows where the
               reference converged and lm did not are listed (info);
             - on points that ridgediff lm and the reference solver (SCMS + Riemannian Newton,
               an algorithm independent of the library's LM) both converge on:
               fraction with ridgediff distance <= reference distance (1 + 1e-6) >= 95 %;
             - lm is no farther than scms (same fraction rule); in 2-D, scms agrees with the
               reference SCMS to 1e-6.
  errors   NaN in the data or points, mismatched shapes, bad d*, t <= 0: non-zero exit, and
           no output file.
Prints one line per check ("ok ..." / "FAIL ...") and `crosscheck: N passed, M failed`.
"""
import os
for _v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # numpy's BLAS: one thread per process
    os.environ.setdefault(_v, "1")
import csv
import math
import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.dont_write_bytecode = True           # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import ref_ridge as R  # noqa: E402

PASS = [0]
FAIL = [0]


def check(name, ok, detail=""):
    print(("ok " if ok else "FAIL ") + name + (("  (" + detail + ")") if detail else ""), flush=True)
    if ok:
        PASS[0] += 1
    else:
        FAIL[0] += 1
    return ok


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------
def clustered(N, d, seed, k=4, curve_frac=0.25, top=0.8, bot=0.02):
    """k anisotropic Gaussian clusters (std decaying from top to bot over the d axes of a random
    rotation) plus a fraction of points on a noisy planar curve."""
    rng = np.random.default_rng(seed)
    ncur = int(N * curve_frac)
    ncl = N - ncur
    centres = rng.normal(size=(k, d)) * 12.0 / math.sqrt(d)
    stds = top * (bot / top) ** (np.arange(d) / max(1, d - 1))
    lab = rng.integers(0, k, size=ncl)
    parts = []
    for j in range(k):
        n = int(np.sum(lab == j))
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        parts.append(centres[j] + (rng.normal(size=(n, d)) * stds) @ Q.T)
    s = rng.uniform(-1, 1, size=ncur)
    B2 = np.linalg.qr(rng.normal(size=(d, 2)))[0]
    parts.append(np.outer(2.5 * s, B2[:, 0]) + np.outer(1.5 * np.sin(2.5 * s), B2[:, 1])
                 + 0.03 * rng.normal(size=(ncur, d)))
    X = np.vstack(parts)
    rng.shuffle(X)
    return X


def clustered_gapped(N, d, seed, k=4, curve_frac=0.25, dims=(3, 25)):
    """Like clustered(), but with spectral gaps at the ridge dimensions tested (d* = 3, 25), so
    that both ridges are well posed at t = 0.05 and 0.5: per-cluster std 1 on 3 axes, 0.25 ->
    0.125 on the next 22, 0.02 on the rest (in a random rotation per cluster)."""
    rng = np.random.default_rng(seed)
    ncur = int(N * curve_frac)
    ncl = N - ncur
    centres = rng.normal(size=(k, d)) * 12.0 / math.sqrt(d)
    n1, n2 = dims
    stds = np.r_[np.full(n1, 1.0), 0.25 * 0.5 ** (np.arange(n2 - n1) / max(1, n2 - n1 - 1)),
                 np.full(d - n2, 0.02)]
    lab = rng.integers(0, k, size=ncl)
    parts = []
    for j in range(k):
        n = int(np.sum(lab == j))
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        parts.append(centres[j] + (rng.normal(size=(n, d)) * stds) @ Q.T)
    s = rng.uniform(-1, 1, size=ncur)
    B2 = np.linalg.qr(rng.normal(size=(d, 2)))[0]
    parts.append(np.outer(2.5 * s, B2[:, 0]) + np.outer(1.5 * np.sin(2.5 * s), B2[:, 1])
                 + 0.03 * rng.normal(size=(ncur, d)))
    X = np.vstack(parts)
    rng.shuffle(X)
    return X


def two_cluster_2d(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(150, 2)) * [1.0, 0.35] + [-2.0, 0.5]
    B = rng.normal(size=(150, 2)) * [0.5, 0.8] + [2.0, -0.3]
    return np.vstack([A, B])


def circle_2d(seed):
    rng = np.random.default_rng(seed)
    th = rng.uniform(0, 2 * np.pi, 300)
    return 2.0 * np.c_[np.cos(th), np.sin(th)] + 0.05 * rng.normal(size=(300, 2))


def queries(X, t, B, seed, spread=1.0, far=0):
    """Forward-noised data points a_t x_i + spread s_t z, plus `far` points well outside."""
    rng = np.random.default_rng(seed)
    a, s2 = R.ou(t)
    d = X.shape[1]
    idx = rng.integers(0, X.shape[0], B - far)
    Y = a * X[idx] + spread * math.sqrt(s2) * rng.normal(size=(B - far, d))
    if far:
        scale = np.max(np.abs(X))
        Y = np.vstack([Y, 3.0 * scale * rng.normal(size=(far, d)) / math.sqrt(d)])
    return Y


# ------------------------------------------------------------------------------------------
# running the CLI
# ------------------------------------------------------------------------------------------
def run(args, timeout=600):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def read_info(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def relerr(a, b, scale):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), scale)))


# ------------------------------------------------------------------------------------------
# density
# ------------------------------------------------------------------------------------------
def density_checks(exe, tmp):
    sets = [("N=500 d=2", 500, 2, 11), ("N=2000 d=8", 2000, 8, 12),
            ("N=3000 d=32", 3000, 32, 13), ("N=1000 d=64", 1000, 64, 14)]
    for name, N, d, seed in sets:
        X = clustered(N, d, seed)
        xs = float(np.max(np.abs(X)))
        xp = os.path.join(tmp, "X.npy")
        np.save(xp, X)
        for t in (1e-3, 0.05, 0.5, 5.0):
            a, s2 = R.ou(t)
            B = 24 if d >= 32 else 40
            Y = np.vstack([queries(X, t, B - 8, seed + 1, far=2),
                           queries(X, t, 8, seed + 2, spread=0.2)])
            yp = os.path.join(tmp, "Y.npy")
            np.save(yp, Y)
            outs = {k: os.path.join(tmp, k + ".npy") for k in ("logp", "score", "hessian", "mean")}
            for p in outs.values():
                if os.path.exists(p):
                    os.remove(p)
            rc, _, err = run([exe, "density", "--data", xp, "--points", yp, "--t", repr(t)]
                             + sum([["--" + k, p] for k, p in outs.items()], []))
            tag = f"density {name} t={t:g}"
            if not check(tag + " runs", rc == 0, f"exit {rc}: {err.strip()[:200]}" if rc else ""):
                continue
            lp, mn, sc, hs = (np.load(outs[k]) for k in ("logp", "mean", "score", "hessian"))
            shapes_ok = (lp.shape == (B,) and mn.shape == (B, d) and sc.shape == (B, d)
                         and hs.shape == (B, d, d) and all(v.dtype == np.float64 for v in (lp, mn, sc, hs)))
            if not check(tag + " shapes", shapes_ok,
                         f"{lp.shape} {mn.shape} {sc.shape} {hs.shape}"):
                continue
            rlp, rmn, rsc, rhs = R.density(X, t, Y)
            e_lp = relerr(lp, rlp, 1.0)
            e_mn = relerr(mn, rmn, xs)
            gs = np.maximum(np.max(np.abs(rsc), axis=1),
                            np.maximum(np.max(np.abs(Y), axis=1), a * xs) / s2)[:, None]
            e_sc = float(np.max(np.abs(sc - rsc) / gs))
            hsc = np.max(np.abs(rhs), axis=(1, 2))[:, None, None]
            e_hs = float(np.max(np.abs(hs - rhs) / hsc))
            errs = f"logp {e_lp:.1e} mean {e_mn:.1e} score {e_sc:.1e} hess {e_hs:.1e}"
            check(tag + " matches reference", max(e_lp, e_mn, e_sc, e_hs) < 1e-9, errs)


# ------------------------------------------------------------------------------------------
# projection
# ------------------------------------------------------------------------------------------
_G = {}


def _pool_init(X, t, dstar, beta):
    _G.update(X=X, t=t, dstar=dstar, beta=beta)


def _ref_project(y):
    x, info = R.project(_G["X"], _G["t"], y, _G["dstar"], beta=_G["beta"])
    info.pop("scms_point", None)
    return x, info


def _ref_scms(y):
    P, its, res = R.scms(_G["X"], _G["t"], y[None, :], _G["dstar"], tol=1e-10, maxit=20000)
    return P[0], bool(res[0] <= 1e-10 * max(1.0, float(np.max(np.abs(_G["X"])))))


def run_project(exe, tmp, xp, yp, t, dstar, method, beta):
    out = os.path.join(tmp, f"P_{method}.npy")
    inf = os.path.join(tmp, f"I_{method}.csv")
    for p in (out, inf):
        if os.path.exists(p):
            os.remove(p)
    args = [exe, "project", "--data", xp, "--points", yp, "--t", repr(t), "--dstar", str(dstar),
            "--method", method, "--out", out, "--info", inf]
    if beta:
        args += ["--beta", repr(beta)]
    t0 = time.time()
    rc, _, err = run(args)
    el = time.time() - t0
    if rc != 0:
        return rc, err, None, None, el
    header, rows = read_info(inf)
    return rc, header, np.load(out), rows, el


def project_checks(exe, tmp, pool_procs):
    X32 = clustered_gapped(2000, 32, 23)
    cfgs = [
        # name, X, t, d*, beta (times 1/s2), B, dist comparison
        ("2-D two-cluster", two_cluster_2d(21), 0.05, 1, 0.0, 80),
        ("2-D two-cluster", two_cluster_2d(21), 0.5, 1, 0.0, 80),
        ("2-D two-cluster beta", two_cluster_2d(21), 0.05, 1, 0.3, 80),
        ("2-D circle", circle_2d(22), 0.05, 1, 0.0, 80),
        ("2-D circle", circle_2d(22), 0.5, 1, 0.0, 80),
        ("32-D clustered", X32, 0.05, 3, 0.0, 100),
        ("32-D clustered", X32, 0.5, 3, 0.0, 100),
        ("32-D clustered", X32, 0.05, 25, 0.0, 80),
        ("32-D clustered", X32, 0.5, 25, 0.0, 80),
    ]
    header_want = ["distance", "resid0", "resid", "iters", "converged", "curv_ok", "gap"]
    for name, X, t, dstar, beta_rel, B in cfgs:
        a, s2 = R.ou(t)
        beta = beta_rel / s2
        d = X.shape[1]
        xs = max(1.0, float(np.max(np.abs(X))))
        Y = queries(X, t, B, 100 + B + dstar, spread=0.5)
        xp, yp = os.path.join(tmp, "X.npy"), os.path.join(tmp, "Y.npy")
        np.save(xp, X)
        np.save(yp, Y)
        tag = f"project {name} t={t:g} d*={dstar}" + (f" beta={beta:.3g}" if beta else "")
        res = {}
        for method in ("lm", "scms"):
            rc, header, P, rows, el = run_project(exe, tmp, xp, yp, t, dstar, method, beta)
            mt = f"{tag} {method}"
            if not check(mt + " runs", rc == 0, f"exit {rc}: {str(header).strip()[:200]}" if rc else f"{el:.2f}s"):
                continue
            ok = header == header_want and len(rows) == B and P.shape == (B, d)
            if not check(mt + " output shape", ok, f"header {header} rows {len(rows)} P {P.shape}"):
                continue
            info = np.array([[float(v) for v in r] for r in rows])
            dist, res0, resid, iters, conv, curv = (info[:, j] for j in range(6))
            gap = info[:, 6]
            conv = conv.astype(bool)
            curv = curv.astype(bool)
            s2r, lamb, rgap = R.ridge_check(X, t, dstar, beta, P)
            s2r0, _, rgap0 = R.ridge_check(X, t, dstar, beta, Y)
            lam = lamb - beta
            # 1. ridge condition at converged points
            # (where the reference frame is undefined, s2 gap <= 1e-8, r is rounding noise in
            # both implementations: such points are counted, not judged)
            defined = s2 * rgap > 1e-8
            bad = conv & defined & ~(s2r <= 1e-7 * xs)
            nund = int((conv & ~defined).sum())
            check(mt + " converged points are on the ridge", not bad.any(),
                  f"{int((conv & defined).sum())} converged with s2 gap > 1e-8, max s2|r| "
                  f"{np.max(s2r[conv & defined], initial=0):.1e}"
                  + (f"; {nund} more converged where s2 gap <= 1e-8" if nund else "")
                  + (f", violations at rows {np.nonzero(bad)[0][:8].tolist()}" if bad.any() else ""))
            # 2. curvature flag
            tol = 1e-8 * np.abs(lam)
            mism = (curv & (lamb > tol)) | (~curv & (lamb < -tol))
            check(mt + " curv_ok agrees", not mism.any(),
                  f"{int(curv.sum())}/{B} curv_ok" + (f", mismatch rows {np.nonzero(mism)[0][:8].tolist()}"
                                                     f" lam+beta {lamb[mism][:4]}" if mism.any() else ""))
            # 3. distance and gap columns
            dref = np.linalg.norm(P - Y, axis=1)
            e_d = float(np.max(np.abs(dist - dref) / np.maximum(dref, 1e-300 + xs * 1e-15)))
            e_g = float(np.max(np.abs(gap - rgap)[defined] / rgap[defined], initial=0))
            # resid0 = |r(y)| (relative, where the frame at y is well resolved: s2 gap > 1e-6;
            # the frame's rounding error is ~ eps |C| / gap) and resid = |r(P)| (as s2 |r|, a
            # length, absolute against max(1, max|X|))
            def0 = s2 * rgap0 > 1e-6
            e_r0 = float(np.max(np.abs(res0 - s2r0 / s2)[def0] / np.maximum(s2r0 / s2, 1e-300)[def0], initial=0))
            e_r = float(np.max(np.abs(s2 * resid - s2r)[defined], initial=0)) / xs
            check(mt + " distance, gap, resid0, resid columns",
                  e_d < 1e-12 and e_g < 1e-6 and e_r0 < 1e-6 and e_r < 1e-9,
                  f"distance err {e_d:.1e}, gap err {e_g:.1e} on {int(defined.sum())} points, "
                  f"resid0 rel err {e_r0:.1e} on {int(def0.sum())}, s2 resid abs err {e_r:.1e}")
            # 4. converged fraction where the frame is resolved to the tolerance (s2 gap > 1e-6:
            # below, its rounding alone, ~eps / (s2 gap) relative, can exceed s2 |r| <= 1e-10)
            resolved = s2 * rgap > 1e-6
            frac = conv[resolved].mean() if resolved.any() else float("nan")
            rel = int((conv & defined).sum())
            detail = (f"converged {int(conv[resolved].sum())}/{int(resolved.sum())} = {100 * frac:.1f}% "
                      f"where s2 gap > 1e-6 ({int((conv & defined & ~resolved).sum())}/{int((defined & ~resolved).sum())} "
                      f"where 1e-8 < s2 gap <= 1e-6); reliable {rel}/{B}; median iters "
                      f"{np.median(iters[conv]) if conv.any() else 0:g}")
            if method == "lm" and beta == 0:
                check(mt + " converged fraction >= 95%", resolved.sum() > 0 and frac >= 0.95, detail)
            else:
                print("info " + mt + ": " + detail)
            res[method] = dict(P=P, dist=dist, conv=conv & defined & curv, conv_raw=conv)
        if "lm" not in res:
            continue
        # 5. reference solver, in parallel over points
        t0 = time.time()
        with mp.Pool(pool_procs, initializer=_pool_init, initargs=(X, t, dstar, beta)) as pool:
            ref = pool.map(_ref_project, list(Y), chunksize=1)
            ref_scms = pool.map(_ref_scms, list(Y), chunksize=1) if d <= 2 else None
        el = time.time() - t0
        rdist = np.array([r[1]["distance"] for r in ref])
        rconv = np.array([r[1]["converged"] and r[1]["curv_ok"] and R.ou(t)[1] * r[1]["gap"] > 1e-8
                          for r in ref])
        lm = res["lm"]
        missed = np.nonzero(rconv & ~lm["conv_raw"])[0]
        if missed.size:
            print(f"info {tag}: the reference converged (reliable) where lm did not, rows "
                  f"{missed.tolist()[:12]}; reference distance / lm distance "
                  + " ".join(f"{rdist[i] / lm['dist'][i]:.4f}" for i in missed[:12]))
        both = lm["conv"] & rconv
        nb = int(both.sum())
        if nb == 0:
            check(tag + " lm vs reference distance", False, "no point converged in both")
            continue
        le = lm["dist"][both] <= rdist[both] * (1 + 1e-6)
        ge = rdist[both] <= lm["dist"][both] * (1 + 1e-6)
        rd = (lm["dist"][both] - rdist[both]) / rdist[both]
        check(tag + " lm distance <= reference distance", le.mean() >= 0.95,
              f"{100 * le.mean():.1f}% of {nb} (reference converged {int(rconv.sum())}/{B}, "
              f"{el:.1f}s); equal within 1e-6: {100 * (le & ge).mean():.1f}%; "
              f"rel diff min {rd.min():.1e} median {np.median(rd):.1e} max {rd.max():.1e}")
        if "scms" in res:
            sc = res["scms"]
            both2 = lm["conv"] & sc["conv"]
            if both2.any():
                le2 = lm["dist"][both2] <= sc["dist"][both2] * (1 + 1e-6)
                check(tag + " lm distance <= scms distance", le2.mean() >= 0.95,
                      f"{100 * le2.mean():.1f}% of {int(both2.sum())}")
            if ref_scms is not None:
                rs_conv = np.array([c for _, c in ref_scms])
                rs_dist = np.array([np.linalg.norm(p - y) for (p, _), y in zip(ref_scms, Y)])
                both3 = sc["conv"] & rs_conv
                if both3.any():
                    agree = np.abs(sc["dist"][both3] - rs_dist[both3]) <= 1e-6 * np.maximum(rs_dist[both3], 1e-3)
                    check(tag + " scms distance = reference scms", agree.mean() >= 0.95,
                          f"{100 * agree.mean():.1f}% of {int(both3.sum())}")


# ------------------------------------------------------------------------------------------
# errors through the CLI
# ------------------------------------------------------------------------------------------
def error_checks(exe, tmp):
    X = two_cluster_2d(31)
    Y = queries(X, 0.5, 5, 32)
    xp, yp = os.path.join(tmp, "X.npy"), os.path.join(tmp, "Y.npy")
    np.save(yp, Y)
    Xn = X.copy()
    Xn[7, 1] = np.nan
    xn = os.path.join(tmp, "Xnan.npy")
    np.save(xn, Xn)
    np.save(xp, X)
    Yn = Y.copy()
    Yn[2, 0] = np.inf
    yn = os.path.join(tmp, "Ynan.npy")
    np.save(yn, Yn)
    y3 = os.path.join(tmp, "Y3.npy")
    np.save(y3, np.zeros((4, 3)))
    lp, pp = os.path.join(tmp, "err_logp.npy"), os.path.join(tmp, "err_P.npy")
    cases = [
        ("density NaN in data", ["density", "--data", xn, "--points", yp, "--t", "0.5", "--logp", lp], [lp]),
        ("project NaN in data", ["project", "--data", xn, "--points", yp, "--t", "0.5", "--dstar", "1",
                                 "--out", pp], [pp]),
        ("density Inf in points", ["density", "--data", xp, "--points", yn, "--t", "0.5", "--logp", lp], [lp]),
        ("density d mismatch", ["density", "--data", xp, "--points", y3, "--t", "0.5", "--logp", lp], [lp]),
        ("project d* = d", ["project", "--data", xp, "--points", yp, "--t", "0.5", "--dstar", "2",
                            "--out", pp], [pp]),
        ("density t = 0", ["density", "--data", xp, "--points", yp, "--t", "0", "--logp", lp], [lp]),
        ("project missing data file", ["project", "--data", os.path.join(tmp, "nope.npy"), "--points", yp,
                                       "--t", "0.5", "--dstar", "1", "--out", pp], [pp]),
    ]
    for name, args, outs in cases:
        for p in outs:
            if os.path.exists(p):
                os.remove(p)
        rc, _, err = run([exe] + args)
        left = [os.path.basename(p) for p in outs if os.path.exists(p)]
        stray = [f for f in os.listdir(tmp) if f.endswith(".tmp")]
        check(f"error: {name}", rc != 0 and not left and not stray and err.strip() != "",
              f"exit {rc}, outputs left {left + stray}, stderr '{err.strip()[:100]}'")


def main():
    if len(sys.argv) < 2:
        print("usage: crosscheck.py RIDGEDIFF", file=sys.stderr)
        return 2
    exe = os.path.abspath(sys.argv[1])
    procs = max(1, min(2, os.cpu_count() or 1))
    tmp = tempfile.mkdtemp(prefix="ridgediff-crosscheck-")
    t0 = time.time()
    try:
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            nfail = R._selftest()
        lines = [l for l in buf.getvalue().splitlines() if l.startswith(("ok", "FAIL"))]
        check("reference self-test (finite differences, two-point, circle, curve)", nfail == 0,
              f"{len(lines) - nfail}/{len(lines)} ok"
              + "".join("; " + l for l in lines if l.startswith("FAIL")))
        density_checks(exe, tmp)
        print(f"info density checks: {time.time() - t0:.1f}s", flush=True)
        error_checks(exe, tmp)
        t1 = time.time()
        project_checks(exe, tmp, procs)
        print(f"info projection checks: {time.time() - t1:.1f}s", flush=True)
    except Exception as e:  # a crash of the driver is a failure, not a skip
        import traceback
        traceback.print_exc()
        check("crosscheck driver ran to the end", False, repr(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"info total time {time.time() - t0:.0f}s")
    print(f"crosscheck: {PASS[0]} passed, {FAIL[0]} failed")
    return 1 if FAIL[0] else 0


if __name__ == "__main__":
    sys.exit(main())
