"""The closed engine at thermodynamic sizes, side by side in one run (a script, not a test).

    python benchmarks/bench_scale_closed.py                  # ~3-5 min on 2 cores
    python benchmarks/bench_scale_closed.py --quick          # sector sizes 2001, 4001 only
    python benchmarks/bench_scale_closed.py --code PATH      # time another checkout's engine

1. **Dicke ket against Dicke label.** ``max_power(model, dicke_state(model, 0, n0))`` (the
   state built and checked inside the timing) against ``max_power(model, (0, n0))`` at
   (N_B, N, n0) = (1000, 10^6, 1000) -- a space of 10^9 dimensions -- and (100, 10^5, 10^5).
   Target: the ket in under 1 s at (1000, 10^6, 1000).
2. **P_max against one eigendecomposition.** ``max_power(CentralSpinModel(n, n), (0, n))`` from
   scratch (sector size n + 1) against the tridiagonal eigendecomposition of that sector alone
   (eigenvalues and eigenvectors, LAPACK ``dstevd``, what the engine calls), for n + 1 = 2001,
   4001, 8001. Target: P_max within 3x of the eigendecomposition at 8001, peak memory no
   worse.

Every case runs in a fresh process (``--worker``): its wall time is measured around the call
after the imports and a warm-up on a tiny model, its peak memory is the process's ``VmHWM``
(``/proc/self/status``: the imports, ~180 MB, included; they are printed on their own).
Timings on a shared machine vary: the load average is printed, and the ratios compare runs
made minutes apart in the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# One BLAS thread (set before numpy loads; override from the environment), as bench_sector.py.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
KET_CASES = [(1000, 10**6, 1000), (100, 10**5, 10**5)]
SECTOR_SIZES = [2001, 4001, 8001]
QUICK_SIZES = [2001, 4001]
KET_TARGET_S = 1.0
RATIO_TARGET = 3.0


# -- the worker: one case in this process --------------------------------------------------------
def _peak_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def worker(case: str, args: list[int]) -> dict:
    from qutip_centralspin import CentralSpinModel, dicke_state, max_power
    from qutip_centralspin.solvers import SectorEngine
    from qutip_centralspin.solvers.sectors import eigh_tridiagonal

    max_power(CentralSpinModel(3, 3), (0, 3))  # warm-up: lazy imports, first BLAS calls
    out: dict = {"imports_kb": _peak_kb()}
    if case == "eigh":
        (n,) = args
        _, _, diag, off = SectorEngine(CentralSpinModel(n, n)).tridiagonal(n)
        start = time.perf_counter()
        energies, vectors = eigh_tridiagonal(diag, off)
        out["seconds"] = time.perf_counter() - start
        out["size"] = int(energies.size)
    elif case == "pmax":
        (n,) = args
        start = time.perf_counter()
        res = max_power(CentralSpinModel(n, n), (0, n))
        out["seconds"] = time.perf_counter() - start
        out["value"], out["converged"] = res.value, res.converged
    elif case in ("ket", "label"):
        nb, n, n0 = args
        start = time.perf_counter()
        model = CentralSpinModel(nb, n)
        state = dicke_state(model, 0, n0) if case == "ket" else (0, n0)
        res = max_power(model, state)
        out["seconds"] = time.perf_counter() - start
        out["value"], out["upper"], out["converged"] = res.value, res.upper_bound, res.converged
    else:
        raise ValueError(f"unknown case {case!r}")
    out["peak_kb"] = _peak_kb()
    return out


def run(case: str, *args: int, code: Path) -> dict:
    """One case in a fresh process running the engine of ``code``."""
    env = dict(os.environ, PYTHONPATH=str(code))
    cmd = [sys.executable, __file__, "--worker", case, *map(str, args)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail[:100]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ------------------------------------------------------------------------------------
def _mb(kb) -> str:
    return f"{kb / 1024:.0f}MB" if isinstance(kb, (int, float)) and kb >= 0 else "-"


def _s(x) -> str:
    return f"{x:.3f}" if isinstance(x, float) else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="sector sizes 2001 and 4001 only")
    parser.add_argument("--code", type=Path, default=REPO, help="checkout whose engine is timed")
    parser.add_argument("--sizes", type=int, nargs="*", help="sector sizes (odd)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        case, *args = opts.worker
        print(json.dumps(worker(case, [int(a) for a in args])))
        return 0

    import numpy as np
    import qutip
    import scipy

    sizes = opts.sizes or (QUICK_SIZES if opts.quick else SECTOR_SIZES)
    print("qutip_centralspin: the closed engine at thermodynamic sizes (fresh process per case)")
    print(
        f"python {platform.python_version()}, qutip {qutip.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    )
    print(f"engine code: {opts.code}")
    checks = []

    print(
        "\n1. max_power on a dicke_state ket against the Dicke label (state built in the timing)"
    )
    print(
        f"{'(N_B, N, n0)':>22} {'dim':>10} {'ket s':>8} {'label s':>8} {'ket/label':>9}"
        f" {'ket peak':>9} {'label peak':>10}  same bracket"
    )
    for nb, n, n0 in KET_CASES:
        ket = run("ket", nb, n, n0, code=opts.code)
        label = run("label", nb, n, n0, code=opts.code)
        dim = (nb + 1) * (n + 1)
        if "error" in ket or "error" in label:
            print(
                f"{str((nb, n, n0)):>22} {dim:>10.3g}  ket: {ket.get('error', 'ok')}; "
                f"label: {label.get('error', 'ok')}"
            )
            if (nb, n, n0) == KET_CASES[0]:
                checks.append((f"ket at {KET_CASES[0]} < {KET_TARGET_S:g} s", False, "failed"))
            continue
        same = ket["value"] == label["value"] and ket["upper"] == label["upper"]
        ratio = ket["seconds"] / label["seconds"]
        print(
            f"{str((nb, n, n0)):>22} {dim:>10.3g} {_s(ket['seconds']):>8} "
            f"{_s(label['seconds']):>8} {ratio:>8.2f}x {_mb(ket['peak_kb']):>9} "
            f"{_mb(label['peak_kb']):>10}  {'yes' if same else 'NO'}"
        )
        if (nb, n, n0) == KET_CASES[0]:
            checks.append(
                (
                    f"ket at {KET_CASES[0]} < {KET_TARGET_S:g} s",
                    ket["seconds"] < KET_TARGET_S,
                    f"{ket['seconds']:.3f} s",
                )
            )
        checks.append((f"ket and label give the same bracket at {(nb, n, n0)}", same, ""))

    print(
        "\n2. P_max = max_power(CentralSpinModel(n, n), (0, n)) against the eigendecomposition "
        "of its sector (dstevd, eigenvectors)"
    )
    print(
        f"{'sector size':>11} {'eigh s':>8} {'P_max s':>8} {'ratio':>7} {'eigh peak':>10}"
        f" {'P_max peak':>10} {'ratio':>6} {'imports':>8}  P_max"
    )
    for size in sizes:
        n = size - 1
        eig = run("eigh", n, code=opts.code)
        pmax = run("pmax", n, code=opts.code)
        if "error" in eig or "error" in pmax:
            print(f"{size:>11}  eigh: {eig.get('error', 'ok')}; P_max: {pmax.get('error', 'ok')}")
            continue
        ratio = pmax["seconds"] / eig["seconds"]
        mem = pmax["peak_kb"] / eig["peak_kb"]
        print(
            f"{size:>11} {_s(eig['seconds']):>8} {_s(pmax['seconds']):>8} {ratio:>6.2f}x "
            f"{_mb(eig['peak_kb']):>10} {_mb(pmax['peak_kb']):>10} {mem:>5.2f}x "
            f"{_mb(eig['imports_kb']):>8}  {pmax['value']:.10g}"
            f"{'' if pmax['converged'] else ' (not converged)'}"
        )
        if size == max(sizes):
            checks.append(
                (
                    f"P_max within {RATIO_TARGET:g}x of eigh at size {size}",
                    ratio <= RATIO_TARGET,
                    f"{ratio:.2f}x",
                )
            )
            checks.append(
                (f"P_max peak memory <= eigh's (+5%) at size {size}", mem <= 1.05, f"{mem:.2f}x")
            )
    print("\nchecks")
    for name, ok, detail in checks:
        print(f"  {name}: {'yes' if ok else 'NO'}{f' ({detail})' if detail else ''}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
