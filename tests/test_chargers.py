"""Charger initial states: thermal, spin-coherent, best Dicke, and the spec parser."""

import math

import numpy as np
import pytest
import qutip

from qutip_centralspin import CentralSpinModel, dicke_state, max_power, spin_coherent_charger
from qutip_centralspin.maxima import ergotropy as maxima_ergotropy
from qutip_centralspin.models import chargers as ch
from qutip_centralspin.observables import ergotropy as erg
from qutip_centralspin.paper import analytic
from qutip_centralspin.solvers import SectorEngine, SectorEvolution
from qutip_centralspin.studies import chargers

EXACT_ATOL = 1e-12  # sums of <= 50 exact-engine terms / qutip expm of 2x2..50x50 blocks
ODE_ATOL = 1e-7  # mesolve/sesolve with atol 1e-12, rtol 1e-10 over t <= 3, |E_B| <= 2
CERTIFIED_RTOL = 1e-10  # max_power's certified bracket (relative)
TIE_RTOL = chargers.TIE_RTOL  # what best_dicke_charger calls a tie

MODEL = CentralSpinModel(n_battery=2, n_charger=5, B=1.0, h=0.8, A=1.0, delta=0.1)
TIMES = np.linspace(0, 3, 13)


# -- thermal --------------------------------------------------------------------------------
def test_thermal_populations_are_gibbs_weights():
    p = ch.thermal_populations(6, h=0.9, T=1.7)
    assert p.sum() == pytest.approx(1.0, abs=EXACT_ATOL)
    np.testing.assert_allclose(p[1:] / p[:-1], math.exp(-0.9 / 1.7), rtol=1e-13)
    np.testing.assert_allclose(ch.thermal_populations(4, h=1.0, T=1e12), 0.2, atol=1e-11)
    cold = ch.thermal_populations(4, h=1.0, T=1e-3)  # h > 0: n = 0 (all down) is lowest
    assert cold[0] == pytest.approx(1.0)
    assert ch.thermal_populations(4, h=-1.0, T=1e-3)[-1] == pytest.approx(1.0)


def test_thermal_charger_is_the_gibbs_state_of_h_jz():
    """Against qutip's expm of -h J^z / T on the j = N/2 multiplet, battery in |m>."""
    rho = ch.thermal_charger(MODEL, 1.3, m=1)
    jz = qutip.jmat(MODEL.n_charger / 2, "z")
    gibbs = (-MODEL.h * jz / 1.3).expm()
    expected = qutip.tensor(qutip.basis(3, 1).proj(), gibbs / gibbs.tr())
    assert rho.dims == MODEL.dims and rho.isherm
    assert (rho - expected).norm("max") < EXACT_ATOL


def test_thermal_charger_against_mesolve_and_linearity(reference_delta_energy):
    """Delta E_B of the thermal state: mesolve on the full space, and sum_n p_n Delta E_n."""
    rho = ch.thermal_charger(MODEL, 2.0)
    evo = SectorEngine(MODEL).evolve(rho)
    np.testing.assert_allclose(
        evo.delta_energy(TIMES), reference_delta_energy(MODEL, rho, TIMES), atol=ODE_ATOL
    )
    p = ch.thermal_populations(MODEL.n_charger, MODEL.h, 2.0)
    engine = SectorEngine(MODEL)
    mixture = sum(pn * engine.evolve((0, n)).delta_energy(TIMES) for n, pn in enumerate(p))
    np.testing.assert_allclose(evo.delta_energy(TIMES), mixture, atol=EXACT_ATOL)


def test_thermal_charger_never_builds_a_full_space_propagator(monkeypatch):
    """P_max, rho_B(t), ergotropy and its maximum all stay in the sector blocks."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a full-space propagator was built")

    monkeypatch.setattr(SectorEvolution, "propagator", forbidden)
    monkeypatch.setattr(SectorEvolution, "states", forbidden)
    model = CentralSpinModel(4, 40)
    rho = ch.thermal_charger(model, 3.0)
    evo = SectorEngine(model).evolve(rho)
    assert len(evo.sector_weights) == model.n_charger + 1  # K = n: one sector per n
    # P_max against the mixture sum_n p_n P_n(t) of the Dicke runs (H_B is sector-diagonal)
    p = max_power(model, rho)
    weights = np.exp(-model.h * np.arange(model.n_charger + 1) / 3.0)
    engine = SectorEngine(model)
    runs = [(w / weights.sum(), engine.evolve((0, n))) for n, w in enumerate(weights)]

    def mixture(t):
        return sum(w * run.power(t) for w, run in runs)

    t = np.linspace(0.0, 3 * p.time, 3001)
    assert mixture(t).max() <= p.upper_bound * (1 + 1e-12)
    assert mixture(np.array([p.time]))[0] == pytest.approx(p.value, rel=1e-12)
    mats = evo.reduced_battery_matrices(np.linspace(0, 1, 5))
    # no inter-sector coherence: rho_B(t) stays diagonal
    assert np.abs(mats - np.einsum("tii->ti", mats)[..., None] * np.eye(5)).max() < EXACT_ATOL
    # so W = E_B - passive energy of the sorted populations, on levels B (N_B/2 - i) (jmat order)
    levels = model.B * (model.n_battery / 2 - np.arange(model.n_battery + 1))

    def ergotropy(mat):
        pops = np.real(np.diagonal(mat))
        return pops @ levels - np.sort(pops)[::-1] @ np.sort(levels)

    best = maxima_ergotropy.certified_max_ergotropy(
        evo, battery="dicke"
    )  # the N_B + 1 levels, as by hand above
    t = np.linspace(*best.window, 2001)
    assert max(ergotropy(m) for m in evo.reduced_battery_matrices(t)) <= best.upper_bound + 1e-12
    at_best = evo.reduced_battery_matrices(np.array([best.time]))[0]
    assert ergotropy(at_best) == pytest.approx(best.value, abs=EXACT_ATOL)


# -- spin-coherent ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, theta, phi",
    [
        pytest.param("coherent:0.7:0.2", 0.7, 0.2, id="theta-phi"),
        pytest.param("coherent:2.1", 2.1, 0.0, id="theta-only"),
    ],
)
def test_coherent_spec_points_the_charger_spin(spec, theta, phi):
    """<J> = (N/2)(sin t cos p, sin t sin p, cos t), of length N/2 (spin-coherent), and the
    battery in |m = 1>; operators built here from qutip.jmat."""
    nb, j = MODEL.n_battery, MODEL.n_charger / 2
    state = ch.charger_state(MODEL, spec, m=1)
    spin = [qutip.expect(qutip.tensor(qutip.qeye(nb + 1), qutip.jmat(j, a)), state) for a in "xyz"]
    direction = [math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)]
    np.testing.assert_allclose(spin, j * np.array(direction), rtol=0, atol=1e-10)
    battery = qutip.basis(nb + 1, nb - 1).proj()  # |m = 1>: jmat index N_B - 1
    assert (state.ptrace(0) - battery).norm("max") < 1e-10


@pytest.mark.parametrize("theta", [0.0, 0.6, math.pi / 2, 2.5, math.pi])
def test_coherent_charger_energy_is_the_dephased_binomial_mixture(theta, reference_delta_energy):
    """H_B is sector-diagonal: Delta E_B of |theta> = sum_n Binom(n) Delta E_n; also vs sesolve."""
    psi = spin_coherent_charger(MODEL, theta, 0.4)
    evo = SectorEngine(MODEL).evolve(psi)
    N = MODEL.n_charger
    c2, s2 = math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2
    weights = [math.comb(N, n) * c2**n * s2 ** (N - n) for n in range(N + 1)]
    engine = SectorEngine(MODEL)
    mixture = sum(w * engine.evolve((0, n)).delta_energy(TIMES) for n, w in enumerate(weights))
    np.testing.assert_allclose(evo.delta_energy(TIMES), mixture, atol=EXACT_ATOL)
    np.testing.assert_allclose(
        evo.delta_energy(TIMES), reference_delta_energy(MODEL, psi, TIMES), atol=ODE_ATOL
    )


def test_coherent_and_dephased_chargers_differ_in_ergotropy():
    """Same energy, different rho_B: the coherences between sectors show up in W."""
    model = CentralSpinModel(2, 6, B=1.0, h=1.0, A=1.0)
    psi = spin_coherent_charger(model, 1.2)
    dephased = sum(
        abs(psi.full()[i, 0]) ** 2 * qutip.ket2dm(qutip.basis(model.shape, i))
        for i in range(model.shape)
    )
    dephased = qutip.Qobj(dephased.full(), dims=model.dims)
    times = np.linspace(0, 2, 41)
    coh = erg.ergotropy_trace(SectorEngine(model).evolve(psi), times)
    mix = erg.ergotropy_trace(SectorEngine(model).evolve(dephased), times)
    np.testing.assert_allclose(coh.delta_energy, mix.delta_energy, atol=EXACT_ATOL)
    assert np.max(np.abs(coh.ergotropy - mix.ergotropy)) > 1e-2


# -- best Dicke charger ----------------------------------------------------------------------
@pytest.mark.parametrize("n_charger", [1, 3, 5, 9, 15])
def test_best_dicke_charger_is_half_filled_for_one_spin_odd(n_charger):
    """Paper: n = (N+1)/2 for N_B = 1 (resonance), P_max = c* B A sqrt(b_{N,n}) (Eq. 15)."""
    model = CentralSpinModel(1, n_charger)
    best = chargers.best_dicke_charger(model)
    n = (n_charger + 1) // 2
    assert best.n == n and best.ties == (n,)
    expected = analytic.c_star()[0] * math.sqrt(n * (n_charger - n + 1))
    assert best.value == pytest.approx(expected, rel=CERTIFIED_RTOL)


@pytest.mark.parametrize("n_charger", [2, 4, 10])
def test_best_dicke_charger_ties_for_one_spin_even(n_charger):
    """Even N: b_{N,N/2} = b_{N,N/2+1}, a tie (the smaller n is reported)."""
    best = chargers.best_dicke_charger(CentralSpinModel(1, n_charger))
    assert best.ties == (n_charger // 2, n_charger // 2 + 1) and best.n == n_charger // 2


def test_best_dicke_charger_detuned_matches_closed_form():
    """Detuned, Ising N_B = 1: argmax over the closed-form P_max (Eq. 15 with Delta_n)."""
    model = CentralSpinModel(1, 8, B=1.5, h=0.5, A=0.7, delta=0.3)
    best = chargers.best_dicke_charger(model)
    closed = [analytic.single_spin_max_power(model, n)[0] for n in range(9)]
    assert best.n == int(np.argmax(closed))
    np.testing.assert_allclose(best.values, closed, rtol=1e-9, atol=EXACT_ATOL)


def test_best_dicke_charger_many_spins_against_max_power():
    # (h = 0.9 with m = 1 has a near-zero P_max at n = 1 whose certificate needs t ~ 5e3: slow)
    model = CentralSpinModel(3, 6, h=1.0, delta=0.2)
    best = chargers.best_dicke_charger(model, m=1)
    direct = [max_power(model, dicke_state(model, 1, n)).value for n in range(7)]
    np.testing.assert_allclose(best.values, direct, rtol=CERTIFIED_RTOL)
    assert best.n == int(np.argmax(direct))


def test_best_dicke_charger_for_energy_one_spin_all_tie():
    """N_B = 1 at resonance transfers the full B for every n >= 1."""
    best = chargers.best_dicke_charger(CentralSpinModel(1, 5), objective="energy")
    assert best.values[0] == 0.0
    np.testing.assert_allclose(best.values[1:], 1.0, rtol=1e-9)
    assert best.ties == (1, 2, 3, 4, 5)


# -- parser and errors -----------------------------------------------------------------------
def test_charger_state_specs():
    """Each spec against the state written out here: Dicke kets at their jmat indices (+j
    first), the Gibbs state of h J^z from qutip's expm."""
    nb, nc = MODEL.n_battery, MODEL.n_charger

    def ket(m, n):
        return qutip.tensor(qutip.basis(nb + 1, nb - m), qutip.basis(nc + 1, nc - n))

    assert (ch.charger_state(MODEL, "full") - ket(0, nc)).norm() < EXACT_ATOL
    assert (ch.charger_state(MODEL, "full", m=2) - ket(2, nc)).norm() < EXACT_ATOL
    assert (ch.charger_state(MODEL, "dicke:3") - ket(0, 3)).norm() < EXACT_ATOL
    gibbs = (-MODEL.h * qutip.jmat(nc / 2, "z") / 2.0).expm()
    thermal = qutip.tensor(ket(0, 0).ptrace(0), gibbs / gibbs.tr())
    assert (ch.charger_state(MODEL, " Thermal:2 ") - thermal).norm() < EXACT_ATOL


@pytest.mark.parametrize(
    "spec, match",
    [
        pytest.param("hot", "spec must be one of", id="unknown"),
        pytest.param("dicke:9", "n must be an integer in", id="dicke-range"),
        pytest.param("dicke:2.5", "n must be an integer in", id="dicke-fraction"),
        pytest.param("thermal:0", "T must be a finite real number > 0", id="thermal-zero"),
        pytest.param("thermal:x", "spec 'thermal:x'", id="thermal-text"),
        pytest.param("coherent:4", "theta must be in", id="theta-range"),
        pytest.param("coherent:1:2:3", "takes 1 to 2 number", id="coherent-args"),
        pytest.param("n=N", "must be one of", id="no-aliases"),
        pytest.param(3, "spec must be a string", id="not-a-string"),
    ],
)
def test_charger_state_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        ch.charger_state(MODEL, spec)


def test_other_errors():
    with pytest.raises(ValueError, match="T must be a finite real number > 0"):
        ch.thermal_charger(MODEL, -1.0)
    with pytest.raises(ValueError, match="objective must be one of"):
        chargers.best_dicke_charger(MODEL, objective="speed")
    with pytest.raises(ValueError, match="m must be an integer in"):
        chargers.best_dicke_charger(MODEL, m=3)
    with pytest.raises(ValueError, match="different model"):
        chargers.best_dicke_charger(MODEL, engine=SectorEngine(MODEL.replace(h=1.0)))
