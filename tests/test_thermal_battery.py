"""The Gibbs state of the N_B physical battery spins (and of the whole system), exactly.

Independent route: every spin a qubit. The Hamiltonian is built here from qubit operators
(``qutip.tensor`` of ``sigmaz``/``sigmap``/``sigmam``), the battery's Gibbs state is
``exp(-B S^z / T_B) / Z`` on its 2^N_B levels, the charger's state is embedded with symmetric
qubit kets written out here, ``qutip.mesolve`` evolves the 2^(N_B + N)-level density matrix, and
the battery's reduced state is a partial trace over qubits. The package's rho_B (``qutip.piqs``
basis, blocks summing their copies) is lifted to the qubits with the j-resolved Dicke vectors
of ``references.dicke_projection`` (null space of S^+ and S^- chains) and compared there.
"""

import itertools
import json
import math

import numpy as np
import pytest
import qutip
from tolerances import EXACT_ATOL, ODE_OPTIONS

from qutip_centralspin import CentralSpinModel, charge, max_energy, max_power
from qutip_centralspin.maxima.ergotropy import certified_max_ergotropy
from qutip_centralspin.models.states import spin_coherent_charger
from qutip_centralspin.models.thermal import physical_thermal_charger, thermal_populations
from qutip_centralspin.models.thermal_battery import physical_thermal_state
from qutip_centralspin.observables.ergotropy import EntanglementEntropy, Ergotropy, ergotropy_trace
from qutip_centralspin.solvers import SectorEngine, references
from qutip_centralspin.solvers.mixture import MixtureEvolution

#: mesolve (ODE_OPTIONS: atol 1e-14, rtol 1e-12) on <= 128 levels over t <= 4 (measured ~1e-12)
BRUTE_ATOL = 1e-8


# -- the independent qubit picture --------------------------------------------------------------
def _on(op, i, n):
    ops = [qutip.qeye(2)] * n
    ops[i] = op
    return qutip.tensor(ops)


def _collective(n):
    """S^z, S^+, S^- of n qubits (basis(2, 0) is up)."""
    sz = sum(_on(qutip.sigmaz(), i, n) for i in range(n)) / 2
    sp = sum(_on(qutip.sigmap(), i, n) for i in range(n))
    return sz, sp, sp.dag()


def _symmetric_ket(n, ups):
    """The Dicke state of n qubits with ``ups`` spins up: the normalised sum of basis states."""
    vec = np.zeros(2**n)
    for bits in itertools.product((0, 1), repeat=n):  # bit 0 = up
        if bits.count(0) == ups:
            vec[int("".join(map(str, bits)), 2)] = 1.0
    return vec / np.linalg.norm(vec)


def _embed_symmetric(n, rho_sym):
    """A state of the N + 1 symmetric levels (jmat order: index i has N - i spins up) on n
    qubits."""
    iso = np.column_stack([_symmetric_ket(n, n - i) for i in range(n + 1)])
    return qutip.Qobj(iso @ rho_sym @ iso.T, dims=[[2] * n, [2] * n])


def _gibbs(op, T):
    g = (-op / T).expm()
    return g / g.tr()


def qubit_system(model, T_battery, charger):
    """(H, rho0, B S^z_B) on the 2^(N_B + N) qubit levels. ``charger``: ``("dicke", n)``,
    ``("matrix", rho_sym)`` or ``("gibbs", T_C)``."""
    nb, nc = model.n_battery, model.n_charger
    sz_b, sp_b, sm_b = _collective(nb)
    sz_c, sp_c, sm_c = _collective(nc)
    ib, ic = qutip.qeye([2] * nb), qutip.qeye([2] * nc)
    Sz, Sp, Sm = (qutip.tensor(x, ic) for x in (sz_b, sp_b, sm_b))
    Jz, Jp, Jm = (qutip.tensor(ib, x) for x in (sz_c, sp_c, sm_c))
    H = model.B * Sz + model.h * Jz + model.A * (Sp * Jm + Sm * Jp) + 2 * model.delta * Sz * Jz
    battery = _gibbs(model.B * sz_b, T_battery)
    kind, value = charger
    if kind == "gibbs":
        rho_c = _gibbs(model.h * sz_c, value)
    elif kind == "dicke":
        ket = _symmetric_ket(nc, value)
        rho_c = qutip.Qobj(np.outer(ket, ket), dims=[[2] * nc, [2] * nc])
    else:
        rho_c = _embed_symmetric(nc, value)
    return H, qutip.tensor(battery, rho_c), model.B * Sz


def lift_to_qubits(rho_piqs, n_battery):
    """A PIQS-basis battery state on the 2^N_B qubit levels: block j holds d_j copies, each
    rho_j / d_j, on the j-resolved Dicke vectors |j, m, alpha>."""
    mat = rho_piqs.full() if isinstance(rho_piqs, qutip.Qobj) else rho_piqs
    out = np.zeros((2**n_battery, 2**n_battery), dtype=complex)
    start = 0
    for _, V in references.dicke_projection(n_battery):
        size, copies = V.shape[1], V.shape[2]
        block = mat[start : start + size, start : start + size] / copies
        out += np.einsum("xia,ik,yka->xy", V, block, V.conj())
        start += size
    assert start == mat.shape[0]
    return out


def qubit_ergotropy(rho_b, B, n_battery, battery):
    """Ergotropy of a 2^N_B-level battery state: any unitary ("qubits") or collective ones,
    ladder by ladder ("dicke"), computed on the qubit levels."""
    sz = _collective(n_battery)[0].full().real
    energy = float(np.real(np.trace(B * sz @ rho_b)))
    if battery == "qubits":
        r = np.linalg.eigvalsh(rho_b)[::-1]
        return energy - float(r @ np.sort(np.linalg.eigvalsh(B * sz)))
    passive = 0.0
    for j, V in references.dicke_projection(n_battery):
        block = np.einsum("xia,xy,yka->ik", V.conj(), rho_b, V)
        levels = np.sort(B * (j - np.arange(V.shape[1])))
        passive += float(np.linalg.eigvalsh(block)[::-1] @ levels)
    return energy - passive


def charger_args(model, charger):
    """The package's arguments for the same charger."""
    kind, value = charger
    if kind == "gibbs":
        return {"T_charger": value}
    if kind == "dicke":
        return {"charger": value}
    return {"charger": qutip.Qobj(value)}


def _coherent(model, theta, phi):
    return spin_coherent_charger(model, theta, phi).ptrace(1).full()


def _symmetric_thermal(model, T):
    return np.diag(thermal_populations(model.n_charger, model.h, T)[::-1])


# -- the state -------------------------------------------------------------------------------------
@pytest.mark.parametrize("nb", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("B, T", [(1.0, 1.0), (-0.6, 0.4), (1.3, 4.0), (0.0, 1.0)])
def test_battery_state_is_the_qubit_gibbs_state(nb, B, T):
    """rho_B(0), lifted to the qubits, is exp(-B S^z / T) / Z of N_B qubits."""
    model = CentralSpinModel(nb, 2, B=B)
    state = physical_thermal_state(model, T)
    ref = _gibbs(B * _collective(nb)[0], T).full()
    np.testing.assert_allclose(lift_to_qubits(state.battery_state(), nb), ref, atol=EXACT_ATOL)
    assert state.mean_battery_excitation == pytest.approx(nb / (1 + math.exp(B / T)), abs=1e-12)
    assert sum(b.multiplicity * (nb - 2 * b.r_battery + 1) for b in state.blocks) == 2**nb


@pytest.mark.parametrize("B, ground", [(1.0, 0), (-0.7, 3)])
def test_zero_temperature_is_the_battery_ground_state(B, ground):
    """T_B -> 0: rho_B is |m = 0> (B > 0) or |m = N_B> (B < 0), at t = 0 of the evolution."""
    model = CentralSpinModel(3, 2, B=B)
    state = physical_thermal_state(model, 1e-4)  # the other ladders' weights underflow
    assert [b.r_battery for b in state.blocks] == [0] and state.neglected_weight == 0.0
    ket = np.zeros(qutip.piqs.num_dicke_states(3))
    ket[3 - ground] = 1.0  # jmat order in the first (symmetric) block
    rho = state.evolution().reduced_battery_matrices(0.0)[0]
    np.testing.assert_allclose(rho, np.outer(ket, ket), atol=EXACT_ATOL)
    np.testing.assert_allclose(state.battery_state().full(), np.outer(ket, ket), atol=1e-300)


@pytest.mark.parametrize("nb", [2, 3, 4])
def test_infinite_temperature_is_maximally_mixed(nb):
    """T_B -> inf: rho_B = 1 / 2^N_B on the qubits (every ladder, with its multiplicity)."""
    model = CentralSpinModel(nb, 3, B=1.3)
    rho = physical_thermal_state(model, 1e12).evolution().reduced_battery_matrices(0.0)[0]
    np.testing.assert_allclose(lift_to_qubits(rho, nb), np.eye(2**nb) / 2**nb, atol=1e-11)


def test_blocks_and_their_models():
    """Product Gibbs state of N_B = 2, N = 4: blocks (j_B, j_C) in {1, 0} x {2, 1, 0}; only
    those with j_B, j_C > 0 get a model (and an engine), the others are stationary."""
    model = CentralSpinModel(2, 4, B=0.8, h=1.1, A=0.7, delta=0.3)
    state = physical_thermal_state(model, 0.9, T_charger=1.4)
    pairs = [(b.r_battery, b.r_charger) for b in state.blocks]
    assert pairs == list(itertools.product(range(2), range(3)))
    for b in state.blocks:
        moving = b.r_battery < 1 and b.r_charger < 2
        assert (b.model is not None) == moving
        if moving:
            assert b.model == model.replace(
                n_battery=2 - 2 * b.r_battery, n_charger=4 - 2 * b.r_charger
            )
    assert math.fsum(b.weight for b in state.blocks) == pytest.approx(1.0, abs=EXACT_ATOL)
    evo = state.evolution()
    assert len(evo.parts) == 2 and len(evo.stationary) == 4
    assert evo.basis == "piqs" and evo.battery_dim == qutip.piqs.num_dicke_states(2)


# -- the dynamics against mesolve on qubits ---------------------------------------------------------
CASES = [
    pytest.param(
        CentralSpinModel(1, 3, B=1.1, h=0.9, A=0.8, delta=0.2), 0.7, ("dicke", 3), id="1x3-full"
    ),
    pytest.param(
        CentralSpinModel(2, 3, B=1.0, h=1.2, A=-0.9, delta=0.4), 1.3, ("dicke", 2), id="2x3-n2"
    ),
    # opposite fields: the cold charger's spins are mostly up (down), the battery's down (up),
    # so the battery inverts and the two ergotropies differ (by up to 0.05 and 0.002)
    pytest.param(
        CentralSpinModel(3, 2, B=0.9, h=-1.1, A=0.7, delta=-0.3),
        0.8,
        ("gibbs", 0.3),
        id="3x2-gibbs",
    ),
    pytest.param(
        CentralSpinModel(2, 4, B=-0.8, h=1.0, A=1.1, delta=0.25),
        2.0,
        ("gibbs", 0.6),
        id="2x4-gibbs",
    ),
    pytest.param(
        CentralSpinModel(3, 3, B=1.2, h=1.0, A=0.6, delta=0.5),
        1.0,
        ("coherent", (1.1, 0.4)),
        id="3x3-coherent",
    ),
    pytest.param(
        CentralSpinModel(3, 4, B=1.0, h=0.8, A=0.9, delta=0.0),
        0.6,
        ("thermal", 0.5),
        id="3x4-symmetric-thermal",
    ),
]


def _charger(model, charger):
    kind, value = charger
    if kind == "coherent":
        return ("matrix", _coherent(model, *value))
    if kind == "thermal":
        return ("matrix", _symmetric_thermal(model, value))
    return charger


@pytest.mark.parametrize("model, T, charger", CASES)
def test_charge_matches_mesolve_on_qubits(model, T, charger):
    """E_B(t), Delta E_B, P_B, rho_B(t) (on the qubits) and the ergotropy in both pictures
    against mesolve on 2^(N_B + N) levels (tlist not starting at 0)."""
    charger = _charger(model, charger)
    state = physical_thermal_state(model, T, **charger_args(model, charger))
    tlist = np.linspace(0.4, 3.6, 9)
    e_ops = {
        "W": Ergotropy(model, battery="dicke"),
        "Wq": Ergotropy(model),
        "S": EntanglementEntropy(model),
    }
    res = charge(model, state, tlist, e_ops=e_ops, options={"store_states": True})
    H, rho0, hb = qubit_system(model, T, charger)
    ref = qutip.mesolve(H, rho0, tlist - tlist[0], options={**ODE_OPTIONS, "store_states": True})
    nb = model.n_battery
    energy = np.array([qutip.expect(hb, s) for s in ref.states])
    assert res.initial_energy == pytest.approx(energy[0], abs=EXACT_ATOL)
    np.testing.assert_allclose(res.delta_energy, energy - energy[0], atol=BRUTE_ATOL)
    np.testing.assert_allclose(
        res.power[1:], (energy - energy[0])[1:] / (tlist - tlist[0])[1:], atol=BRUTE_ATOL
    )
    evo = state.evolution()
    traces = {b: ergotropy_trace(evo, tlist - tlist[0], battery=b) for b in ("dicke", "qubits")}
    for i, (mine, theirs) in enumerate(zip(res.states, ref.states, strict=True)):
        rho_b = theirs.ptrace(list(range(nb))).full()
        assert np.abs(lift_to_qubits(mine, nb) - rho_b).max() < BRUTE_ATOL
        w = {b: qubit_ergotropy(rho_b, model.B, nb, b) for b in ("dicke", "qubits")}
        assert res.e_data["W"][i] == pytest.approx(w["dicke"], abs=BRUTE_ATOL)
        assert res.e_data["Wq"][i] == pytest.approx(w["qubits"], abs=BRUTE_ATOL)
        for b in ("dicke", "qubits"):
            assert traces[b].ergotropy[i] == pytest.approx(w[b], abs=BRUTE_ATOL)
        assert w["qubits"] >= w["dicke"] - EXACT_ATOL  # every collective unitary is one
        entropy = -sum(x * math.log(x) for x in np.linalg.eigvalsh(rho_b) if x > 1e-15)
        assert res.e_data["S"][i] == pytest.approx(entropy, abs=1e-7)
        assert traces["dicke"].entropy[i] == pytest.approx(entropy, abs=1e-7)
    np.testing.assert_allclose(traces["dicke"].battery_energy, energy, atol=BRUTE_ATOL)


# -- certified maxima against dense searches ------------------------------------------------------
def random_case(seed):
    """A random model, battery temperature and charger (Dicke, coherent, symmetric thermal,
    physical Gibbs); every fifth case cannot gain energy (B > 0, empty charger n = 0: the
    flip-flop conserves S^z + J^z, so S^z can only fall)."""
    rng = np.random.default_rng(seed)
    nb, n = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    model = CentralSpinModel(
        nb,
        n,
        B=rng.uniform(0.3, 2) * rng.choice([-1, 1]),
        h=rng.uniform(-2, 2),
        A=rng.uniform(0.3, 1.5) * rng.choice([-1, 1]),
        delta=rng.uniform(-1, 1),
    )
    T = float(rng.uniform(0.1, 5))
    kind = seed % 5
    if kind == 0:
        return model.replace(B=abs(model.B)), T, {"charger": 0}
    if kind == 1:
        return model, T, {"charger": int(rng.integers(0, n + 1))}
    if kind == 2:
        return (
            model,
            T,
            {"charger": qutip.Qobj(_coherent(model, rng.uniform(0, 3), rng.uniform(0, 6)))},
        )
    if kind == 3:
        return model, T, {"charger": qutip.Qobj(_symmetric_thermal(model, rng.uniform(0.2, 3)))}
    return model, T, {"T_charger": float(rng.uniform(0.1, 5))}


def check_certified(model, T, kwargs, points=20001):
    """Every certified bracket holds the maximum of a dense grid on the exact solution (never
    above the upper bound; never below the value by more than the tolerance when converged)."""
    state = physical_thermal_state(model, T, **kwargs)
    evo = state.evolution()
    p, e = max_power(model, state), max_energy(model, state)
    end = 3 * p.time if math.isfinite(p.time) and p.time > 0 else 20 / abs(model.A)
    t = np.linspace(0, max(end, e.window[1]), points)
    power = evo.power(t[1:])
    assert power.max() <= p.upper_bound + 1e-12
    if p.converged:
        assert p.value >= power.max() - p.tolerance - 1e-12
    energy = evo.delta_energy(t[t <= e.window[1]])
    assert energy.max() <= e.upper_bound + 1e-12
    if e.converged:
        assert e.value >= energy.max() - e.tolerance - 1e-12
    for battery in ("dicke", "qubits"):
        w = certified_max_ergotropy(evo, battery=battery)
        assert w.converged, w.reason
        grid = np.linspace(*w.window, points) if w.window[1] > 0 else np.zeros(1)
        trace = ergotropy_trace(evo, grid, battery=battery).ergotropy
        assert trace.max() <= w.upper_bound + 1e-12
        assert w.value >= trace.max() - w.tolerance - 1e-12
    return p, e


@pytest.mark.parametrize("seed", range(10))
def test_certified_maxima_random_cases_against_a_dense_grid(seed):
    check_certified(*random_case(seed), points=4001)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 200))
def test_certified_maxima_random_cases_against_a_dense_grid_many(seed):
    check_certified(*random_case(seed))


def test_a_passive_mixture_is_proven_passive_in_both_pictures():
    """A hot battery next to a hotter charger of the same sign stays passive on all 2^N_B
    levels: W = 0 in the qubits picture is proven by the populations' order (the curvature
    bound alone ran out of its budget 2.4e-10 above the tolerance), and a dense grid agrees."""
    model = CentralSpinModel(3, 3, B=-1.874, h=-1.760, A=-0.673, delta=0.436)
    evo = physical_thermal_state(model, 3.927, T_charger=2.740).evolution()
    for battery in ("dicke", "qubits"):
        best = certified_max_ergotropy(evo, battery=battery)
        assert best.converged and abs(best.value) < 1e-15 and best.upper_bound < 1e-12
        grid = ergotropy_trace(evo, np.linspace(*best.window, 4001), battery=battery)
        assert grid.ergotropy.max() <= best.upper_bound


def test_no_charger_excitation_gives_no_gain():
    """B > 0, empty charger: Delta E_B <= 0 at all times (checked on qubits), so P_max = 0
    and E_max = 0 lie in their brackets."""
    model = CentralSpinModel(2, 3, B=1.2, h=0.7, A=0.9, delta=0.3)
    state = physical_thermal_state(model, 1.5, charger=0)
    tlist = np.linspace(0, 6, 61)
    H, rho0, hb = qubit_system(model, 1.5, ("dicke", 0))
    energy = qutip.mesolve(H, rho0, tlist, e_ops=[hb], options=ODE_OPTIONS).expect[0]
    assert np.all(energy - energy[0] <= 1e-10) and energy.min() < energy[0] - 0.1
    p, e = max_power(model, state), max_energy(model, state)
    assert p.value == 0.0 and p.upper_bound >= 0.0 and e.value <= 1e-12 <= e.upper_bound + 1e-12
    res = charge(model, state, tlist)
    np.testing.assert_allclose(res.delta_energy, energy - energy[0], atol=BRUTE_ATOL)


def test_certified_maxima_bracket_the_qubit_maxima():
    """P_max and E_max of the product Gibbs state against a dense grid of the qubit solution
    (exact diagonalisation of the 2^(N_B + N) qubit Hamiltonian, written here)."""
    model = CentralSpinModel(2, 3, B=0.9, h=1.3, A=0.8, delta=0.2)
    state = physical_thermal_state(model, 0.5, T_charger=3.0)  # a hot charger charges
    p, e = max_power(model, state), max_energy(model, state)
    assert p.converged and e.converged and p.value > 0.05
    H, rho0, hb = qubit_system(model, 0.5, ("gibbs", 3.0))
    lam, V = np.linalg.eigh(H.full())
    r0, ob = V.conj().T @ rho0.full() @ V, V.conj().T @ hb.full() @ V
    t = np.union1d(np.linspace(0, e.window[1], 4001), [p.time, e.time])
    phases = np.exp(-1j * np.subtract.outer(lam, lam)[None] * t[:, None, None])
    energy = np.real(np.einsum("tab,ab,ba->t", phases, r0, ob))
    gain = energy - energy[0]
    assert gain.max() <= e.upper_bound + 1e-10
    assert gain[np.searchsorted(t, e.time)] == pytest.approx(e.value, abs=1e-10)
    assert (gain[1:] / t[1:]).max() <= p.upper_bound + 1e-10
    assert gain[np.searchsorted(t, p.time)] / p.time == pytest.approx(p.value, abs=1e-10)


def test_left_out_blocks_widen_the_bracket():
    model = CentralSpinModel(3, 4, B=1.0, h=1.2, A=0.9)
    full = physical_thermal_state(model, 0.7, T_charger=0.8)
    part = physical_thermal_state(model, 0.7, T_charger=0.8, tol=0.05)
    assert part.neglected_weight > 0 and len(part.blocks) < len(full.blocks)
    for find in (max_power, max_energy):
        exact, rough = find(model, full), find(model, part)
        assert rough.value <= exact.value <= rough.upper_bound


def test_reduces_to_the_physical_thermal_charger_when_the_battery_is_cold():
    """T_B -> 0 with B > 0 and T_C: the battery in |m = 0>, the charger's spins thermal."""
    model = CentralSpinModel(2, 4, B=1.1, h=0.9, A=0.8, delta=0.2)
    cold = physical_thermal_state(model, 1e-3, T_charger=0.7)
    known = physical_thermal_charger(model, 0.7)
    t = np.linspace(0, 3, 13)
    np.testing.assert_allclose(
        cold.evolution().delta_energy(t), known.evolution().delta_energy(t), atol=EXACT_ATOL
    )
    assert max_power(model, cold).value == pytest.approx(max_power(model, known).value, rel=1e-12)


# -- the mixture ----------------------------------------------------------------------------------
def test_mixture_refuses_inconsistent_parts():
    model = CentralSpinModel(3, 2)
    evo = SectorEngine(CentralSpinModel(1, 2, B=2.0)).evolve((0, 2))
    with pytest.raises(ValueError, match="field B"):
        MixtureEvolution(model, [(1.0, evo)])
    even = SectorEngine(CentralSpinModel(2, 2)).evolve((0, 2))
    with pytest.raises(ValueError, match="N_B - 2q"):
        MixtureEvolution(model, [(1.0, even)])
    with pytest.raises(ValueError, match="stationary battery block"):
        MixtureEvolution(model, [], stationary=[(1.0, np.eye(3))])
    small = SectorEngine(CentralSpinModel(1, 2)).evolve((0, 2))
    with pytest.raises(ValueError, match="basis='symmetric'"):
        MixtureEvolution(model, [(1.0, small)], basis="symmetric")
    with pytest.raises(ValueError, match="basis must be"):
        MixtureEvolution(model, [(1.0, small)], basis="dicke")


# -- inputs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        pytest.param({"T_battery": 0.0}, "T_battery must be a finite real number > 0", id="T0"),
        pytest.param({"T_battery": math.nan}, "T_battery", id="Tnan"),
        pytest.param({"charger": 5}, r"charger must be an integer in \[0, 4\], got 5", id="n"),
        pytest.param({"charger": -1}, r"charger must be an integer in \[0, 4\]", id="neg"),
        pytest.param({"charger": 1.5}, "charger must be a Dicke label", id="float"),
        pytest.param({"charger": True}, "charger must be a Dicke label", id="bool"),
        pytest.param({"charger": qutip.basis(4, 0)}, r"dims \[\[5\], \[1\]\]", id="dims"),
        pytest.param({"charger": 2 * qutip.basis(5, 0)}, "normalised", id="norm"),
        pytest.param({"charger": 2, "T_charger": 1.0}, "not both", id="both"),
        pytest.param({"T_charger": -1.0}, "T_charger must be", id="Tc"),
        pytest.param({"tol": -0.1}, "tol must be", id="tol"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    kwargs = {"T_battery": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        physical_thermal_state(CentralSpinModel(2, 4), **kwargs)


@pytest.mark.parametrize("make", [physical_thermal_state, physical_thermal_charger])
def test_entry_points_refuse_what_they_cannot_run(make):
    """Both Gibbs states of physical spins: exact closed engine only, their own model."""
    model = CentralSpinModel(2, 3)
    state = make(model, 1.0)
    with pytest.raises(ValueError, match="exact closed engine only"):
        charge(model, state, [0, 1], solver="sesolve")
    with pytest.raises(ValueError, match="different model"):
        charge(model.replace(B=2.0), state, [0, 1])
    with pytest.raises(ValueError, match="different model"):
        max_power(model.replace(n_charger=4), state)
    with pytest.raises(ValueError, match="engine must be None"):
        max_energy(model, state, engine=SectorEngine(model))


def test_cli_pmax_battery_state(capsys):
    """``--battery-state gibbs:T`` with a Gibbs charger is the product Gibbs state."""
    from qutip_centralspin.cli import main

    args = ["pmax", "--nb", "2", "--n", "3", "--B", "0.9", "--h", "1.3", "--A", "0.8"]
    code = main([*args, "--battery-state", "gibbs:0.5", "--charger-state", "gibbs:3", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    data = json.loads(out)
    model = CentralSpinModel(2, 3, B=0.9, h=1.3, A=0.8)
    p = max_power(model, physical_thermal_state(model, 0.5, T_charger=3.0))
    assert data["battery_state"] == "gibbs:0.5" and data["p_max_converged"] is True
    assert data["p_max"] == pytest.approx(p.value, rel=1e-14)
    assert data["p_max_upper"] == pytest.approx(p.upper_bound, rel=1e-14)
    assert main([*args, "--battery-state", "gibbs:0", "--json"]) == 2
    assert "T_battery must be" in capsys.readouterr().err
    assert main([*args, "--battery-state", "gibbs:1", "--m0", "1"]) == 2
    assert "--m0" in capsys.readouterr().err
