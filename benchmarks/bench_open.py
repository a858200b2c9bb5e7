"""Open (decohering) charging: the block solver against PIQS (x) charger and brute force, and
its timings at the issue's sizes, measured side by side in one run.

Setting of issue 5: t in [0, 2] with 201 points, rate g = 0.1 (local battery dephasing
L_i = sqrt(g) sigma^z_i, or local battery decay L_i = sqrt(g) sigma^-_i), N_B = N, initial
state |m = 0, n = N> (n0 = N), B = h = A = 1, Delta = 0. Every block-solver time is end to end:
building the generator, propagating, computing Delta E_B and P_B.

Each large case runs in a fresh subprocess so its peak resident memory (``ru_maxrss``) is its
own (VmHWM); the resident memory of the imports alone is printed for reference, and the Python-level
peak of the run (``tracemalloc``) is measured in a second pass of the same subprocess.

    python benchmarks/bench_open.py           # the issue's sizes (PIQS at N = 12 takes ~40 s+)
    python benchmarks/bench_open.py --quick   # smaller sizes, about a minute
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

RATE = 0.1
TIMES = np.linspace(0.0, 2.0, 201)


def _nnz(gen) -> int:
    """Stored entries of an assembled generator; -1 for the matrix-free one (none stored)."""
    return int(gen.nnz) if hasattr(gen, "Y2") else -1


def _setup(kind: str, n: int):
    from qutip_centralspin import CentralSpinModel, decay, dephasing, dicke_state

    model = CentralSpinModel(n, n)
    proc = dephasing(RATE) if kind == "dephasing" else decay(RATE)
    return model, dicke_state(model, 0, n), proc


def _peak_rss_mb() -> float:
    """Peak resident memory of this process: VmHWM (Linux), else ru_maxrss.

    ``ru_maxrss`` of a child started by fork/exec can still hold the parent's peak on Linux;
    VmHWM belongs to the new address space only.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_case(kind: str, n: int) -> dict:
    """One block-solver run (called in a subprocess): time, size and memory."""
    from qutip_centralspin.solvers.blocks import BlockSolver

    model, psi0, proc = _setup(kind, n)
    base_rss = _peak_rss_mb()
    start = time.perf_counter()
    solver = BlockSolver(model, proc)
    res = solver.solve(psi0, TIMES)
    elapsed = time.perf_counter() - start
    rss = _peak_rss_mb()
    gen = next(iter(solver._generators.values()))
    dim, nnz = gen.dim, _nnz(gen)
    del solver, gen
    tracemalloc.start()
    BlockSolver(model, proc).solve(psi0, TIMES)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "seconds": elapsed,
        "dim": dim,
        "nnz": nnz,
        "rss_mb": rss,
        "import_rss_mb": base_rss,
        "traced_mb": traced,
        "p_max": res.p_max,
        "e_max": res.e_max,
    }


def _subprocess_case(kind: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", kind, str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _compare(kind: str, n: int, reference: str) -> tuple[float, float, float]:
    """(blocks seconds, reference seconds, max |Delta E_B difference|), same process."""
    from qutip_centralspin import charge

    model, psi0, proc = _setup(kind, n)
    start = time.perf_counter()
    fast = charge(model, psi0, TIMES, processes=proc)
    t_fast = time.perf_counter() - start
    start = time.perf_counter()
    ref = charge(model, psi0, TIMES, processes=proc, solver=reference)
    t_ref = time.perf_counter() - start
    return t_fast, t_ref, float(np.abs(fast.delta_energy - ref.delta_energy).max())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--case", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(_run_case(args.case[0], int(args.case[1]))))
        return

    n_piqs = 8 if args.quick else 12
    dephasing_sizes = (20, 50) if args.quick else (50, 100)
    decay_sizes = (20, 30) if args.quick else (30, 50)
    print(f"open charging, t in [0, 2] x 201, g = {RATE}, N_B = N, n0 = N, B = h = A = 1")
    print("blocks = exact block solver (end to end, generator build included)\n")

    print("1. same answer as the references (local battery dephasing and decay)")
    print(f"{'case':34s} {'blocks s':>9s} {'ref s':>9s} {'ratio':>8s} {'max|dE diff|':>13s}")
    for kind in ("dephasing", "decay"):
        t_fast, t_ref, err = _compare(kind, 4, "bruteforce")
        print(
            f"{kind + ' N_B=N=4 vs brute force':34s} {t_fast:9.4f} {t_ref:9.3f} "
            f"{t_ref / t_fast:8.0f} {err:13.2e}   target <= 1e-7"
        )
    t_fast, t_ref, err = _compare("dephasing", n_piqs, "piqs")
    print(
        f"{f'dephasing N_B=N={n_piqs} vs PIQS x charger':34s} {t_fast:9.4f} {t_ref:9.2f} "
        f"{t_ref / t_fast:8.0f} {err:13.2e}   target >= 1000x, <= 1e-7"
    )

    print("\n2. block solver at the issue's sizes (fresh process per case)")
    print(
        f"{'case':24s} {'dim':>9s} {'nnz':>10s} {'seconds':>9s} {'target':>8s} "
        f"{'peak RSS':>9s} {'imports':>8s} {'traced':>8s}"
    )
    targets = {("dephasing", 50): 2, ("dephasing", 100): 60, ("decay", 30): 5, ("decay", 50): 30}
    for kind, sizes in (("dephasing", dephasing_sizes), ("decay", decay_sizes)):
        for n in sizes:
            r = _subprocess_case(kind, n)
            target = targets.get((kind, n))
            mark = f"< {target} s" if target else "-"
            print(
                f"{f'local {kind} N_B=N={n}':24s} {r['dim']:9d} {r['nnz']:10d} "
                f"{r['seconds']:9.2f} {mark:>8s} {r['rss_mb']:7.0f}MB {r['import_rss_mb']:6.0f}MB "
                f"{r['traced_mb']:6.0f}MB"
            )
    print(
        "\npeak RSS includes the imports (numpy, scipy, qutip); traced = tracemalloc peak of the "
        "run; decay target: peak memory < 400 MB"
    )


if __name__ == "__main__":
    main()
