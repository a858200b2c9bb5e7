"""The model, initial state and processes of the ``--charger`` flags (spins, cavity, Dicke,
groups), with the refusals of flags that do not apply."""

from __future__ import annotations

import json
from pathlib import Path

from ._parser import _process_flags

__all__: list[str] = []


#: Model flags that do not apply to a charger (an error, never silently ignored).
_FOREIGN_FLAGS = {
    "spins": ("omega", "g", "coupling"),
    "cavity": ("coupling",),
    "dicke": ("n", "g", "A", "delta"),
    "groups": ("nb", "n", "m0", "n0", "B", "h", "A", "delta", "omega", "g", "coupling"),
    "spins_or_cavity": ("scaling",),
}


def _check_charger_flags(args) -> None:
    foreign = _FOREIGN_FLAGS[args.charger]
    if args.charger != "dicke":
        foreign = (*foreign, *_FOREIGN_FLAGS["spins_or_cavity"])
    if args.charger != "groups":
        foreign = (*foreign, "model_file")
    for dest in foreign:
        if dest in getattr(args, "given", ()):
            flag = "--" + dest.replace("_", "-")
            raise ValueError(f"{flag} does not apply to --charger {args.charger}")


def _model_and_state(args):
    from ..models.spin import CentralSpinModel

    if args.nb is None:
        raise ValueError("--nb (battery spins) is required")
    if args.n is None:
        raise ValueError("--n (charger spins) is required")
    model = CentralSpinModel(args.nb, args.n, B=args.B, h=args.h, A=args.A, delta=args.delta)
    n0 = model.n_charger if args.n0 is None else args.n0
    if not 0 <= args.m0 <= model.n_battery:
        raise ValueError(f"--m0 must be in [0, {model.n_battery}], got {args.m0}")
    if not 0 <= n0 <= model.n_charger:
        raise ValueError(f"--n0 must be in [0, {model.n_charger}], got {n0}")
    return model, (args.m0, n0)


def _cavity_model_and_state(args, *, need_state: bool = True):
    """The cavity charger of the flags: ``(CavityModel, (m0, photons))``."""
    import math

    from ..models.cavity import CavityModel

    if getattr(args, "cavity_loss", 0.0) < 0:
        raise ValueError(f"--cavity-loss must be >= 0, got {args.cavity_loss}")
    if args.nb is None:
        raise ValueError("--nb (battery spins) is required")
    if args.g is None and args.n is None:
        raise ValueError("--charger cavity needs --g, or --n (then g = A sqrt(N))")
    if args.delta != 0 and (args.g is None or args.omega is None):
        raise ValueError(
            f"the cavity limit of the spin charger needs --delta 0, got {args.delta}; "
            "or give --omega and --g"
        )
    g = args.g if args.g is not None else args.A * math.sqrt(args.n)
    omega = args.omega if args.omega is not None else args.h
    model = CavityModel(args.nb, omega=omega, g=g, B=args.B)
    if not need_state:
        return model, None
    if args.n0 is None:
        raise ValueError("--charger cavity needs --n0 K (the initial photon number)")
    if not 0 <= args.m0 <= args.nb:
        raise ValueError(f"--m0 must be in [0, {args.nb}], got {args.m0}")
    if args.n0 < 0:
        raise ValueError(f"--n0 (photons) must be >= 0, got {args.n0}")
    return model, (args.m0, args.n0)


def _group_model_and_state(args):
    """The multi-group model of ``--model-file``: ``(GroupModel, ((m_a, ...), (n_b, ...)))``."""
    from ..models.groups import GroupModel

    if args.model_file is None:
        raise ValueError("--charger groups needs --model-file FILE (a JSON model, see --help)")
    try:
        spec = json.loads(Path(args.model_file).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"--model-file {args.model_file!r} is not JSON: {err}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"--model-file {args.model_file!r}: expected a JSON object")
    allowed = {"battery", "charger", "A", "delta", "m", "n"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(
            f"--model-file {args.model_file!r}: unknown keys {unknown} (allowed: {sorted(allowed)})"
        )
    missing = sorted({"battery", "charger"} - set(spec))
    if missing:
        raise ValueError(f"--model-file {args.model_file!r}: missing keys {missing}")
    model = GroupModel(
        battery=[tuple(g) for g in spec["battery"]],
        charger=[tuple(g) for g in spec["charger"]],
        A=spec.get("A", 1.0),
        delta=spec.get("delta", 0.0),
    )
    m = tuple(spec.get("m", [0] * len(model.battery)))
    n = tuple(spec.get("n", model.charger_sizes))
    return model, model.as_state((m, n), "the labels m, n of --model-file")


def _dicke_model_and_state(args):
    """The Dicke charger of the flags: ``(DickeChargerModel, (m0, photons))``."""
    from ..models.dicke import DickeChargerModel

    if args.nb is None:
        raise ValueError("--nb (battery spins) is required")
    if args.coupling is None:
        raise ValueError("--charger dicke needs --coupling LAMBDA")
    if args.cavity_loss:
        raise ValueError("--cavity-loss is for --charger cavity (the Dicke charger is closed)")
    omega = args.omega if args.omega is not None else args.h
    model = DickeChargerModel(
        args.nb, omega_c=omega, omega_a=args.B, coupling=args.coupling, scaling=args.scaling
    )
    n0 = args.nb if args.n0 is None else args.n0
    if not 0 <= args.m0 <= args.nb:
        raise ValueError(f"--m0 must be in [0, {args.nb}], got {args.m0}")
    if n0 < 0:
        raise ValueError(f"--n0 (photons) must be >= 0, got {n0}")
    return model, (args.m0, n0)


def _thermal_battery(model, args):
    """The state of ``--battery-state gibbs:T`` with the charger of ``--n0`` /
    ``--charger-state`` (a Gibbs charger ``gibbs:T`` makes the product Gibbs state)."""
    from ..models.chargers import CHARGER_GRAMMAR, charger_state
    from ..models.states import parse_spec
    from ..models.thermal_battery import BATTERY_GRAMMAR, physical_thermal_state

    if args.m0 != 0:
        raise ValueError(f"--battery-state replaces the battery state --m0, got --m0 {args.m0}")
    spec = args.charger_state
    try:
        _, (T_battery,) = parse_spec(args.battery_state, BATTERY_GRAMMAR)
        if spec is None:
            n0 = model.n_charger if args.n0 is None else args.n0
            return physical_thermal_state(model, T_battery, charger=n0)
        kind, numbers = parse_spec(spec, CHARGER_GRAMMAR)
        if kind == "gibbs":
            return physical_thermal_state(model, T_battery, T_charger=numbers[0])
        charger = charger_state(model, spec).ptrace(1)  # the charger of |0> (x) rho_C
        return physical_thermal_state(model, T_battery, charger=charger)
    except ValueError as err:
        raise ValueError(f"--battery-state {args.battery_state!r}: {err}") from None


def _model_state(args):
    """``(model, state, spec)`` of the ``--charger`` flags: the state as a label, a ``Qobj``,
    a :class:`~qutip_centralspin.models.cavity.CavityState` or a Gibbs state of physical spins."""
    _check_charger_flags(args)
    spec = args.charger_state
    battery_spec = getattr(args, "battery_state", None)
    if battery_spec is not None and args.charger != "spins":
        raise ValueError(f"--battery-state needs --charger spins, got --charger {args.charger}")
    if args.charger == "spins":
        model, state = _model_and_state(args)
        if battery_spec is not None:
            return model, _thermal_battery(model, args), spec or f"dicke:{state[1]}"
        if spec is None:
            return model, state, f"dicke:{state[1]}"
        from ..models.chargers import charger_state

        return model, charger_state(model, spec, m=args.m0), spec
    if args.charger == "cavity":
        if spec is None:
            if args.n0 is None:
                raise ValueError(
                    "--charger cavity needs --n0 K (photons) or --charger-state: the full spin "
                    "charger n0 = N has no cavity image"
                )
            model, state = _cavity_model_and_state(args)
            return model, state, f"fock:{state[1]}"
        from ..models.cavity import cavity_state

        model, _ = _cavity_model_and_state(args, need_state=False)
        return model, cavity_state(model, spec, m=args.m0, n_charger=args.n), spec
    if spec is not None:
        raise ValueError(f"--charger {args.charger} takes no --charger-state")
    if args.charger == "groups":
        model, state = _group_model_and_state(args)
        return model, state, f"dicke: m={list(state[0])}, n={list(state[1])}"
    model, state = _dicke_model_and_state(args)
    return model, state, f"fock:{state[1]}"


def _processes(args, model) -> list:
    """The processes of the flags; a flag the model's charger does not have is an error."""
    from ..models.processes import processes_from_flags

    rates = {keyword: getattr(args, keyword) for keyword, _ in _process_flags().values()}
    if model.kind != "spins":
        charger_flags = [k for k, v in rates.items() if v and "charger" in k]
        if charger_flags:
            flag = "--" + charger_flags[0].replace("_", "-")
            raise ValueError(f"{flag} is for a spin charger; a cavity charger takes --cavity-loss")
    processes = processes_from_flags(**rates)
    loss = getattr(args, "cavity_loss", 0.0)
    if loss < 0:
        raise ValueError(f"--cavity-loss must be >= 0, got {loss}")
    if loss:
        if model.kind != "cavity":
            raise ValueError("--cavity-loss needs --charger cavity")
        from ..solvers.cavity_blocks import cavity_loss

        processes.append(cavity_loss(loss))
    return processes


def _options(args):
    from .. import _progress

    _progress.check(args.progress, name="--progress")
    return {"progress_bar": args.progress} if args.progress else None


def _battery(args) -> str:
    """The ``--battery`` picture; given without ``--ergotropy`` it would be ignored: refused."""
    from ..observables.ergotropy import DEFAULT_BATTERY

    if args.battery is not None and not getattr(args, "ergotropy", True):
        raise ValueError(f"--battery {args.battery} applies to the ergotropy: add --ergotropy")
    return args.battery or DEFAULT_BATTERY


def _as_ket(model, state):
    """A label as the model's product state (the open solvers take a Qobj or a label)."""
    return model.label_state(*state) if isinstance(state, tuple) else state
