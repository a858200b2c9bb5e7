"""The closed engine at thermodynamic sizes: sparse kets never densified, the spectral sums on
the occupied eigenstates only, and the rigorous bound of what is dropped."""

import math
import time
import tracemalloc

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
from helpers import time_limit

from qutip_centralspin import CentralSpinModel, charge, dicke_state, max_energy, max_power
from qutip_centralspin.models.statedata import ket_entries, operator_entries
from qutip_centralspin.models.states import (
    SPARSE_PRODUCT_SIZE,
    battery_dicke,
    product_state,
    validate_state,
)
from qutip_centralspin.solvers import SectorEngine, spectral

#: Same inputs, same arithmetic after the entries are read: equal to round-off.
PATH_RTOL = 1e-12


def _superposition(model, amps, layer):
    psi = sum(a * dicke_state(model, m, n) for (m, n), a in amps.items()).unit()
    return psi.to(layer)


CASES = [
    pytest.param(CentralSpinModel(3, 6), {(0, 6): 1.0}, id="paper-state"),
    pytest.param(CentralSpinModel(4, 7, h=0.6, delta=0.3), {(2, 3): 1.0}, id="m0>0"),
    pytest.param(
        CentralSpinModel(3, 5, B=1.3, A=0.8),
        {(0, 5): 0.6, (1, 4): 0.8j, (2, 1): -0.3},
        id="superposition-sectors",
    ),
    pytest.param(
        CentralSpinModel(5, 4, delta=-0.4),
        {(1, 3): 1.0, (3, 0): 0.5 - 0.2j},
        id="superposition-m0>0",
    ),
]


def _same_maximum(a, b):
    for name in ("value", "upper_bound", "time"):
        x, y = getattr(a, name), getattr(b, name)
        assert x == pytest.approx(y, rel=PATH_RTOL, abs=1e-300), name
    assert a.converged == b.converged


@pytest.mark.parametrize("model, amps", CASES)
@pytest.mark.parametrize("layer", ["dia", "csr"])
def test_sparse_ket_path_equals_dense_path(model, amps, layer):
    sparse, dense = _superposition(model, amps, layer), _superposition(model, amps, "dense")
    assert sparse.dtype is not qutip.data.Dense and dense.dtype is qutip.data.Dense
    _same_maximum(max_power(model, sparse), max_power(model, dense))
    _same_maximum(max_energy(model, sparse), max_energy(model, dense))
    # and the Dicke-label route, which never sees a Qobj
    _same_maximum(max_power(model, sparse), max_power(model, amps))
    t = np.linspace(0.0, 3.0, 7)
    np.testing.assert_allclose(
        charge(model, sparse, t).delta_energy, charge(model, dense, t).delta_energy, atol=1e-12
    )


def test_sparse_density_matrix_equals_dense():
    """A mixture with coherences between sectors, stored sparse (from the Dia kets) and dense:
    the same maxima and the same reduced battery state (the factorised path)."""
    model = CentralSpinModel(3, 4, h=0.7)
    psi = (dicke_state(model, 0, 4) + 0.5j * dicke_state(model, 2, 1)).unit()
    rho = 0.6 * psi.proj() + 0.4 * dicke_state(model, 1, 3, dm=True)
    assert rho.dtype is not qutip.data.Dense
    dense = rho.to("dense")
    _same_maximum(max_power(model, rho), max_power(model, dense))
    t = np.array([0.0, 0.4, 1.3])
    a = SectorEngine(model).evolve(rho).reduced_battery_matrices(t)
    b = SectorEngine(model).evolve(dense).reduced_battery_matrices(t)
    np.testing.assert_allclose(a, b, atol=1e-12)
    # independent: rho_B(t) from the full-space propagator
    u = (-1j * qutip.Qobj(_hamiltonian(model)) * 1.3).expm()
    ref = (qutip.Qobj(u.full() @ dense.full() @ u.full().conj().T, dims=model.dims)).ptrace(0)
    np.testing.assert_allclose(a[-1], ref.full(), atol=1e-10)


def _hamiltonian(model):
    from qutip_centralspin import hamiltonian

    return hamiltonian(model).full()


def test_dicke_state_is_one_stored_entry_at_any_size():
    model = CentralSpinModel(1000, 10**6)
    tracemalloc.start()
    try:
        psi = dicke_state(model, 3, 1000)
        index, values = ket_entries(psi)
        validate_state(psi)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert psi.isket and psi.dims == model.ket_dims and psi.shape == (model.shape, 1)
    assert peak < 1e6  # bytes; the dense ket would be 16 GB
    expected = (1000 - 3) * (10**6 + 1) + (10**6 - 1000)  # battery first, jmat order
    assert index.tolist() == [expected] and values.tolist() == [1.0]


def test_big_dicke_ket_never_materialises_the_full_space():
    """(N_B, N, n0) = (1000, 10^6, 1000): a 10^9-dimensional space (16 GB as a dense ket).
    max_power, max_energy and charge run in bounded memory and agree with the Dicke label."""
    model = CentralSpinModel(1000, 10**6)
    psi = dicke_state(model, 0, 1000)
    with time_limit(60):
        tracemalloc.start()
        try:
            start = time.perf_counter()
            p_ket = max_power(model, psi)
            elapsed = time.perf_counter() - start
            res = charge(model, psi, np.linspace(0.0, 1e-3, 5))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 400e6  # one sector of 1001 levels (V: 8 MB); the space: 1.6e10 bytes
    p_label = max_power(model, (0, 1000))
    _same_maximum(p_ket, p_label)
    assert p_ket.converged
    evo = SectorEngine(model).evolve((0, 1000))
    np.testing.assert_allclose(res.delta_energy, evo.delta_energy(res.times), rtol=1e-12)
    assert elapsed < 30  # generous: ~0.3 s on an idle core, the full-space path ran out of memory


def test_product_of_sparse_factors_stays_sparse():
    model = CentralSpinModel(2, 40_000)
    battery = battery_dicke(model, 1)
    charger = qutip.spin_coherent(20.0, 0.4, 0.3)  # 41 dense levels
    big = product_state(battery, qutip.tensor(charger, qutip.basis(1000, 7)))
    assert battery.shape[0] * 41_000 > SPARSE_PRODUCT_SIZE
    assert big.dtype is qutip.data.Dia
    index, values = ket_entries(big)
    assert index.size == 41
    ref = np.kron(battery.full().ravel(), np.kron(charger.full().ravel(), np.eye(1000)[7]))
    assert np.flatnonzero(ref).tolist() == index.tolist()
    np.testing.assert_allclose(values, ref[index], atol=0)


# -- reading entries ------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", ["dense", "csr", "dia"])
def test_entries_match_the_dense_array(layer):
    rng = np.random.default_rng(3)
    vec = np.zeros(50, dtype=complex)
    vec[[0, 7, 8, 49]] = rng.normal(size=4) + 1j * rng.normal(size=4)
    ket = qutip.Qobj(vec[:, None]).to(layer)
    index, values = ket_entries(ket)
    assert index.tolist() == [0, 7, 8, 49]
    np.testing.assert_array_equal(values, vec[index])
    mat = np.outer(vec, vec.conj()) + np.diag(np.arange(50.0))
    rows, cols, vals = operator_entries(qutip.Qobj(mat).to(layer))
    ref_rows, ref_cols = np.nonzero(mat)
    assert rows.tolist() == ref_rows.tolist() and cols.tolist() == ref_cols.tolist()
    np.testing.assert_allclose(vals, mat[ref_rows, ref_cols], rtol=1e-15)


def test_dia_padding_outside_the_matrix_is_ignored():
    """scipy's DIA layout stores a full row of data per diagonal, including slots that fall
    outside the matrix: only the ones inside are entries (checked against scipy's COO)."""
    data = np.arange(1.0, 13.0).reshape(3, 4)
    dia = sp.dia_matrix((data, [-2, 0, 3]), shape=(4, 4))
    from qutip_centralspin.models.statedata import _dia_entries

    rows, cols, vals = _dia_entries(dia, (4, 4))
    coo = dia.tocoo()
    got = sorted(zip(rows.tolist(), cols.tolist(), vals.real.tolist(), strict=True))
    ref = sorted(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    assert got == [r for r in ref if r[2] != 0]


@pytest.mark.parametrize("layer", ["csr", "dia"])
@pytest.mark.parametrize(
    "diag, off, match",
    [
        pytest.param([0.5, 0.5, 0.0], (0, 1, 0.3), "Hermitian", id="non-hermitian"),
        pytest.param([1.5, -0.5, 0.0], None, "positive semidefinite", id="negative"),
        pytest.param([0.7, 0.0, 0.0], None, "trace 1", id="trace"),
        pytest.param([1.0, 0.0, 0.0], (0, 2, 0.2), "Hermitian", id="one-sided-coherence"),
    ],
)
def test_sparse_density_matrices_are_checked_like_dense(layer, diag, off, match):
    mat = np.zeros((300, 300), dtype=complex)
    mat[[5, 100, 250], [5, 100, 250]] = diag
    if off is not None:
        i, j, v = off
        mat[[5, 100, 250][i], [5, 100, 250][j]] = v
    for state in (qutip.Qobj(mat), qutip.Qobj(mat).to(layer)):
        with pytest.raises(ValueError, match=match):
            validate_state(state)


# -- what is dropped, and its bound ----------------------------------------------------------------
BIG = CentralSpinModel(300, 300, h=0.8, delta=0.1)  # sector K = 300: 301 levels


def test_negligible_amplitudes_are_dropped_on_large_sectors():
    evo = SectorEngine(BIG).evolve((0, 300))
    terms = evo.occupied_sectors[0], evo._components[0].terms
    sector, kept = terms
    assert sector.size == 301 and kept.size < sector.size / 2
    assert 0 < evo.truncation_bound(0) < 1e-10 * evo.energy_scale()
    # and the spectral sums keep the same certified answer as the whole sector
    whole = _untruncated(evo.model, (0, 300))
    assert whole._components[0].terms.size == 301
    a, b = max_power(BIG, (0, 300)), _max_power_of(whole)
    assert a.converged and b.converged
    assert a.value <= b.upper_bound and b.value <= a.upper_bound
    assert a.value == pytest.approx(b.value, rel=1e-10)


def _untruncated(model, state):
    old = spectral.TRUNCATE_MIN_SIZE
    spectral.TRUNCATE_MIN_SIZE = 10**9
    try:
        return SectorEngine(model).evolve(state)
    finally:
        spectral.TRUNCATE_MIN_SIZE = old


def _max_power_of(evo):
    from qutip_centralspin.maxima.certified import certified_max_power

    return certified_max_power(evo)


def test_commutator_norm_bounds_the_true_norm():
    """|ad_H^k(Z)|_2 from dense linear algebra never exceeds the band-matrix row-sum bound,
    and ad_H^k(Z) in the eigenbasis has the entries Z_ab (E_a - E_b)^k the bound relies on."""
    model = CentralSpinModel(6, 9, h=0.4, delta=0.7, A=1.3)
    evo = SectorEngine(model).evolve((1, 7))
    sector, terms = evo.occupied_sectors[0], evo._components[0].terms
    h = (
        np.diag(sector.diagonal)
        + np.diag(sector.off_diagonal, 1)
        + np.diag(sector.off_diagonal, -1)
    )
    x = np.diag(terms.z)
    v, e = sector.vectors, sector.energies
    zab = v.T @ np.diag(terms.z) @ v
    for k in range(5):
        true = np.linalg.norm(x, 2)
        assert true <= terms.commutator_norm(k) <= 3 * true + 1e-12
        np.testing.assert_allclose(
            v.T @ x @ v, zab * np.subtract.outer(e, e) ** k, atol=1e-9 * true
        )
        x = h @ x - x @ h


@pytest.mark.parametrize("threshold", [1e-3, 1e-5])
def test_truncation_bound_holds_where_it_matters(monkeypatch, threshold):
    """With a (deliberately large) threshold the dropped part is far above round-off: the
    kept sums must stay within the bound of the whole-sector sums for every order, every
    quantity the maxima use, and the maximum itself."""
    monkeypatch.setattr(spectral, "NEGLIGIBLE_AMPLITUDE", threshold)
    model = CentralSpinModel(300, 300, h=0.8, delta=0.1)
    amps = {(0, 300): 1.0, (1, 299): 0.3j}  # one sector, K = 300: 301 levels
    cut = SectorEngine(model).evolve(amps)
    whole = _untruncated(model, amps)
    assert cut._components[0].terms.size < whole._components[0].terms.size
    for k in range(6):
        exact, bound = whole.derivative_bound(k), cut.derivative_bound(k)
        assert exact <= bound * (1 + 1e-12)
        assert bound - exact <= cut.truncation_bound(k) + 1e-12 * exact
    t = np.linspace(0.0, 0.05, 41)
    gap = np.abs(cut.battery_energy(t) - whole.battery_energy(t))
    assert gap.max() > 1e-12 * cut.energy_scale()  # far above round-off: not vacuous ...
    assert np.all(gap <= cut.truncation_bound(0))  # ... and it holds
    for s in (0.003, 0.02):
        diff = np.abs(np.subtract(cut.energy_derivatives(s), whole.energy_derivatives(s)))
        assert np.all(diff <= [cut.truncation_bound(k) for k in range(4)])
    mean_gap = abs(cut.time_average_energy() - whole.time_average_energy())
    assert mean_gap <= cut.truncation_bound(0)
    assert whole.oscillation_amplitude() <= cut.oscillation_amplitude()
    assert whole.coherence() <= cut.coherence() * (1 + 1e-12)
    a, b = _max_power_of(cut), _max_power_of(whole)
    assert b.value <= a.upper_bound + 1e-9 * abs(b.value)
    assert a.value <= b.upper_bound + a.tolerance
    assert math.isfinite(a.upper_bound)
