"""The rigorous constants of one evolution (``_Bounds``: derivative bounds, ceilings) and
the round-off model of its evaluations, shared by every certified search of
:mod:`qutip_centralspin.maxima.certified`."""

from __future__ import annotations

import math
import sys

import numpy as np

from ..results import Maximum

__all__: list[str] = []

#: Round-off of one evaluation of Delta E_B(t): this many ulps of its size S_0 = max(M_0, the
#: energy scale of the state) ...
ROUNDOFF_ULPS = 64
#: ... plus this many ulps of t (Lambda S_0 + M_1), the rounding of the phases lambda_a t
#: (measured against 40-digit arithmetic: <= 0.2 such ulps up to Lambda t ~ 1e4).
PHASE_ULPS = 2
#: A gain is resolved when it exceeds this many round-off floors.
RESOLVE_FACTOR = 4
#: A state is stationary to its own rounding when sum |rho_ab| (omega_ab != 0) is below this
#: many ulps per matrix element of its occupied sectors.
STATIONARY_ULPS = 64

_EPS, _TINY = float(np.finfo(float).eps), float(np.finfo(float).tiny)


class _Bounds:
    """The rigorous constants of one evolution and the round-off model of its evaluations."""

    def __init__(self, evo):
        self.evo = evo
        moments = tuple(evo.derivative_bound(k) for k in range(5))
        self.m = moments
        self.levels = evo.max_level()
        self.ceiling = evo.energy_ceiling()
        self.rate0 = evo.initial_rate()
        checked = (*moments, self.levels, self.ceiling, self.rate0, evo.initial_energy)
        if not all(map(math.isfinite, checked)):
            raise ValueError(
                "cannot certify the maximum: the derivative bounds M_k, the levels, the energy "
                "ceiling, E_B(0) or dE_B/dt(0) overflow (not finite); the energies B, h, A, "
                "delta or the Bohr frequencies leave the double range"
            )
        for k in range(2, 5):  # E_B moves (M_1 > 0): every M_k > 0; a zero is an underflow
            if moments[k - 1] > 0 and moments[k] < sys.float_info.min:
                raise ValueError(
                    f"cannot certify the maximum: the derivative bound M_{k} = {moments[k]:.3g} "
                    f"underflows (M_{k - 1} = {moments[k - 1]:.3g}): the time scale of the "
                    "dynamics is too far from the energy scale for double precision (e.g. A "
                    "tiny next to B or h); bring the parameters closer together"
                )
        self.size = max(moments[0], evo.energy_scale())
        self.omega = evo.max_frequency()
        self.oscillation = evo.oscillation_amplitude()
        #: what the dropped negligible amplitudes can add to E_B^(k), k = 0..3 (0 if none)
        self.truncation = tuple(evo.truncation_bound(k) for k in range(4))
        #: round-off of the ceiling D itself
        self.ceiling_floor = ROUNDOFF_ULPS * _EPS * self.size
        #: error of Delta E_B near t = 0: round-off and truncation
        self.floor = self.ceiling_floor + self.truncation[0]
        #: error(t) = floor + slope * t for Delta E_B
        self.slope = PHASE_ULPS * _EPS * (self.levels * self.size + moments[1])
        mean = evo.time_average_energy() - evo.initial_energy
        #: D*: sup of Delta E_B over all t >= 0, round-off included
        self.gain_bound = min(self.ceiling, mean + self.oscillation) + self.floor
        self.rate_error = ROUNDOFF_ULPS * _EPS * moments[1] + self.truncation[1]

    def error(self, t, order: int = 0):
        """Round-off (and truncation) error of the ``order``-th derivative of E_B (or of
        Delta E_B) evaluated at t."""
        if order == 0:
            return self.floor + self.slope * t
        size = self.m[order]
        phase = t * (self.levels * size + self.m[order + 1])
        return _EPS * (ROUNDOFF_ULPS * size + PHASE_ULPS * phase) + self.truncation[order]

    def energy_errors(self, t: float):
        return self.error(t, 0), self.error(t, 1), self.error(t, 2)

    def energy_noise(self, t):
        return self.error(np.asarray(t, dtype=float))

    def power_noise(self, t):
        """Round-off of P = Delta E_B / t at the times t (of dE_B/dt(0) at t = 0)."""
        t = np.asarray(t, dtype=float)
        positive = t > 0
        return np.where(positive, self.error(t) / np.where(positive, t, 1.0), self.rate_error)

    def power_errors(self, t: float):
        """Round-off of P, P', P'' at t > 0 (from P^(k) = (Delta E^(k) - k P^(k-1)) / t)."""
        p0 = self.error(t, 0) / t
        p1 = (self.error(t, 1) + p0) / t
        return p0, p1, (self.error(t, 2) + 2 * p1) / t

    def power_derivative_bound(self, order: int) -> float:
        r"""Bound on :math:`|P_B^{(k)}(t)|` for all :math:`t > 0`, ``order`` = k:
        :math:`M_{k+1}/(k+1)`, from :math:`P_B^{(k)}(t) = \int_0^1 u^k E_B^{(k+1)}(ut)\,du`
        (attained as :math:`t \to 0` when one frequency dominates: :math:`P_B^{(k)}(0) =
        E_B^{(k+1)}(0)/(k+1)`)."""
        return self.m[order + 1] / (order + 1)

    def power_cap(self, gain: float) -> float:
        r"""Bound on P_B for all t when :math:`\Delta E_B \le` ``gain``: the largest
        :math:`\min(g/t, \dot E_B(0) + M_2 t/2)`, and :math:`M_1`."""
        rate = self.rate0 + self.rate_error
        if gain <= 0:
            return max(rate, 0.0)
        return min(0.5 * (rate + math.sqrt(rate * rate + 2 * self.m[2] * gain)), self.m[1])

    def structural(self, power: bool, window: float) -> Maximum | None:
        """The answers decided without a scan: ``E_B`` constant, no room above ``E_B(0)``,
        stationary to round-off (all converged, value 0), or a gain below round-off (not)."""
        evo = self.evo
        if self.omega == 0 or self.oscillation == 0:
            return _zero(power, window, 0.0, "")
        if self.ceiling <= self.ceiling_floor:
            # every occupied sector sits at its top level (D = 0 up to the round-off of D):
            # Delta E_B <= 0 and P_B <= 0 for all t, exactly 0 at t = 0 and as t -> inf
            return _zero(power, window, 0.0, "")
        if self.gain_bound > RESOLVE_FACTOR * self.floor:
            return None
        upper = self.power_cap(self.gain_bound) if power else self.gain_bound
        elements = sum(sec.energies.size**2 for sec in evo.occupied_sectors)
        if evo.coherence() <= STATIONARY_ULPS * _EPS * elements:
            return _zero(power, window, upper, "")  # stationary to the state's own rounding
        return _zero(
            power,
            window,
            upper,
            f"not resolvable in double precision: Delta E_B(t) <= {self.gain_bound:.3g} at all "
            f"times, below the round-off floor {RESOLVE_FACTOR * self.floor:.3g} of E_B "
            f"(|E_B(0)| = {abs(evo.initial_energy):.3g}); the state does evolve",
        )


def _zero(power: bool, window: float, upper: float, reason: str) -> Maximum:
    """``value = 0`` decided by structure: converged iff ``reason`` is empty."""
    return Maximum(
        0.0,
        math.inf if power else 0.0,
        float(upper),
        (0.0, math.inf if power else float(window)),
        converged=not reason,
        time_bracket=None,
        horizon=math.inf,
        tolerance=None if reason else float(upper),
        reason=reason,
    )
