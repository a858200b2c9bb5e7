"""Charging protocols lambda(t): the exact switched engine against independent routes.

* full-space matrix exponentials of H_0 + lambda_i H_I, segment by segment (exact, no sectors);
* ``qutip.sesolve`` / ``mesolve`` on the ``QobjEvo`` H_0 + lambda(t) H_I;
* conservation: with the coupling off the battery keeps its energy and its ergotropy.
"""

import numpy as np
import pytest
import qutip
from tolerances import ODE_OPTIONS

from qutip_centralspin import (
    CentralSpinModel,
    charge,
    decay,
    dephasing,
    dicke_state,
    hamiltonian,
)
from qutip_centralspin.models.protocols import PiecewiseConstant, coupling_value, linear_ramp, step
from qutip_centralspin.observables.ergotropy import Ergotropy

#: Exact engine against products of full-space expm: both exact to rounding.
EXACT_ATOL = 1e-10
#: Against the adaptive ODE across the switches of lambda (it steps over the jumps).
ODE_ATOL = 1e-6


def _expm_reference(model, rho0, times, protocol):
    """Delta E_B(t) by full-space expm per constant segment (independent of the sectors)."""
    H0 = hamiltonian(model.replace(A=0.0, delta=0.0))
    HI = hamiltonian(model) - H0
    Hb = model.B * qutip.tensor(
        qutip.jmat(model.n_battery / 2, "z"), qutip.qeye(model.n_charger + 1)
    )
    rho = rho0 if rho0.isoper else rho0.proj()
    out, t_now = [], times[0]
    for t in times:
        for a, b, lam in protocol.segments(t_now, t):
            U = (-1j * (H0 + lam * HI) * (b - a)).expm()
            rho = U * rho * U.dag()
        t_now = t
        out.append(qutip.expect(Hb, rho))
    out = np.asarray(out)
    return out - out[0]


def _states(model):
    sup = (dicke_state(model, 1, 3) + 0.6j * dicke_state(model, 0, 2)).unit()
    mix = 0.7 * dicke_state(model, 2, 1).proj() + 0.3 * sup.proj()
    return {"superposition m0>0": sup, "mixture": mix}


PROTOCOLS = {
    "step": step(0.9),
    "sequence": PiecewiseConstant((0.0, 0.6, 1.1, 1.7), (1.0, 0.0, -0.7, 0.4)),
    "starts late": PiecewiseConstant((0.5, 1.3), (1.0, 0.0)),
}


@pytest.mark.parametrize("name", list(PROTOCOLS))
@pytest.mark.parametrize("state", ["superposition m0>0", "mixture"])
def test_exact_switched_engine_matches_full_space_exponentials(name, state):
    model = CentralSpinModel(3, 4, B=1.1, h=0.9, A=0.8, delta=0.3)
    psi0 = _states(model)[state]
    times = np.linspace(0.25, 2.5, 10)  # does not start at 0
    res = charge(model, psi0, times, coupling=PROTOCOLS[name])
    assert res.solver == "exact"
    ref = _expm_reference(model, psi0, times, PROTOCOLS[name])
    np.testing.assert_allclose(res.delta_energy, ref, atol=EXACT_ATOL)


@pytest.mark.parametrize("solver", ["sesolve", "mesolve"])
def test_qobjevo_paths_agree_with_the_exact_engine(solver):
    model = CentralSpinModel(2, 5, B=1.0, h=1.0, A=1.0)
    psi0 = dicke_state(model, 0, 5)
    times = np.linspace(0.0, 2.0, 21)
    protocol = PROTOCOLS["sequence"]
    exact = charge(model, psi0, times, coupling=protocol)
    ode = charge(model, psi0, times, coupling=protocol, solver=solver, options=ODE_OPTIONS)
    np.testing.assert_allclose(ode.delta_energy, exact.delta_energy, atol=ODE_ATOL)
    # lambda as an array on tlist (QuTiP interpolates it) and as a function
    smooth = 0.5 * (1 + np.tanh(3 * (times - 0.8)))
    by_array = charge(model, psi0, times, coupling=smooth, options=ODE_OPTIONS)
    by_function = charge(
        model,
        psi0,
        times,
        coupling=lambda t: 0.5 * (1 + np.tanh(3 * (t - 0.8))),
        options=ODE_OPTIONS,
    )
    assert by_array.solver == by_function.solver == "sesolve"
    np.testing.assert_allclose(by_array.delta_energy, by_function.delta_energy, atol=1e-3)


def test_switched_off_battery_keeps_energy_and_ergotropy():
    """With lambda = 0, H = H_B + H_C commutes with H_B and rho_B only rotates."""
    model = CentralSpinModel(3, 6, B=1.3, h=0.7, A=0.9, delta=0.4)
    psi0 = (dicke_state(model, 0, 6) + dicke_state(model, 1, 4)).unit()
    tau = 0.55
    times = np.linspace(tau, tau + 3.0, 13)
    res = charge(model, psi0, np.concatenate([[0.0], times]), coupling=step(tau))
    stored = res.delta_energy[1:]
    assert abs(stored[0]) > 0.1  # it was charged
    np.testing.assert_allclose(stored, stored[0], atol=1e-12)
    after = charge(
        model,
        psi0,
        np.concatenate([[0.0], times]),
        coupling=step(tau),
        e_ops={"W": Ergotropy(model)},
    )
    w = np.asarray(after.e_data["W"])[1:]
    assert w[0] > 0.05
    np.testing.assert_allclose(w, w[0], atol=1e-10)


def test_step_equals_constant_coupling_until_the_switch():
    model = CentralSpinModel(4, 8)
    psi0 = dicke_state(model, 0, 8)
    times = np.linspace(0, 0.7, 8)
    a = charge(model, psi0, times, coupling=step(0.7))
    b = charge(model, psi0, times)
    np.testing.assert_allclose(a.delta_energy, b.delta_energy, atol=1e-12)
    np.testing.assert_allclose(a.power, b.power, atol=1e-12)


def test_mesolve_with_c_ops_and_a_protocol():
    model = CentralSpinModel(2, 3, B=1.0, h=0.8, A=0.7)
    psi0 = dicke_state(model, 0, 3)
    times = np.linspace(0, 1.5, 7)
    sm = qutip.tensor(qutip.jmat(1.0, "-"), qutip.qeye(4))
    res = charge(model, psi0, times, coupling=step(1.0), c_ops=[0.3 * sm], options=ODE_OPTIONS)
    assert res.solver == "mesolve"
    closed = charge(model, psi0, times, coupling=step(1.0))
    assert np.abs(res.delta_energy - closed.delta_energy).max() > 1e-3  # the loss matters


def test_protocol_values_and_ramp():
    lam = PiecewiseConstant((1.0, 2.0), (0.5, -1.0))
    assert [float(lam(t)) for t in (0.9, 1.0, 1.99, 2.0, 9.0)] == [0.0, 0.5, 0.5, -1.0, -1.0]
    assert lam.segments(0.0, 2.5) == [(0.0, 1.0, 0.0), (1.0, 2.0, 0.5), (2.0, 2.5, -1.0)]
    ramp = linear_ramp(0.5, start=1.0, off=3.0)
    assert [ramp(t) for t in (0.5, 1.25, 2.0, 3.25, 4.0)] == [0.0, 0.5, 1.0, 0.5, 0.0]
    assert coupling_value(np.array([0.0, 1.0]), 0.5, np.array([0.0, 1.0])) == 0.5


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: PiecewiseConstant((0.0, 0.0), (1.0, 0.0)), "strictly increasing"),
        (lambda: PiecewiseConstant((0.0,), (1.0, 0.0)), "equal length"),
        (lambda: PiecewiseConstant((0.0, np.inf), (1.0, 0.0)), "finite"),
        (lambda: step(-1.0), "tau"),
        (lambda: linear_ramp(0.5, start=0.0, off=0.2), "off"),
    ],
)
def test_bad_protocols_are_refused(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_combinations_are_refused():
    model = CentralSpinModel(2, 2)
    psi0 = dicke_state(model, 0, 2)
    with pytest.raises(ValueError, match="solver must be"):
        charge(model, psi0, [0, 1], coupling=step(0.5), processes=decay(0.1), solver="piqs")
    with pytest.raises(TypeError, match="PiecewiseConstant"):
        charge(model, psi0, [0, 1], coupling=lambda t: 1.0, processes=decay(0.1))
    with pytest.raises(ValueError, match="solver must be"):
        charge(model, psi0, [0, 1], coupling=step(0.5), solver="blocks")
    with pytest.raises(ValueError, match="one value per time"):
        charge(model, psi0, [0, 0.5, 1], coupling=np.array([1.0, 0.0]))
    with pytest.raises(TypeError, match="PiecewiseConstant"):
        charge(model, psi0, [0, 1], coupling=lambda t: 1.0, solver="exact")


OPEN_CASES = [
    pytest.param([decay(0.3)], (0, 3), id="local-decay"),
    pytest.param([dephasing(0.2), decay(0.1, target="charger")], (1, 2), id="deph+charger-decay"),
]


@pytest.mark.parametrize("procs, start", OPEN_CASES)
def test_open_block_solver_with_a_protocol_matches_bruteforce(procs, start):
    """The block solver, one generator per constant segment, against qubit-level mesolve on
    the QobjEvo Liouvillian; the charge stops at the switch and the battery then only
    decays or dephases."""
    model = CentralSpinModel(3, 3, B=1.0, h=0.8, A=0.9, delta=0.2)
    psi0 = dicke_state(model, *start)
    times = np.linspace(0.2, 2.2, 11)
    protocol = PiecewiseConstant((0.0, 0.8, 1.4), (1.0, 0.0, 0.5))
    res = charge(model, psi0, times, processes=procs, coupling=protocol)
    assert res.solver == "blocks"
    ref = charge(
        model,
        psi0,
        times,
        processes=procs,
        coupling=protocol,
        solver="bruteforce",
        options=ODE_OPTIONS,
    )
    np.testing.assert_allclose(res.delta_energy, ref.delta_energy, atol=1e-7)
    np.testing.assert_allclose(res.power[0], ref.power[0], atol=1e-7)


def test_open_cavity_charger_with_a_step():
    from qutip_centralspin.models.cavity import CavityModel
    from qutip_centralspin.solvers.cavity_blocks import cavity_loss, charge_cavity

    model = CavityModel(2, omega=1.0, g=0.6, B=1.0)
    times = np.linspace(0.0, 3.0, 13)
    res = charge_cavity(model, (0, 2), times, [cavity_loss(0.2)], coupling=step(1.0))
    after = res.delta_energy[times >= 1.0]
    np.testing.assert_allclose(after, after[0], atol=1e-11)  # no battery process: stored
    full = charge_cavity(model, (0, 2), times, [cavity_loss(0.2)])
    np.testing.assert_allclose(
        res.delta_energy[times <= 1.0], full.delta_energy[times <= 1.0], atol=1e-11
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="exact"),
        pytest.param({"solver": "sesolve", "options": ODE_OPTIONS}, id="sesolve"),
        pytest.param({"processes": decay(0.0)}, id="blocks"),
    ],
)
def test_coupling_is_read_at_absolute_times_on_every_path(kwargs):
    """psi0 is at tlist[0] = 5; step(1.0) is off then, step(1.0, start=5) is on until 6."""
    model = CentralSpinModel(2, 3, B=1.0, h=0.9, A=0.8)
    psi0 = dicke_state(model, 0, 3)
    times = np.linspace(5.0, 6.5, 7)
    off = charge(model, psi0, times, coupling=step(1.0), **kwargs)
    np.testing.assert_allclose(off.delta_energy, 0.0, atol=1e-10)
    late = charge(model, psi0, times, coupling=step(1.0, start=5.0), **kwargs)
    always = charge(model, psi0, times - 5.0)
    on = times <= 6.0
    np.testing.assert_allclose(late.delta_energy[on], always.delta_energy[on], atol=1e-7)
    np.testing.assert_allclose(late.delta_energy[~on], late.delta_energy[on][-1], atol=1e-7)
