"""The exact U(1)-sector engine against full-space QuTiP runs (property tests)."""

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tolerances import EXACT_ATOL, ODE_ATOL, STATE_ATOL

from qutip_centralspin import BatteryPower, CentralSpinModel, dicke_state
from qutip_centralspin.solvers import SectorEngine, SectorEvolution

TIMES = np.linspace(0.0, 4.0, 17)
FAST = settings(max_examples=40, deadline=None)
SLOW = settings(max_examples=15, deadline=None)


@st.composite
def models(draw, max_spins=8):
    """Random N_B, N <= max_spins; any B, h, Delta, A != 0, and the paper's degenerate case
    (resonance h = B, Delta = 0) drawn on purpose, not only by chance."""
    nb = draw(st.integers(1, max_spins), label="n_battery")
    nc = draw(st.integers(1, max_spins), label="n_charger")
    B = draw(st.floats(-2.0, 2.0), label="B")
    h = draw(st.just(B) | st.floats(-2.0, 2.0), label="h")
    A = draw(st.floats(0.2, 1.5) | st.floats(-1.5, -0.2), label="A")
    delta = draw(st.just(0.0) | st.floats(-1.0, 1.0), label="delta")
    return CentralSpinModel(nb, nc, B=B, h=h, A=A, delta=delta)


@st.composite
def superpositions(draw, max_spins=8):
    """(model, {(m, n): amplitude}) over 1-4 Dicke labels, at least one with m0 > 0."""
    model = draw(models(max_spins))
    nb, nc = model.n_battery, model.n_charger
    label = st.tuples(st.integers(0, nb), st.integers(0, nc))
    first = draw(st.tuples(st.integers(1, nb), st.integers(0, nc)), label="m0>0 label")
    others = draw(st.lists(label, max_size=3, unique=True), label="labels")
    labels = list(dict.fromkeys([first, *others]))
    parts = st.floats(-1.0, 1.0)
    amps = {lab: complex(draw(parts), draw(parts)) for lab in labels}
    assume(sum(abs(a) ** 2 for a in amps.values()) > 1e-2)
    return model, amps


def as_ket(model, amps):
    return sum(a * dicke_state(model, m, n) for (m, n), a in amps.items()).unit()


def check_against_sesolve(model, amps, reference, reference_delta_energy):
    psi0 = as_ket(model, amps)
    evo = SectorEngine(model).evolve(psi0)
    np.testing.assert_allclose(
        evo.delta_energy(TIMES),
        reference_delta_energy(model, psi0, TIMES),
        rtol=0,
        atol=ODE_ATOL,
    )
    states = reference(model, psi0, TIMES).states
    for got, want in zip(evo.states(TIMES), states, strict=True):
        assert got.isket and got.dims == want.dims
        assert (got - want).norm() < STATE_ATOL


@FAST
@given(case=superpositions())
def test_superposition_matches_sesolve(case, reference, reference_delta_energy):
    check_against_sesolve(*case, reference, reference_delta_energy)


@pytest.mark.slow
@SLOW
@given(case=superpositions(max_spins=12))
def test_superposition_matches_sesolve_large(case, reference, reference_delta_energy):
    check_against_sesolve(*case, reference, reference_delta_energy)


@settings(max_examples=15, deadline=None)  # mesolve on (N_B+1)^2 (N+1)^2: keep models small
@given(
    case=superpositions(max_spins=5),
    other=superpositions(max_spins=5),
    weight=st.floats(0.1, 0.9),
)
def test_mixture_matches_mesolve(case, other, weight, reference, reference_delta_energy):
    model, amps = case
    # second component: same model, labels of `other` clipped into range
    nb, nc = model.n_battery, model.n_charger
    amps2 = {(min(m, nb), min(n, nc)): a for (m, n), a in other[1].items()}
    rho0 = weight * as_ket(model, amps).proj() + (1 - weight) * as_ket(model, amps2).proj()
    evo = SectorEngine(model).evolve(rho0)
    assert not evo.is_ket
    np.testing.assert_allclose(
        evo.delta_energy(TIMES),
        reference_delta_energy(model, rho0, TIMES),
        rtol=0,
        atol=ODE_ATOL,
    )
    states = reference(model, rho0, TIMES[::4]).states
    for got, want in zip(evo.states(TIMES[::4]), states, strict=True):
        assert got.isoper and got.dims == want.dims
        assert (got - want).norm("max") < STATE_ATOL


@settings(max_examples=50, deadline=None)
@given(nb=st.integers(1, 12), nc=st.integers(1, 12))
def test_sectors_partition_the_space(nb, nc):
    model = CentralSpinModel(nb, nc)
    engine = SectorEngine(model)
    seen = []
    for k in range(nb + nc + 1):
        sec = engine.sector(k)
        assert 1 <= sec.size <= min(nb, nc) + 1
        assert np.all(sec.m + sec.n == k)
        assert np.all((0 <= sec.m) & (sec.m <= nb) & (0 <= sec.n) & (sec.n <= nc))
        seen.extend(engine.full_index(sec.m, sec.n).tolist())
        # eigenvectors orthonormal
        np.testing.assert_allclose(
            sec.vectors.T @ sec.vectors, np.eye(sec.size), rtol=0, atol=1e-12
        )
    assert sorted(seen) == list(range(model.shape))
    with pytest.raises(ValueError):
        engine.sector(nb + nc + 1)
    with pytest.raises(ValueError):
        engine.sector(-1)


@FAST
@given(model=models(max_spins=6), t=st.floats(0.0, 20.0))
def test_propagator_is_expm(model, t, independent_hamiltonian):
    evo = SectorEngine(model).evolve((0, model.n_charger))
    U = evo.propagator(t).toarray()
    expected = scipy.linalg.expm(-1j * t * independent_hamiltonian(model).full())
    np.testing.assert_allclose(U, expected, rtol=0, atol=1e-10)


@FAST
@given(case=superpositions(max_spins=6))
def test_tuple_dict_and_qobj_inputs_agree(case):
    model, amps = case
    engine = SectorEngine(model)
    a = engine.evolve(amps)
    b = engine.evolve(as_ket(model, amps))
    np.testing.assert_allclose(
        a.delta_energy(TIMES), b.delta_energy(TIMES), rtol=0, atol=EXACT_ATOL
    )
    (m, n), _ = next(iter(amps.items()))
    c = engine.evolve((m, n))
    d = engine.evolve(dicke_state(model, m, n))
    e = engine.evolve(dicke_state(model, m, n, dm=True))
    for other in (d, e):
        np.testing.assert_allclose(
            c.delta_energy(TIMES), other.delta_energy(TIMES), rtol=0, atol=EXACT_ATOL
        )
    for s1, s2 in zip(c.states(TIMES[::4]), d.states(TIMES[::4]), strict=True):
        assert (s1 - s2).norm() < EXACT_ATOL
    assert c.initial_energy == pytest.approx(model.B * (m - model.n_battery / 2), abs=EXACT_ATOL)
    assert c.sector_weights == {m + n: pytest.approx(1.0)}


@FAST
@given(case=superpositions(max_spins=6))
def test_power_and_certification_data(case):
    model, amps = case
    psi0 = as_ket(model, amps)
    evo = SectorEngine(model).evolve(psi0)
    assert isinstance(evo, SectorEvolution)
    # P(0) = <i[H, H_B]> (observables.BatteryPower computes it on the full space)
    assert evo.initial_rate() == pytest.approx(BatteryPower(model, psi0)(0.0, psi0), abs=1e-10)
    p = evo.power(TIMES)
    assert p[0] == evo.initial_rate()
    np.testing.assert_allclose(
        p[1:], evo.delta_energy(TIMES[1:]) / TIMES[1:], rtol=0, atol=EXACT_ATOL
    )
    # rigorous bounds hold on a dense sample
    dense = np.linspace(0, 10, 2001)
    de = evo.delta_energy(dense)
    assert de.max() <= evo.energy_ceiling() + 1e-12
    slope = np.abs(np.diff(de)) / np.diff(dense)
    assert slope.max() <= evo.derivative_bound(1) * (1 + 1e-9) + 1e-12
    # frequencies: the largest Bohr frequency is the largest spread of an occupied sector
    spreads = [np.ptp(np.linalg.eigvalsh(_sector_block(model, k))) for k in evo.sector_weights]
    assert evo.max_frequency() == pytest.approx(max(spreads), abs=1e-10)


def _sector_block(model, k):
    """H restricted to |m, k-m>, from the full QuTiP matrix (independent of the engine)."""
    from qutip_centralspin import hamiltonian

    nb, nc = model.n_battery, model.n_charger
    idx = [(nb - m) * (nc + 1) + (nc - (k - m)) for m in range(nb + 1) if 0 <= k - m <= nc]
    return hamiltonian(model).full()[np.ix_(idx, idx)]


def test_stationary_dicke_state():
    model = CentralSpinModel(3, 5, B=1.1, h=0.7, delta=0.2)
    evo = SectorEngine(model).evolve((0, 0))  # sector k = 0 has one state
    np.testing.assert_allclose(evo.delta_energy(TIMES), 0.0, rtol=0, atol=EXACT_ATOL)
    np.testing.assert_allclose(evo.power(TIMES), 0.0, rtol=0, atol=EXACT_ATOL)
    assert evo.power(0.0)[0] == 0.0
    assert evo.max_frequency() == 0.0
    energy = -1.1 * 1.5 - 0.7 * 2.5 + 2 * 0.2 * 1.5 * 2.5
    for t, s in zip(TIMES, evo.states(TIMES), strict=True):
        phase = np.exp(-1j * energy * t)
        assert (s - phase * dicke_state(model, 0, 0)).norm() < EXACT_ATOL


BAD_LABELS = [
    pytest.param((-1, 0), id="m-negative"),
    pytest.param((3, 0), id="m-too-large"),
    pytest.param((0, -1), id="n-negative"),
    pytest.param((0, 5), id="n-too-large"),
    pytest.param((1.5, 0), id="m-fraction"),
    pytest.param((0, 2.5), id="n-fraction"),
    pytest.param((0,), id="short"),
    pytest.param((0, 1, 2), id="long"),
    pytest.param({(0, 1): 1.0, (0, 9): 1.0}, id="dict-out-of-range"),
    pytest.param({0: 1.0}, id="dict-bad-key"),
    pytest.param({(0, 1): 0.0}, id="dict-zero-norm"),
]


@pytest.mark.parametrize("label", BAD_LABELS)
def test_bad_labels(label):
    engine = SectorEngine(CentralSpinModel(2, 4))
    with pytest.raises(ValueError):
        engine.evolve(label)


@pytest.mark.parametrize(
    "label",
    [
        pytest.param(("a", 0), id="str"),
        pytest.param((None, 0), id="none"),
        pytest.param((True, 0), id="bool"),
    ],
)
def test_non_integer_labels_rejected_with_value_error(label):
    engine = SectorEngine(CentralSpinModel(2, 4))
    with pytest.raises(ValueError, match="label"):
        engine.evolve(label)


def test_bad_state_objects():
    model = CentralSpinModel(2, 4)
    engine = SectorEngine(model)
    with pytest.raises(ValueError, match="dims"):
        engine.evolve(dicke_state(CentralSpinModel(4, 2), 0, 0))
    with pytest.raises(TypeError):
        engine.evolve(np.ones(15))
    with pytest.raises(TypeError, match="CentralSpinModel"):
        SectorEngine("model")


def test_engine_reuse_and_time_order():
    """One engine serves many states; times may come in any order."""
    model = CentralSpinModel(4, 6, B=1.0, h=0.6, A=0.8, delta=0.1)
    engine = SectorEngine(model)
    first = engine.evolve((0, 6)).delta_energy(TIMES)
    engine.evolve((2, 3))
    again = engine.evolve((0, 6))
    np.testing.assert_array_equal(again.delta_energy(TIMES), first)
    shuffled = TIMES[::-1]
    np.testing.assert_allclose(again.delta_energy(shuffled), first[::-1], rtol=0, atol=EXACT_ATOL)
    assert again.delta_energy(2.0).shape == (1,)
    assert math.isfinite(float(again.power(0.0)[0]))
