"""The battery cycle (charge, store, extract) against closed forms and independent routes."""

import math

import numpy as np
import pytest
import qutip
from tolerances import ODE_OPTIONS

from qutip_centralspin import CentralSpinModel, decay, dephasing, dicke_state, hamiltonian
from qutip_centralspin.models.operators import collective_operators
from qutip_centralspin.models.protocols import step
from qutip_centralspin.observables.ergotropy import battery_ergotropy, battery_state
from qutip_centralspin.studies.cycle import battery_cycle, ergotropic_unitary, extract_into_load


def test_closed_battery_keeps_what_it_stored():
    model = CentralSpinModel(3, 5, B=1.2, h=0.8, A=0.9, delta=0.3)
    psi0 = (dicke_state(model, 0, 5) + 0.5 * dicke_state(model, 1, 3)).unit()
    cyc = battery_cycle(model, psi0, tau=0.45, storage_time=4.0, points=81)
    assert cyc.charged_energy > 0.1 and cyc.charged_ergotropy > 0.05
    np.testing.assert_allclose(cyc.stored_energy_curve, cyc.charged_energy, atol=1e-12)
    np.testing.assert_allclose(cyc.stored_ergotropy_curve, cyc.charged_ergotropy, atol=1e-10)
    assert cyc.energy_half_life is None and cyc.ergotropy_half_life is None
    assert cyc.storage_times[0] == 0.0 and cyc.storage_times[-1] == pytest.approx(4.0)


def test_drawn_energy_matches_a_full_space_qobjevo_run():
    """E_C(0) - E_C(tau) from sesolve on H_0 + lambda(t) H_I with e_op h J^z."""
    model = CentralSpinModel(2, 4, B=1.3, h=0.7, A=0.8, delta=0.4)
    psi0 = dicke_state(model, 0, 4)
    tau = 0.6
    cyc = battery_cycle(model, psi0, tau=tau, storage_time=1.0, points=11)
    H = hamiltonian(model)
    H0 = hamiltonian(model.replace(A=0.0, delta=0.0))
    Hc = model.h * collective_operators(model).Jz
    res = qutip.sesolve(
        qutip.QobjEvo([H0, [H - H0, lambda t: float(step(tau)(t))]]),
        psi0,
        [0.0, tau],
        e_ops=[Hc],
        options=ODE_OPTIONS,
    )
    drawn = res.expect[0][0] - res.expect[0][1]
    assert cyc.drawn_energy == pytest.approx(drawn, abs=1e-7)
    # off resonance part of it sits in the interaction energy, not in the battery
    assert abs(cyc.drawn_energy - cyc.charged_energy) > 1e-3
    assert cyc.efficiency == pytest.approx(cyc.stored_ergotropy / cyc.drawn_energy)


def test_local_decay_storage_follows_the_closed_form():
    """With the coupling off, local decay empties every up spin at rate gamma:
    E_B(tau + s) + B N_B/2 = (E_B(tau) + B N_B/2) exp(-gamma s); from an empty battery the
    energy half-life is ln 2 / gamma."""
    gamma = 0.3
    model = CentralSpinModel(3, 4)
    cyc = battery_cycle(
        model, dicke_state(model, 0, 4), tau=0.4, storage_time=5.0, processes=decay(gamma)
    )
    s = cyc.storage_times
    expected = cyc.charged_energy * np.exp(-gamma * s)  # Delta E_B from the empty battery
    np.testing.assert_allclose(cyc.stored_energy_curve, expected, atol=1e-9)
    step_size = s[1] - s[0]
    assert abs(cyc.energy_half_life - math.log(2) / gamma) < step_size
    assert cyc.ergotropy_half_life < cyc.energy_half_life  # coherence is lost faster


def test_ergotropic_unitary_reaches_the_passive_state():
    model = CentralSpinModel(3, 4, B=0.9, h=1.1, A=0.7)
    psi0 = (dicke_state(model, 1, 4) + 0.4j * dicke_state(model, 2, 2)).unit()
    cyc_dicke = battery_cycle(model, psi0, tau=0.7, storage_time=0.0, points=5, battery="dicke")
    state = qutip.sesolve(hamiltonian(model), psi0, [0.0, 0.7], options=ODE_OPTIONS).states[-1]
    rho_b = battery_state(model, state)
    U = ergotropic_unitary(model, state)
    np.testing.assert_allclose((U * U.dag()).full(), np.eye(4), atol=1e-12)
    Hb = model.B * qutip.jmat(1.5, "z")
    passive = U * rho_b * U.dag()
    work = qutip.expect(Hb, rho_b) - qutip.expect(Hb, passive)
    # the collective (N_B + 1 level) ergotropy: the unitary stays in the symmetric subspace
    assert work == pytest.approx(battery_ergotropy(model, state, battery="dicke"), abs=1e-12)
    assert work == pytest.approx(cyc_dicke.stored_ergotropy, abs=1e-8)
    pops = np.real(np.diag(passive.full()))  # jmat order: index 0 is the top level (B > 0)
    np.testing.assert_allclose(passive.full(), np.diag(pops), atol=1e-12)
    assert np.all(np.diff(pops) >= -1e-12)  # populations grow towards the ground level


def test_extraction_into_an_empty_load():
    model = CentralSpinModel(2, 6)
    cyc = battery_cycle(
        model,
        dicke_state(model, 0, 6),
        tau=0.3,
        storage_time=1.0,
        processes=dephasing(0.05, scope="collective"),
        load_time=3.0,
    )
    load = cyc.load
    assert 0 < load.work <= cyc.stored_energy + 1e-9  # cannot give more than it holds
    assert abs(load.result.delta_energy[0]) < 1e-12
    # one full spin and an empty charger at resonance: a two-level swap |1, 0> <-> |0, 1>
    # at frequency 2 A sqrt(N): all of B is delivered at t = pi / (2 sqrt(N))
    single = CentralSpinModel(1, 6)
    out = extract_into_load(single, dicke_state(single, 1, 0), 1.0, points=2001)
    assert out.work == pytest.approx(1.0, abs=1e-5)
    assert out.time == pytest.approx(math.pi / (2 * math.sqrt(6)), abs=1e-3)


def test_extraction_refuses_a_battery_outside_the_symmetric_levels():
    model = CentralSpinModel(2, 3)
    with pytest.raises(ValueError, match="symmetric levels"):
        battery_cycle(
            model,
            dicke_state(model, 0, 3),
            tau=0.5,
            storage_time=1.0,
            processes=dephasing(0.5),
            load_time=1.0,
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tau": 0.0, "storage_time": 1.0}, "tau"),
        ({"tau": 1.0, "storage_time": -1.0}, "storage_time"),
        ({"tau": 1.0, "storage_time": 1.0, "points": 2}, "points"),
    ],
)
def test_bad_input_is_refused(kwargs, match):
    model = CentralSpinModel(1, 2)
    with pytest.raises(ValueError, match=match):
        battery_cycle(model, dicke_state(model, 0, 2), **kwargs)


def test_best_switch_off_time():
    """Closed: storage keeps W, so tau* is where W(t) peaks (max_ergotropy, another route);
    with decay the stored ergotropy is smaller."""
    from qutip_centralspin.maxima.ergotropy import certified_max_ergotropy
    from qutip_centralspin.solvers import SectorEngine
    from qutip_centralspin.studies.cycle import best_switch_off

    model = CentralSpinModel(2, 6)
    psi0 = dicke_state(model, 0, 6)
    peak = certified_max_ergotropy(SectorEngine(model).evolve(psi0), window=1.5)
    closed = best_switch_off(model, psi0, 2.0, 1.5)
    assert closed.ergotropy == pytest.approx(peak.value, abs=1e-8)
    assert closed.tau == pytest.approx(peak.time, abs=1e-4)
    lossy = best_switch_off(model, psi0, 2.0, 1.5, processes=decay(0.2), points=21)
    assert 0 < lossy.ergotropy < closed.ergotropy
    assert lossy.ergotropy >= lossy.ergotropies.max()
