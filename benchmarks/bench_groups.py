"""Certified P_max of the multi-group (inhomogeneous) central spin battery, timed.

    python benchmarks/bench_groups.py            # best of 5 runs per case
    python benchmarks/bench_groups.py --quick    # one run per case
    python benchmarks/bench_groups.py --sparse   # dense vs sparse sectors, side by side

Targets: N_B = 10 battery spins with two charger groups of 100 spins each, all excited,
P_max in < 1 s; with three charger groups of 50, in < 10 s; a 100-sample disorder average of
P_max at N_B = 4, N = 60 (box couplings binned into 3 groups) in < 60 s. Each run is from scratch: build and
diagonalise the occupied excitation sector, then the *certified global* P_max (bracket <= 1e-10
relative) of ``qutip_centralspin.max_power``.

A check rides along: with equal couplings and fields the charger groups, all excited, are one
fully polarised charger of N = sum N_b spins, so P_max must equal that of
``CentralSpinModel(N_B, N)`` from |0, N> (the one-group engine).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

# One BLAS thread (as bench_sector.py): small dense products on a busy 2-core machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import qutip  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from qutip_centralspin import CentralSpinModel, max_power  # noqa: E402
from qutip_centralspin.models.groups import GroupModel  # noqa: E402
from qutip_centralspin.solvers.group_engine import GroupEngine  # noqa: E402
from qutip_centralspin.solvers.group_sparse import DENSE_SECTOR_LIMIT  # noqa: E402
from qutip_centralspin.studies.disorder import binned_model, box_profile  # noqa: E402

B10 = [(10, 1.0)]
CASES = [
    # (label, battery groups, charger groups [(N_b, h_b)], couplings A_ab, delta, target s)
    ("N_B=10, 2 x 100, A = (1, 0.5)", B10, [(100, 1.0)] * 2, [[1.0, 0.5]], 0.0, 1.0),
    ("N_B=10, 2 x 100, A = (1, -0.7), h = (1, 1.3)", B10, [(100, 1.0), (100, 1.3)],
     [[1.0, -0.7]], 0.0, 1.0),
    ("N_B=10, 3 x 50, A = (1, 0.6, 0.3)", B10, [(50, 1.0)] * 3, [[1.0, 0.6, 0.3]], 0.0, 10.0),
    ("N_B=10, 3 x 50, A = (1.2, -0.4, 0.8), delta = 0.2", B10, [(50, 1.0), (50, 0.5), (50, 1.5)],
     [[1.2, -0.4, 0.8]], 0.2, 10.0),
    # reach (no target): more groups, larger sectors
    ("N_B=10, 4 x 50, A = (1, 0.7, 0.4, 0.2)", B10, [(50, 1.0)] * 4, [[1.0, 0.7, 0.4, 0.2]],
     0.0, None),
    ("N_B=5+5 (B = 1, 0.8), 3 x 50, A 2 x 3 mixed signs", [(5, 1.0), (5, 0.8)], [(50, 1.0)] * 3,
     [[1.0, 0.6, -0.3], [0.5, 0.9, 0.2]], 0.0, None),
]  # fmt: skip


def _best_time(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


#: (label, N_B, number of charger groups of 50 spins, run the dense path too); the product
#: space must stay below 2**62 (int64 indices): 11 groups of 50 do not
SPARSE_CASES = [(f"N_B={nb}, {g} x 50", nb, g, g <= 5) for nb, g in
                [(10, 4), (10, 5), (10, 6), (10, 8), (10, 10)]]  # fmt: skip
SPARSE_TIMES = np.linspace(0.0, 0.5, 201)  # P_max is at tau ~ 0.08 for these models


def sparse_section() -> int:
    """Dense vs sparse sectors from scratch: E_B on 201 times for the all-excited state (one
    sector), dense (eigh) against the sparse path (Chebyshev) and scipy's expm_multiply."""
    from scipy.sparse.linalg import expm_multiply

    print(
        f"\nsparse sectors: E_B on {SPARSE_TIMES.size} times in [0, {SPARSE_TIMES[-1]:g}], "
        f"from scratch (default dense_limit = {DENSE_SECTOR_LIMIT}); max |dE| relative to "
        "|B|N_B"
    )
    failed = 0
    for label, n_b, groups, dense_too in SPARSE_CASES:
        coupling = [list(np.linspace(1.0, 0.2, groups))]
        model = GroupModel(battery=[(n_b, 1.0)], charger=[(50, 1.0)] * groups, A=coupling)
        state = ((0,), (50,) * groups)
        start = time.perf_counter()
        sparse_evo = GroupEngine(model, dense_limit=0).evolve(state)
        sparse = sparse_evo.battery_energy(SPARSE_TIMES)
        t_sparse = time.perf_counter() - start
        sec = next(iter(sparse_evo._sectors.values()))
        start = time.perf_counter()
        psi = sparse_evo._blocks[sec.k][:, 0]
        out = expm_multiply(
            -1j * sec.hamiltonian, psi, start=0, stop=SPARSE_TIMES[-1], num=SPARSE_TIMES.size
        )
        expm = (out.real**2 + out.imag**2) @ sec.z
        t_expm = time.perf_counter() - start
        scale = model.battery_spread
        line = (
            f"{label:18s} sector size {sec.size:6d}: sparse (Chebyshev) {t_sparse:7.2f} s, "
            f"expm_multiply {t_expm:7.2f} s (|diff| {np.abs(expm - sparse).max() / scale:.1e})"
        )
        if dense_too:
            start = time.perf_counter()
            dense = GroupEngine(model, dense_limit=sec.size).evolve(state)
            energy = dense.battery_energy(SPARSE_TIMES)
            t_dense = time.perf_counter() - start
            diff = np.abs(energy - sparse).max() / scale
            failed += not diff < 1e-9
            line += f", dense (eigh) {t_dense:7.2f} s (|diff| {diff:.1e})"
        else:
            line += f", dense (eigh) skipped (needs {24 * sec.size**2 / 2**30:.1f} GiB for H)"
        failed += not t_sparse < 60
        print(line)
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per case")
    parser.add_argument("--sparse", action="store_true", help="only dense vs sparse sectors")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 5
    print("qutip_centralspin benchmark: certified P_max of the multi-group model")
    print(
        f"python {platform.python_version()}, qutip {qutip.__version__}, numpy {np.__version__}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; best of {repeat}"
    )
    if args.sparse:
        return int(sparse_section() > 0)
    failed = 0
    for label, battery, charger, A, delta, target in CASES:
        model = GroupModel(battery=battery, charger=charger, A=A, delta=delta)
        state = ((0,) * len(battery), tuple(n for n, _ in charger))
        seconds, best = _best_time(lambda m=model, s=state: max_power(m, s), repeat)
        size = GroupEngine(model).sector(sum(state[1])).size
        if target is None:
            verdict = "(reach)" if best.converged else "NOT CONVERGED"
            failed += not best.converged
        else:
            ok = seconds < target and best.converged
            failed += not ok
            verdict = f"(target < {target:g} s) {'ok' if ok else 'MISSED'}"
        print(
            f"{label:52s} sector size {size:4d}: P_max = {best.value:.12g} at tau = "
            f"{best.time:.6g}, bracket {best.error:.1e}, {seconds:.3f} s {verdict}"
        )

    # a disorder average: box couplings of width 1 on N = 60 charger spins, binned into 3 groups
    def average():
        rng = np.random.default_rng(2026)
        values = []
        for _ in range(100):
            couplings = box_profile(60, 1.0, seed=rng)
            model = binned_model([(4, 1.0)], couplings, 3)
            values.append(max_power(model, ((0,), model.charger_sizes)).value)
        return np.array(values)

    seconds, values = _best_time(average, max(1, repeat // 5))
    ok = seconds < 60.0
    failed += not ok
    print(
        f"{'disorder: 100 samples, N_B=4, N=60 box w=1 -> 3 groups':52s} mean P_max = "
        f"{values.mean():.6g} +- {values.std(ddof=1) / np.sqrt(values.size):.2g}, {seconds:.3f} s "
        f"(target < 60 s) {'ok' if ok else 'MISSED'}"
    )
    # the check: equal couplings and fields are one polarised charger of 200 spins
    model = GroupModel(battery=[(10, 1.0)], charger=[(100, 1.0)] * 2, A=1.0)
    groups = max_power(model, ((0,), (100, 100)))
    spin = max_power(CentralSpinModel(10, 200), (0, 200))
    rel = abs(groups.value - spin.value) / spin.value
    print(
        f"check: 2 x 100 with equal A, h = CentralSpinModel(10, 200): {groups.value:.12g} vs "
        f"{spin.value:.12g} (relative difference {rel:.1e})"
    )
    failed += not rel < 1e-9
    return int(failed > 0)


if __name__ == "__main__":
    sys.exit(main())
