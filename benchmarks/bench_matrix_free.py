"""The matrix-free block generator: bandwidth, side-by-side speed, and issue 23's reach targets.

Three parts, each measured in this one run on this machine:

1. **Bandwidth.** One product ``y <- 2 (M - c) x / s + y`` of the matrix-free generator
   (solvers/matrix_free.py) against a STREAM-like triad ``a = b + s c`` on vectors of the same
   length, compiled and threaded the same way (Numba, 1 and 2 threads). A product must at
   least read ``x``, read ``y`` and write ``y``: 24 bytes per real entry, the triad's count,
   so ``achieved = 24 * dim / t_product`` and the fraction is ``achieved / triad``. The
   assembled (CSR) product is shown beside it where it fits (it also streams ~12 bytes per
   stored entry).
2. **End to end, side by side** (``solve``, t in [0, 2] x 201, rates 0.1, N_B = N, |0, N>,
   B = h = A = 1: issue 16's reach setting) with ``generator="csr"`` and ``"matrix-free"``,
   for the sizes where the assembled generator finished within 60 s before (N <= 70), and the
   open cavity charger on pibs's model (bench_pibs.py) at N = 80, resonant, t in [0, 10].
3. **Targets** (issue 23): the open cavity charger at N = 140 (gamma, gamma_phi, kappa > 0;
   pibs's model and rates, t in [0, 2] x 201; resonant and detuned) and local battery decay
   at N_B = N = 100 (rate 0.1, t in [0, 2] x 201), each in a fresh process: seconds, peak
   resident memory (VmHWM), Chebyshev products and the share of them spent in rejected
   segments. Target: within 4 GB.

    PYTHONPATH=. python benchmarks/bench_matrix_free.py            # everything (~15-25 min)
    PYTHONPATH=. python benchmarks/bench_matrix_free.py --quick    # small sizes, ~1 min
    PYTHONPATH=. python benchmarks/bench_matrix_free.py --parts targets
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

RATE = 0.1
TIMES = np.linspace(0.0, 2.0, 201)


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return float("nan")


def _spin_solver(kind: str, n: int):
    from qutip_centralspin import CentralSpinModel, decay, dephasing, pumping
    from qutip_centralspin.solvers.blocks import BlockSolver

    table = {
        "dephasing": [dephasing(RATE)],
        "decay": [decay(RATE)],
        "pumping": [pumping(RATE)],
        "charger-decay": [decay(RATE, target="charger")],
    }
    table["all"] = [
        p for k in ("dephasing", "decay", "pumping", "charger-decay") for p in table[k]
    ]
    return BlockSolver(CentralSpinModel(n, n), table[kind])


def _case(case: str, n: int):
    """``(solver, psi0, times)`` of a named case."""
    if case.startswith("cavity"):
        import bench_pibs

        wc = 1.0 if case == "cavity-resonant" else bench_pibs.WC
        return bench_pibs._solver(n, wc), (0, n)
    from qutip_centralspin import dicke_state

    solver = _spin_solver(case, n)
    return solver, dicke_state(solver.model, 0, n)


# -- 1. bandwidth ------------------------------------------------------------------------------
def bandwidth(cases, repeat: int) -> list[dict]:
    from qutip_centralspin.solvers import matrix_free

    rows = []
    for case, n in cases:
        solver, psi0 = _case(case, n)
        start = time.perf_counter()
        gen, _, _, _ = solver._prepare(psi0, {"generator": "matrix-free"})
        build = time.perf_counter() - start
        row = dict(case=case, n=n, dim=gen.dim, chiral=gen.chiral, build=build)
        x = np.random.default_rng(0).random(gen.dim)
        y = np.zeros(gen.dim)
        for threads in (1, 2):
            rec = gen.recurrence(threads)
            rec.step(x, y, 1.0)
            best = min(_timed(rec.step, x, y) for _ in range(repeat))
            triad = matrix_free.triad(gen.dim, repeat=repeat, num_cpus=threads)
            row[f"t{threads}"] = best
            row[f"bw{threads}"] = 24.0 * gen.dim / best
            row[f"triad{threads}"] = triad
        if gen.dim <= 3_000_000:  # the assembled product beside it (it fits)
            csr, _, _, _ = solver._prepare(psi0, {"generator": "csr"})
            x2, y2 = np.random.default_rng(0).random(csr.dim), np.zeros(csr.dim)
            rec = csr.recurrence(2)
            rec.step(x2, y2, 1.0)
            row["csr"] = min(_timed(rec.step, x2, y2) for _ in range(repeat))
            row["csr_dim"] = csr.dim
            row["csr_nnz"] = int(csr.nnz)
        rows.append(row)
        print(_bandwidth_line(row), flush=True)
    return rows


def _timed(step, x, y) -> float:
    start = time.perf_counter()
    step(x, y, 1.0)
    return time.perf_counter() - start


def _bandwidth_header() -> str:
    return (
        f"{'case':17s} {'N':>4s} {'dim':>10s} {'layout':>7s} {'build s':>7s} | "
        f"{'1 thread':>9s} {'GB/s':>5s} {'triad':>5s} {'frac':>5s} | "
        f"{'2 threads':>9s} {'GB/s':>5s} {'triad':>5s} {'frac':>5s} | {'CSR ms':>7s} {'x':>5s}\n"
        + "-"
        * 122
    )


def _bandwidth_line(r: dict) -> str:
    csr = (
        f"{1e3 * r['csr']:7.2f} {r['csr'] / r['t2']:5.2f}" if "csr" in r else f"{'-':>7s} {'':5s}"
    )
    return (
        f"{r['case']:17s} {r['n']:4d} {r['dim']:10d} {'chiral' if r['chiral'] else 'complex':>7s} "
        f"{r['build']:7.2f} | {1e3 * r['t1']:7.2f}ms {r['bw1'] / 1e9:5.2f} "
        f"{r['triad1'] / 1e9:5.2f} {r['bw1'] / r['triad1']:5.2f} | {1e3 * r['t2']:7.2f}ms "
        f"{r['bw2'] / 1e9:5.2f} {r['triad2'] / 1e9:5.2f} {r['bw2'] / r['triad2']:5.2f} | {csr}"
    )


# -- 2 and 3: end-to-end runs in fresh processes ---------------------------------------------
def _child(case: str, n: int, generator: str, tend: float) -> None:
    import qutip_centralspin.solvers.chebyshev as cheb

    counts = {"products": 0, "rejected": 0}
    step_csr = cheb.CsrRecurrence.step
    segment = cheb._chebyshev_segment

    def counted(self, *args, **kwargs):
        counts["products"] += 1
        return step_csr(self, *args, **kwargs)

    def watched(rec, gen, v, rel, F, **kwargs):
        before = counts["products"]
        out = segment(rec, gen, v, rel, F, **kwargs)
        if isinstance(out, cheb._Rejected):
            counts["rejected"] += counts["products"] - before
        return out

    from qutip_centralspin.solvers import matrix_free

    step_free = matrix_free._MatrixFreeRecurrence.step

    def counted_free(self, *args, **kwargs):
        counts["products"] += 1
        return step_free(self, *args, **kwargs)

    cheb.CsrRecurrence.step = counted
    matrix_free._MatrixFreeRecurrence.step = counted_free
    cheb._chebyshev_segment = watched
    times = np.linspace(0.0, tend, 201)
    start = time.perf_counter()
    solver, psi0 = _case(case, n)
    res = solver.solve(psi0, times, options={"generator": generator, "max_memory": "64G"})
    seconds = time.perf_counter() - start
    gen = next(iter(solver._generators.values()))
    i = int(np.argmax(res.delta_energy))
    print(
        json.dumps(
            dict(
                seconds=seconds,
                rss_mb=_peak_rss_mb(),
                dim=int(gen.dim),
                terms=float(gen.scale * times[-1]),
                products=counts["products"],
                rejected=counts["rejected"],
                e_max=float(res.delta_energy[i]),
                t_max=float(times[i]),
                generator=res.stats["generator"],
            )
        )
    )


def _run(case: str, n: int, generator: str, tend: float, budget: float) -> dict:
    cmd = [sys.executable, __file__, "--child", case, str(n), generator, str(tend)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=budget, check=False)
    except subprocess.TimeoutExpired:
        return {"stopped": f"over {budget:.0f} s"}
    if out.returncode != 0:
        return {"stopped": out.stderr.strip().splitlines()[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_line(case, n, tend, gen, r) -> str:
    if "stopped" in r:
        return f"{case:17s} {n:4d} {tend:5.1f} {gen:12s} stopped: {r['stopped']}"
    share = r["rejected"] / max(r["products"], 1)
    return (
        f"{case:17s} {n:4d} {tend:5.1f} {gen:12s} {r['dim']:10d} {r['terms']:7.0f} "
        f"{r['products']:8d} {share:8.0%} {r['seconds']:8.2f} {r['rss_mb']:8.0f} "
        f"{r['e_max']:10.6f}"
    )


def _run_header() -> str:
    return (
        f"{'case':17s} {'N':>4s} {'t_end':>5s} {'generator':12s} {'dim':>10s} {'terms':>7s} "
        f"{'products':>8s} {'rejected':>8s} {'seconds':>8s} {'peak MB':>8s} {'max dE_B':>10s}\n"
        + "-"
        * 112
    )


def side_by_side(cases, budget: float) -> None:
    print(_run_header())
    for case, n, tend in cases:
        runs = {g: _run(case, n, g, tend, budget) for g in ("csr", "matrix-free")}
        for g, r in runs.items():
            print(_run_line(case, n, tend, g, r), flush=True)
        a, b = runs["csr"], runs["matrix-free"]
        if "stopped" not in a and "stopped" not in b:
            print(
                f"{'':17s} matrix-free / csr: time {b['seconds'] / a['seconds']:.2f}x, "
                f"memory {b['rss_mb'] / a['rss_mb']:.2f}x, |max dE_B difference| "
                f"{abs(a['e_max'] - b['e_max']):.1e}",
                flush=True,
            )


def targets(cases, budget: float) -> None:
    print(_run_header())
    for case, n, tend in cases:
        r = _run(case, n, "matrix-free", tend, budget)
        line = _run_line(case, n, tend, "matrix-free", r)
        if "stopped" not in r:
            line += "   4 GB: " + ("met" if r["rss_mb"] <= 4096 else "MISSED")
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (~1 min)")
    parser.add_argument("--parts", nargs="+", default=["bandwidth", "side", "targets"])
    parser.add_argument("--budget", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, n, generator, tend = args.child
        _child(case, int(n), generator, float(tend))
        return
    import numba
    import qutip

    print(
        f"python {sys.version.split()[0]}, qutip {qutip.__version__}, numpy {np.__version__}, "
        f"numba {numba.__version__}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    if "bandwidth" in args.parts:
        cases = [("decay", 30), ("cavity-resonant", 40)]
        if not args.quick:
            cases = [
                ("decay", 50),
                ("decay", 70),
                ("decay", 100),
                ("all", 30),
                ("cavity-resonant", 80),
                ("cavity-detuned", 80),
                ("cavity-resonant", 140),
                ("cavity-detuned", 140),
            ]
        print("\n1. one product against the triad (24 bytes per real entry)")
        print(_bandwidth_header())
        bandwidth(cases, args.repeat)
    if "side" in args.parts:
        cases = [("dephasing", 20, 2.0), ("decay", 20, 2.0), ("all", 10, 2.0)]
        if not args.quick:
            cases = [
                ("dephasing", 70, 2.0),
                ("decay", 50, 2.0),
                ("pumping", 50, 2.0),
                ("charger-decay", 50, 2.0),
                ("all", 30, 2.0),
                ("cavity-resonant", 80, 10.0),
                ("cavity-detuned", 80, 10.0),
            ]
        print("\n2. end to end, assembled (csr) and matrix-free side by side")
        side_by_side(cases, args.budget)
    if "targets" in args.parts:
        cases = [("cavity-resonant", 40, 2.0), ("decay", 30, 2.0)]
        if not args.quick:
            cases = [
                ("cavity-resonant", 140, 2.0),
                ("cavity-detuned", 140, 2.0),
                ("decay", 100, 2.0),
            ]
        print("\n3. issue 23's targets, matrix-free, each in a fresh process")
        targets(cases, args.budget)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
