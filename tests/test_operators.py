"""Collective operators and Hamiltonian on the Dicke space, checked against the paper's
matrix elements (Eqs. 17, B1-B3) written out here by hand."""

import math

import numpy as np
import pytest
import qutip
from tolerances import OPERATOR_ATOL

from qutip_centralspin import CentralSpinModel, dicke_state, hamiltonian
from qutip_centralspin.models.operators import (
    battery_hamiltonian,
    charger_hamiltonian,
    collective_operators,
    dicke_index,
    excitation_number,
    interaction_hamiltonian,
)
from qutip_centralspin.models.states import battery_dicke, charger_dicke

SIZES = [(1, 1), (1, 4), (2, 3), (3, 2), (4, 6)]
MODELS = [
    pytest.param(CentralSpinModel(nb, nc, B=1.3, h=0.6, A=0.8, delta=-0.45), id=f"NB{nb}-N{nc}")
    for nb, nc in SIZES
]


def b_coeff(n_spins, n):
    """b_{N,n} = n (N - n + 1) (paper, after Eq. 7)."""
    return n * (n_spins - n + 1)


def paper_matrix(model):
    """<m', n'| H |m, n> from the recurrence (17), indexed by (m, n) pairs in our own order."""
    nb, nc = model.n_battery, model.n_charger
    labels = [(m, n) for m in range(nb + 1) for n in range(nc + 1)]
    pos = {lab: i for i, lab in enumerate(labels)}
    H = np.zeros((len(labels), len(labels)))
    for (m, n), i in pos.items():
        sz, jz = m - nb / 2, n - nc / 2
        H[i, i] = model.B * sz + model.h * jz + 2 * model.delta * sz * jz
        if m < nb and n > 0:  # S^+ J^- |m, n> = sqrt(b_{N_B, m+1} b_{N, n}) |m+1, n-1>
            j = pos[(m + 1, n - 1)]
            H[j, i] = H[i, j] = model.A * math.sqrt(b_coeff(nb, m + 1) * b_coeff(nc, n))
    return labels, H


def in_dicke_basis(model, op, labels):
    """Matrix of ``op`` between the package's ``dicke_state`` kets, in the order ``labels``."""
    kets = [dicke_state(model, m, n) for m, n in labels]
    return np.array([[complex(a.dag() * op * b) for b in kets] for a in kets])


@pytest.mark.parametrize("model", MODELS)
def test_dims(model):
    expected = [[model.n_battery + 1, model.n_charger + 1]] * 2
    ops = collective_operators(model)
    for op in (
        *ops,
        hamiltonian(model),
        battery_hamiltonian(model),
        charger_hamiltonian(model),
        interaction_hamiltonian(model),
        excitation_number(model),
    ):
        assert op.dims == expected
        assert op.shape == (model.shape, model.shape)


@pytest.mark.parametrize("model", MODELS)
def test_hamiltonian_matches_recurrence_17(model):
    labels, expected = paper_matrix(model)
    got = in_dicke_basis(model, hamiltonian(model), labels)
    np.testing.assert_allclose(got, expected, rtol=0, atol=OPERATOR_ATOL)


@pytest.mark.parametrize("model", MODELS)
def test_parts_sum_and_match_paper(model):
    labels, _ = paper_matrix(model)
    nb, nc = model.n_battery, model.n_charger
    h_b = in_dicke_basis(model, battery_hamiltonian(model), labels)
    h_c = in_dicke_basis(model, charger_hamiltonian(model), labels)
    np.testing.assert_allclose(
        np.diag(h_b), [model.B * (m - nb / 2) for m, _ in labels], rtol=0, atol=OPERATOR_ATOL
    )
    np.testing.assert_allclose(
        np.diag(h_c), [model.h * (n - nc / 2) for _, n in labels], rtol=0, atol=OPERATOR_ATOL
    )
    assert np.count_nonzero(np.abs(h_b - np.diag(np.diag(h_b))) > OPERATOR_ATOL) == 0
    total = (
        battery_hamiltonian(model) + charger_hamiltonian(model) + interaction_hamiltonian(model)
    )
    assert (total - hamiltonian(model)).norm("max") < OPERATOR_ATOL


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "builder", [hamiltonian, battery_hamiltonian, charger_hamiltonian, interaction_hamiltonian]
)
def test_hermitian(model, builder):
    op = builder(model)
    dense = op.full()
    np.testing.assert_allclose(dense, dense.conj().T, rtol=0, atol=OPERATOR_ATOL)
    assert op.isherm


@pytest.mark.parametrize("model", MODELS)
def test_spin_commutators(model):
    Sz, Sp, Sm, Jz, Jp, Jm = collective_operators(model)
    assert (qutip.commutator(Sz, Sp) - Sp).norm("max") < OPERATOR_ATOL
    assert (qutip.commutator(Sz, Sm) + Sm).norm("max") < OPERATOR_ATOL
    assert (qutip.commutator(Jz, Jp) - Jp).norm("max") < OPERATOR_ATOL
    assert (qutip.commutator(Sp, Sm) - 2 * Sz).norm("max") < OPERATOR_ATOL
    assert (qutip.commutator(Jp, Jm) - 2 * Jz).norm("max") < OPERATOR_ATOL
    # battery and charger operators act on different factors
    for s in (Sz, Sp, Sm):
        for j in (Jz, Jp, Jm):
            assert qutip.commutator(s, j).norm("max") < OPERATOR_ATOL
    assert (Sp.dag() - Sm).norm("max") < OPERATOR_ATOL
    # Casimir: S^2 = j(j+1) on the symmetric space
    jb = model.n_battery / 2
    s2 = Sz * Sz + (Sp * Sm + Sm * Sp) / 2
    assert (s2 - jb * (jb + 1) * qutip.qeye(model.dims[0])).norm("max") < OPERATOR_ATOL


@pytest.mark.parametrize("model", MODELS)
def test_excitation_number_conserved_and_counts(model):
    K = excitation_number(model)
    assert qutip.commutator(hamiltonian(model), K).norm("max") < OPERATOR_ATOL
    for m in range(model.n_battery + 1):
        for n in range(model.n_charger + 1):
            ket = dicke_state(model, m, n)
            assert (K * ket - (m + n) * ket).norm() < OPERATOR_ATOL


@pytest.mark.parametrize(
    "n_spins, m, expected",
    [(1, 0, 1), (1, 1, 0), (4, 0, 4), (4, 3, 1), (10, 10, 0), (10, 5, 5)],
)
def test_dicke_index(n_spins, m, expected):
    assert dicke_index(n_spins, m) == expected
    assert qutip.jmat(n_spins / 2, "z").full()[expected, expected] == pytest.approx(
        m - n_spins / 2
    )


@pytest.mark.parametrize(
    "n_spins, m, name",
    [
        pytest.param(3, -1, "m", id="m-negative"),
        pytest.param(3, 4, "m", id="m-too-large"),
        pytest.param(3, 1.5, "m", id="m-float"),
        pytest.param(0, 0, "n_spins", id="no-spins"),
    ],
)
def test_dicke_index_rejects(n_spins, m, name):
    with pytest.raises(ValueError, match=name):
        dicke_index(n_spins, m)


@pytest.mark.parametrize("model", MODELS)
def test_jz_sz_eigenvalues_on_dicke_states(model):
    nb, nc = model.n_battery, model.n_charger
    Sz, _, _, Jz, _, _ = collective_operators(model)
    jz_c = qutip.jmat(nc / 2, "z")
    for n in range(nc + 1):
        ket = charger_dicke(model, n)
        assert (jz_c * ket - (n - nc / 2) * ket).norm() < OPERATOR_ATOL
        for m in range(nb + 1):
            full = dicke_state(model, m, n)
            assert (Jz * full - (n - nc / 2) * full).norm() < OPERATOR_ATOL
            assert (Sz * full - (m - nb / 2) * full).norm() < OPERATOR_ATOL


@pytest.mark.parametrize("model", MODELS)
def test_ladder_amplitudes(model):
    """S^+|m> = sqrt(b_{N_B, m+1})|m+1>, J^-|n> = sqrt(b_{N, n})|n-1> (Eqs. B2-B3)."""
    nb, nc = model.n_battery, model.n_charger
    Sz, Sp, Sm, Jz, Jp, Jm = collective_operators(model)
    n = nc // 2
    for m in range(nb + 1):
        raised = Sp * dicke_state(model, m, n)
        expected = (
            math.sqrt(b_coeff(nb, m + 1)) * dicke_state(model, m + 1, n) if m < nb else 0 * raised
        )
        assert (raised - expected).norm() < OPERATOR_ATOL
    sp_b = qutip.jmat(nb / 2, "+")
    for m in range(nb):
        amp = complex(battery_dicke(model, m + 1).dag() * sp_b * battery_dicke(model, m))
        assert amp == pytest.approx(math.sqrt(b_coeff(nb, m + 1)), abs=OPERATOR_ATOL)
    for k in range(nc + 1):
        lowered = Jm * dicke_state(model, 0, k)
        expected = math.sqrt(b_coeff(nc, k)) * dicke_state(model, 0, k - 1) if k else 0 * lowered
        assert (lowered - expected).norm() < OPERATOR_ATOL


def test_operators_reject_non_model():
    for builder in (hamiltonian, collective_operators, excitation_number, battery_hamiltonian):
        with pytest.raises(TypeError, match="CentralSpinModel"):
            builder((1, 2))


@pytest.mark.parametrize(
    "m, n, name",
    [
        pytest.param(-1, 0, "m", id="m-negative"),
        pytest.param(3, 0, "m", id="m-too-large"),
        pytest.param(0, -1, "n", id="n-negative"),
        pytest.param(0, 5, "n", id="n-too-large"),
        pytest.param(0.5, 0, "m", id="m-float"),
        pytest.param(0, 1.0, "n", id="n-float"),
        pytest.param(True, 0, "m", id="m-bool"),
    ],
)
def test_out_of_range_labels(m, n, name):
    model = CentralSpinModel(2, 4)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        dicke_state(model, m, n)
