r"""Ergotropy of the battery and battery-charger entanglement.

The **ergotropy** of the battery's reduced state :math:`\rho_B = \mathrm{tr}_C\,\rho` is the
largest energy a cyclic unitary on the battery alone can extract (Allahverdyan, Balian &
Nieuwenhuizen, EPL 67, 565 (2004)):

.. math::

    W(\rho_B) = \mathrm{tr}[H_B\rho_B] - \min_U \mathrm{tr}[H_B U\rho_B U^\dagger]
              = \mathrm{tr}[H_B\rho_B] - \sum_k r_k^{\downarrow}\,\varepsilon_k^{\uparrow},

with :math:`H_B = B S^z` (Eq. 4), :math:`r^\downarrow` the eigenvalues of :math:`\rho_B` in
*descending* order and :math:`\varepsilon^\uparrow` the energy levels (with multiplicity) in
*ascending* order: the passive state puts the largest population in the lowest level. (Pairing
both ascending gives the *maximal* energy of the unitary orbit, not the passive one.)

Two batteries, two ergotropies
------------------------------
The charging dynamics never leave the symmetric subspace, but what counts as "the battery" for
work extraction is a choice, and both are offered (``battery=`` keyword). The default,
:data:`DEFAULT_BATTERY` ``= "qubits"``, is the standard (Allahverdyan-Balian-Nieuwenhuizen)
ergotropy of the literature, a maximum over all unitaries on the battery's Hilbert space;
``"dicke"`` is the named alternative:

``"qubits"`` (default)
    The battery is :math:`N_B` physical qubits, :math:`2^{N_B}` levels: :math:`H_B = B S^z` has
    the level :math:`B(m - N_B/2)` with multiplicity :math:`\binom{N_B}{m}`, and any unitary on
    the :math:`2^{N_B}`-dimensional space is allowed. :math:`\rho_B` (rank :math:`\le N_B+1`) is
    embedded with zeros outside the symmetric subspace. The passive state then uses only the
    ground level and the :math:`N_B`-fold first excited level:

    .. math::

        W_{qubits} = E_B - E_0 - |B|\,(1 - r_{max}) \;\ge\; W_{dicke}
                   = E_B - E_0 - |B|\sum_k k\, r_k^\downarrow .

``"dicke"``
    The battery is the :math:`N_B + 1` Dicke levels :math:`|m\rangle` of its symmetric
    subspace, energies :math:`B(m - N_B/2)`, non-degenerate. Extraction unitaries are
    collective (they act on :math:`\mathrm{span}\{|m\rangle\}` only). For the
    Tavis-Cummings battery (:math:`N = 4` spins, 4 photons, at the time of maximum stored
    energy) the two give :math:`W/E = 0.8969` (``"qubits"``, the value of Andolina et al.,
    PRL 122, 047702 (2019)) and :math:`0.8413` (``"dicke"``).

Both agree for :math:`N_B = 1` and for pure :math:`\rho_B` (:math:`W = E_B - E_0`).

j-resolved (PIQS) states
------------------------
In the j-resolved Dicke basis of ``qutip.piqs`` a block :math:`\rho_j` (size :math:`2j+1`) stands
for :math:`d_j` degenerate copies, each holding :math:`\rho_j/d_j`. The physical spectrum is
:math:`\{\lambda/d_j\}` *each with multiplicity* :math:`d_j`, and the energy level
:math:`B m_z` of block :math:`j` appears :math:`d_j` times. Using the raw block eigenvalues
(a known pitfall) gives a wrong ergotropy and a wrong entropy; :func:`block_ergotropy`,
:func:`block_entropy` and :func:`block_spectrum` do the weighting. There the ``"qubits"``
picture allows every unitary on the :math:`2^{N_B}` levels, and ``"dicke"`` the collective
(permutation-invariant) ones, :math:`\bigoplus_j U_j\otimes 1_{d_j}`: each block is made
passive on its own. :func:`battery_ergotropy`, :func:`entanglement_entropy` and the callbacks
accept such a battery state directly (a ``Qobj`` of size ``qutip.piqs.num_dicke_states(N_B)``,
as the open-system block solver passes to ``e_ops`` when local battery processes are on).

Mixtures over :math:`j_B`
-------------------------
The Gibbs state of the :math:`N_B` physical battery spins
(:mod:`qutip_centralspin.models.thermal_battery`) occupies every ladder :math:`j_B` with its
multiplicity; its :math:`\rho_B(t)` (:class:`~qutip_centralspin.solvers.mixture.MixtureEvolution`
with ``basis="piqs"``) is block diagonal over :math:`j_B`, and both pictures keep the meaning
above on the physical :math:`2^{N_B}`-dimensional battery:

* ``"qubits"`` -- any unitary on the :math:`N_B` qubits: the populations :math:`\lambda/d_j` of
  every block, each :math:`d_j` times, fill the :math:`2^{N_B}` levels :math:`B(m - N_B/2)`
  (multiplicity :math:`\binom{N_B}{m}`) from the lowest up; a unitary may move population
  between ladders and between copies.
* ``"dicke"`` -- collective (permutation-invariant) unitaries only,
  :math:`\bigoplus_j U_j\otimes 1_{d_j}`: :math:`W = \sum_j W(\rho_j)`, each ladder made
  passive on its own levels :math:`B m_z`, :math:`m_z = -j..j`; population never leaves its
  ladder. For a state on the symmetric ladder alone this is the :math:`N_B + 1`-level
  ergotropy above.

:func:`max_ergotropy` and :func:`ergotropy_trace` evaluate such a state block by block (never
the zeros between the blocks); the certificate below holds unchanged (the trace norms of
:math:`\dot\rho`, :math:`\ddot\rho` of the mixture are at most the weighted sums of the
blocks', and the spread of :math:`H_B` is :math:`|B|N_B` on the :math:`2^{N_B}` levels).

Entanglement
------------
For a pure total state the von Neumann entropy
:math:`S(\rho_B) = -\mathrm{tr}\,\rho_B\ln\rho_B` is the battery-charger entanglement entropy.
It is the same in both battery pictures (embedding adds zero eigenvalues only).

Conventions: :math:`\hbar = 1`, energies in the model's unit; ``qutip.jmat`` ordering
(:math:`|m\rangle` at index ``N_B - m``). Works for :class:`~qutip_centralspin.CentralSpinModel`
and :class:`~qutip_centralspin.models.cavity.CavityModel` (anything with ``n_battery`` and ``B``).

One module because the ergotropy and the entropy of rho_B are evaluated on the same ladder
blocks (symmetric levels, the PIQS basis, mixtures over j_B) in both battery pictures; the
block algebra is shared by every function here.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import qutip

from .. import _checks
from ..models.base import check_battery_model

Battery = Literal["dicke", "qubits"]

__all__ = [
    "BATTERY_KINDS",
    "DEFAULT_BATTERY",
    "battery_levels",
    "battery_state",
    "passive_energy",
    "battery_ergotropy",
    "entanglement_entropy",
    "Ergotropy",
    "EntanglementEntropy",
    "ErgotropyTrace",
    "ergotropy_trace",
    "dicke_multiplicities",
    "diagonal_ergotropy",
    "piqs_blocks",
    "block_spectrum",
    "block_ergotropy",
    "block_entropy",
]

#: The two battery pictures (see module notes).
BATTERY_KINDS = ("qubits", "dicke")
#: The battery picture every ergotropy in the package uses unless told otherwise: the standard
#: ergotropy of Allahverdyan, Balian & Nieuwenhuizen, a maximum over *all* unitaries on the
#: battery's Hilbert space (the :math:`2^{N_B}` qubit levels). ``"dicke"`` (collective unitaries
#: on the :math:`N_B + 1` symmetric levels) is the named alternative.
DEFAULT_BATTERY: Battery = "qubits"
#: Eigenvalues of a density matrix above ``-NEGATIVE_POPULATION_ATOL`` are round-off, clipped to 0.
NEGATIVE_POPULATION_ATOL = 1e-10
#: Times per call of the reduced-state evaluation (bounds the memory of one batch).
ERGOTROPY_CHUNK = 4096
EPS = float(np.finfo(float).eps)
_TINY_ENERGY = 1e-12


# -- levels and passive energies ----------------------------------------------------------
def battery_kind(battery: str) -> str:
    if battery not in BATTERY_KINDS:
        raise ValueError(f"battery must be one of {BATTERY_KINDS}, got {battery!r}")
    return battery


def battery_params(model) -> tuple[int, float]:
    model = check_battery_model(model)
    n_battery, B = model.n_battery, model.battery_field
    return _checks.positive_int("n_battery", n_battery), _checks.finite_real("B", B)


def battery_levels(n_battery: int, B: float = 1.0, battery: Battery = DEFAULT_BATTERY):
    r"""Energy levels of :math:`H_B = B S^z`, ascending, with their multiplicities.

    Parameters
    ----------
    n_battery : int
        :math:`N_B \ge 1`.
    B : float, default 1
        Battery field.
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        ``"dicke"``: levels :math:`B(m - N_B/2)`, :math:`m = 0..N_B`, each once;
        ``"qubits"``: the same levels with multiplicity :math:`\binom{N_B}{m}` (:math:`2^{N_B}`
        in total).

    Returns
    -------
    energies, multiplicities : ndarray
        ``energies`` ascending (for ``B < 0`` the level :math:`m = N_B` comes first).
    """
    n_battery = _checks.positive_int("n_battery", n_battery)
    B = _checks.finite_real("B", B)
    battery = battery_kind(battery)
    m = np.arange(n_battery + 1)
    energies = B * (m - n_battery / 2)
    if battery == "dicke":
        mult = np.ones(n_battery + 1)
    else:
        mult = np.array([float(math.comb(n_battery, int(k))) for k in m])
    order = np.argsort(energies, kind="stable")
    return energies[order], mult[order]


def passive_energy(
    populations, energies, *, population_multiplicities=None, energy_multiplicities=None
) -> float:
    r"""Energy :math:`\sum_k r_k^\downarrow\varepsilon_k^\uparrow` of the passive state.

    The populations (eigenvalues of :math:`\rho`), sorted descending, fill the energy levels
    sorted ascending; multiplicities are honoured on both sides, and missing populations are
    zeros (a state of rank lower than the number of levels).

    Parameters
    ----------
    populations : array_like
        Eigenvalues :math:`r_i \ge 0` of the density matrix (round-off negatives above
        ``-1e-10`` are clipped to 0).
    energies : array_like
        Energy levels :math:`\varepsilon_k` (any order).
    population_multiplicities, energy_multiplicities : array_like, optional
        How many times each population / level occurs (default 1 each). Needed for PIQS
        block states and for the 2^N_B-level qubit battery.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a population is negative, a multiplicity is not positive, the shapes differ, or
        there are more populations than levels.

    Examples
    --------
    >>> from qutip_centralspin.observables.ergotropy import passive_energy
    >>> passive_energy([0.2, 0.8], [-0.5, 0.5])   # 0.8 goes to the ground level
    -0.30000000000000004
    """
    r = np.asarray(populations, dtype=float).ravel()
    e = np.asarray(energies, dtype=float).ravel()
    rm = _multiplicities("population_multiplicities", population_multiplicities, r.size)
    em = _multiplicities("energy_multiplicities", energy_multiplicities, e.size)
    if r.size and r.min() < -NEGATIVE_POPULATION_ATOL:
        raise ValueError(f"populations must be >= 0 (eigenvalues of a state), got {r.min()!r}")
    r = np.clip(r, 0.0, None)
    if rm.sum() > em.sum() * (1 + 1e-12):
        raise ValueError(
            f"populations count {rm.sum():g} (with multiplicity) exceeds the {em.sum():g} levels"
        )
    order_r = np.argsort(-r, kind="stable")
    r, rm = r[order_r], rm[order_r]
    order_e = np.argsort(e, kind="stable")
    e, em = e[order_e], em[order_e]
    # cumulative "energy of the lowest x slots", piecewise linear in x
    slots = np.concatenate([[0.0], np.cumsum(em)])
    filled = np.concatenate([[0.0], np.cumsum(e * em)])
    edges = np.concatenate([[0.0], np.cumsum(rm)])
    energy_of = np.interp(edges, slots, filled)
    return float(np.sum(r * np.diff(energy_of)))


def _multiplicities(name, mult, size) -> np.ndarray:
    if mult is None:
        return np.ones(size)
    out = np.asarray(mult, dtype=float).ravel()
    if out.shape != (size,):
        raise ValueError(f"{name} must have {size} entries, got shape {out.shape}")
    if np.any(~np.isfinite(out)) or np.any(out <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {out!r}")
    return out


# -- reduced state, ergotropy, entropy ----------------------------------------------------
def battery_state(model, state: qutip.Qobj) -> qutip.Qobj:
    r"""Battery reduced state :math:`\rho_B = \mathrm{tr}_C\,\rho` (dims ``[[N_B+1], [N_B+1]]``).

    Parameters
    ----------
    model : CentralSpinModel or CavityModel
        Anything with ``n_battery`` (and ``B``).
    state : Qobj
        A ket or density matrix whose *first* subsystem is the battery (dimension
        :math:`N_B + 1`): a full-space state of the model (partially traced here), a cavity
        state ``tensor(battery, fock)``, or already a battery state.

    Raises
    ------
    TypeError
        If ``state`` is not a ket/operator ``Qobj``.
    ValueError
        If its first subsystem does not have dimension :math:`N_B + 1`.
    """
    n_battery, _ = battery_params(model)
    if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
        raise TypeError(f"state must be a ket or density-matrix Qobj, got {type(state).__name__}")
    dims = state.dims[0]
    if dims[0] != n_battery + 1:
        raise ValueError(
            f"state's first subsystem must be the battery of dimension N_B+1 = {n_battery + 1}, "
            f"got dims {state.dims}"
        )
    if len(dims) == 1:
        return state.proj() if state.isket else state
    return state.ptrace(0)


def _ergotropy_stack(mats: np.ndarray, n_battery: int, B: float, battery: str) -> np.ndarray:
    """Ergotropy of a stack of battery matrices ``(T, N_B+1, N_B+1)`` in jmat ordering."""
    return ergotropy_blocks({0: mats}, n_battery, B, battery)


def _entropy_stack(mats: np.ndarray, base: float) -> np.ndarray:
    herm = (mats + mats.conj().transpose(0, 2, 1)) / 2
    r = np.clip(np.linalg.eigvalsh(herm), 0.0, None)
    return _entropy_of(r, np.ones_like(r), base)


# -- stacks of j-resolved battery states: {q: (T, 2j+1, 2j+1)}, j = N_B/2 - q ---------------------
def _ladder_levels(n_battery: int, q: int, B: float) -> np.ndarray:
    """:math:`B m_z` of ladder ``q`` in ``jmat`` order (:math:`m_z = j, \\dots, -j`)."""
    j = n_battery / 2 - q
    return B * (j - np.arange(n_battery - 2 * q + 1))


def _eigenvalues(block: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of the Hermitian part of a stack of matrices."""
    return np.linalg.eigvalsh((block + block.conj().transpose(0, 2, 1)) / 2)


def ergotropy_blocks(blocks: dict, n_battery: int, B: float, battery: str) -> np.ndarray:
    r"""Ergotropy of stacks of j-resolved battery states (module notes, "j-resolved states").

    ``blocks`` = ``{q: (T, 2j+1, 2j+1)}`` in the PIQS normalisation (block :math:`j` sums its
    :math:`d_j` copies; the symmetric :math:`N_B + 1` levels are ``{0: mats}``, :math:`d = 1`).
    ``"dicke"``: each block made passive on its own (collective unitaries,
    :math:`\bigoplus_j U_j\otimes 1_{d_j}`); ``"qubits"``: the populations
    :math:`\lambda/d_j` (each :math:`d_j` times) fill the :math:`2^{N_B}` qubit levels.
    """
    mult = multiplicity_table(n_battery)
    energy = 0.0
    passive = 0.0
    values, weights = [], []
    for q, block in blocks.items():
        levels = _ladder_levels(n_battery, q, B)
        energy = energy + np.real(np.einsum("tii,i->t", block, levels))
        lam = _eigenvalues(block)
        if battery == "dicke":
            passive = passive + lam[:, ::-1] @ np.sort(levels)
        else:
            values.append(lam / mult[q])
            weights.append(np.full(levels.size, mult[q]))
    if battery == "qubits":
        energies, level_mult = battery_levels(n_battery, B, "qubits")
        passive = _fill_passive(np.hstack(values), np.concatenate(weights), energies, level_mult)
    return energy - passive


@functools.lru_cache(maxsize=64)
def multiplicity_table(n_battery: int) -> np.ndarray:
    """:math:`d_j` of :func:`dicke_multiplicities`, indexed by ladder ``q`` (cached)."""
    return dicke_multiplicities(n_battery)[1]


def _fill_passive(values, weights, energies, level_mult) -> np.ndarray:
    r""":math:`\sum_k r_k^\downarrow\varepsilon_k^\uparrow` for each row of ``values`` (population
    ``values[t, i]`` occurring ``weights[i]`` times) on the levels ``energies`` (ascending,
    ``level_mult[k]`` times each): the populations fill the lowest levels first."""
    order = np.argsort(-values, axis=1, kind="stable")
    v = np.take_along_axis(values, order, axis=1)
    edges = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(weights[order], axis=1)], axis=1)
    slots = np.concatenate([[0.0], np.cumsum(level_mult)])
    filled = np.concatenate([[0.0], np.cumsum(energies * level_mult)])
    return np.sum(v * np.diff(np.interp(edges, slots, filled), axis=1), axis=1)


def _entropy_blocks(blocks: dict, n_battery: int, base: float) -> np.ndarray:
    """Von Neumann entropy of stacks of j-resolved states (each copy holds rho_j / d_j)."""
    mult = multiplicity_table(n_battery)
    values = np.hstack([np.clip(_eigenvalues(b), 0.0, None) / mult[q] for q, b in blocks.items()])
    weights = np.concatenate([np.full(b.shape[-1], mult[q]) for q, b in blocks.items()])
    return _entropy_of(values, weights, base)


def _energy_blocks(blocks: dict, n_battery: int, B: float) -> np.ndarray:
    r""":math:`E_B = \sum_j \mathrm{tr}[B S^z_j \rho_j]` of stacks of j-resolved states."""
    return sum(
        np.real(np.einsum("tii,i->t", b, _ladder_levels(n_battery, q, B)))
        for q, b in blocks.items()
    )


def _entropy_of(values, weights, base) -> np.ndarray:
    """:math:`-\\sum_i w_i v_i \\log v_i` along the last axis (``0 log 0 = 0``)."""
    safe = np.where(values > 0, values, 1.0)
    terms = np.where(values > 0, -values * np.log(safe), 0.0) * weights
    return np.maximum(np.sum(terms, axis=-1), 0.0) / math.log(base)  # round-off: S >= 0


def _piqs_battery_blocks(n_battery: int, state):
    """(blocks, multiplicities) if ``state`` is a PIQS Dicke-basis battery state, else None."""
    if not isinstance(state, qutip.Qobj) or not state.isoper or len(state.dims[0]) != 1:
        return None
    from qutip import piqs

    size = int(piqs.num_dicke_states(n_battery))
    if size == n_battery + 1 or state.shape[0] != size:
        return None  # N_B = 1: the PIQS basis is the symmetric one
    return piqs_blocks(state)


def battery_ergotropy(model, state: qutip.Qobj, *, battery: Battery = DEFAULT_BATTERY) -> float:
    r"""Ergotropy :math:`W(\rho_B)` of the battery, :math:`H_B = B S^z`.

    Parameters
    ----------
    model : CentralSpinModel or CavityModel
    state : Qobj
        Full-space ket/density matrix (partially traced to the battery) or a battery state
        (see :func:`battery_state`); or a battery density matrix in the j-resolved Dicke basis
        of ``qutip.piqs`` (size ``num_dicke_states(N_B)``, as returned by the open-system block
        solver with local battery processes), handled by :func:`block_ergotropy`.
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        The battery picture (module notes): :math:`N_B + 1` Dicke levels, or :math:`N_B`
        physical qubits (:math:`2^{N_B}` levels with multiplicities :math:`\binom{N_B}{m}`).
        For a j-resolved state ``"dicke"`` means collective (permutation-invariant)
        unitaries, block by block.

    Returns
    -------
    float
        :math:`W = \mathrm{tr}[H_B\rho_B] - \sum_k r_k^\downarrow\varepsilon_k^\uparrow \ge 0`.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, dicke_state
    >>> from qutip_centralspin.observables.ergotropy import battery_ergotropy
    >>> model = CentralSpinModel(n_battery=2, n_charger=3)
    >>> battery_ergotropy(model, dicke_state(model, m=2, n=0))   # pure |m=2>: E - E_ground = 2B
    2.0
    """
    n_battery, B = battery_params(model)
    battery = battery_kind(battery)
    piqs_state = _piqs_battery_blocks(n_battery, state)
    if piqs_state is not None:
        return block_ergotropy(*piqs_state, B=B, battery=battery)
    rho = battery_state(model, state).full()
    return float(_ergotropy_stack(rho[None], n_battery, B, battery)[0])


def entanglement_entropy(model, state: qutip.Qobj, *, base: float = math.e) -> float:
    r"""Von Neumann entropy :math:`S(\rho_B) = -\mathrm{tr}\,\rho_B\log\rho_B` of the battery.

    For a pure total state it is the battery-charger entanglement entropy. It does not depend
    on the battery picture (embedding :math:`\rho_B` in :math:`2^{N_B}` levels adds zeros).

    Parameters
    ----------
    base : float, default e
        Logarithm base (``2`` for bits); :math:`S \le \log(N_B + 1)` on the symmetric levels,
        :math:`S \le N_B\log 2` for a state in the ``qutip.piqs`` basis (e.g. a Gibbs battery,
        whose entropy is then not only entanglement).
    """
    base = _checks.positive_real("base", base)
    if base == 1:
        raise ValueError("base must be a positive real number != 1, got 1")
    piqs_state = _piqs_battery_blocks(battery_params(model)[0], state)
    if piqs_state is not None:
        return block_entropy(*piqs_state, base=base)
    rho = battery_state(model, state).full()
    return float(_entropy_stack(rho[None], base)[0])


class Ergotropy:
    r"""``e_ops`` callback ``f(t, state)`` returning the battery ergotropy :math:`W(\rho_B(t))`.

    Works with ``qutip.sesolve`` / ``qutip.mesolve`` (kets and density matrices) on the model's
    full space, with the cavity reference path, and with ``charge(..., e_ops=...)``.

    Parameters
    ----------
    model : CentralSpinModel or CavityModel
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from qutip_centralspin import CentralSpinModel, dicke_state, hamiltonian
    >>> from qutip_centralspin.observables.ergotropy import Ergotropy
    >>> model = CentralSpinModel(n_battery=1, n_charger=4)
    >>> res = qutip.sesolve(hamiltonian(model), dicke_state(model, 0, 4), [0.0, 0.5],
    ...                     e_ops={"W": Ergotropy(model)})
    >>> float(res.e_data["W"][0])
    0.0
    """

    def __init__(self, model, *, battery: Battery = DEFAULT_BATTERY):
        self.n_battery, self.B = battery_params(model)
        self.model = model
        self.battery = battery_kind(battery)

    def __call__(self, t, state) -> float:
        return battery_ergotropy(self.model, state, battery=self.battery)

    def __repr__(self):
        return f"{type(self).__name__}({self.model!r}, battery={self.battery!r})"


class EntanglementEntropy:
    r"""``e_ops`` callback ``f(t, state)`` returning :math:`S(\rho_B(t))` (natural log by default)."""

    def __init__(self, model, *, base: float = math.e):
        battery_params(model)
        self.model = model
        self.base = _checks.positive_real("base", base)

    def __call__(self, t, state) -> float:
        return entanglement_entropy(self.model, state, base=self.base)

    def __repr__(self):
        return f"{type(self).__name__}({self.model!r}, base={self.base!r})"


# -- exact-engine time series -------------------------------------------------------------
@dataclass(frozen=True)
class ErgotropyTrace:
    r"""Ergotropy, energy and entanglement of the battery along a time grid (exact engine).

    Attributes
    ----------
    times : ndarray
    ergotropy : ndarray
        :math:`W(\rho_B(t))` in the chosen battery picture.
    battery_energy, delta_energy : ndarray
        :math:`E_B(t)` and :math:`\Delta E_B(t) = E_B(t) - E_B(0)`.
    entropy : ndarray
        :math:`S(\rho_B(t))` (natural log).
    battery : str
        ``"dicke"`` or ``"qubits"``.
    """

    times: np.ndarray
    ergotropy: np.ndarray
    battery_energy: np.ndarray
    delta_energy: np.ndarray
    entropy: np.ndarray
    battery: str

    @property
    def ratio(self) -> np.ndarray:
        r""":math:`W/\Delta E_B` (``nan`` where :math:`\Delta E_B \le 10^{-12}`).

        For a battery starting in its ground state :math:`0 \le W/\Delta E_B \le 1`: the rest of
        the stored energy is locked in battery-charger correlations.
        """
        out = np.full(self.times.shape, np.nan)
        ok = self.delta_energy > _TINY_ENERGY
        out[ok] = self.ergotropy[ok] / self.delta_energy[ok]
        return out


def ergotropy_trace(evo, tlist, *, battery: Battery = DEFAULT_BATTERY) -> ErgotropyTrace:
    r""":math:`W(t)`, :math:`E_B(t)`, :math:`\Delta E_B(t)`, :math:`S(t)` from an exact evolution.

    Parameters
    ----------
    evo : SectorEvolution or MixtureEvolution
        From :meth:`SectorEngine.evolve` (or :meth:`CavityEngine.evolve`, or the
        :meth:`~qutip_centralspin.models.thermal.ThermalMixture.evolution` of a Gibbs state of
        physical spins: a mixture over :math:`j_B` is evaluated block by block).
    tlist : array_like
        Times :math:`\ge 0`, increasing.
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.solvers import SectorEngine
    >>> from qutip_centralspin.observables.ergotropy import ergotropy_trace
    >>> evo = SectorEngine(CentralSpinModel(n_battery=2, n_charger=6)).evolve((0, 6))
    >>> trace = ergotropy_trace(evo, np.linspace(0, 1, 11))
    >>> bool(np.all(trace.ergotropy <= trace.delta_energy + 1e-12))
    True
    """
    times = _checks.time_list("tlist", tlist)
    battery = battery_kind(battery)
    n_battery, B = battery_params(evo.model)
    blocks = battery_blocks(evo, times)
    energy = _energy_blocks(blocks, n_battery, B)
    return ErgotropyTrace(
        times=times,
        ergotropy=ergotropy_blocks(blocks, n_battery, B, battery),
        battery_energy=energy,
        delta_energy=energy - evo.initial_energy,
        entropy=_entropy_blocks(blocks, n_battery, math.e),
        battery=battery,
    )


def battery_blocks(evo, t) -> dict:
    r""":math:`\rho_B(t)` of an exact evolution as ladder blocks ``{q: (T, 2j+1, 2j+1)}``: a
    mixture over :math:`j_B` block by block (never the zeros between them), any other
    evolution as its symmetric levels ``{0: ...}``."""
    if is_j_resolved(evo):
        return evo.reduced_battery_blocks(t)
    return {0: evo.reduced_battery_matrices(t)}


def is_j_resolved(evo) -> bool:
    r"""Whether :math:`\rho_B(t)` of ``evo`` spans several battery ladders (PIQS basis)."""
    return getattr(evo, "basis", None) == "piqs"  # a MixtureEvolution in the PIQS basis


# -- j-resolved (PIQS) block states -------------------------------------------------------
def dicke_multiplicities(n_spins: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Total spins :math:`j = N/2, N/2 - 1, \dots` and their multiplicities :math:`d_j`.

    :math:`d_j = \frac{(2j+1)\,N!}{(N/2+j+1)!\,(N/2-j)!}` (``qutip.piqs.state_degeneracy``),
    with :math:`\sum_j d_j(2j+1) = 2^N`. Order as in ``qutip.piqs.dicke_blocks``.
    """
    n_spins = _checks.positive_int("n_spins", n_spins)
    js = np.arange(n_spins / 2, -0.25, -1.0)
    mult = []
    for j in js:
        a, b = int(round(n_spins / 2 + j)), int(round(n_spins / 2 - j))
        mult.append(
            math.factorial(n_spins) * (a - b + 1) // (math.factorial(a + 1) * math.factorial(b))
        )
    return js, np.array(mult, dtype=float)


def piqs_blocks(rho) -> tuple[list[np.ndarray], np.ndarray]:
    r"""Split a ``qutip.piqs`` Dicke-basis density matrix into its j-blocks and multiplicities.

    Parameters
    ----------
    rho : Qobj or ndarray
        Block-diagonal density matrix in the j-resolved Dicke basis of ``qutip.piqs``
        (size ``qutip.piqs.num_dicke_states(N)``, :math:`\mathrm{tr}\rho = 1`).

    Returns
    -------
    blocks : list of ndarray
        :math:`\rho_j` for :math:`j = N/2, N/2-1, \dots` (each :math:`m_z = j \dots -j`).
    multiplicities : ndarray
        :math:`d_j`.
    """
    from qutip import piqs

    mat = rho.full() if isinstance(rho, qutip.Qobj) else np.asarray(rho)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(f"rho must be a square matrix, got shape {mat.shape}")
    n_spins = int(piqs.num_tls(mat.shape[0]))
    if piqs.num_dicke_states(n_spins) != mat.shape[0]:
        raise ValueError(
            f"rho must have a PIQS Dicke-basis size num_dicke_states(N), got {mat.shape[0]}"
        )
    blocks = [np.asarray(b) for b in piqs.dicke_blocks(qutip.Qobj(mat))]
    return blocks, dicke_multiplicities(n_spins)[1]


def _check_blocks(blocks, multiplicities):
    blocks = [np.asarray(b, dtype=complex) for b in blocks]
    mult = _multiplicities("multiplicities", multiplicities, len(blocks))
    for i, b in enumerate(blocks):
        if b.ndim != 2 or b.shape[0] != b.shape[1]:
            raise ValueError(f"blocks[{i}] must be a square matrix, got shape {b.shape}")
    trace = sum(float(np.trace(b).real) for b in blocks)
    if not math.isclose(trace, 1.0, rel_tol=0, abs_tol=1e-8):
        raise ValueError(
            f"blocks must hold a normalised state, sum_j tr(rho_j) = 1 (PIQS convention: each "
            f"block already sums its d_j copies), got {trace!r}"
        )
    return blocks, mult


def block_spectrum(blocks, multiplicities) -> tuple[np.ndarray, np.ndarray]:
    r"""Physical spectrum of a j-resolved state: eigenvalues :math:`\lambda/d_j`, each ``d_j`` times.

    Parameters
    ----------
    blocks : sequence of array_like
        :math:`\rho_j`, PIQS normalisation :math:`\sum_j\mathrm{tr}\rho_j = 1` (a block sums its
        :math:`d_j` identical copies: each copy holds :math:`\rho_j/d_j`).
    multiplicities : sequence of float
        :math:`d_j` (see :func:`dicke_multiplicities`).

    Returns
    -------
    values, weights : ndarray
        ``values[i]`` occurs ``weights[i]`` times; :math:`\sum_i w_i v_i = 1`.
    """
    blocks, mult = _check_blocks(blocks, multiplicities)
    values, weights = [], []
    for b, d in zip(blocks, mult, strict=True):
        lam = np.linalg.eigvalsh((b + b.conj().T) / 2) / d
        values.append(lam)
        weights.append(np.full(lam.size, d))
    return np.concatenate(values), np.concatenate(weights)


def block_ergotropy(
    blocks, multiplicities, *, B: float = 1.0, battery: Battery = DEFAULT_BATTERY
) -> float:
    r"""Ergotropy of a j-resolved (PIQS) battery state, :math:`H_B = B S^z`.

    Block :math:`j` (size :math:`2j+1`, :math:`m_z = j, \dots, -j`) contributes the levels
    :math:`B m_z`, each :math:`d_j` times, and the populations :math:`\lambda/d_j`, each
    :math:`d_j` times.

    Parameters
    ----------
    blocks, multiplicities :
        As for :func:`block_spectrum` (PIQS normalisation :math:`\sum_j\mathrm{tr}\rho_j = 1`).
    B : float, default 1
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        ``"qubits"``: any unitary on the listed space. Pass *every* block of the :math:`N`
        spins (zeros for empty ones) and that is the :math:`2^N`-level qubit battery:

        .. math::

            W = \sum_j \mathrm{tr}[B S^z_j\rho_j]
                - \sum_k r_k^\downarrow \varepsilon_k^\uparrow\Big|_{\text{with multiplicities}}

        ``"dicke"``: collective (permutation-invariant) unitaries only,
        :math:`U = \bigoplus_j U_j\otimes 1_{d_j}`; each block is made passive on its own,
        :math:`W = \sum_j W_j(\rho_j)` (the :math:`d_j` copies cancel). For a state in the
        symmetric block alone this is the Dicke-level ergotropy.
    """
    B = _checks.finite_real("B", B)
    battery = battery_kind(battery)
    values, weights = block_spectrum(blocks, multiplicities)
    blocks, mult = _check_blocks(blocks, multiplicities)
    energy, levels, level_mult = 0.0, [], []
    collective_passive = 0.0
    for b, d in zip(blocks, mult, strict=True):
        j = (b.shape[0] - 1) / 2
        ez = B * (j - np.arange(b.shape[0]))
        energy += float(np.real(np.sum(np.diagonal(b) * ez)))
        levels.append(ez)
        level_mult.append(np.full(ez.size, d))
        collective_passive += passive_energy(np.linalg.eigvalsh((b + b.conj().T) / 2), ez)
    if battery == "dicke":
        return energy - collective_passive
    passive = passive_energy(
        values,
        np.concatenate(levels),
        population_multiplicities=weights,
        energy_multiplicities=np.concatenate(level_mult),
    )
    return energy - passive


def diagonal_ergotropy(
    populations, q, k, *, n_battery: int, B: float = 1.0, battery: Battery = DEFAULT_BATTERY
) -> np.ndarray:
    r"""Ergotropy of battery states diagonal in the j-resolved Dicke basis, one per row.

    The open block solver keeps :math:`\rho_B(t)` diagonal in :math:`(j, k)`
    (:class:`~qutip_centralspin.solvers.blocks.BatteryPopulations`); this is
    :func:`block_ergotropy` for such states, vectorised over many of them.

    Parameters
    ----------
    populations : array_like, shape (n_states, n_labels)
        :math:`P_{qk}` in the ``qutip.piqs`` normalisation (ladder :math:`j = N_B/2 - q` holds
        its :math:`d_j` copies: each copy has :math:`P_{qk}/d_j`); each row sums to 1. Labels
        not listed have population 0.
    q, k : array_like of int, shape (n_labels,)
        Ladder and number of up spins of each label, :math:`q \le k \le N_B - q`.
    n_battery : int
        :math:`N_B`.
    B : float, default 1
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        As for :func:`block_ergotropy`: any unitary on the :math:`2^{N_B}` levels, or the
        collective unitaries only (each ladder made passive on its own).

    Returns
    -------
    ndarray, shape (n_states,)
    """
    n_battery = _checks.positive_int("n_battery", n_battery)
    B = _checks.finite_real("B", B)
    battery = battery_kind(battery)
    P = np.atleast_2d(np.asarray(populations, dtype=float))
    q = np.asarray(q, dtype=int).ravel()
    k = np.asarray(k, dtype=int).ravel()
    if P.shape[1] != q.size or k.size != q.size:
        raise ValueError(
            f"populations must have one column per label, got shape {P.shape} for {q.size} labels"
        )
    if np.any(q < 0) or np.any(2 * q > n_battery) or np.any(k < q) or np.any(k > n_battery - q):
        raise ValueError(f"labels must satisfy 0 <= q <= k <= N_B - q with N_B = {n_battery}")
    levels = B * (k - n_battery / 2)
    energy = P @ levels
    if battery == "dicke":
        passive = np.zeros(P.shape[0])
        for ladder in np.unique(q):
            size = n_battery - 2 * int(ladder) + 1
            cols = np.nonzero(q == ladder)[0]
            block = np.zeros((P.shape[0], size))
            block[:, k[cols] - ladder] = P[:, cols]
            ladder_levels = np.sort(
                B * (np.arange(ladder, n_battery - ladder + 1) - n_battery / 2)
            )
            passive += -np.sort(-block, axis=1) @ ladder_levels
        return energy - passive
    _, mult = dicke_multiplicities(n_battery)
    weight = mult[q]
    values = P / weight[None, :]
    order = np.argsort(-values, axis=1, kind="stable")
    values = np.take_along_axis(values, order, axis=1)
    edges = np.cumsum(weight[order], axis=1)
    e, em = battery_levels(n_battery, B, "qubits")
    slots = np.concatenate([[0.0], np.cumsum(em)])
    filled = np.concatenate([[0.0], np.cumsum(e * em)])
    energy_of = np.interp(edges, slots, filled)
    used = np.diff(np.concatenate([np.zeros((P.shape[0], 1)), energy_of], axis=1), axis=1)
    return energy - np.sum(values * used, axis=1)


def block_entropy(blocks, multiplicities, *, base: float = math.e) -> float:
    r"""Von Neumann entropy of a j-resolved state, :math:`-\sum_j d_j\sum_i
    \frac{\lambda_{ij}}{d_j}\log\frac{\lambda_{ij}}{d_j}`.

    Equals ``qutip.piqs.entropy_vn_dicke`` for PIQS states; the unweighted
    :math:`-\sum\lambda\log\lambda` misses :math:`\sum_j p_j\log d_j`.
    """
    base = _checks.positive_real("base", base)
    if base == 1:
        raise ValueError("base must be a positive real number != 1, got 1")
    values, weights = block_spectrum(blocks, multiplicities)
    return float(_entropy_of(np.clip(values, 0.0, None), weights, base))
