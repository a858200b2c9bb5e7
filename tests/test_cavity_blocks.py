"""The open cavity charger (block solver) against brute force on qubits (x) Fock space.

Brute force: one qubit per battery spin and a Fock space large enough to be exact,
H = B sum_i s^z_i + omega a^dag a + g sum_i (s^+_i a + s^-_i a^dag), one Lindblad operator per
qubit for the local processes, ``qutip.mesolve`` at tight tolerances.
"""

import numpy as np
import pytest
import qutip
from tolerances import ODE_OPTIONS

from qutip_centralspin import decay, dephasing, pumping
from qutip_centralspin.models.cavity import CavityModel, cavity_fock_state, cavity_thermal_state
from qutip_centralspin.solvers.cavity_blocks import (
    CavityBlockSolver,
    cavity_loss,
    charge_cavity,
)
from qutip_centralspin.solvers.cavity_engine import CavityEngine

#: Both exact; the reference ODE (atol 1e-12, rtol 1e-10) over t <= 2 adds ~1e-10.
BRUTEFORCE_ATOL = 1e-7


def _qubits(nb: int):
    def one(op, i):
        ops = [qutip.qeye(2)] * nb
        ops[i] = op
        return qutip.tensor(ops)

    # qutip.basis(2, 0) is spin up (s^z = +1/2), as in qutip.jmat(1/2)
    sz = [one(qutip.jmat(0.5, "z"), i) for i in range(nb)]
    sm = [one(qutip.jmat(0.5, "-"), i) for i in range(nb)]
    return sz, sm


def _symmetric(nb: int, k: int) -> qutip.Qobj:
    """Symmetric Dicke state of nb qubits with k up spins."""
    _, sm = _qubits(nb)
    up = qutip.tensor([qutip.basis(2, 0)] * nb)
    psi = up
    lower = sum(sm)
    for _ in range(nb - k):
        psi = lower * psi
    return psi.unit()


def _bruteforce(model, processes, battery_k, photons, times, levels):
    """Delta E_B(t) on qubits (x) Fock; ``photons`` a list of (probability, k) Fock states."""
    nb = model.n_battery
    sz, sm = _qubits(nb)
    iq, ic = qutip.qeye([2] * nb), qutip.qeye(levels)
    a = qutip.tensor(iq, qutip.destroy(levels))
    Sz = qutip.tensor(sum(sz), ic)
    Sm = [qutip.tensor(s, ic) for s in sm]
    H = (
        model.B * Sz
        + model.omega * a.dag() * a
        + model.g * sum(s.dag() * a + s * a.dag() for s in Sm)
    )
    c_ops = []
    for p in processes:
        if p.target == "charger":
            c_ops.append(np.sqrt(p.rate) * (a if p.kind == "decay" else a.dag() * a))
            continue
        single = {"decay": Sm, "pumping": [s.dag() for s in Sm]}.get(p.kind)
        if p.kind == "dephasing":
            single = [2 * qutip.tensor(s, ic) for s in sz]
        if p.scope == "local":
            c_ops += [np.sqrt(p.rate) * op for op in single]
        else:
            c_ops.append(np.sqrt(p.rate) * sum(single) * (0.5 if p.kind == "dephasing" else 1))
    battery = _symmetric(nb, battery_k).proj()
    rho0 = sum(w * qutip.tensor(battery, qutip.fock_dm(levels, k)) for w, k in photons)
    res = qutip.mesolve(H, rho0, times, c_ops, e_ops=[model.B * Sz], options=ODE_OPTIONS)
    e = np.asarray(res.expect[0])
    return e - e[0]


CASES = [
    pytest.param(
        CavityModel(3, omega=1.0, g=0.7, B=1.0),
        [cavity_loss(0.3), decay(0.2), dephasing(0.1)],
        0,
        3,
        id="resonant-pibs-model",
    ),
    pytest.param(
        CavityModel(3, omega=0.8, g=0.6, B=1.1),
        [cavity_loss(0.2), decay(0.15), dephasing(0.1, scope="collective")],
        1,
        2,
        id="detuned-m0>0",
    ),
    pytest.param(
        CavityModel(2, omega=1.3, g=-0.5, B=0.9),
        [cavity_loss(0.1), pumping(0.2), dephasing(0.05, target="charger", scope="collective")],
        0,
        2,
        id="battery-pumping+cavity-dephasing",
    ),
    pytest.param(
        CavityModel(3, omega=1.0, g=0.4, B=1.0),
        [cavity_loss(0.25), decay(0.3, scope="collective")],
        2,
        1,
        id="collective-decay",
    ),
]


@pytest.mark.parametrize("model, processes, m0, k0", CASES)
def test_matches_bruteforce_on_qubits_and_fock_space(model, processes, m0, k0):
    times = np.linspace(0.4, 2.4, 11)  # tlist does not start at 0
    res = charge_cavity(model, cavity_fock_state(model, k0, m=m0), times, processes)
    pumped = any(p.kind == "pumping" for p in processes)
    levels = m0 + k0 + (model.n_battery if pumped else 0) + 1
    ref = _bruteforce(model, processes, m0, [(1.0, k0)], times, levels)
    np.testing.assert_allclose(res.delta_energy, ref, atol=BRUTEFORCE_ATOL)
    assert res.stats["photon levels"] == levels
    assert res.times[0] == times[0] and res.delta_energy[0] == 0.0


def test_mixture_of_fock_states_matches_bruteforce():
    model = CavityModel(2, omega=1.0, g=0.8, B=0.7)
    processes = [cavity_loss(0.2), decay(0.1), dephasing(0.2)]
    photons = [(0.5, 0), (0.3, 1), (0.2, 3)]
    empty = qutip.basis(model.n_battery + 1, model.n_battery)  # m = 0 (jmat order)
    rho = sum(w * qutip.tensor(empty.proj(), qutip.fock_dm(4, k)) for w, k in photons)
    times = np.linspace(0, 2, 9)
    res = charge_cavity(model, rho, times, processes)
    ref = _bruteforce(model, processes, 0, photons, times, 4)
    np.testing.assert_allclose(res.delta_energy, ref, atol=BRUTEFORCE_ATOL)


def test_zero_rates_reproduce_the_closed_cavity_engine():
    model = CavityModel(4, omega=0.9, g=0.6, B=1.2)
    times = np.linspace(0.0, 3.0, 13)
    res = charge_cavity(model, (1, 4), times, [cavity_loss(0.0), decay(0.0)])
    closed = CavityEngine(model).evolve((1, 4)).delta_energy(times)
    np.testing.assert_allclose(res.delta_energy, closed, atol=1e-10)


def test_thermal_cavity_carries_its_neglected_weight():
    model = CavityModel(2, omega=1.0, g=0.5, B=1.0)
    state = cavity_thermal_state(model, 0.7, tol=1e-6)
    res = CavityBlockSolver(model, cavity_loss(0.2)).solve(state, np.linspace(0, 1, 5))
    assert 0 < res.stats["neglected weight"] <= 1e-6
    tight = cavity_thermal_state(model, 0.7, tol=1e-12)
    ref = CavityBlockSolver(model, cavity_loss(0.2)).solve(tight, np.linspace(0, 1, 5))
    bound = res.stats["neglected weight"] * abs(model.B) * model.n_battery
    assert np.abs(res.delta_energy - ref.delta_energy).max() <= bound


def test_loss_empties_the_cavity_and_the_trace_is_kept():
    """Energy flows out: after a long time with loss only, the battery returns to |0> and
    the sector weights still sum to one."""
    model = CavityModel(2, omega=1.0, g=0.5, B=1.0)
    solver = CavityBlockSolver(model, cavity_loss(2.0))
    weights = solver.sector_weights((0, 2), np.linspace(0, 30, 4))
    total = sum(weights.values())
    np.testing.assert_allclose(total, 1.0, atol=1e-11)
    assert weights[0][-1] > 1 - 1e-6


@pytest.mark.parametrize(
    "process",
    [dephasing(0.1, target="charger"), pumping(0.1, target="charger", scope="collective")],
)
def test_charger_processes_without_meaning_are_refused(process):
    with pytest.raises(ValueError, match="cavity_loss"):
        CavityBlockSolver(CavityModel(2, omega=1.0, g=0.5), [process])


def test_bad_model_and_state_are_refused():
    from qutip_centralspin import CentralSpinModel

    with pytest.raises(TypeError, match="CavityModel"):
        CavityBlockSolver(CentralSpinModel(2, 2), [cavity_loss(0.1)])
    solver = CavityBlockSolver(CavityModel(2, omega=1.0, g=0.5), [cavity_loss(0.1)])
    with pytest.raises(ValueError, match="dims"):
        solver.solve(qutip.basis(4, 0), [0, 1])
    with pytest.raises(ValueError, match=r"\(m, k\)"):
        solver.solve((0, 1, 2), [0, 1])


def test_e_ops_and_states_on_the_reduced_battery_state():
    """rho_B in the qutip.piqs Dicke basis, as on every open path of the spin charger."""
    from qutip.piqs.piqs import jspin

    model = CavityModel(3, omega=1.0, g=0.6, B=1.3)
    times = np.linspace(0.5, 1.5, 5)
    res = charge_cavity(
        model,
        (0, 3),
        times,
        [cavity_loss(0.2), decay(0.1)],
        e_ops={"Sz": jspin(3, "z")},
        options={"store_states": True},
    )
    energy = model.B * np.asarray(res.e_data["Sz"])
    np.testing.assert_allclose(energy - energy[0], res.delta_energy, atol=1e-12)
    assert len(res.states) == times.size
    np.testing.assert_allclose([s.tr() for s in res.states], 1.0, atol=1e-11)


def test_charge_takes_a_cavity_model_on_every_cavity_path():
    """charge(CavityModel, ...): the exact engine, or the block solver with processes; the
    two agree at zero rates, from a tlist that does not start at 0, e_ops included."""
    from qutip_centralspin import charge
    from qutip_centralspin.observables.ergotropy import Ergotropy

    model = CavityModel(3, omega=0.9, g=0.6, B=1.1)
    times = np.linspace(0.5, 2.5, 9)
    e_ops = {"W": Ergotropy(model)}
    exact = charge(model, (1, 3), times, e_ops=e_ops)
    blocks = charge(model, (1, 3), times, processes=[cavity_loss(0.0)], e_ops=e_ops)
    assert (exact.solver, blocks.solver) == ("exact", "blocks")
    np.testing.assert_allclose(exact.delta_energy, blocks.delta_energy, atol=1e-11)
    np.testing.assert_allclose(exact.power, blocks.power, atol=1e-11)
    np.testing.assert_allclose(exact.e_data["W"], blocks.e_data["W"], atol=1e-10)
    with pytest.raises(ValueError, match="not c_ops"):
        charge(model, (0, 3), times, c_ops=[qutip.qeye(4)])
    with pytest.raises(ValueError, match="solver must be"):
        charge(model, (0, 3), times, solver="sesolve")


def test_certified_open_maximum_of_the_cavity_charger():
    from qutip_centralspin.maxima.open import open_max_power

    model = CavityModel(2, omega=1.0, g=0.7, B=1.0)
    processes = [cavity_loss(0.3), decay(0.1)]
    res = open_max_power(model, (0, 2), processes, horizon=4.0, rtol=1e-8)
    grid = charge_cavity(model, (0, 2), np.linspace(0, 4.0, 4001), processes)
    assert res.converged
    assert grid.power.max() <= res.upper_bound + 1e-12
    assert res.value >= grid.power.max() - res.tolerance


def test_one_sweep_gives_photons_and_battery_energy_as_brute_force():
    """``observables``: E_B, E_C = omega <a^dag a> and the sector weights from one sweep equal
    the separate calls and mesolve on qubits x Fock space (written here), tlist from 0.4."""
    model = CavityModel(2, omega=0.8, g=0.6, B=1.1)
    procs = [cavity_loss(0.3), decay(0.1), dephasing(0.05)]
    solver = CavityBlockSolver(model, procs)
    times = np.linspace(0.4, 3.0, 9)
    obs = solver.observables((0, 2), times)
    res = solver.solve((0, 2), times)
    np.testing.assert_allclose(obs.battery_energy - obs.battery_energy[0], res.delta_energy)
    np.testing.assert_allclose(obs.charger_energy, solver.charger_energy((0, 2), times))
    for k, w in solver.sector_weights((0, 2), times).items():
        np.testing.assert_allclose(obs.sector_weights[k], w)
    nf = 3
    eye = [qutip.qeye(2), qutip.qeye(2), qutip.qeye(nf)]

    def on(op, i):
        ops = list(eye)
        ops[i] = op
        return qutip.tensor(ops)

    sm = [on(qutip.sigmam(), i) for i in range(2)]
    sz = [on(qutip.sigmaz(), i) for i in range(2)]
    a = on(qutip.destroy(nf), 2)
    H = 1.1 * sum(sz) / 2 + 0.8 * a.dag() * a + 0.6 * (sum(sm).dag() * a + sum(sm) * a.dag())
    c_ops = [np.sqrt(0.3) * a] + [np.sqrt(0.1) * x for x in sm] + [np.sqrt(0.05) * x for x in sz]
    rho0 = qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 1), qutip.basis(nf, 2)).proj()
    ref = qutip.mesolve(
        H, rho0, np.concatenate([[0.0], times]), c_ops,
        e_ops=[a.dag() * a, 1.1 * sum(sz) / 2], options={"atol": 1e-12, "rtol": 1e-10},
    )  # fmt: skip
    # psi0 sits at tlist[0] = 0.4: compare with the reference shifted by 0.4
    ref_shift = qutip.mesolve(
        H, rho0, times - times[0], c_ops,
        e_ops=[a.dag() * a, 1.1 * sum(sz) / 2], options={"atol": 1e-12, "rtol": 1e-10},
    )  # fmt: skip
    np.testing.assert_allclose(obs.charger_energy / 0.8, ref_shift.expect[0], atol=1e-8)
    np.testing.assert_allclose(obs.battery_energy, ref_shift.expect[1], atol=1e-8)
    assert not np.allclose(ref.expect[0][1:], ref_shift.expect[0], atol=1e-4)  # t0 matters
