r"""How much a run will need, estimated before anything is allocated, and the limit it must fit.

Every entry point that allocates in proportion to the problem (``charge`` on each path,
the Dicke-space operators and states, the sector engine) asks here first and refuses a problem
whose estimate exceeds the limit with a :class:`ResourceError` that gives the size, the
estimate and the limit. :func:`qutip_centralspin.solvers.estimates.estimate` is public, so a cluster
job can be sized before it runs (a dry run).

The limit, in bytes, is the first of

1. ``options={"max_memory": ...}`` of the call (bytes, or a string such as ``"8G"``);
2. the environment variable :data:`MEMORY_ENV` (same forms);
3. :data:`MEMORY_FRACTION` of the memory available when asked (``MemAvailable``).

The estimates are deliberately simple upper-bound-style models of each solver's largest
arrays (state vectors or matrices, generators, stored states, per-time buffers); they are
estimates, not measurements, meant to be right within a small factor.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

__all__ = [
    "Estimate",
    "ResourceError",
    "memory_limit",
    "require",
    "MEMORY_ENV",
    "MEMORY_FRACTION",
]

#: Environment variable overriding the memory limit (bytes, or e.g. ``"8G"``, ``"500M"``).
MEMORY_ENV = "QUTIP_CENTRALSPIN_MAX_MEMORY"
#: Default limit: this fraction of the memory available.
MEMORY_FRACTION = 0.5
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class ResourceError(MemoryError):
    """A problem whose estimated memory exceeds the limit (raised before allocating)."""


def _format(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def parse_bytes(name: str, value) -> int:
    """``value`` (a number of bytes, or a string like ``"8G"``) as an ``int`` of bytes > 0."""
    if isinstance(value, str):
        match = re.fullmatch(
            r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGTB]?)i?B?\s*", value
        )
        if not match:
            raise ValueError(
                f"{name} must be a number of bytes or a size like '8G', '500M', got {value!r}"
            )
        number = float(match.group(1)) * _UNITS[match.group(2).upper()]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ValueError(f"{name} must be a number of bytes or a size like '8G', got {value!r}")
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive size, got {value!r}")
    return int(number)


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of ``/proc/meminfo``, else the
    physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8 * 2**30


def memory_limit(max_memory=None) -> int:
    """The limit in bytes: ``max_memory`` if given, else :data:`MEMORY_ENV`, else
    :data:`MEMORY_FRACTION` of :func:`available_memory`."""
    if max_memory is not None:
        return parse_bytes("options['max_memory']", max_memory)
    env = os.environ.get(MEMORY_ENV)
    if env:
        return parse_bytes(MEMORY_ENV, env)
    return int(MEMORY_FRACTION * available_memory())


#: Estimates below this are not checked (no lookup of the available memory in hot paths).
UNCHECKED_BYTES = 2**26


def require(nbytes: float, what: str, *, max_memory=None) -> None:
    """Raise :class:`ResourceError` if ``nbytes`` (an estimate) exceeds the limit."""
    if nbytes <= UNCHECKED_BYTES and max_memory is None:
        return
    limit = memory_limit(max_memory)
    if not nbytes <= limit:
        raise ResourceError(
            f"{what} needs about {_format(nbytes)}, above the memory limit {_format(limit)} "
            f"(set options['max_memory'] or {MEMORY_ENV} to change it)"
        )


@dataclass(frozen=True)
class Estimate:
    """The estimated peak memory of one run, and the limit it is checked against.

    Attributes
    ----------
    solver : str
        The path ``charge`` would take.
    memory : float
        Estimated peak bytes.
    limit : int
        The memory limit in bytes (see the module notes).
    size : int
        The number of unknowns evolved (state-vector entries, packed block entries, ...).
    details : dict
        What the estimate is made of (bytes per part).
    """

    solver: str
    memory: float
    limit: int
    size: int
    details: dict = field(default_factory=dict)

    @property
    def fits(self) -> bool:
        """Whether the estimate is within the limit."""
        return self.memory <= self.limit

    def check(self) -> Estimate:
        """Return ``self`` if it fits, else raise :class:`ResourceError` saying why."""
        if not self.fits:
            parts = ", ".join(f"{k} {_format(v)}" for k, v in self.details.items() if v)
            raise ResourceError(
                f"solver={self.solver!r} on {self.size:.3g} unknowns needs about "
                f"{_format(self.memory)} ({parts}), above the memory limit "
                f"{_format(self.limit)} (set options['max_memory'] or {MEMORY_ENV} to change "
                "it, or make the problem smaller)"
            )
        return self

    def __str__(self) -> str:
        return (
            f"solver={self.solver}: {self.size:.3g} unknowns, about {_format(self.memory)} "
            f"(limit {_format(self.limit)}, {'fits' if self.fits else 'too large'})"
        )
