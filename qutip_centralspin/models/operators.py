r"""Collective spin operators and the Hamiltonian of the model, as QuTiP ``Qobj``.

Conventions (stated once, here)
-------------------------------
* Spin operators are those of ``qutip.jmat`` with :math:`\hbar = 1`:
  :math:`S^z` has eigenvalues :math:`-N_B/2, \dots, N_B/2`, :math:`S^\pm = S^x \pm i S^y`.
* Every operator acts on the symmetric (Dicke) space, battery first:
  ``dims = [[N_B + 1, N + 1], [N_B + 1, N + 1]]``.
* Dicke index: the paper's :math:`|m\rangle` has :math:`m` *flipped* (up) spins,
  :math:`S^z|m\rangle = (m - N_B/2)|m\rangle` (Eq. 7; ``m = 0`` is all spins down).
  ``qutip.jmat`` orders :math:`m_z` from :math:`+j` down, so the paper's ``m`` sits at
  matrix index ``N_B - m`` (and ``n`` at ``N - n``). :func:`dicke_index` is that map.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import qutip

from .. import _checks
from ..resources import require
from .base import BatteryModel

__all__ = [
    "CollectiveOperators",
    "dicke_index",
    "collective_operators",
    "battery_hamiltonian",
    "charger_hamiltonian",
    "interaction_hamiltonian",
    "hamiltonian",
    "excitation_number",
    "hamiltonian_from",
    "check_model",
    "ladder_up",
    "ladder_down",
    "diagonal_energy",
]


def dicke_index(n_spins: int, m: int) -> int:
    """Matrix index of the Dicke state with ``m`` flipped spins in ``qutip.jmat`` ordering.

    ``qutip.jmat(n_spins / 2, "z")`` is diagonal with entries ``+j, j-1, ..., -j``; the state with
    ``m`` spins up has :math:`m_z = m - n_spins/2`, hence index ``n_spins - m``.

    Raises
    ------
    ValueError
        If ``n_spins < 1`` or ``m`` is not an integer in ``[0, n_spins]``.
    """
    n_spins = _checks.positive_int("n_spins", n_spins)
    m = _checks.int_in_range("m", m, 0, n_spins)
    return n_spins - m


class CollectiveOperators(NamedTuple):
    """Collective spin operators embedded in the battery (x) charger Dicke space."""

    Sz: qutip.Qobj
    Sp: qutip.Qobj
    Sm: qutip.Qobj
    Jz: qutip.Qobj
    Jp: qutip.Qobj
    Jm: qutip.Qobj


def ladder_up(j, m):
    r""":math:`\langle j, m+1|S^+|j, m\rangle = \sqrt{(j - m)(j + m + 1)}` (0 outside the ladder).

    The one place the ladder coefficients are written (``qutip.jmat``'s, :math:`\hbar = 1`);
    every sector engine and the open block solver take them from here. Works on arrays.
    """
    return np.sqrt(np.maximum((j - np.asarray(m)) * (j + np.asarray(m) + 1), 0.0))


def ladder_down(j, m):
    r""":math:`\langle j, m-1|S^-|j, m\rangle = \sqrt{(j + m)(j - m + 1)}` (0 outside the ladder)."""
    return np.sqrt(np.maximum((j + np.asarray(m)) * (j - np.asarray(m) + 1), 0.0))


def diagonal_energy(model: BatteryModel, sz, jz):
    r"""The diagonal of :math:`H` on :math:`|S^z = s, J^z = u\rangle`: :math:`Bs + hu + 2\Delta su`.

    With :func:`ladder_up` and :func:`ladder_down` it gives :math:`H` in any
    :math:`(S^z, J^z)` product basis: the flip-flop term maps :math:`(s, u) \to (s+1, u-1)`
    with amplitude :math:`A\,\langle S^+\rangle\langle J^-\rangle`.
    """
    return model.B * sz + model.h * jz + 2 * model.delta * sz * jz


def collective_operators(model: BatteryModel) -> CollectiveOperators:
    r"""Return :math:`S^z, S^+, S^-, J^z, J^+, J^-` on dims ``[[N_B+1, N+1], [N_B+1, N+1]]``.

    Built from ``qutip.jmat(N_B/2, ...)`` and ``qutip.jmat(N/2, ...)`` with ``qutip.tensor``.
    """
    check_model(model)
    require(
        60.0 * model.shape * 28,
        f"the Dicke-space operators of N_B={model.n_battery}, N={model.n_charger}",
    )
    jb, jc = model.n_battery / 2, model.n_charger / 2
    ib, ic = qutip.qeye(model.n_battery + 1), qutip.qeye(model.n_charger + 1)
    return CollectiveOperators(
        Sz=qutip.tensor(qutip.jmat(jb, "z"), ic),
        Sp=qutip.tensor(qutip.jmat(jb, "+"), ic),
        Sm=qutip.tensor(qutip.jmat(jb, "-"), ic),
        Jz=qutip.tensor(ib, qutip.jmat(jc, "z")),
        Jp=qutip.tensor(ib, qutip.jmat(jc, "+")),
        Jm=qutip.tensor(ib, qutip.jmat(jc, "-")),
    )


def battery_hamiltonian(model: BatteryModel) -> qutip.Qobj:
    r"""Battery Hamiltonian :math:`H_B = B S^z` (Eq. 4) on the full Dicke space."""
    ops = collective_operators(model)
    return model.B * ops.Sz


def charger_hamiltonian(model: BatteryModel) -> qutip.Qobj:
    r"""Charger Hamiltonian :math:`H_C = h J^z` (Eq. 5) on the full Dicke space."""
    ops = collective_operators(model)
    return model.h * ops.Jz


def interaction_hamiltonian(model: BatteryModel) -> qutip.Qobj:
    r"""Interaction :math:`H_I = A(S^+J^- + S^-J^+) + 2\Delta S^z J^z` (Eq. 6)."""
    ops = collective_operators(model)
    flip_flop = ops.Sp * ops.Jm + ops.Sm * ops.Jp
    return model.A * flip_flop + 2 * model.delta * ops.Sz * ops.Jz


def hamiltonian_from(model: BatteryModel, S, J) -> qutip.Qobj:
    r""":math:`H = BS^z + hJ^z + A(S^+J^- + S^-J^+) + 2\Delta S^zJ^z` from given operators.

    The one place the Hamiltonian is written. ``S`` and ``J`` are ``(z, +, -)`` triples of
    ``Qobj`` already embedded in one space, in any basis (``jmat`` on the Dicke space,
    ``qutip.piqs.jspin``, sums of qubit operators): every solver path builds its ``H`` here.
    """
    sz, sp, sm = S
    jz, jp, jm = J
    H = model.B * sz + model.h * jz + model.A * (sp * jm + sm * jp) + 2 * model.delta * sz * jz
    H.isherm = True
    return H


def hamiltonian(model: BatteryModel) -> qutip.Qobj:
    r"""Total Hamiltonian :math:`H = H_B + H_C + H_I` (Eqs. 4-6).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, hamiltonian
    >>> H = hamiltonian(CentralSpinModel(n_battery=2, n_charger=3))
    >>> H.dims, H.isherm
    ([[3, 4], [3, 4]], True)
    """
    ops = collective_operators(model)
    return hamiltonian_from(model, (ops.Sz, ops.Sp, ops.Sm), (ops.Jz, ops.Jp, ops.Jm))


def excitation_number(model: BatteryModel) -> qutip.Qobj:
    r"""Total excitation number :math:`\hat K = \hat m + \hat n = S^z + J^z + (N_B + N)/2`.

    :math:`[H, \hat K] = 0`: the flip-flop term moves one excitation between battery and
    charger, the other terms are diagonal.
    """
    ops = collective_operators(model)
    shift = (model.n_battery + model.n_charger) / 2
    return ops.Sz + ops.Jz + shift * qutip.qeye(model.dims[0])


def check_model(model) -> BatteryModel:
    """Return ``model`` if it is a :class:`CentralSpinModel`, else raise ``TypeError``."""
    if getattr(model, "kind", None) != "spins":  # the spin charger's kind (models.spin)
        raise TypeError(f"model must be a CentralSpinModel, got {type(model).__name__}")
    return model
