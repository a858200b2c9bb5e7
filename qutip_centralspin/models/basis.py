r"""The basis of the battery's reduced state :math:`\rho_B`, written once.

Closed paths (and ``c_ops``) hand the full state on the symmetric space, dims
``[[N_B+1, N+1], ...]`` (``qutip.jmat`` order, see :mod:`qutip_centralspin.models.operators`). With
``processes`` the battery may leave its symmetric subspace, so every open path hands
:math:`\rho_B(t)` in one basis: the **j-resolved Dicke basis of** ``qutip.piqs``,

* ``qutip.piqs.num_dicke_states(N_B)`` states, dims ``[[nds], [nds]]``;
* ladders :math:`j = N_B/2, N_B/2 - 1, \dots` in consecutive blocks, :math:`m_z = j, j-1,
  \dots, -j` within a block (the first block is the symmetric subspace in ``jmat`` order);
* the multiplicity :math:`d_j` traced out (PIQS normalisation, :math:`\sum_j\mathrm{tr}\,
  \rho_j = 1`).

Battery operators for the open path are therefore ``qutip.piqs.jspin(N_B, ...)``;
:func:`battery_sz` gives :math:`S^z` in whichever of these bases a state is written.
For :math:`N_B = 1` the two bases coincide. A battery state that mixes several ladders with
no coherence between them (e.g. the Gibbs state of the :math:`N_B` physical spins,
:mod:`qutip_centralspin.models.thermal_battery`) is written with :func:`embed_ladders`, ladder ``q``
(:math:`j = N_B/2 - q`) at :func:`ladder_slice`.
"""

from __future__ import annotations

import numpy as np
import qutip
from qutip import piqs

__all__ = [
    "battery_dims",
    "piqs_index",
    "ladder_slice",
    "embed_ladders",
    "embed_symmetric",
    "battery_sz",
]


def battery_dims(n_battery: int) -> int:
    """Size of :math:`\\rho_B` on the open path: ``qutip.piqs.num_dicke_states(N_B)``."""
    return (n_battery // 2 + 1) * (n_battery - n_battery // 2 + 1)


def piqs_index(n_battery: int, q, k):
    r"""Index of :math:`|j = N_B/2 - q, m_z = k - N_B/2\rangle` in the PIQS basis.

    ``k`` counts up spins (the paper's ``m``); ladder ``q`` starts at
    :math:`\sum_{q' < q}(N_B - 2q' + 1)`, and :math:`m_z` descends within it.
    """
    q, k = np.asarray(q), np.asarray(k)
    return q * (n_battery + 1) - q * (q - 1) + (n_battery - q - k)


def ladder_slice(n_battery: int, q: int) -> slice:
    r"""The PIQS indices of ladder :math:`j = N_B/2 - q` (``q = 0..N_B//2``): :math:`m_z = j, \dots, -j`.

    Examples
    --------
    >>> from qutip_centralspin.models.basis import ladder_slice
    >>> ladder_slice(3, 0), ladder_slice(3, 1)
    (slice(0, 4, None), slice(4, 6, None))
    """
    start = int(piqs_index(n_battery, q, n_battery - q))  # m_z = j: k = N_B - q up spins
    return slice(start, start + n_battery - 2 * q + 1)


def embed_ladders(n_battery: int, blocks) -> np.ndarray:
    r"""Block-diagonal battery matrices in the PIQS basis from their ladder blocks.

    Parameters
    ----------
    n_battery : int
        :math:`N_B`.
    blocks : dict
        ``{q: rho_q}``, ``rho_q`` of shape ``(..., 2j+1, 2j+1)`` (:math:`j = N_B/2 - q`,
        ``jmat`` order :math:`m_z = j, \dots, -j`; a leading stack axis, e.g. time, is kept),
        in the PIQS normalisation: ``rho_q`` already sums the :math:`d_j` copies of the ladder.

    Returns
    -------
    ndarray
        Shape ``(..., nds, nds)``, ``nds = num_dicke_states(N_B)``; ladders not given are 0.
    """
    dim = battery_dims(n_battery)
    lead = next(iter(blocks.values())).shape[:-2] if blocks else ()
    out = np.zeros((*lead, dim, dim), dtype=complex)
    for q, block in blocks.items():
        where = ladder_slice(n_battery, q)
        out[..., where, where] = block
    return out


def embed_symmetric(rho_sym) -> qutip.Qobj:
    """A battery state on the :math:`N_B+1` symmetric levels, written in the PIQS basis."""
    mat = rho_sym.full() if isinstance(rho_sym, qutip.Qobj) else np.asarray(rho_sym)
    n_battery = mat.shape[0] - 1
    dim = battery_dims(n_battery)
    return qutip.Qobj(embed_ladders(n_battery, {0: mat}), dims=[[dim], [dim]])


def battery_sz(n_battery: int, dims: list) -> qutip.Qobj:
    r""":math:`S^z` of the battery for a state with ket dims ``dims`` (``state.dims[0]``).

    * ``[N_B+1, d, ...]``: the battery is the first factor (full space of a spin or cavity
      charger): ``jmat(N_B/2, "z")`` tensored with identities;
    * ``[N_B+1]``: the symmetric battery levels, ``jmat(N_B/2, "z")``;
    * ``[nds]``: the PIQS basis, ``qutip.piqs.jspin(N_B, "z")``.

    Raises
    ------
    ValueError
        If ``dims`` is none of these.
    """
    nb1 = n_battery + 1
    if dims and dims[0] == nb1:
        sz = qutip.jmat(n_battery / 2, "z")
        if len(dims) == 1:
            return sz
        return qutip.tensor(sz, *(qutip.qeye(d) for d in dims[1:]))
    nds = battery_dims(n_battery)
    if list(dims) == [nds]:
        return qutip.Qobj(piqs.jspin(n_battery, "z").data, dims=[[nds], [nds]])
    raise ValueError(
        f"state dims {dims} are not a state of this battery (N_B = {n_battery}): expected "
        f"the full space [{nb1}, ...], the symmetric levels [{nb1}] or the qutip.piqs "
        f"Dicke basis [{nds}]"
    )
