"""Dicke (Ferraro) charger: the parity-sector engine against full-space qutip (sesolve/mesolve on
tensor(jmat, destroy) and on a qubit (x) Fock space), parity conservation, the photon-cutoff
check against a much larger cutoff, the rotating-wave limit (the Tavis-Cummings engine), and
the collective/parallel maxima."""

import math

import numpy as np
import pytest
import qutip
import scipy.linalg
from tolerances import ODE_OPTIONS

from qutip_centralspin.maxima.certified import certified_max_power
from qutip_centralspin.models import dicke as dc
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.solvers import dicke_engine
from qutip_centralspin.studies import dicke_advantage as dadv
from qutip_centralspin.studies.cavity_limit import cavity_max_power, tavis_cummings_scaling

ODE_ATOL = 1e-8  # sesolve atol 1e-14, rtol 1e-12, t <= 12, |E_B| <= 2, <= 150 levels
STATE_ATOL = 1e-7  # same ODE settings, 2-norm of the state difference
CUTOFF_ATOL = 1e-8  # converged cutoff (tol 1e-10) against sesolve at twice the cutoff
RWA_RTOL = 1e-5  # lambda = 0.002: counter-rotating corrections ~ lambda^2 (measured <= 3.5e-6)
CERTIFIED_RTOL = 1e-10
GRID_RTOL = 1e-6  # P_B sampled every 1e-3 near its flat maximum: error ~ step^2 |P''| / 8

TIMES = np.linspace(0.0, 12.0, 61)


def reference(model, cutoff, psi0, times, e_ops):
    """qutip.sesolve/mesolve on the full battery (x) Fock space, cut at ``cutoff`` photons."""
    h = dc.dicke_hamiltonian(model, cutoff)
    solve = qutip.sesolve if psi0.isket else qutip.mesolve
    return solve(h, psi0, times, e_ops=e_ops, options=dict(ODE_OPTIONS))


def number_operator(model, cutoff):
    return qutip.tensor(qutip.qeye(model.n_battery + 1), qutip.num(cutoff + 1))


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        pytest.param("n_battery", {"n_battery": 0}, id="n_battery-0"),
        pytest.param("n_battery", {"n_battery": 2.5}, id="n_battery-float"),
        pytest.param("omega_c", {"omega_c": 0.0}, id="omega_c-0"),
        pytest.param("omega_c", {"omega_c": -1.0}, id="omega_c-negative"),
        pytest.param("omega_a", {"omega_a": math.inf}, id="omega_a-inf"),
        pytest.param("coupling", {"coupling": math.nan}, id="coupling-nan"),
    ],
)
def test_model_rejects_bad_parameters(name, kwargs):
    args = {"n_battery": 2, "omega_c": 1.0, "omega_a": 1.0, "coupling": 0.1} | kwargs
    with pytest.raises(ValueError, match=name):
        dc.DickeChargerModel(**args)


@pytest.mark.parametrize("n_battery", [1, 2, 5])
def test_hamiltonian_commutes_with_parity(n_battery):
    """Pi = exp(i pi (a^dag a + J^z + N/2)) built by expm, independently of dicke_parity."""
    model = dc.DickeChargerModel(n_battery, 1.0, 0.7, 0.9)
    cutoff = 12
    j = n_battery / 2
    generator = qutip.tensor(qutip.qeye(n_battery + 1), qutip.num(cutoff + 1)) + qutip.tensor(
        qutip.jmat(j, "z") + j * qutip.qeye(n_battery + 1), qutip.qeye(cutoff + 1)
    )
    parity = qutip.Qobj(scipy.linalg.expm(1j * math.pi * generator.full()), dims=generator.dims)
    h = dc.dicke_hamiltonian(model, cutoff)
    assert np.abs((h * parity - parity * h).full()).max() < 1e-10
    assert np.abs((parity - dc.dicke_parity(model, cutoff)).full()).max() < 1e-10
    # and the coupling really breaks the excitation number (no U(1)): [H, a^dag a + J^z] != 0
    assert np.abs((h * generator - generator * h).full()).max() > 0.1


@pytest.mark.parametrize(
    ("n_battery", "omega_a", "coupling", "cutoff"),
    [
        pytest.param(1, 1.0, 0.3, 30, id="rabi"),
        pytest.param(2, 0.8, 0.5, 30, id="N2-detuned"),
        pytest.param(3, 1.0, 1.0, 30, id="N3-ultrastrong"),
        pytest.param(4, 1.3, 0.05, 20, id="N4-weak"),
    ],
)
def test_engine_matches_sesolve_on_the_same_truncation(n_battery, omega_a, coupling, cutoff):
    model = dc.DickeChargerModel(n_battery, 1.0, omega_a, coupling)
    times = TIMES + 1.5  # the time origin is tlist[0]
    n_op = number_operator(model, cutoff)
    res = dicke_engine.dicke_charge(model, times, cutoff=cutoff, e_ops={"n": n_op})
    psi0 = dc.dicke_fock_state(model, cutoff=cutoff)
    ref = reference(
        model, cutoff, psi0, times, [dc.dicke_battery_hamiltonian(model, cutoff), n_op]
    )
    np.testing.assert_allclose(res.delta_energy, ref.expect[0] - ref.expect[0][0], atol=ODE_ATOL)
    np.testing.assert_allclose(res.e_data["n"], ref.expect[1], atol=ODE_ATOL)
    assert res.stats["photon cutoff"] == cutoff
    assert res.solver == "dicke"


def test_states_reduced_state_and_ergotropy_match_sesolve():
    model = dc.DickeChargerModel(3, 1.0, 1.0, 0.4)
    cutoff = 30
    evo = dicke_engine.DickeEngine(model, cutoff).evolve()
    psi0 = dc.dicke_fock_state(model, cutoff=cutoff)
    h = dc.dicke_hamiltonian(model, cutoff)
    ref = qutip.sesolve(h, psi0, TIMES, options=dict(ODE_OPTIONS, store_states=True)).states
    mats = evo.reduced_battery_matrices(TIMES)
    levels = np.arange(model.n_battery + 1) - model.n_battery / 2  # ascending H_B / omega_a
    for state, ours, rho in zip(ref, evo.states(TIMES), mats, strict=True):
        assert (state - ours).norm() < STATE_ATOL
        rho_ref = state.ptrace(0).full()
        np.testing.assert_allclose(rho, rho_ref, atol=STATE_ATOL)
        # ergotropy by hand: E_B - sum(eigenvalues descending * levels ascending)
        energy = float(np.real(np.trace(rho_ref @ qutip.jmat(1.5, "z").full())))
        passive = float(np.sort(np.linalg.eigvalsh(rho_ref))[::-1] @ levels)
        from qutip_centralspin.observables.ergotropy import battery_ergotropy

        assert battery_ergotropy(model, qutip.Qobj(rho), battery="dicke") == pytest.approx(
            energy - passive, abs=1e-7
        )


@pytest.mark.parametrize("dm", [False, True], ids=["ket", "dm"])
def test_mixed_parity_states_match_full_space(dm):
    """Both parity sectors at once, with coherences between them: the parity expectation is
    conserved by the full-space evolution, and the engine reproduces its states."""
    model = dc.DickeChargerModel(2, 1.0, 0.9, 0.6)
    cutoff = 14  # the same truncation on both sides: no need to converge
    ket = (
        dc.dicke_fock_state(model, 2, cutoff=cutoff)
        + 0.6j * dc.dicke_fock_state(model, 1, m=1, cutoff=cutoff)
        + 0.8 * dc.dicke_fock_state(model, 2, m=1, cutoff=cutoff)
    ).unit()
    psi0 = (
        0.8 * ket.proj() + 0.2 * dc.dicke_fock_state(model, 0, cutoff=cutoff).proj() if dm else ket
    )
    parity = dc.dicke_parity(model, cutoff)
    times = TIMES[:31]  # t <= 6: mesolve is the slow part
    ref = reference(model, cutoff, psi0, times, None)
    mean_parity = [qutip.expect(parity, s) for s in ref.states]
    np.testing.assert_allclose(mean_parity, mean_parity[0], atol=STATE_ATOL)
    assert abs(mean_parity[0]) < 0.9  # really a mixture of both parities
    evo = dicke_engine.DickeEngine(model, cutoff).evolve(psi0)
    assert len(evo.occupied_sectors) == 2
    for state, ours in zip(ref.states, evo.states(times), strict=True):
        assert (state - ours).norm() < STATE_ATOL


@pytest.mark.parametrize(
    ("n_battery", "coupling"),
    [pytest.param(2, 0.3, id="N2"), pytest.param(3, 0.6, id="N3-ultrastrong")],
)
def test_converged_cutoff_agrees_with_a_much_larger_cutoff(n_battery, coupling):
    """The check's cutoff K against sesolve at 2K: the claim of the check, tested independently;
    and a too-small cutoff is visibly wrong (the comparison can fail)."""
    model = dc.DickeChargerModel(n_battery, 1.0, 1.0, coupling)
    check = dicke_engine.photon_cutoff(model, window=TIMES[-1])
    assert check.converged and check.top_population <= check.tolerance
    assert check.energy_change <= check.tolerance * model.n_battery
    assert check.previous < check.cutoff
    big = 2 * check.cutoff
    psi0 = dc.dicke_fock_state(model, cutoff=big)
    ref = reference(model, big, psi0, TIMES, [dc.dicke_battery_hamiltonian(model, big)])
    exact = ref.expect[0] - ref.expect[0][0]
    ours = dicke_engine.DickeEngine(model, check.cutoff).evolve().delta_energy(TIMES)
    np.testing.assert_allclose(ours, exact, atol=CUTOFF_ATOL)
    too_small = dicke_engine.DickeEngine(model, n_battery + 1).evolve().delta_energy(TIMES)
    assert np.max(np.abs(too_small - exact)) > 1e-4


def test_cutoff_check_reports_failure():
    model = dc.DickeChargerModel(3, 1.0, 1.0, 1.0)
    check = dicke_engine.photon_cutoff(model, max_cutoff=12)
    assert not check.converged
    assert "max_cutoff=12" in check.reason
    assert check.cutoff == 12 and check.top_population > check.tolerance


def test_photon_populations_match_qutip():
    model = dc.DickeChargerModel(2, 1.0, 1.0, 0.7)
    cutoff = 30
    evo = dicke_engine.DickeEngine(model, cutoff).evolve()
    pops = evo.photon_populations(TIMES)
    ref = reference(model, cutoff, dc.dicke_fock_state(model, cutoff=cutoff), TIMES, None)
    for state, row in zip(ref.states, pops, strict=True):
        np.testing.assert_allclose(row, state.ptrace(1).diag().real, atol=STATE_ATOL)
    np.testing.assert_allclose(evo.top_population(TIMES), pops[:, -2:].sum(axis=1), atol=1e-14)


def test_spectral_error_bound_holds():
    """Dropping eigen-components of weight up to 1e-6 changes Delta E_B by at most the bound."""
    model = dc.DickeChargerModel(3, 1.0, 1.0, 0.6)
    engine = dicke_engine.DickeEngine(model, 40)
    full = engine.evolve(dropped_weight=0.0)
    cut = engine.evolve(dropped_weight=1e-6)
    assert full.dropped_weight == 0.0 and full.spectral_error_bound == 0.0
    assert 0 < cut.dropped_weight <= 1e-6
    assert cut.kept_components < full.kept_components
    diff = np.max(np.abs(full.delta_energy(TIMES) - cut.delta_energy(TIMES)))
    assert 0 < diff <= cut.spectral_error_bound


def test_rotating_wave_limit_is_the_tavis_cummings_charger():
    """lambda -> 0 at resonance: 2 w_c lam J^x (a + a^dag) -> w_c lam (J^+ a + J^- a^dag), the
    Tavis-Cummings engine of qutip_centralspin.models.cavity (g = w_c lam, exact there)."""
    for n in (1, 2, 4):
        model = dc.DickeChargerModel(n, 1.0, 1.0, 0.002)
        evo = dicke_engine.DickeEngine(model, dicke_engine.photon_cutoff(model).cutoff).evolve()
        tc = cavity_max_power(CavityModel(n, omega=1.0, g=0.002, B=1.0), (0, n)).value
        assert certified_max_power(evo).value == pytest.approx(tc, rel=RWA_RTOL)
    # the counter-rotating terms are seen at lambda = 0.05 (Bloch-Siegert: ~ lambda^2)
    model = dc.DickeChargerModel(1, 1.0, 1.0, 0.05)
    evo = dicke_engine.DickeEngine(model, dicke_engine.photon_cutoff(model).cutoff).evolve((0, 1))
    tc = cavity_max_power(CavityModel(1, omega=1.0, g=0.05, B=1.0), (0, 1)).value
    assert abs(certified_max_power(evo).value / tc - 1) > 1e-3


def test_single_cell_pmax_against_a_qubit_fock_sesolve():
    """One spin, one photon, sigma^x instead of 2 J^x: a dense sesolve grid near tau brackets
    the certified P_max (the grid cannot exceed the certified upper bound)."""
    model = dc.DickeChargerModel(1, 1.0, 1.2, 0.3)
    best = dadv.dicke_maxima(model, (0, 1), ergotropy=False)
    assert best.converged
    cutoff = best.cutoff.cutoff
    a = qutip.tensor(qutip.qeye(2), qutip.destroy(cutoff + 1))
    sx = qutip.tensor(qutip.sigmax(), qutip.qeye(cutoff + 1))
    sz = qutip.tensor(qutip.sigmaz(), qutip.qeye(cutoff + 1))
    h = a.dag() * a + 1.2 * sz / 2 + 0.3 * sx * (a + a.dag())
    psi0 = qutip.tensor(qutip.basis(2, 1), qutip.basis(cutoff + 1, 1))  # spin down, one photon
    tau = best.p_max.time
    times = np.concatenate([[0.0], np.linspace(tau - 0.05, tau + 0.05, 101)])
    ref = qutip.sesolve(h, psi0, times, e_ops=[1.2 * sz / 2], options=dict(ODE_OPTIONS))
    power = (ref.expect[0][1:] - ref.expect[0][0]) / times[1:]
    assert power.max() <= best.p_max.upper_bound + ODE_ATOL
    assert power.max() == pytest.approx(best.p_max.value, rel=GRID_RTOL)
    assert best.p_change <= 1e-9 and best.e_change <= 1e-9


def test_parallel_charger_is_n_single_cells():
    res = dadv.dicke_advantage([1, 3], coupling=0.1)
    single = dadv.dicke_maxima(dc.DickeChargerModel(1, 1.0, 1.0, 0.1), (0, 1), ergotropy=False)
    assert res.advantage[0] == 1.0  # N = 1: the collective charger is the single cell
    np.testing.assert_allclose(res.p_parallel, [single.p_max.value, 3 * single.p_max.value])
    np.testing.assert_allclose(res.e_parallel, [single.e_max.value, 3 * single.e_max.value])
    assert res.advantage[1] > 1.0  # the collective charger is faster
    assert all(c.converged for c in res.collective)


def test_maxima_with_ergotropy():
    best = dadv.dicke_maxima(dc.DickeChargerModel(2, 1.0, 1.0, 0.2))
    assert best.converged
    assert 0 < best.w_max.value <= best.e_max.upper_bound
    assert best.w_change < 1e-8
    assert best.p_max.time <= best.cutoff.window  # the check covers tau


@pytest.mark.parametrize(
    ("state", "error", "match"),
    [
        pytest.param((0, 99), ValueError, "k must be", id="photons-above-cutoff"),
        pytest.param((5, 0), ValueError, "m must be", id="m-too-large"),
        pytest.param((0, 1, 2), ValueError, "Fock label", id="bad-tuple"),
        pytest.param("fock", TypeError, "state must be", id="bad-type"),
    ],
)
def test_bad_states_are_rejected(state, error, match):
    engine = dicke_engine.DickeEngine(dc.DickeChargerModel(2, 1.0, 1.0, 0.1), 10)
    with pytest.raises(error, match=match):
        engine.evolve(state)


def test_state_with_too_many_levels_is_rejected():
    model = dc.DickeChargerModel(2, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="raise cutoff"):
        dicke_engine.DickeEngine(model, 5).evolve(dc.dicke_fock_state(model, 2, cutoff=9))


@pytest.mark.slow
def test_advantage_grows_like_sqrt_n_at_weak_coupling():
    """Ferraro et al.: Gamma ~ sqrt(N) for N >> 1. At lambda = 0.05 and N = 8..16 (below the
    Dicke critical coupling lambda sqrt(N) = 1/2) the fitted exponent is 0.499, as for the
    rotating-wave charger (the Tavis-Cummings engine, an independent route, fitted here)."""
    sizes = range(1, 17)
    res = dadv.dicke_advantage(sizes, coupling=0.05)
    assert np.all(np.diff(res.advantage) > 0)
    assert all(c.converged for c in res.collective)
    alpha = res.exponent((8, 16)).alpha
    tc = tavis_cummings_scaling(sizes, g=0.05)
    alpha_tc = tc.exponent((8, 16))[0] - 1  # its exponent is that of P_collective
    assert alpha == pytest.approx(0.5, abs=0.01)
    assert alpha == pytest.approx(alpha_tc, abs=0.01)


def test_qobj_state_and_automatic_cutoff():
    """A Qobj initial state on a small photon space: padded to the chosen cutoff."""
    model = dc.DickeChargerModel(2, 1.0, 1.0, 0.2)
    times = np.linspace(0.0, 8.0, 81)
    from_qobj = dicke_engine.dicke_charge(model, times, state=dc.dicke_fock_state(model, cutoff=5))
    from_label = dicke_engine.dicke_charge(model, times, state=(0, 2))
    assert from_qobj.stats["cutoff converged"] and from_label.stats["cutoff converged"]
    assert from_qobj.stats["photon cutoff"] >= 5
    np.testing.assert_allclose(from_qobj.delta_energy, from_label.delta_energy, atol=1e-9)


@pytest.mark.parametrize("n_battery", [1, 2, 4])
def test_dicke_scaling_divides_the_coupling_by_sqrt_n(n_battery):
    """scaling="dicke": H built by hand here with lambda / sqrt(N_B) (jmat, destroy), against
    the model's reference Hamiltonian and the parity-sector engine's Delta E_B (sesolve)."""
    omega_c, omega_a, lam, cutoff = 1.0, 0.9, 0.4, 40
    model = dc.DickeChargerModel(n_battery, omega_c, omega_a, lam, scaling="dicke")
    j = n_battery / 2
    a = qutip.destroy(cutoff + 1)
    ib, ic = qutip.qeye(n_battery + 1), qutip.qeye(cutoff + 1)
    by_hand = (
        omega_c * qutip.tensor(ib, a.dag() * a)
        + omega_a * qutip.tensor(qutip.jmat(j, "z"), ic)
        + 2 * omega_c * lam / math.sqrt(n_battery) * qutip.tensor(qutip.jmat(j, "x"), a + a.dag())
    )
    assert model.effective_coupling == pytest.approx(lam / math.sqrt(n_battery), rel=1e-15)
    assert (dc.dicke_hamiltonian(model, cutoff) - by_hand).norm() < 1e-12
    psi0 = dc.dicke_fock_state(model, cutoff=cutoff)
    hb = omega_a * qutip.tensor(qutip.jmat(j, "z"), ic)
    ref = qutip.sesolve(by_hand, psi0, TIMES, e_ops=[hb], options=dict(ODE_OPTIONS)).expect[0]
    ours = dicke_engine.DickeEngine(model, cutoff).evolve().delta_energy(TIMES)
    np.testing.assert_allclose(ours, ref - ref[0], atol=ODE_ATOL)
    fixed = model.replace(scaling="fixed")
    assert fixed.effective_coupling == lam
    if n_battery > 1:  # a different Hamiltonian, so a different charge
        other = dicke_engine.DickeEngine(fixed, cutoff).evolve().delta_energy(TIMES)
        assert np.abs(other - ours).max() > 1e-2


def test_dicke_scaling_is_validated_and_frozen():
    with pytest.raises(ValueError, match=r"scaling must be one of \('fixed', 'dicke'\), got 'hp'"):
        dc.DickeChargerModel(2, 1.0, 1.0, 0.1, scaling="hp")
    model = dc.DickeChargerModel(2, 1.0, 1.0, 0.1)
    assert model.scaling == "fixed"
    with pytest.raises(AttributeError):
        model.scaling = "dicke"


def test_dicke_advantage_states_its_reference():
    res = dadv.dicke_advantage([1, 2], coupling=0.3)
    assert res.reference == "pairs" and "Rabi cells of 1 spin and 1 photon" in res.definition
    assert "definition=" in repr(res)
    # the Rabi cell: one spin, one photon, certified directly
    cell = dc.DickeChargerModel(1, 1.0, 1.0, 0.3)
    direct = certified_max_power(dicke_engine.DickeEngine(cell, 40).evolve((0, 1))).value
    assert res.single.p_max.value == pytest.approx(direct, rel=1e-9)
    with pytest.raises(ValueError, match=r"reference must be one of \('pairs',\), got 'cells'"):
        dadv.dicke_advantage([1], coupling=0.3, reference="cells")
