"""Full-space ``qutip.sesolve`` against the exact sector engine, side by side, in one run.

    python benchmarks/bench_sector.py            # full run (~30 s)
    python benchmarks/bench_sector.py --quick    # fewer repeats and sesolve samples (~15 s)

What is compared (for the paper's state |m=0, n=N>, B = h = A = 1, Delta = 0):

* **exact engine**: ``max_power(CentralSpinModel(N_B, N), (0, N))`` from scratch -- build the
  sectors, diagonalise, and the *certified global* P_max (bracket <= 1e-10 relative).
* **sesolve**: what a QuTiP user would run to get P_max to 1e-6 relative -- build H on the full
  (N_B+1)(N+1) Dicke space, ``qutip.sesolve`` with ``atol``/``rtol`` below, E_B = <B S^z> on a
  uniform grid, P = Delta E_B / t, take the best grid point. The run is *favoured*: its time
  window is the engine's proven search horizon D/P_max (a user would have to guess it), and its
  grid step is tailored to the curvature of P at the optimum so that the grid error is
  <= GRID_BUDGET; neither design step is timed. The achieved relative error against the
  certified value is printed for every sesolve run.

The Fig. 5 grid (N_B in [1, 40], N in [1, 200]: 8,000 configurations) is timed in full for the
engine (``scaling.power_grid``). For sesolve it is *extrapolated*: the grid is cut into
strata, random configurations are timed in each stratum, and each stratum's mean time is
multiplied by its size.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

# One BLAS thread for both paths (set before numpy loads; override from the environment).
# Multithreaded OpenBLAS on the engine's small dense products (d <= 51) costs up to 20x on a busy
# 2-core machine: (N_B, N) = (50, 300) took 1.5 ms with one thread, 25-40 ms with two.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import qutip  # noqa: E402
import scipy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from qutip_centralspin import CentralSpinModel, dicke_state, max_power  # noqa: E402
from qutip_centralspin.models.operators import battery_hamiltonian, hamiltonian  # noqa: E402
from qutip_centralspin.solvers import SectorEngine  # noqa: E402
from qutip_centralspin.studies.scaling import power_grid  # noqa: E402

#: The accuracy asked of sesolve: relative error of P_max.
TARGET_RTOL = 1e-6
#: ODE tolerances of the sesolve runs. atol=1e-10, rtol=1e-8 is NOT enough: it leaves 1.3e-6
#: relative error on P_max at (N_B, N) = (1, 181); these give <= ~1e-8 on every case seen.
SESOLVE_OPTIONS = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7}
#: Engine runs take 0.1-1 ms: best of this many. On a shared VM a burst of noise can cover
#: 20 runs (3 ms) and double the minimum; 200 runs span ~30-300 ms.
ENGINE_REPEAT = 200
#: Part of TARGET_RTOL given to the time grid (w^2 |P''| / 8 <= GRID_BUDGET * P_max).
GRID_BUDGET = 2.5e-7
SINGLE_POINTS = [(10, 10), (50, 300), (40, 200)]
FIG5_NB, FIG5_N = range(1, 41), range(1, 201)
#: Strata of the Fig. 5 grid for the extrapolation: N_B bands x N bands.
NB_BANDS = [(1, 10), (11, 20), (21, 30), (31, 40)]
N_BANDS = [(1, 50), (51, 100), (101, 150), (151, 200)]


def engine_pmax(nb, n):
    """The timed engine path: model, sectors, certified P_max."""
    return max_power(CentralSpinModel(nb, n), (0, n))


def design_grid(nb, n):
    """Untimed: the sesolve time grid, from the certified result (generous to sesolve)."""
    cert = engine_pmax(nb, n)
    evo = SectorEngine(CentralSpinModel(nb, n)).evolve((0, n))
    tau, p = cert.time, cert.value
    h = 1e-3 * tau
    curv = (
        abs(evo.power(np.array([tau + h]))[0] - 2 * p + evo.power(np.array([tau - h]))[0]) / h**2
    )
    step = math.sqrt(8 * GRID_BUDGET * p / max(curv, 1e-300))
    t_end = cert.window[1]  # D / P_max: no later time can win
    points = max(int(math.ceil(t_end / step)) + 1, 3)
    return cert, np.linspace(0.0, t_end, points)


def sesolve_pmax(nb, n, tlist):
    """The timed QuTiP path: full-space H, sesolve with E_B as e_op, best grid point of P."""
    model = CentralSpinModel(nb, n)
    H = hamiltonian(model)
    psi0 = dicke_state(model, 0, n)
    res = qutip.sesolve(
        H, psi0, tlist, e_ops=[battery_hamiltonian(model)], options=dict(SESOLVE_OPTIONS)
    )
    e = np.real(np.asarray(res.expect[0]))
    return float(np.max((e[1:] - e[0]) / tlist[1:]))


def best_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def warm_up():
    model = CentralSpinModel(2, 3)
    max_power(model, (0, 3))
    qutip.sesolve(
        hamiltonian(model),
        dicke_state(model, 0, 3),
        np.linspace(0, 1, 5),
        e_ops=[battery_hamiltonian(model)],
    )


def single_points(repeat):
    rows = []
    for nb, n in SINGLE_POINTS:
        cert, tlist = design_grid(nb, n)
        t_eng, _ = best_time(lambda nb=nb, n=n: engine_pmax(nb, n), ENGINE_REPEAT)
        t_ses, p_ses = best_time(lambda nb=nb, n=n, tl=tlist: sesolve_pmax(nb, n, tl), repeat)
        err = abs(p_ses - cert.value) / cert.value
        rows.append(
            dict(
                name=f"(N_B, N) = ({nb}, {n})",
                dim=(nb + 1) * (n + 1),
                points=tlist.size,
                t_ses=t_ses,
                t_eng=t_eng,
                err=err,
                p=cert.value,
                extrapolated=False,
            )
        )
    return rows


def fig5(samples_per_stratum, strata_nb, strata_n, seed, jobs):
    start = time.perf_counter()
    grid = power_grid(FIG5_NB, FIG5_N)
    t_eng = time.perf_counter() - start
    t_par = None
    if jobs > 1:
        start = time.perf_counter()
        grid_par = power_grid(FIG5_NB, FIG5_N, map=qutip.parallel_map, map_kw={"num_cpus": jobs})
        t_par = time.perf_counter() - start
        assert np.allclose(grid_par, grid, rtol=1e-13, atol=0)

    rng = np.random.default_rng(seed)
    total, errors, sampled = 0.0, [], []
    for lo_b, hi_b in strata_nb:
        for lo_n, hi_n in strata_n:
            size = (hi_b - lo_b + 1) * (hi_n - lo_n + 1)
            spent = []
            for _ in range(samples_per_stratum):
                nb, n = int(rng.integers(lo_b, hi_b + 1)), int(rng.integers(lo_n, hi_n + 1))
                cert, tlist = design_grid(nb, n)
                t_ses, p_ses = best_time(lambda nb=nb, n=n, tl=tlist: sesolve_pmax(nb, n, tl), 1)
                spent.append(t_ses)
                errors.append(abs(p_ses - cert.value) / cert.value)
                ref = grid[nb - FIG5_NB.start, n - FIG5_N.start]
                assert abs(ref - cert.value) <= 1e-9 * cert.value, (nb, n)
                sampled.append((nb, n, t_ses))
            total += size * float(np.mean(spent))
    covered = sum((b - a + 1) * (d - c + 1) for a, b in strata_nb for c, d in strata_n)
    return dict(
        t_eng=t_eng, t_par=t_par, t_ses=total, err=max(errors), sampled=sampled, covered=covered
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 repeat, 4 sesolve samples on the Fig. 5 grid (instead of 5, 16)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="also time the Fig. 5 engine grid with qutip.parallel_map on J "
        "cores (default: 2 if available; 1 = serial only)",
    )
    parser.add_argument("--seed", type=int, default=5, help="seed of the Fig. 5 samples")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 5
    if args.quick:  # 2 x 2 strata, one sample each
        strata_nb, strata_n, per = [(1, 20), (21, 40)], [(1, 100), (101, 200)], 1
    else:  # 4 x 4 strata, one sample each
        strata_nb, strata_n, per = NB_BANDS, N_BANDS, 1

    print("qutip_centralspin benchmark: full-space qutip.sesolve vs the exact sector engine")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python {platform.python_version()}, qutip {qutip.__version__}, numpy "
        f"{np.__version__}, scipy {scipy.__version__}; {os.cpu_count()} CPUs, "
        f"load average {load:.2f}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; "
        f"mode: {'quick' if args.quick else 'full'}"
    )
    print(
        f"sesolve: atol={SESOLVE_OPTIONS['atol']:g}, rtol={SESOLVE_OPTIONS['rtol']:g}, "
        f"adams (QuTiP default); grid error budget {GRID_BUDGET:g}; target P_max rel. error "
        f"{TARGET_RTOL:g}"
    )
    print("engine: max_power (certified global P_max, bracket <= 1e-10 relative), from scratch")
    print(
        f"timings: best of {repeat} (sesolve) / {ENGINE_REPEAT} (engine) runs; the Fig. 5 "
        "engine grid: one run\n"
    )
    warm_up()

    rows = single_points(repeat)
    f5 = fig5(per, strata_nb, strata_n, args.seed, args.jobs)

    head = (
        f"{'configuration':<34}{'dim':>8}{'t points':>10}{'sesolve [s]':>14}"
        f"{'P_max rel.err':>15}{'engine [s]':>12}{'speed-up':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['name']:<34}{r['dim']:>8}{r['points']:>10}{r['t_ses']:>14.4f}"
            f"{r['err']:>15.1e}{r['t_eng']:>12.5f}{r['t_ses'] / r['t_eng']:>10.0f}x"
        )
    n_samples = len(f5["sampled"])
    print(
        f"{'Fig. 5 grid, 8000 configurations':<34}{'<=8241':>8}{'':>10}"
        f"{f5['t_ses']:>13.0f}*{f5['err']:>15.1e}{f5['t_eng']:>12.3f}"
        f"{f5['t_ses'] / f5['t_eng']:>9.0f}x*"
    )
    if f5["t_par"] is not None:
        print(
            f"{'  engine, parallel_map ' + str(args.jobs) + ' cores':<34}{'':>8}{'':>10}"
            f"{'':>14}{'':>15}{f5['t_par']:>12.3f}{f5['t_ses'] / f5['t_par']:>9.0f}x*"
        )
    print(
        f"\n* EXTRAPOLATED: sesolve was timed on {n_samples} sampled configurations "
        f"(one per stratum of {len(strata_nb)} x {len(strata_n)} strata of the grid, seed "
        f"{args.seed}),\n  each stratum's time scaled by its size; P_max rel.err is the worst "
        "of the samples."
    )
    print(
        "  sampled (N_B, N, sesolve s): "
        + ", ".join(f"({nb}, {n}, {t:.3f})" for nb, n, t in f5["sampled"])
    )

    worst = max([r["err"] for r in rows] + [f5["err"]])
    single = min(r["t_ses"] / r["t_eng"] for r in rows)
    print("\nchecks")
    print(
        f"  sesolve P_max accuracy <= {TARGET_RTOL:g}: "
        f"{'yes' if worst <= TARGET_RTOL else 'NO'} (worst {worst:.1e})"
    )
    print(
        f"  speed-up >= 100x on every single point: {'yes' if single >= 100 else 'NO'} "
        f"(smallest {single:.0f}x)"
    )
    print(
        f"  Fig. 5 grid with the engine < 10 s: {'yes' if f5['t_eng'] < 10 else 'NO'} "
        f"({f5['t_eng']:.2f} s serial)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
