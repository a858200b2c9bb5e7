r"""The Gibbs state of the :math:`N_B` physical battery spins, and of the whole system.

:func:`physical_thermal_state` -- the battery's :math:`N_B` spins in the Gibbs state of
:math:`H_B = BS^z` at temperature :math:`T_B` (:math:`k_B = 1`, :math:`T_B` in the energy unit
of ``B``), the charger in a given state or in its own Gibbs state at :math:`T_C`:

.. math::

    \rho(0) = \frac{e^{-BS^z/T_B}}{Z_B} \otimes \rho_C,
    \qquad Z_B = \left(2\cosh\frac{B}{2T_B}\right)^{N_B},

with :math:`\rho_C` a state of the charger's symmetric multiplet :math:`j_C = N/2` (a Dicke
state :math:`|n\rangle`, a superposition such as a spin-coherent state, the symmetric
:func:`~qutip_centralspin.models.thermal.thermal_charger` populations), or the Gibbs state
:math:`e^{-hJ^z/T_C}/Z_C` of the :math:`N` physical charger spins (then :math:`\rho(0)` is the
product Gibbs state of all :math:`N_B + N` spins, each part at its own temperature).

Blocks
------
:math:`e^{-BS^z/T_B}` occupies every total battery spin :math:`j_B = N_B/2 - r_B`,
:math:`r_B = 0..\lfloor N_B/2\rfloor`, with multiplicity
:math:`d_{r_B} = \binom{N_B}{r_B} - \binom{N_B}{r_B - 1}`, exactly as the physical thermal
charger occupies :math:`j_C` (:mod:`qutip_centralspin.models.thermal`). :math:`H` conserves
:math:`\mathbf S^2` and :math:`\mathbf J^2` and acts identically on the
:math:`d_{r_B}d_{r_C}` copies of a block :math:`(j_B, j_C)`, so block
:math:`(r_B, r_C)` is exactly the central-spin problem
``CentralSpinModel(N_B - 2 r_B, N - 2 r_C)`` (same ``B, h, A, delta``) whose battery starts in
*its* symmetric Gibbs state (:math:`m = m' + r_B` flipped battery spins: the energies
:math:`B(m - N_B/2) = B(m' - (N_B - 2r_B)/2)` agree) and whose charger starts in the given
:math:`\rho_C` (:math:`r_C = 0`) or in its ladder's Gibbs state. With weights

.. math::

    w_{r_B r_C} = \frac{d_{r_B}Z_{r_B}}{Z_B}\cdot\frac{d_{r_C}Z_{r_C}}{Z_C}
    \qquad\left(Z_{r} = \sum_{n'=0}^{N' } e^{-F(n' - N'/2)/T}\right)

(:func:`~qutip_centralspin.models.thermal.log_ladder_weights`; the charger factor is 1 for a given
:math:`\rho_C`), every quantity linear in the state is the weighted sum over blocks, evaluated
by the exact engine of each (:class:`~qutip_centralspin.solvers.mixture.MixtureEvolution`):

.. math::

    E_B(t) = \sum_{r_B r_C} w_{r_B r_C}E_B^{(r_B r_C)}(t), \qquad
    \rho_B(t) = \bigoplus_{j_B}\sum_{r_C} w_{r_B r_C}\,\rho_B^{(r_B r_C)}(t),

:math:`\rho_B(t)` block diagonal over :math:`j_B`, written in the ``qutip.piqs`` Dicke basis
(:mod:`qutip_centralspin.models.basis`; the PIQS normalisation, a block sums its copies). No
approximation. A block with :math:`j_B = 0` (even :math:`N_B`: the battery singlet,
:math:`S^\pm = S^z = 0`) or :math:`j_C = 0` (even :math:`N`, Gibbs charger) does not move: it
is kept as its battery block and weight, no engine.

Limits: :math:`T_B \to 0^+` gives the battery ground state (:math:`|m = 0\rangle` for
:math:`B > 0`, :math:`|m = N_B\rangle` for :math:`B < 0`), :math:`T_B \to \infty` the maximally
mixed state of :math:`N_B` qubits; the mean number of flipped battery spins is
:math:`N_B/(1 + e^{B/T_B})` at every :math:`T_B`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import qutip
from scipy.special import logsumexp

from .. import _checks
from .basis import battery_dims, embed_ladders
from .operators import check_model
from .spin import CentralSpinModel
from .thermal import LADDER_WEIGHT_TOL, ThermalMixture, log_ladder_weights, thermal_populations

if TYPE_CHECKING:  # annotations only: the engines import this module
    from ..solvers.mixture import MixtureEvolution
    from ..solvers.sector import SectorEngine, SectorEvolution

__all__ = [
    "BATTERY_SPECS",
    "BATTERY_GRAMMAR",
    "ThermalBlock",
    "PhysicalThermalState",
    "physical_thermal_state",
]

#: The battery-state forms of the command line (``--battery-state``).
BATTERY_SPECS = ("gibbs:T",)
#: Their grammar for :func:`qutip_centralspin.models.states.parse_spec`.
BATTERY_GRAMMAR = {"gibbs": (1, 1)}
#: A charger state counts as normalised within this (trace or norm).
CHARGER_NORM_ATOL = 1e-10


def _multiplicity(n: int, r: int) -> int:
    r""":math:`d_r = \binom{n}{r} - \binom{n}{r-1}` (exact)."""
    return math.comb(n, r) - (math.comb(n, r - 1) if r else 0)


def _populations(size: int, field: float, T: float) -> np.ndarray:
    """Gibbs weights ``p[k] ~ exp(-field k / T)`` of a ladder of ``size`` spins, ``k = 0..size``."""
    return thermal_populations(size, field, T) if size else np.ones(1)


@dataclass(frozen=True, eq=False)
class ThermalBlock:
    r"""One block :math:`(j_B, j_C) = (N_B/2 - r_B, N/2 - r_C)` of a :class:`PhysicalThermalState`.

    Attributes
    ----------
    r_battery, r_charger : int
        :math:`r_B = N_B/2 - j_B` and :math:`r_C = N/2 - j_C` (``0``: the symmetric multiplet).
    multiplicity : int
        :math:`d_{r_B} d_{r_C}` copies (exact; :math:`d_{r_C} = 1` for a given charger state).
    weight : float
        :math:`w_{r_B r_C}`: the share of the state in all copies of the block.
    model : CentralSpinModel or None
        ``CentralSpinModel(N_B - 2r_B, N - 2r_C)`` with the parent's ``B, h, A, delta``;
        ``None`` for a block that does not move (:math:`j_B = 0` or :math:`j_C = 0`).
    battery_populations : ndarray
        Gibbs weights of :math:`BS^z` within the battery ladder, ``m' = 0..N_B - 2r_B``
        flipped spins (:math:`m = m' + r_B` physical).
    charger : ndarray or Qobj
        The charger within its ladder: populations ``n' = 0..N - 2r_C`` (a Dicke or Gibbs
        charger), or a density matrix on the :math:`N + 1` symmetric levels (``jmat`` order).
    """

    r_battery: int
    r_charger: int
    multiplicity: int
    weight: float
    model: CentralSpinModel | None
    battery_populations: np.ndarray
    charger: np.ndarray | qutip.Qobj

    @property
    def j_battery(self) -> float:
        """:math:`j_B`."""
        return (self.battery_populations.size - 1) / 2

    @property
    def battery_block(self) -> np.ndarray:
        """The block's normalised battery state, ``(2j_B+1, 2j_B+1)`` in ``jmat`` order."""
        return np.diag(self.battery_populations[::-1])

    @property
    def state(self) -> qutip.Qobj:
        r"""The block's initial state on ``model.dims`` (not defined for a block that stays
        still)."""
        model = self._moving_model()
        battery = qutip.qdiags(self.battery_populations[::-1], 0)
        if isinstance(self.charger, qutip.Qobj):
            charger = self.charger
        else:
            charger = qutip.qdiags(self.charger[::-1], 0)
        return qutip.Qobj(qutip.tensor(battery, charger), dims=model.dims)

    def evolution(self, engine: SectorEngine | None = None) -> SectorEvolution:
        """The exact evolution of :attr:`state` on the sector engine of :attr:`model`
        (without the full space when the charger is diagonal)."""
        model = self._moving_model()
        from ..solvers.sector import SectorEngine

        engine = SectorEngine(model) if engine is None else engine
        if isinstance(self.charger, qutip.Qobj):
            return engine.evolve(self.state)
        return engine.evolve_mixture(
            {
                (m, n): pm * pn
                for m, pm in enumerate(self.battery_populations.tolist())
                for n, pn in enumerate(self.charger.tolist())
                if pm * pn > 0
            }
        )

    def _moving_model(self) -> CentralSpinModel:
        if self.model is None:
            raise ValueError(
                f"the block (j_B, j_C) = ({self.j_battery:g}, "
                f"{(self.charger.shape[0] - 1) / 2:g}) does not move and has no model"
            )
        return self.model


@dataclass(frozen=True, eq=False)
class PhysicalThermalState(ThermalMixture):
    r"""The :math:`N_B` physical battery spins thermal at :math:`T_B`, with a given charger
    state or the :math:`N` physical charger spins thermal at :math:`T_C`.

    A mixture over the blocks :math:`(j_B, j_C)` (module notes); made by
    :func:`physical_thermal_state`. Pass it where an initial state is expected:
    :func:`~qutip_centralspin.charge` (exact closed path; ``states`` and ``e_ops`` see
    :math:`\rho_B(t)` in the ``qutip.piqs`` Dicke basis), :func:`~qutip_centralspin.max_power`,
    :func:`~qutip_centralspin.max_energy`; or take :meth:`evolution` to
    :func:`~qutip_centralspin.maxima.ergotropy.max_ergotropy`.

    Attributes
    ----------
    model : CentralSpinModel
        :math:`N_B` physical battery and :math:`N` physical charger spins.
    T_battery : float
        :math:`T_B`.
    T_charger : float or None
        :math:`T_C` of a Gibbs charger, ``None`` for a given charger state.
    charger : int, Qobj or None
        The given charger state (a Dicke label ``n`` or a density matrix on the :math:`N + 1`
        symmetric levels), ``None`` for a Gibbs charger.
    blocks : tuple of ThermalBlock
        The blocks kept, ``(r_B, r_C)`` ascending.
    neglected_weight : float
        Total weight of the blocks left out (each below ``tol``; not renormalised).
    tol : float
        The weight below which a block was left out.
    """

    model: CentralSpinModel
    T_battery: float
    T_charger: float | None
    charger: int | qutip.Qobj | None
    blocks: tuple[ThermalBlock, ...]
    neglected_weight: float
    tol: float

    @property
    def mean_battery_excitation(self) -> float:
        r""":math:`\langle m\rangle = \sum w_{r_B r_C}(r_B + \sum_{m'} m' p_{m'})` (kept blocks):
        :math:`N_B/(1 + e^{B/T_B})` when nothing is left out."""
        return math.fsum(
            b.weight
            * (b.r_battery + float(np.arange(b.battery_populations.size) @ b.battery_populations))
            for b in self.blocks
        )

    def battery_state(self) -> qutip.Qobj:
        r""":math:`\rho_B(0) = e^{-BS^z/T_B}/Z_B` (kept blocks) in the ``qutip.piqs`` Dicke basis,
        from the populations alone (no engine)."""
        nb = self.model.n_battery
        ladders: dict[int, np.ndarray] = {}
        for b in self.blocks:
            ladders[b.r_battery] = ladders.get(b.r_battery, 0) + b.weight * b.battery_block
        dim = battery_dims(nb)
        return qutip.Qobj(embed_ladders(nb, ladders), dims=[[dim], [dim]])

    def evolution(self) -> MixtureEvolution:
        """The exact evolution of the mixture: one sector engine per moving block, the
        blocks that do not move as their battery block (:mod:`~.solvers.mixture`)."""
        parts, still = [], []
        for b in self.blocks:
            if b.model is None:
                still.append((b.weight, b.battery_block))
            else:
                parts.append((b.weight, b.evolution()))
        from ..solvers.mixture import MixtureEvolution

        return MixtureEvolution(
            self.model,
            parts,
            stationary=still,
            neglected_weight=self.neglected_weight,
            power_error_bound=self.power_error_bound,
            basis="piqs",
        )


def physical_thermal_state(
    model: CentralSpinModel,
    T_battery: float,
    *,
    charger: int | qutip.Qobj | None = None,
    T_charger: float | None = None,
    tol: float = LADDER_WEIGHT_TOL,
) -> PhysicalThermalState:
    r"""The :math:`N_B` physical battery spins thermal at :math:`T_B`, times a charger state.

    :math:`\rho(0) = e^{-BS^z/T_B}/Z_B \otimes \rho_C`: the Gibbs state of the battery's
    :math:`N_B` spins-1/2 (every total battery spin :math:`j_B`, with its multiplicity), as an
    exact mixture over the blocks :math:`(j_B, j_C)` (module notes). Compare
    :func:`~qutip_centralspin.models.thermal.physical_thermal_charger` (the battery in a Dicke state,
    the charger's physical spins thermal).

    Parameters
    ----------
    model : CentralSpinModel
        :math:`N_B` = ``model.n_battery`` and :math:`N` = ``model.n_charger`` physical spins.
    T_battery : float
        :math:`T_B > 0` (:math:`k_B = 1`, energy units of ``B``).
    charger : int or Qobj, optional
        The charger state on its symmetric multiplet :math:`j_C = N/2`: a Dicke label
        ``n`` (``0 <= n <= N`` flipped charger spins), or a ket / density matrix of the
        :math:`N + 1` symmetric levels (dims ``[[N+1], [1]]`` / ``[[N+1], [N+1]]``, ``jmat``
        order), e.g. ``spin_coherent_charger(model, theta).ptrace(1)`` or the symmetric
        thermal populations. Default: the paper's full charger :math:`|n = N\rangle`, unless
        ``T_charger`` is given.
    T_charger : float, optional
        :math:`T_C > 0`: the :math:`N` physical charger spins in the Gibbs state of
        :math:`hJ^z` instead, so that :math:`\rho(0)` is the product Gibbs state of all
        :math:`N_B + N` spins. Not together with ``charger``.
    tol : float, default 0
        Blocks with :math:`w <` ``tol`` are left out (their total weight is
        ``neglected_weight``; not renormalised); the certified maxima widen their bracket by
        what they can contribute (:attr:`~qutip_centralspin.models.thermal.ThermalMixture.power_error_bound`,
        and ``neglected_weight * |B| N_B`` for the energy). With ``0`` only the weights that
        underflow a double are left out.

    Returns
    -------
    PhysicalThermalState

    Raises
    ------
    ValueError
        If a temperature is not a finite number > 0, ``charger`` is out of range, of the
        wrong dims or not normalised, both ``charger`` and ``T_charger`` are given, or ``tol``
        is negative.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, max_power
    >>> from qutip_centralspin.models.thermal_battery import physical_thermal_state
    >>> model = CentralSpinModel(n_battery=3, n_charger=4, B=1.0, h=1.0)
    >>> hot = physical_thermal_state(model, 2.0)                  # full charger |n = 4>
    >>> [(b.j_battery, b.multiplicity) for b in hot.blocks]        # j_B = 3/2 once, 1/2 twice
    [(1.5, 1), (0.5, 2)]
    >>> round(hot.mean_battery_excitation, 6) == round(3 / (1 + 2.718281828459045**0.5), 6)
    True
    >>> both = physical_thermal_state(model, 2.0, T_charger=0.5)  # the product Gibbs state
    >>> len(both.blocks)                                           # (j_B, j_C): 2 x 3
    6
    """
    check_model(model)
    T_battery = _checks.positive_real("T_battery", T_battery)
    tol = _checks.nonnegative_real("tol", tol)
    nb, nc = model.n_battery, model.n_charger
    if T_charger is not None:
        if charger is not None:
            raise ValueError(
                "give either charger (a state of the symmetric multiplet) or T_charger (the "
                f"physical charger spins thermal), not both; got charger={charger!r}, "
                f"T_charger={T_charger!r}"
            )
        T_charger = _checks.positive_real("T_charger", T_charger)
        log_charger = log_ladder_weights(nc, model.h / T_charger)
        chargers = [_populations(nc - 2 * r, model.h, T_charger) for r in range(nc // 2 + 1)]
    else:
        charger = nc if charger is None else charger
        log_charger = np.zeros(1)
        chargers = [_charger_state(model, charger)]
        if isinstance(charger, numbers.Integral):
            charger = int(charger)
    log_battery = log_ladder_weights(nb, model.B / T_battery)
    blocks, dropped = [], []
    for rb, lb in enumerate(log_battery.tolist()):
        for rc, lc in enumerate(log_charger.tolist()):
            weight = math.exp(lb + lc)
            if weight == 0.0 or weight < tol:
                dropped.append(lb + lc)
                continue
            size_b = nb - 2 * rb
            ch = chargers[rc]
            size_c = (ch.shape[0] if isinstance(ch, qutip.Qobj) else ch.size) - 1
            moving = size_b > 0 and size_c > 0
            blocks.append(
                ThermalBlock(
                    r_battery=rb,
                    r_charger=rc,
                    multiplicity=_multiplicity(nb, rb) * (_multiplicity(nc, rc) if rc else 1),
                    weight=weight,
                    model=model.replace(n_battery=size_b, n_charger=size_c) if moving else None,
                    battery_populations=_populations(size_b, model.B, T_battery),
                    charger=ch,
                )
            )
    neglected = math.exp(logsumexp(dropped)) if dropped else 0.0
    return PhysicalThermalState(
        model, T_battery, T_charger, charger, tuple(blocks), neglected, tol
    )


def _charger_state(model: CentralSpinModel, charger) -> np.ndarray | qutip.Qobj:
    """The given charger state: populations ``n = 0..N`` if it is diagonal (a Dicke label, a
    Dicke ket, a diagonal density matrix), else its density matrix (``jmat`` order)."""
    nc = model.n_charger
    if isinstance(charger, numbers.Integral) and not isinstance(charger, bool):
        n = _checks.int_in_range("charger", charger, 0, nc)
        pops = np.zeros(nc + 1)
        pops[n] = 1.0
        return pops
    if not isinstance(charger, qutip.Qobj):
        raise ValueError(
            f"charger must be a Dicke label n in [0, {nc}] or a ket / density matrix Qobj of "
            f"the {nc + 1} symmetric charger levels, got {type(charger).__name__}"
        )
    ket, oper = [[nc + 1], [1]], [[nc + 1], [nc + 1]]
    if charger.dims not in (ket, oper):
        raise ValueError(
            f"charger must have dims {ket} (ket) or {oper} (density matrix), the symmetric "
            f"levels of N = {nc} charger spins, got {charger.dims}"
        )
    rho = charger.proj() if charger.isket else charger
    mat = rho.full()
    trace = complex(np.trace(mat))
    if abs(trace - 1) > CHARGER_NORM_ATOL or np.abs(mat - mat.conj().T).max() > CHARGER_NORM_ATOL:
        raise ValueError(
            f"charger must be a normalised state (trace 1, Hermitian), got trace {trace:.12g}"
        )
    if np.linalg.eigvalsh((mat + mat.conj().T) / 2).min() < -CHARGER_NORM_ATOL:
        raise ValueError("charger must be a positive semidefinite density matrix")
    if not np.any(mat - np.diag(np.diagonal(mat))):
        return np.clip(np.real(np.diagonal(mat))[::-1], 0.0, None)  # n = N - jmat index
    return qutip.Qobj(mat, dims=oper)
