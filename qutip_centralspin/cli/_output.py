"""Reporting: output paths checked before any computing, numbers tidied near zero, the lines
and JSON fields of certified maxima, standard JSON and plot files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__: list[str] = []


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


#: Printed values within this of zero, relative to the battery's range |B| N_B, print as 0
#: (round-off, e.g. the ergotropy of a passive state computed as -1e-16).
ZERO_TOL = 1e-12


def _tidy(value, model):
    """``value``, or 0.0 where it is zero within :data:`ZERO_TOL` of the battery's range."""
    if value is None or not np.isfinite(value):
        return value
    return 0.0 if abs(value) <= ZERO_TOL * model.battery_spread else float(value)


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


def _save_plot(name: str, result, path: str) -> None:
    """Draw ``result`` with ``plotting.<name>`` (Agg backend) and write it to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plotting

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
