"""Issue 16: does an interaction picture (or a splitting) decouple the work from H's spread?

Measures, on the block solver's own packed generator (the exact permutation-invariant
representation of :mod:`qutip_centralspin.solvers.blocks`, N_B = N = n, rates 0.1, t = 2,
initial |0, N>), the number of generator applications needed to reach a fixed trace-norm error
of rho(2) while the Hamiltonian is scaled by f = 1, 2, 4, 8, 16 (A, B, h, Delta together; the
dissipator fixed), for

(a) Chebyshev (Jacobi-Anger) series of the full generator with the package's numerical-range
    bounds: fewest terms reaching the target (and the package's own stopping rule);
(b) DOP853 on the full generator (Schroedinger picture, for comparison) and in the interaction
    picture of H (exact per-block unitary from an eigendecomposition; each RHS = one
    application of the dissipator D and two block-diagonal basis changes); tolerance scanned
    down until the target is met;
(c) splitting: exact unitary flow of H and exact exp(tau D), Strang (1 D-flow per step),
    Yoshida's triple jump (3) and Blanes-Moan's 6-stage order-4 scheme (6); the fewest steps
    reaching the target; each D-flow counted as the Taylor terms it needs to the per-flow
    tolerance target / (number of flows);
(d) ``scipy.sparse.linalg.expm_multiply`` (every matvec of a LinearOperator counted; its
    built-in tolerance is double precision, tighter than the target).

Reference: ``scipy.linalg.expm`` of the dense packed generator. Error: trace norm of the
difference of the density matrices, sum over the blocks of ||dX_jlK||_1 (exact for the
j-resolved Dicke representation). Work is counted in operator applications, not seconds.

Cases: local battery dephasing, local battery decay, and a control that commutes: an Ising
coupling (A = 0, Delta = 1) with local battery dephasing, from (|0, N> + |1, N-1>)/sqrt(2)
(coherences rotate at Bohr frequencies growing with f, but [H, sigma^z_i] = 0, so the
dissipator commutes with the Hamiltonian superoperator).

    python benchmarks/ip_experiment.py            # N_B = N = 6, about 2.5 min on one core
    python benchmarks/ip_experiment.py --n 8 --cases dephasing
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.integrate import solve_ivp
from scipy.sparse.linalg import LinearOperator, expm_multiply
from scipy.special import jv
from threadpoolctl import threadpool_limits

from qutip_centralspin import CentralSpinModel, dicke_state
from qutip_centralspin.models.processes import decay, dephasing
from qutip_centralspin.solvers.blocks import BlockSolver
from qutip_centralspin.solvers.chebyshev import bessel_table

T = 2.0
RATE = 0.1
TARGET = 1e-8
FACTORS = (1, 2, 4, 8, 16)

# --- splitting schemes: lists of (coefficient of H-flow, coefficient of D-flow) stages -------
_W1 = 1.0 / (2.0 - 2.0 ** (1.0 / 3.0))
_W0 = 1.0 - 2.0 * _W1
_BM_A = [0.0792036964311957, 0.353172906049774, -0.0420650803577195]
_BM_A.append(1.0 - 2.0 * sum(_BM_A))
_BM_B = [0.209515106613362, -0.143851773179818]
_BM_B.append(0.5 - sum(_BM_B))


def _strang_stages(w=1.0):
    return [(0.5 * w, 0.0), (0.0, w), (0.5 * w, 0.0)]


SCHEMES = {
    # H/2, D, H/2 (the H flows are exact and free)
    "Strang": _strang_stages(),
    "Yoshida4": _strang_stages(_W1) + _strang_stages(_W0) + _strang_stages(_W1),
    # Blanes & Moan, J. Comput. Appl. Math. 142, 313 (2002), order 4, 6 D-stages (S6)
    "BM4": [
        (_BM_A[0], 0.0),
        (0.0, _BM_B[0]),
        (_BM_A[1], 0.0),
        (0.0, _BM_B[1]),
        (_BM_A[2], 0.0),
        (0.0, _BM_B[2]),
        (_BM_A[3], 0.0),
        (0.0, _BM_B[2]),
        (_BM_A[2], 0.0),
        (0.0, _BM_B[1]),
        (_BM_A[1], 0.0),
        (0.0, _BM_B[0]),
        (_BM_A[0], 0.0),
    ],
}


# --- the packed representation ------------------------------------------------------------
class Problem:
    """Packed generator M = f*Hs + D of one case at spread factor f, and its pieces."""

    def __init__(self, n: int, case: str):
        self.case = case
        if case == "control":
            base = CentralSpinModel(n_battery=n, n_charger=n, A=0.0, delta=1.0)
            procs = dephasing(RATE)
            psi0 = (dicke_state(base, 0, n) + dicke_state(base, 1, n - 1)).unit()
        else:
            base = CentralSpinModel(n_battery=n, n_charger=n)
            procs = {"dephasing": dephasing, "decay": decay}[case](RATE)
            psi0 = dicke_state(base, 0, n)
        self.base, self.procs = base, procs
        solver = BlockSolver(base, procs)
        rho0, self.sectors = solver._initial_blocks(psi0)
        gen = solver.generator(self.sectors)
        self.S = S = gen.space
        self.v0 = solver._initial_vector(S, rho0)
        M1 = self._matrix(gen)
        zero = base.replace(A=0.0, B=0.0, h=0.0, delta=0.0)
        self.D = self._matrix(BlockSolver(zero, procs).generator(self.sectors))
        self.H = (M1 - self.D).tocsr()  # the commutator part at f = 1
        self.H.data[np.abs(self.H.data) < 1e-13 * abs(self.H).max()] = 0.0
        self.H.eliminate_zeros()
        self.dim = S.size
        # physical (Hilbert-Schmidt) weight of each packed entry: 1/(d_j d_l) x (1 diagonal,
        # 2 off-diagonal: Re X_ab and Im X_ab stand for two entries)
        w2 = gen.weights**2 * 2.0
        for i in range(S.d.size):
            d, o = int(S.d[i]), int(S.offset[i])
            a = np.arange(d)
            w2[o + a * d - a * (a - 1) // 2] *= 0.5
        self.wh = np.sqrt(w2)
        self._eigen()

    def _matrix(self, gen):
        Y2 = gen.Y2.astype(float)
        return (0.5 * gen.scale * Y2 + gen.c * sp.identity(Y2.shape[0])).tocsr()

    def scaled_generator(self, f: float):
        """The package's generator (with its bounds) of the model with H scaled by f."""
        m = self.base
        model = m.replace(A=f * m.A, B=f * m.B, h=f * m.h, delta=f * m.delta)
        return BlockSolver(model, self.procs).generator(self.sectors)

    def _eigen(self):
        """Per-block eigendecomposition of H (skew-adjoint in the physical inner product)."""
        Wh, Wi = sp.diags(self.wh), sp.diags(1.0 / self.wh)
        K = (Wh @ self.H @ Wi).toarray()
        assert np.abs(K + K.T).max() < 1e-10 * max(1.0, np.abs(K).max()), "H not skew"
        Q = np.zeros((self.dim, self.dim), dtype=complex)
        lam = np.zeros(self.dim)
        for i in range(self.S.d.size):
            o, n2 = int(self.S.offset[i]), int(self.S.d[i]) ** 2
            sl = slice(o, o + n2)
            outside = np.abs(K[sl, :]).sum() - np.abs(K[sl, sl]).sum()
            assert outside < 1e-12, "H couples blocks"
            lam[sl], Q[sl, sl] = np.linalg.eigh(1j * K[sl, sl])  # K = -i Q lam Q^H
        self.lam, self.Q = lam, Q
        self.to_z = Q.conj().T * self.wh[None, :]  # z = Q^H Wh y   (block-diagonal)
        self.from_z = Q / self.wh[:, None]  # y = Wh^-1 Q z
        Dw = (sp.diags(self.wh) @ self.D @ sp.diags(1.0 / self.wh)).toarray()
        self.norm_D = float(np.linalg.norm(Dw, 2))
        Kw = K
        self.comm = float(np.linalg.norm(Kw @ Dw - Dw @ Kw, 2))

    def trace_error(self, v, ref) -> float:
        """Trace norm of rho(v) - rho(ref): sum over blocks of ||dX||_1."""
        dv = np.real_if_close(v) - ref
        if np.iscomplexobj(dv):
            dv = dv.real
        total = 0.0
        for i in range(self.S.d.size):
            d, o = int(self.S.d[i]), int(self.S.offset[i])
            nu = d * (d + 1) // 2
            up, up1 = np.triu_indices(d), np.triu_indices(d, 1)
            R = np.zeros((d, d))
            R[up] = dv[o : o + nu]
            R = R + R.T - np.diag(np.diag(R))
            Im = np.zeros((d, d))
            Im[up1] = dv[o + nu : o + d * d]
            Im = Im - Im.T
            total += np.abs(np.linalg.eigvalsh(R + 1j * Im)).sum()
        return float(total)


# --- (a) Chebyshev ------------------------------------------------------------------------
def chebyshev(prob: Problem, f: float, ref) -> dict:
    gen = prob.scaled_generator(f)
    assert not gen.modified
    Y2 = gen.Y2.astype(float).tocsr()
    x = gen.scale * T
    kmax = int(x + 30 * np.cbrt(x) + 60)
    J = jv(np.arange(kmax + 1), x)
    pre = math.exp(gen.c * T)
    prev, cur = prob.v0.copy(), 0.5 * (Y2 @ prob.v0)
    acc = J[0] * prev + 2 * J[1] * cur
    best = None
    for k in range(2, kmax + 1):
        prev, cur = cur, Y2 @ cur + prev
        acc += 2 * J[k] * cur
        if k >= 0.8 * x and prob.trace_error(pre * acc, ref) <= TARGET:
            best = k
            break
    package_terms = bessel_table(x).shape[0] - 1
    return {"cheb": best, "cheb_pkg": package_terms, "omega": gen.omega}


# --- (b) DOP853, Schroedinger and interaction picture -------------------------------------
def _scan(run, ref_err):
    """Loosest tolerance (steps of 10^0.25 from 1e-4) that meets the target: its nfev."""
    for e in np.arange(4.0, 14.01, 0.25):
        tol = 10.0**-e
        y, nfev = run(tol)
        if ref_err(y) <= TARGET:
            return nfev
    return None


def rk_full(prob: Problem, f: float, ref) -> int:
    M = (f * prob.H + prob.D).tocsr()

    def run(tol):
        sol = solve_ivp(lambda t, y: M @ y, (0, T), prob.v0, method="DOP853", rtol=tol, atol=tol)
        return sol.y[:, -1], sol.nfev

    return _scan(run, lambda y: prob.trace_error(y, ref))


def rk_interaction(prob: Problem, f: float, ref) -> int:
    lam = f * prob.lam
    D, to_z, from_z = prob.D, prob.to_z, prob.from_z

    def rhs(t, zt):  # z~' = e^{i lam t} Z D Z^-1 e^{-i lam t} z~
        y = from_z @ (np.exp(-1j * lam * t) * zt)  # basis change back
        dy = D @ y.real + 1j * (D @ y.imag)  # one application of the dissipator
        return np.exp(1j * lam * t) * (to_z @ dy)  # basis change

    z0 = (to_z @ prob.v0).astype(complex)

    def run(tol):
        sol = solve_ivp(rhs, (0, T), z0, method="DOP853", rtol=tol, atol=tol)
        y = from_z @ (np.exp(-1j * lam * T) * sol.y[:, -1])
        return y, sol.nfev

    return _scan(run, lambda y: prob.trace_error(y, ref))


# --- (c) splitting ------------------------------------------------------------------------
def taylor_terms(x: float, eps: float) -> int:
    """Fewest Taylor terms m with remainder bound x^(m+1)/(m+1)! e^x <= eps."""
    m, term = 0, x
    while term * math.exp(x) > eps:
        m += 1
        term *= x / (m + 1)
    return max(m, 1)


def splitting(prob: Problem, f: float, ref, stages) -> dict:
    lam = f * prob.lam
    Dd = prob.D.toarray()
    v0z = prob.to_z @ prob.v0
    n_dflows = sum(1 for a, b in stages if b != 0.0)

    def step_matrix(tau):
        P = np.eye(prob.dim, dtype=complex)
        for a, b in stages:
            if a:
                P = np.exp(-1j * lam * a * tau)[:, None] * P
            if b:
                E = prob.to_z @ sla.expm(b * tau * Dd) @ prob.from_z
                P = E @ P
        return P

    def err(n):
        z = np.linalg.matrix_power(step_matrix(T / n), n) @ v0z
        return prob.trace_error(prob.from_z @ z, ref)

    n = 1
    while err(n) > TARGET:
        n *= 2
        if n > 2**30:
            return {"steps": None, "products": None}
    lo, hi = n // 2, n
    if n == 1:
        lo = 0
    while hi - lo > max(1, hi // 200):  # to 0.5 %
        mid = (lo + hi) // 2
        if err(mid) <= TARGET:
            hi = mid
        else:
            lo = mid
    flows = hi * n_dflows
    tau_max = max(abs(b) for a, b in stages) * T / hi
    m = taylor_terms(tau_max * prob.norm_D, TARGET / flows)
    return {"steps": hi, "products": flows * m}


# --- (e) Magnus-Filon: first Magnus term of the interaction picture, integrated exactly ----
def magnus_filon(prob: Problem, f: float, ref) -> dict:
    """z~_{n+1} = exp(int_{t_n}^{t_n+tau} D~(s) ds) z~_n with the oscillatory integrals exact.

    The averaged generator is D in the eigenbasis of H weighted entrywise by
    int e^{i(l_a - l_b)s} ds: a dense operator (its products cost dim^2, not nnz(D)).
    Since Omega_n = P_n Omega_0 P_n^-1 (P_n = e^{i lam t_n}), the N steps are
    P_{N-1} (E_0 R)^{N-1} E_0 with R = e^{-i lam tau}: a matrix power.
    """
    lam = f * prob.lam
    Dz = prob.to_z @ prob.D.toarray() @ prob.from_z
    v0z = prob.to_z @ prob.v0
    gap = lam[:, None] - lam[None, :]

    def err(n):
        tau = T / n
        th = gap * tau
        Om = Dz * (tau * np.exp(0.5j * th) * np.sinc(th / (2 * np.pi)))
        E0 = sla.expm(Om)
        R = np.exp(-1j * lam * tau)
        z = np.linalg.matrix_power(E0 * R[None, :], n - 1) @ (E0 @ v0z)
        z = np.exp(1j * lam * (n - 1) * tau) * z  # z~(T)
        z = np.exp(-1j * lam * T) * z  # back from the interaction picture
        return prob.trace_error(prob.from_z @ z, ref)

    n = 1
    while err(n) > TARGET:
        n *= 2
        if n > 2**24:
            return {"steps": None, "products": None}
    lo, hi = (n // 2, n) if n > 1 else (0, 1)
    while hi - lo > max(1, hi // 200):
        mid = (lo + hi) // 2
        if err(mid) <= TARGET:
            hi = mid
        else:
            lo = mid
    m = taylor_terms(T / hi * prob.norm_D, TARGET / hi)
    return {"steps": hi, "products": hi * m}


# --- (d) expm_multiply --------------------------------------------------------------------
def krylov(prob: Problem, f: float, ref) -> tuple[int, float]:
    M = (T * (f * prob.H + prob.D)).tocsr()
    count = [0]

    def mv(x):
        count[0] += 1 if x.ndim == 1 else x.shape[1]
        return M @ x

    def rmv(x):
        count[0] += 1 if x.ndim == 1 else x.shape[1]
        return M.T @ x

    op = LinearOperator(M.shape, matvec=mv, rmatvec=rmv, matmat=mv, rmatmat=rmv, dtype=float)
    np.random.seed(0)  # noqa: NPY002 (its 1-norm estimates use the legacy global RNG)
    y = expm_multiply(op, prob.v0, traceA=float(M.diagonal().sum()))
    return count[0], prob.trace_error(y, ref)


def slope(factors, work):
    ok = [(f, w) for f, w in zip(factors, work, strict=True) if w]
    if len(ok) < 2:
        return float("nan")
    x, y = np.log([f for f, _ in ok]), np.log([w for _, w in ok])
    return float(np.polyfit(x, y, 1)[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=6, help="N_B = N (default 6)")
    p.add_argument("--cases", nargs="+", default=["dephasing", "decay", "control"])
    p.add_argument("--factors", nargs="+", type=float, default=list(FACTORS))
    args = p.parse_args(argv)
    with threadpool_limits(1):  # small dense products: BLAS threads only add overhead
        _run(args)


def _run(args):
    cols = [
        ("cheb", "Cheb"),
        ("cheb_pkg", "Cheb pkg rule"),
        ("rk", "DOP853"),
        ("ip", "IP+DOP853"),
        ("Strang", "Strang"),
        ("Yoshida4", "Yoshida4"),
        ("BM4", "BM4"),
        ("krylov", "expm_multiply"),
        ("magnus", "Magnus-Filon (dense)"),
    ]
    for case in args.cases:
        t0 = time.perf_counter()
        prob = Problem(args.n, case)
        print(
            f"\n## {case}: N_B = N = {args.n}, packed dim {prob.dim}, rate {RATE}, t = {T}, "
            f"target {TARGET:g} (trace norm)"
        )
        print(
            f"||D|| = {prob.norm_D:.3g}, ||[H, D]|| = {prob.comm:.3g} at f = 1 "
            "(physical 2-norm of the superoperators)"
        )
        rows = []
        for f in args.factors:
            M = (f * prob.H + prob.D).toarray()
            ref = sla.expm(T * M) @ prob.v0
            row = {"f": f}
            row.update(chebyshev(prob, f, ref))
            row["rk"] = rk_full(prob, f, ref)
            row["ip"] = rk_interaction(prob, f, ref)
            for name, stages in SCHEMES.items():
                sres = splitting(prob, f, ref, stages)
                row[name], row[name + "_steps"] = sres["products"], sres["steps"]
            row["krylov"], row["krylov_err"] = krylov(prob, f, ref)
            mres = magnus_filon(prob, f, ref)
            row["magnus"], row["magnus_steps"] = mres["products"], mres["steps"]
            rows.append(row)
            print(
                f"  f = {f:g}: omega = {row['omega']:.1f}, "
                + ", ".join(f"{lab} {row[key]}" for key, lab in cols)
                + ", steps "
                + "/".join(str(row[s + "_steps"]) for s in SCHEMES)
                + f", expm_multiply err {row['krylov_err']:.1e}"
                + f", Magnus-Filon steps {row['magnus_steps']}",
                flush=True,
            )
        print("\n| f | Bohr half-width | " + " | ".join(lab for _, lab in cols) + " |")
        print("|---" * (len(cols) + 2) + "|")
        for r in rows:
            print(
                f"| {r['f']:g} | {r['omega']:.0f} | "
                + " | ".join(str(r[k]) for k, _ in cols)
                + " |"
            )
        print(
            "| slope | | "
            + " | ".join(f"{slope(args.factors, [r[k] for r in rows]):.2f}" for k, _ in cols)
            + " |"
        )
        tail = [f for f in args.factors if f >= 4]
        print(
            "| slope, f >= 4 | | "
            + " | ".join(
                f"{slope(tail, [r[k] for r in rows if r['f'] >= 4]):.2f}" for k, _ in cols
            )
            + " |"
        )
        print(
            "| steps (Strang, Yoshida4, BM4; Magnus-Filon) | | | | | | "
            + " | ".join("/".join(str(r[s + "_steps"]) for r in rows) for s in SCHEMES)
            + " | | "
            + "/".join(str(r["magnus_steps"]) for r in rows)
            + " |"
        )
        print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
