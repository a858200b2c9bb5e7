"""Certified W_max of open runs: the ergotropy of diagonal j-resolved states, the exact trace
norms the certificate rests on (against the full qubit space), and the bracket against dense
grids of an independent solver (qubit-level ``mesolve``)."""

import itertools
import json
import math

import numpy as np
import pytest
import qutip
from helpers import random_open_start

from qutip_centralspin import (
    CentralSpinModel,
    Ergotropy,
    charge,
    decay,
    dephasing,
    dicke_state,
    pumping,
)
from qutip_centralspin.cli import main
from qutip_centralspin.maxima.open import open_max_ergotropy
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.models.protocols import step
from qutip_centralspin.observables.ergotropy import (
    battery_ergotropy,
    block_ergotropy,
    diagonal_ergotropy,
    dicke_multiplicities,
)
from qutip_centralspin.solvers.blocks import BlockSolver
from qutip_centralspin.solvers.cavity_blocks import CavityBlockSolver, cavity_loss
from qutip_centralspin.solvers.references import bruteforce_mesolve


# -- the ergotropy of diagonal j-resolved states ------------------------------------------
@pytest.mark.parametrize("battery", ["qubits", "dicke"])
@pytest.mark.parametrize("nb", [1, 2, 3, 4, 5])
def test_diagonal_ergotropy_equals_block_ergotropy(nb, battery):
    rng = np.random.default_rng(nb)
    labels = [(q, k) for q in range(nb // 2 + 1) for k in range(q, nb - q + 1)]
    for trial in range(6):
        keep = [lab for lab in labels if rng.random() < 0.7] or labels[:1]
        P = rng.random(len(keep)) ** 3  # skewed, some labels absent
        if trial == 0:
            P = np.zeros(len(keep))
            P[-1] = 1.0  # a pure (top) state
        P /= P.sum()
        q, k = np.array(keep).T
        B = float(rng.choice([-1.3, 0.7]))
        got = diagonal_ergotropy(P[None, :], q, k, n_battery=nb, B=B, battery=battery)[0]
        blocks = [np.zeros((nb - 2 * qq + 1,) * 2) for qq in range(nb // 2 + 1)]
        for (qq, kk), p in zip(keep, P, strict=True):
            i = nb - qq - kk  # m_z = k - N_B/2 descending within the ladder
            blocks[qq][i, i] = p
        ref = block_ergotropy(blocks, dicke_multiplicities(nb)[1], B=B, battery=battery)
        assert got == pytest.approx(ref, abs=1e-12)


def test_diagonal_ergotropy_refuses_bad_labels():
    with pytest.raises(ValueError, match="labels"):
        diagonal_ergotropy([[1.0]], [1], [0], n_battery=2)
    with pytest.raises(ValueError, match="one column per label"):
        diagonal_ergotropy([[0.5, 0.5]], [0], [0], n_battery=2)


# -- the trace norms, against the full qubit space ----------------------------------------
def _qubit_liouvillian(model, processes):
    """H and the local/collective Lindblad operators on 2^(N_B+N) qubits (written here)."""
    nb, nc = model.n_battery, model.n_charger
    n = nb + nc

    def on(op, i):
        ops = [qutip.qeye(2)] * n
        ops[i] = op
        return qutip.tensor(ops)

    sz = [on(qutip.sigmaz(), i) for i in range(n)]
    sm = [on(qutip.sigmam(), i) for i in range(n)]
    Sz, Sm = sum(sz[:nb]) / 2, sum(sm[:nb])
    Jz, Jm = sum(sz[nb:]) / 2, sum(sm[nb:])
    H = (
        model.B * Sz
        + model.h * Jz
        + model.A * (Sm.dag() * Jm + Sm * Jm.dag())
        + 2 * model.delta * Sz * Jz
    )
    c_ops = []
    for p in processes:
        spins = range(nb) if p.target == "battery" else range(nb, n)
        single = {"dephasing": sz, "decay": sm, "pumping": [x.dag() for x in sm]}[p.kind]
        ops = [single[i] for i in spins]
        if p.is_local:
            c_ops += [math.sqrt(p.rate) * o for o in ops]
        else:
            scale = 0.5 if p.kind == "dephasing" else 1.0  # collective S^z, S^-, S^+
            c_ops.append(math.sqrt(p.rate) * scale * sum(ops))
    return qutip.liouvillian(H, c_ops)


def _dicke_ket(n_up: int, n_spins: int) -> np.ndarray:
    vec = np.zeros(2**n_spins)
    for ups in itertools.combinations(range(n_spins), n_up):
        index = sum(1 << (n_spins - 1 - i) for i in range(n_spins) if i not in ups)  # 1 = down
        vec[index] = 1.0
    return vec / np.linalg.norm(vec)


@pytest.mark.parametrize(
    "procs",
    [
        [decay(0.3), dephasing(0.2)],
        [pumping(0.2), decay(0.25, target="charger")],
        [decay(0.4, scope="collective"), dephasing(0.1, target="charger", scope="collective")],
    ],
    ids=["local-battery", "local-both", "collective"],
)
def test_derivative_trace_norms_equal_the_full_space(procs):
    model = CentralSpinModel(2, 3, B=1.1, h=0.8, A=0.9, delta=0.35)
    nb, nc = 2, 3
    starts = [((1, 2), 0.6), ((2, 0), 0.4)]  # a mixture of two sectors, m0 > 0
    rho = 0
    for (m, n), w in starts:
        ket = np.kron(_dicke_ket(m, nb), _dicke_ket(n, nc))
        rho = rho + w * np.outer(ket, ket)
    dims = [[2] * (nb + nc)] * 2
    rho_q = qutip.Qobj(rho, dims=dims)
    L = _qubit_liouvillian(model, procs)
    d1 = qutip.vector_to_operator(L * qutip.operator_to_vector(rho_q))
    d2 = qutip.vector_to_operator(L * L * qutip.operator_to_vector(rho_q))
    psi0 = sum(w * dicke_state(model, m, n, dm=True) for (m, n), w in starts)
    pops = BlockSolver(model, procs).battery_populations(psi0, 1.0)
    assert pops.speed == pytest.approx(d1.norm("tr"), rel=1e-10)
    assert pops.curvature == pytest.approx(d2.norm("tr"), rel=1e-10)
    assert pops(0.0)[0].sum() == pytest.approx(1.0, abs=1e-13)


# -- certified brackets against an independent dense grid ---------------------------------
def _cases():
    rng = np.random.default_rng(23)
    out = []
    proc_sets = [
        [decay(0.2)],
        [dephasing(0.15), decay(0.1, target="charger")],
        [pumping(0.1), decay(0.3, scope="collective")],
        [dephasing(0.3, scope="collective"), decay(0.05)],
    ]
    for i in range(6):
        model, psi0, _, _ = random_open_start(rng, 3, 3, mixture=bool(i % 2), weight=0.7)
        battery = ("qubits", "dicke")[i % 2]
        out.append(pytest.param(model, psi0, proc_sets[i % 4], battery, id=f"case{i}-{battery}"))
    return out


@pytest.mark.parametrize("model, psi0, procs, battery", _cases())
def test_bracket_holds_against_a_qubit_mesolve_grid(model, psi0, procs, battery):
    horizon = 3.0
    res = open_max_ergotropy(model, psi0, procs, horizon, battery=battery, rtol=1e-7)
    assert res.converged, res.reason
    assert res.value <= res.upper_bound <= res.value + res.tolerance * (1 + 1e-9)
    times = np.linspace(0.0, horizon, 1501)
    ref = bruteforce_mesolve(
        model, psi0, times, procs, options={"store_states": True, "atol": 1e-12, "rtol": 1e-10}
    )
    grid = np.array([battery_ergotropy(model, s, battery=battery) for s in ref.states])
    slack = 1e-7  # the reference's integration error
    assert grid.max() <= res.upper_bound + slack  # nothing on the grid beats the bound
    assert res.value >= grid.max() - res.tolerance - slack
    # the reported time carries the value: the reference there agrees within one grid step
    j = int(np.argmin(np.abs(times - res.time)))
    step = float(np.abs(np.diff(grid)).max())
    assert abs(grid[j] - res.value) <= res.tolerance + slack + step


def test_a_static_state_returns_its_ergotropy_converged():
    model = CentralSpinModel(2, 2, B=1.0, h=1.0)
    psi0 = dicke_state(model, 2, 2, dm=True)  # everything up: an eigenstate dephasing keeps
    res = open_max_ergotropy(model, psi0, dephasing(0.3), 2.0)
    assert res.converged and res.value == pytest.approx(2.0, abs=1e-12)
    assert res.upper_bound == res.value
    zero = open_max_ergotropy(model, dicke_state(model, 0, 0, dm=True), dephasing(0.3), 2.0)
    assert zero.converged and zero.value == pytest.approx(0.0, abs=1e-12)


def test_decay_only_discharges():
    """Local decay from a full battery and an empty charger: W is largest at t = 0."""
    model = CentralSpinModel(3, 2, B=1.0, h=1.0, A=0.0)
    res = open_max_ergotropy(model, dicke_state(model, 3, 0, dm=True), decay(0.2), 2.0)
    assert res.converged and res.time == 0.0 and res.value == pytest.approx(3.0, abs=1e-12)


def test_open_cavity_ergotropy_from_the_cli_equals_the_api(capsys):
    code = main(
        ["pmax", "--nb", "2", "--charger", "cavity", "--omega", "1", "--g", "0.9", "--n0", "2",
         "--cavity-loss", "0.2", "--horizon", "3", "--ergotropy", "--json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    got = json.loads(out)
    ref = open_max_ergotropy(CavityModel(2, omega=1.0, g=0.9), (0, 2), cavity_loss(0.2), 3.0)
    assert got["w_max"] == pytest.approx(ref.value, rel=1e-12)
    assert got["w_max_upper"] == pytest.approx(ref.upper_bound, rel=1e-12)
    assert got["w_max_window"] == [0.0, 3.0]
    assert "w_at_tau" not in got  # the closed W(tau) would be the wrong run


def test_bad_input_is_refused():
    model = CentralSpinModel(1, 2)
    psi0 = dicke_state(model, 0, 2)
    with pytest.raises(ValueError, match="horizon"):
        open_max_ergotropy(model, psi0, decay(0.1), horizon=-1.0)
    with pytest.raises(ValueError, match="battery"):
        open_max_ergotropy(model, psi0, decay(0.1), horizon=1.0, battery="spins")
    with pytest.raises(ValueError, match="rtol"):
        open_max_ergotropy(model, psi0, decay(0.1), horizon=1.0, rtol=0.0)


# -- the ergotropy left after storage, maximised over the switch-off time -----------------
@pytest.mark.parametrize(
    "procs",
    [
        [decay(0.2), dephasing(0.1, target="charger")],
        [dephasing(0.25), pumping(0.05, target="charger", scope="collective")],
        [decay(0.3, scope="collective")],
    ],
    ids=["local-decay", "local-dephasing", "collective-decay"],
)
def test_certified_switch_off_time_against_qubit_mesolve(procs):
    model = CentralSpinModel(2, 3, B=1.1, h=0.9, A=0.8, delta=0.3)
    psi0 = 0.8 * dicke_state(model, 0, 3, dm=True) + 0.2 * dicke_state(model, 1, 2, dm=True)
    storage, horizon = 1.5, 2.5
    res = open_max_ergotropy(model, psi0, procs, horizon, storage_time=storage, rtol=1e-7)
    assert res.converged, res.reason
    taus = np.linspace(horizon / 60, horizon, 60)  # step(tau) needs tau > 0
    grid = []
    for tau in taus:
        ref = bruteforce_mesolve(
            model,
            psi0,
            np.array([0.0, tau + storage]),
            procs,
            options={"store_final_state": True, "atol": 1e-12, "rtol": 1e-10},
            coupling=step(tau),
        )
        grid.append(battery_ergotropy(model, ref.final_state))
    grid = np.array(grid)
    slack = 2e-6  # mesolve's adaptive steps across the switch-off kink of the QobjEvo
    assert grid.max() <= res.upper_bound + slack
    assert res.value >= grid.max() - res.tolerance - slack
    # the stored populations at the grid times: the reference's, and the block solver's own
    # switched path (charge for tau, then a separate lambda = 0 segment) to round-off
    pops = BlockSolver(model, procs).battery_populations(psi0, horizon, storage_time=storage)
    mine = diagonal_ergotropy(pops(taus), pops.q, pops.k, n_battery=2, B=1.1)
    np.testing.assert_allclose(mine, grid, atol=slack)
    for tau, w in zip(taus[::15], mine[::15], strict=True):
        run = charge(
            model, psi0, np.array([0.0, tau + storage]), processes=procs, coupling=step(tau),
            e_ops={"W": Ergotropy(model)},
        )  # fmt: skip
        assert w == pytest.approx(run.e_data["W"][-1], abs=1e-12)


def test_storage_time_zero_is_the_plain_maximum_and_negative_is_refused():
    model = CentralSpinModel(2, 3)
    psi0 = dicke_state(model, 0, 3, dm=True)
    plain = open_max_ergotropy(model, psi0, decay(0.1), 2.0)
    zero = open_max_ergotropy(model, psi0, decay(0.1), 2.0, storage_time=0.0)
    assert zero.value == plain.value and zero.time == plain.time
    with pytest.raises(ValueError, match="storage_time"):
        open_max_ergotropy(model, psi0, decay(0.1), 2.0, storage_time=-1.0)


def test_cavity_derivative_trace_norms_equal_the_full_space():
    """The open cavity charger: qubits ⊗ Fock space written here, loss, decay, dephasing."""
    nb, n0 = 2, 2
    model = CavityModel(nb, omega=1.1, g=0.7, B=0.9)
    procs = [cavity_loss(0.3), decay(0.2), dephasing(0.1)]
    pops = CavityBlockSolver(model, procs).battery_populations((0, n0), 1.0)
    nf = n0 + 1  # loss only lowers the photon number: exact

    def on(op, i):
        ops = [qutip.qeye(2)] * nb + [qutip.qeye(nf)]
        ops[i] = op
        return qutip.tensor(ops)

    sz = [on(qutip.sigmaz(), i) for i in range(nb)]
    sm = [on(qutip.sigmam(), i) for i in range(nb)]
    a = qutip.tensor([qutip.qeye(2)] * nb + [qutip.destroy(nf)])
    H = model.B * sum(sz) / 2 + model.omega * a.dag() * a
    H += model.g * (sum(sm).dag() * a + sum(sm) * a.dag())
    c_ops = [math.sqrt(0.3) * a] + [math.sqrt(0.2) * x for x in sm]
    c_ops += [math.sqrt(0.1) * x for x in sz]
    L = qutip.liouvillian(H, c_ops)
    rho = qutip.tensor([qutip.basis(2, 1)] * nb + [qutip.basis(nf, n0)]).proj()
    vec = qutip.operator_to_vector(rho)
    assert pops.speed == pytest.approx(qutip.vector_to_operator(L * vec).norm("tr"), rel=1e-10)
    assert pops.curvature == pytest.approx(
        qutip.vector_to_operator(L * L * vec).norm("tr"), rel=1e-10
    )
