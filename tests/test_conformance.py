"""Every entry point x every model kind, closed and open, every state form, against brute force.

The reference is written here, in plain QuTiP, on the physical spins: one qubit per battery
spin, one qubit per charger spin (spin charger) or a Fock space (cavity and Dicke chargers),
the initial state mapped from the model's symmetric space by the Dicke isometry. Nothing of
the package is used to build it. Every run starts at ``T0 > 0`` (``tlist[0]``, the time
origin), so an entry point that measures from 0 fails.

Where the physics forbids a door (the Dicke charger's counter-rotating terms break the
excitation number the open solver rests on), the test asserts the ``ValueError`` that says so.
"""

from __future__ import annotations

import itertools
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import qutip

import qutip_centralspin as qcs
from qutip_centralspin.cli import main
from qutip_centralspin.maxima.open import open_max_energy, open_max_power
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.models.dicke import DickeChargerModel
from qutip_centralspin.models.groups import GroupModel
from qutip_centralspin.solvers.cavity_blocks import cavity_loss
from qutip_centralspin.studies.cycle import battery_cycle

T0 = 0.7
TLIST = T0 + np.linspace(0.0, 2.4, 25)
#: Photon levels of the brute-force Fock space (exact for the cavity: K <= 4 is conserved;
#: the Dicke charger's counter-rotating terms reach further, 40 levels hold it to ~1e-12).
FOCK = {"cavity": 6, "dicke": 40}

MODELS = {
    "spins": qcs.CentralSpinModel(2, 3, B=1.1, h=0.9, A=0.8, delta=0.3),
    "cavity": CavityModel(2, omega=0.9, g=0.7, B=1.1),
    "dicke": DickeChargerModel(2, omega_c=1.0, omega_a=1.1, coupling=0.3),
    # inhomogeneous: one battery group, two charger groups (zero and negative couplings) ...
    "groups": GroupModel(
        battery=[(2, 1.1)], charger=[(2, 0.9), (1, 0.6)], A=[[0.8, -0.5]], delta=[[0.3, 0.0]]
    ),
    # ... and two battery groups in different fields (H_B is not B S^z: no ergotropy)
    "groups2": GroupModel(
        battery=[(1, 1.1), (1, 0.7)],
        charger=[(2, 0.9), (1, 0.6)],
        A=[[0.8, -0.5], [0.0, 1.1]],
        delta=0.2,
    ),  # fmt: skip
}
PROCESSES = {
    "spins": [qcs.decay(0.15), qcs.dephasing(0.1)],
    "cavity": [qcs.decay(0.15), cavity_loss(0.2)],
}
ATOL = {"spins": 1e-8, "cavity": 1e-8, "dicke": 1e-7, "groups": 1e-8, "groups2": 1e-8}
#: Where the standard ergotropy needs H_B = B S^z, and a model does not have it.
NO_ERGOTROPY = ("groups2",)


# -- the brute-force reference, on physical spins ------------------------------------------------
def _dicke_isometry(n: int) -> np.ndarray:
    """Columns: the Dicke states of n qubits, in ``jmat`` order (index i: n - i spins up;
    a qubit's basis(2, 0) is up)."""
    v = np.zeros((2**n, n + 1))
    for x in range(2**n):
        ups = n - bin(x).count("1")
        v[x, n - ups] = 1.0
    return v / np.sqrt(np.maximum(v.sum(axis=0), 1.0))


def _local(op, k: int, n: int):
    return qutip.tensor([op if i == k else qutip.qeye(2) for i in range(n)])


def _collective(n: int):
    sz = sum(_local(qutip.sigmaz() / 2, k, n) for k in range(n))
    sp = sum(_local(qutip.sigmap(), k, n) for k in range(n))
    return sz, sp


class Reference:
    """The model on qubits (x Fock): H, E_B, E_C, collapse operators, the state map."""

    def __init__(self, kind: str):
        self.kind = kind
        model = MODELS[kind]
        nb = model.n_battery
        self.nb = nb
        sz, sp = _collective(nb)
        if kind.startswith("groups"):
            self._groups(model)
        elif kind == "spins":
            nc = model.n_charger
            jz, jp = _collective(nc)
            ib, ic = qutip.qeye([2] * nb), qutip.qeye([2] * nc)
            Sz, Sp = qutip.tensor(sz, ic), qutip.tensor(sp, ic)
            Jz, Jp = qutip.tensor(ib, jz), qutip.tensor(ib, jp)
            self.H = (
                model.B * Sz
                + model.h * Jz
                + model.A * (Sp * Jp.dag() + Sp.dag() * Jp)
                + 2 * model.delta * Sz * Jz
            )
            self.E_C = model.h * Jz
            self.charger_map = _dicke_isometry(nc)
            self.B = model.B
            self.charger = ic
        else:
            d = FOCK[kind]
            a = qutip.tensor(qutip.qeye([2] * nb), qutip.destroy(d))
            Sz, Sp = qutip.tensor(sz, qutip.qeye(d)), qutip.tensor(sp, qutip.qeye(d))
            if kind == "cavity":
                self.H = (
                    model.B * Sz
                    + model.omega * a.dag() * a
                    + model.g * (Sp * a + Sp.dag() * a.dag())
                )
                self.E_C = model.omega * a.dag() * a
                self.B = model.B
            else:  # Dicke: omega_c a^dag a + omega_a J^z + 2 omega_c lambda J^x (a + a^dag)
                Sx = (Sp + Sp.dag()) / 2
                self.H = (
                    model.omega_c * a.dag() * a
                    + model.omega_a * Sz
                    + 2 * model.omega_c * model.coupling * Sx * (a + a.dag())
                )
                self.E_C = model.omega_c * a.dag() * a
                self.B = model.omega_a
            self.charger_map = np.eye(d)
            self.a = a
        if kind.startswith("groups"):
            self._finish_groups(model)
            return
        self.H_B = self.B * Sz
        self.battery_map = _dicke_isometry(nb)
        self.c_ops = []
        if kind in PROCESSES:
            g_decay, other = 0.15, (0.1 if kind == "spins" else 0.2)
            ic = qutip.qeye([2] * model.n_charger) if kind == "spins" else qutip.qeye(FOCK[kind])
            for k in range(nb):
                self.c_ops.append(
                    math.sqrt(g_decay) * qutip.tensor(_local(qutip.sigmam(), k, nb), ic)
                )
                if kind == "spins":  # local dephasing sqrt(gamma) sigma^z_k
                    self.c_ops.append(
                        math.sqrt(other) * qutip.tensor(_local(qutip.sigmaz(), k, nb), ic)
                    )
            if kind == "cavity":
                self.c_ops.append(math.sqrt(other) * self.a)

    def _groups(self, model):
        sizes = [n for n, _ in model.battery] + [n for n, _ in model.charger]
        total = sum(sizes)
        starts = np.cumsum([0, *sizes])
        ops = []
        for g, n in enumerate(sizes):
            sz = sum(_local(qutip.sigmaz() / 2, k, total) for k in range(starts[g], starts[g] + n))
            sp = sum(_local(qutip.sigmap(), k, total) for k in range(starts[g], starts[g] + n))
            ops.append((sz, sp))
        gb = len(model.battery)
        bat, chg = ops[:gb], ops[gb:]
        self.H_B = sum(b * sz for (_, b), (sz, _) in zip(model.battery, bat, strict=True))
        self.E_C = sum(h * jz for (_, h), (jz, _) in zip(model.charger, chg, strict=True))
        self.H = self.H_B + self.E_C
        for a, (sz, sp) in enumerate(bat):
            for b, (jz, jp) in enumerate(chg):
                self.H += model.A[a, b] * (sp * jp.dag() + sp.dag() * jp)
                self.H += 2 * model.delta[a, b] * sz * jz
        self.group_maps = [_dicke_isometry(n) for n in sizes]
        self.c_ops = []
        self.B = model.battery[0][1]

    def _finish_groups(self, model):
        self.nb = model.n_battery

    def embed(self, state: qutip.Qobj) -> qutip.Qobj:
        if self.kind.startswith("groups"):
            iso = self.group_maps[0]
            for v in self.group_maps[1:]:
                iso = np.kron(iso, v)
            data, dims = state.full(), self.H.dims[0]
            if state.isket:
                return qutip.Qobj(iso @ data, dims=[dims, [1] * len(dims)])
            return qutip.Qobj(iso @ data @ iso.T, dims=[dims, dims])
        """A state of the model's space (battery levels x charger levels) on the qubits."""
        data = state.full()
        nb1 = self.nb + 1
        d_in = data.shape[0] // nb1
        cmap = self.charger_map[:, :d_in]
        iso = np.kron(self.battery_map, cmap)
        dims = self.H.dims[0]
        if state.isket:
            return qutip.Qobj(iso @ data, dims=[dims, [1] * len(dims)])
        return qutip.Qobj(iso @ data @ iso.T, dims=[dims, dims])

    def run(self, state: qutip.Qobj, times, *, open_: bool):
        rho0 = self.embed(state)
        opts = {"atol": 1e-12, "rtol": 1e-11, "nsteps": 100000}
        elapsed = np.asarray(times) - times[0]
        if open_:
            res = qutip.mesolve(self.H, rho0, elapsed, c_ops=self.c_ops, options=opts)
        else:
            res = (
                qutip.sesolve(self.H, rho0, elapsed, options=opts)
                if rho0.isket
                else (qutip.mesolve(self.H, rho0, elapsed, options=opts))
            )
        return res.states

    def battery_energy(self, states) -> np.ndarray:
        return np.array([qutip.expect(self.H_B, s) for s in states])

    def ergotropy(self, state) -> float:
        """Standard ergotropy of the battery's qubits: any unitary on the 2^N_B levels."""
        rho_b = state.ptrace(list(range(self.nb)))
        hb = self.B * _collective(self.nb)[0]
        r = np.sort(np.linalg.eigvalsh(rho_b.full()))[::-1]
        e = np.sort(np.linalg.eigvalsh(hb.full()))
        return float(np.real((rho_b * hb).tr()) - r @ e)

    def entropy(self, state) -> float:
        rho_b = state.ptrace(list(range(self.nb)))
        p = np.linalg.eigvalsh(rho_b.full())
        p = p[p > 1e-14]
        return float(-(p * np.log(p)).sum())


REFERENCES = {kind: Reference(kind) for kind in MODELS}


def _state(kind: str, form: str):
    """The initial state in one of three forms: a label, a ket (a same-K superposition with
    m0 > 0), a density matrix (a mixture of two sectors)."""
    model = MODELS[kind]
    if kind.startswith("groups"):
        gb = len(model.battery)
        a = ((0,) * gb, (2, 1))
        b = ((1,) + (0,) * (gb - 1), (1, 1))
        c = ((0,) * gb, (1, 0))
        if form == "label":
            return b
        if form == "ket":
            return (model.label_state(*a) + 1j * model.label_state(*b)).unit()
        return 0.6 * model.label_state(*a).proj() + 0.4 * model.label_state(*c).proj()
    if form == "label":
        return (1, 2) if kind == "spins" else (0, 2)
    a, b = model.label_state(0, 2), model.label_state(1, 1)
    if kind != "spins":  # pad the Fock factors to one size
        a = qutip.tensor(qutip.basis(3, 2), qutip.basis(3, 2))
        b = qutip.tensor(qutip.basis(3, 1), qutip.basis(3, 1))
    if form == "ket":
        return (a + 1j * b).unit()
    c = (
        model.label_state(1, 0)
        if kind == "spins"
        else qutip.tensor(qutip.basis(3, 1), qutip.basis(3, 0))
    )
    return 0.6 * a.proj() + 0.4 * c.proj()


def _as_qobj(kind, state):
    return MODELS[kind].label_state(*state) if isinstance(state, tuple) else state


CASES = [
    pytest.param(kind, mode, form, id=f"{kind}-{mode}-{form}")
    for kind, mode, form in itertools.product(MODELS, ("closed", "open"), ("label", "ket", "dm"))
]


def _processes(kind, mode):
    return PROCESSES[kind] if mode == "open" else None


def _reference_states(kind, mode, form, times=TLIST):
    return REFERENCES[kind].run(_as_qobj(kind, _state(kind, form)), times, open_=mode == "open")


def _refused(kind, mode) -> bool:
    return kind in ("dicke", "groups", "groups2") and mode == "open"


REFUSAL = {
    "dicke": "not supported for a DickeChargerModel",
    "groups": "not supported for a GroupModel",
    "groups2": "not supported for a GroupModel",
}


# -- charge and the e_ops callbacks ------------------------------------------------------------
OPEN_CASES = [c for c in CASES if c.values[1] == "open" and not _refused(*c.values[:2])]


@pytest.fixture
def matrix_free(monkeypatch):
    """Every open run of the test on the matrix-free generator (auto takes it from 0 entries)."""
    from qutip_centralspin.solvers import blocks

    monkeypatch.setattr(blocks, "MATRIX_FREE_MIN_SIZE", 0)


@pytest.mark.parametrize(("kind", "mode", "form"), OPEN_CASES)
def test_matrix_free_generator_against_brute_force(kind, mode, form, matrix_free):
    """The matrix-free generator joins the cross-path matrix: the same checks, every door."""
    res = qcs.charge(MODELS[kind], _state(kind, form), TLIST, processes=_processes(kind, mode))
    assert res.stats["generator"] == "matrix-free"
    test_charge_and_callbacks_against_brute_force(kind, mode, form)


@pytest.mark.parametrize(("kind", "mode", "form"), CASES)
def test_charge_and_callbacks_against_brute_force(kind, mode, form):
    model, state = MODELS[kind], _state(kind, form)
    if _refused(kind, mode):
        with pytest.raises(ValueError, match=REFUSAL[kind]):
            qcs.charge(model, state, TLIST, processes=PROCESSES["spins"])
        return
    e_ops = {
        "E_B": qcs.BatteryEnergy(model),
        "dE_B": qcs.DeltaBatteryEnergy(model),
        "P_B": qcs.BatteryPower(model, _as_qobj(kind, state), t0=T0),
    }
    if kind in NO_ERGOTROPY:
        with pytest.raises(ValueError, match="different fields"):
            qcs.Ergotropy(model)
    else:
        e_ops["W"] = qcs.Ergotropy(model, battery="qubits")
        e_ops["S"] = qcs.EntanglementEntropy(model)
    e_ops["E_C"] = qcs.ChargerEnergy(model)  # the full state closed, the sweep open
    res = qcs.charge(model, state, TLIST, processes=_processes(kind, mode), e_ops=e_ops)
    ref = REFERENCES[kind]
    states = _reference_states(kind, mode, form)
    e_b = ref.battery_energy(states)
    atol = ATOL[kind]
    np.testing.assert_allclose(res.delta_energy, e_b - e_b[0], atol=atol)
    np.testing.assert_allclose(res.e_data["E_B"], e_b, atol=atol)
    np.testing.assert_allclose(res.e_data["dE_B"], e_b - e_b[0], atol=atol)
    later = TLIST > T0
    np.testing.assert_allclose(
        res.e_data["P_B"][later], (e_b - e_b[0])[later] / (TLIST[later] - T0), atol=atol
    )
    np.testing.assert_allclose(res.power[later], (e_b - e_b[0])[later] / (TLIST[later] - T0),
                               atol=atol)  # fmt: skip
    if "W" in e_ops:
        w_ref = [ref.ergotropy(s) for s in states]
        np.testing.assert_allclose(res.e_data["W"], w_ref, atol=atol)
    if mode == "closed" and "S" in e_ops:  # the battery's entanglement with the charger
        np.testing.assert_allclose(res.e_data["S"], [ref.entropy(s) for s in states], atol=1e-6)
    e_c = [qutip.expect(ref.E_C, s) for s in states]
    np.testing.assert_allclose(res.e_data["E_C"], e_c, atol=atol)
    assert np.ptp(e_c) > 1e-2
    assert np.ptp(e_b) > 1e-2  # the run charges: a do-nothing path would fail above


def test_charger_excitations_refuse_the_reduced_state_of_an_open_run():
    from qutip_centralspin.observables.energy import ChargerExcitations

    model = MODELS["cavity"]
    with pytest.raises(ValueError, match="needs the full state"):
        qcs.charge(model, (0, 2), TLIST, processes=PROCESSES["cavity"],
                   e_ops={"n": ChargerExcitations(model)})  # fmt: skip


def test_charger_energy_of_another_model_is_refused():
    with pytest.raises(ValueError, match="of another model"):
        qcs.charge(MODELS["cavity"], (0, 2), TLIST, processes=PROCESSES["cavity"],
                   e_ops={"E_C": qcs.ChargerEnergy(CavityModel(2, omega=1.0, g=0.1))})  # fmt: skip


# -- the maxima ----------------------------------------------------------------------------------
def _dense(kind, mode, form, horizon):
    times = T0 + np.linspace(0.0, horizon, 1601)
    states = _reference_states(kind, mode, form, times)
    e_b = REFERENCES[kind].battery_energy(states)
    return times - T0, e_b - e_b[0], states


@pytest.mark.parametrize(("kind", "mode", "form"), CASES)
def test_maxima_against_a_dense_brute_force_grid(kind, mode, form):
    model, state = MODELS[kind], _state(kind, form)
    if _refused(kind, mode):
        with pytest.raises(ValueError, match=REFUSAL[kind]):
            open_max_power(model, _as_qobj(kind, state), PROCESSES["spins"], 3.0)
        return
    if mode == "closed":
        p = qcs.max_power(model, state)
        e = qcs.max_energy(model, state, window=6.0)
        w = None
        if kind in NO_ERGOTROPY:
            with pytest.raises(ValueError, match="different fields"):
                qcs.max_ergotropy(model, state)
        else:
            w = qcs.max_ergotropy(model, state, battery="qubits", window=6.0)
        horizon = 6.0
        if kind == "dicke":  # certified for the truncated H only: said so
            assert not p.converged and "truncated" in p.reason
    else:
        horizon = 3.0
        ket = _as_qobj(kind, state)
        p = open_max_power(model, ket, PROCESSES[kind], horizon)
        e = open_max_energy(model, ket, PROCESSES[kind], horizon)
        w = None
    t, de, states = _dense(kind, mode, form, horizon)
    power = np.divide(de, t, out=np.zeros_like(de), where=t > 0)
    atol = ATOL[kind] * 10
    # nothing on the grid beats the certified bracket, and the value is attained
    inside = t <= (p.horizon if np.isfinite(p.horizon) else horizon)
    assert power[inside].max() <= p.upper_bound + atol
    assert e.value >= de.max() - atol and de.max() <= e.upper_bound + atol
    ref_p = _dense(kind, mode, form, p.time)[1][-1] / p.time
    assert ref_p == pytest.approx(p.value, abs=atol)
    if w is not None:
        ref = REFERENCES[kind]
        grid_w = np.array([ref.ergotropy(s) for s in states[::8]])
        assert grid_w.max() <= w.upper_bound + atol
        at = _dense(kind, mode, form, w.time)[2][-1]
        assert ref.ergotropy(at) == pytest.approx(w.value, abs=atol)


# -- the charging plot and the battery cycle -----------------------------------------------------
@pytest.mark.parametrize(("kind", "mode", "form"), CASES)
def test_plot_charging_draws_every_model(kind, mode, form):
    if _refused(kind, mode):
        return
    model = MODELS[kind]
    res = qcs.charge(model, _state(kind, form), TLIST, processes=_processes(kind, mode))
    ax = qcs.plot_charging(res, label="run")
    try:
        line = ax.get_lines()[0]
        np.testing.assert_array_equal(line.get_xdata(), TLIST)
        np.testing.assert_array_equal(line.get_ydata(), res.delta_energy)
        assert f"$N_B={model.n_battery}$" in ax.get_title()
        assert model.energy_unit in ax.get_xlabel()
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize(("kind", "mode", "form"), CASES)
def test_battery_cycle_against_brute_force(kind, mode, form):
    model, state = MODELS[kind], _state(kind, form)
    tau, storage = 0.9, 0.6
    if kind in REFUSAL:  # a coupling protocol needs the open block solver (or no H_B = B S^z)
        with pytest.raises(ValueError, match="not supported"):
            battery_cycle(model, state, tau, storage, processes=_processes("spins", mode))
        return
    cyc = battery_cycle(
        model, state, tau, storage, processes=_processes(kind, mode), battery="qubits", points=7
    )
    ref = REFERENCES[kind]
    # charge for tau with the coupling on (from t = 0), then H_B + H_C with the processes
    charged = ref.run(_as_qobj(kind, state), np.array([0.0, tau]), open_=mode == "open")
    e_b = ref.battery_energy(charged)
    assert cyc.charged_energy == pytest.approx(e_b[1] - e_b[0], abs=ATOL[kind])
    assert cyc.charged_ergotropy == pytest.approx(ref.ergotropy(charged[1]), abs=ATOL[kind])
    e_c = [qutip.expect(ref.E_C, s) for s in charged]
    assert cyc.drawn_energy == pytest.approx(e_c[0] - e_c[1], abs=ATOL[kind])
    if mode == "closed":  # the coupling off: H_B + H_C keeps E_B and W exactly
        assert cyc.stored_energy == pytest.approx(cyc.charged_energy, abs=1e-10)


# -- the command line: every subcommand x every charger, with --json and --plot -----------------
CLI_MODELS = {
    "spins": ["--nb", "2", "--n", "3", "--n0", "2"],
    "cavity": ["--nb", "2", "--charger", "cavity", "--g", "0.7", "--omega", "0.9", "--n0", "2"],
    "dicke": ["--nb", "2", "--charger", "dicke", "--coupling", "0.3", "--n0", "2"],
}
CLI_COMMANDS = {
    "charge": ["charge", "--t-max", "2", "--points", "11"],
    "pmax": ["pmax", "--ergotropy"],
    "cycle": ["cycle", "--tau", "0.8", "--storage", "0.5", "--points", "11"],
}


@pytest.mark.parametrize(
    ("command", "kind", "open_"),
    [
        pytest.param(c, k, o, id=f"{c}-{k}-{'open' if o else 'closed'}")
        for c, k, o in itertools.product(CLI_COMMANDS, CLI_MODELS, (False, True))
    ],
)
def test_cli_every_subcommand_every_charger(command, kind, open_, tmp_path, capsys):
    argv = [*CLI_COMMANDS[command], *CLI_MODELS[kind], "--json"]
    if open_:
        argv += ["--decay", "0.1"]
    if command != "pmax":
        argv += ["--plot", str(tmp_path / "run.png")]
    refused = kind == "dicke" and (open_ or command == "cycle")
    code = main(argv)
    out, err = capsys.readouterr()
    if refused:
        assert code == 2 and "not supported for a DickeChargerModel" in err
        assert len(err.strip().splitlines()) == 1 and out == ""
        return
    assert code == 0, err
    record = json.loads(out)
    assert record["charger"] == kind and record["n_battery"] == 2
    if command != "pmax" or open_:
        assert record["processes"] == ([{"kind": "decay", "rate": 0.1, "target": "battery",
                                         "scope": "local"}] if open_ else [])  # fmt: skip
    if command != "pmax":
        assert (tmp_path / "run.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["pmax", "--nb", "2", "--n", "3", "--horizon", "2"], id="horizon-closed"),
        pytest.param(["pmax", "--nb", "2", "--n", "3", "--battery", "qubits"], id="battery-no-W"),
        pytest.param(["charge", "--nb", "2", "--n", "3", "--cavity-loss", "0.1"], id="loss-spins"),
        pytest.param([*CLI_MODELS["cavity"], "--charger-decay", "0.1"], id="charger-flag-cavity"),
        pytest.param(["charge", *CLI_MODELS["spins"], "--g", "0.5"], id="g-spins"),
        pytest.param(["pmax", *CLI_MODELS["dicke"], "--delta", "0.5"], id="delta-dicke"),
        pytest.param(
            ["cycle", "--tau", "1", "--storage", "1", *CLI_MODELS["cavity"], "--coupling", "0.1"],
            id="coupling-cavity",
        ),  # fmt: skip
    ],
)
def test_cli_flags_that_do_not_apply_are_errors(argv, capsys):
    if argv[0] not in CLI_COMMANDS:
        argv = ["charge", *argv]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "error" in err


@pytest.mark.parametrize("command", list(CLI_COMMANDS))
def test_cli_groups_from_a_model_file(command, tmp_path, capsys):
    """``--charger groups --model-file``: the same doors; the charge equals the API's."""
    spec = {"battery": [[2, 1.1]], "charger": [[2, 0.9], [1, 0.6]], "A": [[0.8, -0.5]],
            "delta": [[0.3, 0.0]], "m": [0], "n": [2, 1]}  # fmt: skip
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(spec))
    argv = [*CLI_COMMANDS[command], "--charger", "groups", "--model-file", str(path), "--json"]
    if command == "cycle":  # a switched coupling needs the open block solver
        assert main(argv) == 2
        assert "not supported for a GroupModel" in capsys.readouterr().err
        return
    assert main(argv) == 0, capsys.readouterr().err
    record = json.loads(capsys.readouterr().out)
    assert record["charger"] == "groups" and record["battery_groups"] == [[2, 1.1]]
    if command == "charge":
        res = qcs.charge(MODELS["groups"], ((0,), (2, 1)), np.linspace(0, 2, 11))
        np.testing.assert_allclose(record["delta_e"], res.delta_energy, atol=1e-12)
    assert main([*argv, "--decay", "0.1"]) == 2
    assert "not supported for a GroupModel" in capsys.readouterr().err
    assert main([*argv, "--nb", "3"]) == 2
    assert "--nb does not apply to --charger groups" in capsys.readouterr().err
