"""Where the pibs deviation of bench_pibs.py comes from: three routes on pibs's model.

bench_pibs.py measured a deviation between pibs and our open cavity charger that grows with N
(5.3e-6, 2.0e-4, 1.9e-3 at N = 10, 20, 30 on t = 0, 0.2, ..., 200). This script decides which
side is off, on the same model, state and time window:

* pibs (``time_evolve_block_interp``, zvode BDF) at several output steps dt and tolerances,
  its Liouvillian built once per N. pibs integrates block nu with the block nu + 1 above it
  replaced by a cubic spline through its values *on the output grid*, so dt is a
  discretisation parameter of pibs's answer, not only of its output;
* ours (``CavityBlockSolver``, Chebyshev; no step size), at its default and at a tighter
  setting (Chebyshev tail 1e-20 instead of 1e-17, segments split at a recurrence growth of 10
  instead of 1e4);
* a third, independent route: ``qutip.piqs.Dicke(N, emission=gamma, dephasing=4 gamma_phi)``
  (the spins' Liouvillian in the Dicke basis; PIQS's J_z,i = sigma^z_i / 2 makes its dephasing
  coefficient four times ours) ``super_tensor``-ed with the identity on the mode, plus
  ``kappa D[a]`` on the mode and -i[H, .] for H = wc a^dag a + w0 J_z + g (a^dag J_- + a J_+),
  photon levels 0..N (exact for N photons and spins down: excitations only decrease), solved
  by ``qutip.mesolve`` at atol = rtol = 1e-10 (``--piqs-tol``). Feasible at N = 10 (Liouvillian
  of dimension (36 * 11)^2 = 156816); N = 20 would need (121 * 21)^2 = 6.5e6.

Every deviation is the largest |difference| of <a^dag a> and <S^z> = sum_k <sigma^z_k> / 2
(Delta E_B = w0 (<S^z>(t) - <S^z>(0))) over the common grid t = 0, 0.2, ..., tend.

    python benchmarks/pibs_deviation.py --sizes 10 20          # pibs: minutes at N = 20
    python benchmarks/pibs_deviation.py --sizes 10 --piqs      # with the third route
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

W0, WC, OMEGA = 1.0, 0.65, 0.4
KAPPA, GAMMA, GAMMA_PHI = 1e-2, 1e-3, 3e-2
TEND, COARSE = 200.0, 0.2
#: (dt, atol, rtol, scale_rho) pibs runs: the old setting atol = rtol = 1e-12 on two dt; the
#: absolute tolerance below pibs's entries (atol = 1e-20); its initial state scaled up instead
#: (``Rho(..., scale_rho=1e12)``; pibs divides its expectation values back by scale_rho)
PIBS_RUNS = (
    (0.2, 1e-12, 1e-12, 1.0),
    (0.05, 1e-12, 1e-12, 1.0),
    (0.2, 1e-20, 1e-12, 1.0),
    (0.05, 1e-20, 1e-12, 1.0),
    (0.2, 1e-12, 1e-12, 1e12),
    (0.05, 1e-12, 1e-12, 1e12),
)
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _grid(tend: float, dt: float) -> np.ndarray:
    n = round(tend / dt) + 1
    return np.cumsum(np.concatenate([[0.0], np.full(n - 1, dt)]))


# ------------------------------------------------------------------------------------------
# pibs (a separate process: GPL-3.0, and its import fixes multiprocessing's start method)
# ------------------------------------------------------------------------------------------
def _child_pibs(n: int, tend: float, runs: list, outdir: str) -> None:
    from pibs import Indices, Models, Rho, TimeEvolve, basis, create, destroy, qeye, sigmaz, tensor

    start = time.perf_counter()
    path = tempfile.mkdtemp() + "/"
    nphot = n + 1
    ind = Indices(n, nphot, verbose=False, debug=True, save=False, index_path=path)
    model = Models(
        WC, W0, OMEGA / np.sqrt(n), KAPPA, GAMMA_PHI, GAMMA, ind, parallel=1, num_cpus=1,
        progress=False, debug=True, save=False, liouv_path=path, verbose=False,
    )  # fmt: skip
    model.setup_L_Tavis_Cummings()
    print(json.dumps({"build": time.perf_counter() - start}), flush=True)
    ops = [create(nphot) @ destroy(nphot), tensor(qeye(nphot), sigmaz())]
    states = {}
    for dt, atol, rtol, scale in runs:
        if scale not in states:  # spins down (pibs: 1 = down), N photons, times scale_rho
            states[scale] = Rho(
                basis(nphot, n), basis(2, 1), ind, max_nrs=1, scale_rho=scale, verbose=False
            )
        t0 = time.perf_counter()
        evolve = TimeEvolve(states[scale], model, tend, dt, atol=atol, rtol=rtol, nsteps=1_000_000)
        evolve.time_evolve_block_interp(ops, verbose=False)
        seconds = time.perf_counter() - t0
        # pibs's expect_comp_block already divides by rho.scale_rho: nothing to undo here.
        # The size of the entries pibs stores (unscaled), against the absolute tolerance:
        final = np.abs(np.concatenate([r[:, 1] for r in evolve.result.rho])) / scale
        entries = {"max": float(final.max()), "median": float(np.median(final[final > 0]))}
        np.savez(
            os.path.join(outdir, _pibs_file(n, dt, atol, rtol, scale)),
            t=evolve.result.t,
            n=evolve.result.expect[0].real,
            sz=evolve.result.expect[1].real * n / 2,
            s=seconds,
        )
        event = {"run": [dt, atol, rtol, scale], "s": seconds, "entries": entries}
        print(json.dumps(event), flush=True)


def run_pibs(n: int, tend: float, runs, outdir: str) -> None:
    args = [sys.executable, os.path.abspath(__file__), "--child", str(n), str(tend), outdir]
    args += [",".join(f"{x:g}" for x in run) for run in runs]
    env = dict(os.environ, **ONE_THREAD)
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
        for line in proc.stdout:
            event = json.loads(line)
            if "build" in event:
                print(f"  pibs N = {n}: Liouvillian built in {event['build']:.1f} s", flush=True)
            else:
                print(
                    f"  pibs N = {n}, {_label(*event['run'])}: {event['s']:.1f} s; its entries at "
                    f"t = {tend:g}: largest |rho| {event['entries']['max']:.1e}, median "
                    f"{event['entries']['median']:.1e}",
                    flush=True,
                )
        if proc.wait():
            raise RuntimeError(f"pibs N = {n} failed")


# ------------------------------------------------------------------------------------------
# ours and PIQS
# ------------------------------------------------------------------------------------------
def run_ours(n: int, times: np.ndarray, tight: bool = False) -> dict:
    """<a^dag a>(t), <S^z>(t) from the open cavity charger (``tight``: see the module notes)."""
    from qutip.piqs.piqs import jspin

    import qutip_centralspin.solvers.chebyshev as cheb
    from qutip_centralspin import decay, dephasing
    from qutip_centralspin.models.cavity import CavityModel
    from qutip_centralspin.solvers.cavity_blocks import CavityBlockSolver, cavity_loss

    saved = cheb.CHEBYSHEV_TAIL, cheb.MAX_RECURRENCE_GROWTH
    if tight:
        cheb.CHEBYSHEV_TAIL, cheb.MAX_RECURRENCE_GROWTH = 1e-20, 10.0
    try:
        start = time.perf_counter()
        model = CavityModel(n, omega=WC, g=OMEGA / np.sqrt(n), B=W0)
        solver = CavityBlockSolver(model, [cavity_loss(KAPPA), decay(GAMMA), dephasing(GAMMA_PHI)])
        opts = {"num_cpus": 1}
        res = solver.solve((0, n), times, e_ops={"Sz": jspin(n, "z")}, options=opts)
        weights = solver.sector_weights((0, n), times, options=opts)
    finally:
        cheb.CHEBYSHEV_TAIL, cheb.MAX_RECURRENCE_GROWTH = saved
    sz = np.real(np.asarray(res.e_data["Sz"]))
    photons = sum(k * w for k, w in weights.items()) - (n / 2 + sz)
    return {"n": photons, "sz": sz, "s": time.perf_counter() - start}


def run_piqs(n: int, times: np.ndarray, tol: float = 1e-10) -> dict:
    """The third route: PIQS's Dicke-basis Liouvillian (x) the mode, qutip.mesolve."""
    import qutip
    from qutip import piqs

    start = time.perf_counter()
    nds, levels, g = piqs.num_dicke_states(n), n + 1, OMEGA / np.sqrt(n)
    jz, jm = piqs.jspin(n, "z"), piqs.jspin(n, "-")
    ispin, imode = qutip.qeye(nds), qutip.qeye(levels)
    a = qutip.destroy(levels)
    H = (
        WC * qutip.tensor(ispin, a.dag() * a)
        + W0 * qutip.tensor(jz, imode)
        + g * (qutip.tensor(jm, a.dag()) + qutip.tensor(jm.dag(), a))
    )
    spins = piqs.Dicke(n, emission=GAMMA, dephasing=4 * GAMMA_PHI).liouvillian()
    L = (
        qutip.liouvillian(H)
        + qutip.super_tensor(spins, qutip.spre(imode))
        + qutip.super_tensor(qutip.spre(ispin), KAPPA * qutip.lindblad_dissipator(a))
    )
    rho0 = qutip.tensor(piqs.dicke(n, n / 2, -n / 2), qutip.fock_dm(levels, n))
    e_ops = [qutip.tensor(ispin, a.dag() * a), qutip.tensor(jz, imode)]
    opts = {"atol": tol, "rtol": tol, "nsteps": 10_000_000}
    res = qutip.mesolve(L, rho0, times, e_ops=e_ops, options=opts)
    photons, sz = (np.real(np.asarray(e)) for e in res.expect)
    return {"n": photons, "sz": sz, "s": time.perf_counter() - start}


def deviation(a: dict, b: dict, where=slice(None)) -> float:
    """Largest |difference| of <a^dag a> and <S^z> (on the grid points ``where``)."""
    return float(max(np.abs(a["n"] - b["n"])[where].max(), np.abs(a["sz"] - b["sz"])[where].max()))


def _pibs_file(n: int, dt: float, atol: float, rtol: float, scale: float) -> str:
    return f"pibs_{n}_{dt:g}_{atol:g}_{rtol:g}_{scale:g}.npz"


def _label(dt: float, atol: float, rtol: float, scale: float) -> str:
    return f"dt = {dt:g}, atol = {atol:g}, rtol = {rtol:g}, scale_rho = {scale:g}"


def parse_run(text: str) -> tuple:
    """``dt,atol[,rtol[,scale_rho]]`` (rtol defaults to atol, scale_rho to 1)."""
    values = [float(x) for x in text.split(",")]
    if not 2 <= len(values) <= 4:
        raise ValueError(f"a pibs run is dt,atol[,rtol[,scale_rho]], not {text!r}")
    dt, atol = values[:2]
    rtol = values[2] if len(values) > 2 else atol
    scale = values[3] if len(values) > 3 else 1.0
    return dt, atol, rtol, scale


def load_pibs(outdir: str, n: int, run: tuple, tend: float) -> dict:
    data = np.load(os.path.join(outdir, _pibs_file(n, *run)))
    every = round(COARSE / run[0])
    t = data["t"][::every]
    assert t.size == round(tend / COARSE) + 1 and np.allclose(t, _grid(tend, COARSE), atol=1e-9)
    return {"n": data["n"][::every], "sz": data["sz"][::every], "s": float(data["s"])}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 20])
    parser.add_argument("--tend", type=float, default=TEND)
    parser.add_argument("--piqs", action="store_true", help="the third route (N <= ~12)")
    parser.add_argument("--piqs-tol", type=float, default=1e-10)
    parser.add_argument("--no-pibs", action="store_true")
    parser.add_argument(
        "--runs",
        nargs="+",
        help="pibs runs as dt,atol[,rtol[,scale_rho]] (rtol = atol, scale_rho = 1 unless "
        "given; default: " + " ".join(",".join(f"{x:g}" for x in r) for r in PIBS_RUNS) + ")",
    )
    parser.add_argument("--outdir", help="keep pibs's curves here (default: a temporary dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse pibs's curves in --outdir")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        n, tend, outdir, *runs = args.child
        runs = [parse_run(r) for r in runs]
        _child_pibs(int(n), float(tend), runs, outdir)
        return
    runs = [parse_run(r) for r in args.runs] if args.runs else list(PIBS_RUNS)
    outdir = args.outdir or tempfile.mkdtemp(prefix="pibs_deviation_")
    os.makedirs(outdir, exist_ok=True)
    times = _grid(args.tend, COARSE)
    print(
        f"pibs's model, w0 = {W0}, wc = {WC}, g = {OMEGA}/sqrt(N), kappa = {KAPPA}, gamma = "
        f"{GAMMA}, gamma_phi = {GAMMA_PHI}; spins down, N photons; common grid t = 0, "
        f"{COARSE:g}, ..., {args.tend:g}; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    for n in args.sizes:
        ours = run_ours(n, times)
        tight = run_ours(n, times, tight=True)
        print(f"N = {n}: ours {ours['s']:.1f} s, ours (tight) {tight['s']:.1f} s", flush=True)
        print(f"  ours vs ours (tight): {deviation(ours, tight):.1e}", flush=True)
        ref = None
        if args.piqs:
            ref = run_piqs(n, times, args.piqs_tol)
            print(
                f"  PIQS (x) mode, mesolve atol = rtol = {args.piqs_tol:g}: {ref['s']:.1f} s; "
                f"vs ours {deviation(ref, ours):.1e}, vs ours (tight) {deviation(ref, tight):.1e}",
                flush=True,
            )
        if args.no_pibs:
            continue
        todo = [
            r for r in runs
            if not (args.reuse and os.path.exists(os.path.join(outdir, _pibs_file(n, *r))))
        ]  # fmt: skip
        if todo:
            run_pibs(n, args.tend, todo, outdir)
        windows = [(0.0, 1.0), (1.0, 10.0), (10.0, 50.0), (50.0, args.tend)]
        head = "  ".join(f"{f'[{a:g}, {b:g}]':>9s}" for a, b in windows)
        print(
            f"  {'dt':>6s} {'atol':>6s} {'rtol':>6s} {'scale':>6s} {'pibs s':>7s} | "
            f"{'pibs - ours':>11s} {'pibs - PIQS':>11s} | {head}"
        )
        for run in runs:
            dt, atol, rtol, scale = run
            p = load_pibs(outdir, n, run, args.tend)
            vs_ref = f"{deviation(p, ref):11.1e}" if ref is not None else f"{'':11s}"
            parts = "  ".join(
                f"{deviation(p, ours, (times >= a) & (times <= b)):9.1e}" for a, b in windows
            )
            print(
                f"  {dt:6g} {atol:6.0e} {rtol:6.0e} {scale:6.0e} {p['s']:7.1f} | "
                f"{deviation(p, ours):11.1e} {vs_ref} | {parts}"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
