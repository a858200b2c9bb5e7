"""``charge``: one run of any charger on a time grid, reported as text, JSON or a plot."""

from __future__ import annotations

import numpy as np

from ._inputs import _model_state, _options, _processes
from ._output import (
    _describe,
    _json,
    _process_names,
    _process_records,
    _save_plot,
    _writable_file,
)

__all__: list[str] = []


def _cmd_charge(args) -> int:
    """``charge``: one run of any charger (closed on its exact engine, open on its block
    solver), reported on the grid."""
    from ..charging import charge
    from ..maxima.certified import max_power

    model, state, spec = _model_state(args)
    if args.points < 2:
        raise ValueError(f"--points must be >= 2, got {args.points}")
    if args.plot:
        _writable_file(args.plot, "--plot")
    processes = _processes(args, model)
    options = _options(args)
    if args.method == "exact" and {"ntraj", "seed"} & args.given:
        raise ValueError("--ntraj and --seed apply to --method twa or auto")
    if args.method != "exact":
        if args.t_max is None:
            raise ValueError(f"--method {args.method} needs --t-max (the first charge's window)")
        options = dict(options or {})
        options.update({"ntraj": args.ntraj or 1000, "seed": args.seed})
    t_max = args.t_max
    if t_max is None:
        tau = max_power(model, state).time
        t_max = 3 * tau if np.isfinite(tau) and tau > 0 else 10.0  # no gain: any window
    elif not t_max > 0:
        raise ValueError(f"--t-max must be > 0, got {t_max}")
    tlist = np.linspace(0, t_max, args.points)
    # the bar prints on stderr (charge sees to it); stdout carries the results
    res = charge(
        model, state, tlist, processes=processes or None, options=options, method=args.method
    )
    header = (
        f"{_describe(model)}  battery |m0={args.m0}>, charger {spec}  solver={res.solver}  "
        f"grid: {args.points} points on [0, {t_max:.6g}]  processes: {_process_names(processes)}"
    )
    extra = {
        **model.parameters(),
        "m0": args.m0,
        "charger_state": spec,
        "battery_state": getattr(args, "battery_state", None),
        "processes": _process_records(processes),
        "cavity_loss": args.cavity_loss,
    }
    if res.solver == "twa":
        error = res.stats["standard error"]
        extra.update(
            {
                "method": "twa",
                "method_choice": res.stats.get("method choice"),
                "ntraj": res.stats.get("ntraj"),
                "delta_e_stderr": error["delta_energy"].tolist(),
            }
        )
        header += f"  TWA estimate ({res.stats.get('ntraj')} trajectories, first charge only)"
    if "photon cutoff" in res.stats:
        extra["photon_cutoff"] = res.stats["photon cutoff"]
        header += f"  photon cutoff {res.stats['photon cutoff']}"
    return _report_charge(args, res, header, extra)


def _report_charge(args, res, header: str, extra: dict) -> int:
    """The plot, and the JSON object or the text lines, of a ``charge`` run."""
    if args.plot:
        _save_plot("plot_charging", res, args.plot)
    if args.json:
        fields = {
            "t": res.times.tolist(),
            "delta_e": res.delta_energy.tolist(),
            "p_max": res.p_max,
            "t_pmax": res.t_pmax,
            "e_max": res.e_max,
            "solver": res.solver,
        }
        print(_json({**fields, **extra}))
        return 0
    print(header)
    print(f"P_max = {res.p_max:.10g} at tau = {res.t_pmax:.6g}   (on the grid)")
    print(f"E_max = {res.e_max:.10g}   (on the grid)")
    return 0
