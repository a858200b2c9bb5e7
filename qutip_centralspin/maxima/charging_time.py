r"""The charging time :math:`\tau` of a quantum battery, by either definition in the literature.

Charging starts at :math:`t_0` (here :math:`t_0 = 0`, the time of the initial state), the stored
energy is :math:`\Delta E_B(t) = E_B(t) - E_B(t_0)` and the average power
:math:`P_B(t) = \Delta E_B(t)/(t - t_0)`. Two definitions of :math:`\tau` are in use:

``"first_peak"``
    Ferraro et al., PRL 120, 117702 (2018): :math:`\tau` is the time of the *first* maximum of
    the stored energy, the first local maximum of :math:`\Delta E_B(t)` for :math:`t > t_0`
    (:func:`~qutip_centralspin.max_energy` with ``peak="first"``), and the power is
    :math:`P = \Delta E_B(\tau)/(\tau - t_0)`.
``"max_power"``
    Peng et al. (the seed paper), Eq. (3): :math:`\tau` is the time of the largest average
    power, :math:`P_{max} = \max_{t > t_0} P_B(t) = P_B(\tau)`
    (:func:`~qutip_centralspin.max_power`), and the energy is
    :math:`\Delta E_B(\tau) = P_{max}(\tau - t_0)`.

The two agree when :math:`\Delta E_B` rises to its first peak faster than linearly and no later
time has a larger ratio; in general they do not (a slow first peak, a higher later one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ..results import Maximum
from .certified import CERTIFIED_RTOL, max_energy, max_power

__all__ = ["ChargingTime", "charging_time"]

#: The definitions of the charging time (module notes).
Definition = Literal["first_peak", "max_power"]
DEFINITIONS = ("first_peak", "max_power")


@dataclass(frozen=True)
class ChargingTime:
    r"""A charging time :math:`\tau`, the power and the stored energy there.

    Attributes
    ----------
    definition : {"first_peak", "max_power"}
        Which definition of :math:`\tau` (module notes).
    time : float
        :math:`\tau - t_0`. ``0`` for a state that cannot gain energy with ``"first_peak"``
        (no charging peak); ``inf`` for ``"max_power"`` when :math:`P_B \to 0` only as
        :math:`t\to\infty`.
    power : float
        :math:`P = \Delta E_B(\tau)/(\tau - t_0)` (its limit :math:`\dot E_B(t_0)` if
        :math:`\tau = t_0`; ``0`` if :math:`\tau = \infty`).
    energy : float
        :math:`\Delta E_B(\tau)` (``0`` when :math:`\tau = \infty`: no gain at any finite
        time).
    time_bracket : tuple of float or None
        A proven bracket of :math:`\tau - t_0` (``None`` if not certified).
    converged : bool
        Whether the underlying maximum is certified (:class:`~qutip_centralspin.results.Maximum`).
    reason : str
        Why not, if not.
    maximum : Maximum
        The certified maximum :math:`\tau` was read from: of :math:`\Delta E_B` (first peak)
        or of :math:`P_B`.
    """

    definition: str
    time: float
    power: float
    energy: float
    time_bracket: tuple[float, float] | None
    converged: bool
    reason: str
    maximum: Maximum


def charging_time(
    model,
    psi0,
    *,
    definition: Definition = "first_peak",
    rtol: float = CERTIFIED_RTOL,
    engine=None,
) -> ChargingTime:
    r"""The charging time :math:`\tau` and the power :math:`P(\tau)` by one of two definitions.

    Parameters
    ----------
    model, psi0, engine
        As for :func:`~qutip_centralspin.max_power`.
    definition : {"first_peak", "max_power"}, default "first_peak"
        ``"first_peak"``: :math:`\tau` is the first local maximum of :math:`\Delta E_B(t)`,
        :math:`t > t_0` (Ferraro et al. 2018), :math:`P = \Delta E_B(\tau)/(\tau - t_0)`.
        ``"max_power"``: :math:`\tau` maximises :math:`P_B(t) = \Delta E_B(t)/(t - t_0)`
        (the seed paper, Eq. 3), :math:`\Delta E_B(\tau) = P_{max}(\tau - t_0)`.
    rtol : float, default 1e-10
        Relative width of the certified bracket of the maximum.

    Returns
    -------
    ChargingTime

    Raises
    ------
    ValueError
        For an unknown ``definition``, and as :func:`~qutip_centralspin.max_power`.

    Examples
    --------
    One battery spin charged by four charger spins, two of them up, oscillates with one Bohr
    frequency: its first energy peak is a full charge at half a Rabi period, while the power
    peaks earlier.

    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.maxima.charging_time import charging_time
    >>> model = CentralSpinModel(n_battery=1, n_charger=4)
    >>> first = charging_time(model, (0, 2), definition="first_peak")
    >>> round(first.energy, 10), round(first.time, 6)  # pi / (2 sqrt(6)): E = B
    (1.0, 0.641275)
    >>> fastest = charging_time(model, (0, 2), definition="max_power")
    >>> fastest.time < first.time and fastest.power > first.power
    True
    """
    if definition not in DEFINITIONS:
        raise ValueError(
            f"definition must be one of {', '.join(map(repr, DEFINITIONS))}; got {definition!r}"
        )
    if definition == "first_peak":
        peak = max_energy(model, psi0, rtol=rtol, engine=engine, peak="first")
        time, energy = peak.time, peak.value
        if time > 0 and math.isfinite(time):
            power = energy / time
        elif time == 0 and peak.converged:  # no charging peak: tau = t0, nothing stored
            power = 0.0
        else:
            power = math.nan
        return ChargingTime(
            definition, time, power, energy, peak.time_bracket, peak.converged, peak.reason, peak
        )
    best = max_power(model, psi0, rtol=rtol, engine=engine)
    energy = best.value * best.time if math.isfinite(best.time) else 0.0
    return ChargingTime(
        definition,
        best.time,
        best.value,
        energy,
        best.time_bracket,
        best.converged,
        best.reason,
        best,
    )
