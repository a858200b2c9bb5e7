"""The TWA accuracy table: ``charge(..., method="twa")`` against ``method="exact"``.

For each size, process and rate, from the paper's start :math:`|0, N\\rangle`
(B = h = A = 1, Delta = 0), both through :func:`qutip_centralspin.charge` on one grid of
:data:`POINTS_PER_T1` points per closed first charge :math:`t_1^{closed}`, up to
:data:`LATE_FACTOR` :math:`t_1^{closed}` (the exact path: the sector engine when closed, the
block solver with processes). It prints one markdown row with, in % and ``±`` one standard
error of the TWA mean:

* ``dE first``: :math:`\\max_{t \\le t_1}|\\Delta E_B^{TWA} - \\Delta E_B^{exact}| / E_1`
  (:math:`t_1`, :math:`E_1`: the exact first maximum of :math:`\\Delta E_B`, the *first charge*);
* ``P_max``, ``tau``, ``E_1``: relative errors (TWA - exact) of :math:`P_{max}` (over
  :math:`t \\le t_1`), its time and the first maximum of :math:`\\Delta E_B` (each refined by a
  parabola through the best grid point and its neighbours);
* ``dE late``: :math:`\\max_{t_1 < t \\le 3 t_1^{closed}}|\\Delta E_B^{TWA} -
  \\Delta E_B^{exact}| / E_1` (beyond the first charge, where the TWA is not validated);
* the run times (s) of the exact path and of the TWA.

Then one summary row per size: the largest |error| of each column over every process and rate
(what :mod:`qutip_centralspin.solvers.twa_accuracy` quotes). ``--json FILE`` also writes the
rows.

Run: ``PYTHONPATH=$PWD python benchmarks/twa_validation.py`` (full table: sizes 4-48 and
(4, 48), local dephasing, decay, pumping and collective decay on either group at rates 0.01,
0.1, 1, 4000 trajectories), ``--quick`` for a subset (seconds).

``--cavity``: the cavity (Tavis-Cummings) charger instead, ``CavityModel(N_B, omega=1, g,
B=1)`` from the Fock start :math:`|0, k\\rangle` with :math:`k = N_B` photons (resonant) and
:math:`g = 1/\\sqrt k`, sizes :data:`CAVITY_SIZES`, closed and with battery decay, battery
dephasing or cavity loss at :data:`CAVITY_RATES` (the exact path: the cavity sector engine
when closed, the exact cavity block solver with processes); the same columns, and the summary
row per :math:`(N_B, k)` that :data:`~qutip_centralspin.solvers.twa_accuracy.MEASURED_CAVITY`
quotes.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from qutip_centralspin import CentralSpinModel, charge, decay, dephasing, pumping
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.solvers.cavity_blocks import cavity_loss

#: (kind, scope) of the processes measured.
KINDS = {
    "dephasing": (dephasing, "local"),
    "decay": (decay, "local"),
    "pumping": (pumping, "local"),
    "collective decay": (decay, "collective"),
}
SIZES = [(4, 4), (8, 8), (16, 16), (32, 32), (48, 48), (4, 48)]
RATES = [0.01, 0.1, 1.0]
TARGETS = ["battery", "charger"]
#: The cavity charger: sizes N_B = k, the processes and their rates (``--cavity``).
CAVITY_SIZES = [(4, 4), (8, 8), (16, 16), (32, 32), (48, 48)]
CAVITY_KINDS = {
    "decay battery": lambda rate: decay(rate),
    "dephasing battery": lambda rate: dephasing(rate),
    "cavity loss": lambda rate: cavity_loss(rate),
}
CAVITY_RATES = [0.01, 0.1]
#: Grid points per closed first charge, and the end of the grid in closed first charges.
POINTS_PER_T1 = 120
LATE_FACTOR = 3.0
QUICK = {
    "sizes": [(4, 4), (16, 16), (4, 48)],
    "kinds": ["dephasing", "collective decay"],
    "rates": [0.1],
    "ntraj": 500,
}


def first_peak(values) -> int | None:
    """Index of the first local maximum of Delta E_B above half its largest value."""
    v = np.asarray(values)
    high = 0.5 * v.max()
    for i in range(1, v.size - 1):
        if v[i] >= high and v[i] >= v[i + 1]:
            return i
    return None


def refine(times, values, i: int) -> tuple[float, float]:
    """(time, value) of the parabola through samples i-1, i, i+1 at its vertex (the sample
    itself at an end of the grid)."""
    if i <= 0 or i >= values.size - 1:
        return float(times[i]), float(values[i])
    y0, y1, y2 = values[i - 1], values[i], values[i + 1]
    curvature = y0 - 2 * y1 + y2
    if curvature >= 0:
        return float(times[i]), float(y1)
    shift = 0.5 * (y0 - y2) / curvature
    step = times[i + 1] - times[i]
    return float(times[i] + shift * step), float(y1 - 0.25 * (y0 - y2) * shift)


def start_label(model, k: int | None = None) -> tuple[int, int]:
    """The start |0, N> (spin charger) or |0, k> (cavity charger, k photons)."""
    return (0, model.n_charger if k is None else k)


def closed_first_charge(model, label) -> float:
    """The closed model's first maximum of Delta E_B (sector engine, fine grid)."""
    if isinstance(model, CavityModel):
        scale = model.g * np.sqrt(model.n_battery * max(label[1], 1))
    else:
        scale = np.sqrt(model.n_battery * label[1])
    guess = np.linspace(0, 20 / scale, 2001)
    closed = charge(model, label, guess)
    peak = first_peak(closed.delta_energy)
    if peak is None:
        raise RuntimeError(f"no first charge of the closed model {model}")
    return float(guess[peak])


def compare(model, label, tlist, t1_closed, procs, ntraj, seed) -> dict:
    """One row: the errors (fractions) and their standard errors, and the run times."""
    start = time.perf_counter()
    exact = charge(model, label, tlist, processes=procs or None, method="exact")
    t_exact = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # measured here: the late times, small N
        twa = charge(
            model,
            label,
            tlist,
            processes=procs or None,
            method="twa",
            options={"ntraj": ntraj, "seed": seed},
        )
    t_twa = time.perf_counter() - start
    row = {"exact s": t_exact, "twa s": t_twa}
    se = twa.stats["standard error"]
    peak = first_peak(exact.delta_energy)
    if peak is None:
        return {**row, "skip": "no first maximum in the window"}
    e1 = float(exact.delta_energy[peak])
    gap = np.abs(twa.delta_energy - exact.delta_energy)
    worst = int(np.argmax(gap[: peak + 1]))
    row["dE first"] = (gap[worst] / e1, se["delta_energy"][worst] / e1)
    late = tlist > tlist[peak]
    if np.any(late):
        k = int(np.flatnonzero(late)[np.argmax(gap[late])])
        row["dE late"] = (gap[k] / e1, se["delta_energy"][k] / e1)
    ip_exact = int(np.argmax(exact.power[: peak + 1]))
    twa_peak = first_peak(twa.delta_energy)
    twa_peak = peak if twa_peak is None else twa_peak
    ip_twa = int(np.argmax(twa.power[: twa_peak + 1]))
    tau_x, p_x = refine(tlist, exact.power, ip_exact)
    tau_t, p_t = refine(tlist, twa.power, ip_twa)
    row["P_max"] = (p_t / p_x - 1, se["power"][ip_twa] / p_x)
    # P_max at t0 (the initial rate): no relative error of tau
    row["tau"] = (tau_t / tau_x - 1, 0.0) if ip_exact else (np.nan, np.nan)
    _, e_x = refine(tlist, exact.delta_energy, peak)
    _, e_t = refine(tlist, twa.delta_energy, twa_peak)
    row["E_1"] = (e_t / e_x - 1, se["delta_energy"][twa_peak] / e_x)
    row["t_1 / t_1 closed"] = float(tlist[peak] / t1_closed)
    return row


COLUMNS = ("dE first", "P_max", "tau", "E_1", "dE late")


def fmt(pair, signed=True) -> str:
    if pair is None or np.isnan(pair[0]):
        return "n/a"
    value, error = pair
    text = f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"
    return f"{text} ± {100 * error:.2f}" if error else text


def spin_cases(sizes, kinds, rates):
    """(model, label, [(name, rate, processes)]) for the spin charger."""
    for nb, n in sizes:
        cases = [("closed", 0.0, [])]
        for kind in kinds:
            make, scope = KINDS[kind]
            for target in TARGETS:
                for rate in rates:
                    cases.append((f"{kind} {target}", rate, [make(rate, target, scope)]))
        yield CentralSpinModel(nb, n), (0, n), cases


def cavity_cases(sizes, rates):
    """(model, label, [(name, rate, processes)]) for the cavity charger: N_B spins, k photons,
    g = 1/sqrt(k), resonant."""
    for nb, k in sizes:
        model = CavityModel(nb, omega=1.0, g=1.0 / np.sqrt(k), B=1.0)
        cases = [("closed", 0.0, [])]
        for name, make in CAVITY_KINDS.items():
            cases += [(name, rate, [make(rate)]) for rate in rates]
        yield model, (0, k), cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset (~1 min)")
    parser.add_argument(
        "--cavity", action="store_true", help="the cavity charger (sizes N_B = k photons)"
    )
    parser.add_argument(
        "--sizes", type=int, nargs=2, action="append", metavar=("N_B", "N"), default=None
    )
    parser.add_argument("--kinds", nargs="*", default=None, choices=list(KINDS))
    parser.add_argument("--rates", type=float, nargs="*", default=None)
    parser.add_argument("--ntraj", type=int, default=None, help="default 4000 (quick: 500)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the rows")
    args = parser.parse_args()
    quick = QUICK if args.quick else {}
    ntraj = args.ntraj or quick.get("ntraj", 4000)
    if args.cavity:
        sizes = [tuple(s) for s in args.sizes] if args.sizes else CAVITY_SIZES
        if args.quick and not args.sizes:
            sizes = sizes[:2]
        rates = args.rates if args.rates is not None else CAVITY_RATES
        runs = cavity_cases(sizes, rates)
        size_name = "k"
    else:
        sizes = [tuple(s) for s in args.sizes] if args.sizes else quick.get("sizes", SIZES)
        kinds = args.kinds if args.kinds is not None else quick.get("kinds", list(KINDS))
        rates = args.rates if args.rates is not None else quick.get("rates", RATES)
        runs = spin_cases(sizes, kinds, rates)
        size_name = "N"
    print(
        f"ntraj = {ntraj}, seed = {args.seed}, {POINTS_PER_T1} points per closed t_1 up to "
        f"{LATE_FACTOR:g} t_1; errors in % (TWA - exact, ± 1 s.e.)\n"
    )
    print(
        f"| N_B | {size_name} | process | rate | dE first | P_max | tau | E_1 | dE late | "
        "exact s | TWA s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows, summary = [], {}
    for model, label, cases in runs:
        nb, n = model.n_battery, label[1]
        t1 = closed_first_charge(model, label)
        tlist = np.linspace(0, LATE_FACTOR * t1, int(LATE_FACTOR * POINTS_PER_T1) + 1)
        worst = summary.setdefault(f"{nb} {n}", {})
        for name, rate, procs in cases:
            row = compare(model, label, tlist, t1, procs, ntraj, args.seed)
            rows.append({"n_battery": nb, size_name: n, "process": name, "rate": rate, **row})
            if "skip" in row:
                cells = f"{row['skip']} | | | |"
            else:
                cells = " | ".join(fmt(row.get(c), signed=not c.startswith("dE")) for c in COLUMNS)
                for c in COLUMNS:
                    if c in row and not np.isnan(row[c][0]):
                        worst[c] = max(worst.get(c, 0.0), abs(float(row[c][0])))
            rate_s = "" if not procs else f"{rate:g}"
            print(
                f"| {nb} | {n} | {name} | {rate_s} | {cells} | {row['exact s']:.2f} | "
                f"{row['twa s']:.2f} |",
                flush=True,
            )
    print("\nLargest |error| over every process and rate, in %:\n")
    print(f"| N_B | {size_name} | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for key, worst in summary.items():
        nb, n = key.split()
        cells = " | ".join(f"{100 * worst[c]:.2f}" if c in worst else "n/a" for c in COLUMNS)
        print(f"| {nb} | {n} | {cells} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"rows": rows, "summary": summary}, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
