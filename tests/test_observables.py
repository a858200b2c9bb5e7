"""BatteryEnergy / DeltaBatteryEnergy / BatteryPower as QuTiP ``e_ops`` callbacks."""

import pickle

import numpy as np
import pytest
import qutip
import scipy.linalg
import scipy.sparse.linalg
from tolerances import EXACT_ATOL, FD_ATOL, FD_STEP, ODE_ATOL

from qutip_centralspin import (
    BatteryEnergy,
    BatteryPower,
    CentralSpinModel,
    DeltaBatteryEnergy,
    dicke_state,
    hamiltonian,
)
from qutip_centralspin.models.operators import collective_operators

MODEL = CentralSpinModel(2, 3, B=1.3, h=0.7, A=1.0, delta=0.4)
TIMES = np.linspace(0.0, 3.0, 31)
LABELS = [(0, 3), (1, 2), (2, 1), (0, 1), (1, 0)]


def plain_energy(model, states, independent_battery_energy_op):
    h_b = independent_battery_energy_op(model)
    return np.array([np.real(qutip.expect(h_b, s)) for s in states])


def callbacks(model, psi0, c_ops=None):
    return {
        "E": BatteryEnergy(model),
        "dE": DeltaBatteryEnergy(model, psi0),
        "P": BatteryPower(model, psi0, c_ops=c_ops),
    }


def check_values(values, states, times, independent_battery_energy_op):
    """Callback values against H_B = B S^z evaluated on the solver's own states."""
    energy = plain_energy(MODEL, states, independent_battery_energy_op)
    np.testing.assert_allclose(values["E"], energy, rtol=0, atol=EXACT_ATOL)
    np.testing.assert_allclose(values["dE"], energy - energy[0], rtol=0, atol=EXACT_ATOL)
    np.testing.assert_allclose(
        values["P"][1:], (energy[1:] - energy[0]) / times[1:], rtol=0, atol=EXACT_ATOL
    )


@pytest.mark.parametrize("container", ["dict", "list"])
@pytest.mark.parametrize(
    "solver, kind",
    [("sesolve", "ket"), ("mesolve", "ket"), ("mesolve", "dm")],
)
def test_callbacks_in_qutip_solvers(
    container, solver, kind, ode_options, random_ket, rng, independent_battery_energy_op
):
    ket = random_ket(MODEL, LABELS, rng)
    psi0 = ket if kind == "ket" else ket.proj()
    cbs = callbacks(MODEL, psi0)
    e_ops = cbs if container == "dict" else list(cbs.values())
    options = {**ode_options, "store_states": True}
    solve = getattr(qutip, solver)
    res = solve(hamiltonian(MODEL), psi0, TIMES, e_ops=e_ops, options=options)
    if container == "dict":
        values = {k: np.asarray(v) for k, v in res.e_data.items()}
    else:
        values = dict(zip(cbs, (np.asarray(v) for v in res.expect), strict=True))
    check_values(values, res.states, TIMES, independent_battery_energy_op)
    assert np.ptp(values["E"]) > 0.1


def test_callbacks_agree_between_ket_and_dm_runs(ode_options, random_ket, rng):
    ket = random_ket(MODEL, LABELS, rng)
    H = hamiltonian(MODEL)
    a = qutip.sesolve(H, ket, TIMES, e_ops=callbacks(MODEL, ket), options=ode_options).e_data
    b = qutip.mesolve(
        H, ket.proj(), TIMES, e_ops=callbacks(MODEL, ket.proj()), options=ode_options
    ).e_data
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=ODE_ATOL)


@pytest.mark.parametrize("m, n", [(0, 3), (1, 1), (2, 0), (0, 0)])
@pytest.mark.parametrize("dm", [False, True])
def test_power_at_zero_is_zero_for_dicke_products(m, n, dm, ode_options):
    """pytest turns RuntimeWarning into errors: a 0/0 at t = 0 would fail here."""
    psi0 = dicke_state(MODEL, m, n, dm=dm)
    power = BatteryPower(MODEL, psi0)
    assert power(0.0, psi0) == 0.0
    assert power(0, psi0) == 0.0
    res = qutip.mesolve(hamiltonian(MODEL), psi0, TIMES, e_ops={"P": power}, options=ode_options)
    assert res.e_data["P"][0] == 0.0
    assert np.all(np.isfinite(res.e_data["P"]))


def test_power_at_zero_equals_finite_difference_closed(
    random_ket, rng, independent_hamiltonian, independent_battery_energy_op
):
    psi0 = random_ket(MODEL, [(0, 3), (1, 2), (2, 1)], rng)  # one sector, complex phases
    H = independent_hamiltonian(MODEL).full()
    h_b = independent_battery_energy_op(MODEL).full()
    v = psi0.full().ravel()

    def energy(t):
        w = scipy.linalg.expm(-1j * H * t) @ v
        return float(np.real(np.vdot(w, h_b @ w)))

    fd = (energy(FD_STEP) - energy(-FD_STEP)) / (2 * FD_STEP)
    assert abs(fd) > 0.1  # genuinely non-stationary
    p0 = BatteryPower(MODEL, psi0)(0.0, psi0)
    assert p0 == pytest.approx(fd, abs=FD_ATOL)
    p0_dm = BatteryPower(MODEL, psi0.proj())(0.0, psi0.proj())
    assert p0_dm == pytest.approx(fd, abs=FD_ATOL)


def test_power_at_zero_equals_finite_difference_open(
    random_dm, rng, independent_hamiltonian, independent_battery_energy_op
):
    """With c_ops, P(0) is tr[H_B L rho(0)], L the Lindbladian."""
    rho0 = random_dm(MODEL, [(0, 3), (1, 2), (1, 3)], rng)
    ops = collective_operators(MODEL)
    c_ops = [0.3 * ops.Sm, 0.2 * ops.Jz, 0.25 * ops.Sp]
    L = qutip.liouvillian(independent_hamiltonian(MODEL), c_ops).full()
    h_b = independent_battery_energy_op(MODEL)
    vec = qutip.operator_to_vector(rho0).full().ravel()

    def energy(t):
        rho = scipy.sparse.linalg.expm_multiply(L * t, vec)
        rho_t = qutip.vector_to_operator(qutip.Qobj(rho[:, None], dims=[rho0.dims, [1]]))
        return float(np.real(qutip.expect(h_b, rho_t)))

    fd = (energy(FD_STEP) - energy(-FD_STEP)) / (2 * FD_STEP)
    p0 = BatteryPower(MODEL, rho0, c_ops=c_ops)(0.0, rho0)
    assert p0 == pytest.approx(fd, abs=FD_ATOL)
    # without the c_ops the callback reports the closed-system rate, which differs here
    assert abs(BatteryPower(MODEL, rho0)(0.0, rho0) - fd) > 1e-3


@pytest.mark.parametrize("cls", [BatteryEnergy, DeltaBatteryEnergy, BatteryPower])
def test_wrong_dims_and_types(cls):
    good = dicke_state(MODEL, 0, 3)
    cb = cls(MODEL) if cls is BatteryEnergy else cls(MODEL, good)
    other = dicke_state(CentralSpinModel(3, 2), 0, 2)  # same shape 12, other dims
    with pytest.raises(ValueError, match="dims"):
        cb(0.5, other)
    with pytest.raises(ValueError, match="dims"):
        cb(0.5, qutip.basis(MODEL.shape, 0))
    with pytest.raises(TypeError):
        cb(0.5, good.full())
    with pytest.raises(TypeError):
        cb(0.5, "state")
    if cls is not BatteryEnergy:
        with pytest.raises(ValueError, match="dims"):
            cls(MODEL, other)
        with pytest.raises(TypeError):
            cls(MODEL, good.full())
    with pytest.raises(TypeError, match="CentralSpinModel"):
        BatteryEnergy("model")


@pytest.mark.parametrize("cls", [BatteryEnergy, DeltaBatteryEnergy, BatteryPower])
def test_pickle_round_trip(cls, random_ket, rng, ode_options):
    psi0 = random_ket(MODEL, LABELS, rng)
    cb = cls(MODEL) if cls is BatteryEnergy else cls(MODEL, psi0)
    clone = pickle.loads(pickle.dumps(cb))
    assert type(clone) is cls and clone.model == MODEL
    states = qutip.sesolve(hamiltonian(MODEL), psi0, TIMES, options=ode_options).states
    for t, s in zip(TIMES, states, strict=True):
        assert clone(t, s) == cb(t, s)
        assert clone(t, s.proj()) == pytest.approx(cb(t, s), abs=EXACT_ATOL)
    assert repr(cb).startswith(cls.__name__)
