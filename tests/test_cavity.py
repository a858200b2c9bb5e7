"""Cavity (Tavis-Cummings) charger: exact engine vs qutip sesolve/mesolve on tensor(jmat, destroy),
closed forms, truncation bounds, the spin -> cavity limit and the Ferraro-type scaling."""

import math

import numpy as np
import pytest
import qutip
from tolerances import ODE_OPTIONS

from qutip_centralspin import CentralSpinModel
from qutip_centralspin.models import cavity as cav
from qutip_centralspin.observables import ergotropy as erg
from qutip_centralspin.paper import analytic
from qutip_centralspin.solvers import cavity_engine
from qutip_centralspin.studies import cavity_limit

ODE_ATOL = 1e-7  # sesolve/mesolve atol 1e-12, rtol 1e-10 over t <= 3, |E_B| <= 2, D <= 60 levels
STATE_ATOL = 1e-7  # same ODE settings, 2-norm of the state difference
EXACT_ATOL = 1e-12  # expm / eigh of <= 60x60 matrices of norm <~ 20
CERTIFIED_RTOL = 1e-10  # certified P_max bracket
FIT_ATOL = 0.02  # exponent fitted on N_B in [8, 64] (measured 1.494): finite-size drift only

MODEL = cav.CavityModel(n_battery=3, omega=0.8, g=0.6, B=1.1)
TIMES = np.linspace(0.0, 3.0, 16)


def reference_energy(model, evo, times):
    """E_B(t) from qutip on the same padded space (no leakage: D = input levels + N_B)."""
    d = evo.n_photons
    psi0 = evo.states(0.0)[0]
    h = cav.cavity_hamiltonian(model, d)
    hb = cav.cavity_battery_hamiltonian(model, d)
    solve = qutip.sesolve if psi0.isket else qutip.mesolve
    res = solve(h, psi0, times, e_ops=[hb], options=dict(ODE_OPTIONS))
    return np.real(res.e_data[0])


@pytest.mark.parametrize(
    "state",
    [
        pytest.param((0, 3), id="fock-0-3"),
        pytest.param((2, 1), id="fock-2-1"),
        pytest.param(cav.cavity_coherent_state(MODEL, 1.3 + 0.4j), id="coherent"),
        pytest.param(cav.cavity_coherent_state(MODEL, 0.8, m=1), id="coherent-m1"),
        pytest.param(cav.cavity_thermal_state(MODEL, 1.5), id="thermal"),
    ],
)
def test_engine_matches_qutip_reference(state):
    evo = cavity_engine.CavityEngine(MODEL).evolve(state)
    np.testing.assert_allclose(
        evo.battery_energy(TIMES), reference_energy(MODEL, evo, TIMES), atol=ODE_ATOL
    )


def test_states_match_sesolve_and_reduced_battery_state():
    state = cav.cavity_coherent_state(MODEL, 1.1)
    evo = cavity_engine.CavityEngine(MODEL).evolve(state)
    psi0 = evo.states(0.0)[0]
    h = cav.cavity_hamiltonian(MODEL, evo.n_photons)
    res = qutip.sesolve(h, psi0, TIMES, options=dict(ODE_OPTIONS, store_states=True))
    ours = evo.states(TIMES)
    for mine, ref in zip(ours, res.states, strict=True):
        assert (mine - ref).norm() < STATE_ATOL
    # rho_B of the engine and the Ergotropy callback on the reference path
    trace = erg.ergotropy_trace(evo, TIMES)
    callback = erg.Ergotropy(MODEL)
    np.testing.assert_allclose(
        trace.ergotropy,
        [callback(t, s) for t, s in zip(TIMES, res.states, strict=True)],
        atol=ODE_ATOL,
    )


def test_sector_matrix_is_the_hamiltonian_block():
    """H restricted to |m, K - m> from cavity_hamiltonian equals the tridiagonal sector."""
    engine = cavity_engine.CavityEngine(MODEL)
    d = 9
    h = cav.cavity_hamiltonian(MODEL, d).full()
    for k in range(d):
        sec = engine.sector(k)
        idx = (MODEL.n_battery - sec.m) * d + sec.n
        block = h[np.ix_(idx, idx)]
        expected = (
            np.diag(sec.diagonal) + np.diag(sec.off_diagonal, 1) + np.diag(sec.off_diagonal, -1)
        )
        np.testing.assert_allclose(block, expected, atol=EXACT_ATOL)


@pytest.mark.parametrize("omega", [1.0, 0.4, 2.5])
def test_one_spin_one_photon_closed_form(omega):
    """N_B = 1, Fock |1>: Rabi, Delta E_B = K sin^2(Omega t/2), P_max = c* K Omega / 2."""
    B, g = 1.0, 0.7
    model = cav.CavityModel(1, omega, g, B)
    detuning = B - omega
    big_omega = math.sqrt(detuning**2 + 4 * g**2)
    k_amp = B * 4 * g**2 / big_omega**2
    evo = cavity_engine.CavityEngine(model).evolve((0, 1))
    np.testing.assert_allclose(
        evo.delta_energy(TIMES), k_amp * np.sin(big_omega * TIMES / 2) ** 2, atol=EXACT_ATOL
    )
    best = cavity_limit.cavity_max_power(model, (0, 1))
    cs, xs = analytic.c_star()
    assert best.value == pytest.approx(cs * k_amp * big_omega / 2, rel=CERTIFIED_RTOL)
    assert best.time == pytest.approx(2 * xs / big_omega, rel=1e-4)


@pytest.mark.parametrize("n_photons", [1, 2, 5, 12])
def test_one_spin_fock_closed_form(n_photons):
    """Resonant N_B = 1 with k photons: Delta E_B = B sin^2(g sqrt(k) t) (vacuum-Rabi scaling)."""
    model = cav.CavityModel(1, 1.0, 0.5, 1.0)
    evo = cavity_engine.CavityEngine(model).evolve((0, n_photons))
    np.testing.assert_allclose(
        evo.delta_energy(TIMES), np.sin(0.5 * math.sqrt(n_photons) * TIMES) ** 2, atol=EXACT_ATOL
    )


def test_truncation_bound_holds_against_a_larger_cut():
    """|Delta E_B(tol=1e-4) - Delta E_B(tol=1e-15)| <= eps B N_B at every time."""
    coarse = cavity_engine.CavityEngine(MODEL).evolve(
        cav.cavity_coherent_state(MODEL, 2.0, tol=1e-4)
    )
    fine = cavity_engine.CavityEngine(MODEL).evolve(
        cav.cavity_coherent_state(MODEL, 2.0, tol=1e-15)
    )
    assert 0 < coarse.neglected_weight <= 1e-4 and fine.neglected_weight <= 1e-15
    times = np.linspace(0, 20, 401)
    diff = np.abs(coarse.delta_energy(times) - fine.delta_energy(times))
    assert diff.max() <= coarse.energy_error_bound + fine.energy_error_bound
    assert coarse.energy_error_bound == pytest.approx(coarse.neglected_weight * 1.1 * 3)


def test_coherent_and_thermal_truncation_levels():
    coh = cav.cavity_coherent_state(MODEL, 3.0, tol=1e-10)
    k_max = coh.n_photons - 1
    from scipy.stats import poisson

    assert poisson.sf(k_max, 9.0) <= 1e-10 < poisson.sf(k_max - 1, 9.0)
    assert coh.neglected_weight == pytest.approx(poisson.sf(k_max, 9.0))
    th = cav.cavity_thermal_state(MODEL, 2.0, tol=1e-8)
    q = math.exp(-MODEL.omega / 2.0)
    assert q**th.n_photons <= 1e-8 < q ** (th.n_photons - 1)
    populations = np.real(th.state.ptrace(1).diag())
    np.testing.assert_allclose(
        populations, (1 - q) * q ** np.arange(th.n_photons), atol=EXACT_ATOL
    )
    assert th.neglected_weight == pytest.approx(q**th.n_photons)


def test_spin_charger_converges_to_cavity():
    """g = A sqrt(N) fixed, h = omega: errors fall like 1/N (halve when N doubles)."""
    model = cav.CavityModel(3, 1.0, 1.0, 1.0)
    sizes = [25, 50, 100, 200, 400]
    conv = cavity_limit.spin_cavity_convergence(model, sizes, k=3)
    assert np.all(np.diff(conv.energy_error) < 0) and np.all(np.diff(conv.p_max_error) < 0)
    ratios = conv.energy_error[:-1] / conv.energy_error[1:]
    np.testing.assert_allclose(ratios, 2.0, rtol=0.05)
    assert conv.energy_error[-1] < 1e-2 and conv.p_max_error[-1] < 1e-2


def test_spin_and_cavity_models_map_onto_each_other():
    spin = CentralSpinModel(2, 50, B=1.2, h=0.9, A=0.3)
    cavity = cavity_limit.cavity_limit_model(spin)
    assert (cavity.omega, cavity.g, cavity.B) == pytest.approx((0.9, 0.3 * math.sqrt(50), 1.2))
    back = cavity_limit.spin_charger_model(cavity, 50)
    assert back.A == pytest.approx(0.3) and back.h == 0.9
    with pytest.raises(ValueError, match="delta = 0"):
        cavity_limit.cavity_limit_model(spin.replace(delta=0.1))


def test_tavis_cummings_scaling_small():
    """N_B = 1: Gamma = 1; parallel = N_B c* B g; collective exponent -> 3/2."""
    res = cavity_limit.tavis_cummings_scaling([1, 2, 4, 8, 16, 32, 64], g=0.5, B=2.0)
    cs = analytic.c_star()[0]
    np.testing.assert_allclose(res.p_parallel, res.n_battery * cs * 2.0 * 0.5, rtol=CERTIFIED_RTOL)
    assert res.advantage[0] == pytest.approx(1.0, rel=CERTIFIED_RTOL)
    alpha, _ = res.exponent((8, 64))
    assert alpha == pytest.approx(1.5, abs=FIT_ATOL)
    # P_max is linear in g at resonance
    res1 = cavity_limit.tavis_cummings_scaling([5], g=1.0, B=2.0)
    assert res1.p_collective[0] == pytest.approx(
        2 * cavity_limit.tavis_cummings_scaling([5], g=0.5, B=2.0).p_collective[0], rel=1e-9
    )


@pytest.mark.slow
def test_tavis_cummings_exponent_large():
    """Measured alpha = 1.4998 on N_B in [256, 1024]."""
    res = cavity_limit.tavis_cummings_scaling([256, 512, 1024])
    alpha, beta = res.exponent()
    assert alpha == pytest.approx(1.5, abs=1e-3)


@pytest.mark.parametrize(
    "spec, photons",
    [
        pytest.param("fock:4", 5, id="fock"),
        pytest.param("thermal:1", None, id="thermal"),
        pytest.param("alpha:1.5", None, id="alpha"),
    ],
)
def test_cavity_state_specs(spec, photons):
    state = cav.cavity_state(MODEL, spec, n_charger=10)
    if photons is not None:
        assert state.n_photons == photons
    assert state.neglected_weight <= cav.PHOTON_TAIL_TOL


def test_coherent_spec_matches_spin_coherent_mean_excitation():
    """alpha = sqrt(N) cos(theta/2): mean photons N cos^2(theta/2) = spin coherent <n>."""
    n, theta = 40, 1.1
    state = cav.cavity_state(MODEL, f"coherent:{theta}", n_charger=n).state
    photons = state.ptrace(1)
    mean = float(np.real(qutip.expect(qutip.num(photons.shape[0]), photons)))
    assert mean == pytest.approx(n * math.cos(theta / 2) ** 2, rel=1e-9)


@pytest.mark.parametrize(
    "call, match",
    [
        pytest.param(
            lambda: cav.CavityModel(0, 1.0, 1.0), "n_battery must be an integer >= 1", id="nb"
        ),
        pytest.param(
            lambda: cav.CavityModel(1, float("inf"), 1.0), "omega must be a finite", id="omega"
        ),
        pytest.param(
            lambda: cav.cavity_thermal_state(MODEL.replace(omega=-1.0), 1.0),
            "omega > 0",
            id="thermal-omega",
        ),
        pytest.param(
            lambda: cav.cavity_thermal_state(MODEL, 0.0),
            "T must be a finite real number > 0",
            id="T",
        ),
        pytest.param(
            lambda: cav.cavity_coherent_state(MODEL, 1.0, tol=2.0), "tol must be in", id="tol"
        ),
        pytest.param(
            lambda: cav.cavity_state(MODEL, "coherent:1.0"), "needs n_charger", id="needs-n"
        ),
        pytest.param(lambda: cav.cavity_state(MODEL, "laser"), "spec must be one of", id="spec"),
        pytest.param(lambda: cav.cavity_state(MODEL, "full"), "spec must be one of", id="no-full"),
        pytest.param(
            lambda: cav.cavity_fock_state(MODEL, 2, m=4), "m must be an integer in", id="m"
        ),
        pytest.param(
            lambda: cavity_engine.CavityEngine(MODEL).evolve(qutip.basis(5, 0)), "dims", id="dims"
        ),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
