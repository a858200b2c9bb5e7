"""charge(): solver selection, agreement of the three solvers, options, e_ops, argument checks;
and conservation laws along the sesolve and exact-engine runs."""

import math

import numpy as np
import pytest
import qutip
from tolerances import EXACT_ATOL, ODE_ATOL, ODE_OPTIONS

from qutip_centralspin import (
    BatteryEnergy,
    CentralSpinModel,
    ChargingResult,
    charge,
    dicke_state,
    hamiltonian,
)
from qutip_centralspin.models.operators import collective_operators, excitation_number
from qutip_centralspin.solvers import SectorEngine

MODEL = CentralSpinModel(3, 4, B=1.2, h=0.8, A=0.9, delta=0.35)
TIMES = np.linspace(0.0, 4.0, 41)
LABELS = [(0, 4), (1, 3), (0, 2), (2, 1), (3, 4), (1, 0)]


@pytest.fixture
def psi0(random_ket, rng):
    return random_ket(MODEL, LABELS, rng)


@pytest.fixture
def rho0(random_dm, rng):
    return random_dm(MODEL, LABELS, rng)


def test_auto_selects_exact_without_c_ops():
    res = charge(MODEL, dicke_state(MODEL, 0, 4), TIMES)
    assert isinstance(res, ChargingResult)
    assert res.solver == "exact" and res.stats["solver"] == "exact"
    assert charge(MODEL, dicke_state(MODEL, 0, 4), TIMES, c_ops=[]).solver == "exact"


def test_auto_selects_mesolve_with_c_ops():
    c_ops = [0.1 * collective_operators(MODEL).Sm]
    res = charge(MODEL, dicke_state(MODEL, 0, 4), TIMES, c_ops=c_ops, options=dict(ODE_OPTIONS))
    assert res.solver == "mesolve" and res.stats["solver"] == "mesolve"
    assert "run time" in res.stats


@pytest.mark.parametrize("kind", ["ket", "dm"])
def test_three_solvers_agree(kind, psi0, rho0, reference_delta_energy):
    state = psi0 if kind == "ket" else rho0
    ref = reference_delta_energy(MODEL, state, TIMES)
    assert np.ptp(ref) > 0.1
    runs = {"exact": charge(MODEL, state, TIMES, solver="exact")}
    runs["mesolve"] = charge(MODEL, state, TIMES, solver="mesolve", options=dict(ODE_OPTIONS))
    if kind == "ket":
        runs["sesolve"] = charge(MODEL, state, TIMES, solver="sesolve", options=dict(ODE_OPTIONS))
    for name, res in runs.items():
        assert res.solver == name
        np.testing.assert_array_equal(res.times, TIMES)
        np.testing.assert_allclose(res.delta_energy, ref, rtol=0, atol=ODE_ATOL, err_msg=name)
        np.testing.assert_allclose(
            res.power[1:], res.delta_energy[1:] / TIMES[1:], rtol=0, atol=EXACT_ATOL, err_msg=name
        )
        e0 = float(np.real(qutip.expect(MODEL.B * collective_operators(MODEL).Sz, state)))
        assert res.initial_energy == pytest.approx(e0, abs=EXACT_ATOL)
    np.testing.assert_allclose(
        runs["exact"].power[0], runs["mesolve"].power[0], rtol=0, atol=EXACT_ATOL
    )


def test_open_system_matches_plain_mesolve(rho0, reference_delta_energy):
    ops = collective_operators(MODEL)
    c_ops = [0.2 * ops.Sm, 0.15 * ops.Jp]
    ref = reference_delta_energy(MODEL, rho0, TIMES, c_ops=c_ops)
    res = charge(MODEL, rho0, TIMES, c_ops=c_ops, options=dict(ODE_OPTIONS))
    np.testing.assert_allclose(res.delta_energy, ref, rtol=0, atol=ODE_ATOL)
    closed = charge(MODEL, rho0, TIMES)
    assert np.max(np.abs(closed.delta_energy - ref)) > 1e-3  # the c_ops matter


def test_exact_solver_rejects_c_ops():
    with pytest.raises(ValueError, match="c_ops"):
        charge(
            MODEL,
            dicke_state(MODEL, 0, 4),
            TIMES,
            solver="exact",
            c_ops=[collective_operators(MODEL).Sm],
        )
    with pytest.raises(ValueError, match="c_ops"):
        charge(
            MODEL,
            dicke_state(MODEL, 0, 4),
            TIMES,
            solver="sesolve",
            c_ops=[collective_operators(MODEL).Sm],
        )


def test_sesolve_options_are_passed_through(psi0):
    res = charge(
        MODEL,
        psi0,
        TIMES,
        solver="sesolve",
        options={"progress_bar": "", "store_states": True, **ODE_OPTIONS},
    )
    assert len(res.states) == len(TIMES)
    assert (res.states[0] - psi0).norm() < EXACT_ATOL
    no_states = charge(MODEL, psi0, TIMES, solver="sesolve", options={"store_states": False})
    assert no_states.states == [] and no_states.final_state is None
    with pytest.raises(ValueError, match="not_an_option"):
        charge(MODEL, psi0, TIMES, solver="sesolve", options={"not_an_option": 1})


def test_exact_store_states(psi0):
    res = charge(MODEL, psi0, TIMES, options={"store_states": True, "progress_bar": ""})
    ref = qutip.sesolve(hamiltonian(MODEL), psi0, TIMES, options=dict(ODE_OPTIONS)).states
    assert len(res.states) == len(TIMES)
    for a, b in zip(res.states, ref, strict=True):
        assert (a - b).norm() < ODE_ATOL
    assert charge(MODEL, psi0, TIMES).states == []


@pytest.mark.parametrize("option", ["atol", "nsteps", "method", "bogus"])
def test_exact_rejects_unknown_options(option, psi0):
    with pytest.raises(ValueError, match=option):
        charge(MODEL, psi0, TIMES, options={option: 1})


@pytest.mark.parametrize("solver", ["exact", "sesolve", "mesolve"])
def test_user_e_ops_list_and_dict(solver, psi0, reference):
    ops = collective_operators(MODEL)
    user_list = [ops.Jz, BatteryEnergy(MODEL)]
    user_dict = {"Jz": ops.Jz, "E_B": BatteryEnergy(MODEL)}
    options = {} if solver == "exact" else dict(ODE_OPTIONS)
    ref = reference(MODEL, psi0, TIMES, e_ops=[ops.Jz, MODEL.B * ops.Sz])
    ref_jz, ref_eb = (np.real(np.asarray(v)) for v in ref.expect)
    res_list = charge(MODEL, psi0, TIMES, e_ops=user_list, solver=solver, options=options)
    assert set(res_list.e_data) == {0, 1}
    np.testing.assert_allclose(np.real(res_list.e_data[0]), ref_jz, rtol=0, atol=ODE_ATOL)
    np.testing.assert_allclose(res_list.e_data[1], ref_eb, rtol=0, atol=ODE_ATOL)
    res_dict = charge(MODEL, psi0, TIMES, e_ops=user_dict, solver=solver, options=options)
    assert set(res_dict.e_data) == {"Jz", "E_B"}
    np.testing.assert_allclose(np.real(res_dict.e_data["Jz"]), ref_jz, rtol=0, atol=ODE_ATOL)
    np.testing.assert_allclose(res_dict.e_data["E_B"], ref_eb, rtol=0, atol=ODE_ATOL)
    single = charge(MODEL, psi0, TIMES, e_ops=ops.Jz, solver=solver, options=options)
    np.testing.assert_allclose(np.real(single.e_data[0]), ref_jz, rtol=0, atol=ODE_ATOL)


BAD_TLISTS = [
    pytest.param([0.0, 2.0, 1.0], id="decreasing"),
    pytest.param([0.0, 1.0, 1.0], id="repeated"),
    pytest.param([-1.0, 0.0, 1.0], id="negative"),
    pytest.param([], id="empty"),
    pytest.param([0.0, math.nan, 1.0], id="nan"),
    pytest.param([0.0, math.inf], id="inf"),
    pytest.param([[0.0, 1.0]], id="2d"),
]


@pytest.mark.parametrize("solver", ["exact", "sesolve", "mesolve"])
@pytest.mark.parametrize("tlist", BAD_TLISTS)
def test_bad_tlist(tlist, solver):
    with pytest.raises(ValueError, match="tlist"):
        charge(MODEL, dicke_state(MODEL, 0, 4), tlist, solver=solver)


@pytest.mark.parametrize("solver", ["Exact", "brmesolve", "", None])
def test_bad_solver_name(solver):
    with pytest.raises(ValueError, match="solver"):
        charge(MODEL, dicke_state(MODEL, 0, 4), TIMES, solver=solver)


def test_bad_state_and_model():
    with pytest.raises(ValueError, match="psi0"):
        charge(MODEL, dicke_state(CentralSpinModel(2, 4), 0, 4), TIMES)
    with pytest.raises(TypeError):
        charge(MODEL, dicke_state(MODEL, 0, 4).full(), TIMES)
    with pytest.raises(TypeError, match="CentralSpinModel"):
        charge("model", dicke_state(MODEL, 0, 4), TIMES)


def test_result_maxima_on_grid():
    """Grid maxima of the run against Eq. (14) on the same grid, Delta E_B = sin^2(sqrt(30) t)
    (N_B = 1, N = 10, n = 5, B = A = 1: b_{10,5} = 30), written out here."""
    model = CentralSpinModel(1, 10)
    times = np.linspace(0, 1, 2001)
    res = charge(model, dicke_state(model, 0, 5), times)
    closed = np.sin(math.sqrt(30) * times) ** 2
    power = closed[1:] / times[1:]
    assert res.e_max == pytest.approx(closed.max(), abs=EXACT_ATOL)
    assert res.e_max == pytest.approx(1.0, abs=1e-6)  # Eq. (16): E_max = B, reached on the grid
    assert res.p_max == pytest.approx(power.max(), rel=EXACT_ATOL)
    assert res.t_pmax == times[1 + np.argmax(power)]


# -- conservation laws ---------------------------------------------------------------------------
def conserved(model):
    return {"K": excitation_number(model), "H": hamiltonian(model)}


@pytest.mark.parametrize("kind", ["ket", "dm"])
def test_conservation_along_sesolve_and_mesolve(kind, psi0, rho0):
    state = psi0 if kind == "ket" else rho0
    ops = conserved(MODEL)
    solve = qutip.sesolve if kind == "ket" else qutip.mesolve
    res = solve(hamiltonian(MODEL), state, TIMES, options={**ODE_OPTIONS, "store_states": True})
    for s in res.states:
        norm = s.norm() if kind == "ket" else s.tr()
        assert norm == pytest.approx(1.0, abs=ODE_ATOL)
        for name, op in ops.items():
            assert qutip.expect(op, s) == pytest.approx(qutip.expect(op, state), abs=ODE_ATOL), (
                name
            )


@pytest.mark.parametrize("kind", ["ket", "dm"])
def test_conservation_along_exact_engine(kind, psi0, rho0):
    state = psi0 if kind == "ket" else rho0
    ops = conserved(MODEL)
    evo = SectorEngine(MODEL).evolve(state)
    times = np.linspace(0, 50.0, 26)  # long times: no ODE drift in the exact engine
    for s in evo.states(times):
        assert s.isket == (kind == "ket")
        norm = s.norm() if kind == "ket" else s.tr()
        assert norm == pytest.approx(1.0, abs=EXACT_ATOL)
        for name, op in ops.items():
            assert qutip.expect(op, s) == pytest.approx(qutip.expect(op, state), abs=1e-10), name
        if kind == "dm":
            assert (s - s.dag()).norm("max") < EXACT_ATOL
            assert (s * s).tr() == pytest.approx((state * state).tr(), abs=1e-10)  # purity
    # sector populations (the conserved K distribution) are reported and sum to one
    weights = evo.sector_weights
    assert sum(weights.values()) == pytest.approx(1.0, abs=EXACT_ATOL)
    K = excitation_number(MODEL)
    mean_k = sum(k * w for k, w in weights.items())
    assert mean_k == pytest.approx(qutip.expect(K, state), abs=1e-10)


# -- regressions (bugs found and fixed) ------------------------------------------------------
def test_tlist_starting_after_zero_solvers_agree():
    model = CentralSpinModel(1, 4)
    psi = dicke_state(model, 0, 2)
    tlist = [0.5, 1.0, 1.5]
    exact = charge(model, psi, tlist)
    ode = charge(model, psi, tlist, solver="sesolve", options=dict(ODE_OPTIONS))
    np.testing.assert_allclose(exact.delta_energy, ode.delta_energy, rtol=0, atol=ODE_ATOL)
    np.testing.assert_allclose(exact.power, ode.power, rtol=0, atol=ODE_ATOL)


def test_sesolve_with_density_matrix_is_correct_or_rejected(rho0, reference_delta_energy):
    try:
        res = charge(MODEL, rho0, TIMES, solver="sesolve", options=dict(ODE_OPTIONS))
    except ValueError as err:
        assert "sesolve" in str(err)
        return
    ref = reference_delta_energy(MODEL, rho0, TIMES)
    np.testing.assert_allclose(res.delta_energy, ref, rtol=0, atol=ODE_ATOL)


def test_single_qobj_c_ops(reference_delta_energy):
    """A single Qobj as c_ops (QuTiP accepts one) is that one collapse operator."""
    c_op = 0.2 * collective_operators(MODEL).Sm
    psi = dicke_state(MODEL, 0, 4)
    res = charge(MODEL, psi, TIMES, c_ops=c_op, options=dict(ODE_OPTIONS))
    ref = reference_delta_energy(MODEL, psi, TIMES, c_ops=[c_op])  # plain qutip.mesolve
    np.testing.assert_allclose(res.delta_energy, ref, rtol=0, atol=ODE_ATOL)
