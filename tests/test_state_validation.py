"""Bad states are refused on every entry point with a message that says how to fix them."""

import numpy as np
import pytest
import qutip

from qutip_centralspin import (
    BatteryPower,
    CentralSpinModel,
    charge,
    dicke_state,
    max_energy,
    max_power,
)
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.models.processes import dephasing
from qutip_centralspin.models.thermal import thermal_charger
from qutip_centralspin.solvers import SectorEngine
from qutip_centralspin.solvers.cavity_engine import CavityEngine

MODEL = CentralSpinModel(2, 3)
PSI = dicke_state(MODEL, 0, 3)
RHO = thermal_charger(MODEL, 0.7)


def _dm(diag, offdiag=None):
    mat = np.diag(np.asarray(diag, dtype=complex))
    if offdiag is not None:
        (i, j, v) = offdiag
        mat[i, j] = v
    return qutip.Qobj(mat, dims=MODEL.dims)


BAD = [
    pytest.param(2 * PSI, r"normalised.*got norm 2.*unit\(\)", id="ket-norm-2"),
    pytest.param(0 * PSI, r"normalised.*got norm 0", id="zero-ket"),
    pytest.param(
        qutip.Qobj(np.full((12, 1), np.nan), dims=MODEL.ket_dims), "non-finite", id="nan-ket"
    ),
    pytest.param(0.5 * RHO, r"trace 1.*got 0\.5", id="dm-trace"),
    pytest.param(_dm([1.0] + [0.0] * 11, (0, 1, 0.3)), "Hermitian", id="non-hermitian"),
    pytest.param(_dm([1.5, -0.5] + [0.0] * 10), "positive semidefinite", id="negative-eig"),
    pytest.param(
        _dm([1.0] + [0.0] * 11, (0, 1, 0.2)) + _dm([0.0] * 12, (1, 0, 0.2)),
        "positive semidefinite",
        id="coherence-on-empty-level",
    ),
]
ENTRY_POINTS = [
    pytest.param(lambda s: charge(MODEL, s, [0.0, 1.0]), id="charge-exact"),
    pytest.param(lambda s: charge(MODEL, s, [0.0, 1.0], solver="mesolve"), id="charge-mesolve"),
    pytest.param(
        lambda s: charge(MODEL, s, [0.0, 1.0], processes=[dephasing(0.1)]), id="charge-blocks"
    ),
    pytest.param(
        lambda s: charge(MODEL, s, [0.0, 1.0], processes=[dephasing(0.1)], solver="piqs"),
        id="charge-piqs",
    ),
    pytest.param(lambda s: max_power(MODEL, s), id="max_power"),
    pytest.param(lambda s: max_energy(MODEL, s), id="max_energy"),
    pytest.param(lambda s: SectorEngine(MODEL).evolve(s), id="SectorEngine.evolve"),
    pytest.param(lambda s: BatteryPower(MODEL, s), id="BatteryPower"),
]


@pytest.mark.parametrize("state, match", BAD)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_bad_states_are_refused(entry, state, match):
    with pytest.raises(ValueError, match=match):
        entry(state)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(PSI, id="dicke"),
        pytest.param(RHO, id="thermal"),
        pytest.param((PSI + dicke_state(MODEL, 1, 2)).unit(), id="superposition"),
        pytest.param(0.3 * PSI.proj() + 0.7 * dicke_state(MODEL, 2, 0, dm=True), id="mixture"),
    ],
)
def test_good_states_pass(state):
    assert charge(MODEL, state, [0.0, 1.0]).delta_energy.shape == (2,)


def test_cavity_states_are_checked():
    engine = CavityEngine(CavityModel(2, omega=1.0, g=0.5))
    ket = qutip.tensor(qutip.basis(3, 0), qutip.basis(4, 1))
    engine.evolve(ket)
    with pytest.raises(ValueError, match="normalised"):
        engine.evolve(3 * ket)


def test_unnormalised_state_was_a_silent_wrong_number():
    """The numbers seen before: 2*psi gave 4x the stored energy. Now: refused."""
    model = CentralSpinModel(2, 4)
    psi = (dicke_state(model, 0, 4) + dicke_state(model, 1, 3)).unit()
    with pytest.raises(ValueError, match="unit"):
        charge(model, 2 * psi, [0.0, 0.5])


def test_round_off_coherence_on_an_empty_level_is_accepted():
    """A mixture whose tiny amplitude (6e-8) QuTiP tidies to zero population keeps a 3e-8
    coherence: PSD to round-off (eigenvalue ~ -1e-15), so it must pass."""
    model = CentralSpinModel(2, 2)
    a, b = dicke_state(model, 0, 0), dicke_state(model, 1, 0)
    rho = 0.5 * a.proj() + 0.5 * (6e-8j * b + 1j * a).unit().proj()
    SectorEngine(model).evolve(rho)
    bad = 0.98 * a.proj() + 0.02 * b.proj() + 0.2 * (a * b.dag() + b * a.dag())
    with pytest.raises(ValueError, match="positive semidefinite"):
        SectorEngine(model).evolve(bad)


def test_charge_takes_the_label_that_max_power_takes():
    """A label (m, n) is the Dicke product state |m, n>: same run, closed and open."""
    import qutip_centralspin as qcs

    model = qcs.CentralSpinModel(2, 3)
    tlist = [0.5, 1.0, 1.7]
    for processes in (None, qcs.decay(0.1)):
        by_label = qcs.charge(model, (1, 2), tlist, processes=processes)
        by_state = qcs.charge(model, dicke_state(model, 1, 2), tlist, processes=processes)
        np.testing.assert_allclose(by_label.delta_energy, by_state.delta_energy, atol=1e-13)
        assert by_label.delta_energy[-1] != 0.0
    with pytest.raises(ValueError, match=r"psi0 as a label must be \(m, c\)"):
        qcs.charge(model, (0, 3, 1), tlist)
