"""Truncated Wigner estimate against the exact solvers on the first charge, and its cost at 10^6.

For every size, process kind (local, or ``--scope collective``, dephasing, decay, pumping on
the battery or the charger)
and rate, from the paper's start :math:`|0, N\\rangle`, it prints one markdown row:

* ``dE err``: :math:`\\max_{t\\le t_1}|\\Delta E_B^{TWA} - \\Delta E_B^{exact}| / E_1`, with
  :math:`t_1` the exact first maximum of :math:`\\Delta E_B` and :math:`E_1` its value;
* ``P_max``, ``tau``, ``E_1``: relative errors of :math:`P_{max}`, its time and the first
  maximum of :math:`\\Delta E_B` (on the grid), each ``+-`` one standard error of the TWA mean
  (``tau``: ``+-`` one grid step);
* the run times of the exact solver (sector engine or block solver) and of the TWA.

Then the cavity charger from :math:`k = N_B` photons, and the TWA alone at
:math:`N_B = N = 10^6` (local dephasing and decay 0.1) with ``qutip.serial_map`` and
``qutip.parallel_map``.

Run: ``PYTHONPATH=$PWD python benchmarks/bench_twa.py`` (``--help`` for the options; the full
sweep takes minutes, ``--sizes 4 8 16`` seconds).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import qutip

from qutip_centralspin import CentralSpinModel, charge, decay, dephasing, dicke_state, pumping
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.solvers.cavity_blocks import cavity_loss
from qutip_centralspin.solvers.twa import twa_charge

KINDS = {"dephasing": dephasing, "decay": decay, "pumping": pumping}


def first_peak(values) -> int | None:
    """Index of the first local maximum of Delta E_B above half its largest value."""
    v = np.asarray(values)
    high = 0.5 * v.max()
    for i in range(1, v.size - 1):
        if v[i] >= high and v[i] >= v[i + 1]:
            return i
    return None


def window(model, label=None) -> float:
    """End of the time grid: 1.4 times the closed model's first maximum of Delta E_B."""
    if label is None:
        n = model.n_charger
        guess = np.linspace(0, 20 / np.sqrt(model.n_battery * n), 801)
        closed = charge(model, dicke_state(model, 0, n), guess)
    else:
        guess = np.linspace(0, 20 / np.sqrt(model.n_battery * max(label[1], 1)), 801)
        closed = charge(model, label, guess)
    peak = first_peak(closed.delta_energy)
    return 1.4 * guess[peak if peak is not None else -1]


def compare(model, tlist, processes, ntraj, seed, label=None):
    if label is None:
        label = (0, model.n_charger)
        psi0 = dicke_state(model, *label)
    else:
        psi0 = label
    start = time.perf_counter()
    exact = charge(model, psi0, tlist, processes=processes)
    t_exact = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        # the window reaches 1.4x the closed first charge: only t <= t_1 is compared
        warnings.filterwarnings("ignore", "tlist runs to", UserWarning)
        twa = twa_charge(model, label, tlist, processes, ntraj=ntraj, seed=seed)
    t_twa = time.perf_counter() - start
    se = twa.stats["standard error"]
    peak = first_peak(exact.delta_energy)
    if peak is None:
        return None, t_exact, t_twa
    e1 = exact.delta_energy[peak]
    gap = np.abs(twa.delta_energy - exact.delta_energy)[: peak + 1]
    worst = int(np.argmax(gap))
    ip_exact = int(np.argmax(exact.power[: peak + 1]))
    ip_twa = int(np.argmax(twa.power[: peak + 1]))
    twa_peak = first_peak(twa.delta_energy)
    twa_peak = peak if twa_peak is None else twa_peak
    step = tlist[1] - tlist[0]
    row = {
        "dE": (gap[worst] / e1, se["delta_energy"][worst] / e1),
        "P": (
            twa.power[ip_twa] / exact.power[ip_exact] - 1,
            se["power"][ip_twa] / exact.power[ip_exact],
        ),
        # exact P_max at t0 (pumping: the initial rate): no relative tau
        "tau": (
            (tlist[ip_twa] / tlist[ip_exact] - 1, step / tlist[ip_exact])
            if ip_exact
            else (np.nan, np.nan)
        ),
        "E1": (twa.delta_energy[twa_peak] / e1 - 1, se["delta_energy"][twa_peak] / e1),
    }
    return row, t_exact, t_twa


def fmt(pair, sign="+") -> str:
    value, error = pair
    if np.isnan(value):
        return "n/a (t0)"
    return f"{100 * value:{sign}.2f} ± {100 * error:.2f}"


def sweep(args):
    sizes = [(n, n) for n in args.sizes] + [tuple(p) for p in args.unbalanced]
    print(f"ntraj = {args.ntraj}, seed = {args.seed}; errors in % (TWA - exact, ± 1 s.e.)\n")
    print("| N_B | N | process | rate | dE err | P_max | tau | E_1 | exact s | TWA s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for nb, n in sizes:
        model = CentralSpinModel(nb, n)
        tlist = np.linspace(0, window(model), args.points)
        cases = [("closed", None, 0.0)] + [
            (kind, target, rate)
            for kind in args.kinds
            for target in args.targets
            for rate in args.rates
        ]
        if args.combined:
            cases.append(("dephasing+decay", "battery", 0.1))
        for kind, target, rate in cases:
            procs = (
                []
                if target is None
                else [KINDS[k](rate, target, args.scope) for k in kind.split("+")]
            )
            row, t_exact, t_twa = compare(model, tlist, procs, args.ntraj, args.seed)
            scope = "collective " if args.scope == "collective" else ""
            name = "closed" if target is None else f"{scope}{kind} {target}"
            rate_s = "" if target is None else f"{rate:g}"
            if row is None:
                cells = "no first maximum in the window | | |"
            else:
                cells = " | ".join(
                    [fmt(row["dE"], sign="")] + [fmt(row[k]) for k in ("P", "tau", "E1")]
                )
            print(
                f"| {nb} | {n} | {name} | {rate_s} | {cells} | {t_exact:.2f} | {t_twa:.2f} |",
                flush=True,
            )


def cavity_sweep(args):
    """Tavis-Cummings charger (omega = B = g = 1) from N_B photons, against the exact cavity
    engine / block solver."""
    print("\nCavity charger, omega = B = g = 1, start |m = 0, k = N_B photons>\n")
    print("| N_B | k | processes | dE err | P_max | tau | E_1 | exact s | TWA s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for nb in args.cavity_sizes:
        model = CavityModel(nb, omega=1.0, g=1.0)
        label = (0, nb)
        tlist = np.linspace(0, window(model, label), args.points)
        for name, procs in (
            ("closed", []),
            ("loss 0.1", [cavity_loss(0.1)]),
            ("loss 1", [cavity_loss(1.0)]),
            ("local dephasing + decay 0.1", [dephasing(0.1), decay(0.1)]),
        ):
            row, t_exact, t_twa = compare(model, tlist, procs, args.ntraj, args.seed, label)
            cells = " | ".join(
                [fmt(row["dE"], sign="")] + [fmt(row[k]) for k in ("P", "tau", "E1")]
            )
            print(f"| {nb} | {nb} | {name} | {cells} | {t_exact:.2f} | {t_twa:.2f} |", flush=True)


def timing(args):
    n = 10**6
    model = CentralSpinModel(n, n)
    tlist = np.linspace(0, 25 / n, 101)
    procs = [dephasing(0.1), decay(0.1)]
    print(
        f"\nN_B = N = 10^6, local dephasing + decay 0.1, {args.big_ntraj} trajectories, t <= 25/N"
    )
    for name, mapper, options in (
        ("serial_map", qutip.serial_map, None),
        ("parallel_map (2 cpus)", qutip.parallel_map, {"num_cpus": 2}),
    ):
        start = time.perf_counter()
        twa = twa_charge(
            model, (0, n), tlist, procs, ntraj=args.big_ntraj, seed=1, map=mapper, options=options
        )
        elapsed = time.perf_counter() - start
        i = int(np.argmax(twa.power))
        se = twa.stats["standard error"]["power"][i]
        print(
            f"{name}: {elapsed:.2f} s; P_max = {twa.power[i]:.6g} ± {se:.2g} at t = "
            f"{twa.times[i] * n:.2f}/N, E_max = {twa.e_max:.6g}, dt = {twa.stats['dt'] * n:.3g}/N"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[4, 8, 16, 32, 48, 64])
    parser.add_argument(
        "--unbalanced",
        type=int,
        nargs=2,
        action="append",
        default=None,
        metavar=("N_B", "N"),
        help="extra (N_B, N) pairs with N_B << N (default: 2 64 and 4 64)",
    )
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--targets", nargs="*", default=["battery", "charger"])
    parser.add_argument("--rates", type=float, nargs="*", default=[0.01, 0.1, 1.0])
    parser.add_argument("--scope", default="local", choices=["local", "collective"])
    parser.add_argument("--ntraj", type=int, default=2000)
    parser.add_argument("--points", type=int, default=121)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--big-ntraj", type=int, default=1000)
    parser.add_argument("--cavity-sizes", type=int, nargs="*", default=[8, 16, 32, 64])
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument(
        "--combined", action="store_true", help="add local dephasing + decay 0.1 on the battery"
    )
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    if args.unbalanced is None:
        args.unbalanced = [[2, 64], [4, 64]]
    if not args.skip_sweep:
        sweep(args)
    if args.cavity_sizes:
        cavity_sweep(args)
    if not args.skip_timing:
        timing(args)


if __name__ == "__main__":
    main()
