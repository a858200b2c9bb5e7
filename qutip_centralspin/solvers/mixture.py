r"""Exact closed evolution of a mixture of independent central-spin problems.

A state that is a weighted sum of states of *different* models,
:math:`\rho = \sum_r w_r\,\rho^{(r)}`, evolves part by part when :math:`H` conserves what tells
the parts apart: the total charger spin :math:`j_C` (the physical thermal charger,
:mod:`qutip_centralspin.models.thermal`) and the total battery spin :math:`j_B` (the physical thermal
battery, :mod:`qutip_centralspin.models.thermal_battery`). Part :math:`r` is the central-spin problem
``CentralSpinModel(2 j_B, 2 j_C)`` with the same ``B, h, A, delta``: :math:`H` acts
identically on the :math:`d_{j_B} d_{j_C}` copies of a block, so its weight :math:`w_r`
collects all of them. Everything linear in the state is then the weighted sum:

.. math::

    E_B(t) = \sum_r w_r E_B^{(r)}(t), \qquad
    \rho_B(t) = \sum_r w_r\,\rho_B^{(r)}(t),

each :math:`E_B^{(r)}` from its own exact sector engine
(:class:`~qutip_centralspin.solvers.sector.SectorEvolution`). :class:`MixtureEvolution` offers
what the certified maxima (:mod:`qutip_centralspin.maxima.certified`) and the ergotropy
(:mod:`qutip_centralspin.observables.ergotropy`) read from a ``SectorEvolution``, each bound rigorous for the
sum: the derivative bounds :math:`M_k`, the oscillation amplitude, the energy ceiling and the
trace-norm bounds of :math:`d^k\rho/dt^k` add with the weights (triangle inequality); the
frequencies and levels are the largest over the parts.

The battery's reduced state
---------------------------
When every part has the full battery :math:`j_B = N_B/2` (``basis="symmetric"``),
:math:`\rho_B(t)` is a matrix on the :math:`N_B + 1` symmetric levels (``jmat`` order). When
the parts have different battery spins (``basis="piqs"``), :math:`\rho_B(t)` is block diagonal
over :math:`j_B` and is written in the j-resolved Dicke basis of ``qutip.piqs``
(:mod:`qutip_centralspin.models.basis`): ladder :math:`j_B = N_B/2 - q` holds
:math:`\sum_{r \in q} w_r\rho_B^{(r)}(t)` (the PIQS normalisation: a block sums its
:math:`d_{j_B}` copies). :meth:`MixtureEvolution.reduced_battery_blocks` gives the blocks
without the zeros between them.

Parts that do not move (a charger singlet :math:`j_C = 0` or a battery singlet
:math:`j_B = 0`, which do not couple) enter as ``stationary`` battery blocks with their
weights: no engine, memory of the size of the battery block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import qutip

from ..models.basis import battery_dims, embed_ladders
from .sector import SectorEvolution

__all__ = ["WeightedEvolution", "MixtureEvolution"]


class WeightedEvolution:
    r"""Exact evolution of :math:`\sum_r w_r\rho^{(r)}` over independent exact evolutions.

    What is linear in the state is the weighted sum of the parts': :math:`E_B(t)`, its
    derivatives, and every certification bound of :mod:`qutip_centralspin.maxima.certified` (sums with
    the weights, or maxima over the parts; module notes). The parts may be evolutions of any
    model with the :class:`~qutip_centralspin.solvers.sector.SectorEvolution` interface (e.g.
    the multi-group engine of :mod:`qutip_centralspin.models.groups`); :class:`MixtureEvolution` adds
    the ladders of the central-spin model and the battery's reduced state.

    Parameters
    ----------
    model
        The model the mixture stands for.
    parts : sequence of (float, SectorEvolution)
        Weights :math:`w_r > 0` and the exact evolutions of the parts.
    stationary_energy : float, default 0
        :math:`\sum_s w_s E_B^{(s)}` of parts that do not evolve (added to :math:`E_B(t)`).

    Raises
    ------
    ValueError
        If a weight is not > 0.
    """

    is_ket = False

    def __init__(
        self,
        model,
        parts: Sequence[tuple[float, SectorEvolution]],
        *,
        stationary_energy: float = 0.0,
    ):
        self.model = model
        self.parts = tuple((float(w), evo) for w, evo in parts)
        for w, _ in self.parts:
            if not w > 0:
                raise ValueError(f"weights of the parts must be > 0, got {w!r}")
        self._stationary_energy = float(stationary_energy)
        self.initial_energy = self._stationary_energy + math.fsum(
            w * evo.initial_energy for w, evo in self.parts
        )

    def _sum(self, values) -> float:
        return math.fsum(w * v for (w, _), v in zip(self.parts, values, strict=True))

    # -- observables -----------------------------------------------------------------------
    def battery_energy(self, t) -> np.ndarray:
        """:math:`E_B(t) = \\sum_r w_r E_B^{(r)}(t)` (plus the stationary parts)."""
        return self._weighted("battery_energy", t) + self._stationary_energy

    def _weighted(self, name: str, t) -> np.ndarray:
        """:math:`\\sum_r w_r f^{(r)}(t)` of the moving parts' method ``name``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros(t.shape)
        for w, evo in self.parts:
            out += w * getattr(evo, name)(t)
        return out

    def delta_energy(self, t) -> np.ndarray:
        """:math:`\\Delta E_B(t) = \\sum_r w_r \\Delta E_B^{(r)}(t)`."""
        return self._weighted("delta_energy", t)

    def power(self, t) -> np.ndarray:
        """:math:`P_B(t) = \\Delta E_B(t)/t`; at ``t = 0`` its limit :math:`\\dot E_B(0)`."""
        return self._weighted("power", t)

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

    @property
    def certifiable(self) -> bool:
        """Whether every part has the spectral form the certified maxima need (a part on
        the sparse group path has not: :mod:`qutip_centralspin.maxima.grid` estimates)."""
        return all(getattr(evo, "certifiable", True) for _, evo in self.parts)

    # -- certification data (sums and maxima of the parts' bounds) ---------------------------
    def derivative_bound(self, order: int) -> float:
        """:math:`\\sum_r w_r M_k^{(r)} \\ge |d^k E_B/dt^k|` for all t (for ``k = 0`` plus
        :math:`|E_B|` of the stationary parts, which :math:`E_B` includes)."""
        moving = self._sum(evo.derivative_bound(order) for _, evo in self.parts)
        return moving + abs(self._stationary_energy) if order == 0 else moving

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
    def battery_diagonal(self) -> bool:
        """Whether every part's rho_B(t) is diagonal (see :class:`SectorEvolution`)."""
        return all(evo.battery_diagonal for _, evo in self.parts)

    @property
    def occupied_sectors(self) -> list:
        """The occupied sectors of every part."""
        return [sec for _, evo in self.parts for sec in evo.occupied_sectors]


class MixtureEvolution(WeightedEvolution):
    r"""Exact evolution of :math:`\sum_r w_r\rho^{(r)}` over several central-spin models.

    Parameters
    ----------
    model : CentralSpinModel
        The model the mixture stands for: :math:`N_B` = ``model.n_battery`` physical battery
        spins, its ``B`` (and ``h, A, delta``) every part's; the certified maxima rescale with
        its parameters.
    parts : sequence of (float, SectorEvolution)
        Weights :math:`w_r > 0` and the exact evolutions of the parts. Every part has the
        field ``B`` of ``model`` and a battery of :math:`N_B - 2q` spins, ``q >= 0`` (the
        ladder :math:`j_B = N_B/2 - q`).
    stationary : sequence of (float, ndarray), optional
        Parts that do not evolve: weight and the normalised battery state of each, a
        ``(2j_B+1, 2j_B+1)`` matrix in ``jmat`` order whose size names its ladder.
    neglected_weight : float, default 0
        Weight of parts left out (not renormalised: the weights of ``parts`` and
        ``stationary`` sum to ``1 - neglected_weight``).
    power_error_bound : float, default 0
        Bound on :math:`|P_B|` of the neglected parts for all t, times their weight.
    basis : {"symmetric", "piqs"}, optional
        The basis of :math:`\rho_B` (module notes). Default: ``"symmetric"`` when every part is
        on the full battery ladder, else ``"piqs"``. A state that may span several ladders
        passes ``"piqs"``, so its basis does not depend on which weights underflow.

    Attributes
    ----------
    stationary : tuple of (float, ndarray)
        The stationary parts as given.
    stationary_weight : float
        Their total weight.
    basis : str
        ``"symmetric"`` or ``"piqs"``.
    battery_dim : int
        Size of :math:`\rho_B`: :math:`N_B + 1` or ``qutip.piqs.num_dicke_states(N_B)``.
    energy_error_bound : float
        :math:`\varepsilon|B|N_B`: bound on the :math:`\Delta E_B` of the neglected parts at
        every time (:math:`|\Delta E_B| \le |B|N_B` for any state).
    power_error_bound : float
        The same for :math:`P_B`.

    Raises
    ------
    ValueError
        If a weight is not > 0, a part has another ``B`` or a battery not on a ladder of
        :math:`N_B` spins, a stationary block has no ladder's size, or ``basis`` is unknown or
        ``"symmetric"`` with a part off the full ladder.
    """

    def __init__(
        self,
        model,
        parts: Sequence[tuple[float, SectorEvolution]],
        *,
        stationary: Sequence[tuple[float, np.ndarray]] = (),
        neglected_weight: float = 0.0,
        power_error_bound: float = 0.0,
        basis: Literal["symmetric", "piqs"] | None = None,
    ):
        self.model = model
        nb = model.n_battery
        parts = tuple((float(w), evo) for w, evo in parts)
        self._ladders = []
        for w, evo in parts:
            if not w > 0:
                raise ValueError(f"weights of the parts must be > 0, got {w!r}")
            q = (nb - evo.model.n_battery) / 2
            if evo.model.B != model.B or not (q >= 0 and q.is_integer()):
                raise ValueError(
                    f"every part must have the field B = {model.B!r} of model and N_B - 2q "
                    f"battery spins (q = 0..{nb // 2}), got B = {evo.model.B!r}, "
                    f"n_battery = {evo.model.n_battery}"
                )
            self._ladders.append(int(q))
        self._stationary: dict[int, np.ndarray] = {}
        self.stationary = tuple((float(w), np.asarray(rho)) for w, rho in stationary)
        self.stationary_weight = 0.0
        for weight, rho in self.stationary:
            rho = np.asarray(rho, dtype=complex)
            q = (nb + 1 - rho.shape[0]) / 2 if rho.ndim == 2 else -1.0
            if rho.ndim != 2 or rho.shape[0] != rho.shape[1] or not (q >= 0 and q.is_integer()):
                raise ValueError(
                    f"a stationary battery block must be a square matrix of size N_B + 1 - 2q "
                    f"(N_B = {nb}, q = 0..{nb // 2}), got shape {rho.shape}"
                )
            q = int(q)
            self._stationary[q] = self._stationary.get(q, 0) + float(weight) * rho
            self.stationary_weight += float(weight)
        ladders = set(self._ladders) | set(self._stationary)
        if basis is None:
            basis = "symmetric" if ladders <= {0} else "piqs"
        if basis not in ("symmetric", "piqs"):
            raise ValueError(f"basis must be 'symmetric' or 'piqs', got {basis!r}")
        if basis == "symmetric" and not ladders <= {0}:
            raise ValueError(
                "basis='symmetric' needs every part on the full battery ladder j_B = N_B/2; "
                f"got ladders q = {sorted(ladders)}"
            )
        self.basis = basis
        self.battery_dim = nb + 1 if basis == "symmetric" else battery_dims(nb)
        stationary_energy = math.fsum(
            float(np.real(np.diagonal(rho)) @ self._levels(q))
            for q, rho in self._stationary.items()
        )
        super().__init__(model, parts, stationary_energy=stationary_energy)
        self.neglected_weight = float(neglected_weight)
        self.energy_error_bound = self.neglected_weight * abs(model.B) * model.n_battery
        self.power_error_bound = float(power_error_bound)

    def _levels(self, q: int) -> np.ndarray:
        r""":math:`B m_z` of ladder ``q``, ``jmat`` order (:math:`m_z = j, \dots, -j`)."""
        j = self.model.n_battery / 2 - q
        return self.model.B * (j - np.arange(self.model.n_battery - 2 * q + 1))

    def reduced_battery_blocks(self, t) -> dict[int, np.ndarray]:
        r"""The ladder blocks of :math:`\rho_B(t)`: ``{q: (len(t), 2j+1, 2j+1)}``,
        :math:`j = N_B/2 - q`, each :math:`\sum_{r\in q} w_r\rho_B^{(r)}(t)` in ``jmat`` order
        (the PIQS normalisation: the blocks' traces sum to ``1 - neglected_weight``)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = {q: np.repeat(rho[None], t.size, axis=0) for q, rho in self._stationary.items()}
        for q, (w, evo) in zip(self._ladders, self.parts, strict=True):
            block = w * evo.reduced_battery_matrices(t)
            if q in out:
                out[q] = out[q] + block
            else:
                out[q] = block
        return dict(sorted(out.items()))

    def reduced_battery_matrices(self, t) -> np.ndarray:
        r""":math:`\rho_B(t) = \sum_r w_r\rho_B^{(r)}(t)`, shape ``(len(t), dim, dim)``.

        ``dim`` = :attr:`battery_dim`: the symmetric levels (``basis="symmetric"``) or the
        ``qutip.piqs`` Dicke basis (``basis="piqs"``, block diagonal over :math:`j_B`).
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        blocks = self.reduced_battery_blocks(t)
        if self.basis == "piqs":
            return embed_ladders(self.model.n_battery, blocks)
        nb1 = self.model.n_battery + 1
        return blocks.get(0, np.zeros((t.size, nb1, nb1), dtype=complex))

    def reduced_battery_state(self, t):
        r""":math:`\rho_B(t)` as ``Qobj`` (dims ``[[dim], [dim]]``, :attr:`battery_dim`); a list
        for an array ``t``."""
        dim = self.battery_dim
        states = [qutip.Qobj(r, dims=[[dim], [dim]]) for r in self.reduced_battery_matrices(t)]
        return states[0] if np.ndim(t) == 0 else states

    def rescaled(self, exponent: int) -> MixtureEvolution:
        """The same mixture under :math:`2^k H` (see :meth:`SectorEvolution.rescaled`)."""
        model = self.model.replace(
            **{n: math.ldexp(getattr(self.model, n), exponent) for n in ("B", "h", "A", "delta")}
        )
        return MixtureEvolution(
            model,
            [(w, evo.rescaled(exponent)) for w, evo in self.parts],
            stationary=self.stationary,
            neglected_weight=self.neglected_weight,
            power_error_bound=math.ldexp(self.power_error_bound, 2 * exponent),
            basis=self.basis,
        )
