r"""The nonzero entries of a ket or density matrix, read without materialising the full space.

A Dicke product state of :math:`N_B = 10^3` battery and :math:`N = 10^6` charger spins lives in
a space of :math:`10^9` dimensions but has one nonzero entry.
:func:`~qutip_centralspin.dicke_state` returns it with QuTiP's sparse ``Dia`` data layer (one
stored entry); the functions here read the entries of any ``Qobj`` in time and memory of the
order of its *stored* data, so the closed sector engine, the state checks and the resource
estimates never build a vector (or matrix) of the full dimension.

============  =============================================================================
data layer    how the entries are read
============  =============================================================================
``Dense``     the nonzeros of the array (it is already full-size)
``CSR``       the stored entries (``scipy.sparse`` COO view)
``Dia``       the stored diagonals directly (a ket of one entry: :math:`O(1)`)
other         converted to ``CSR`` first
============  =============================================================================

Explicitly stored zeros are dropped; duplicate entries (possible in a hand-made ``CSR``) are
summed, as QuTiP does.
"""

from __future__ import annotations

import numpy as np
import qutip

__all__ = ["ket_entries", "operator_entries"]


def ket_entries(state: qutip.Qobj) -> tuple[np.ndarray, np.ndarray]:
    """``(index, values)``: the nonzero entries of a ket, ascending ``index`` (int64).

    Examples
    --------
    >>> import qutip
    >>> psi = qutip.tensor(qutip.basis(3, 1, dtype="dia"), qutip.basis(10**6, 7, dtype="dia"))
    >>> ket_entries(psi)
    (array([1000007]), array([1.+0.j]))
    """
    if not state.isket:
        raise ValueError(f"state must be a ket, got a Qobj of type {state.type!r}")
    rows, _, values = _entries(state)
    return _sorted_unique(rows, values)


def operator_entries(state: qutip.Qobj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, values)``: the nonzero entries of a square operator (COO triplets)."""
    if not state.isoper:
        raise ValueError(f"state must be an operator, got a Qobj of type {state.type!r}")
    rows, cols, values = _entries(state)
    dim = state.shape[1]
    flat, values = _sorted_unique(rows * dim + cols, values)
    rows, cols = np.divmod(flat, dim)
    return rows, cols, values


def _entries(state: qutip.Qobj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stored entries (possibly zero or repeated) as int64 rows, cols and complex values."""
    data = state.data
    if isinstance(data, qutip.data.Dense):
        array = state.data_as("ndarray")
        rows, cols = np.nonzero(array)
        return rows.astype(np.int64), cols.astype(np.int64), array[rows, cols].astype(complex)
    if isinstance(data, qutip.data.Dia):
        return _dia_entries(state.data_as("dia_matrix"), state.shape)
    csr = state.to("csr").data_as("csr_matrix").tocoo()
    return csr.row.astype(np.int64), csr.col.astype(np.int64), csr.data.astype(complex)


def _dia_entries(dia, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of a ``scipy.sparse`` DIA matrix: ``data[i, j]`` sits at ``(j - offsets[i], j)``
    (only the stored columns are visited: a ket of ``r`` entries costs ``O(r)``)."""
    offsets = np.asarray(dia.offsets, dtype=np.int64)
    data = np.asarray(dia.data)
    n_rows, n_cols = shape
    width = min(data.shape[1], n_cols) if data.ndim == 2 else 0
    if offsets.size == 0 or width == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=complex)
    cols = np.broadcast_to(np.arange(width, dtype=np.int64), (offsets.size, width))
    rows = cols - offsets[:, None]
    inside = (rows >= 0) & (rows < n_rows)
    return rows[inside], cols[inside], data[:, :width][inside].astype(complex)


def _sorted_unique(flat: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by ``flat``, sum duplicates, drop zeros."""
    if flat.size > 1 and not np.all(flat[1:] > flat[:-1]):
        order = np.argsort(flat, kind="stable")
        flat, values = flat[order], values[order]
        if not np.all(flat[1:] > flat[:-1]):
            flat, first = np.unique(flat, return_index=True)
            values = np.add.reduceat(values, first)
    nonzero = values != 0
    return flat[nonzero], values[nonzero]
