"""Certified P_max on a Fig. 5-size grid, serially, on local cores or under MPI.

The grid of Fig. 5 of Peng et al. (N_B = 1..40, N = 1..200, m = 0, n = N) by default, or any
other with ``--n-battery`` and ``--n-charger`` (inclusive ranges). One map task per battery
size. Written as ``fig5_pmax.csv`` (the format of ``qutip-centralspin reproduce``)::

    python fig5_grid.py --map serial
    python fig5_grid.py --map loky                                   # all local cores
    mpiexec -n 5 python -m mpi4py.futures fig5_grid.py --map mpi     # 1 manager + 4 workers

With ``--checkpoint FILE`` each finished battery size is appended to FILE as it arrives; run
the same command again after a crash or a pre-emption and only the missing sizes are computed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import qutip

from qutip_centralspin.paper import data as paper
from qutip_centralspin.studies.scaling import power_grid


def get_map(name: str):
    """QuTiP's map function ``name`` and its ``map_kw``."""
    if name == "mpi":
        from mpi4py import MPI

        # under `python -m mpi4py.futures`, every rank but the manager is a worker
        return qutip.mpi_pmap, {"num_cpus": max(MPI.COMM_WORLD.Get_size() - 1, 1)}
    maps = {"serial": qutip.serial_map, "parallel": qutip.parallel_map, "loky": qutip.loky_pmap}
    return maps[name], {}


def main(argv=None) -> None:
    fig5 = paper.FIG5
    nb, nc = fig5["n_battery"], fig5["n_charger"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", choices=["serial", "parallel", "loky", "mpi"], default="serial")
    parser.add_argument("--n-battery", nargs=2, type=int, default=[nb.start, nb.stop - 1])
    parser.add_argument("--n-charger", nargs=2, type=int, default=[nc.start, nc.stop - 1])
    parser.add_argument("--out", default="fig5_pmax.csv")
    parser.add_argument(
        "--checkpoint", default=None, metavar="FILE", help="resumable: finished rows go here"
    )
    parser.add_argument("--progress", action="store_true", help="progress bar on stderr")
    args = parser.parse_args(argv)

    n_battery = range(args.n_battery[0], args.n_battery[1] + 1)
    n_charger = range(args.n_charger[0], args.n_charger[1] + 1)
    map_func, map_kw = get_map(args.map)
    start = time.perf_counter()
    grid = power_grid(
        n_battery,
        n_charger,
        initial=fig5["initial"],
        map=map_func,
        map_kw=map_kw,
        checkpoint=args.checkpoint,  # None: nothing written until the end
        progress_bar="text" if args.progress else None,
    )
    seconds = time.perf_counter() - start
    np.savetxt(
        args.out,
        grid,
        delimiter=",",
        header=(
            f"P_max; rows N_B={n_battery.start}..{n_battery.stop - 1}, "
            f"cols N={n_charger.start}..{n_charger.stop - 1}"
        ),
    )
    print(f"{grid.size} configurations with map={args.map} in {seconds:.2f} s -> {args.out}")


if __name__ == "__main__":  # mpi4py.futures workers import this file as __worker__
    main()
