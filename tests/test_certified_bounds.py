"""Every rigorous bound the certified maxima use is >= the true value, and tight enough that
half of it is not.

The true values come from an independent route: the spectral form of the full Hamiltonian
rebuilt from ``qutip.jmat`` (conftest), diagonalised here with numpy,
:math:`E_B^{(k)}(t) = \\mathrm{Re}\\sum_{ab}\\rho_{ab}(H_B)_{ba}(-i\\omega_{ab})^k
e^{-i\\omega_{ab}t}`, and :math:`P_B^{(k)}(t) = \\int_0^1 u^kE_B^{(k+1)}(ut)\\,du` by
Gauss-Legendre quadrature, maximised on dense grids over random intervals. Random states (Dicke
with m0 > 0, superpositions, mixtures, Gibbs states of the chargers, states that cannot gain
energy) check soundness; the explicit states below reach each bound to within a few per cent,
so a bound halved in the package fails here.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_certified_maxima import SWEEP, cases
from test_charging_time import Spectral

from qutip_centralspin import CentralSpinModel, dicke_state
from qutip_centralspin.maxima import bounds as bounds_module
from qutip_centralspin.maxima import energy as energy_module
from qutip_centralspin.maxima import power as power_module
from qutip_centralspin.models.thermal import physical_thermal_charger
from qutip_centralspin.solvers import SectorEngine

GRID = 1001  # dense grid per interval
#: Gauss-Legendre nodes of the u-integral of P^(k): exact to round-off for omega t <= ~40.
NODES, WEIGHTS = np.polynomial.legendre.leggauss(40)
U, W_U = 0.5 * (NODES + 1), 0.5 * WEIGHTS


def power_derivative(spectral, t, k):
    """P_B^(k)(t) = int_0^1 u^k E_B^(k+1)(u t) du, independently of the package."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    values = spectral(np.outer(t, U).ravel(), k + 1).reshape(t.size, U.size)
    return values @ (W_U * U**k)


def max_energy_derivative(spectral, a, b, k):
    """max |E_B^(k)| on [a, b] (k = 0: E_B itself, not Delta E_B)."""
    t = np.linspace(a, b, GRID)
    return float(np.max(np.abs(spectral(t, k) + (spectral.e0 if k == 0 else 0.0))))


def max_power_derivative(spectral, a, b, k):
    t = np.linspace(a, b, GRID)
    return float(np.max(np.abs(power_derivative(spectral, t, k))))


def max_on(f, a, b):
    return float(np.max(f(np.linspace(a, b, GRID))))


def superposition(model, chi, theta):
    """cos(chi)|1, 0> + e^(i theta) sin(chi)|0, 1>: one Bohr frequency."""
    ket = np.cos(chi) * dicke_state(model, 1, 0) + np.exp(1j * theta) * np.sin(chi) * dicke_state(
        model, 0, 1
    )
    return ket.unit()


ONE_PAIR = CentralSpinModel(1, 1, B=1.0, h=1.0, A=1.0)
#: E_B = c + R sin(omega t): E'(0) = M_1 and E'''(0) = -M_3, so |P(0)| = M_1, |P''(0)| = M_3/3
SINE = superposition(ONE_PAIR, np.pi / 4, np.pi / 2)
#: E_B = c + R cos(omega t): |E''(0)| = M_2, |E''''(0)| = M_4: |P'(0)| = M_2/2, |P'''(0)| = M_4/4
COSINE = superposition(ONE_PAIR, np.pi / 4 - 0.2, 0.0)
#: phase just past sin: P has a local maximum at omega t* = 0.15 with P'' ~ -M_3/3 around it
NEAR_SINE = superposition(ONE_PAIR, np.pi / 4 + 0.05, np.pi / 2)
#: two Bohr frequencies 10 % apart: Delta E_B has a local maximum below the ceiling with
#: |E''| ~ 0.97 M_2 there
TWO_RATES = CentralSpinModel(1, 6, B=1.0, h=1.0, A=1.0)


def two_rates_state():
    return 0.5 * dicke_state(TWO_RATES, 0, 1, dm=True) + 0.5 * dicke_state(
        TWO_RATES, 0, 2, dm=True
    )


# --- soundness on random states and intervals ---------------------------------------------------------
@st.composite
def intervals(draw):
    """(a, b) in units of the fastest period: near t = 0, short, long, late."""
    a = draw(st.just(0.0) | st.floats(0.0, 1e-2) | st.floats(0.0, 15.0), label="a")
    width = draw(st.floats(1e-3, 3.0), label="width")
    return a, a + width


@st.composite
def hard_states(draw):
    """cases() and a full battery next to a charger (no gain, Delta E_B <= 0)."""
    if draw(st.integers(0, 4)) == 0:
        nb, nc = draw(st.integers(1, 3)), draw(st.integers(1, 4))
        model = CentralSpinModel(nb, nc, B=1.0, h=draw(st.floats(0.3, 2.0)), A=0.8)
        return model, (nb, draw(st.integers(0, nc)))
    return draw(cases())


def check_bounds(model, state, span, spectral):
    evo = SectorEngine(model).evolve(state)
    bounds = bounds_module._Bounds(evo)
    omega = max(evo.max_frequency(), 1e-12)
    a, b = span[0] / omega, span[1] / omega
    for k in range(5):  # |E_B^(k)| <= M_k = sum |M_ab| |omega_ab|^k
        true = max_energy_derivative(spectral, a, b, k)
        assert evo.derivative_bound(k) >= true - spectral.slack(b, k), f"M_{k}"
    for k in range(4):  # |P_B^(k)| <= M_(k+1)/(k+1)
        true = max_power_derivative(spectral, a, b, k)
        assert bounds.power_derivative_bound(k) >= true - spectral.slack(b, k + 1), f"P^({k})"
    # the interval bounds of the searches, on [a, b] (P only where Delta E_B / t keeps digits)
    ends = np.array([a]), np.array([b])
    up_e, _ = energy_module._energy_interval_bounds(bounds)(
        *ends, *(evo.delta_energy(x) for x in ends)
    )
    assert up_e[0] >= max_on(spectral, a, b) - spectral.slack(b)
    if a > 0 and bounds.omega > 0:  # (a state with E_B constant is decided before)
        power = power_module._power_interval_bounds(bounds)
        up_p, _ = power(*ends, *(evo.power(x) for x in ends))
        true = max_on(lambda t: spectral(t) / t, a, b)
        assert up_p[0] >= true - spectral.slack(b) / a


@settings(max_examples=50, **SWEEP)
@given(case=hard_states(), span=intervals())
def test_bounds_hold_on_random_intervals(
    case, span, independent_hamiltonian, independent_battery_energy_op
):
    model, state = case
    spectral = Spectral(model, state, independent_hamiltonian, independent_battery_energy_op)
    check_bounds(model, state, span, spectral)


# --- tightness: the states that reach each bound ------------------------------------------------------
@pytest.fixture
def spectral_of(independent_hamiltonian, independent_battery_energy_op):
    def make(model, state):
        return Spectral(model, state, independent_hamiltonian, independent_battery_energy_op)

    return make


@pytest.mark.parametrize("k", range(5))
@pytest.mark.parametrize("state", [SINE, COSINE], ids=["sine", "cosine"])
def test_energy_derivative_bound_is_reached(k, state, spectral_of):
    """One Bohr frequency: max_t |E_B^(k)| = sum |M_ab| |omega|^k over one period."""
    spectral = spectral_of(ONE_PAIR, state)
    evo = SectorEngine(ONE_PAIR).evolve(state)
    period = 2 * np.pi / evo.max_frequency()
    true = max_energy_derivative(spectral, 0.0, period, k)
    bound = evo.derivative_bound(k)
    assert true <= bound + spectral.slack(period, k)
    assert true >= 0.99 * bound  # so half the bound fails the line above


@pytest.mark.parametrize(
    ("k", "state"),
    [
        pytest.param(0, SINE, id="P-sine"),
        pytest.param(1, COSINE, id="P'-cosine"),
        pytest.param(2, SINE, id="P''-sine"),
        pytest.param(3, COSINE, id="P3-cosine"),
    ],
)
def test_power_derivative_bound_is_reached(k, state, spectral_of):
    """|P^(k)(0+)| = |E^(k+1)(0)|/(k+1) = M_(k+1)/(k+1) when that derivative is extremal at 0."""
    spectral = spectral_of(ONE_PAIR, state)
    evo = SectorEngine(ONE_PAIR).evolve(state)
    bound = bounds_module._Bounds(evo).power_derivative_bound(k)
    b = 1e-3 / evo.max_frequency()
    true = max_power_derivative(spectral, 1e-9 * b, b, k)
    assert true <= bound + spectral.slack(b, k + 1)
    assert true >= 0.99 * bound


def test_power_interval_bound_is_reached(spectral_of):
    """Around the local maximum of P at omega t* = 0.15 the P-curvature route is the tightest
    and the true excess over the end values is > 99 % of the bound's (a halved curvature
    bound falls below the true maximum)."""
    spectral = spectral_of(ONE_PAIR, NEAR_SINE)
    evo = SectorEngine(ONE_PAIR).evolve(NEAR_SINE)
    omega = evo.max_frequency()
    t = np.linspace(0.01 / omega, 1.0 / omega, 20001)
    p = spectral(t) / t
    i = int(np.argmax(p))
    assert 0 < i < t.size - 1
    a, b = 0.5 * t[i], 1.5 * t[i]
    ends = np.array([a]), np.array([b])
    fa, fb = (evo.power(x) for x in ends)
    up, _ = power_module._power_interval_bounds(bounds_module._Bounds(evo))(*ends, fa, fb)
    true = max_on(lambda s: spectral(s) / s, a, b)
    assert up[0] >= true - spectral.slack(b) / a
    assert true - max(fa[0], fb[0]) >= 0.99 * (up[0] - max(fa[0], fb[0]))


def test_energy_interval_bound_is_reached(spectral_of):
    """Two frequencies 10 % apart: at the first local maximum of Delta E_B (below the ceiling)
    the curvature route gives the bound, the true excess is > 90 % of it."""
    state = two_rates_state()
    spectral = spectral_of(TWO_RATES, state)
    evo = SectorEngine(TWO_RATES).evolve(state)
    bounds = bounds_module._Bounds(evo)
    omega = evo.max_frequency()
    t = np.linspace(0.01, 12.0 / omega, 200001)
    e = spectral(t)
    i = 1 + int(np.flatnonzero((e[1:-1] > e[:-2]) & (e[1:-1] >= e[2:]))[0])
    assert e[i] < bounds.gain_bound - 0.02  # not clipped by the ceiling
    a, b = t[i] - 0.05 / omega, t[i] + 0.05 / omega
    ends = np.array([a]), np.array([b])
    fa, fb = (evo.delta_energy(x) for x in ends)
    up, _ = energy_module._energy_interval_bounds(bounds)(*ends, fa, fb)
    true = max_on(spectral, a, b)
    assert up[0] >= true - spectral.slack(b)
    assert true - max(fa[0], fb[0]) >= 0.9 * (up[0] - max(fa[0], fb[0]))


def test_power_interval_bound_by_the_energy_route_is_reached(spectral_of):
    """Late times: P <= (max(a P(a), b P(b)) + M_2 w^2/8)/a is the tightest route. Around a
    late local maximum of Delta E_B where both frequencies are in phase (|E''| ~ 0.96 M_2,
    below the ceiling) the true excess of P over its end values is > 85 % of the bound's."""
    state = two_rates_state()
    spectral = spectral_of(TWO_RATES, state)
    evo = SectorEngine(TWO_RATES).evolve(state)
    bounds = bounds_module._Bounds(evo)
    omega = evo.max_frequency()
    t = np.linspace(390.0 / omega, 396.0 / omega, 60001)
    e = spectral(t)
    i = int(np.argmax(e))
    assert 0 < i < t.size - 1 and e[i] < bounds.gain_bound - 0.02
    a, b = t[i] - 0.2 / omega, t[i] + 0.2 / omega
    ends = np.array([a]), np.array([b])
    fa, fb = (evo.power(x) for x in ends)
    up, _ = power_module._power_interval_bounds(bounds)(*ends, fa, fb)
    true = max_on(lambda s: spectral(s) / s, a, b)
    assert up[0] >= true - spectral.slack(b) / a
    assert true - max(fa[0], fb[0]) >= 0.85 * (up[0] - max(fa[0], fb[0]))


# --- Gibbs states of physical charger spins: a mixture over ladders j_C ------------------------------
def mixture_spectral(gibbs, hamiltonian, battery_op):
    """The weighted spectral forms of the ladders (each on its own model), plus the constant
    energy of the singlet's still part."""
    coef, omega = [], []
    still = 1.0 - gibbs.neglected_weight
    for lad in gibbs.ladders:
        if lad.model is None:
            continue
        part = Spectral(lad.model, lad.state, hamiltonian, battery_op)
        coef.append(lad.weight * part.coef)
        omega.append(part.omega)
        still -= lad.weight
    model = gibbs.model
    coef.append(np.array([still * model.B * (gibbs.m - model.n_battery / 2) + 0j]))
    omega.append(np.zeros(1))
    spectral = object.__new__(Spectral)
    spectral.coef, spectral.omega = np.concatenate(coef), np.concatenate(omega)
    spectral.e0 = float(np.real(spectral.coef.sum()))
    spectral.size = float(np.abs(spectral.coef).sum()) + 1.0
    return spectral


@pytest.mark.parametrize(
    ("model", "T", "m"),
    [
        pytest.param(CentralSpinModel(2, 5, B=1.0, h=1.3, A=0.8), 2.0, 0, id="NB2-N5"),
        pytest.param(CentralSpinModel(3, 4, B=1.0, h=0.7, A=1.1, delta=0.4), 0.8, 1, id="m0=1"),
        pytest.param(CentralSpinModel(1, 6, B=1.0, h=1.0, A=1.0), 5.0, 0, id="NB1-N6-hot"),
    ],
)
@pytest.mark.parametrize(
    "span", [(0.0, 0.5), (0.3, 2.0), (7.0, 9.5)], ids=["start", "mid", "late"]
)
def test_bounds_hold_for_physical_thermal_chargers(
    model, T, m, span, independent_hamiltonian, independent_battery_energy_op
):
    """MixtureEvolution's M_k (weighted sums over the ladders) and the interval bounds built on
    them, against the ladders' spectral forms summed independently."""
    gibbs = physical_thermal_charger(model, T, m=m)
    spectral = mixture_spectral(gibbs, independent_hamiltonian, independent_battery_energy_op)
    evo = gibbs.evolution()
    bounds = bounds_module._Bounds(evo)
    omega = evo.max_frequency()
    a, b = span[0] / omega, span[1] / omega
    assert evo.battery_energy(np.array([a, b])) == pytest.approx(
        spectral(np.array([a, b])) + spectral.e0, abs=1e-12
    )  # the premise: the two routes describe the same state
    for k in range(5):
        true = max_energy_derivative(spectral, a, b, k)
        assert evo.derivative_bound(k) >= true - spectral.slack(b, k), f"M_{k}"
    for k in range(4):
        true = max_power_derivative(spectral, a, b, k)
        assert bounds.power_derivative_bound(k) >= true - spectral.slack(b, k + 1), f"P^({k})"
    ends = np.array([a]), np.array([b])
    up_e, _ = energy_module._energy_interval_bounds(bounds)(
        *ends, *(evo.delta_energy(x) for x in ends)
    )
    assert up_e[0] >= max_on(spectral, a, b) - spectral.slack(b)
    if a > 0:
        up_p, _ = power_module._power_interval_bounds(bounds)(*ends, *(evo.power(x) for x in ends))
        assert up_p[0] >= max_on(lambda t: spectral(t) / t, a, b) - spectral.slack(b) / a
