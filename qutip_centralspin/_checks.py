"""Argument checks shared by every public entry point.

Each check raises a ``ValueError`` (or ``TypeError`` for a wrong kind of object) whose
message names the argument, the allowed range and the value received.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__: list[str] = []


def positive_int(name: str, value) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        raise ValueError(f"{name} must be an integer >= 1, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def int_in_range(name: str, value, low: int, high: int) -> int:
    """Return ``value`` as an ``int`` if ``low <= value <= high``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def finite_real(name: str, value) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return value


def nonnegative_real(name: str, value) -> float:
    """Return ``value`` as a ``float`` if it is finite and >= 0, else raise ``ValueError``."""
    value = finite_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be a finite real number >= 0, got {value!r}")
    return value


def positive_real(name: str, value) -> float:
    """Return ``value`` as a ``float`` if it is finite and > 0, else raise ``ValueError``."""
    value = finite_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be a finite real number > 0, got {value!r}")
    return value


def time_list(name: str, tlist) -> np.ndarray:
    """Return ``tlist`` as a 1-D float array of finite, non-negative, increasing times."""
    arr = np.asarray(tlist, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of times, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain finite times only")
    if arr[0] < 0:
        raise ValueError(f"{name} must start at t >= 0, got t[0] = {arr[0]!r}")
    if arr.size > 1 and np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing")
    return arr


#: Options every solver path understands (QuTiP's names).
COMMON_OPTIONS = (
    "store_states",
    "store_final_state",
    "progress_bar",
    "progress_kwargs",
    "max_memory",
)


def solver_options(solver: str, options, allowed) -> dict:
    """Return ``options`` as a new dict after checking them the same way on every path.

    Unknown keys, an unknown ``progress_bar`` name (QuTiP's: ``"text"``, ``"enhanced"``,
    ``"tqdm"``, ``"html"``, ``""``/``None``/``False`` for none) and non-dict
    ``progress_kwargs`` raise ``ValueError`` naming the key, what is allowed and the value.
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError(f"options must be a dict, got {type(options).__name__}")
    options = dict(options)
    unknown = sorted(set(options) - set(allowed), key=str)
    if unknown:
        raise ValueError(
            f"options {unknown} are not understood by solver={solver!r} "
            f"(allowed: {sorted(allowed)})"
        )
    if "progress_bar" in options:
        progress_bar("options['progress_bar']", options["progress_bar"])
    progress_kwargs("options['progress_kwargs']", options.get("progress_kwargs"))
    for key in ("store_states", "store_final_state"):
        if key in options and options[key] not in (None, True, False):
            raise ValueError(f"options[{key!r}] must be True, False or None, got {options[key]!r}")
    if options.get("num_cpus") is not None:
        options["num_cpus"] = positive_int("options['num_cpus']", options["num_cpus"])
    return options


def progress_bar(name: str, bar):
    """Return ``bar`` if it names one of QuTiP's progress bars, else raise ``ValueError``.

    QuTiP's names (``qutip.ui.progressbar.progress_bars``): ``"text"``, ``"enhanced"``,
    ``"tqdm"``, ``"html"``, and ``""``, ``None``, ``False`` for none (``True`` is ``"text"``).
    A bar whose package is missing (``"tqdm"``, ``"html"``) is refused here, before any work.
    """
    import importlib.util

    from qutip.ui.progressbar import progress_bars

    try:
        known = bar in progress_bars
    except TypeError:  # unhashable
        known = False
    if not known:
        names = sorted(str(k) for k in progress_bars if isinstance(k, str) and k)
        raise ValueError(f"{name} must be one of {names} (or '', None, False, True), got {bar!r}")
    package = {"tqdm": "tqdm", "html": "IPython"}.get(str(bar).lower())
    if package is not None and importlib.util.find_spec(package) is None:
        raise ValueError(
            f"{name}={bar!r} needs the {package} package, which is not installed "
            f"(pip install {package.lower()}); 'text' and 'enhanced' need nothing"
        )
    return bar


def progress_kwargs(name: str, kwargs) -> dict:
    """Return ``kwargs`` (a dict or None) as a new dict, else raise ``ValueError``."""
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"{name} must be a dict, got {type(kwargs).__name__}")
    return dict(kwargs)
