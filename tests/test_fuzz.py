"""Property-based fuzz of the command line and the public entry points.

Whatever the sizes, fields, rates, times, states and solver choices: no traceback, no NaN or
inf in a returned result, and a clear one-line error for every refusal. The default run draws
a few hundred examples; ``pytest -m slow`` draws many more.
"""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest
import qutip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qutip_centralspin import (
    BatteryPower,
    CentralSpinModel,
    Process,
    charge,
    cli,
    dicke_state,
    max_power,
)
from qutip_centralspin.resources import MEMORY_ENV, ResourceError

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: numbers as a user types them: ordinary, negative, zero, huge, tiny, non-finite, garbage
NUMBER_TEXT = st.one_of(
    st.floats(-5, 5, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.sampled_from(["0", "-0", "1e-300", "1e300", "-1e300", "inf", "-inf", "nan", "x", ""]),
)
SIZE_TEXT = st.one_of(
    st.integers(-2, 7).map(str), st.sampled_from(["100000", "1.5", "two", "-1", "0"])
)
SPEC = st.sampled_from(
    [
        "full",
        "dicke:1",
        "dicke:9",
        "coherent:0.7",
        "coherent:1:2",
        "coherent:7",
        "thermal:0.5",
        "thermal:0",
        "thermal:-1",
        "fock:2",
        "alpha:1",
        "hot",
        "dicke:",
        ":",
    ]
)


@st.composite
def cli_argv(draw):
    command = draw(st.sampled_from(["pmax", "charge"]))
    argv = [command, "--nb", draw(SIZE_TEXT), "--n", draw(SIZE_TEXT), "--json"]
    for flag in ("--B", "--h", "--A", "--delta"):
        if draw(st.booleans()):
            value = draw(NUMBER_TEXT)
            argv += [f"{flag}={value}"] if draw(st.booleans()) else [flag, value]
    if draw(st.booleans()):
        argv += ["--m0", draw(SIZE_TEXT)]
    if command == "pmax":
        if draw(st.booleans()):
            argv += ["--charger-state", draw(SPEC)]
        if draw(st.booleans()):
            argv += ["--charger", draw(st.sampled_from(["spins", "cavity", "laser"]))]
    else:
        if draw(st.booleans()):
            argv += ["--points", draw(st.sampled_from(["1", "2", "31", "-5", "1e3", "zero"]))]
        if draw(st.booleans()):
            argv += ["--t-max", draw(NUMBER_TEXT)]
        for flag in ("--dephasing", "--decay", "--charger-pumping", "--collective-decay"):
            if draw(st.booleans()):
                argv += [flag, draw(NUMBER_TEXT)]
    return argv


def _check_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    out, err = out.getvalue(), err.getvalue()
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("qutip-centralspin"), (argv, err)
        assert out == ""
        return
    payload = json.loads(out)  # standard JSON: an unattained tau is null, never NaN
    for key, value in payload.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            assert not (isinstance(v, float) and not math.isfinite(v)), (argv, key)


@FAST
@given(argv=cli_argv())
def test_cli_fuzz(argv):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MEMORY_ENV, "256M")
        _check_cli(argv)


@pytest.mark.slow
@SLOW
@given(argv=cli_argv())
def test_cli_fuzz_long(argv):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MEMORY_ENV, "256M")
        _check_cli(argv)


FIELD = st.one_of(st.floats(-3, 3, allow_nan=False), st.sampled_from([0.0, 1e-8, -2.5]))
RATE = st.one_of(st.floats(0, 2, allow_nan=False), st.just(0.0))


@st.composite
def runs(draw):
    nb, nc = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    model = CentralSpinModel(
        nb, nc, B=draw(FIELD), h=draw(FIELD), A=draw(FIELD), delta=draw(FIELD)
    )
    kind = draw(st.sampled_from(["dicke", "superposition", "mixture"]))
    m0, n0 = draw(st.integers(0, nb)), draw(st.integers(0, nc))
    if kind == "dicke":
        state = dicke_state(model, m0, n0)
    elif kind == "superposition":
        state = (dicke_state(model, m0, n0) + 1j * dicke_state(model, nb - m0, nc)).unit()
    else:
        p = draw(st.floats(0.05, 0.95))
        state = p * dicke_state(model, m0, n0, dm=True) + (1 - p) * dicke_state(
            model, 0, nc, dm=True
        )
    t0 = draw(st.sampled_from([0.0, 0.3, 2.0]))
    points = draw(st.integers(1, 6))
    tlist = t0 + np.sort(draw(st.lists(st.floats(0.01, 5), min_size=points, max_size=points)))
    tlist = np.unique(np.concatenate([[t0], tlist]))
    procs = [
        Process(
            draw(st.sampled_from(["dephasing", "decay", "pumping"])),
            draw(RATE),
            draw(st.sampled_from(["battery", "charger"])),
            draw(st.sampled_from(["local", "collective"])),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    if procs:
        solver = draw(st.sampled_from(["auto", "blocks", "piqs", "bruteforce", "mesolve"]))
    else:
        solver = draw(st.sampled_from(["auto", "exact", "sesolve", "mesolve"]))
    return model, state, tlist, procs, solver


def _check_charge(model, state, tlist, procs, solver):
    try:
        res = charge(
            model,
            state,
            tlist,
            processes=procs or None,
            solver=solver,
            e_ops={"P": BatteryPower(model, state, processes=procs or None)},
        )
    except (ValueError, ResourceError) as exc:
        message = str(exc)
        assert message and "\n" not in message.strip()
        return
    for name in ("delta_energy", "power"):
        assert np.all(np.isfinite(getattr(res, name))), name
    assert np.isfinite(res.initial_energy) and np.isfinite(res.initial_rate)
    assert abs(res.delta_energy[0]) < 1e-9
    np.testing.assert_allclose(res.e_data["P"], res.power, atol=1e-5)


@FAST
@given(case=runs())
def test_charge_fuzz(case):
    _check_charge(*case)


@pytest.mark.slow
@SLOW
@given(case=runs())
def test_charge_fuzz_long(case):
    _check_charge(*case)


@FAST
@given(case=runs())
def test_max_power_fuzz(case):
    model, state, *_ = case
    try:
        best = max_power(model, state)
    except ValueError as exc:
        assert str(exc)
        return
    assert math.isfinite(best.value) and best.value >= 0
    assert best.upper_bound >= best.value
    assert isinstance(state, qutip.Qobj)
