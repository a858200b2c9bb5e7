"""Open-system sweep: P_max of a dephasing battery over (N_B, gamma), one map task per point.

Each point charges N_B battery spins from a full charger of N = N_B spins, |m = 0, n = N>,
under local dephasing of the battery at rate gamma (``dephasing(gamma)``, L_i = sqrt(gamma)
sigma^z_i), with the exact block solver, and records the grid maxima of P_B(t) and
Delta E_B(t) on ``--times`` points over twice the closed battery's optimal time tau.
Written as CSV::

    python open_sweep.py --map serial
    mpiexec -n 9 python -m mpi4py.futures open_sweep.py --map mpi --n-battery 10 60 --step 10

With ``--checkpoint FILE`` each finished point is appended to FILE as it arrives
(``qutip_centralspin.studies.checkpoint.checkpoint_map``); run the same command again after a crash or
a pre-emption and only the missing points are computed.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time

import numpy as np
import qutip

from qutip_centralspin import CentralSpinModel, charge, dephasing, dicke_state, max_power
from qutip_centralspin.studies.checkpoint import checkpoint_map

COLUMNS = ("n_battery", "gamma", "p_max", "t_pmax", "e_max")


def open_point(point, n_times: int):
    """Charge one (N_B, gamma) configuration; a map task (module level, so it pickles)."""
    n_battery, gamma = point
    model = CentralSpinModel(n_battery=n_battery, n_charger=n_battery)
    psi0 = dicke_state(model, m=0, n=n_battery)
    tau = max_power(model, psi0).time  # the closed battery's optimum sets the window
    tlist = np.linspace(0.0, 2.0 * tau, n_times)
    res = charge(model, psi0, tlist, processes=[dephasing(gamma)])
    return (n_battery, gamma, res.p_max, res.t_pmax, res.e_max)


def get_map(name: str):
    """QuTiP's map function ``name`` and its ``map_kw``."""
    if name == "mpi":
        from mpi4py import MPI

        # under `python -m mpi4py.futures`, every rank but the manager is a worker
        return qutip.mpi_pmap, {"num_cpus": max(MPI.COMM_WORLD.Get_size() - 1, 1)}
    maps = {"serial": qutip.serial_map, "parallel": qutip.parallel_map, "loky": qutip.loky_pmap}
    return maps[name], {}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", choices=["serial", "parallel", "loky", "mpi"], default="serial")
    parser.add_argument(
        "--n-battery", nargs=2, type=int, default=[2, 20], metavar=("FIRST", "LAST")
    )
    parser.add_argument("--step", type=int, default=6, help="step of N_B (default 6)")
    parser.add_argument("--gammas", nargs="+", type=float, default=[0.0, 0.05, 0.1, 0.2, 0.5])
    parser.add_argument("--times", type=int, default=201, help="time points per run")
    parser.add_argument("--out", default="open_sweep.csv")
    parser.add_argument(
        "--checkpoint", default=None, metavar="FILE", help="resumable: finished points go here"
    )
    parser.add_argument("--progress", action="store_true", help="progress bar on stderr")
    args = parser.parse_args(argv)

    sizes = range(args.n_battery[0], args.n_battery[1] + 1, args.step)
    points = list(itertools.product(sizes, args.gammas))
    map_func, map_kw = get_map(args.map)
    start = time.perf_counter()
    rows = checkpoint_map(
        open_point,
        points,
        task_args=(args.times,),
        checkpoint=args.checkpoint,  # None: a plain map, nothing written until the end
        params={"times": args.times, "charger": "N = N_B, |m=0, n=N>", "process": "dephasing"},
        map=map_func,
        map_kw=map_kw,
        progress_bar="text" if args.progress else None,
    )
    seconds = time.perf_counter() - start
    with open(args.out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows((n, g, repr(p), repr(t), repr(e)) for n, g, p, t, e in rows)
    print(f"{len(points)} open-system runs with map={args.map} in {seconds:.2f} s -> {args.out}")


if __name__ == "__main__":  # mpi4py.futures workers import this file as __worker__
    main()
