"""``max_power`` / ``max_energy`` with ``method="twa"``: estimates against the exact maxima.

N_B = N = 32 from |0, 32>, closed (the certified maxima) and with local dephasing + decay 0.1
(the certified open maximum of the block solver over a horizon past tau). The tolerance is the
measured TWA error (about 1 %: -0.9 % mean over five seeds of 4000 trajectories, closed) plus
three standard errors.
"""

import dataclasses
import math

import pytest

from qutip_centralspin import (
    CentralSpinModel,
    decay,
    dephasing,
    dicke_state,
    max_energy,
    max_power,
)
from qutip_centralspin.maxima.open import open_max_power
from qutip_centralspin.resources import MEMORY_ENV
from qutip_centralspin.solvers.sector import SectorEngine
from qutip_centralspin.solvers.twa_accuracy import TWAAccuracyWarning

N = 32
#: Measured TWA error of P_max and of the first E_max at N_B = N = 32 (relative).
BIAS = 0.01
SIGMAS = 3
OPTIONS = {"ntraj": 4000, "seed": 7}


def _within(estimate, exact):
    sigma = (estimate.upper_bound - estimate.value) / 2
    assert abs(estimate.value - exact) <= BIAS * abs(exact) + SIGMAS * sigma, (estimate, exact)


def _is_estimate(result, ntraj):
    assert not result.converged
    assert result.horizon is None and result.time_bracket is None
    assert result.reason.startswith(f"TWA estimate ({ntraj} trajectories): ± ")
    assert result.reason.endswith("not certified")
    assert result.upper_bound > result.value


@pytest.fixture(scope="module")
def model():
    return CentralSpinModel(N, N)


def test_closed_max_power_and_first_energy(model):
    exact = max_power(model, (0, N))
    est = max_power(model, (0, N), method="twa", options=OPTIONS)
    _is_estimate(est, 4000)
    _within(est, exact.value)
    # tau: refined on a grid finer than 1 % of tau
    assert math.isclose(est.time, exact.time, rel_tol=0.02)
    first = max_energy(model, (0, N), peak="first")
    est_e = max_energy(model, (0, N), peak="first", method="twa", options=OPTIONS)
    _is_estimate(est_e, 4000)
    # E_1's measured TWA error is about twice P_max's
    sigma = (est_e.upper_bound - est_e.value) / 2
    assert abs(est_e.value - first.value) <= 2 * BIAS * first.value + SIGMAS * sigma
    # the peak of Delta E_B is flat: its time is less sharp (measured -2.1 %, seed 7)
    assert math.isclose(est_e.time, first.time, rel_tol=0.05)


def test_open_max_power(model):
    processes = [dephasing(0.1), decay(0.1)]
    exact = open_max_power(model, dicke_state(model, 0, N), processes, horizon=0.4)
    est = max_power(model, (0, N), method="twa", processes=processes, options=OPTIONS)
    _is_estimate(est, 4000)
    _within(est, exact.value)
    assert math.isclose(est.time, exact.time, rel_tol=0.02)


def test_seeded_estimate_is_reproducible(model):
    small = CentralSpinModel(4, 8)
    with pytest.warns(TWAAccuracyWarning, match="validated to"):
        a = max_power(small, (0, 8), method="twa", options={"ntraj": 50, "seed": 3})
    with pytest.warns(TWAAccuracyWarning, match="validated to"):
        b = max_power(small, (0, 8), method="twa", options={"ntraj": 50, "seed": 3})
    assert a == b and a.method == "twa"
    assert "validated to" in a.reason  # the measured error of the size, said in the result


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "mc"}, r"method must be one of 'exact', 'twa', 'auto'; got 'mc'"),
        ({"processes": [decay(0.1)]}, r"processes is only taken with method='twa'"),
        ({"options": {"ntraj": 10}}, r"options is only taken with method='twa'"),
        ({"method": "twa", "options": {"ntrajs": 10}}, r"must be among ntraj, seed.*'ntrajs'"),
        (
            {"method": "twa", "options": {"ntraj": 1}},
            r"options\['ntraj'\] must be an integer >= 2",
        ),
        ({"method": "twa", "options": [1]}, r"options must be a dict or None, got list"),
        ({"method": "twa", "engine": object()}, r"engine must be None with method='twa'"),
        (
            {"method": "auto", "processes": [decay(0.1)]},
            r"processes are not taken with method='auto'",
        ),
        # refused on the exact path too, not only where the TWA would read them
        ({"method": "auto", "options": {"ntrajs": 10}}, r"must be among ntraj, seed.*'ntrajs'"),
    ],
)
def test_errors_name_the_parameter(kwargs, match):
    model = CentralSpinModel(2, 4)
    with pytest.raises(ValueError, match=match):
        max_power(model, (0, 4), **kwargs)


def test_twa_energy_is_the_first_peak_only():
    model = CentralSpinModel(2, 4)
    with pytest.raises(
        ValueError, match=r"peak must be 'first' and window None, got peak='window'"
    ):
        max_energy(model, (0, 4), method="twa")
    with pytest.raises(ValueError, match=r"window=1.0"):
        max_energy(model, (0, 4), method="twa", peak="first", window=1.0)


def test_auto_is_exact_where_it_fits():
    """Within the memory limit: the certified maxima, identical to method="exact"."""
    small = CentralSpinModel(4, 8)
    for method in ("auto", "exact"):
        assert max_power(small, (0, 8), method=method).method == "exact"
    assert max_power(small, (0, 8), method="auto") == max_power(small, (0, 8))
    first = max_energy(small, (0, 8), peak="first")
    assert first.converged
    assert max_energy(small, (0, 8), peak="first", method="auto") == first
    # the TWA's options are for the path not taken; an engine means the exact path
    opts = {"ntraj": 50, "seed": 1}
    assert max_power(small, (0, 8), method="auto", options=opts) == max_power(small, (0, 8))
    engine = SectorEngine(small)
    assert max_power(small, (0, 8), method="auto", engine=engine, options=opts).converged


def test_auto_is_the_twa_beyond_the_limit(monkeypatch):
    """Over the limit (options["max_memory"] or the environment variable): the TWA estimate,
    the same numbers as method="twa", its reason saying why."""
    small = CentralSpinModel(4, 8)
    opts = {"ntraj": 50, "seed": 3}
    with pytest.warns(TWAAccuracyWarning):
        twa = max_power(small, (0, 8), method="twa", options=opts)
    with pytest.warns(TWAAccuracyWarning):
        auto = max_power(small, (0, 8), method="auto", options={**opts, "max_memory": 1000})
    assert auto.method == "twa" and not auto.converged
    assert "chosen by method='auto' (twa: the exact path needs about" in auto.reason
    assert "over the limit" in auto.reason
    assert dataclasses.replace(auto, reason=twa.reason) == twa
    monkeypatch.setenv(MEMORY_ENV, "1000")
    with pytest.warns(TWAAccuracyWarning):
        energy = max_energy(small, (0, 8), peak="first", method="auto", options=opts)
    assert energy.method == "twa" and energy.horizon is None
    with pytest.raises(ValueError, match=r"method='auto' .* peak must be 'first'"):
        max_energy(small, (0, 8), method="auto")


def test_auto_beyond_the_limit_at_n32_is_validated(model, monkeypatch):
    """At N_B = N = 32 the TWA is validated (no warning) and within 1 % + 3 sigma of exact."""
    monkeypatch.setenv(MEMORY_ENV, "1000")
    est = max_power(model, (0, N), method="auto", options=OPTIONS)
    assert est.method == "twa" and "validated" not in est.reason
    monkeypatch.delenv(MEMORY_ENV)
    _within(est, max_power(model, (0, N)).value)
