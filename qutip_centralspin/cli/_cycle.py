"""``cycle``: charge for tau, store with the coupling off, extract (and optionally load)."""

from __future__ import annotations

import functools

from ._inputs import _battery, _model_state, _options, _processes
from ._output import (
    ZERO_TOL,
    _describe,
    _json,
    _process_names,
    _process_records,
    _save_plot,
    _tidy,
    _writable_file,
)

__all__: list[str] = []


def _cmd_cycle(args) -> int:
    from ..studies.cycle import battery_cycle

    model, state, spec = _model_state(args)
    battery = _battery(args)
    if args.plot:
        _writable_file(args.plot, "--plot")
    processes = _processes(args, model)
    options = _options(args)
    cyc = battery_cycle(
        model,
        state,
        args.tau,
        args.storage,
        processes=processes or None,
        points=args.points,
        battery=battery,
        load_time=args.load_time,
        options=options,
    )
    if args.plot:
        _save_plot("plot_cycle", cyc, args.plot)
    tidy = functools.partial(_tidy, model=model)
    out = {
        "tau": cyc.tau,
        "storage_time": cyc.storage_time,
        "drawn_energy": tidy(cyc.drawn_energy),
        "charged_energy": tidy(cyc.charged_energy),
        "charged_ergotropy": tidy(cyc.charged_ergotropy),
        "stored_energy": tidy(cyc.stored_energy),
        "stored_ergotropy": tidy(cyc.stored_ergotropy),
        "energy_half_life": cyc.energy_half_life,
        "ergotropy_half_life": cyc.ergotropy_half_life,
        "efficiency": cyc.efficiency,
        "battery": battery,
        **model.parameters(),
        "m0": args.m0,
        "charger_state": spec,
        "processes": _process_records(processes),
        "zero_tolerance": ZERO_TOL,
    }
    if cyc.load is not None:
        out.update({"load_work": tidy(cyc.load.work), "load_time": cyc.load.time})
    if args.json:
        print(_json(out))
        return 0
    half = lambda x: "not reached" if x is None else f"{x:.4g}"  # noqa: E731
    print(
        f"{_describe(model)}  battery |m0={args.m0}>, charger {spec}  "
        f"processes: {_process_names(processes)}"
    )
    print(f"charge  {cyc.tau:g}: drawn from the charger {out['drawn_energy']:.8g}")
    print(f"        Delta E_B = {out['charged_energy']:.8g}, W = {out['charged_ergotropy']:.8g}")
    print(
        f"store   {cyc.storage_time:g}: Delta E_B = {out['stored_energy']:.8g}, "
        f"W = {out['stored_ergotropy']:.8g} ({battery} battery)"
    )
    print(
        f"        half-lives (grid estimates): energy {half(cyc.energy_half_life)}, "
        f"ergotropy {half(cyc.ergotropy_half_life)}"
    )
    eff = "n/a" if cyc.efficiency is None else f"{cyc.efficiency:.6g}"
    print(f"extract W = {out['stored_ergotropy']:.8g} by the ergotropic unitary; efficiency {eff}")
    if cyc.load is not None:
        print(
            f"load    {out['load_work']:.8g} delivered at t = {cyc.load.time:.6g} "
            "after reconnecting an empty charger (grid estimate)"
        )
    print(f"(values within {ZERO_TOL:g} |B| N_B of zero are printed as 0)")
    return 0
