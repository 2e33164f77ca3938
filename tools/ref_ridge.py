#!/usr/bin/env python3
"""ref_ridge.py - an independent float64 numpy reference for ridgediff (MATH.md sections 1-4).

Only numpy is needed. It is written to be read and checked, not to be fast: every quantity is
computed per point, straight from the formulas of MATH.md, with the numerical precautions that
section 2 asks for (log-sum-exp shifted by its maximum, centred covariance). It is used by
tests/crosscheck.py and can be imported by anyone who wants a second opinion:

    import ref_ridge as R
    logp, mean, score, hess = R.density(X, t, Y)
    s2r, curv, gap = R.ridge_check(X, t, dstar, beta, P)      # ridge conditions at points P
    x, info = R.project(X, t, y, dstar)                       # nearest ridge point (SCMS + Newton)

Conventions: X is (N, d) data, Y is (B, d) query points, t > 0. Eigenvalues are returned in
descending order; column j of a frame matrix is the eigenvector of the j-th eigenvalue.
Running this file (`python3 tools/ref_ridge.py`) runs its self-tests (finite differences, the
two-point data set).
"""
import math
import numpy as np

# Weights below exp(-DROP) of the largest are left out of the moment sums *in the projection
# solver only* (relative error <= N exp(-50) ~ 2e-19 N). density() keeps every weight.
DROP = 50.0


# ----------------------------------------------------------------------------------------
# Section 1: the OU schedule
# ----------------------------------------------------------------------------------------
def ou(t):
    """a_t = exp(-t), s_t^2 = 1 - exp(-2t) (via expm1: full relative accuracy at small t)."""
    t = float(t)
    return math.exp(-t), -math.expm1(-2.0 * t)


def grid_geometric(T, t0, K):
    """t_k = T (t0/T)^(k/K), k = 0..K."""
    k = np.arange(K + 1, dtype=np.float64)
    g = T * (t0 / T) ** (k / K)
    g[0], g[-1] = T, t0
    return g


# ----------------------------------------------------------------------------------------
# Section 2: the smoothed empirical density
# ----------------------------------------------------------------------------------------
class Moments:
    """Everything section 2 defines at one point x, computed from scratch.

    Fields: a, s2, logits l_n = -|x - a x_n|^2 / (2 s2), lmax, w (softmax), idx (indices of the
    weights kept), m (posterior mean), c (N_kept x d, c_n = x_n - m), C (centred covariance),
    g (score), logp.
    """

    def __init__(self, X, t, x, drop=None):
        a, s2 = ou(t)
        x = np.asarray(x, dtype=np.float64)
        N, d = X.shape
        diff = x[None, :] - a * X                       # never expand |x|^2 - 2 a x.x_n + ...
        l = -np.einsum('ij,ij->i', diff, diff) / (2.0 * s2)
        k = int(np.argmax(l))
        lmax = l[k]
        if drop is not None:
            idx = np.nonzero(l >= lmax - drop)[0]
        else:
            idx = np.arange(N)
        e = np.exp(l[idx] - lmax)
        Z = e.sum()
        w = e / Z
        # posterior mean relative to the dominant data point, then centred deviations
        Xk = X[k]
        D = X[idx] - Xk[None, :]
        dm = w @ D
        m = Xk + dm
        c = D - dm[None, :]
        # centred covariance; two passes (the mean first), never sum w x x^T - m m^T
        C = (c * w[:, None]).T @ c
        C = 0.5 * (C + C.T)
        self.a, self.s2, self.t = a, s2, float(t)
        self.x, self.N, self.d = x, N, d
        self.w, self.idx, self.c, self.m, self.C = w, idx, c, m, C
        # the log-sum-exp over *all* weights (for log p the dropped terms are added back)
        if drop is not None:
            Zall = np.exp(l - lmax).sum()
        else:
            Zall = Z
        self.logp = lmax + math.log(Zall) - math.log(N) - 0.5 * d * math.log(2.0 * math.pi * s2)
        self.g = (a * m - x) / s2

    def hessian(self):
        """H = -I/s2 + (a^2/s2^2) C."""
        a, s2, d = self.a, self.s2, self.d
        return -np.eye(d) / s2 + (a * a / (s2 * s2)) * self.C


def density(X, t, Y):
    """log p_t, posterior mean, score and Hessian at each row of Y. Returns (logp (B,),
    mean (B,d), score (B,d), hess (B,d,d))."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    B, d = Y.shape
    logp = np.empty(B)
    mean = np.empty((B, d))
    score = np.empty((B, d))
    hess = np.empty((B, d, d))
    for b in range(B):
        M = Moments(X, t, Y[b])
        logp[b], mean[b], score[b], hess[b] = M.logp, M.m, M.g, M.hessian()
    return logp, mean, score, hess


def logp_only(X, t, x):
    return Moments(X, t, x).logp


def d3_contract(M, u, v):
    """out_k = u^T (d_k H) v = (a^3/s^6) sum_n w_n (u.c_n)(v.c_n) c_nk."""
    a, s2 = M.a, M.s2
    cu = M.c @ u
    cv = M.c @ v
    return (a ** 3 / s2 ** 3) * ((M.w * cu * cv) @ M.c)


# ----------------------------------------------------------------------------------------
# Sections 3-4: the ridge frame, residual, eigengap and Jacobian
# ----------------------------------------------------------------------------------------
class Frame:
    """The ridge frame at one point: eigen-decomposition of the centred covariance C
    (descending), lam_j(H) = -1/s2 + (a^2/s2^2) mu_j(C), tangent V = top d* eigenvectors,
    normal E = the rest, residual r = P_N g, eigengap lam_d* - lam_{d*+1}."""

    def __init__(self, X, t, x, dstar, drop=None):
        M = Moments(X, t, x, drop=drop)
        d = M.d
        if not (1 <= dstar < d):
            raise ValueError("need 1 <= dstar < d")
        mu, U = np.linalg.eigh(M.C)            # ascending
        mu, U = mu[::-1], U[:, ::-1]
        a, s2 = M.a, M.s2
        self.M = M
        self.dstar = dstar
        self.mu = mu
        self.lam = -1.0 / s2 + (a * a / (s2 * s2)) * mu
        self.U = U
        self.V = U[:, :dstar]
        self.E = U[:, dstar:]
        self.g = M.g
        self.gE = self.E.T @ M.g                  # frame form r_E = E^T g
        # projector form r = P_N g; computed as g - V V^T g when d* is the smaller side
        if dstar <= d - dstar:
            self.r = M.g - self.V @ (self.V.T @ M.g)
        else:
            self.r = self.E @ self.gE
        # eigengap in the C spectrum, scaled (no cancellation against 1/s2)
        self.gap = (a * a / (s2 * s2)) * (mu[dstar - 1] - mu[dstar])
        self.lam_n = self.lam[dstar]              # lam_{d*+1}

    def jacobians(self):
        """Analytic Jacobian of the projector-form residual, J = dr/dx (d x d), and of the frame
        form, JE = E^T J = diag(lam_E) E^T + S (d-d* x d), MATH.md section 4."""
        M = self.M
        a, s2 = M.a, M.s2
        V, E, lam, k = self.V, self.E, self.lam, self.dstar
        lamV, lamE = lam[:k], lam[k:]
        den = lamE[None, :] - lamV[:, None]
        if not np.all(den < 0):
            raise FloatingPointError("zero eigengap: the ridge frame is undefined here")
        K = 1.0 / den                                    # K_ab = 1/(lam_b - lam_a), d* x (d-d*)
        gV = V.T @ M.g
        gE = self.gE
        P = M.c @ V                                      # P_na = v_a . c_n
        Q = M.c @ E                                      # Q_nb = e_b . c_n
        f = a ** 3 / s2 ** 3
        # (d_k P_N) g = sum_ab G^k_ab [ v_a (e_b.g) + e_b (v_a.g) ],
        # G^k_ab = f sum_n w_n P_na Q_nb c_nk K_ab
        #   A_ak = sum_b G^k_ab (e_b.g) = f sum_n w_n c_nk P_na (Q (K gE)^T)_na
        #   S_bk = sum_a G^k_ab (v_a.g) = f sum_n w_n c_nk Q_nb (P (K^T * ...))_nb
        A = f * ((M.w[:, None] * P * (Q @ (K * gE[None, :]).T)).T @ M.c)      # d* x d
        S = f * ((M.w[:, None] * Q * (P @ (K * gV[:, None]))).T @ M.c)         # (d-d*) x d
        H = M.hessian()
        PN = E @ E.T
        J = PN @ H + V @ A + E @ S
        JE = lamE[:, None] * E.T + S
        return J, JE

    def q(self):
        """Gradient of lam_{d*+1}: q_k = e^T (d_k H) e, e = e_{d*+1}."""
        e = self.E[:, 0]
        return d3_contract(self.M, e, e)


def residual(X, t, Y, dstar):
    """r = P_N g (B x d) and the eigengap (B,) at each row of Y."""
    Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    r = np.empty_like(Y)
    gap = np.empty(Y.shape[0])
    for b in range(Y.shape[0]):
        F = Frame(X, t, Y[b], dstar)
        r[b], gap[b] = F.r, F.gap
    return r, gap


def ridge_check(X, t, dstar, beta, P):
    """The two ridge conditions at each row of P: returns (s_t^2 |P_N g|, lam_{d*+1} + beta,
    eigengap). A ridge point has the first ~ 0 and the second <= 0."""
    P = np.atleast_2d(np.asarray(P, dtype=np.float64))
    _, s2 = ou(t)
    s2r = np.empty(P.shape[0])
    curv = np.empty(P.shape[0])
    gap = np.empty(P.shape[0])
    for b in range(P.shape[0]):
        F = Frame(X, t, P[b], dstar)
        s2r[b] = s2 * np.linalg.norm(F.r)
        curv[b] = F.lam_n + beta
        gap[b] = F.gap
    return s2r, curv, gap


# ----------------------------------------------------------------------------------------
# Section 4: projection. SCMS, then a Riemannian Newton method on the constraint manifold
# ----------------------------------------------------------------------------------------
def scms(X, t, Y, dstar, tol=1e-9, maxit=3000, drop=DROP):
    """Subspace-constrained mean shift x <- x + P_N (a m - x), run per point until
    s2 |P_N g| <= tol * max(1, data scale) or maxit. Returns (points, iterations, s2|r|)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    _, s2 = ou(t)
    scale = max(1.0, float(np.max(np.abs(X))))
    out = Y.copy()
    its = np.zeros(Y.shape[0], dtype=int)
    res = np.empty(Y.shape[0])
    for b in range(Y.shape[0]):
        x = Y[b].copy()
        for it in range(maxit + 1):
            F = Frame(X, t, x, dstar, drop=drop)
            step = s2 * F.r                         # = P_N (a m - x)
            nr = float(np.linalg.norm(step))
            if nr <= tol * scale or it == maxit:
                break
            x = x + step
        out[b], its[b], res[b] = x, it, nr
    return out, its, res


def _retract(X, t, z, dstar, rtol_abs, drop, maxit=30):
    """Gauss-Newton projection onto {r_E = 0}: z <- z - JE^T (JE JE^T)^-1 r_E (minimum-norm
    steps). Returns (z, ok)."""
    _, s2 = ou(t)
    for _ in range(maxit):
        F = Frame(X, t, z, dstar, drop=drop)
        if s2 * np.linalg.norm(F.gE) <= rtol_abs:
            return z, True
        _, JE = F.jacobians()
        try:
            step = JE.T @ np.linalg.solve(JE @ JE.T, F.gE)
        except np.linalg.LinAlgError:
            return z, False
        if not np.all(np.isfinite(step)):
            return z, False
        z = z - step
    F = Frame(X, t, z, dstar, drop=drop)
    return z, bool(s2 * np.linalg.norm(F.gE) <= rtol_abs)


def _try_retract(X, t, z, dstar, rtol_abs, drop):
    try:
        return _retract(X, t, z, dstar, rtol_abs, drop)
    except (FloatingPointError, np.linalg.LinAlgError):
        return z, False


def _newton(X, t, y, x, dstar, rtol_abs, ktol, maxit, drop):
    """Riemannian Newton iterations from a feasible x (see project). Returns
    (x, converged, iterations, kkt residual)."""
    a, s2 = ou(t)
    d = x.shape[0]
    h = 1e-6 * math.sqrt(s2) * max(1.0, float(np.max(np.abs(X))))
    kkt = float('inf')
    for it in range(maxit + 1):
        F = Frame(X, t, x, dstar, drop=drop)
        J, JE = F.jacobians()
        dist = float(np.linalg.norm(x - y))
        Qf, _ = np.linalg.qr(JE.T, mode='complete')        # d x d
        T = Qf[:, d - dstar:]                              # orthonormal basis of null(JE)
        G = T.T @ (x - y)                                  # Riemannian gradient of |x-y|^2/2
        kkt = float(np.linalg.norm(G))                     # = |(x-y) + JE^T lamhat|
        if kkt <= ktol * (1.0 + dist) and s2 * np.linalg.norm(F.r) <= rtol_abs:
            return x, True, it, kkt
        if it == maxit:
            break
        lamhat = np.linalg.lstsq(JE.T, -(x - y), rcond=None)[0]
        nu = F.E @ lamhat
        # Riemannian Hessian T^T (I + hess(nu^T r)) T, forward differences of J^T nu along T
        Jnu = J.T @ nu
        HT = np.empty((d, dstar))
        for j in range(dstar):
            Jp, _ = Frame(X, t, x + h * T[:, j], dstar, drop=drop).jacobians()
            HT[:, j] = T[:, j] + (Jp.T @ nu - Jnu) / h
        Hr = T.T @ HT
        Hr = 0.5 * (Hr + Hr.T)
        ev = np.linalg.eigvalsh(Hr)
        floor = 1e-6 * max(1.0, abs(ev[-1]))
        shift = floor - ev[0] if ev[0] <= floor else 0.0
        u = -np.linalg.solve(Hr + shift * np.eye(dstar), G)
        accepted = False
        for trial in range(25):
            xt, okt = _try_retract(X, t, x + T @ u, dstar, rtol_abs, drop)
            # accept a decrease of |x - y| (or no increase beyond rounding)
            if okt and np.linalg.norm(xt - y) <= dist + 1e-14 * (1.0 + dist):
                accepted = True
                break
            u = 0.5 * u if trial != 12 else -0.5 * G       # after 12 halvings: gradient step
        if not accepted:
            break
        x = xt
    return x, False, it, kkt


def project(X, t, y, dstar, beta=0.0, x0=None, rtol=1e-11, ktol=1e-9, maxit=60, drop=DROP,
            scms_tol=1e-9, scms_maxit=3000, min_s2gap=1e-10):
    """Nearest ridge point to y: min |x - y|^2 s.t. P_N(x) g(x) = 0, started from the SCMS point
    (or x0). Method (independent of the library's augmented-Lagrangian LM):

      * every iterate is feasible (s2 |r| <= rtol * scale), kept so by the retraction above;
      * at a feasible x, T = orthonormal basis of null(JE) (the tangent space of the constraint
        manifold), lamhat = least-squares multiplier of (x - y) + JE^T lamhat = 0;
        Riemannian gradient G = T^T (x - y) (its norm is the KKT residual);
      * Riemannian Hessian T^T (I + sum_i nu_i hess r_i) T with nu = E lamhat, from central
        differences of the analytic gradient J(x)^T nu along the columns of T;
      * Newton step u (regularised if the Hessian is not positive definite), x <- R(x + T u),
        halving u until |x - y| decreases; a plain tangent step when Newton fails.
    Stops when s2 |r| <= rtol * scale and |G| <= ktol (1 + |x - y|). Where the start has
    s2 gap < min_s2gap the frame is numerically undefined and the point is reported as not
    converged without trying.
    Returns (x, info) with info: distance, resid0 (|r(y)|), resid, iters, converged, curv_ok,
    gap, kkt, scms_distance, scms_point.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    a, s2 = ou(t)
    scale = max(1.0, float(np.max(np.abs(X))))
    rtol_abs = rtol * scale
    d = y.shape[0]
    info = {'resid0': float(np.linalg.norm(Frame(X, t, y, dstar).r))}
    if x0 is None:
        xs, _, _ = scms(X, t, y[None, :], dstar, tol=scms_tol, maxit=scms_maxit, drop=drop)
        x0 = xs[0]
    info['scms_point'] = x0.copy()
    info['scms_distance'] = float(np.linalg.norm(x0 - y))
    x = np.array(x0, dtype=np.float64)
    ok = s2 * Frame(X, t, x, dstar).gap >= min_s2gap
    converged, it, kkt = False, 0, float('inf')
    try:
        if ok:
            x, ok = _retract(X, t, x, dstar, rtol_abs, drop)
        if ok:
            x, converged, it, kkt = _newton(X, t, y, x, dstar, rtol_abs, ktol, maxit, drop)
    except (FloatingPointError, np.linalg.LinAlgError):
        converged = False
    F = Frame(X, t, x, dstar)
    info.update(distance=float(np.linalg.norm(x - y)), resid=float(np.linalg.norm(F.r)),
                iters=it, converged=bool(converged and ok), curv_ok=bool(F.lam_n <= -beta),
                gap=float(F.gap), kkt=kkt, lam_n=float(F.lam_n))
    return x, info


# ----------------------------------------------------------------------------------------
# Self-tests
# ----------------------------------------------------------------------------------------
def _selftest():
    rng = np.random.default_rng(1)
    fails = 0

    def check(name, ok, detail=""):
        nonlocal fails
        print(("ok   " if ok else "FAIL ") + name + (("  " + detail) if detail else ""))
        fails += (not ok)

    # schedule
    a, s2 = ou(1e-3)
    check("ou small t", abs(s2 - (1 - math.exp(-2e-3))) < 1e-15 and abs(a - math.exp(-1e-3)) < 1e-16)
    g = grid_geometric(10.0, 0.005, 1000)
    check("geometric grid table", abs(g[100] - 4.676) < 1e-3 and abs(g[500] - 0.224) < 1e-3)

    # score / Hessian / Jacobian against finite differences
    for (N, d, t) in [(40, 2, 0.05), (60, 5, 0.5), (200, 8, 0.2)]:
        X = rng.normal(size=(N, d)) * np.linspace(2.0, 0.5, d)
        a, s2 = ou(t)
        x = a * X[3] + 0.5 * math.sqrt(s2) * rng.normal(size=d)
        M = Moments(X, t, x)
        h = 1e-5
        gfd = np.array([(logp_only(X, t, x + h * e) - logp_only(X, t, x - h * e)) / (2 * h)
                        for e in np.eye(d)])
        err = np.max(np.abs(gfd - M.g)) / max(1, np.max(np.abs(M.g)))
        check(f"score vs FD of logp N={N} d={d} t={t}", err < 1e-7, f"err={err:.2e}")
        Hfd = np.array([(Moments(X, t, x + h * e).g - Moments(X, t, x - h * e).g) / (2 * h)
                        for e in np.eye(d)]).T
        H = M.hessian()
        err = np.max(np.abs(Hfd - H)) / np.max(np.abs(H))
        check(f"hessian vs FD of score N={N} d={d} t={t}", err < 1e-7, f"err={err:.2e}")
        # mean vs Tweedie, posterior mean of a brute-force weighted sum
        ll = np.array([-np.sum((x - a * xi) ** 2) / (2 * s2) for xi in X])
        ww = np.exp(ll - ll.max()); ww /= ww.sum()
        check(f"mean brute force d={d}", np.max(np.abs(ww @ X - M.m)) < 1e-12)
        # third derivative contraction
        u, v = rng.normal(size=d), rng.normal(size=d)
        d3 = d3_contract(M, u, v)
        d3fd = np.array([(u @ Moments(X, t, x + h * e).hessian() @ v
                          - u @ Moments(X, t, x - h * e).hessian() @ v) / (2 * h) for e in np.eye(d)])
        err = np.max(np.abs(d3 - d3fd)) / np.max(np.abs(d3))
        check(f"d3 contraction vs FD d={d}", err < 1e-6, f"err={err:.2e}")
        for dstar in sorted({1, d - 1, max(1, d // 2)}):
            F = Frame(X, t, x, dstar)
            J, JE = F.jacobians()
            Jfd = np.array([(Frame(X, t, x + h * e, dstar).r - Frame(X, t, x - h * e, dstar).r)
                            / (2 * h) for e in np.eye(d)]).T
            err = np.max(np.abs(J - Jfd)) / np.max(np.abs(J))
            check(f"jacobian vs FD d={d} dstar={dstar}", err < 1e-6, f"err={err:.2e}")
            err = np.max(np.abs(JE - F.E.T @ J)) / np.max(np.abs(JE))
            check(f"JE = E^T J d={d} dstar={dstar}", err < 1e-12, f"err={err:.2e}")
            q = F.q()
            e1 = np.eye(d)
            qfd = np.array([(Frame(X, t, x + h * e, dstar).lam_n - Frame(X, t, x - h * e, dstar).lam_n)
                            / (2 * h) for e in e1])
            err = np.max(np.abs(q - qfd)) / max(1e-12, np.max(np.abs(q)))
            check(f"grad lam_(d*+1) vs FD d={d} dstar={dstar}", err < 1e-5, f"err={err:.2e}")

    # two-point data: m = (3 tanh(3 a x1 / s2), 0); ridge = horizontal axis
    X = np.array([[-3.0, 0.0], [3.0, 0.0]])
    for t in [0.01, 0.1, 0.5, 2.0]:
        a, s2 = ou(t)
        y = np.array([0.05, 0.7])
        M = Moments(X, t, y)
        mref = np.array([3 * math.tanh(3 * a * y[0] / s2), 0.0])
        check(f"two-point mean t={t}", np.max(np.abs(M.m - mref)) < 1e-12)
        x, info = project(X, t, y, 1)
        ok = info['converged'] and abs(x[1]) < 1e-9 and abs(x[0] - 0.05) < 1e-7
        check(f"two-point projection t={t}", ok, f"x={x} dist={info['distance']:.12f}")

    # circle data: projection distance = | |y| - R_ridge |
    th = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    X = 2.0 * np.c_[np.cos(th), np.sin(th)]
    t = 0.1
    ys = np.array([[1.0, 1.0], [0.3, -1.2], [2.5, 0.4]])
    rads = []
    for y in ys:
        x, info = project(X, t, y, 1)
        rads.append(np.linalg.norm(x))
        ok = info['converged'] and abs(info['distance'] - abs(np.linalg.norm(y) - np.linalg.norm(x))) < 1e-8
        check(f"circle projection y={y}", ok, f"|x|={np.linalg.norm(x):.10f} dist={info['distance']:.10f} it={info['iters']}")
    check("circle: one ridge radius", np.ptp(rads) < 1e-6, f"radii={rads}")

    # a curved ridge in 3-D: Newton point no farther than SCMS, and locally optimal
    s = np.linspace(-2, 2, 150)
    X = np.c_[s, 0.4 * s ** 2, 0.1 * np.sin(3 * s)] + 0.02 * rng.normal(size=(150, 3))
    t = 0.05
    for y in [np.array([0.5, 0.9, 0.2]), np.array([-1.0, 0.0, -0.3])]:
        x, info = project(X, t, y, 1)
        better = info['distance'] <= info['scms_distance'] * (1 + 1e-12)
        # slide along the ridge and re-project: never closer
        F = Frame(X, t, x, 1)
        _, JE = F.jacobians()
        Qf, _ = np.linalg.qr(JE.T, mode='complete')
        T = Qf[:, 2:]
        worse = True
        for eps in [1e-3, -1e-3, 1e-2, -1e-2]:
            z, okz = _retract(X, t, x + eps * T[:, 0], 1, 1e-11 * 3, None)
            worse &= (not okz) or np.linalg.norm(z - y) >= info['distance'] * (1 - 1e-12)
        check(f"curve 3-D y={y}", info['converged'] and better and worse,
              f"dist={info['distance']:.8f} scms={info['scms_distance']:.8f} it={info['iters']}")
    print(f"ref_ridge selftest: {fails} failed")
    return fails


if __name__ == "__main__":
    import sys
    sys.exit(1 if _selftest() else 0)
