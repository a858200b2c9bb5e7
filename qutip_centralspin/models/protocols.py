r"""Charging protocols: the switching function :math:`\lambda(t)` of Eq. (1).

.. math::

    H(t) = H_B + H_C + \lambda(t) H_I, \qquad
    H_I = A(S^+J^- + S^-J^+) + 2\Delta S^zJ^z,

with :math:`H_B = BS^z`, :math:`H_C = hJ^z`. The paper switches the coupling on for
:math:`t \in [0, \tau]` and off afterwards (:func:`step`). Times are absolute, as QuTiP's
coefficient functions see them (not measured from ``tlist[0]``).

Two kinds of protocol:

* :class:`PiecewiseConstant` -- :math:`\lambda = \lambda_i` on :math:`[t_i, t_{i+1})`, 0 before
  :math:`t_0`, :math:`\lambda_{\rm last}` after the last switch. The closed sector engine
  evolves it *exactly* (each segment is the model with :math:`A \to \lambda_i A`,
  :math:`\Delta \to \lambda_i\Delta`; no time stepping).
* any coefficient QuTiP accepts -- a function ``f(t)`` or an array on ``tlist`` (e.g.
  :func:`linear_ramp`); evolved by ``sesolve``/``mesolve`` on a ``QobjEvo``
  :math:`H_0 + \lambda(t)H_I`.

A piecewise-constant segment with :math:`\lambda = 0` keeps :math:`E_B` constant:
:math:`[H_B + H_C, H_B] = 0`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import qutip

from .. import _checks

__all__ = [
    "PiecewiseConstant",
    "step",
    "linear_ramp",
    "coupling_value",
    "qutip_coefficient",
    "switched_qobjevo",
    "Coupling",
]


@dataclass(frozen=True)
class PiecewiseConstant:
    r"""Piecewise-constant :math:`\lambda(t)`.

    Parameters
    ----------
    times : sequence of float
        Increasing switching times :math:`t_0 < t_1 < \dots` (absolute).
    values : sequence of float
        :math:`\lambda_i` on :math:`[t_i, t_{i+1})`; the last value holds after the last time.
        Before :math:`t_0` the coupling is off (:math:`\lambda = 0`).

    Examples
    --------
    >>> from qutip_centralspin.models.protocols import PiecewiseConstant
    >>> lam = PiecewiseConstant((0.0, 1.0, 2.0), (1.0, 0.5, 0.0))
    >>> [float(lam(t)) for t in (-1, 0, 0.5, 1.0, 3.0)]
    [0.0, 1.0, 1.0, 0.5, 0.0]
    """

    times: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self):
        times = np.asarray(self.times, dtype=float).ravel()
        values = np.asarray(self.values, dtype=float).ravel()
        if times.size == 0 or times.size != values.size:
            raise ValueError(
                "times and values must be non-empty and of equal length, got "
                f"{times.size} times and {values.size} values"
            )
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(values))):
            raise ValueError("times and values must be finite")
        if np.any(np.diff(times) <= 0):
            raise ValueError(f"times must be strictly increasing, got {times.tolist()}")
        object.__setattr__(self, "times", tuple(times.tolist()))
        object.__setattr__(self, "values", tuple(values.tolist()))

    def __call__(self, t):
        """:math:`\\lambda(t)` (right-continuous at the switches); arrays allowed."""
        t = np.asarray(t, dtype=float)
        idx = np.searchsorted(np.asarray(self.times), t, side="right") - 1
        vals = np.concatenate([[0.0], self.values])
        return vals[idx + 1]

    def segments(self, start: float, end: float) -> list[tuple[float, float, float]]:
        """``(t_a, t_b, lambda)`` pieces covering ``[start, end]`` in order."""
        cuts = [t for t in self.times if start < t < end]
        edges = [start, *cuts, end]
        return [(a, b, float(self(a))) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def step(tau: float, *, start: float = 0.0) -> PiecewiseConstant:
    r"""The paper's protocol: :math:`\lambda = 1` on :math:`[t_{\rm start}, t_{\rm start} + \tau)`,
    0 before and after.

    Examples
    --------
    >>> from qutip_centralspin.models.protocols import step
    >>> step(0.5).times, step(0.5).values
    ((0.0, 0.5), (1.0, 0.0))
    """
    tau = _checks.positive_real("tau", tau)
    start = _checks.finite_real("start", start)
    return PiecewiseConstant((start, start + tau), (1.0, 0.0))


def linear_ramp(rise: float, *, start: float = 0.0, off: float | None = None) -> Callable:
    r"""A smooth-edged protocol: :math:`\lambda` rises linearly from 0 to 1 over ``rise``,
    then stays 1 (until ``off``, where it falls back to 0 over ``rise`` if given).

    Returns a function ``f(t)`` for QuTiP's ``QobjEvo`` (evolved by ``sesolve``/``mesolve``).
    """
    rise = _checks.positive_real("rise", rise)
    start = _checks.finite_real("start", start)
    if off is not None:
        off = _checks.finite_real("off", off)
        if off < start + rise:
            raise ValueError(f"off must be >= start + rise = {start + rise}, got {off}")

    def coefficient(t):
        up = np.clip((t - start) / rise, 0.0, 1.0)
        if off is None:
            return float(up)
        return float(min(up, np.clip(1.0 - (t - off) / rise, 0.0, 1.0)))

    return coefficient


#: What ``charge(..., coupling=...)`` accepts.
Coupling = PiecewiseConstant | Callable | np.ndarray


def coupling_value(coupling, t: float, tlist=None) -> float:
    r""":math:`\lambda(t)` of any accepted coupling (an array is read on ``tlist``)."""
    if isinstance(coupling, PiecewiseConstant):
        return float(coupling(t))
    if callable(coupling):
        return float(np.real(coupling(t)))
    values = np.asarray(coupling, dtype=float)
    if tlist is None or values.shape != np.shape(tlist):
        raise ValueError(
            f"an array coupling must have one value per time of tlist ({np.size(tlist)}), "
            f"got shape {values.shape}"
        )
    return float(np.interp(t, tlist, values))


def qutip_coefficient(coupling, tlist):
    """``coupling`` in a form ``qutip.QobjEvo`` takes (a function of t, or an array on tlist)."""
    if isinstance(coupling, PiecewiseConstant):
        return lambda t: float(coupling(t))
    if callable(coupling):
        return coupling
    coupling_value(coupling, tlist[0], tlist)  # checks the array's shape
    return np.asarray(coupling, dtype=float)


def switched_qobjevo(H, H0, coupling, tlist):
    r"""The ``QobjEvo`` :math:`H_0 + \lambda(t)(H - H_0)` (``H`` at :math:`\lambda = 1`, ``H0`` at 0)."""
    return qutip.QobjEvo([H0, [H - H0, qutip_coefficient(coupling, tlist)]], tlist=tlist)
