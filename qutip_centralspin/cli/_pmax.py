"""``pmax``: certified P_max, its time and E_max of one configuration (and W_max), exact,
open (certified on a horizon), TWA estimates or the Dicke charger at its converged cutoff."""

from __future__ import annotations

import numpy as np

from ._inputs import _as_ket, _battery, _model_state, _options, _processes
from ._output import (
    _bracket_text,
    _describe,
    _json,
    _maximum_fields,
    _maximum_line,
    _process_names,
    _process_records,
    _tidy,
)

__all__: list[str] = []


def _cmd_pmax(args) -> int:
    from ..maxima.certified import (
        certified_max_energy,
        certified_max_power,
        evolution_of,
        with_caveat,
    )
    from ..solvers.estimates import choose_method

    battery = _battery(args)
    if args.charger == "dicke":
        if args.method == "twa":
            raise ValueError(
                "--method twa is for the spin and cavity chargers; the Dicke charger is exact "
                "(--method exact or auto)"
            )
        return _pmax_dicke(args, battery)
    model, state, spec = _model_state(args)
    processes = _processes(args, model)
    options = _options(args)
    if args.horizon is not None and not processes:
        raise ValueError(
            "--horizon applies to open runs: add a process flag (e.g. --decay G) or "
            "--cavity-loss K; closed maxima are certified over all t (P_max) or their window"
        )
    # the decision of charge(method="auto"): the exact path within the memory limit
    method, choice = choose_method(model, state, 2, args.method, processes=processes or None)
    if method == "twa":
        return _pmax_twa(args, model, state, spec, processes, options, choice)
    if args.method == "exact" and {"ntraj", "seed"} & args.given:
        raise ValueError("--ntraj and --seed apply to --method twa or auto")
    evo = evolution_of(model, state)
    p = with_caveat(model, evo, certified_max_power(evo))
    e = with_caveat(model, evo, certified_max_energy(evo))
    horizon = None
    if processes:  # certified over [0, horizon] on the model's open solver
        from ..maxima.open import open_max_energy, open_max_power

        if not isinstance(state, tuple):
            raise ValueError(
                "process flags take a product state --m0/--n0, not --charger-state or "
                "--battery-state"
            )
        horizon = args.horizon
        if horizon is None:
            horizon = 3 * p.time if np.isfinite(p.time) and p.time > 0 else 10.0
        elif not horizon > 0:
            raise ValueError(f"--horizon must be > 0, got {horizon}")
        ket = _as_ket(model, state)
        p = open_max_power(model, ket, processes, horizon, options=options)
        e = open_max_energy(model, ket, processes, horizon, options=options)
    out = {
        **_maximum_fields("p_max", "t_pmax", p),
        **_maximum_fields("e_max", "t_emax", e),
        **model.parameters(),
        "m0": args.m0,
        "charger_state": spec,
        "battery_state": args.battery_state,
        "processes": _process_records(processes),
        "method": "exact",
    }
    if args.method == "auto":
        out["method_choice"] = choice
    if horizon is not None:
        out.update({"cavity_loss": args.cavity_loss, "horizon": horizon})
    if args.ergotropy and horizon is not None:  # W of the dissipative run
        from ..maxima.open import open_max_ergotropy

        w = open_max_ergotropy(model, ket, processes, horizon, battery=battery)
        out.update({**_maximum_fields("w_max", "t_wmax", w), "battery": battery})
    elif args.ergotropy:
        from ..maxima.ergotropy import certified_max_ergotropy
        from ..observables.ergotropy import ergotropy_trace

        w = with_caveat(model, evo, certified_max_ergotropy(evo, battery=battery))
        out.update({**_maximum_fields("w_max", "t_wmax", w), "battery": battery})
        if np.isfinite(p.time):
            at_tau = ergotropy_trace(evo, [p.time], battery=battery)
            out.update(
                {
                    "w_at_tau": _tidy(float(at_tau.ergotropy[0]), model),
                    "w_over_delta_e_at_tau": float(at_tau.ratio[0]),
                }
            )
    if args.json:
        print(_json(out))
        return 0
    opened = (
        f", processes: {_process_names(processes)} (certified on [0, {horizon:g}])"
        if horizon
        else ""
    )
    battery_text = args.battery_state or f"|m0={args.m0}>"
    print(f"{_describe(model)}  battery {battery_text}, charger {spec}{opened}")
    print(_maximum_line("P_max", p))
    print(f"tau   = {p.time:.12g}" + _bracket_text(p))
    print(_maximum_line("E_max", e) + f"   at t = {e.time:.6g}")
    if args.ergotropy:
        print(_maximum_line("W_max", w) + f"   at t = {w.time:.6g}   ({battery} battery)")
        if "w_at_tau" in out:
            print(
                f"W(tau) = {out['w_at_tau']:.10g}, W/Delta E_B at tau = "
                f"{out['w_over_delta_e_at_tau']:.6g}"
            )
    return 0


def _pmax_twa(args, model, state, spec, processes, options, choice: str) -> int:
    """``pmax --method twa``: P_max, tau and the first E_max estimated by the truncated Wigner
    approximation (never certified: ``converged`` is false and the reason says so)."""
    from ..maxima.certified import max_energy, max_power

    if args.ergotropy or args.horizon is not None:
        raise ValueError(
            "the TWA path (--method twa, or auto beyond the memory limit) estimates P_max and "
            "the first E_max: no --ergotropy, --horizon"
        )
    twa = {**(options or {}), "ntraj": args.ntraj or 1000, "seed": args.seed}
    procs = processes or None
    p = max_power(model, state, method="twa", processes=procs, options=twa)
    e = max_energy(model, state, peak="first", method="twa", processes=procs, options=twa)
    out = {
        **_maximum_fields("p_max", "t_pmax", p),
        **_maximum_fields("e_max", "t_emax", e),
        **model.parameters(),
        "m0": args.m0,
        "charger_state": spec,
        "processes": _process_records(processes),
        "method": "twa",
        "method_choice": choice,
    }
    if args.json:
        print(_json(out))
        return 0
    print(
        f"{_describe(model)}  battery |m0={args.m0}>, charger {spec}  processes: "
        f"{_process_names(processes)}  (TWA estimates; {choice})"
    )
    print(_maximum_line("P_max", p))
    print(f"tau   = {p.time:.6g}")
    print(_maximum_line("first E_max", e) + f"   at t = {e.time:.6g}")
    return 0


def _lambda_text(model) -> str:
    """The Dicke coupling as the header prints it: lambda, or lambda / sqrt(N_B)."""
    return f"{model.coupling:g}" + (" / sqrt(N_B)" if model.scaling == "dicke" else "")


def _pmax_dicke(args, battery: str) -> int:
    """``pmax --charger dicke``: certified maxima for the cutoff the convergence check chose,
    with the change from the previous cutoff."""
    from ..studies.dicke_advantage import dicke_maxima

    model, state, _ = _model_state(args)
    if _processes(args, model):
        raise ValueError(model.open_refusal)
    if args.horizon is not None:
        raise ValueError("--horizon applies to open runs; the Dicke charger is closed")
    res = dicke_maxima(model, state, ergotropy=args.ergotropy, battery=battery)
    out = {
        **_maximum_fields("p_max", "t_pmax", res.p_max),
        **_maximum_fields("e_max", "t_emax", res.e_max),
        "charger": "dicke",
        "n_battery": model.n_battery,
        "omega_c": model.omega_c,
        "omega_a": model.omega_a,
        "coupling": model.coupling,
        "scaling": model.scaling,
        "effective_coupling": model.effective_coupling,
        "m0": state[0],
        "n0": state[1],
        "photon_cutoff": res.cutoff.cutoff,
        "cutoff_converged": res.cutoff.converged,
        "p_max_cutoff_change": res.p_change,
        "e_max_cutoff_change": res.e_change,
        "spectral_error_bound": res.spectral_error_bound,
    }
    if res.w_max is not None:
        out.update({"w_max": res.w_max.value, "t_wmax": res.w_max.time, "battery": battery})
    if args.json:
        print(_json(out))
        return 0
    print(
        f"Dicke charger N_B={model.n_battery} omega_c={model.omega_c:g} "
        f"omega_a={model.omega_a:g} lambda={_lambda_text(model)}, |m0={state[0]}> x |k={state[1]}>"
    )
    status = "converged" if res.cutoff.converged else "NOT converged"
    print(
        f"photon cutoff {res.cutoff.cutoff} ({status}; the maxima below are certified for H cut "
        f"there; P_max changes by {res.p_change:.2g} from the previous cutoff)"
    )
    print(_maximum_line("P_max", res.p_max))
    print(f"tau   = {res.p_max.time:.12g}" + _bracket_text(res.p_max))
    print(_maximum_line("E_max", res.e_max) + f"   at t = {res.e_max.time:.6g}")
    if res.w_max is not None:
        print(
            f"W_max = {res.w_max.value:.10g} at t = {res.w_max.time:.6g}   ({battery} "
            "battery; an estimate on a grid, not certified)"
        )
    return 0
