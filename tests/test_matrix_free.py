"""The matrix-free generator of the block solver against the assembled one (and brute force).

Both apply the same Lindbladian on the same invariant blocks with the same Chebyshev
interval, so every output must agree to rounding: Delta E_B, the charger energy, the sector
weights, rho_B and e_ops, the protocol path, the dense populations, on spin and cavity
chargers, detuned (complex layout) and resonant (chiral real layout), kets, superpositions and
mixtures, every process kind, and a tlist that does not start at 0. The brute-force checks of
both generators are in test_open_blocks.py.
"""

import numpy as np
import pytest

from qutip_centralspin import CentralSpinModel, decay, dephasing, dicke_state, pumping
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.models.protocols import step
from qutip_centralspin.observables.energy import ChargerEnergy
from qutip_centralspin.solvers import blocks as blocks_module
from qutip_centralspin.solvers import matrix_free
from qutip_centralspin.solvers.blocks import BlockSolver
from qutip_centralspin.solvers.cavity_blocks import CavityBlockSolver, cavity_loss
from qutip_centralspin.solvers.references import bruteforce_mesolve

pytestmark = pytest.mark.skipif(not matrix_free.AVAILABLE, reason="needs numba")

#: Same series on the same blocks: only the summation order differs (|E_B| <= N_B/2).
CROSS_ATOL = 1e-11
TIMES = np.linspace(0.7, 2.7, 21)  # the time origin is tlist[0]

SPIN_PROCESSES = {
    "local-battery": [dephasing(0.13), decay(0.21), pumping(0.05)],
    "local-charger": [dephasing(0.1, "charger"), decay(0.17, "charger"), pumping(0.04, "charger")],
    "collective": [
        dephasing(0.1, scope="collective"),
        decay(0.2, scope="collective"),
        pumping(0.05, "charger", "collective"),
        dephasing(0.08, "charger", "collective"),
        decay(0.1, "charger", "collective"),
    ],
    "everything": [
        dephasing(0.1),
        decay(0.1),
        pumping(0.03),
        decay(0.12, "charger"),
        dephasing(0.05, scope="collective"),
        decay(0.07, "charger", "collective"),
    ],
    "zero-rate": [decay(0.0), dephasing(0.2, "charger")],
}

SPIN_MODELS = {
    "detuned": CentralSpinModel(4, 5, B=1.3, h=0.7, A=0.9, delta=0.25),
    "resonant": CentralSpinModel(4, 5, B=1.0, h=1.0, A=1.1),
    "negative": CentralSpinModel(3, 4, B=-0.6, h=-0.9, A=-0.8, delta=-0.4),
}


def _spin_states(model):
    nb, nc = model.n_battery, model.n_charger
    ket = dicke_state(model, 1, nc - 1)
    superposition = (dicke_state(model, 0, nc) + 0.6j * dicke_state(model, 1, nc - 1)).unit()
    real_sup = (dicke_state(model, 2, 1) - 0.3 * dicke_state(model, 1, 2)).unit()
    mixture = 0.6 * dicke_state(model, 0, nc, dm=True) + 0.4 * dicke_state(model, nb, 0, dm=True)
    return {"ket": ket, "imag-superposition": superposition, "real-superposition": real_sup,
            "mixture": mixture}  # fmt: skip


def _both(make_solver, psi0, times, **kwargs):
    out = []
    for generator in ("csr", "matrix-free"):
        opts = {"generator": generator, "store_final_state": True}
        res = make_solver().solve(psi0, times, options=opts, **kwargs)
        assert res.stats["generator"] == generator
        out.append(res)
    return out


def _assert_same(a, b, atol=CROSS_ATOL):
    np.testing.assert_allclose(b.delta_energy, a.delta_energy, rtol=0, atol=atol)
    np.testing.assert_allclose(b.power, a.power, rtol=0, atol=atol)
    assert (a.final_state - b.final_state).norm("max") < atol
    for key in a.e_data:
        np.testing.assert_allclose(b.e_data[key], a.e_data[key], rtol=0, atol=atol)


@pytest.mark.parametrize("procs", list(SPIN_PROCESSES), ids=str)
@pytest.mark.parametrize("name", list(SPIN_MODELS), ids=str)
def test_spin_charger_generators_agree(name, procs):
    model = SPIN_MODELS[name]
    processes = SPIN_PROCESSES[procs]
    for psi0 in _spin_states(model).values():
        a, b = _both(
            lambda: BlockSolver(model, processes),
            psi0,
            TIMES,
            e_ops={"E_C": ChargerEnergy(model)},
        )
        _assert_same(a, b)


@pytest.mark.parametrize("omega", [1.0, 0.65], ids=["resonant", "detuned"])
def test_cavity_charger_generators_agree(omega):
    model = CavityModel(3, omega=omega, g=0.5, B=1.0)
    procs = [
        cavity_loss(0.1),
        decay(0.08),
        dephasing(0.05),
        dephasing(0.03, "charger", "collective"),
    ]
    a, b = _both(lambda: CavityBlockSolver(model, procs), (0, 4), TIMES)
    _assert_same(a, b)


@pytest.mark.parametrize("procs", list(SPIN_PROCESSES), ids=str)
@pytest.mark.parametrize("name", list(SPIN_MODELS), ids=str)
def test_spectral_interval_is_the_same(name, procs):
    """c, scale and the bounds of the numerical range (Gershgorin discs of the dissipator in
    the physical norm, Bohr width) are those of the assembled generator, whose bounds are
    checked against the true numerical range in test_generator_range.py."""
    model = SPIN_MODELS[name]
    solver = BlockSolver(model, SPIN_PROCESSES[procs])
    sectors = solver.sectors([model.n_charger])
    csr = solver.generator(sectors, False, "csr")
    free = solver.generator(sectors, False, "matrix-free")
    for key in ("c", "scale", "omega", "re_low", "re_high"):
        assert getattr(free, key) == pytest.approx(getattr(csr, key), rel=1e-13, abs=1e-13)
    assert free.modified == csr.modified


@pytest.mark.parametrize("chiral", [False, True])
def test_product_matches_the_assembled_matrix(chiral):
    """One product on a random state (not only the states the dynamics visits)."""
    model = SPIN_MODELS["resonant"]
    solver = BlockSolver(model, SPIN_PROCESSES["everything"])
    sectors = solver.sectors([5])
    csr = solver.generator(sectors, chiral, "csr")
    free = solver.generator(sectors, chiral, "matrix-free")
    rng = np.random.default_rng(7)
    blocks = []
    for i, d in enumerate(csr.space.d):
        X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        X = X + X.conj().T
        if chiral:  # X = P conj(X) P: real on even k_a - k_b, imaginary on odd
            a, b = np.indices((d, d))
            X = np.where((a - b) % 2 == 0, X.real, 1j * X.imag)
        blocks.append((i, X))
    packed = np.zeros(csr.space.size)
    for i, X in blocks:
        d, o = csr.space.d[i], csr.space.offset[i]
        up = np.triu_indices(d)
        packed[o : o + up[0].size] = X.real[up]
        packed[o + up[0].size : o + d * d] = X.imag[np.triu_indices(d, 1)]
    v_csr = packed if csr.keep is None else packed[csr.keep]
    v_free = free.pack(blocks)
    out_csr = np.zeros(csr.space.size)
    if csr.keep is None:
        out_csr[:] = csr.apply(v_csr)
    else:
        out_csr[csr.keep] = csr.apply(v_csr)
    ref = dict(_unpack(csr, out_csr))
    got = {
        int(i): X
        for ids, Xs in free.blocks(free.apply(v_free))
        for i, X in zip(ids, Xs, strict=True)
    }
    scale = max(np.abs(X).max() for X in ref.values())
    for i, X in ref.items():
        np.testing.assert_allclose(got[i], X, rtol=0, atol=1e-12 * scale)


def _unpack(gen, full):
    for i, d in enumerate(gen.space.d):
        o = gen.space.offset[i]
        up = np.triu_indices(d)
        X = np.zeros((d, d), dtype=complex)
        X[up] = full[o : o + up[0].size]
        X[np.triu_indices(d, 1)] += 1j * full[o + up[0].size : o + d * d]
        yield i, X + np.triu(X, 1).conj().T


def test_protocol_and_populations_agree():
    model = SPIN_MODELS["detuned"]
    procs = SPIN_PROCESSES["local-battery"]
    psi0 = dicke_state(model, 0, 5)
    protocol = step(1.2, start=0.2)  # on from 0.2 to 1.4 (tlist starts at 0.7)
    a, b = _both(lambda: BlockSolver(model, procs), psi0, TIMES, coupling=protocol)
    _assert_same(a, b)
    pops = [
        BlockSolver(model, procs).battery_populations(psi0, 1.5, options={"generator": generator})
        for generator in ("csr", "matrix-free")
    ]
    t = np.linspace(0, 1.5, 7)
    np.testing.assert_allclose(pops[1](t), pops[0](t), rtol=0, atol=CROSS_ATOL)
    assert pops[1].speed == pytest.approx(pops[0].speed, rel=1e-12)
    assert pops[1].curvature == pytest.approx(pops[0].curvature, rel=1e-12)


def test_threads_give_the_same_answer():
    model = CentralSpinModel(6, 8, B=1.1, h=0.9, delta=0.1)
    procs = SPIN_PROCESSES["everything"]
    psi0 = dicke_state(model, 0, 8)
    res = [
        BlockSolver(model, procs).solve(
            psi0, TIMES, options={"generator": "matrix-free", "num_cpus": n}
        )
        for n in (1, 2)
    ]
    np.testing.assert_allclose(res[1].delta_energy, res[0].delta_energy, rtol=0, atol=1e-13)


def test_matrix_free_matches_bruteforce_directly():
    """An independent route, not through the assembled generator."""
    model = CentralSpinModel(3, 3, B=1.2, h=0.8, A=0.9, delta=0.15)
    procs = [decay(0.2), dephasing(0.1, "charger"), pumping(0.05, "charger", "collective")]
    psi0 = (dicke_state(model, 1, 2) + 0.4j * dicke_state(model, 2, 1)).unit()
    res = BlockSolver(model, procs).solve(psi0, TIMES, options={"generator": "matrix-free"})
    ref = bruteforce_mesolve(model, psi0, TIMES, procs)
    np.testing.assert_allclose(res.delta_energy, ref.delta_energy, rtol=0, atol=1e-7)


def test_auto_takes_the_matrix_free_generator_for_large_problems(monkeypatch):
    model = CentralSpinModel(4, 4)
    psi0 = dicke_state(model, 0, 4)
    small = BlockSolver(model, dephasing(0.1)).solve(psi0, TIMES)
    assert small.stats["generator"] == "csr"
    monkeypatch.setattr(blocks_module, "MATRIX_FREE_MIN_SIZE", 1)
    big = BlockSolver(model, dephasing(0.1)).solve(psi0, TIMES)
    assert big.stats["generator"] == "matrix-free"
    np.testing.assert_allclose(big.delta_energy, small.delta_energy, rtol=0, atol=CROSS_ATOL)


def test_unknown_generator_is_rejected():
    model = CentralSpinModel(2, 2)
    with pytest.raises(ValueError, match=r"options\['generator'\] must be one of .*'sparse'"):
        BlockSolver(model, dephasing(0.1)).solve(
            dicke_state(model, 0, 2), TIMES, options={"generator": "sparse"}
        )


def test_triad_measures_a_bandwidth():
    assert matrix_free.triad(1 << 16, repeat=2, num_cpus=1) > 1e8  # bytes per second


def test_pack_refuses_a_state_that_breaks_the_chiral_layout():
    model = SPIN_MODELS["resonant"]
    solver = BlockSolver(model, dephasing(0.1))
    gen = solver.generator([5], True, "matrix-free")
    i = int(np.nonzero(gen.space.d > 1)[0][0])
    d = int(gen.space.d[i])
    X = np.ones((d, d))  # real off-diagonal entries on odd k_a - k_b
    with pytest.raises(ValueError, match="chiral"):
        gen.pack([(i, X)])
