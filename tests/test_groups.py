"""The multi-group model and its exact engine against a brute-force build on qubits.

The reference puts every spin on its own qubit (sigma / 2 from Pauli matrices with
``qutip.tensor``), writes H from the formula with the spins of a group summed, builds each
group's Dicke state by symmetrising over the placements of its flipped spins, and runs
``qutip.sesolve``: it uses neither ``qutip.jmat`` nor the package's index conventions.
"""

import itertools

import numpy as np
import pytest
import qutip
from tolerances import CERTIFIED_RTOL, EXACT_ATOL, EXACT_RTOL, ODE_ATOL, ODE_OPTIONS, STATE_ATOL

from qutip_centralspin import CentralSpinModel, charge, dicke_state, max_power
from qutip_centralspin import hamiltonian as spin_hamiltonian
from qutip_centralspin.maxima.certified import max_energy
from qutip_centralspin.models.groups import (
    Gibbs,
    GroupModel,
    battery_hamiltonian,
    from_central_spin,
    hamiltonian,
)
from qutip_centralspin.models.groups import dicke_state as group_dicke
from qutip_centralspin.models.thermal import physical_thermal_charger
from qutip_centralspin.solvers.group_engine import GroupEngine, charge_groups

UP, DOWN = qutip.basis(2, 0), qutip.basis(2, 1)  # sigma_z UP = +UP


# -- the qubit reference ----------------------------------------------------------------------
class Qubits:
    """Every spin of ``model`` on its own qubit, groups in the model's order."""

    def __init__(self, model: GroupModel):
        self.model = model
        self.sizes = list(model.battery_sizes + model.charger_sizes)
        self.n = sum(self.sizes)
        first = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self.groups = [range(f, f + s) for f, s in zip(first, self.sizes, strict=True)]
        self.collective = [self._collective(g) for g in self.groups]

    def _site(self, op, i):
        ops = [qutip.qeye(2)] * self.n
        ops[i] = op
        return qutip.tensor(ops)

    def _collective(self, spins):
        sz = sum(self._site(qutip.sigmaz() / 2, i) for i in spins)
        sp = sum(self._site(qutip.sigmap(), i) for i in spins)
        return sz, sp, sp.dag()

    def battery_hamiltonian(self):
        nb = len(self.model.battery)
        return sum(b * self.collective[a][0] for a, (_, b) in enumerate(self.model.battery[:nb]))

    def hamiltonian(self):
        mod, nb = self.model, len(self.model.battery)
        H = self.battery_hamiltonian()
        for b, (_, h) in enumerate(mod.charger):
            H = H + h * self.collective[nb + b][0]
        for a in range(nb):
            sz, sp, sm = self.collective[a]
            for b in range(len(mod.charger)):
                jz, jp, jm = self.collective[nb + b]
                H = H + mod.A[a, b] * (sp * jm + sm * jp) + 2 * mod.delta[a, b] * sz * jz
        return H

    @staticmethod
    def _symmetric(size, up):
        """The normalised sum of the ``size``-qubit states with ``up`` spins up."""
        terms = [
            qutip.tensor([UP if i in ups else DOWN for i in range(size)])
            for ups in itertools.combinations(range(size), up)
        ]
        return sum(terms).unit()

    def dicke(self, labels):
        """Product of the groups' symmetric states with ``labels`` flipped spins."""
        return qutip.tensor(
            [self._symmetric(s, x) for s, x in zip(self.sizes, labels, strict=True)]
        )

    def isometry(self):
        """Columns: the qubit images of the group Dicke product basis in QuTiP (jmat) order,
        found by matching each group's S^z eigenvalue (index i of a factor: i flipped down)."""
        columns = []
        for index in itertools.product(*[range(s + 1) for s in self.sizes]):
            labels = [
                s - i for s, i in zip(self.sizes, index, strict=True)
            ]  # descending m_z within a factor
            columns.append(self.dicke(labels).full()[:, 0])
        return np.array(columns).T

    def energies(self, labels, tlist):
        """E_B on ``tlist`` from sesolve (initial state at tlist[0])."""
        result = qutip.sesolve(
            self.hamiltonian(),
            self.dicke(labels),
            tlist,
            e_ops=[self.battery_hamiltonian()],
            options=ODE_OPTIONS,
        )
        return np.asarray(result.expect[0]).real


def _random_model(seed, battery_sizes, charger_sizes, *, zero=True, charging=False):
    """Random fields and couplings (a zero and negative ones); ``charging``: battery fields
    in [0.5, 2] and charger fields of either sign, so the empty battery gains energy."""
    rng = np.random.default_rng(seed)
    shape = (len(battery_sizes), len(charger_sizes))
    A = rng.uniform(-1.5, 1.5, shape)
    delta = rng.uniform(-0.5, 0.5, shape)
    if zero:
        A.flat[0] = 0.0  # a pair with no flip-flop coupling
        delta.flat[-1] = 0.0
    return GroupModel(
        battery=[(n, float(rng.uniform(0.5 if charging else -2, 2))) for n in battery_sizes],
        charger=[(n, float(rng.uniform(-2, 2))) for n in charger_sizes],
        A=A,
        delta=delta,
    )


CASES = [
    pytest.param((2, 1), (3,), (0, 1), (3,), id="2-battery-groups-1-charger"),
    pytest.param((2,), (3, 2), (0,), (3, 1), id="1-battery-2-chargers"),
    pytest.param((1, 2), (2, 2), (1, 0), (2, 2), id="2x2-groups"),
    pytest.param((1,), (2, 2, 3), (0,), (2, 1, 3), id="3-charger-groups"),
]


@pytest.mark.parametrize("battery, charger, m, n", CASES)
def test_energy_and_power_match_qubits(battery, charger, m, n):
    model = _random_model(sum(battery) * 7 + len(charger), battery, charger)
    tlist = np.linspace(0.7, 3.2, 26)  # the origin is tlist[0], not 0
    reference = Qubits(model).energies(m + n, tlist)
    result = charge_groups(model, (m, n), tlist)
    delta = reference - reference[0]
    np.testing.assert_allclose(result.delta_energy, delta, atol=ODE_ATOL)
    elapsed = tlist - tlist[0]
    np.testing.assert_allclose(result.power[1:], delta[1:] / elapsed[1:], atol=ODE_ATOL / 0.1)
    assert result.initial_energy == pytest.approx(reference[0], abs=ODE_ATOL)


@pytest.mark.parametrize("battery, charger, m, n", CASES)
def test_hamiltonian_is_the_qubit_hamiltonian_on_the_symmetric_space(battery, charger, m, n):
    model = _random_model(3, battery, charger)
    qubits = Qubits(model)
    v = qubits.isometry()
    np.testing.assert_allclose(
        v.conj().T @ qubits.hamiltonian().full() @ v, hamiltonian(model).full(), atol=EXACT_ATOL
    )
    np.testing.assert_allclose(
        v.conj().T @ qubits.battery_hamiltonian().full() @ v,
        battery_hamiltonian(model).full(),
        atol=EXACT_ATOL,
    )
    np.testing.assert_allclose(
        v @ group_dicke(model, m, n).full(), qubits.dicke(m + n).full(), atol=EXACT_ATOL
    )


@pytest.mark.parametrize("battery, charger, m, n", CASES[1:3])
def test_states_match_qubits(battery, charger, m, n):
    model = _random_model(11, battery, charger)
    qubits = Qubits(model)
    tlist = [0.5, 1.0, 2.5]
    ref = qutip.sesolve(qubits.hamiltonian(), qubits.dicke(m + n), tlist, options=ODE_OPTIONS)
    result = charge_groups(model, group_dicke(model, m, n), tlist, options={"store_states": True})
    v = qubits.isometry()
    for got, want in zip(result.states, ref.states, strict=True):
        assert got.dims == model.ket_dims
        np.testing.assert_allclose(v @ got.full(), want.full(), atol=STATE_ATOL)


@pytest.mark.parametrize("battery, charger, m, n", CASES)
def test_sector_hamiltonian_is_the_block_of_H(battery, charger, m, n):
    model = _random_model(5, battery, charger)
    engine = GroupEngine(model)
    H = hamiltonian(model).full()
    k = sum(m) + sum(n)
    index = engine.label_index(engine.sector_labels(k))
    np.testing.assert_allclose(
        engine.sector_hamiltonian(k), H[np.ix_(index, index)].real, atol=EXACT_ATOL
    )
    assert np.all(engine.excitations[index] == k)


def test_density_matrix_mixture_matches_qubit_runs():
    model = _random_model(17, (2,), (2, 2))
    qubits = Qubits(model)
    tlist = np.linspace(1.0, 2.0, 6)
    labels = [((0,), (2, 2)), ((1,), (2, 0))]  # different sectors, weights 0.3 / 0.7
    rho = 0.3 * group_dicke(model, *labels[0], dm=True) + 0.7 * group_dicke(
        model, *labels[1], dm=True
    )
    want = sum(
        p * qubits.energies(m + n, tlist) for p, (m, n) in zip((0.3, 0.7), labels, strict=True)
    )
    got = charge_groups(model, rho, tlist)
    np.testing.assert_allclose(got.delta_energy, want - want[0], atol=ODE_ATOL)
    mixture = GroupEngine(model).evolve_mixture({labels[0]: 0.3, labels[1]: 0.7})
    np.testing.assert_allclose(
        mixture.delta_energy(tlist - tlist[0]), want - want[0], atol=ODE_ATOL
    )


def test_reduced_battery_state_is_the_partial_trace():
    model = _random_model(23, (1, 1), (2,))
    evo = GroupEngine(model).evolve({((0, 0), (2,)): 1.0, ((1, 0), (2,)): 1.0j})
    t = np.array([0.0, 0.4, 1.3])
    nb = len(model.battery)
    for rho_b, psi in zip(evo.reduced_battery_state(t), evo.states(t), strict=True):
        np.testing.assert_allclose(
            rho_b.full(), psi.ptrace(list(range(nb))).full(), atol=EXACT_ATOL
        )


def test_density_matrix_with_sector_coherences():
    """A pure state given as a density matrix (coherent across sectors) evolves as the ket."""
    model = _random_model(29, (1, 1), (2,))
    psi = (
        group_dicke(model, (0, 0), (2,))
        + 0.6j * group_dicke(model, (1, 0), (1,))
        + 0.5 * group_dicke(model, (1, 1), (1,))
    ).unit()  # sectors K = 2 and 3
    engine = GroupEngine(model)
    ket, dm = engine.evolve(psi), engine.evolve(psi.proj())
    t = np.array([0.0, 0.7, 1.9])
    np.testing.assert_allclose(dm.battery_energy(t), ket.battery_energy(t), atol=EXACT_ATOL)
    np.testing.assert_allclose(
        dm.reduced_battery_matrices(t), ket.reduced_battery_matrices(t), atol=EXACT_ATOL
    )
    for rho, phi in zip(dm.states(t), ket.states(t), strict=True):
        np.testing.assert_allclose(rho.full(), phi.proj().full(), atol=EXACT_ATOL)


# -- one group each is CentralSpinModel -------------------------------------------------------
ONE_GROUP = [
    pytest.param(dict(n_battery=3, n_charger=7), 0, 7, id="paper-box"),
    pytest.param(
        dict(n_battery=4, n_charger=5, B=1.3, h=-0.4, A=-0.8, delta=0.3), 1, 4, id="signs"
    ),
    pytest.param(
        dict(n_battery=2, n_charger=9, B=0.7, h=2.0, A=1.1, delta=-0.6), 0, 9, id="delta"
    ),
]


@pytest.mark.parametrize("params, m0, n0", ONE_GROUP)
def test_one_group_is_the_central_spin_model(params, m0, n0):
    spin = CentralSpinModel(**params)
    model = from_central_spin(spin)
    tlist = np.linspace(0.3, 6.0, 40)
    want = charge(spin, dicke_state(spin, m0, n0), tlist)
    got = charge_groups(model, ((m0,), (n0,)), tlist)
    scale = spin.n_battery * abs(spin.B)
    np.testing.assert_allclose(got.delta_energy, want.delta_energy, atol=EXACT_RTOL * scale)
    np.testing.assert_allclose(got.power, want.power, atol=EXACT_RTOL * scale)
    np.testing.assert_allclose(
        hamiltonian(model).full(),
        spin_hamiltonian(spin).full(),
        atol=EXACT_ATOL,
    )
    p_spin = max_power(spin, dicke_state(spin, m0, n0))
    p_group = max_power(model, ((m0,), (n0,)))
    assert p_group.converged and p_spin.converged
    assert p_group.value == pytest.approx(p_spin.value, rel=10 * CERTIFIED_RTOL)
    e_spin = max_energy(spin, dicke_state(spin, m0, n0))
    e_group = max_energy(model, ((m0,), (n0,)))
    assert e_group.value == pytest.approx(e_spin.value, rel=10 * CERTIFIED_RTOL)


@pytest.mark.parametrize(
    "battery, charger",
    [
        pytest.param((3, 2), (30,), id="battery-split"),
        pytest.param((4,), (12, 10, 8), id="charger-split"),
        pytest.param((2, 2), (15, 15), id="both-split"),
    ],
)
def test_equal_groups_polarised_are_one_group(battery, charger):
    """Groups with equal fields and couplings, all down (battery) or all up (charger), are one
    fully polarised collective spin of the total size: the state lies in its symmetric space."""
    B, h, A, delta = 0.9, 1.2, -0.8, 0.15
    model = GroupModel(
        battery=[(n, B) for n in battery], charger=[(n, h) for n in charger], A=A, delta=delta
    )
    spin = CentralSpinModel(sum(battery), sum(charger), B=B, h=h, A=A, delta=delta)
    tlist = np.linspace(0.2, 2.0, 30)
    state = ((0,) * len(battery), tuple(charger))
    got = charge_groups(model, state, tlist)
    want = charge(spin, dicke_state(spin, 0, spin.n_charger), tlist)
    scale = spin.n_battery * abs(B)
    np.testing.assert_allclose(got.delta_energy, want.delta_energy, atol=EXACT_RTOL * scale)
    p_group = max_power(model, state)
    p_spin = max_power(spin, (0, spin.n_charger))
    assert p_group.converged
    assert p_group.value == pytest.approx(p_spin.value, rel=10 * CERTIFIED_RTOL)


# -- certified maxima against a dense brute-force grid -----------------------------------------
@pytest.mark.parametrize(
    "battery, charger, m, n",
    [
        pytest.param((2, 1), (3,), (0, 0), (3,), id="2-battery-groups-1-charger"),
        pytest.param((2,), (3, 2), (0,), (3, 1), id="1-battery-2-chargers"),
        pytest.param((1, 2), (2, 2), (1, 0), (2, 2), id="2x2-groups"),
    ],
)
def test_certified_pmax_bounds_the_qubit_grid(battery, charger, m, n):
    model = _random_model(31, battery, charger, charging=True)
    best = max_power(model, (m, n))
    assert best.converged
    assert best.upper_bound - best.value <= CERTIFIED_RTOL * abs(best.value) + 1e-12
    qubits = Qubits(model)
    tlist = np.linspace(0.0, 3 * best.time, 600)
    energy = qubits.energies(m + n, tlist)
    power = (energy[1:] - energy[0]) / tlist[1:]
    assert np.all(power <= best.upper_bound + ODE_ATOL / tlist[1])
    # the value is attained: the qubits reach it at the certified time
    at = qubits.energies(m + n, [0.0, best.time])
    assert (at[1] - at[0]) / best.time == pytest.approx(best.value, abs=ODE_ATOL)


# -- validation -------------------------------------------------------------------------------
ONE, TWO = [(1, 1.0)], [(2, 1.0)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        pytest.param(dict(battery=[], charger=TWO), r"battery must be a non-empty", id="empty"),
        pytest.param(
            dict(battery=[(0, 1.0)], charger=TWO),
            r"battery\[0\] size N must be an integer >= 1, got 0",
            id="size",
        ),
        pytest.param(
            dict(battery=ONE, charger=[(2, float("nan"))]),
            r"charger\[0\] field h must be a finite",
            id="field",
        ),
        pytest.param(
            dict(battery=ONE, charger=TWO + ONE, A=[1.0, 2.0, 3.0]),
            r"A must be .* 1 x 2 matrix .* got shape \(3,\)",
            id="A-shape",
        ),
        pytest.param(
            dict(battery=ONE, charger=TWO, delta=[[np.inf]]), r"delta must have finite", id="inf"
        ),
        pytest.param(
            dict(battery=[(1, 1.0, 2.0)], charger=TWO), r"battery\[0\] must be a pair", id="triple"
        ),
    ],
)
def test_model_refuses_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GroupModel(**kwargs)


def test_couplings_accept_scalars_and_arrays():
    scalar = GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0), (3, 0.5)], A=np.float64(0.5))
    zero_d = GroupModel(battery=ONE, charger=TWO + [(3, 0.5)], A=np.array(0.5))
    np.testing.assert_array_equal(scalar.A, [[0.5, 0.5]])
    np.testing.assert_array_equal(zero_d.A, scalar.A)
    np.testing.assert_array_equal(scalar.delta, [[0.0, 0.0]])


def test_couplings_are_read_only():
    model = GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0)], A=0.5)
    with pytest.raises(ValueError, match="read-only"):
        model.A[0, 0] = 2.0


@pytest.mark.parametrize(
    "state, error, match",
    [
        pytest.param(
            ((2,), (1, 1)), ValueError, r"m\[0\] must be an integer in \[0, 1\], got 2", id="m"
        ),
        pytest.param(
            ((0,), (1,)), ValueError, r"n must have one excitation number per group \(2\)", id="n"
        ),
        pytest.param(qutip.basis(6, 0), ValueError, r"state has dims", id="dims"),
        pytest.param([0, 1], TypeError, r"state must be a ket", id="type"),
    ],
)
def test_engine_refuses_bad_states(state, error, match):
    model = GroupModel(battery=[(1, 1.0)], charger=[(1, 1.0), (2, 1.0)])
    with pytest.raises(error, match=match):
        GroupEngine(model).evolve(state)


@pytest.mark.slow
def test_ten_qubits_in_three_groups_match():
    model = _random_model(41, (2, 1), (4, 3))
    tlist = np.linspace(0.5, 4.0, 30)
    m, n = (1, 0), (4, 2)
    reference = Qubits(model).energies(m + n, tlist)
    result = charge_groups(model, (m, n), tlist)
    np.testing.assert_allclose(result.delta_energy, reference - reference[0], atol=ODE_ATOL)


# -- Gibbs groups: mixtures over the groups' total spins ---------------------------------------
def _qubit_state(qubits, labels, fields):
    """Product over groups: the symmetric Dicke state, or the Gibbs state of the physical
    spins (each qubit e^{-F sigma^z / 2T} / z) for a Gibbs label."""
    factors = []
    for size, label, field in zip(qubits.sizes, labels, fields, strict=True):
        if isinstance(label, Gibbs):
            one = (-field * qutip.sigmaz() / (2 * label.T)).expm()
            factors.append(qutip.tensor([one.unit()] * size))
        else:
            factors.append(qubits._symmetric(size, label).proj())
    return qutip.tensor(factors)


GIBBS_CASES = [
    pytest.param((2,), (3, 2), (0,), (Gibbs(1.5), 2), id="thermal-charger-group"),
    pytest.param((2, 1), (3,), (Gibbs(0.8), 0), (3,), id="thermal-battery-group"),
    pytest.param((1,), (2, 2), (0,), (Gibbs(0.7), Gibbs(3.0)), id="two-thermal-chargers"),
]


@pytest.mark.parametrize("battery, charger, m, n", GIBBS_CASES)
def test_gibbs_groups_match_qubits(battery, charger, m, n):
    model = _random_model(53, battery, charger, charging=True)
    qubits = Qubits(model)
    fields = list(model.battery_fields) + list(model.charger_fields)
    rho0 = _qubit_state(qubits, m + n, fields)
    tlist = np.linspace(0.5, 3.0, 21)
    ref = qutip.mesolve(
        qubits.hamiltonian(),
        rho0,
        tlist,
        e_ops=[qubits.battery_hamiltonian()],
        options=ODE_OPTIONS,
    )
    energy = np.asarray(ref.expect[0]).real
    got = charge_groups(model, (m, n), tlist)
    np.testing.assert_allclose(got.delta_energy, energy - energy[0], atol=ODE_ATOL)
    assert got.initial_energy == pytest.approx(energy[0], abs=ODE_ATOL)
    best = max_power(model, (m, n))
    assert best.converged
    grid = np.linspace(0.0, 3 * best.time, 300)
    curve = qutip.mesolve(
        qubits.hamiltonian(), rho0, grid, e_ops=[qubits.battery_hamiltonian()], options=ODE_OPTIONS
    ).expect[0]
    power = (np.asarray(curve[1:]).real - energy[0]) / grid[1:]
    assert np.all(power <= best.upper_bound + ODE_ATOL / grid[1])
    assert power.max() >= best.value - 1e-3 * best.value  # the grid comes close to the peak


def test_one_thermal_group_is_the_physical_thermal_charger():
    spin = CentralSpinModel(n_battery=2, n_charger=7, B=1.0, h=0.6, A=0.9, delta=0.2)
    model = from_central_spin(spin)
    tlist = np.linspace(0.3, 4.0, 30)
    want = charge(spin, physical_thermal_charger(spin, T=1.7), tlist)
    got = charge_groups(model, ((0,), (Gibbs(1.7),)), tlist)
    np.testing.assert_allclose(got.delta_energy, want.delta_energy, atol=EXACT_RTOL * 2)
    p_spin = max_power(spin, physical_thermal_charger(spin, T=1.7))
    assert max_power(model, ((0,), (Gibbs(1.7),))).value == pytest.approx(
        p_spin.value, rel=10 * CERTIFIED_RTOL
    )


def test_gibbs_groups_refuse_states_and_bad_temperatures():
    model = GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0)])
    with pytest.raises(ValueError, match=r"states and e_ops are not available"):
        charge_groups(model, ((0,), (Gibbs(1.0),)), [0.0, 1.0], options={"store_states": True})
    with pytest.raises(ValueError, match=r"T must be a finite real number > 0, got -1.0"):
        Gibbs(-1.0)


def test_engine_is_reused_and_checked():
    model = _random_model(61, (2,), (3, 2), charging=True)
    engine = GroupEngine(model)
    state = ((0,), (3, 2))
    assert max_power(model, state, engine=engine).value == max_power(model, state).value
    assert engine.sector(5).size > 0  # the engine kept its sector
    other = GroupEngine(model.replace(delta=0.3))
    with pytest.raises(ValueError, match=r"engine must be a GroupEngine built for this model"):
        charge_groups(model, state, [0.0, 1.0], engine=other)
    with pytest.raises(ValueError, match=r"engine must be None for a state with Gibbs groups"):
        max_power(model, ((0,), (Gibbs(1.0), 2)), engine=engine)
