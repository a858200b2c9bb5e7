"""The physical thermal charger: Gibbs state of N charger qubits as a mixture over total spins.

Independent routes: the Gibbs state of N qubits built with ``qutip.tensor`` and projected on the
total-spin ladders (``references.dicke_projection``), and ``qutip.mesolve`` on every qubit
(``references.bruteforce_thermal_charger``); closed forms of N independent spins.
"""

import math

import numpy as np
import pytest
import qutip
from tolerances import CERTIFIED_RTOL, EXACT_ATOL, ODE_OPTIONS

from qutip_centralspin import CentralSpinModel, charge, max_energy, max_power
from qutip_centralspin.models import chargers as ch
from qutip_centralspin.models.thermal import (
    PhysicalThermalCharger,
    ladder_weights,
    physical_thermal_charger,
    thermal_populations,
)
from qutip_centralspin.observables.ergotropy import Ergotropy, ergotropy_trace
from qutip_centralspin.solvers import references

#: mesolve (ODE_OPTIONS: atol 1e-14, rtol 1e-12) on <= 128 levels over t <= 4: measured 1e-12
BRUTE_ATOL = 1e-8
#: a dense brute-force grid (step dt) misses the peak of P by at most dt^2 max|P''|/8 ~ 1e-6
GRID_SLACK = 1e-5

CASES = [
    pytest.param(CentralSpinModel(1, 3, B=1.1, h=0.9, A=0.8, delta=0.2), 1.5, 0, id="1x3"),
    pytest.param(CentralSpinModel(2, 4, B=1.0, h=-0.7, A=1.2, delta=-0.3), 0.8, 1, id="2x4-m1"),
    pytest.param(CentralSpinModel(1, 5, B=0.9, h=1.3, A=1.0), 4.0, 0, id="1x5"),
    pytest.param(CentralSpinModel(2, 3, B=1.2, h=1.2, A=0.6, delta=0.4), 0.3, 0, id="2x3-cold"),
]


def _qubit_gibbs(n: int, h: float, T: float) -> qutip.Qobj:
    """Gibbs state of h sum_i sigma^z_i / 2 on n qubits (basis(2, 0) = up), tensor product."""
    one = (-h * qutip.sigmaz() / (2 * T)).expm()
    return qutip.tensor([one / one.tr()] * n)


# -- the state ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("h, T", [(1.0, 1.0), (-0.6, 0.4), (1.3, 4.0), (0.0, 1.0)])
def test_ladder_weights_are_the_projections_of_the_qubit_gibbs_state(n, h, T):
    """w_r = tr(P_j rho) with P_j the projector on all copies of ladder j = n/2 - r, and the
    populations inside a ladder are those of any one copy, renormalised."""
    rho = _qubit_gibbs(n, h, T).full()
    weights = ladder_weights(n, h, T)
    assert weights.sum() == pytest.approx(1.0, abs=EXACT_ATOL)
    state = physical_thermal_charger(CentralSpinModel(1, n, h=h), T)
    assert [lad.r for lad in state.ladders] == list(range(n // 2 + 1))
    for (j, V), w, lad in zip(references.dicke_projection(n), weights, state.ladders, strict=True):
        # V[:, i, alpha] = |j, m = j - i, alpha>: population of n' = 2j - i flipped spins
        pops = np.einsum("xia,xy,yia->i", V.conj(), rho, V).real
        assert w == pytest.approx(pops.sum(), abs=EXACT_ATOL)
        assert lad.weight == pytest.approx(w, abs=EXACT_ATOL) and lad.j == j
        assert lad.multiplicity == V.shape[2]
        np.testing.assert_allclose(lad.populations[::-1], pops / pops.sum(), atol=1e-12)


@pytest.mark.parametrize("n, h, T", [(5, 1.3, 4.0), (7, -0.4, 0.9), (12, 2.0, 3.0)])
def test_mean_excitation_is_that_of_independent_spins(n, h, T):
    """<n> = N / (1 + e^{h/T}) for N independent spins (h > 0: down is lower)."""
    state = physical_thermal_charger(CentralSpinModel(1, n, h=h), T)
    assert state.mean_excitation == pytest.approx(n / (1 + math.exp(h / T)), abs=1e-12)


def test_physical_and_symmetric_means_differ_as_the_issue_says():
    """N = 5, T = 4: <n> = 2.10 (physical) against 1.61 (symmetric multiplet); these two
    numbers need h = 1.3 (h = 1 gives 2.19 and 1.80)."""
    model = CentralSpinModel(1, 5, h=1.3)
    physical = physical_thermal_charger(model, 4.0).mean_excitation
    p = thermal_populations(5, 1.3, 4.0)
    assert round(physical, 2) == 2.10
    assert round(float(np.arange(6) @ p), 2) == 1.61


@pytest.mark.parametrize("h, full", [(1.0, 0), (-1.0, 6)])
def test_zero_temperature_is_the_polarised_charger(h, full):
    state = physical_thermal_charger(CentralSpinModel(2, 6, h=h), 1e-3)
    (lad,) = state.ladders  # every other ladder underflows: left out with weight 0
    assert lad.r == 0 and lad.weight == 1.0 and state.neglected_weight == 0.0
    assert lad.populations[full] == 1.0


def test_high_temperature_weights_count_states():
    """T -> inf: w_r = d_r (N - 2r + 1) / 2^N, uniform populations inside each ladder."""
    n = 8
    state = physical_thermal_charger(CentralSpinModel(1, n), 1e12)
    for lad in state.ladders:
        size = n - 2 * lad.r + 1
        assert lad.weight == pytest.approx(lad.multiplicity * size / 2**n, rel=1e-9)
        np.testing.assert_allclose(lad.populations, 1 / size, rtol=1e-9)
    assert sum(lad.multiplicity * (n - 2 * lad.r + 1) for lad in state.ladders) == 2**n


def test_spec_and_the_symmetric_state_keep_their_meaning():
    model = CentralSpinModel(2, 4)
    assert isinstance(ch.charger_state(model, "gibbs:2", m=1), PhysicalThermalCharger)
    rho = ch.charger_state(model, "thermal:2")
    assert isinstance(rho, qutip.Qobj) and (rho - ch.thermal_charger(model, 2.0)).norm() == 0
    with pytest.raises(ValueError, match="T must be"):
        ch.charger_state(model, "gibbs:-1")
    with pytest.raises(ValueError, match="tol"):
        physical_thermal_charger(model, 1.0, tol=-1)


def test_ladder_states_are_symmetric_gibbs_states_of_the_smaller_models():
    model = CentralSpinModel(2, 5, B=0.7, h=0.9)
    state = physical_thermal_charger(model, 1.7, m=2)
    for lad in state.ladders:
        assert lad.model == model.replace(n_charger=5 - 2 * lad.r)
        assert (lad.state - ch.thermal_charger(lad.model, 1.7, m=2)).norm("max") < EXACT_ATOL


# -- the dynamics against brute force on qubits ---------------------------------------------------
@pytest.mark.parametrize("model, T, m", CASES)
def test_charge_matches_mesolve_on_qubits(model, T, m):
    """Delta E_B(t), rho_B(t) and the ergotropy of the mixture against mesolve on 2^(N_B+N)
    levels from the qubit Gibbs state (tlist not starting at 0)."""
    tlist = np.linspace(0.3, 3.5, 17)
    state = physical_thermal_charger(model, T, m=m)
    options = {"store_states": True}
    res = charge(model, state, tlist, e_ops={"W": Ergotropy(model)}, options=options)
    ref_opts = {**ODE_OPTIONS, "store_states": True}
    ref = references.bruteforce_thermal_charger(
        model, T, tlist - tlist[0], m=m, e_ops={"W": Ergotropy(model)}, options=ref_opts
    )
    np.testing.assert_allclose(res.delta_energy, ref.delta_energy, atol=BRUTE_ATOL)
    np.testing.assert_allclose(res.power[1:], ref.power[1:], atol=BRUTE_ATOL)
    assert res.initial_energy == pytest.approx(ref.initial_energy, abs=EXACT_ATOL)
    for mine, theirs in zip(res.states, ref.states, strict=True):
        assert (mine - theirs).norm("max") < BRUTE_ATOL
    np.testing.assert_allclose(res.e_data["W"], ref.e_data["W"], atol=BRUTE_ATOL)


@pytest.mark.parametrize("model, T, m", CASES[:3])
def test_certified_maxima_bracket_the_brute_force_maxima(model, T, m):
    """The certified P_max and E_max brackets hold the maxima of a dense brute-force grid, and
    the brute-force P and Delta E at the certified times equal the certified values."""
    state = physical_thermal_charger(model, T, m=m)
    p = max_power(model, state)
    e = max_energy(model, state)
    assert p.converged and e.converged and p.error <= CERTIFIED_RTOL * p.value + 1e-14
    end = max(1.3 * p.time, e.window[1])
    grid = np.union1d(np.linspace(0, end, 4001), [p.time, e.time])
    ref = references.bruteforce_thermal_charger(model, T, grid, m=m, options=ODE_OPTIONS)
    power, energy = ref.power[1:], ref.delta_energy
    assert power.max() <= p.upper_bound + BRUTE_ATOL / grid[1]
    assert power.max() >= p.value - GRID_SLACK
    assert power[np.searchsorted(grid, p.time) - 1] == pytest.approx(p.value, abs=BRUTE_ATOL)
    window = grid <= e.window[1]
    assert energy[window].max() <= e.upper_bound + BRUTE_ATOL
    assert energy[np.searchsorted(grid, e.time)] == pytest.approx(e.value, abs=BRUTE_ATOL)


def test_mixture_is_the_weighted_sum_of_the_ladder_problems():
    """Delta E_B of the mixture is sum_r w_r Delta E_B of each smaller model's symmetric thermal
    state (through the full-space density matrix path of the engine)."""
    from qutip_centralspin.solvers import SectorEngine

    model = CentralSpinModel(3, 6, B=1.1, h=0.8, A=0.9, delta=0.3)
    state = physical_thermal_charger(model, 1.2, m=1)
    t = np.linspace(0, 4, 9)
    total = np.zeros_like(t)
    for lad in state.ladders:
        if lad.model is not None:  # the singlet j_C = 0 does not move
            total += lad.weight * SectorEngine(lad.model).evolve(lad.state).delta_energy(t)
    np.testing.assert_allclose(state.evolution().delta_energy(t), total, atol=EXACT_ATOL)
    weights = sum(lad.weight for lad in state.ladders)
    assert weights == pytest.approx(1.0, abs=EXACT_ATOL)


def test_left_out_ladders_widen_the_bracket():
    """Dropping ladders (tol) lowers the value and raises the bound by their possible
    contribution: the bracket still holds the maximum of the full mixture."""
    model = CentralSpinModel(2, 6, B=1.0, h=1.5, A=1.0)  # w_r = 0.79, 0.20, 0.018, 4.6e-4
    full = physical_thermal_charger(model, 0.5)
    part = physical_thermal_charger(model, 0.5, tol=0.05)
    dropped = [lad.weight for lad in full.ladders if lad.weight < 0.05]
    assert dropped and part.neglected_weight == pytest.approx(sum(dropped), rel=1e-12)
    for find in (max_power, max_energy):
        exact, rough = find(model, full), find(model, part)
        assert rough.value <= exact.value <= rough.upper_bound
        assert rough.time_bracket is None


def test_extreme_scale_is_rescaled_exactly():
    """H -> 2^80 H: P_max times 2^160, tau over 2^80 (the mixture is rescaled like one model)."""
    model = CentralSpinModel(1, 4, B=1.1, h=0.7, A=0.9, delta=0.2)
    big = model.replace(**{k: math.ldexp(getattr(model, k), 80) for k in ("B", "h", "A", "delta")})
    small = max_power(model, physical_thermal_charger(model, 1.0))
    large = max_power(big, physical_thermal_charger(big, math.ldexp(1.0, 80)))
    assert large.value == pytest.approx(math.ldexp(small.value, 160), rel=1e-12)
    assert large.time == pytest.approx(math.ldexp(small.time, -80), rel=1e-9)


def test_ergotropy_of_the_mixture_is_that_of_the_weighted_battery_state():
    model = CentralSpinModel(2, 4, B=1.0, h=-1.0, A=1.0)
    state = physical_thermal_charger(model, 0.7)
    evo = state.evolution()
    t = np.linspace(0, 2, 5)
    trace = ergotropy_trace(evo, t)
    mats = sum(
        lad.weight * lad.evolution().reduced_battery_matrices(t)
        for lad in state.ladders
        if lad.model is not None
    )
    still = sum(lad.weight for lad in state.ladders if lad.model is None)
    mats[:, 2, 2] += still  # the singlet keeps the battery in |m = 0> (jmat index N_B)
    np.testing.assert_allclose(evo.reduced_battery_matrices(t), mats, atol=EXACT_ATOL)
    assert np.all(trace.ergotropy <= trace.delta_energy + 1e-12)


def test_cli_pmax_gibbs_spec(capsys):
    """``--charger-state gibbs:T`` runs the physical thermal mixture, brackets written."""
    import json

    from qutip_centralspin.cli import main

    args = ["pmax", "--nb", "1", "--n", "4", "--B", "1.1", "--h", "0.9", "--A", "0.8"]
    code = main([*args, "--charger-state", "gibbs:0.7", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    data = json.loads(out)
    model = CentralSpinModel(1, 4, B=1.1, h=0.9, A=0.8)
    p = max_power(model, physical_thermal_charger(model, 0.7))
    assert data["charger_state"] == "gibbs:0.7" and data["p_max_converged"] is True
    assert data["p_max"] == pytest.approx(p.value, rel=1e-14)
    assert data["p_max_upper"] == pytest.approx(p.upper_bound, rel=1e-14)
    symmetric = max_power(model, ch.thermal_charger(model, 0.7))
    assert abs(data["p_max"] - symmetric.value) > 1e-3  # not the symmetric-multiplet state
