"""Initial states: Dicke product states, spin-coherent charger, products, state checks."""

import math

import numpy as np
import pytest
import qutip
from tolerances import EXACT_ATOL

from qutip_centralspin import CentralSpinModel, dicke_state, spin_coherent_charger
from qutip_centralspin.models.states import (
    battery_dicke,
    charger_dicke,
    check_state,
    product_state,
)

MODEL = CentralSpinModel(n_battery=2, n_charger=5)


@pytest.mark.parametrize("m", range(3))
@pytest.mark.parametrize("n", range(6))
def test_dicke_state_is_a_basis_vector_at_jmat_index(m, n):
    ket = dicke_state(MODEL, m, n)
    assert ket.isket and ket.dims[0] == [3, 6]
    vec = ket.full().ravel()
    # battery first, jmat order (+j first): |m spins up> at index N_B - m, charger N - n
    expected = np.zeros(MODEL.shape)
    expected[(2 - m) * 6 + (5 - n)] = 1.0
    np.testing.assert_array_equal(vec, expected)
    # and its spin projections are those of Eq. (7): S^z = m - N_B/2, J^z = n - N/2
    assert qutip.expect(qutip.jmat(1.0, "z"), battery_dicke(MODEL, m)) == pytest.approx(m - 1)
    assert qutip.expect(qutip.jmat(2.5, "z"), charger_dicke(MODEL, n)) == pytest.approx(n - 2.5)


def test_ket_dims_property_matches_qutip_kets():
    ket = dicke_state(MODEL, 0, 5)
    assert ket.dims == MODEL.ket_dims


def test_dicke_state_dm():
    ket = dicke_state(MODEL, 1, 3)
    rho = dicke_state(MODEL, 1, 3, dm=True)
    assert rho.isoper and rho.dims == MODEL.dims
    assert (rho - ket.proj()).norm("max") < EXACT_ATOL


@pytest.mark.parametrize(
    "func, label, name",
    [
        pytest.param(battery_dicke, 3, "m", id="battery-too-large"),
        pytest.param(battery_dicke, -1, "m", id="battery-negative"),
        pytest.param(charger_dicke, 6, "n", id="charger-too-large"),
        pytest.param(charger_dicke, 2.0, "n", id="charger-float"),
    ],
)
def test_single_factor_rejects(func, label, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        func(MODEL, label)


def test_states_reject_non_model():
    with pytest.raises(TypeError):
        dicke_state("model", 0, 0)


@pytest.mark.parametrize("theta, phi", [(0.0, 0.0), (0.7, 0.3), (math.pi / 2, 1.2), (2.5, -0.4)])
def test_spin_coherent_charger_orientation(theta, phi):
    """<J> = (N/2)(sin t cos p, sin t sin p, cos t) and the battery is |m> untouched."""
    nc = MODEL.n_charger
    state = spin_coherent_charger(MODEL, theta, phi, m=1)
    assert state.isket and state.dims[0] == MODEL.dims[0]
    assert state.norm() == pytest.approx(1.0, abs=EXACT_ATOL)
    j = nc / 2
    ops = {a: qutip.tensor(qutip.qeye(3), qutip.jmat(j, a)) for a in "xyz"}
    expected = {
        "x": j * math.sin(theta) * math.cos(phi),
        "y": j * math.sin(theta) * math.sin(phi),
        "z": j * math.cos(theta),
    }
    for axis, op in ops.items():
        assert qutip.expect(op, state) == pytest.approx(expected[axis], abs=1e-10)
    battery = state.ptrace(0)
    assert (battery - battery_dicke(MODEL, 1).proj()).norm("max") < 1e-10


def test_spin_coherent_charger_poles():
    north = spin_coherent_charger(MODEL, 0.0)
    south = spin_coherent_charger(MODEL, math.pi)
    assert abs(north.overlap(dicke_state(MODEL, 0, 5))) == pytest.approx(1.0, abs=1e-12)
    assert abs(south.overlap(dicke_state(MODEL, 0, 0))) == pytest.approx(1.0, abs=1e-12)
    rho = spin_coherent_charger(MODEL, 0.4, dm=True)
    assert rho.isoper and rho.tr() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        pytest.param({"theta": -0.1}, "theta", id="theta-negative"),
        pytest.param({"theta": 3.2}, "theta", id="theta-above-pi"),
        pytest.param({"theta": math.nan}, "theta", id="theta-nan"),
        pytest.param({"theta": 0.1, "phi": math.inf}, "phi", id="phi-inf"),
        pytest.param({"theta": 0.1, "m": 3}, "m", id="m-too-large"),
    ],
)
def test_spin_coherent_charger_rejects(kwargs, name):
    with pytest.raises(ValueError, match=name):
        spin_coherent_charger(MODEL, **kwargs)


def test_product_state_kets_and_mixtures():
    b = battery_dicke(MODEL, 1)
    c = (charger_dicke(MODEL, 0) + 1j * charger_dicke(MODEL, 4)).unit()
    ket = product_state(b, c)
    assert ket.isket and ket.dims[0] == MODEL.dims[0]
    np.testing.assert_allclose(ket.full().ravel(), np.kron(b.full().ravel(), c.full().ravel()))
    mixed_c = 0.25 * charger_dicke(MODEL, 0).proj() + 0.75 * charger_dicke(MODEL, 3).proj()
    rho = product_state(b, mixed_c)
    assert rho.isoper and rho.dims == MODEL.dims
    np.testing.assert_allclose(
        rho.full(), np.kron(b.proj().full(), mixed_c.full()), rtol=0, atol=1e-15
    )
    rho2 = product_state(b.proj(), c)
    assert (rho2 - ket.proj()).norm("max") < EXACT_ATOL


@pytest.mark.parametrize("bad", [None, np.zeros(3), qutip.basis(3, 0).dag()])
def test_product_state_rejects(bad):
    with pytest.raises(TypeError):
        product_state(bad, charger_dicke(MODEL, 0))
    with pytest.raises(TypeError):
        product_state(battery_dicke(MODEL, 0), bad)


def test_check_state():
    ket = dicke_state(MODEL, 0, 5)
    assert check_state(MODEL, ket) is ket
    assert check_state(MODEL, ket.proj()).isoper
    with pytest.raises(ValueError, match="dims"):
        check_state(MODEL, qutip.basis(MODEL.shape, 0))  # right size, flat dims
    with pytest.raises(ValueError, match="dims"):
        check_state(MODEL, dicke_state(CentralSpinModel(2, 4), 0, 0))
    with pytest.raises(TypeError, match="psi0"):
        check_state(MODEL, ket.full(), "psi0")
    with pytest.raises(TypeError):
        check_state(MODEL, ket.dag())
