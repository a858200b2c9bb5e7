"""The seams between solver paths: same inputs, same answers, on a ``tlist`` not starting at 0.

Every path of ``charge`` (exact, sesolve, mesolve; with processes: blocks, piqs, bruteforce,
symmetric mesolve) must agree on ΔE_B, P_B, every callback of the package, the result fields
and the option checks. Agreement alone cannot catch a convention all paths share, so the time
origin is also checked against time-translation invariance (H does not depend on t): a run on
``t0 + s`` must equal a run on ``s``.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from qutip import piqs
from tolerances import ODE_ATOL, ODE_OPTIONS

from qutip_centralspin import (
    BatteryEnergy,
    BatteryPower,
    CentralSpinModel,
    DeltaBatteryEnergy,
    charge,
    dicke_state,
    hamiltonian,
)
from qutip_centralspin.models.basis import battery_dims
from qutip_centralspin.models.chargers import thermal_charger
from qutip_centralspin.models.processes import collective_c_ops, decay, dephasing, pumping
from qutip_centralspin.observables.ergotropy import EntanglementEntropy, Ergotropy

#: the references integrate with atol 1e-12 / rtol 1e-10; PIQS builds its Liouvillian in
#: single precision (agreement ~1e-7, measured 2.6e-8 at N_B = N = 12)
OPEN_ATOL = 2e-7
T0 = 0.7
TIMES = T0 + np.linspace(0.0, 1.5, 7)
CLOSED = ("exact", "sesolve", "mesolve")
CALLBACKS = {
    "E": lambda m, psi0, procs: BatteryEnergy(m),
    "dE": lambda m, psi0, procs: DeltaBatteryEnergy(m),
    "P": lambda m, psi0, procs: BatteryPower(m, psi0, processes=procs),
    "W": lambda m, psi0, procs: Ergotropy(m),
    "Wq": lambda m, psi0, procs: Ergotropy(m, battery="qubits"),
    "S": lambda m, psi0, procs: EntanglementEntropy(m),
}


def _callbacks(model, psi0, procs=None):
    return {key: make(model, psi0, procs) for key, make in CALLBACKS.items()}


def _options(solver):
    return dict(ODE_OPTIONS) if solver in ("sesolve", "mesolve") else None


def _closed_state(model, kind, rng):
    """Hard starts: m0 > 0, complex superpositions across sectors, mixtures, thermal."""
    if kind == "dicke_m0":
        return dicke_state(model, 1, model.n_charger - 1)
    if kind == "superposition":
        vec = rng.normal(size=model.shape) + 1j * rng.normal(size=model.shape)
        return qutip.Qobj(vec / np.linalg.norm(vec), dims=model.ket_dims)
    if kind == "mixture":
        a = dicke_state(model, 0, model.n_charger, dm=True)
        b = dicke_state(model, 1, 1, dm=True)
        return 0.6 * a + 0.4 * b
    return thermal_charger(model, 0.8, m=1)


CLOSED_CASES = [
    pytest.param(CentralSpinModel(2, 3, B=1.3, h=0.9, A=0.8, delta=0.2), kind, id=f"{kind}")
    for kind in ("dicke_m0", "superposition", "mixture", "thermal")
]


@pytest.mark.parametrize(("model", "kind"), CLOSED_CASES)
def test_closed_paths_agree_from_t0(model, kind):
    rng = np.random.default_rng(7)
    psi0 = _closed_state(model, kind, rng)
    solvers = CLOSED if psi0.isket else ("exact", "mesolve")
    runs = {
        s: charge(
            model,
            psi0,
            TIMES,
            solver=s,
            e_ops=_callbacks(model, psi0),
            options=_options(s),
        )
        for s in solvers
    }
    ref = runs["exact"]
    # time origin: ΔE_B(t0) = 0 and the run equals one started at t = 0 (H is static)
    assert abs(ref.delta_energy[0]) < 1e-12
    shifted = charge(model, psi0, TIMES - T0)
    np.testing.assert_allclose(ref.delta_energy, shifted.delta_energy, atol=1e-12)
    np.testing.assert_allclose(ref.power, shifted.power, atol=1e-12)
    assert np.ptp(ref.delta_energy) > 1e-2  # the runs charge something
    for name, res in runs.items():
        np.testing.assert_allclose(res.delta_energy, ref.delta_energy, atol=ODE_ATOL, err_msg=name)
        np.testing.assert_allclose(res.power, ref.power, atol=ODE_ATOL, err_msg=name)
        for key in CALLBACKS:
            np.testing.assert_allclose(
                res.e_data[key], ref.e_data[key], atol=1e-6, err_msg=f"{name}: {key}"
            )
        # the callbacks see the same numbers as the result
        np.testing.assert_allclose(res.e_data["dE"], res.delta_energy, atol=ODE_ATOL)
        np.testing.assert_allclose(res.e_data["P"], res.power, atol=ODE_ATOL)
        np.testing.assert_allclose(
            res.e_data["E"], res.delta_energy + res.initial_energy, atol=ODE_ATOL
        )


OPEN_CASES = [
    pytest.param(
        CentralSpinModel(2, 2, B=1.0, h=0.8, A=1.0, delta=0.3),
        [dephasing(0.3), decay(0.2, target="charger")],
        id="local-dephasing+charger-decay",
    ),
    pytest.param(
        CentralSpinModel(3, 2, B=1.0, h=1.0, A=0.7),
        [decay(0.25), pumping(0.1)],
        id="local-decay+pumping-resonant",
    ),
    pytest.param(
        CentralSpinModel(2, 3, B=0.9, h=1.2, A=1.1, delta=-0.2),
        [decay(0.3, scope="collective"), dephasing(0.2, target="charger", scope="collective")],
        id="collective",
    ),
]


def _open_starts(model):
    mix = 0.5 * dicke_state(model, 1, 1, dm=True) + 0.5 * dicke_state(model, 0, 2, dm=True)
    return {
        "dicke_m0": dicke_state(model, 1, model.n_charger - 1),
        "mixture": mix,
        "thermal": thermal_charger(model, 0.8, m=1),
    }


@pytest.mark.parametrize(("model", "procs"), OPEN_CASES)
@pytest.mark.parametrize("start", ["dicke_m0", "mixture", "thermal"])
def test_open_paths_agree_from_t0(model, procs, start):
    psi0 = _open_starts(model)[start]
    collective = all(not p.is_local for p in procs)
    solvers = ["blocks", "piqs", "bruteforce"] + (["mesolve"] if collective else [])
    runs = {
        s: charge(
            model,
            psi0,
            TIMES,
            processes=procs,
            solver=s,
            e_ops=_callbacks(model, psi0, procs),
        )
        for s in solvers
    }
    if collective:  # the same master equation written with c_ops on the full space
        c_ops = collective_c_ops(model, procs)
        cb = _callbacks(model, psi0)
        cb["P"] = BatteryPower(model, psi0, c_ops=c_ops)
        runs["c_ops"] = charge(
            model, psi0, TIMES, c_ops=c_ops, e_ops=cb, options=dict(ODE_OPTIONS)
        )
    ref = runs["blocks"]
    shifted = charge(model, psi0, TIMES - T0, processes=procs)
    np.testing.assert_allclose(ref.delta_energy, shifted.delta_energy, atol=1e-12)
    np.testing.assert_allclose(ref.power, shifted.power, atol=1e-12)
    assert np.ptp(ref.delta_energy) > 1e-2
    for name, res in runs.items():
        np.testing.assert_allclose(
            res.delta_energy, ref.delta_energy, atol=OPEN_ATOL, err_msg=name
        )
        np.testing.assert_allclose(res.power, ref.power, atol=OPEN_ATOL, err_msg=name)
        for key in CALLBACKS:
            np.testing.assert_allclose(
                res.e_data[key], ref.e_data[key], atol=1e-6, err_msg=f"{name}: {key}"
            )
        np.testing.assert_allclose(res.e_data["dE"], res.delta_energy, atol=OPEN_ATOL)
        np.testing.assert_allclose(res.e_data["P"], res.power, atol=OPEN_ATOL)


def test_initial_rate_with_decay_is_the_limit_of_the_power():
    """m0 > 0 under decay: P_B(t0) != 0, and every path reports the same limit."""
    model = CentralSpinModel(3, 2, B=1.0, h=0.6, A=0.9)
    psi0 = dicke_state(model, 2, 1)
    procs = [decay(0.4), pumping(0.1, scope="collective")]
    eps = 1e-5
    tl = np.array([T0, T0 + eps])
    rates = {}
    for solver in ("blocks", "piqs", "bruteforce"):
        res = charge(model, psi0, tl, processes=procs, solver=solver)
        rates[solver] = res.power[0]
        assert res.initial_rate == res.power[0]
        # the limit: P_B(t0 + eps) -> P_B(t0) linearly in eps
        assert abs(res.power[1] - res.power[0]) < 1e-3
    callback = BatteryPower(model, psi0, processes=procs)
    assert abs(rates["blocks"]) > 0.1
    for solver, rate in rates.items():
        assert rate == pytest.approx(callback.initial_rate, abs=1e-6), solver


@pytest.mark.parametrize(
    ("solver", "procs"),
    [
        ("exact", None),
        ("sesolve", None),
        ("mesolve", None),
        ("blocks", [dephasing(0.1)]),
        ("piqs", [dephasing(0.1)]),
        ("bruteforce", [dephasing(0.1)]),
        ("mesolve", [dephasing(0.1, scope="collective")]),
    ],
)
def test_one_point_tlist(solver, procs):
    model = CentralSpinModel(2, 4)
    psi0 = dicke_state(model, 0, 4)
    res = charge(model, psi0, [0.5], processes=procs, solver=solver)
    assert res.delta_energy.shape == (1,) and abs(res.delta_energy[0]) < 1e-12
    assert abs(res.power[0]) < 1e-12  # a Dicke state: dE_B/dt = 0 with dephasing only
    assert res.times.tolist() == [0.5] and res.t0 == 0.5


@pytest.mark.parametrize("solver", ["blocks", "piqs", "bruteforce", "mesolve"])
def test_jspin_operator_on_the_open_path(solver):
    """A user's battery operator in the PIQS basis (qutip.piqs.jspin) works on every path."""
    model = CentralSpinModel(3, 2, B=1.1)
    psi0 = dicke_state(model, 1, 2)
    procs = [dephasing(0.2, scope="collective"), decay(0.1, target="charger", scope="collective")]
    if solver in ("blocks", "piqs", "bruteforce"):
        procs = [*procs, decay(0.15)]
    sz = piqs.jspin(3, "z")
    res = charge(
        model,
        psi0,
        TIMES,
        processes=procs,
        solver=solver,
        e_ops={"Sz": sz, "Sz(t)": qutip.QobjEvo(sz)},
        options={"store_final_state": True},
    )
    np.testing.assert_allclose(
        model.B * (res.e_data["Sz"] - res.e_data["Sz"][0]), res.delta_energy, atol=1e-9
    )
    np.testing.assert_allclose(res.e_data["Sz(t)"], res.e_data["Sz"], atol=1e-12)
    nds = battery_dims(3)
    assert res.final_state.dims == [[nds], [nds]]
    assert res.states == []
    with pytest.raises(ValueError, match="jspin"):
        charge(model, psi0, TIMES, processes=procs, solver=solver, e_ops=[qutip.jmat(1.5, "z")])


@pytest.mark.parametrize(
    ("solver", "procs"),
    [
        ("exact", None),
        ("sesolve", None),
        ("mesolve", None),
        ("blocks", dephasing(0.1)),
        ("piqs", dephasing(0.1)),
        ("bruteforce", dephasing(0.1)),
    ],
)
def test_result_fields_speak_qutip(solver, procs):
    model = CentralSpinModel(2, 2)
    psi0 = dicke_state(model, 0, 2)
    plain = charge(model, psi0, TIMES, processes=procs, solver=solver)
    assert plain.states == [] and plain.final_state is None and plain.e_data == {}
    assert plain.expect == [] and plain.stats["solver"] == solver
    assert plain.stats["run time"] >= 0
    full = charge(
        model,
        psi0,
        TIMES,
        processes=procs,
        solver=solver,
        e_ops=[BatteryEnergy(model)],
        options={"store_states": True},
    )
    assert len(full.states) == TIMES.size and full.final_state is full.states[-1]
    assert list(full.e_data) == [0]
    np.testing.assert_array_equal(full.expect[0], full.e_data[0])
    with pytest.raises(ValueError, match="progress_bar"):
        charge(model, psi0, TIMES, processes=procs, solver=solver, options={"progress_bar": "txt"})
    with pytest.raises(ValueError, match="bogus"):
        charge(model, psi0, TIMES, processes=procs, solver=solver, options={"bogus": 1})


def test_callbacks_take_t0_from_their_first_call():
    """BatteryPower inside qutip.sesolve on a tlist starting at 1 needs no t0=."""
    model = CentralSpinModel(4, 20)
    psi0 = dicke_state(model, 0, 20)
    tlist = np.linspace(1, 3, 201)
    res = qutip.sesolve(
        hamiltonian(model),
        psi0,
        tlist,
        e_ops={"P": BatteryPower(model, psi0), "dE": DeltaBatteryEnergy(model)},
        options=dict(ODE_OPTIONS),
    )
    ours = charge(model, psi0, tlist)
    np.testing.assert_allclose(res.e_data["P"], ours.power, atol=ODE_ATOL)
    np.testing.assert_allclose(res.e_data["dE"], ours.delta_energy, atol=ODE_ATOL)
    # and it is the run started at 0, shifted: P_B(1 + s) of this run is P_B(s) of that one
    np.testing.assert_allclose(ours.power, charge(model, psi0, tlist - 1).power, atol=1e-12)
    # an explicit t0 is kept; an instance without t0 re-binds on a new, earlier run
    power = BatteryPower(model, psi0)
    opts = dict(ODE_OPTIONS)
    a = qutip.sesolve(hamiltonian(model), psi0, tlist, e_ops=[power], options=opts).expect[0]
    b = qutip.sesolve(hamiltonian(model), psi0, tlist - 1, e_ops=[power], options=opts).expect[0]
    np.testing.assert_allclose(a, b, atol=ODE_ATOL)
    with pytest.raises(ValueError, match="initial_state"):
        BatteryPower(model)(0.0, qutip.ptrace(psi0, 0))
