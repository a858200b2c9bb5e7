r"""One result type for every solver, and the one time-origin convention.

Time origin (every path)
------------------------
As in QuTiP, the initial state is the state at ``tlist[0]`` (:math:`t_0`, the start of
charging, which need not be 0). Every solver path measures from it:

.. math::

    \Delta E_B(t) = E_B(t) - E_B(t_0), \qquad
    P_B(t) = \frac{\Delta E_B(t)}{t - t_0}, \qquad
    P_B(t_0) = \lim_{t\to t_0} P_B(t) = \dot E_B(t_0).

:func:`average_power` is that rule, written once; the solvers and the ``e_ops`` callbacks of
:mod:`qutip_centralspin.observables.energy` call it.

This module depends on no solver: solvers build a :class:`ChargingResult`, ``charge`` returns
it, and the maxima live beside it (:class:`Maximum`, :func:`grid_maximum`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import qutip

from . import _checks

__all__ = ["ChargingResult", "Maximum", "average_power", "grid_maximum"]


def average_power(times, delta_energy, initial_rate: float) -> np.ndarray:
    r"""Average charging power :math:`P_B(t) = \Delta E_B(t)/(t - t_0)`, ``t0 = times[0]``.

    Parameters
    ----------
    times : array_like
        Increasing times; ``times[0]`` is the time origin :math:`t_0`.
    delta_energy : array_like
        :math:`\Delta E_B(t) = E_B(t) - E_B(t_0)` on ``times``.
    initial_rate : float
        :math:`\dot E_B(t_0)`, returned at :math:`t = t_0` (the limit of :math:`P_B`).

    Examples
    --------
    >>> average_power([1.0, 2.0, 3.0], [0.0, 0.5, 2.0], initial_rate=0.0)
    array([0. , 0.5, 1. ])
    """
    t = np.asarray(times, dtype=float)
    delta = np.asarray(delta_energy, dtype=float)
    elapsed = t - t[0]
    power = np.empty_like(delta)
    pos = elapsed > 0
    power[pos] = delta[pos] / elapsed[pos]
    power[~pos] = initial_rate
    return power


@dataclass(frozen=True)
class Maximum:
    r"""A maximum over time: value, where it is reached, and how sure we are.

    The certified maxima (:func:`~qutip_centralspin.max_power`,
    :func:`~qutip_centralspin.max_energy`) state a bracket ``[value, upper_bound]`` of the
    supremum over the times ``[0, horizon]``; see :mod:`qutip_centralspin.maxima.certified` for the method.
    Round-off is part of the statement: ``upper_bound`` includes an allowance for the rounding
    of every evaluation, and no result is ever certified below that floor.

    Attributes
    ----------
    value : float
        The maximum found: a lower bound of the supremum, attained at ``time`` (both up to the
        round-off of one evaluation). When nothing above round-off was resolved it is the exact
        lower bound ``0`` (``E_max``: :math:`\Delta E_B(0) = 0`; ``P_max``: :math:`P_B \to 0`
        as :math:`t\to\infty`), with ``converged=False`` and a ``reason``.
    time : float
        The time at which ``value`` is attained (``inf`` if the supremum is not attained).
    upper_bound : float
        Rigorous upper bound of the supremum over ``[0, horizon]`` (certified maxima), or the
        grid-error *estimate* (:func:`grid_maximum`, ``horizon=None``).
    window : tuple of float
        The time interval searched.
    converged : bool
        ``True`` only if the bracket is proven: ``upper_bound - value <= tolerance`` over
        ``[0, horizon]``, with ``value`` resolved above round-off (or ``0`` proven: a
        stationary state, or no room above :math:`E_B(0)`). ``False`` otherwise, with a
        ``reason``; the bracket still holds, only wider.
    time_bracket : tuple of float or None
        ``(t_lo, t_hi)`` holding every time where the supremum over ``[0, horizon]`` can be
        attained (the maximiser :math:`\tau`; at an interior peak a sign change of
        :math:`f'` with :math:`f'' < 0` proven in between). ``None`` if not certified: two
        maxima tie within the tolerance, the supremum is not attained (``time = inf``), or the
        result is not converged.
    horizon : float or None
        The bracket holds for all times in ``[0, horizon]``: ``inf`` for ``P_max`` and for an
        ``E_max`` that reaches the global energy ceiling, the window's end otherwise. ``None``
        when nothing is proven (:func:`grid_maximum`).
    tolerance : float or None
        The width the bracket had to meet: ``max(rtol * |value|, round-off floor)``, the floor
        being that of the evaluations where the bound is attained.
    reason : str
        Why the result is not converged (empty when it is).
    method : str
        ``"exact"`` (the exact engines: certified, or a grid estimate) or ``"twa"`` (a truncated
        Wigner estimate, :mod:`qutip_centralspin.maxima.estimates`): with ``method="auto"``, the
        path that was taken.
    """

    value: float
    time: float
    upper_bound: float
    window: tuple[float, float]
    converged: bool = True
    time_bracket: tuple[float, float] | None = None
    horizon: float | None = None
    tolerance: float | None = None
    reason: str = ""
    method: str = "exact"

    @property
    def error(self) -> float:
        """Width of the bracket, ``upper_bound - value``."""
        return self.upper_bound - self.value


def grid_maximum(tlist, values) -> Maximum:
    r"""Maximum of sampled data (e.g. a ``sesolve`` result) with its grid error *estimate*.

    Returns the best sample; ``upper_bound`` adds :math:`w^2\max|f''|/8`, with :math:`w` the
    largest grid step and :math:`f''` estimated from second differences. This is an estimate,
    not a proof: a grid coarser than the fastest oscillation can miss a peak entirely, so the
    result is never ``converged`` (``horizon=None``).

    Examples
    --------
    >>> grid_maximum([0.0, 1.0, 2.0], [0.0, 1.0, 0.0]).time
    1.0
    """
    t = _checks.time_list("tlist", tlist)
    v = np.asarray(values, dtype=float)
    if v.shape != t.shape:
        raise ValueError(f"values must have the shape of tlist {t.shape}, got {v.shape}")
    i = int(np.argmax(v))
    margin = 0.0
    if t.size > 2:
        # steps relative to the largest (w^2 f'' = the second difference on them): no
        # underflow of h^2 on tiny grids; a grid whose steps differ by ~1e300 gives inf
        s = np.diff(t) / np.diff(t).max()
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            second = 2 * (
                v[2:] / (s[1:] * (s[:-1] + s[1:]))
                - v[1:-1] / (s[:-1] * s[1:])
                + v[:-2] / (s[:-1] * (s[:-1] + s[1:]))
            )
            margin = float(np.abs(second).max() / 8)
        if not np.isfinite(margin):
            margin = np.inf
    return Maximum(
        float(v[i]),
        float(t[i]),
        float(v[i]) + margin,
        (float(t[0]), float(t[-1])),
        converged=False,
        reason="sampled on a grid: upper_bound is an estimate, not a proof",
    )


@dataclass(frozen=True, eq=False)
class ChargingResult:
    r"""Outcome of one charging run, whatever the solver, in QuTiP's ``Result`` vocabulary.

    Attributes
    ----------
    model : CentralSpinModel
    times : ndarray
        The ``tlist`` of the run; ``times[0]`` is the time origin :math:`t_0`.
    states : list of Qobj
        The states on ``times`` with ``options={"store_states": True}``, else ``[]`` (as in
        QuTiP). Closed paths and ``c_ops``: the full state. With ``processes``: the reduced
        battery state :math:`\rho_B(t)` in the j-resolved Dicke basis of ``qutip.piqs``
        (see :mod:`qutip_centralspin.models.basis`).
    final_state : Qobj or None
        The state at ``times[-1]`` with ``store_final_state`` or ``store_states``.
    e_data : dict
        The user's ``e_ops`` on ``times``: keys as given (dict keys, or list positions).
    stats : dict
        ``"solver"`` (the path used), ``"method"``, ``"init time"`` and ``"run time"``
        (seconds), plus the path's own counters.
    delta_energy : ndarray
        :math:`\Delta E_B(t) = E_B(t) - E_B(t_0)` (Eq. 2).
    power : ndarray
        :math:`P_B(t) = \Delta E_B(t)/(t - t_0)` (Eq. 3), its limit :math:`\dot E_B(t_0)` at
        :math:`t_0` (see :func:`average_power`).
    initial_energy : float
        :math:`E_B(t_0)`.
    initial_rate : float
        :math:`\dot E_B(t_0)`.
    solver : str
        ``"exact"``, ``"sesolve"``, ``"mesolve"``, ``"blocks"``, ``"piqs"``,
        ``"bruteforce"`` or ``"dicke"`` (:func:`~qutip_centralspin.solvers.dicke_engine.dicke_charge`).
    """

    model: object
    times: np.ndarray
    delta_energy: np.ndarray
    power: np.ndarray
    initial_energy: float
    initial_rate: float
    solver: str
    states: list = field(default_factory=list)
    final_state: qutip.Qobj | None = None
    e_data: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @classmethod
    def from_energy(
        cls,
        model,
        times,
        energy,
        *,
        initial_energy: float,
        initial_rate: float,
        solver: str,
        states=None,
        store_states: bool = False,
        store_final_state: bool = False,
        e_data=None,
        stats=None,
    ) -> ChargingResult:
        r"""Build a result from :math:`E_B` on ``times`` with the time-origin convention.

        ``states`` (if computed) are kept when ``store_states``; their last one is the
        ``final_state`` when ``store_states`` or ``store_final_state``.
        """
        times = np.asarray(times, dtype=float)
        delta = np.asarray(energy, dtype=float) - initial_energy
        if not (np.all(np.isfinite(delta)) and np.isfinite(initial_rate)):
            raise ValueError(
                f"solver={solver!r} produced non-finite energies (overflow or NaN): the model's "
                "energies are too large for double precision; rescale B, h, A, delta (and "
                "times inversely)"
            )
        states = list(states or [])
        final = states[-1] if states and (store_states or store_final_state) else None
        return cls(
            model=model,
            times=times,
            delta_energy=delta,
            power=average_power(times, delta, initial_rate),
            initial_energy=float(initial_energy),
            initial_rate=float(initial_rate),
            solver=solver,
            states=states if store_states else [],
            final_state=final,
            e_data=dict(e_data or {}),
            stats=dict(stats or {}),
        )

    @property
    def t0(self) -> float:
        """The time origin ``times[0]``: the time of the initial state."""
        return float(self.times[0])

    @property
    def expect(self) -> list[np.ndarray]:
        """The ``e_ops`` values as a list, in the order of ``e_data`` (QuTiP's ``expect``)."""
        return list(self.e_data.values())

    @property
    def energy_maximum(self) -> Maximum:
        """Largest sampled :math:`\\Delta E_B` on ``times``, with its grid error estimate."""
        return grid_maximum(self.times, self.delta_energy)

    @property
    def power_maximum(self) -> Maximum:
        """Largest sampled :math:`P_B` on ``times``, with its grid error estimate."""
        return grid_maximum(self.times, self.power)

    @property
    def e_max(self) -> float:
        """:math:`E_{max}` on the sampled ``times`` (:func:`~qutip_centralspin.max_energy`
        gives a certified one)."""
        return self.energy_maximum.value

    @property
    def p_max(self) -> float:
        """:math:`P_{max}` on the sampled ``times`` (:func:`~qutip_centralspin.max_power`
        gives a certified one)."""
        return self.power_maximum.value

    @property
    def t_pmax(self) -> float:
        """Time of :attr:`p_max` on the sampled ``times``."""
        return self.power_maximum.time

    def __repr__(self) -> str:
        m = self.model
        size = f"N_B={getattr(m, 'n_battery', '?')}, N={getattr(m, 'n_charger', '?')}"
        return (
            f"<ChargingResult solver={self.solver!r} {size} times=[{self.times[0]:g}, "
            f"{self.times[-1]:g}] ({self.times.size} points) states={len(self.states)} "
            f"e_data={list(self.e_data)}>"
        )
