"""Closed forms of analytic.py against independent routes: QuTiP's ODE solver on the full
Dicke space, the exact sector engine and the certified maxima."""

import math

import numpy as np
import pytest
import qutip
from helpers import time_limit
from tolerances import (
    CERTIFIED_RTOL,
    CSTAR_ROOT_ATOL,
    EXACT_ATOL,
    EXACT_RTOL,
    GRID_MAX_ATOL,
    HP_EARLY_RTOL,
    ODE_ATOL,
    STATE_ATOL,
    TAU_RTOL,
)

from qutip_centralspin import CentralSpinModel, dicke_state, hamiltonian, max_energy, max_power
from qutip_centralspin.models.operators import (
    battery_hamiltonian,
    charger_hamiltonian,
    interaction_hamiltonian,
)
from qutip_centralspin.paper import analytic
from qutip_centralspin.solvers import SectorEngine

RABI_PERIODS = 4  # "several Rabi periods" of the N_B = 1 oscillation
N_TIMES = 201


def b_coeff(n_spins, n):
    return n * (n_spins - n + 1)


def rabi_frequency(model, n):
    """Omega_n of App. A, written out here."""
    N, D = model.n_charger, model.delta
    detuning = model.B - model.h + (2 * n - 1 - N) * D
    return math.sqrt(detuning**2 + 4 * b_coeff(N, n) * model.A**2)


def rabi_times(model, n):
    omega = rabi_frequency(model, n)
    period = 2 * math.pi / omega if omega > 0 else 1.0
    return np.linspace(0.0, RABI_PERIODS * period, N_TIMES)


def sesolve_run(model, n, times, ode_options, **kwargs):
    return qutip.sesolve(
        hamiltonian(model), dicke_state(model, 0, n), times, options=ode_options, **kwargs
    )


def sesolve_energies(model, n, times, ode_options):
    e_ops = {
        "E_B": battery_hamiltonian(model),
        "E_C": charger_hamiltonian(model),
        "E_I": interaction_hamiltonian(model),
    }
    res = sesolve_run(model, n, times, ode_options, e_ops=e_ops)
    return {k: np.real(np.asarray(v)) for k, v in res.e_data.items()}


# -- N_B = 1: Eqs. (11)-(13), (A6)-(A8) vs sesolve --------------------------------------------
def test_fig2_energies_match_sesolve(fig2_model, ode_options):
    n = 5
    times = rabi_times(fig2_model, n)
    numeric = sesolve_energies(fig2_model, n, times, ode_options)
    closed = analytic.single_spin_energies(fig2_model, n, times)
    assert set(closed) == {"E_B", "E_C", "E_I"}
    for key in ("E_B", "E_C", "E_I"):
        np.testing.assert_allclose(closed[key], numeric[key], rtol=0, atol=ODE_ATOL, err_msg=key)
    # the signal really oscillates over the window (the test is not trivially satisfied)
    assert np.ptp(numeric["E_B"]) > 0.5 * fig2_model.B * 120 / rabi_frequency(fig2_model, n) ** 2


def test_fig2_delta_energy_and_power_match_sesolve(fig2_model, ode_options):
    n = 5
    times = rabi_times(fig2_model, n)
    e_b = sesolve_energies(fig2_model, n, times, ode_options)["E_B"]
    delta = e_b - e_b[0]
    np.testing.assert_allclose(
        analytic.single_spin_delta_energy(fig2_model, n, times), delta, rtol=0, atol=ODE_ATOL
    )
    power = analytic.single_spin_power(fig2_model, n, times)
    assert power[0] == 0.0
    # P = Delta E / t; dividing by t <= 1 amplifies the ODE error by 1/t, so skip t < 0.1
    late = times > 0.1
    np.testing.assert_allclose(power[late], delta[late] / times[late], rtol=0, atol=ODE_ATOL / 0.1)
    # power at t > 0 equals Delta E / t computed from the closed form itself to machine precision
    closed = analytic.single_spin_delta_energy(fig2_model, n, times[1:])
    np.testing.assert_allclose(power[1:], closed / times[1:], rtol=1e-12, atol=EXACT_ATOL)


def test_fig2_state_matches_sesolve_with_phase(fig2_model, ode_options):
    n = 5
    times = rabi_times(fig2_model, n)
    states = sesolve_run(fig2_model, n, times, ode_options).states
    closed = analytic.single_spin_state(fig2_model, n, times)
    assert len(closed) == len(times)
    errors = [(a - b).norm() for a, b in zip(closed, states, strict=True)]
    assert max(errors) < STATE_ATOL
    assert closed[0].dims == states[0].dims


@pytest.mark.parametrize("n", range(11))
def test_every_n_for_general_panel(n, ode_options):
    model = CentralSpinModel(1, 10, B=5.0, h=1.0, A=1.0, delta=5.0)  # panel (d)
    times = rabi_times(model, n)
    numeric = sesolve_energies(model, n, times, ode_options)
    closed = analytic.single_spin_energies(model, n, times)
    for key in ("E_B", "E_C", "E_I"):
        np.testing.assert_allclose(closed[key], numeric[key], rtol=0, atol=ODE_ATOL, err_msg=key)
    states = sesolve_run(model, n, times[::10], ode_options).states
    kets = analytic.single_spin_state(model, n, times[::10])
    assert max((a - b).norm() for a, b in zip(kets, states, strict=True)) < STATE_ATOL


def test_rabi_parameters():
    model = CentralSpinModel(1, 10, B=5.0, h=1.0, A=0.7, delta=0.3)
    for n in range(11):
        assert analytic.single_spin_detuning(model, n) == pytest.approx(4.0 + (2 * n - 11) * 0.3)
        assert analytic.single_spin_rabi_frequency(model, n) == pytest.approx(
            rabi_frequency(model, n), rel=EXACT_RTOL
        )
    np.testing.assert_array_equal(
        analytic.b_coefficient(10, np.arange(11)), [b_coeff(10, n) for n in range(11)]
    )


def test_single_spin_forms_need_one_battery_spin():
    model = CentralSpinModel(2, 4)
    for func in (
        analytic.single_spin_delta_energy,
        analytic.single_spin_energies,
        analytic.single_spin_state,
    ):
        with pytest.raises(ValueError, match="n_battery"):
            func(model, 1, [0.0])
    with pytest.raises(ValueError, match=r"\bn\b"):
        analytic.single_spin_max_power(CentralSpinModel(1, 4), 5)


# -- c* ---------------------------------------------------------------------------------------
def test_c_star_root_and_value():
    cs, xs = analytic.c_star()
    assert math.tan(xs) - 2 * xs == pytest.approx(0.0, abs=CSTAR_ROOT_ATOL)
    assert cs == pytest.approx(math.sin(xs) ** 2 / xs, abs=1e-15)
    # the paper's "0.72" and "1.16" (Eqs. 15, 30-31) are c* and x* to two decimals, truncated
    assert (math.floor(100 * cs), math.floor(100 * xs)) == (72, 116)


def test_c_star_is_the_global_max_of_sin2x_over_x():
    x = np.arange(1, 1_000_001) * 1e-5  # (0, 10]: beyond pi, sin^2 x/x <= 1/x < c*
    f = np.sin(x) ** 2 / x
    cs, xs = analytic.c_star()
    i = int(np.argmax(f))
    assert f[i] == pytest.approx(cs, abs=GRID_MAX_ATOL)
    assert x[i] == pytest.approx(xs, abs=2e-5)
    assert f.max() <= cs + 1e-15


# -- Eqs. (15)-(16) and the certified maxima ---------------------------------------------------
@pytest.mark.parametrize("N, n", [(1, 1), (4, 2), (10, 5), (10, 10), (25, 13), (60, 1)])
def test_eq15_eq16_resonant(N, n):
    model = CentralSpinModel(1, N, B=1.7, h=1.7, A=0.6, delta=0.0)
    cs, _ = analytic.c_star()
    p_max, tau = analytic.single_spin_max_power(model, n)
    assert p_max == pytest.approx(cs * 1.7 * 0.6 * math.sqrt(b_coeff(N, n)), rel=EXACT_RTOL)
    e_max, tau_min = analytic.single_spin_max_energy(model, n)
    assert e_max == pytest.approx(1.7, rel=EXACT_RTOL)  # E_max = B
    assert tau_min == pytest.approx(math.pi / (2 * 0.6 * math.sqrt(b_coeff(N, n))), rel=EXACT_RTOL)
    # Eq. (14): Delta E_B = B sin^2(sqrt(b) A t)
    t = np.linspace(0, 3, 31)
    np.testing.assert_allclose(
        analytic.single_spin_delta_energy(model, n, t),
        1.7 * np.sin(math.sqrt(b_coeff(N, n)) * 0.6 * t) ** 2,
        rtol=0,
        atol=EXACT_ATOL,
    )


MAXIMA_CASES = [
    pytest.param(1, 1, 1.0, 1.0, 0.0, id="N1-resonant"),
    pytest.param(4, 2, 1.0, 1.0, 0.0, id="N4-n2-resonant"),
    pytest.param(10, 5, 1.0, 1.0, 5.0, id="fig2b"),
    pytest.param(10, 5, 5.0, 1.0, 0.0, id="fig2c"),
    pytest.param(10, 5, 5.0, 1.0, 5.0, id="fig2d"),
    pytest.param(10, 3, 5.0, 1.0, 0.0, id="N10-n3-detuned"),
    pytest.param(7, 4, 2.0, 1.5, 0.3, id="N7-generic"),
    pytest.param(30, 30, 1.0, 0.2, -0.1, id="N30-full-charger"),
]


@pytest.mark.parametrize("N, n, B, h, delta", MAXIMA_CASES)
def test_certified_max_power_equals_closed_form(N, n, B, h, delta):
    model = CentralSpinModel(1, N, B=B, h=h, A=1.0, delta=delta)
    p_max, tau = analytic.single_spin_max_power(model, n)
    certified = max_power(model, (0, n))
    assert certified.value == pytest.approx(p_max, rel=CERTIFIED_RTOL)
    assert certified.time == pytest.approx(tau, rel=TAU_RTOL)
    assert certified.value <= certified.upper_bound
    # Eq. (13) at the closed-form tau gives the same power
    assert analytic.single_spin_power(model, n, tau) == pytest.approx(p_max, rel=EXACT_RTOL)


@pytest.mark.parametrize("N, n, B, h, delta", MAXIMA_CASES)
def test_certified_max_energy_equals_closed_form(N, n, B, h, delta):
    model = CentralSpinModel(1, N, B=B, h=h, A=1.0, delta=delta)
    e_max, tau_min = analytic.single_spin_max_energy(model, n)
    certified = max_energy(model, (0, n))
    assert certified.value == pytest.approx(e_max, rel=CERTIFIED_RTOL)
    assert certified.converged
    # the first maximum of K sin^2(Omega t/2) is at pi/Omega, later ones at odd multiples
    assert (certified.time / tau_min) % 2 == pytest.approx(1.0, abs=TAU_RTOL)


def test_maxima_of_a_stationary_start():
    model = CentralSpinModel(1, 5, B=2.0, h=1.0)
    assert analytic.single_spin_max_power(model, 0) == (0.0, math.inf)
    assert analytic.single_spin_max_energy(model, 0) == (0.0, 0.0)
    certified = max_power(model, (0, 0))
    assert certified.value == 0.0 and certified.time == math.inf


# -- Holstein-Primakoff (Tavis-Cummings) limit, Eqs. (29)-(31) ---------------------------------
@pytest.mark.parametrize("nb, N", [(1, 1), (1, 50), (10, 2000), (37, 11)])
def test_hp_single_excitation_is_exact(nb, N):
    """With one excitation, |0,1> <-> |1,0> couple with A sqrt(N_B N) exactly: Eq. (29) holds."""
    model = CentralSpinModel(nb, N, B=1.3, h=1.3, A=0.8)
    g = 0.8 * math.sqrt(nb * N)
    t = np.linspace(0, 3 * math.pi / g, 61)
    exact = SectorEngine(model).evolve((0, 1)).delta_energy(t)
    np.testing.assert_allclose(
        analytic.hp_delta_energy(model, 0, 1, t), exact, rtol=0, atol=EXACT_ATOL
    )


@pytest.mark.parametrize("n", [2, 3])
def test_hp_early_times_improve_with_N(n):
    """N_B = 10, N large: early-time relative error ~ (n - 1)/N shrinks as N grows."""
    errors = []
    for N in (125, 500, 2000):
        model = CentralSpinModel(10, N)
        g = math.sqrt(10 * N)
        t = np.linspace(0, 0.3 / g, 21)[1:]
        exact = SectorEngine(model).evolve((0, n)).delta_energy(t)
        hp = analytic.hp_delta_energy(model, 0, n, t)
        errors.append(float(np.max(np.abs(hp - exact) / np.abs(exact))))
    assert errors[-1] < HP_EARLY_RTOL
    assert errors[0] > errors[1] > errors[2], errors


@pytest.mark.parametrize("m, n", [(0, 2), (0, 3), (1, 3)])
def test_hp_full_period_converges_when_both_large(m, n):
    """With N_B/N fixed and both large the whole oscillation converges, error ~ 1/N_B."""
    errors = []
    for nb in (10, 40, 160):
        model = CentralSpinModel(nb, 10 * nb)
        g = math.sqrt(10) * nb
        t = np.linspace(0, math.pi / g, 41)
        exact = SectorEngine(model).evolve((m, n)).delta_energy(t)
        hp = analytic.hp_delta_energy(model, m, n, t)
        errors.append(float(np.max(np.abs(hp - exact))) / (n - m))
    assert errors[0] > 2.5 * errors[1] > 6 * errors[2], errors
    assert errors[-1] < 0.02


def test_hp_max_power_and_bound():
    model = CentralSpinModel(8, 4000, B=1.0, h=1.0, A=1.0)
    cs, xs = analytic.c_star()
    g = math.sqrt(8 * 4000)
    p, tau = analytic.hp_max_power(model, 0, 8)
    assert p == pytest.approx(cs * g * 8, rel=EXACT_RTOL)
    assert tau == pytest.approx(xs / g, rel=EXACT_RTOL)
    # Eq. (31) is the n - m = N_B case
    assert analytic.hp_upper_bound_power(model) == pytest.approx(
        cs * math.sqrt(4000) * 8**1.5, rel=EXACT_RTOL
    )
    assert analytic.hp_upper_bound_power(model) == pytest.approx(p, rel=EXACT_RTOL)
    # the certified exact maximum for one excitation equals the HP value exactly
    single = max_power(model, (0, 1)).value
    assert single == pytest.approx(analytic.hp_max_power(model, 0, 1)[0], rel=CERTIFIED_RTOL)


@pytest.mark.parametrize(
    "func, args",
    [
        pytest.param(analytic.hp_delta_energy, (0, 1, [0.1]), id="delta_energy"),
        pytest.param(analytic.hp_max_power, (0, 1), id="max_power"),
        pytest.param(analytic.hp_upper_bound_power, (), id="upper_bound"),
        pytest.param(analytic.single_charger_max_power, (), id="single_charger"),
    ],
)
@pytest.mark.parametrize("params", [{"B": 2.0}, {"delta": 0.1}], ids=["detuned", "ising"])
def test_hp_forms_need_resonance(func, args, params):
    model = CentralSpinModel(3, 1, **params)
    with pytest.raises(ValueError, match="B = h and delta = 0"):
        func(model, *args)


# -- N = 1 limit and the parallel (incoherent) battery -----------------------------------------
@pytest.mark.parametrize("nb, m", [(1, 0), (2, 0), (2, 1), (5, 0), (5, 2), (12, 11), (40, 7)])
def test_single_charger_limit_equals_certified(nb, m):
    model = CentralSpinModel(nb, 1, B=1.4, h=1.4, A=0.9)
    p, tau = analytic.single_charger_max_power(model, m)
    certified = max_power(model, (m, 1))
    assert p == pytest.approx(certified.value, rel=CERTIFIED_RTOL)
    assert tau == pytest.approx(certified.time, rel=TAU_RTOL)
    cs, _ = analytic.c_star()
    assert p == pytest.approx(cs * 1.4 * 0.9 * math.sqrt((m + 1) * (nb - m)), rel=EXACT_RTOL)


def test_single_charger_limit_rejects():
    with pytest.raises(ValueError, match="n_charger"):
        analytic.single_charger_max_power(CentralSpinModel(3, 2))
    with pytest.raises(ValueError, match=r"\bm\b"):
        analytic.single_charger_max_power(CentralSpinModel(3, 1), 3)


@pytest.mark.parametrize(
    "nb, N, n, B, h, delta",
    [
        (1, 4, None, 1.0, 1.0, 0.0),
        (6, 10, None, 1.0, 1.0, 0.0),
        (4, 9, 3, 2.0, 1.0, 0.4),
        (3, 20, None, 0.7, 0.7, 0.0),
    ],
)
def test_parallel_max_power(nb, N, n, B, h, delta):
    model = CentralSpinModel(nb, N, B=B, h=h, A=1.0, delta=delta)
    value = analytic.parallel_max_power(model, n)
    cell = CentralSpinModel(1, N, B=B, h=h, A=1.0, delta=delta)
    nn = N if n is None else n
    assert value == pytest.approx(nb * max_power(cell, (0, nn)).value, rel=CERTIFIED_RTOL)
    if n is None and B == h and delta == 0:
        cs, _ = analytic.c_star()
        assert value == pytest.approx(cs * B * math.sqrt(N) * nb, rel=EXACT_RTOL)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"A": -0.8, "B": 0.5, "h": 1.5, "delta": 0.2}, id="negative-A"),
        pytest.param({"A": 0.0, "B": 2.0, "h": 1.0, "delta": 0.3}, id="uncoupled-detuned"),
        pytest.param({"A": 1.0, "B": -1.0, "h": -1.0, "delta": 0.0}, id="negative-fields"),
    ],
)
def test_closed_forms_beyond_the_paper(params, ode_options):
    """Signs and zeros the paper never uses: A < 0, A = 0 (detuned), B = h < 0."""
    model = CentralSpinModel(1, 6, **params)
    n = 4
    times = np.linspace(0, 6.0, 61)
    numeric = sesolve_energies(model, n, times, ode_options)
    closed = analytic.single_spin_energies(model, n, times)
    for key in ("E_B", "E_C", "E_I"):
        np.testing.assert_allclose(closed[key], numeric[key], rtol=0, atol=ODE_ATOL, err_msg=key)
    states = sesolve_run(model, n, times, ode_options).states
    kets = analytic.single_spin_state(model, n, times)
    assert max((a - b).norm() for a, b in zip(kets, states, strict=True)) < STATE_ATOL
    if model.A != 0:  # A = 0: see test_certified_max_power_of_a_stationary_state below
        certified = max_power(model, (0, n))
        assert analytic.single_spin_max_power(model, n)[0] == pytest.approx(
            certified.value, rel=CERTIFIED_RTOL
        )


def test_single_spin_state_without_coupling_at_resonance(ode_options):
    model = CentralSpinModel(1, 4, A=0.0)
    times = np.linspace(0, 2.0, 5)
    states = sesolve_run(model, 2, times, ode_options).states
    kets = analytic.single_spin_state(model, 2, times)
    assert max((a - b).norm() for a, b in zip(kets, states, strict=True)) < STATE_ATOL


@pytest.mark.parametrize(
    "func, nb, N, label",
    [
        pytest.param(analytic.single_charger_max_power, 3, 1, (0, 1), id="single_charger"),
        pytest.param(
            lambda model: analytic.hp_max_power(model, 0, 1), 4, 50, (0, 1), id="hp_max_power"
        ),
        pytest.param(
            lambda model: (analytic.hp_upper_bound_power(model), None),
            1,
            50,
            (0, 1),
            id="hp_upper_bound",
        ),
    ],
)
def test_closed_form_maxima_for_negative_coupling(func, nb, N, label):
    """All three are exact for these inputs (N = 1, or one excitation / N_B = 1)."""
    model = CentralSpinModel(nb, N, A=-0.9)
    certified = max_power(model, label)
    value, tau = func(model)
    assert value == pytest.approx(certified.value, rel=CERTIFIED_RTOL)
    if tau is not None:
        assert tau == pytest.approx(certified.time, rel=TAU_RTOL)


@pytest.mark.parametrize(
    "m, n, B", [pytest.param(2, 1, 1.0, id="m>n"), pytest.param(0, 2, -1.0, id="B<0")]
)
def test_hp_max_power_is_never_negative(m, n, B):
    """HP: Delta E_B = B (n - m) sin^2(A sqrt(N_B N) t) <= 0 here, so nothing is stored."""
    model = CentralSpinModel(10, 2000, B=B, h=B)
    assert analytic.hp_max_power(model, m, n) == (0.0, math.inf)
    if B < 0:  # m = 0 is the battery's top level: exactly no gain either (the certified P_max)
        exact = max_power(model, (m, n))
        assert (exact.value, exact.time) == (0.0, math.inf)


@pytest.mark.parametrize(
    "which", [pytest.param("uncoupled", id="A=0-dicke"), pytest.param("eigen", id="eigenstate")]
)
def test_certified_max_power_of_a_stationary_state(which):
    if which == "uncoupled":
        model = CentralSpinModel(1, 6, A=0.0, B=2.0, h=1.0, delta=0.3)
        state = dicke_state(model, 0, 4)
    else:
        model = CentralSpinModel(2, 3, B=1.0, h=0.7)
        state = hamiltonian(model).eigenstates()[1][5]
    evo = SectorEngine(model).evolve(state)
    assert np.max(np.abs(evo.delta_energy(np.linspace(0, 50, 101)))) < 1e-14  # stationary
    with time_limit(2.0):
        result = max_power(model, state)
    assert result.value == pytest.approx(0.0, abs=1e-12)
