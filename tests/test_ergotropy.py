"""Ergotropy and entanglement of the battery against independent routes.

Closed forms (a qubit's Bloch vector), pure and passive states, brute-force diagonalisation of
the 2^N_B-qubit battery, brute-force minimisation over permutations (the sorting theorem itself),
explicit full-space construction of j-resolved (PIQS) block states, QuTiP ``sesolve`` with the
e_ops callbacks against the exact engine.
"""

import itertools
import math

import numpy as np
import pytest
import qutip
from qutip import piqs
from tolerances import ODE_OPTIONS

from qutip_centralspin import CentralSpinModel, dicke_state, hamiltonian
from qutip_centralspin.maxima import ergotropy as maxima_ergotropy
from qutip_centralspin.observables import ergotropy as erg
from qutip_centralspin.paper import analytic
from qutip_centralspin.solvers import SectorEngine

EXACT_ATOL = 1e-12  # eigvalsh of <= 64x64 matrices of norm <= ~3 and sums of <= 64 terms
BRUTE_ATOL = 1e-10  # full 2^6 = 64-level diagonalisation vs sorted Dicke spectrum, round-off
ODE_ATOL = 1e-7  # sesolve with atol 1e-12, rtol 1e-10 over ~4 time units, W and S of norm <~ 3
ENTROPY_ATOL = 1e-10  # x log x near x ~ 1e-12 eigenvalues: round-off ~ 1e-11

MODEL = CentralSpinModel(n_battery=3, n_charger=5, B=1.3, h=0.8, A=0.9, delta=0.2)


def random_density(dim, rng, rank=None):
    """Random density matrix of the given rank (full rank by default)."""
    rank = dim if rank is None else rank
    x = rng.normal(size=(dim, rank)) + 1j * rng.normal(size=(dim, rank))
    rho = x @ x.conj().T
    return rho / np.trace(rho).real


def battery_qobj(rho):
    return qutip.Qobj(rho, dims=[[rho.shape[0]], [rho.shape[0]]])


def symmetric_isometry(n):
    """Columns: Dicke states of n qubits in jmat order (index i <-> m = n - i spins up).

    QuTiP's qubit basis(2, 0) is spin up (sigma_z = +1), so 'up' is bit value 0.
    """
    v = np.zeros((2**n, n + 1))
    for idx in range(2**n):
        ups = n - bin(idx).count("1")
        v[idx, n - ups] = 1.0
    return v / np.linalg.norm(v, axis=0)


def qubit_sz(n):
    """S^z = sum_i sigma^z_i / 2 on 2^n levels, built from qutip.sigmaz."""
    ops = [
        qutip.tensor([qutip.sigmaz() if k == i else qutip.qeye(2) for k in range(n)])
        for i in range(n)
    ]
    return (0.5 * sum(ops)).full()


def brute_force_ergotropy(rho, h):
    """tr(H rho) - sum(eig(rho) desc * eig(H) asc): plain full-space diagonalisation."""
    r = np.linalg.eigvalsh(rho)[::-1]
    e = np.linalg.eigvalsh(h)
    return float(np.trace(h @ rho).real - r @ e)


def permutation_ergotropy(rho, levels):
    """max over all assignments of populations to levels (no sorting theorem used)."""
    r = np.linalg.eigvalsh(rho)
    energy = float(np.real(np.sum(np.diagonal(rho) * levels)))
    passive = min(float(r @ np.array(perm)) for perm in itertools.permutations(levels))
    return energy - passive


# -- closed forms ---------------------------------------------------------------------------
@pytest.mark.parametrize("B", [1.0, 2.5, -0.7])
@pytest.mark.parametrize("battery", erg.BATTERY_KINDS)
def test_qubit_bloch_vector_closed_form(B, battery, rng):
    """N_B = 1, H_B = B sigma^z/2: W = (B r_z + |B||r|)/2 (= (B/2)(r_z + |r|) for B > 0)."""
    model = CentralSpinModel(1, 2, B=B)
    for _ in range(20):
        r = rng.normal(size=3)
        r *= rng.uniform(0, 1) / np.linalg.norm(r)
        rho = 0.5 * (
            qutip.qeye(2) + r[0] * qutip.sigmax() + r[1] * qutip.sigmay() + r[2] * qutip.sigmaz()
        )
        expected = 0.5 * (B * r[2] + abs(B) * np.linalg.norm(r))
        assert erg.battery_ergotropy(model, rho, battery=battery) == pytest.approx(
            expected, abs=EXACT_ATOL
        )
        # the same battery state inside a full-space product state
        full = qutip.tensor(rho, qutip.rand_dm(3, seed=1))
        assert erg.battery_ergotropy(model, full, battery=battery) == pytest.approx(
            expected, abs=EXACT_ATOL
        )


@pytest.mark.parametrize("n_battery", [1, 2, 4, 7])
@pytest.mark.parametrize("battery", erg.BATTERY_KINDS)
def test_pure_states_give_energy_above_ground(n_battery, battery, rng):
    """Pure rho_B: W = E - E_ground = E + |B| N_B/2 in both pictures."""
    model = CentralSpinModel(n_battery, 3, B=0.9)
    for _ in range(5):
        psi = qutip.Qobj(
            rng.normal(size=n_battery + 1) + 1j * rng.normal(size=n_battery + 1)
        ).unit()
        state = qutip.tensor(psi, qutip.basis(4, 1))
        energy = qutip.expect(0.9 * qutip.jmat(n_battery / 2, "z"), psi)
        expected = energy + 0.9 * n_battery / 2
        assert erg.battery_ergotropy(model, state, battery=battery) == pytest.approx(
            expected, abs=EXACT_ATOL
        )
        assert erg.entanglement_entropy(model, state) == pytest.approx(0.0, abs=ENTROPY_ATOL)


@pytest.mark.parametrize("battery", erg.BATTERY_KINDS)
def test_passive_states_have_zero_ergotropy(battery, rng):
    """Populations decreasing with energy, no coherences: passive for the N_B + 1 Dicke levels,
    W = 0 (B > 0 and B < 0); not passive for 2^N_B qubits, where W is the brute-force value."""
    nb = 4
    v = symmetric_isometry(nb)
    for B in (1.0, -1.0):
        model = CentralSpinModel(nb, 2, B=B)
        p = np.sort(rng.uniform(size=nb + 1))[::-1]
        p /= p.sum()
        # jmat index i has energy B (N_B/2 - i): ascending energy is index 4..0 for B > 0
        diag = p[::-1] if B > 0 else p
        rho = battery_qobj(np.diag(diag))
        expected = 0.0
        if battery == "qubits":
            expected = brute_force_ergotropy(v @ np.diag(diag) @ v.T, B * qubit_sz(nb))
            assert expected > 1e-3  # passive for N_B + 1 levels is not passive for 2^N_B
        w = erg.battery_ergotropy(model, rho, battery=battery)
        assert w == pytest.approx(expected, abs=BRUTE_ATOL)


def test_maximally_mixed_states():
    """Maximally mixed symmetric battery: W_dicke = 0, but as qubits E = 0 and the passive state
    fills the ground level and N_B of the N_B-fold first excited level:
    W_qubits = |B| (N_B/2 - N_B/(N_B+1)). The maximally mixed state of all 2^N_B qubits (a PIQS
    block state) has W = 0 and S = N_B ln 2.
    """
    nb, B = 4, 1.5
    model = CentralSpinModel(nb, 1, B=B)
    rho = battery_qobj(np.eye(nb + 1) / (nb + 1))
    assert erg.battery_ergotropy(model, rho, battery="dicke") == pytest.approx(0.0, abs=EXACT_ATOL)
    expected = B * (nb / 2 - nb / (nb + 1))
    assert erg.battery_ergotropy(model, rho, battery="qubits") == pytest.approx(
        expected, abs=EXACT_ATOL
    )
    js, mult = erg.dicke_multiplicities(nb)
    blocks = [d * np.eye(int(2 * j + 1)) / 2**nb for j, d in zip(js, mult, strict=True)]
    assert erg.block_ergotropy(blocks, mult, B=B) == pytest.approx(0.0, abs=EXACT_ATOL)
    assert erg.block_entropy(blocks, mult) == pytest.approx(nb * math.log(2), abs=ENTROPY_ATOL)


def test_sorting_pairs_largest_population_with_lowest_energy():
    """A diagonal state where pairing both ascending is wrong (and even gives W < 0)."""
    model = CentralSpinModel(2, 1, B=1.0)
    p = {0: 0.2, 1: 0.5, 2: 0.3}  # populations of m = 0, 1, 2 (energies -1, 0, 1)
    rho = battery_qobj(np.diag([p[2], p[1], p[0]]))  # jmat order: m = 2 first
    energy = -p[0] + p[2]
    correct = energy - (0.5 * -1 + 0.3 * 0 + 0.2 * 1)  # largest population on the ground level
    naive = energy - (0.2 * -1 + 0.3 * 0 + 0.5 * 1)  # ascending with ascending
    assert correct == pytest.approx(0.4) and naive == pytest.approx(-0.2)
    assert erg.battery_ergotropy(model, rho, battery="dicke") == pytest.approx(
        correct, abs=EXACT_ATOL
    )
    assert erg.passive_energy([0.2, 0.5, 0.3], [1.0, 0.0, -1.0]) == pytest.approx(-0.3)


@pytest.mark.parametrize("n_battery", [1, 2, 3, 4])
def test_dicke_ergotropy_equals_permutation_brute_force(n_battery, rng):
    """The sorting theorem checked by trying every assignment of populations to levels."""
    B = 0.8
    model = CentralSpinModel(n_battery, 1, B=B)
    levels = B * (n_battery / 2 - np.arange(n_battery + 1))
    for _ in range(3):
        rho = random_density(n_battery + 1, rng)
        # permutations of the eigenvalues over diagonal levels: min_U over the unitary orbit
        expected = permutation_ergotropy(rho, levels)
        assert erg.battery_ergotropy(model, battery_qobj(rho), battery="dicke") == pytest.approx(
            expected, abs=EXACT_ATOL
        )


@pytest.mark.parametrize("n_battery", [1, 2, 3, 4, 5, 6])
def test_qubit_ergotropy_equals_full_2n_diagonalisation(n_battery, rng):
    """Symmetric rho_B embedded in 2^N_B qubits; brute-force W from the 2^N_B spectrum."""
    B = 1.1
    model = CentralSpinModel(n_battery, 2, B=B)
    v = symmetric_isometry(n_battery)
    h_qubits = B * qubit_sz(n_battery)
    # sanity of the embedding: V^T S^z V and V^T S^+ V are jmat's
    np.testing.assert_allclose(
        v.T @ qubit_sz(n_battery) @ v, qutip.jmat(n_battery / 2, "z").full(), atol=EXACT_ATOL
    )
    for rank in (1, 2, n_battery + 1):
        rho = random_density(n_battery + 1, rng, rank=rank)
        rho_qubits = v @ rho @ v.T
        expected = brute_force_ergotropy(rho_qubits, h_qubits)
        assert erg.battery_ergotropy(model, battery_qobj(rho), battery="qubits") == pytest.approx(
            expected, abs=BRUTE_ATOL
        )
        # Dicke picture: brute force restricted to the symmetric subspace
        expected_dicke = brute_force_ergotropy(rho, v.T @ h_qubits @ v)
        assert erg.battery_ergotropy(model, battery_qobj(rho), battery="dicke") == pytest.approx(
            expected_dicke, abs=BRUTE_ATOL
        )
        # qubits can always extract at least as much; entropy is the same in both pictures
        assert (
            erg.battery_ergotropy(model, battery_qobj(rho), battery="qubits")
            >= expected_dicke - BRUTE_ATOL
        )
        assert erg.entanglement_entropy(model, battery_qobj(rho)) == pytest.approx(
            qutip.entropy_vn(qutip.Qobj(rho_qubits)), abs=ENTROPY_ATOL
        )


def test_qubit_closed_form_uses_two_lowest_levels(rng):
    """W_qubits = E - E0 - |B|(1 - r_max) for a symmetric state (module notes)."""
    nb, B = 5, 0.6
    model = CentralSpinModel(nb, 1, B=B)
    rho = random_density(nb + 1, rng)
    energy = float(np.real(np.trace(B * qutip.jmat(nb / 2, "z").full() @ rho)))
    expected = energy + B * nb / 2 - B * (1 - np.linalg.eigvalsh(rho).max())
    assert erg.battery_ergotropy(model, battery_qobj(rho), battery="qubits") == pytest.approx(
        expected, abs=EXACT_ATOL
    )


# -- j-resolved (PIQS) blocks ---------------------------------------------------------------
def explicit_block_state(n, blocks, mult):
    """Build rho on 2^n qubits from j-blocks: copy c of block j holds rho_j / d_j.

    Each copy's basis |j, m, c> comes from an orthonormal basis of the highest-weight space
    {S^2 = j(j+1), S^z = j}, lowered with S^- and normalised.
    """
    sz = qubit_sz(n)
    sp = sum(
        qutip.tensor([qutip.sigmap() if k == i else qutip.qeye(2) for k in range(n)])
        for i in range(n)
    ).full()
    sm = sp.conj().T
    s2 = sp @ sm + sz @ sz - sz
    rho = np.zeros((2**n, 2**n), dtype=complex)
    for block, d in zip(blocks, mult, strict=True):
        j = (block.shape[0] - 1) / 2
        cost = (s2 - j * (j + 1) * np.eye(2**n)) @ (s2 - j * (j + 1) * np.eye(2**n)).conj().T
        cost += (sz - j * np.eye(2**n)) @ (sz - j * np.eye(2**n))
        vals, vecs = np.linalg.eigh(cost)
        top = vecs[:, vals < 1e-9]
        assert top.shape[1] == d
        for c in range(int(d)):
            ladder = [top[:, c]]
            for _ in range(block.shape[0] - 1):
                nxt = sm @ ladder[-1]
                ladder.append(nxt / np.linalg.norm(nxt))
            basis = np.array(ladder).T  # columns m = j, j-1, ..., -j
            rho += basis @ (block / d) @ basis.conj().T
    return rho, sz


@pytest.mark.parametrize("n", [2, 3, 4])
def test_block_state_against_explicit_full_space(n, rng):
    """Multiplicity-weighted block spectrum, ergotropy and entropy vs the explicit 2^n state."""
    B = 0.7
    js, mult = erg.dicke_multiplicities(n)
    weights = rng.dirichlet(np.ones(js.size))
    blocks = [w * random_density(int(2 * j + 1), rng) for j, w in zip(js, weights, strict=True)]
    rho, sz = explicit_block_state(n, blocks, mult)
    assert np.trace(rho).real == pytest.approx(1.0)
    values, counts = erg.block_spectrum(blocks, mult)
    np.testing.assert_allclose(
        np.sort(np.repeat(values, counts.astype(int))), np.linalg.eigvalsh(rho), atol=EXACT_ATOL
    )
    expected_w = brute_force_ergotropy(rho, B * sz)
    assert erg.block_ergotropy(blocks, mult, B=B) == pytest.approx(expected_w, abs=BRUTE_ATOL)
    expected_s = qutip.entropy_vn(qutip.Qobj(rho))
    assert erg.block_entropy(blocks, mult) == pytest.approx(expected_s, abs=ENTROPY_ATOL)
    # the pitfall: unweighted block eigenvalues give another entropy (and ergotropy)
    raw = np.concatenate([np.linalg.eigvalsh(b) for b in blocks])
    raw_entropy = -sum(x * math.log(x) for x in raw if x > 0)
    if n > 2:
        assert abs(raw_entropy - expected_s) > 1e-3
        unweighted = erg.block_ergotropy(blocks, np.ones(len(blocks)), B=B)
        assert abs(unweighted - expected_w) > 1e-3


def test_piqs_blocks_round_trip_and_piqs_entropy():
    """piqs_blocks splits a qutip.piqs state; block_entropy equals qutip.piqs.entropy_vn_dicke."""
    n = 4
    rho = 0.3 * piqs.dicke(n, 2, 1) + 0.5 * piqs.dicke(n, 1, 0) + 0.2 * piqs.dicke(n, 0, 0)
    blocks, mult = erg.piqs_blocks(rho)
    assert [b.shape[0] for b in blocks] == [5, 3, 1]
    np.testing.assert_array_equal(mult, [piqs.state_degeneracy(n, j) for j in (2, 1, 0)])
    assert erg.block_entropy(blocks, mult) == pytest.approx(
        piqs.entropy_vn_dicke(rho), abs=ENTROPY_ATOL
    )


def test_symmetric_state_as_block_state_matches_qubit_picture(rng):
    """A symmetric rho_B with empty lower-j blocks: block_ergotropy == ergotropy(..., 'qubits')."""
    nb, B = 4, 1.2
    model = CentralSpinModel(nb, 1, B=B)
    rho = random_density(nb + 1, rng)
    js, mult = erg.dicke_multiplicities(nb)
    blocks = [rho] + [np.zeros((int(2 * j + 1),) * 2) for j in js[1:]]
    assert erg.block_ergotropy(blocks, mult, B=B) == pytest.approx(
        erg.battery_ergotropy(model, battery_qobj(rho), battery="qubits"), abs=EXACT_ATOL
    )


# -- dynamics: exact engine, callbacks, maxima ----------------------------------------------
def test_engine_trace_matches_sesolve_callbacks(random_ket):
    """ergotropy_trace (exact engine) vs Ergotropy/EntanglementEntropy e_ops in sesolve."""
    rng = np.random.default_rng(7)
    labels = [(0, 5), (1, 3), (2, 4), (0, 2)]
    psi0 = random_ket(MODEL, labels, rng)
    times = np.linspace(0, 4, 9)
    evo = SectorEngine(MODEL).evolve(psi0)
    res = qutip.sesolve(
        hamiltonian(MODEL),
        psi0,
        times,
        e_ops={
            "W": erg.Ergotropy(MODEL, battery="dicke"),
            "Wq": erg.Ergotropy(MODEL),
            "S": erg.EntanglementEntropy(MODEL),
        },
        options=dict(ODE_OPTIONS),
    )
    for battery, key in (("dicke", "W"), ("qubits", "Wq")):
        trace = erg.ergotropy_trace(evo, times, battery=battery)
        np.testing.assert_allclose(trace.ergotropy, res.e_data[key], atol=ODE_ATOL)
    np.testing.assert_allclose(trace.entropy, res.e_data["S"], atol=ODE_ATOL)


def test_engine_reduced_state_for_mixed_states_matches_mesolve(random_dm):
    """A density matrix with inter-sector coherences (the eigh-factorised path)."""
    rng = np.random.default_rng(3)
    rho0 = random_dm(MODEL, [(0, 5), (1, 4), (3, 0), (2, 2)], rng)
    times = np.linspace(0, 2, 5)
    evo = SectorEngine(MODEL).evolve(rho0)
    res = qutip.mesolve(
        hamiltonian(MODEL),
        rho0,
        times,
        e_ops={"W": erg.Ergotropy(MODEL)},
        options=dict(ODE_OPTIONS),
    )
    np.testing.assert_allclose(
        erg.ergotropy_trace(evo, times).ergotropy, res.e_data["W"], atol=ODE_ATOL
    )


def test_single_spin_entropy_closed_form():
    """N_B = 1 from |down, n>: rho_B has eigenvalues |P_up|^2, |P_down|^2 (Eq. 11)."""
    model = CentralSpinModel(1, 6, B=1.0, h=0.7, A=1.0, delta=0.3)
    times = np.linspace(0.05, 3, 7)
    evo = SectorEngine(model).evolve((0, 4))
    trace = erg.ergotropy_trace(evo, times)
    for t, s, w in zip(times, trace.entropy, trace.ergotropy, strict=True):
        psi = analytic.single_spin_state(model, 4, t)[0]
        rho_b = psi.ptrace(0)
        p = np.clip(np.linalg.eigvalsh(rho_b.full()), 1e-300, None)
        assert s == pytest.approx(-np.sum(p * np.log(p)), abs=ENTROPY_ATOL)
        # diagonal rho_B: W = B (p_up - p_down) if inverted else 0
        p_up = float(np.real(rho_b.full()[0, 0]))
        assert w == pytest.approx(max(0.0, model.B * (2 * p_up - 1)), abs=EXACT_ATOL)


def test_ratio_is_between_zero_and_one_from_empty_battery():
    """From the ground state, W <= Delta E_B (W/Delta E_B in [0, 1])."""
    evo = SectorEngine(MODEL).evolve(dicke_state(MODEL, 0, 5))
    trace = erg.ergotropy_trace(evo, np.linspace(0, 5, 101), battery="qubits")
    ok = ~np.isnan(trace.ratio)
    assert ok.sum() > 90 and np.isnan(trace.ratio[0])
    assert np.all(trace.ratio[ok] >= -EXACT_ATOL) and np.all(trace.ratio[ok] <= 1 + EXACT_ATOL)


def full_space_ergotropy(model, psi0, battery):
    """W on an array of times from the eigen-decomposition of the full-space H, a partial
    trace by reshaping, and battery_ergotropy: no sector engine, no reduced-state shortcut."""
    lam, vec = np.linalg.eigh(hamiltonian(model).full())
    rho0 = psi0.proj() if psi0.isket else psi0
    r0 = vec.conj().T @ rho0.full() @ vec
    nb1, d = model.n_battery + 1, model.n_charger + 1

    def w(times):
        out = []
        for t in np.atleast_1d(times):
            phase = np.exp(-1j * lam * t)
            rho = vec @ (phase[:, None] * r0 * phase.conj()[None, :]) @ vec.conj().T
            rho_b = np.trace(rho.reshape(nb1, d, nb1, d), axis1=1, axis2=3)
            out.append(erg.battery_ergotropy(model, qutip.Qobj(rho_b), battery=battery))
        return np.array(out)

    return w


def check_certified_ergotropy(model, psi0, battery, points=2001):
    """The bracket holds the maximum of a dense full-space grid (plus Brent-free local
    refinement around its best point), the value is attained at the time, the time bracket
    holds the time."""
    evo = SectorEngine(model).evolve(psi0)
    best = maxima_ergotropy.certified_max_ergotropy(evo, battery=battery)
    w = full_space_ergotropy(model, psi0, battery)
    t = np.linspace(*best.window, points)
    values = w(t)
    i = int(values.argmax())
    local = np.linspace(t[max(i - 1, 0)], t[min(i + 1, t.size - 1)], 401)
    top = max(values.max(), w(local).max())
    assert top <= best.upper_bound + BRUTE_ATOL
    assert best.value >= top - best.tolerance - BRUTE_ATOL
    assert w(best.time)[0] == pytest.approx(best.value, abs=BRUTE_ATOL)
    if best.time_bracket is not None:
        assert best.time_bracket[0] <= best.time <= best.time_bracket[1]
    return best


@pytest.mark.parametrize("battery", erg.BATTERY_KINDS)
def test_max_ergotropy_is_certified_against_a_full_space_grid(battery):
    model = CentralSpinModel(3, 6, B=1.0, h=1.0, A=1.0)
    psi0 = qutip.tensor(qutip.basis(4, 3), qutip.spin_coherent(3, 0.8, 0.3))
    best = check_certified_ergotropy(model, psi0, battery)
    assert best.converged and best.reason == "" and best.horizon == best.window[1]
    assert best.error <= best.tolerance
    assert best.tolerance == pytest.approx(maxima_ergotropy.ERGOTROPY_RTOL * max(best.value, 3.0))


def test_f4_higher_lobe_behind_a_kink_is_found():
    """The audit's F4: two lobes separated by a kink within one grid cell; the old grid
    search returned 2.5895698 at t = 1.3722, the higher lobe is 2.5899956 at t = 1.33178."""
    model = CentralSpinModel(
        2,
        4,
        B=1.6298275079361368,
        h=1.4415274064883012,
        A=-0.5153535919392294,
        delta=-0.30675266876338214,
    )
    best = check_certified_ergotropy(model, dicke_state(model, 0, 4), "dicke", points=2001)
    assert best.converged
    assert best.value >= 2.5899956 and best.time == pytest.approx(1.33178, abs=1e-5)
    assert best.time_bracket is not None and best.time_bracket[1] - best.time_bracket[0] < 1e-5


@pytest.mark.parametrize(
    "model, state",
    [
        pytest.param(CentralSpinModel(2, 5, B=-1.2, h=0.7, A=0.9, delta=0.4), (1, 3), id="B<0"),
        pytest.param(CentralSpinModel(4, 3, B=0.8, h=1.9, A=-1.1, delta=-0.6), (2, 1), id="m0>0"),
        pytest.param(CentralSpinModel(1, 6, B=1.4, h=-0.3, A=0.5), "coherent", id="coherent"),
        pytest.param(CentralSpinModel(3, 4, B=1.1, h=1.0, A=0.7, delta=0.2), "mixed", id="mixed"),
    ],
)
@pytest.mark.parametrize("battery", erg.BATTERY_KINDS)
def test_max_ergotropy_brackets_hold_for_many_states(model, state, battery):
    if state == "coherent":
        psi0 = qutip.tensor(qutip.basis(2, 1), qutip.spin_coherent(3, 1.9, 0.4))
    elif state == "mixed":
        coherent = qutip.tensor(qutip.basis(4, 2), qutip.spin_coherent(2, 1.2, 0.0)).proj()
        psi0 = 0.6 * coherent + 0.4 * dicke_state(model, 3, 1, dm=True)
    else:
        psi0 = dicke_state(model, *state)
    check_certified_ergotropy(model, psi0, battery, points=1001)


def test_max_ergotropy_that_stays_zero_is_proven_by_the_passive_margin():
    """A thermal charger keeps this battery passive (W = 0 at all t). The curvature bound alone
    would need ~1e6 cells to prove it; the populations' decreasing order, with the speed bound
    ||d rho/dt||_1, settles whole stretches at once: converged in some 3e4 evaluations."""
    from qutip_centralspin.models.thermal import physical_thermal_charger

    model = CentralSpinModel(2, 7, B=1.755, h=-1.116, A=-1.0, delta=0.831)
    evo = physical_thermal_charger(model, 0.556).evolution()
    calls = []
    reduced = evo.reduced_battery_matrices

    def counted(t):
        calls.append(np.size(t))
        return reduced(t)

    evo.reduced_battery_matrices = counted
    best = maxima_ergotropy.certified_max_ergotropy(
        evo, battery="dicke"
    )  # collective extraction: W = 0
    assert best.converged and best.value == 0.0 and 0 <= best.upper_bound <= best.tolerance
    assert sum(calls) < 50_000  # (without the margin: the budget, 400_000, and no proof)
    evo.reduced_battery_matrices = reduced
    trace = erg.ergotropy_trace(evo, np.linspace(*best.window, 2001), battery="dicke")
    assert trace.ergotropy.max() == 0.0


def test_max_ergotropy_of_a_stationary_state():
    model = CentralSpinModel(2, 3)
    evo = SectorEngine(model).evolve((2, 3))  # K = N_B + N: a one-state sector, stationary
    best = maxima_ergotropy.certified_max_ergotropy(evo)
    assert best.value == pytest.approx(2.0) and best.time == 0.0


# -- argument checks ------------------------------------------------------------------------
def test_errors_name_the_argument():
    model = CentralSpinModel(2, 3)
    with pytest.raises(ValueError, match="battery must be one of"):
        erg.battery_ergotropy(model, dicke_state(model, 0, 0), battery="spins")
    with pytest.raises(ValueError, match="first subsystem must be the battery"):
        erg.battery_ergotropy(model, qutip.basis(5, 0))
    with pytest.raises(TypeError, match="state must be a ket"):
        erg.battery_ergotropy(model, np.eye(3))
    with pytest.raises(TypeError, match="model must be a battery model"):
        erg.battery_ergotropy(object(), dicke_state(model, 0, 0))
    with pytest.raises(ValueError, match="populations must be >= 0"):
        erg.passive_energy([1.2, -0.2], [0.0, 1.0])
    with pytest.raises(ValueError, match="exceeds"):
        erg.passive_energy([0.5, 0.3, 0.2], [0.0, 1.0])
    with pytest.raises(ValueError, match="multiplicities must have 2 entries"):
        erg.block_ergotropy([np.eye(1), np.eye(1)], [1.0])
    with pytest.raises(ValueError, match="normalised state"):
        erg.block_entropy([np.eye(3)], [1.0])
    with pytest.raises(ValueError, match="base must be"):
        erg.entanglement_entropy(model, dicke_state(model, 0, 0), base=1.0)


def test_piqs_basis_battery_states_in_the_callbacks(rng):
    """A battery state in the PIQS Dicke basis (as the open block solver returns with local
    battery processes) goes through battery_ergotropy / Ergotropy / entanglement_entropy."""
    import scipy.linalg

    n, B = 3, 0.9
    model = CentralSpinModel(n, 2, B=B)
    js, mult = erg.dicke_multiplicities(n)
    weights = rng.dirichlet(np.ones(js.size))
    blocks = [w * random_density(int(2 * j + 1), rng) for j, w in zip(js, weights, strict=True)]
    rho_piqs = qutip.Qobj(scipy.linalg.block_diag(*blocks))
    assert rho_piqs.shape[0] == piqs.num_dicke_states(n)
    rho, sz = explicit_block_state(n, blocks, mult)
    # qubits: any unitary on 2^n levels -> brute force on the explicit state
    expected = brute_force_ergotropy(rho, B * sz)
    assert erg.battery_ergotropy(model, rho_piqs, battery="qubits") == pytest.approx(
        expected, abs=BRUTE_ATOL
    )
    assert erg.Ergotropy(model, battery="qubits")(0.0, rho_piqs) == pytest.approx(
        expected, abs=BRUTE_ATOL
    )
    # dicke: collective unitaries, each block made passive on its own (permutation brute force)
    per_block = sum(
        permutation_ergotropy(b, B * (((b.shape[0] - 1) / 2) - np.arange(b.shape[0])))
        for b in blocks
    )
    assert erg.battery_ergotropy(model, rho_piqs, battery="dicke") == pytest.approx(
        per_block, abs=EXACT_ATOL
    )
    assert erg.entanglement_entropy(model, rho_piqs) == pytest.approx(
        qutip.entropy_vn(qutip.Qobj(rho)), abs=ENTROPY_ATOL
    )
    # a state in the symmetric block only: the collective picture is the Dicke-level one
    top = random_density(n + 1, rng)
    only_top = qutip.Qobj(scipy.linalg.block_diag(top, np.zeros((2, 2))))
    assert erg.battery_ergotropy(model, only_top) == pytest.approx(
        erg.battery_ergotropy(model, battery_qobj(top)), abs=EXACT_ATOL
    )


def test_cli_pmax_writes_the_certified_ergotropy(capsys):
    import json

    from qutip_centralspin.cli import main

    code = main(["pmax", "--nb", "2", "--n", "4", "--n0", "3", "--ergotropy", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    data = json.loads(out)
    evo = SectorEngine(CentralSpinModel(2, 4)).evolve((0, 3))
    best = maxima_ergotropy.certified_max_ergotropy(evo)
    assert data["w_max"] == best.value and data["w_max_upper"] == best.upper_bound
    assert data["w_max_converged"] is True and data["w_max_horizon"] == best.horizon
    assert data["t_wmax_bracket"] == list(best.time_bracket)
    code = main(["pmax", "--nb", "2", "--n", "4", "--n0", "3", "--ergotropy"])
    out, _ = capsys.readouterr()
    assert code == 0 and "W_max = " in out and "certified to" in out


def random_ergotropy_case(seed):
    """A random model and initial state: Dicke product, spin-coherent, physical thermal, or a
    mixture of a coherent and a symmetric thermal charger; and a battery picture."""
    from qutip_centralspin import spin_coherent_charger
    from qutip_centralspin.models.thermal import physical_thermal_charger, thermal_charger

    rng = np.random.default_rng(seed)
    nb, n = int(rng.integers(1, 5)), int(rng.integers(1, 8))
    model = CentralSpinModel(
        nb,
        n,
        B=rng.uniform(0.3, 2) * rng.choice([-1, 1]),
        h=rng.uniform(-2, 2),
        A=rng.uniform(-1.5, 1.5),
        delta=rng.uniform(-1, 1),
    )
    m = int(rng.integers(0, nb + 1))
    kind = seed % 4
    if kind == 0:
        evo = SectorEngine(model).evolve((m, int(rng.integers(0, n + 1))))
    elif kind == 1:
        psi = spin_coherent_charger(model, rng.uniform(0, np.pi), rng.uniform(0, 6), m=m)
        evo = SectorEngine(model).evolve(psi)
    elif kind == 2:
        evo = physical_thermal_charger(model, rng.uniform(0.1, 3), m=m).evolution()
    else:
        rho = 0.5 * spin_coherent_charger(model, 1.0, dm=True) + 0.5 * thermal_charger(
            model, 0.5, m=nb
        )
        evo = SectorEngine(model).evolve(rho)
    return evo, ("dicke", "qubits")[(seed // 4) % 2]


def check_against_dense_grid(evo, battery):
    """Never above the certified bound, never below the value by more than the tolerance, on
    a 20,001-point grid plus 2,001 points around its best sample."""
    best = maxima_ergotropy.certified_max_ergotropy(evo, battery=battery)
    assert best.converged, best.reason
    if best.window[1] == 0:  # rho_B does not move
        return
    t = np.linspace(*best.window, 20001)
    w = erg.ergotropy_trace(evo, t, battery=battery).ergotropy
    i = int(w.argmax())
    local = np.linspace(t[max(i - 1, 0)], t[min(i + 1, t.size - 1)], 2001)
    top = max(w.max(), erg.ergotropy_trace(evo, local, battery=battery).ergotropy.max())
    assert top <= best.upper_bound + EXACT_ATOL
    assert best.value >= top - best.tolerance


@pytest.mark.parametrize("seed", range(12))
def test_max_ergotropy_random_states_against_a_dense_grid(seed):
    check_against_dense_grid(*random_ergotropy_case(seed))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12, 400))
def test_max_ergotropy_random_states_against_a_dense_grid_many(seed):
    check_against_dense_grid(*random_ergotropy_case(seed))
