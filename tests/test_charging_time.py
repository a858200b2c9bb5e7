"""The first peak of Delta E_B, the default E_max window and the charging time.

Independent routes: QuTiP ``sesolve`` on dense grids (refined around the peak), the spectral
form of the full Hamiltonian rebuilt from ``qutip.jmat`` (conftest) and diagonalised here with
numpy, and the closed form of one battery spin (one Bohr frequency).
"""

import math

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from test_certified_maxima import SWEEP, cases, gibbs_state
from test_ergotropy import BRUTE_ATOL, full_space_ergotropy
from tolerances import ODE_OPTIONS

from qutip_centralspin import CentralSpinModel, dicke_state, max_energy, max_power
from qutip_centralspin.maxima import certified as maxima
from qutip_centralspin.maxima import ergotropy as maxima_ergotropy
from qutip_centralspin.maxima.charging_time import charging_time
from qutip_centralspin.solvers import SectorEngine

#: Round-off allowance of an independent evaluation of Delta E_B or its derivatives, relative
#: to sum |M_ab| |omega_ab|^k (the package's floor is ~1e-13 of it for these sizes and times).
SLACK_RTOL = 1e-11
#: sesolve at atol 1e-14, rtol 1e-12 over t <= 2: energies to ~1e-10 (tolerances.ODE_ATOL is
#: the loose bound for ten periods).
SESOLVE_ATOL = 1e-9

#: The measured example: the first peak (Ferraro's tau) is not the window's maximum.
FIRST_PEAK_CASE = (CentralSpinModel(3, 3, B=1.0, h=1.0, A=1.0, delta=0.5), (1, 2))
#: The old default window 2 pi / g_min = 2.809 ended while Delta E_B rose, below P_max tau.
RISING_EDGE_CASE = (CentralSpinModel(3, 3, B=1.0, h=1.36, A=0.53, delta=-0.45), (1, 1))


def qobj_state(model, state):
    """A Dicke label, a dict of labels or a Qobj as a Qobj on the model's space."""
    if isinstance(state, qutip.Qobj):
        return state
    if isinstance(state, tuple):
        return dicke_state(model, *state)
    ket = sum(a * dicke_state(model, *lab) for lab, a in state.items())
    return ket / ket.norm()


class Spectral:
    r"""Delta E_B and its derivatives from numpy's eigendecomposition of the full H:
    :math:`E_B^{(k)}(t) = \mathrm{Re}\sum_{ab}\rho_{ab}(H_B)_{ba}(-i\omega_{ab})^k
    e^{-i\omega_{ab}t}` in the eigenbasis of H."""

    def __init__(self, model, state, hamiltonian, battery_op):
        lam, vecs = np.linalg.eigh(hamiltonian(model).full())
        psi = qobj_state(model, state)
        rho = psi.full() if psi.isoper else psi.full() @ psi.full().conj().T
        r = vecs.conj().T @ rho @ vecs
        hb = vecs.conj().T @ battery_op(model).full() @ vecs
        coef = (r * hb.T).ravel()
        omega = (lam[:, None] - lam[None, :]).ravel()
        keep = np.abs(coef) > 1e-15 * np.abs(coef).sum()  # the rest is below the slack
        self.coef, self.omega = coef[keep], omega[keep]
        self.e0 = float(np.real(self.coef.sum()))
        self.size = float(np.abs(self.coef).sum()) + 1.0

    def __call__(self, t, k=0):
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.empty(t.size)
        weights = self.coef * (-1j * self.omega) ** k
        for s in range(0, t.size, 2048):
            phase = np.exp(-1j * np.outer(self.omega, t[s : s + 2048]))
            out[s : s + 2048] = np.real(weights @ phase)
        return out - self.e0 if k == 0 else out

    def slack(self, t, k=0):
        scale = float(np.sum(np.abs(self.coef) * np.abs(self.omega) ** k)) + self.size
        return SLACK_RTOL * scale * (1 + float(np.max(np.abs(self.omega), initial=0)) * t)


def sesolve_delta_energy(model, psi0, tlist, hamiltonian, battery_op):
    h_b = battery_op(model)
    res = qutip.sesolve(hamiltonian(model), psi0, tlist, e_ops=[h_b], options=dict(ODE_OPTIONS))
    return np.real(np.asarray(res.e_data[0])) - np.real(qutip.expect(h_b, psi0))


# --- the first peak ----------------------------------------------------------------------------------
def test_first_peak_against_sesolve(independent_hamiltonian, independent_battery_energy_op):
    """The certified first peak against a sesolve grid refined around its first local maximum;
    here the window maximum is a different, later and higher peak."""
    model, label = FIRST_PEAK_CASE
    psi0 = dicke_state(model, *label)
    first = max_energy(model, label, peak="first")
    assert first.converged and first.time_bracket is not None
    t = np.linspace(0.0, 1.5, 3001)
    e = sesolve_delta_energy(
        model, psi0, t, independent_hamiltonian, independent_battery_energy_op
    )
    i = 1 + int(np.flatnonzero((e[1:-1] > e[:-2]) & (e[1:-1] >= e[2:]))[0])
    fine = np.linspace(t[i - 1], t[i + 1], 2001)
    e_fine = sesolve_delta_energy(
        model,
        psi0,
        np.concatenate(([0.0], fine)),
        independent_hamiltonian,
        independent_battery_energy_op,
    )[1:]
    j = int(np.argmax(e_fine))
    assert first.value == pytest.approx(float(e_fine[j]), abs=SESOLVE_ATOL)
    step = fine[1] - fine[0]
    lo, hi = first.time_bracket
    assert lo - step <= fine[j] <= hi + step
    assert hi - lo <= 1e-10 * hi
    window = max_energy(model, label)
    assert window.converged and window.time > first.time + 1.0
    assert window.value > first.value + 0.1  # measured: 0.9569 at t = 1.822 vs 0.8427 at 0.6735


def check_first_peak(model, state, spectral):
    first = max_energy(model, state, peak="first")
    if not first.converged:
        assert first.reason and first.time_bracket is None
        return
    if first.time == 0:  # no charging peak: the state cannot gain energy
        assert first.value == 0 and first.time_bracket is None
        evo = SectorEngine(model).evolve(state)
        t = np.linspace(0.0, 4 * maxima.default_window(evo) + 1.0, 4001)
        assert np.all(spectral(t) <= spectral.slack(t[-1]))
        return
    lo, hi = first.time_bracket
    assert 0 < lo <= first.time <= hi and first.window == (0.0, hi)
    assert first.value == pytest.approx(float(spectral(first.time)[0]), abs=spectral.slack(hi))
    assert first.value <= first.upper_bound <= first.value + first.tolerance
    # dE_B/dt changes sign from + to - across the bracket ...
    assert spectral(lo, 1)[0] >= -spectral.slack(lo, 1)
    assert spectral(hi, 1)[0] <= spectral.slack(hi, 1)
    # ... and nowhere before it: on a dense grid no + to - change of dE_B/dt before lo
    points = int(min(200_000, max(2001, 40 * np.max(np.abs(spectral.omega)) * lo)))
    t = np.linspace(0.0, lo, points)[1:]
    g = spectral(t, 1)
    s = spectral.slack(lo, 1)
    change = np.flatnonzero((g[:-1] > s) & (g[1:] < -s))
    assert change.size == 0, f"an earlier peak near t = {t[change[0]]:.6g} (tau = {first.time})"
    if first.value >= 0:
        assert first.horizon == hi
        e = spectral(t)
        assert np.all(e <= first.upper_bound + spectral.slack(lo))


@settings(max_examples=120, **SWEEP)
@given(case=cases())
def test_first_peak_against_the_spectral_form(
    case, independent_hamiltonian, independent_battery_energy_op
):
    model, state = case
    spectral = Spectral(model, state, independent_hamiltonian, independent_battery_energy_op)
    check_first_peak(model, state, spectral)


@pytest.mark.parametrize(
    ("model", "state"),
    [
        pytest.param(CentralSpinModel(2, 3), (2, 1), id="full-battery"),
        pytest.param(CentralSpinModel(3, 2, h=0.7, A=0.6), (3, 0), id="full-battery-detuned"),
        pytest.param(CentralSpinModel(2, 3, B=1.0, h=0.8, delta=0.3), "gibbs", id="gibbs"),
        pytest.param(CentralSpinModel(2, 5, A=0.0, B=2.0, h=1.0), (0, 4), id="uncoupled"),
    ],
)
def test_no_charging_peak_without_gain(
    model, state, independent_hamiltonian, independent_battery_energy_op
):
    """Delta E_B <= 0 at all times: tau = t0 and nothing stored, certified; both definitions."""
    if state == "gibbs":
        state = gibbs_state(model, 0.7)
    first = max_energy(model, state, peak="first")
    assert (first.value, first.time, first.time_bracket) == (0.0, 0.0, None)
    assert first.converged and not first.reason
    spectral = Spectral(model, state, independent_hamiltonian, independent_battery_energy_op)
    t = np.linspace(0.0, 30.0, 6001)
    assert np.all(spectral(t) <= spectral.slack(30.0))  # the premise, independently
    tau = charging_time(model, state, definition="first_peak")
    assert (tau.time, tau.power, tau.energy, tau.converged) == (0.0, 0.0, 0.0, True)
    fastest = charging_time(model, state, definition="max_power")
    assert (fastest.time, fastest.power, fastest.energy) == (math.inf, 0.0, 0.0)


def test_first_peak_falling_start_is_not_a_peak(
    independent_hamiltonian, independent_battery_energy_op
):
    """m0 = 2 of N_B = 3 next to one charger spin up of 3: dE_B/dt(0) = 0 exactly and the
    battery first discharges (d2E_B/dt2(0) < 0); its first peak is where the energy comes back
    up, not t = 0+."""
    model = CentralSpinModel(3, 3, B=1.0, h=1.3, A=0.7)
    state = (2, 1)
    spectral = Spectral(model, state, independent_hamiltonian, independent_battery_energy_op)
    assert spectral(0.0, 1)[0] == pytest.approx(0.0, abs=1e-12) and spectral(0.0, 2)[0] < -1
    first = max_energy(model, state, peak="first")
    assert first.converged and first.time > 1.0
    check_first_peak(model, state, spectral)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(
            {"peak": "last"}, r"peak must be one of 'window', 'first'; got 'last'", id="peak"
        ),
        pytest.param({"peak": None}, r"peak must be one of .*; got None", id="none"),
    ],
)
def test_max_energy_rejects_an_unknown_peak(kwargs, match):
    with pytest.raises(ValueError, match=match):
        max_energy(CentralSpinModel(1, 2), (0, 1), **kwargs)


def test_charging_time_rejects_an_unknown_definition():
    with pytest.raises(
        ValueError, match=r"definition must be one of 'first_peak', 'max_power'; got 'ferraro'"
    ):
        charging_time(CentralSpinModel(1, 2), (0, 1), definition="ferraro")


# --- the default window ----------------------------------------------------------------------------
def test_default_window_holds_the_time_of_max_power(
    independent_hamiltonian, independent_battery_energy_op
):
    """The case where 2 pi / g_min ended on a rising edge, below P_max tau: the default window
    now reaches past the power's time and its maximum is a peak, checked by sesolve; a window
    given by hand keeps its meaning (the maximum over it, here at its end)."""
    model, label = RISING_EDGE_CASE
    evo = SectorEngine(model).evolve(label)
    e, p = max_energy(model, label), max_power(model, label)
    assert e.converged and p.converged
    assert e.value >= p.value * p.time - e.tolerance - p.tolerance * p.time
    psi0 = dicke_state(model, *label)
    t = np.linspace(0.0, e.window[1], 4001)
    ref = sesolve_delta_energy(
        model, psi0, t, independent_hamiltonian, independent_battery_energy_op
    )
    assert e.value >= ref.max() - SESOLVE_ATOL
    assert e.upper_bound >= ref.max() - SESOLVE_ATOL
    i = int(np.argmax(ref))
    assert 0 < i < t.size - 1  # an interior peak, not the window's end
    old = maxima.default_window(evo)
    given_window = max_energy(model, label, window=old)
    assert given_window.horizon == old and given_window.time == pytest.approx(old, rel=1e-9)
    assert given_window.value < p.value * p.time  # the reason the default had to grow


@st.composite
def hard_cases(draw):
    """cases() and the hard ones: m0 > 0 at N_B = N = 3, a full battery (no gain)."""
    kind = draw(st.sampled_from(["any", "three", "full"]))
    if kind == "any":
        return draw(cases())
    nb = 3 if kind == "three" else draw(st.integers(1, 4))
    nc = 3 if kind == "three" else draw(st.integers(1, 4))
    h = draw(st.floats(0.3, 2.0))
    A = draw(st.floats(0.2, 1.5))
    delta = draw(st.just(0.0) | st.floats(-1.0, 1.0))
    model = CentralSpinModel(nb, nc, B=1.0, h=h, A=A, delta=delta)
    if kind == "full":
        return model, (nb, draw(st.integers(0, nc)))
    m0 = draw(st.integers(1, nb - 1))
    if draw(st.booleans()):
        return model, (m0, draw(st.integers(0, nc)))
    n = draw(st.integers(0, nc))
    other = (draw(st.integers(0, nb)), draw(st.integers(0, nc)))
    if other == (m0, n):
        return model, (m0, n)
    return model, {(m0, n): 1.0, other: complex(draw(st.floats(-1, 1)), draw(st.floats(-1, 1)))}


def check_window_reaches_power(model, state, spectral=None):
    e, p = max_energy(model, state), max_power(model, state)
    if not e.converged:
        assert e.reason
        return
    if p.converged and math.isfinite(p.time):
        assert e.value >= p.value * p.time - e.tolerance - p.tolerance * p.time
    if spectral is not None and e.horizon != math.inf and e.value > 0:
        end = e.window[1]
        rising = spectral(end, 1)[0] > spectral.slack(end, 1)
        at_end = spectral(end)[0] >= e.value - e.tolerance - spectral.slack(end)
        assert not (rising and at_end), "the default window ends on a rising edge"


@settings(max_examples=100, **SWEEP)
@given(case=hard_cases())
def test_default_window_never_ends_below_max_power_time(
    case, independent_hamiltonian, independent_battery_energy_op
):
    model, state = case
    spectral = Spectral(model, state, independent_hamiltonian, independent_battery_energy_op)
    check_window_reaches_power(model, state, spectral)


# --- the charging time ----------------------------------------------------------------------------
def test_charging_time_of_one_battery_spin_in_closed_form():
    """N_B = 1: Delta E_B = B sin^2(g t), g = A sqrt((n + 1)(N - n)) here. Ferraro's tau is
    pi / (2g) with E = B; the seed paper's maximises sin^2(x)/x: tan x = 2x."""
    model = CentralSpinModel(1, 4, B=1.0, h=1.0, A=0.8)
    g = 0.8 * math.sqrt(3 * 2)  # n = 2 of N = 4
    first = charging_time(model, (0, 2), definition="first_peak")
    assert first.definition == "first_peak" and first.converged
    assert first.time == pytest.approx(math.pi / (2 * g), rel=1e-12)
    assert first.energy == pytest.approx(1.0, abs=1e-12)
    assert first.power == pytest.approx(2 * g / math.pi, rel=1e-12)
    x = brentq(lambda x: math.tan(x) - 2 * x, 1.0, 1.5, xtol=1e-15)
    fastest = charging_time(model, (0, 2), definition="max_power")
    assert fastest.definition == "max_power" and fastest.converged
    assert fastest.time == pytest.approx(x / g, rel=1e-6)  # P is flat at its maximum
    assert fastest.power == pytest.approx(g * math.sin(x) ** 2 / x, rel=1e-12)
    assert fastest.energy == pytest.approx(math.sin(x) ** 2, rel=1e-5)


def test_charging_time_definitions_on_the_measured_case(
    independent_hamiltonian, independent_battery_energy_op
):
    """Both definitions against the spectral form: P = Delta E_B(tau)/tau at each tau."""
    model, label = FIRST_PEAK_CASE
    spectral = Spectral(model, label, independent_hamiltonian, independent_battery_energy_op)
    for definition in ("first_peak", "max_power"):
        tau = charging_time(model, label, definition=definition)
        assert tau.converged and tau.definition == definition
        lo, hi = tau.time_bracket
        assert lo <= tau.time <= hi
        energy = float(spectral(tau.time)[0])
        assert tau.energy == pytest.approx(energy, abs=1e-9)
        assert tau.power == pytest.approx(energy / tau.time, rel=1e-9)
    first = charging_time(model, label, definition="first_peak")
    fastest = charging_time(model, label, definition="max_power")
    assert fastest.power >= first.power - 1e-12  # P_max is the largest ratio of all times


# --- the first peak of the ergotropy ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "state", "battery"),
    [
        pytest.param(
            CentralSpinModel(2, 4, B=1.0, h=1.0, A=1.0, delta=0.3),
            (0, 2),
            "dicke",
            id="passive-start",
        ),
        pytest.param(
            CentralSpinModel(3, 3, B=1.0, h=1.0, A=1.0, delta=0.3),
            (1, 2),
            "dicke",
            id="falls-first",
        ),
        pytest.param(
            CentralSpinModel(2, 3, B=1.0, h=1.0, A=1.0, delta=0.3),
            {(0, 1): 1.0, (1, 2): 0.5j},
            "qubits",
            id="superposition-qubits",
        ),
    ],
)
def test_first_ergotropy_peak_against_a_full_space_grid(model, state, battery):
    """The first local maximum of W(t) against W of the full-space evolution on a dense grid:
    the grid's first local maximum lies in the bracket (to a grid step), none comes before it,
    and W there is the value."""
    evo = SectorEngine(model).evolve(state)
    first = maxima_ergotropy.certified_max_ergotropy(evo, battery=battery, peak="first")
    assert first.converged and first.time_bracket is not None
    lo, hi = first.time_bracket
    assert lo <= first.time <= hi and hi - lo < 1e-5 and first.horizon == hi
    w = full_space_ergotropy(model, qobj_state(model, state), battery)
    t = np.linspace(0.0, 1.5 * hi, 1501)
    values = w(t)
    step = t[1] - t[0]
    peaks = 1 + np.flatnonzero((values[1:-1] > values[:-2]) & (values[1:-1] >= values[2:]))
    peaks = peaks[values[peaks] > 1e-6]
    assert peaks.size and lo - step <= t[peaks[0]] <= hi + step
    fine = np.linspace(lo - step, hi + step, 401)
    top = w(fine).max()
    assert first.value >= top - first.tolerance - BRUTE_ATOL
    assert top <= first.upper_bound + BRUTE_ATOL
    assert w(first.time)[0] == pytest.approx(first.value, abs=first.tolerance + BRUTE_ATOL)
    window = maxima_ergotropy.certified_max_ergotropy(evo, battery=battery)
    assert window.value >= first.value - window.tolerance


def test_first_ergotropy_peak_differs_from_the_window_maximum():
    """m0 = 1 of N_B = 3, collective (Dicke) ergotropy: W falls from W(0) > 0, comes back to a
    first peak 0.6867 at t = 0.3104; the window's maximum is 1.8156 at t = 0.8237."""
    evo = SectorEngine(CentralSpinModel(3, 3, B=1.0, h=1.0, A=1.0, delta=0.3)).evolve((1, 2))
    first = maxima_ergotropy.certified_max_ergotropy(evo, battery="dicke", peak="first")
    window = maxima_ergotropy.certified_max_ergotropy(evo, battery="dicke")
    assert first.time == pytest.approx(0.3104, abs=1e-3) and window.time > 0.8
    assert window.value > first.value + 1.0


def test_max_ergotropy_rejects_an_unknown_peak():
    evo = SectorEngine(CentralSpinModel(1, 2)).evolve((0, 1))
    with pytest.raises(ValueError, match=r"peak must be one of 'window', 'first'; got 'last'"):
        maxima_ergotropy.certified_max_ergotropy(evo, peak="last")
