"""Reach of the open-system block solver: per process, the largest N_B = N finished within a
time and memory budget (issue 16's scale benchmark, open half).

Setting of issue 16: t in [0, 2] with 201 points, every rate 0.1, N_B = N = n0, initial
|m = 0, n = N>, B = h = A = 1, Delta = 0. Each case runs in a fresh subprocess (wall-clock
timeout = the time budget; the solver's own memory guard ``options={"max_memory": ...}`` refuses
a case whose estimate exceeds the memory budget before allocating it; the measured peak
resident memory VmHWM is printed and checked too). Sizes climb a ladder per process and stop at
the first case over budget.

    python benchmarks/bench_scale_open.py                  # 60 s and 4 GB per case
    python benchmarks/bench_scale_open.py --budget 20 --memory 2G --processes all
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

RATE = 0.1
TIMES = np.linspace(0.0, 2.0, 201)
LADDER = (10, 20, 30, 40, 50, 60, 70, 85, 100, 120, 140, 170, 200, 240, 280)
PROCESSES = {
    "dephasing": "local battery dephasing",
    "decay": "local battery decay",
    "pumping": "local battery pumping",
    "charger-decay": "local charger decay",
    "all": "all four together",
}


def _nnz(gen) -> int:
    """Stored entries of an assembled generator; -1 for the matrix-free one (none stored)."""
    return int(gen.nnz) if hasattr(gen, "Y2") else -1


def _processes(kind: str):
    from qutip_centralspin import decay, dephasing, pumping

    table = {
        "dephasing": [dephasing(RATE)],
        "decay": [decay(RATE)],
        "pumping": [pumping(RATE)],
        "charger-decay": [decay(RATE, target="charger")],
    }
    if kind == "all":
        return [p for k in ("dephasing", "decay", "pumping", "charger-decay") for p in table[k]]
    return table[kind]


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return float("nan")


def _run_case(kind: str, n: int, memory: str) -> dict:
    """One end-to-end block-solver run (called in a subprocess)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from qutip_centralspin import CentralSpinModel, dicke_state
    from qutip_centralspin.solvers.blocks import BlockSolver

    model = CentralSpinModel(n, n)
    start = time.perf_counter()
    solver = BlockSolver(model, _processes(kind))
    res = solver.solve(dicke_state(model, 0, n), TIMES, options={"max_memory": memory})
    elapsed = time.perf_counter() - start
    gen = next(iter(solver._generators.values()))
    return {
        "seconds": elapsed,
        "dim": gen.dim,
        "nnz": _nnz(gen),
        "terms": float(gen.scale * TIMES[-1]),
        "rss_mb": _peak_rss_mb(),
        "delta_e_end": float(res.delta_energy[-1]),
    }


def _case(kind: str, n: int, budget: float, memory: str) -> dict:
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--case", kind, str(n), "--memory", memory],
            capture_output=True,
            text=True,
            timeout=budget,
        )
    except subprocess.TimeoutExpired:
        return {"fail": f"over {budget:g} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"fail": last[:60]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _bytes(text: str) -> float:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return float(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else float(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case (wall)")
    parser.add_argument("--memory", default="4G", help="memory per case (e.g. 4G)")
    parser.add_argument("--processes", nargs="+", default=list(PROCESSES), choices=list(PROCESSES))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(LADDER))
    parser.add_argument("--case", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(_run_case(args.case[0], int(args.case[1]), args.memory)))
        return

    import qutip

    print(
        f"open block solver reach: t in [0, 2] x {TIMES.size}, rates {RATE}, N_B = N = n0, "
        f"|0, N>, B = h = A = 1; budget {args.budget:g} s and {args.memory} per case"
    )
    print(
        f"python {sys.version.split()[0]}, qutip {qutip.__version__}, numpy {np.__version__}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'process':26s} {'N':>4s} {'dim':>9s} {'nnz':>10s} {'terms':>7s} {'s':>7s} {'MB':>6s}"
    )
    print(header)
    print("-" * len(header))
    reach = {}
    limit_mb = _bytes(args.memory) / 2**20
    for kind in args.processes:
        best = None
        for n in args.sizes:
            r = _case(kind, n, args.budget, args.memory)
            if "fail" not in r and r["rss_mb"] > limit_mb:
                r = {"fail": f"peak {r['rss_mb']:.0f} MB"}
            if "fail" in r:
                print(f"{PROCESSES[kind]:26s} {n:4d}   stopped: {r['fail']}")
                break
            best = n
            print(
                f"{PROCESSES[kind]:26s} {n:4d} {r['dim']:9d} {r['nnz']:10d} {r['terms']:7.0f} "
                f"{r['seconds']:7.2f} {r['rss_mb']:6.0f}"
            )
        reach[kind] = best
    print("\nlargest N_B = N finished within the budget:")
    for kind, n in reach.items():
        print(f"  {PROCESSES[kind]:26s} {n if n is not None else '-'}")


if __name__ == "__main__":
    main()
