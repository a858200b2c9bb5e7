"""The argument parser of every subcommand: its flags, help texts and argparse types.

Errors are one line (no usage dump); ``_join_negative_values`` lets ``--delta -1e-3`` be read
as a value; ``_given_flags`` tells the flags written on the command line from their defaults.
"""

from __future__ import annotations

import argparse
import math
import re

__all__: list[str] = []

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
    from ..observables.ergotropy import BATTERY_KINDS, DEFAULT_BATTERY

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
    from ..models.processes import FLAG_PROCESSES

    flags = {}
    for keyword, (kind, target, scope) in FLAG_PROCESSES.items():
        op = _OPERATORS[kind, scope].format(S="S" if target == "battery" else "J")
        where = f"every {target} spin" if scope == "local" else f"the {target}"
        flags[keyword.replace("_", "-")] = (
            keyword,
            f"{scope} {target} {kind}: L = sqrt(G) {op} on {where} (rate G >= 0)",
        )
    return flags


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
