"""Command line: ``qutip-centralspin {reproduce, pmax, charge}`` (also ``python -m qutip_centralspin``).

The CLI only parses arguments, calls the public API and prints. Bad arguments give a one-line
error on stderr and exit code 2.

One module because the subcommands share their flags, their model and state parsing and their
reporting (text, JSON, plots); it only parses, calls the public API and prints.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]

PROG = "qutip-centralspin"


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage dump) and exit with code 2."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _finite(text: str) -> float:
    """argparse type: a finite float (``inf``/``nan`` are refused with the flag's name)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--delta -1e-3`` -> ``--delta=-1e-3``: argparse takes ``-1e-3`` for an option."""
    out: list[str] = []
    for token in argv:
        prev = out[-1] if out else ""
        if _NUMBER.match(token) and prev.startswith("--") and "=" not in prev:
            out[-1] = f"{prev}={token}"
        else:
            out.append(token)
    return out


def _writable_file(path: str, flag: str) -> None:
    """Refuse an output file whose folder is missing or read-only, before any computing."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{flag} {path!r} is a folder, expected a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{flag} {path!r}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{flag} {path!r}: folder {str(folder)!r} is not writable")


def _writable_folder(path: str, flag: str) -> None:
    """Refuse an output folder that is a file or cannot be created, before any computing."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{flag} {path!r} is a file, expected a folder")
    existing = target if target.exists() else next(p for p in target.parents if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path!r}: {str(existing)!r} is not a writable folder")


def _add_model_args(p):
    p.add_argument(
        "--nb", type=int, default=None, help="battery spins N_B (>= 1; required but for groups)"
    )
    p.add_argument(
        "--n", type=int, default=None, help="charger spins N (>= 1; a cavity needs it for g only)"
    )
    p.add_argument("--m0", type=int, default=0, help="initial flipped battery spins (default 0)")
    p.add_argument(
        "--n0",
        type=int,
        default=None,
        help="initial flipped charger spins (default N: full charger)",
    )
    p.add_argument("--B", type=_finite, default=1.0, help="battery field B (default 1)")
    p.add_argument("--h", type=_finite, default=1.0, help="charger field h (default 1)")
    p.add_argument("--A", type=_finite, default=1.0, help="flip-flop coupling A (default 1)")
    p.add_argument("--delta", type=_finite, default=0.0, help="Ising anisotropy Delta (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _add_cavity_args(p) -> None:
    p.add_argument("--omega", type=_finite, default=None, help="cavity frequency (default: h)")
    p.add_argument(
        "--g", type=_finite, default=None, help="spin-cavity coupling g (default: A sqrt(N))"
    )
    p.add_argument(
        "--coupling",
        type=_finite,
        default=None,
        metavar="LAMBDA",
        help="Dicke charger: dimensionless coupling lambda, H_I = 2 omega lambda J^x (a + a^dag)",
    )
    p.add_argument(
        "--scaling",
        choices=("fixed", "dicke"),
        default="fixed",
        help="Dicke charger: the coupling as given (fixed, default) or lambda / sqrt(N_B) (dicke)",
    )
    p.add_argument(
        "--cavity-loss",
        type=_finite,
        default=0.0,
        metavar="KAPPA",
        help="cavity loss: L = sqrt(KAPPA) a (rate >= 0; the cavity charger only)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog=PROG,
        description="Quantum batteries in the multiple central spin "
        "model (Peng et al., PRA 103, 052220).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    rep = sub.add_parser("reproduce", help="every figure and Table I of the paper")
    rep.add_argument("--out", default="figures", help="output folder (default ./figures)")
    rep.add_argument(
        "--jobs", type=int, default=1, help="worker processes for the sweeps (default 1: serial)"
    )
    rep.add_argument(
        "--checkpoint",
        default=None,
        metavar="DIR",
        help="write every finished sweep task to files in DIR (created if missing), so an "
        "interrupted run can be resumed",
    )
    rep.add_argument(
        "--resume",
        action="store_true",
        help="continue the run recorded in --checkpoint DIR: only missing tasks are computed "
        "(starts afresh if DIR holds none)",
    )
    _add_progress_arg(rep, "a progress bar per sweep")

    pmax = sub.add_parser("pmax", help="certified P_max, its time and E_max of one configuration")
    _add_model_args(pmax)
    _add_charger_arg(pmax)
    _add_cavity_args(pmax)
    pmax.add_argument(
        "--horizon",
        type=_finite,
        default=None,
        help="open runs (a process flag or --cavity-loss): the certified maxima hold on "
        "[0, HORIZON] (default 3x the closed tau)",
    )
    _add_state_args(pmax)
    pmax.add_argument(
        "--battery-state",
        default=None,
        metavar="SPEC",
        help="battery state instead of the Dicke |m0> (spin charger): gibbs:T, the Gibbs state "
        "of the N_B physical battery spins at T (with the charger of --n0 or --charger-state; "
        "gibbs:T there makes the product Gibbs state of all spins)",
    )
    pmax.add_argument(
        "--ergotropy",
        action="store_true",
        help="also the largest ergotropy W_max, its time and W/Delta E_B at tau",
    )
    _add_battery_arg(pmax)
    _add_method_args(
        pmax, ("exact", "twa", "auto"), "; twa estimates P_max, tau and the first E_max"
    )
    _add_process_args(pmax)
    _add_progress_arg(pmax, "the open-system solver's progress bar")

    chg = sub.add_parser("charge", help="charge once and print P_max, tau, E_max on a time grid")
    _add_model_args(chg)
    _add_charger_arg(chg)
    _add_cavity_args(chg)
    chg.add_argument(
        "--t-max",
        type=_finite,
        default=None,
        help="end of the time grid (default: 3x the closed-system tau)",
    )
    chg.add_argument("--points", type=int, default=201, help="time points (default 201)")
    _add_method_args(chg, ("exact", "twa", "auto"), "; twa and auto need --t-max")
    _add_state_args(chg)
    chg.add_argument("--plot", default=None, metavar="FILE", help="write Delta E_B(t), P_B(t)")
    _add_process_args(chg)
    _add_progress_arg(chg, "the open-system solver's progress bar")

    cyc = sub.add_parser(
        "cycle", help="charge for tau, store with the coupling off, extract (the battery cycle)"
    )
    _add_model_args(cyc)
    _add_charger_arg(cyc)
    _add_cavity_args(cyc)
    _add_state_args(cyc)
    cyc.add_argument("--tau", type=_finite, required=True, help="charging time tau (> 0)")
    cyc.add_argument(
        "--storage", type=_finite, required=True, help="storage time T_s (>= 0), coupling off"
    )
    cyc.add_argument("--points", type=int, default=201, help="time points (default 201)")
    cyc.add_argument(
        "--load-time",
        type=_finite,
        default=None,
        metavar="T",
        help="then reconnect an empty charger for T and report the work delivered",
    )
    _add_battery_arg(cyc)
    cyc.add_argument("--plot", default=None, metavar="FILE", help="write Delta E_B(t), W(t)")
    _add_process_args(cyc)
    _add_progress_arg(cyc, "the open-system solver's progress bar")
    return parser


def _add_method_args(p, methods, more: str) -> None:
    p.add_argument(
        "--method",
        choices=methods,
        default="exact",
        help="exact (default), twa (truncated Wigner estimate with error bars, first charge "
        "only) or auto (exact within the memory limit of the resource estimate, "
        f"QUTIP_CENTRALSPIN_MAX_MEMORY, twa beyond){more}",
    )
    p.add_argument(
        "--ntraj",
        type=int,
        default=None,
        help="TWA trajectories (default 1000; --method twa or auto)",
    )
    p.add_argument("--seed", type=int, default=None, help="TWA seed (--method twa or auto)")


def _add_charger_arg(p) -> None:
    p.add_argument(
        "--charger",
        choices=("spins", "cavity", "dicke", "groups"),
        default="spins",
        help="spin charger (default), a cavity (Tavis-Cummings) charger (--omega, --g, "
        "--cavity-loss), the Dicke charger (--omega, --coupling; --n0 is then the photon "
        "number) or inhomogeneous battery and charger groups (--model-file)",
    )
    p.add_argument(
        "--model-file",
        default=None,
        metavar="FILE",
        help='--charger groups: a JSON file {"battery": [[N_a, B_a], ...], "charger": '
        '[[N_b, h_b], ...], "A": A or [[A_ab]], "delta": delta or [[delta_ab]], "m": [m_a, '
        '...], "n": [n_b, ...]} (m, n: the initial Dicke labels; default empty battery, full '
        "charger)",
    )


def _add_state_args(p) -> None:
    p.add_argument(
        "--charger-state",
        default=None,
        metavar="SPEC",
        help="charger state instead of the Dicke |n0>: coherent:THETA[:PHI] or "
        "thermal:T (spins: also dicke:K, full, and gibbs:T, the Gibbs state of the N "
        "physical spins; cavity: also fock:K, alpha:ALPHA)",
    )


def _add_battery_arg(p) -> None:
    from .observables.ergotropy import BATTERY_KINDS, DEFAULT_BATTERY

    p.add_argument(
        "--battery",
        choices=BATTERY_KINDS,
        default=None,
        help="battery picture of the ergotropy: qubits (any unitary on the 2^N_B levels, the "
        "standard ergotropy) or dicke (collective unitaries on the N_B+1 levels); default "
        f"{DEFAULT_BATTERY}",
    )


def _add_process_args(p) -> None:
    for flag, (keyword, what) in _process_flags().items():
        p.add_argument(
            f"--{flag}", dest=keyword, type=_finite, default=0.0, metavar="G", help=what
        )


def _add_progress_arg(p, what: str) -> None:
    p.add_argument(
        "--progress",
        nargs="?",
        const="text",
        default=None,
        choices=("text", "enhanced", "tqdm"),
        metavar="BAR",
        help=f"show {what} on stderr: text (default), enhanced or tqdm (QuTiP's bars)",
    )


_OPERATORS = {  # (kind, scope, target) -> Lindblad operator, sigma^z with eigenvalues +-1
    ("dephasing", "local"): "sigma^z_i",
    ("decay", "local"): "sigma^-_i",
    ("pumping", "local"): "sigma^+_i",
    ("dephasing", "collective"): "{S}^z",
    ("decay", "collective"): "{S}^-",
    ("pumping", "collective"): "{S}^+",
}


def _process_flags() -> dict:
    """``charge`` flags from :data:`processes.FLAG_PROCESSES`: flag -> (keyword, help)."""
    from .models.processes import FLAG_PROCESSES

    flags = {}
    for keyword, (kind, target, scope) in FLAG_PROCESSES.items():
        op = _OPERATORS[kind, scope].format(S="S" if target == "battery" else "J")
        where = f"every {target} spin" if scope == "local" else f"the {target}"
        flags[keyword.replace("_", "-")] = (
            keyword,
            f"{scope} {target} {kind}: L = sqrt(G) {op} on {where} (rate G >= 0)",
        )
    return flags


def main(argv=None) -> int:
    """Entry point of the console script; returns the exit code.

    Every failure is one line on stderr: exit code 2 for bad arguments, a problem too large
    for the memory limit or an unwritable output; 130 on Ctrl-C.
    """
    from .resources import ResourceError

    parser = build_parser()
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
        args.given = _given_flags(parser, argv)
        if args.version:
            from .version import __version__

            print(f"{PROG} {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        return _COMMANDS[args.command](args)
    except _UsageError as exc:
        return _fail(str(exc).splitlines()[0], prefix=False)
    except (ValueError, ResourceError) as exc:
        return _fail(str(exc).splitlines()[0])
    except MemoryError:
        return _fail("out of memory (the problem is larger than the machine allows)")
    except RuntimeError as exc:  # a numerical method that cannot reach its accuracy
        return _fail(str(exc).splitlines()[0])
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _given_flags(parser, argv) -> set[str]:
    """The destinations of the options written on the command line (not their defaults)."""
    options = {
        opt: action.dest
        for sub in parser._actions
        if isinstance(sub, argparse._SubParsersAction)
        for child in sub.choices.values()
        for action in child._actions
        for opt in action.option_strings
    }
    return {options[tok.split("=", 1)[0]] for tok in argv if tok.split("=", 1)[0] in options}


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


def _fail(message: str, *, prefix: bool = True) -> int:
    print(f"{PROG}: error: {message}" if prefix else message, file=sys.stderr)
    return 2


def _model_and_state(args):
    from .models.spin import CentralSpinModel

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

    from .models.cavity import CavityModel

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
    from .models.groups import GroupModel

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
    from .models.dicke import DickeChargerModel

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


def _cmd_reproduce(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import qutip

    from . import _progress
    from .paper.reproduce import TABLE_COLUMNS, checkpoint_files, reproduce

    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    _writable_folder(args.out, "--out")
    _progress.check(args.progress, name="--progress")
    if args.resume and args.checkpoint is None:
        raise ValueError("--resume needs --checkpoint DIR (the folder of the run to continue)")
    if args.checkpoint is not None:
        _writable_folder(args.checkpoint, "--checkpoint")
        found = [p.name for p in checkpoint_files(args.checkpoint) if p.exists()]
        if found and not args.resume:
            raise ValueError(
                f"--checkpoint {args.checkpoint!r} already holds a run ({', '.join(found)}): "
                "add --resume to continue it, or choose another folder"
            )
    if args.jobs == 1:
        return _reproduce_with(args, qutip.serial_map, reproduce, TABLE_COLUMNS)
    with _PoolMap(args.jobs) as map_fn:  # one pool of workers for every sweep
        return _reproduce_with(args, map_fn, reproduce, TABLE_COLUMNS)


class _PoolMap:
    """A QuTiP-style map function over one process pool, kept for the whole run.

    ``qutip.parallel_map`` starts a new pool for every call; ``reproduce`` makes several
    calls, and starting workers each time cost more than the work they saved.
    """

    def __init__(self, jobs: int):
        self.pool = ProcessPoolExecutor(max_workers=jobs)

    def __call__(self, task, values, task_args=(), task_kwargs=None, reduce_func=None, **_):
        job = functools.partial(_apply, task, tuple(task_args or ()), dict(task_kwargs or {}))
        if reduce_func is None:
            return list(self.pool.map(job, values))
        # QuTiP's reduce_func: each result as it arrives (a checkpoint writes it at once)
        futures = [self.pool.submit(job, value) for value in values]
        try:
            for future in as_completed(futures):
                left = reduce_func(future.result())
                if left is not None and left <= 0:
                    break
        finally:
            for future in futures:
                future.cancel()
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pool.shutdown(cancel_futures=True)


def _apply(task, task_args, task_kwargs, value):
    return task(value, *task_args, **task_kwargs)


def _reproduce_with(args, map_fn, reproduce, columns) -> int:
    result = reproduce(
        args.out,
        map=map_fn,
        progress_bar=args.progress,
        checkpoint=args.checkpoint,
        log=_log,
    )
    print(
        f"\nTable I (ours beside the paper's; beta_limit = c* sqrt(N)), written to "
        f"{args.out}/table1.csv"
    )
    print(" ".join(f"{c:>11}" for c in columns))
    for r in result["table"]:
        print(
            f"{r.regime:>11} {r.N:>11d} {r.alpha:>11.4f} {r.beta:>11.4f} "
            f"{r.alpha_paper:>11.4f} {r.beta_paper:>11.4f} {r.beta_limit:>11.4f}"
        )
    print(
        f"\n{len(result['files'])} files in {args.out}/ ({sum(result['seconds'].values()):.1f} s)"
    )
    return 0


def _log(message: str) -> None:
    """Progress lines go to stderr; results to stdout."""
    print(message, file=sys.stderr)


def _thermal_battery(model, args):
    """The state of ``--battery-state gibbs:T`` with the charger of ``--n0`` /
    ``--charger-state`` (a Gibbs charger ``gibbs:T`` makes the product Gibbs state)."""
    from .models.chargers import CHARGER_GRAMMAR, charger_state
    from .models.states import parse_spec
    from .models.thermal_battery import BATTERY_GRAMMAR, physical_thermal_state

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


#: Printed values within this of zero, relative to the battery's range |B| N_B, print as 0
#: (round-off, e.g. the ergotropy of a passive state computed as -1e-16).
ZERO_TOL = 1e-12


def _tidy(value, model):
    """``value``, or 0.0 where it is zero within :data:`ZERO_TOL` of the battery's range."""
    if value is None or not np.isfinite(value):
        return value
    return 0.0 if abs(value) <= ZERO_TOL * model.battery_spread else float(value)


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
        from .models.chargers import charger_state

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
        from .models.cavity import cavity_state

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
    from .models.processes import processes_from_flags

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
        from .solvers.cavity_blocks import cavity_loss

        processes.append(cavity_loss(loss))
    return processes


def _process_records(processes) -> list[dict]:
    return [
        {"kind": p.kind, "rate": p.rate, "target": p.target, "scope": p.scope} for p in processes
    ]


def _process_names(processes) -> str:
    names = ", ".join(f"{p.kind} ({p.target}, {p.scope}) {p.rate:g}" for p in processes)
    return names or "none"


def _describe(model) -> str:
    return " ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in model.parameters().items()
    )


def _options(args):
    from . import _progress

    _progress.check(args.progress, name="--progress")
    return {"progress_bar": args.progress} if args.progress else None


def _battery(args) -> str:
    """The ``--battery`` picture; given without ``--ergotropy`` it would be ignored: refused."""
    from .observables.ergotropy import DEFAULT_BATTERY

    if args.battery is not None and not getattr(args, "ergotropy", True):
        raise ValueError(f"--battery {args.battery} applies to the ergotropy: add --ergotropy")
    return args.battery or DEFAULT_BATTERY


def _as_ket(model, state):
    """A label as the model's product state (the open solvers take a Qobj or a label)."""
    return model.label_state(*state) if isinstance(state, tuple) else state


def _cmd_pmax(args) -> int:
    from .maxima.certified import (
        certified_max_energy,
        certified_max_power,
        evolution_of,
        with_caveat,
    )
    from .solvers.estimates import choose_method

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
        from .maxima.open import open_max_energy, open_max_power

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
        from .maxima.open import open_max_ergotropy

        w = open_max_ergotropy(model, ket, processes, horizon, battery=battery)
        out.update({**_maximum_fields("w_max", "t_wmax", w), "battery": battery})
    elif args.ergotropy:
        from .maxima.ergotropy import certified_max_ergotropy
        from .observables.ergotropy import ergotropy_trace

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
    from .maxima.certified import max_energy, max_power

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


def _maximum_fields(name: str, time_name: str, best) -> dict:
    """The value, time, bracket and flags of a certified maximum, for ``--json``.

    ``NAME_upper`` bounds the maximum over ``[0, NAME_horizon]`` (``null``: all t >= 0);
    ``NAME_converged`` says the bracket is within ``NAME_tolerance``, else ``NAME_reason``
    says why not; ``TIME_bracket`` holds every time the maximum can be attained at (``null``
    when not bracketed). An unattained time (``inf``) is ``null``.
    """
    return {
        name: best.value,
        time_name: best.time,
        f"{name}_upper": best.upper_bound,
        f"{name}_tolerance": best.tolerance,
        f"{name}_converged": bool(best.converged),
        f"{name}_horizon": best.horizon,
        f"{name}_window": list(best.window),
        f"{name}_reason": best.reason,
        f"{time_name}_bracket": None if best.time_bracket is None else list(best.time_bracket),
    }


def _maximum_line(name: str, best) -> str:
    """``P_max = v  in [v, upper] (certified to tol over all t)`` or the reason it is not."""
    where = (
        "all t >= 0"
        if best.horizon is not None and not np.isfinite(best.horizon)
        else f"t in [0, {best.horizon if best.horizon is not None else best.window[1]:.6g}]"
    )
    bracket = f"[{best.value:.12g}, {best.upper_bound:.12g}]"
    if best.horizon is None:  # an estimate (grid, TWA): no bracket is claimed
        return f"{name} = {best.value:.12g}   an estimate, not certified ({best.reason})"
    if best.converged:
        return f"{name} = {best.value:.12g}   certified to {best.error:.1e} over {where}"
    return (
        f"{name} = {best.value:.12g}   NOT certified ({best.reason or 'unresolved'}): the "
        f"maximum over {where} lies in {bracket}"
    )


def _bracket_text(best) -> str:
    if best.time_bracket is None:
        return "   (time not bracketed)"
    lo, hi = best.time_bracket
    return f"   (bracketed to {hi - lo:.1e})"


def _cmd_charge(args) -> int:
    """``charge``: one run of any charger (closed on its exact engine, open on its block
    solver), reported on the grid."""
    from .charging import charge
    from .maxima.certified import max_power

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


def _cmd_cycle(args) -> int:
    from .studies.cycle import battery_cycle

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


def _lambda_text(model) -> str:
    """The Dicke coupling as the header prints it: lambda, or lambda / sqrt(N_B)."""
    return f"{model.coupling:g}" + (" / sqrt(N_B)" if model.scaling == "dicke" else "")


def _pmax_dicke(args, battery: str) -> int:
    """``pmax --charger dicke``: certified maxima for the cutoff the convergence check chose,
    with the change from the previous cutoff."""
    from .studies.dicke_advantage import dicke_maxima

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


def _save_plot(name: str, result, path: str) -> None:
    """Draw ``result`` with ``plotting.<name>`` (Agg backend) and write it to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plotting

    fig, ax = plt.subplots(figsize=(6, 4))
    getattr(plotting, name)(result, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _json(obj) -> str:
    """Standard JSON (RFC 8259): non-finite numbers (an unattained tau = inf) become null."""

    def clean(value):
        if isinstance(value, float) and not np.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(obj), allow_nan=False)


_COMMANDS = {
    "reproduce": _cmd_reproduce,
    "pmax": _cmd_pmax,
    "charge": _cmd_charge,
    "cycle": _cmd_cycle,
}
