r"""Exact closed evolution of a mixture of independent central-spin problems.

A state that is a weighted sum of states of *different* models sharing one battery,
:math:`\rho = \sum_r w_r\,\rho^{(r)}`, evolves part by part when :math:`H` conserves what tells
the parts apart (for the physical thermal charger, :mod:`qutip_centralspin.thermal`: the
total charger spin :math:`j_C`). Everything linear in the state is then the weighted sum:

.. math::

    E_B(t) = \sum_r w_r E_B^{(r)}(t), \qquad
    \rho_B(t) = \sum_r w_r\,\rho_B^{(r)}(t),

each :math:`E_B^{(r)}` from its own exact sector engine
(:class:`~qutip_centralspin.solvers.sector.SectorEvolution`). :class:`MixtureEvolution` offers
what the certified maxima (:mod:`qutip_centralspin.maxima`) and the ergotropy
(:mod:`qutip_centralspin.ergotropy`) read from a ``SectorEvolution``, each bound rigorous for the
sum: the derivative bounds :math:`M_k`, the oscillation amplitude, the energy ceiling and the
trace-norm bounds of :math:`d^k\rho/dt^k` add with the weights (triangle inequality); the
frequencies and levels are the largest over the parts.

Parts that do not move (e.g. a charger singlet, :math:`j_C = 0`, which does not couple to the
battery) enter as one ``stationary`` battery state with its weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import qutip

from .sector import SectorEvolution

__all__ = ["MixtureEvolution"]


class MixtureEvolution:
    r"""Exact evolution of :math:`\sum_r w_r\rho^{(r)}` over several central-spin models.

    Parameters
    ----------
    model : CentralSpinModel
        The model the mixture stands for (its ``n_battery`` and ``B`` are every part's; the
        certified maxima rescale with its parameters).
    parts : sequence of (float, SectorEvolution)
        Weights :math:`w_r > 0` and the exact evolutions of the parts, all with the same
        battery (``n_battery`` and ``B``).
    stationary : (float, ndarray), optional
        Weight and battery state :math:`\rho_B` (``(N_B+1, N_B+1)``, ``jmat`` order) of the
        parts that do not evolve.
    neglected_weight : float, default 0
        Weight of parts left out (not renormalised: the weights of ``parts`` and
        ``stationary`` sum to ``1 - neglected_weight``).
    power_error_bound : float, default 0
        Bound on :math:`|P_B|` of the neglected parts for all t, times their weight.

    Attributes
    ----------
    energy_error_bound : float
        :math:`\varepsilon|B|N_B`: bound on the :math:`\Delta E_B` of the neglected parts at
        every time (:math:`|\Delta E_B| \le |B|N_B` for any state).
    power_error_bound : float
        The same for :math:`P_B`.
    """

    is_ket = False

    def __init__(
        self,
        model,
        parts: Sequence[tuple[float, SectorEvolution]],
        *,
        stationary: tuple[float, np.ndarray] | None = None,
        neglected_weight: float = 0.0,
        power_error_bound: float = 0.0,
    ):
        self.model = model
        self.parts = tuple((float(w), evo) for w, evo in parts)
        nb1 = model.n_battery + 1
        for w, evo in self.parts:
            if not w > 0:
                raise ValueError(f"weights of the parts must be > 0, got {w!r}")
            if (evo.model.n_battery, evo.model.B) != (model.n_battery, model.B):
                raise ValueError("every part must have the battery (n_battery, B) of model")
        if stationary is None:
            stationary = (0.0, np.zeros((nb1, nb1)))
        weight, rho_b = stationary
        self.stationary_weight = float(weight)
        self.stationary_battery = np.asarray(rho_b, dtype=complex).reshape(nb1, nb1)
        levels = model.B * (model.n_battery / 2 - np.arange(nb1))  # jmat order
        self._stationary_energy = self.stationary_weight * float(
            np.real(np.diagonal(self.stationary_battery)) @ levels
        )
        self.neglected_weight = float(neglected_weight)
        self.energy_error_bound = self.neglected_weight * abs(model.B) * model.n_battery
        self.power_error_bound = float(power_error_bound)
        self.initial_energy = self._stationary_energy + math.fsum(
            w * evo.initial_energy for w, evo in self.parts
        )

    def _sum(self, values) -> float:
        return math.fsum(w * v for (w, _), v in zip(self.parts, values, strict=True))

    # -- observables -----------------------------------------------------------------------
    def battery_energy(self, t) -> np.ndarray:
        """:math:`E_B(t) = \\sum_r w_r E_B^{(r)}(t)` (plus the stationary parts)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.full(t.shape, self._stationary_energy)
        for w, evo in self.parts:
            out += w * evo.battery_energy(t)
        return out

    def delta_energy(self, t) -> np.ndarray:
        """:math:`\\Delta E_B(t) = \\sum_r w_r \\Delta E_B^{(r)}(t)`."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros(t.shape)
        for w, evo in self.parts:
            out += w * evo.delta_energy(t)
        return out

    def power(self, t) -> np.ndarray:
        """:math:`P_B(t) = \\Delta E_B(t)/t`; at ``t = 0`` its limit :math:`\\dot E_B(0)`."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros(t.shape)
        for w, evo in self.parts:
            out += w * evo.power(t)
        return out

    def initial_rate(self) -> float:
        """:math:`\\dot E_B(0)`."""
        return self._sum(evo.initial_rate() for _, evo in self.parts)

    def energy_derivatives(self, t: float) -> tuple[float, float, float, float]:
        """:math:`E_B` and its first three time derivatives at one time ``t``."""
        rows = np.array([evo.energy_derivatives(t) for _, evo in self.parts]).reshape(-1, 4)
        weights = np.array([w for w, _ in self.parts])
        e, d1, d2, d3 = (weights @ rows).tolist()
        return e + self._stationary_energy, d1, d2, d3

    def power_derivatives(self, t: float) -> tuple[float, float, float, float]:
        """:math:`P_B` and its first three time derivatives at one time ``t > 0``."""
        e, d1, d2, d3 = self.energy_derivatives(t)
        p = (e - self.initial_energy) / t
        p1 = (d1 - p) / t
        p2 = (d2 - 2 * p1) / t
        return p, p1, p2, (d3 - 3 * p2) / t

    def reduced_battery_matrices(self, t) -> np.ndarray:
        r""":math:`\rho_B(t) = \sum_r w_r\rho_B^{(r)}(t)`, shape ``(len(t), N_B+1, N_B+1)``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        still = self.stationary_weight * self.stationary_battery
        out = np.repeat(still[None], t.size, axis=0)
        for w, evo in self.parts:
            out += w * evo.reduced_battery_matrices(t)
        return out

    def reduced_battery_state(self, t):
        r""":math:`\rho_B(t)` as ``Qobj`` (dims ``[[N_B+1], [N_B+1]]``); a list for an array ``t``."""
        nb1 = self.model.n_battery + 1
        states = [qutip.Qobj(r, dims=[[nb1], [nb1]]) for r in self.reduced_battery_matrices(t)]
        return states[0] if np.ndim(t) == 0 else states

    # -- certification data (sums and maxima of the parts' bounds) ---------------------------
    def derivative_bound(self, order: int) -> float:
        """:math:`\\sum_r w_r M_k^{(r)} \\ge |d^k E_B/dt^k|` for all t."""
        return self._sum(evo.derivative_bound(order) for _, evo in self.parts)

    def truncation_bound(self, order: int) -> float:
        """:math:`\\sum_r w_r` (truncation bound of part r): what the parts' spectral forms
        leave out (:meth:`SectorEvolution.truncation_bound`)."""
        return self._sum(evo.truncation_bound(order) for _, evo in self.parts)

    def oscillation_amplitude(self) -> float:
        """:math:`\\sum_r w_r` (oscillation amplitude of part r): bound on :math:`|E_B - \\bar E_B|`."""
        return self._sum(evo.oscillation_amplitude() for _, evo in self.parts)

    def time_average_energy(self) -> float:
        """:math:`\\bar E_B = \\sum_r w_r\\bar E_B^{(r)}` (plus the stationary parts)."""
        return self._stationary_energy + self._sum(
            evo.time_average_energy() for _, evo in self.parts
        )

    def energy_ceiling(self) -> float:
        """:math:`\\sum_r w_r D^{(r)}`: each part stays below its own ceiling."""
        return self._sum(evo.energy_ceiling() for _, evo in self.parts)

    def energy_scale(self) -> float:
        """:math:`\\sum_r w_r\\max(M_0^{(r)}, S^{(r)})`: at least the weighted round-off scale of
        every part (so the round-off allowance of the sum covers the parts')."""
        return self._sum(
            max(evo.derivative_bound(0), evo.energy_scale()) for _, evo in self.parts
        ) + abs(self._stationary_energy)

    def max_frequency(self) -> float:
        """Largest Bohr frequency of any part."""
        return max((evo.max_frequency() for _, evo in self.parts), default=0.0)

    def max_level(self) -> float:
        """Largest :math:`|\\lambda_a|` of any part."""
        return max((evo.max_level() for _, evo in self.parts), default=0.0)

    def coherence(self) -> float:
        """:math:`\\sum_r w_r` (coherence of part r)."""
        return self._sum(evo.coherence() for _, evo in self.parts)

    def state_derivative_bound(self, order: int) -> float:
        """:math:`\\sum_r w_r\\|d^k\\rho^{(r)}/dt^k\\|_1` (``k = 1, 2``)."""
        return self._sum(evo.state_derivative_bound(order) for _, evo in self.parts)

    @property
    def has_sector_coherences(self) -> bool:
        """Whether any part's rho_B(t) can hold coherences (see :class:`SectorEvolution`)."""
        return any(evo.has_sector_coherences for _, evo in self.parts)

    @property
    def occupied_sectors(self) -> list:
        """The occupied sectors of every part."""
        return [sec for _, evo in self.parts for sec in evo.occupied_sectors]

    def rescaled(self, exponent: int) -> MixtureEvolution:
        """The same mixture under :math:`2^k H` (see :meth:`SectorEvolution.rescaled`)."""
        model = self.model.replace(
            **{n: math.ldexp(getattr(self.model, n), exponent) for n in ("B", "h", "A", "delta")}
        )
        return MixtureEvolution(
            model,
            [(w, evo.rescaled(exponent)) for w, evo in self.parts],
            stationary=(self.stationary_weight, self.stationary_battery),
            neglected_weight=self.neglected_weight,
            power_error_bound=math.ldexp(self.power_error_bound, 2 * exponent),
        )
