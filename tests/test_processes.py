"""Dissipative processes: validation, merging, collapse operators, CLI flags, and the rate
convention proven on closed forms (single spin) and on the local/collective identities."""

import dataclasses
import math

import numpy as np
import pytest
import qutip
from hypothesis import given
from hypothesis import strategies as st

from qutip_centralspin import CentralSpinModel, charge, dicke_state
from qutip_centralspin.models.processes import (
    KINDS,
    SCOPES,
    TARGETS,
    Process,
    as_processes,
    collective_c_ops,
    decay,
    dephasing,
    processes_from_flags,
    pumping,
)
from qutip_centralspin.solvers.references import piqs_rates, symmetric_mesolve

#: Block solver (Chebyshev, exact to rounding) against exponentials evaluated by NumPy.
CLOSED_FORM_ATOL = 1e-11
#: Block solver against qutip.mesolve at atol=1e-12, rtol=1e-10 over t <= 3 (ODE error ~1e-10).
MESOLVE_ATOL = 1e-8
#: Operators assembled from jmat with a scalar factor: exact up to one rounding.
OPERATOR_ATOL = 1e-14

TIMES = np.linspace(0.0, 3.0, 31)


# -- the dataclass ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("scope", SCOPES)
def test_valid_process_keeps_its_fields(kind, target, scope):
    proc = Process(kind, 0.25, target, scope)
    assert (proc.kind, proc.rate, proc.target, proc.scope) == (kind, 0.25, target, scope)
    assert proc.key == (kind, target, scope)
    assert proc.is_local == (scope == "local")


@pytest.mark.parametrize(
    "args, match",
    [
        pytest.param(("damping", 0.1), r"kind must be one of .*'damping'", id="kind"),
        pytest.param(("decay", 0.1, "bath"), r"target must be one of .*'bath'", id="target"),
        pytest.param(
            ("decay", 0.1, "battery", "global"), r"scope must be one of .*'global'", id="scope"
        ),
        pytest.param(
            ("decay", -0.1),
            r"rate must be a finite real number >= 0, got -0.1",
            id="negative-rate",
        ),
        pytest.param(("decay", math.inf), r"rate must be a finite real number", id="inf-rate"),
        pytest.param(("decay", "fast"), r"rate must be a finite real number", id="str-rate"),
    ],
)
def test_invalid_process_names_field_and_value(args, match):
    with pytest.raises(ValueError, match=match):
        Process(*args)


def test_process_is_frozen():
    proc = dephasing(0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        proc.rate = 0.2


@pytest.mark.parametrize(
    "make, kind", [(dephasing, "dephasing"), (decay, "decay"), (pumping, "pumping")]
)
def test_constructors(make, kind):
    assert make(0.3) == Process(kind, 0.3, "battery", "local")
    assert make(0.3, "charger", "collective") == Process(kind, 0.3, "charger", "collective")


@pytest.mark.parametrize(
    "proc, text",
    [
        (dephasing(0.1), "sqrt(0.1) sigma^z_i on every battery spin"),
        (decay(0.2, "charger"), "sqrt(0.2) sigma^-_i on every charger spin"),
        (pumping(0.5, scope="collective"), "sqrt(0.5) S^+"),
        (decay(1, "charger", "collective"), "sqrt(1) J^-"),
    ],
)
def test_lindblad_operator_is_stated(proc, text):
    assert proc.lindblad_operator == text


def test_as_processes_merges_equal_keys_and_keeps_order():
    procs = as_processes([decay(0.1), dephasing(0.2, "charger"), decay(0.3)])
    assert procs == (decay(0.1 + 0.3), dephasing(0.2, "charger"))
    assert as_processes(None) == ()
    assert as_processes(pumping(0.1)) == (pumping(0.1),)


@pytest.mark.parametrize("bad", [[decay(0.1), "decay"], "decay", 3.0])
def test_as_processes_rejects_non_processes(bad):
    with pytest.raises(TypeError, match="Process"):
        as_processes(bad)


# -- collapse operators -----------------------------------------------------------------------
def test_collective_c_ops_match_jmat():
    model = CentralSpinModel(3, 4)
    procs = [
        dephasing(0.1, scope="collective"),
        decay(0.2, "charger", "collective"),
        pumping(0.0, scope="collective"),  # zero rate: skipped
        pumping(0.3, scope="collective"),
    ]
    c_ops = collective_c_ops(model, procs)
    ib, ic = qutip.qeye(4), qutip.qeye(5)
    expected = [
        math.sqrt(0.1) * qutip.tensor(qutip.jmat(1.5, "z"), ic),
        math.sqrt(0.2) * qutip.tensor(ib, qutip.jmat(2.0, "-")),
        math.sqrt(0.3) * qutip.tensor(qutip.jmat(1.5, "+"), ic),
    ]
    assert len(c_ops) == 3
    for op, ref in zip(c_ops, expected, strict=True):
        assert op.dims == [[4, 5], [4, 5]]
        assert (op - ref).norm("max") < OPERATOR_ATOL
    assert c_ops[0].isherm


def test_collective_c_ops_reject_local_processes():
    with pytest.raises(ValueError, match="collective.*local"):
        collective_c_ops(CentralSpinModel(2, 2), [dephasing(0.1)])


# -- CLI flags ---------------------------------------------------------------------------------
FLAGS = {
    "dephasing": ("dephasing", "battery", "local"),
    "decay": ("decay", "battery", "local"),
    "pumping": ("pumping", "battery", "local"),
    "charger_dephasing": ("dephasing", "charger", "local"),
    "charger_decay": ("decay", "charger", "local"),
    "charger_pumping": ("pumping", "charger", "local"),
    "collective_dephasing": ("dephasing", "battery", "collective"),
    "collective_decay": ("decay", "battery", "collective"),
    "collective_pumping": ("pumping", "battery", "collective"),
    "collective_charger_dephasing": ("dephasing", "charger", "collective"),
    "collective_charger_decay": ("decay", "charger", "collective"),
    "collective_charger_pumping": ("pumping", "charger", "collective"),
}


@pytest.mark.parametrize("flag", list(FLAGS))
def test_each_flag_maps_to_its_process(flag):
    (proc,) = processes_from_flags(**{flag: 0.7})
    assert proc.key == FLAGS[flag]
    assert proc.rate == 0.7


def test_flags_default_to_no_process():
    assert processes_from_flags() == []
    assert processes_from_flags(dephasing=0, decay=0.0) == []


@pytest.mark.parametrize("flag", ["dephasing", "collective_charger_pumping"])
def test_negative_flag_is_named(flag):
    with pytest.raises(ValueError, match=rf"{flag} must be a finite real number >= 0"):
        processes_from_flags(**{flag: -1.0})


@given(rates=st.lists(st.floats(0, 10, allow_nan=False), min_size=12, max_size=12))
def test_flags_round_trip(rates):
    procs = processes_from_flags(**dict(zip(FLAGS, rates, strict=True)))
    assert [p.key for p in procs] == [FLAGS[f] for f, r in zip(FLAGS, rates, strict=True) if r > 0]
    assert [p.rate for p in procs] == [r for r in rates if r > 0]


def test_piqs_rates_convert_the_dephasing_convention():
    procs = [dephasing(0.1), decay(0.2), pumping(0.3, scope="collective"), decay(0.4, "charger")]
    assert piqs_rates(procs, "battery") == pytest.approx(
        {"dephasing": 0.4, "emission": 0.2, "collective_pumping": 0.3}
    )
    assert piqs_rates(procs, "charger") == {"emission": 0.4}


# -- the rate convention, on closed forms -------------------------------------------------------
UNCOUPLED = CentralSpinModel(1, 2, B=1.3, h=0.7, A=0.0)


@pytest.mark.parametrize("scope", SCOPES)
def test_decay_of_one_excited_spin_is_exp_minus_gamma_t(scope):
    """L = sqrt(g) sigma^- on an excited spin: p_up(t) = exp(-g t), Delta E = B (e^{-gt} - 1)."""
    gamma = 0.4
    res = charge(
        UNCOUPLED, dicke_state(UNCOUPLED, 1, 2), TIMES, processes=decay(gamma, scope=scope)
    )
    expected = UNCOUPLED.B * (np.exp(-gamma * TIMES) - 1)
    assert np.abs(res.delta_energy - expected).max() < CLOSED_FORM_ATOL
    assert res.power[0] == pytest.approx(-gamma * UNCOUPLED.B, abs=CLOSED_FORM_ATOL)


def test_pumping_of_one_empty_spin_is_one_minus_exp():
    gamma = 0.25
    res = charge(UNCOUPLED, dicke_state(UNCOUPLED, 0, 2), TIMES, processes=pumping(gamma))
    expected = UNCOUPLED.B * (1 - np.exp(-gamma * TIMES))
    assert np.abs(res.delta_energy - expected).max() < CLOSED_FORM_ATOL


def test_decay_and_pumping_relax_to_the_detailed_balance_population():
    """Up rate g_p, down rate g_d: p_up(t) = p* + (p0 - p*) e^{-(g_p+g_d) t}, p* = g_p/(g_p+g_d)."""
    g_d, g_p = 0.3, 0.1
    res = charge(
        UNCOUPLED, dicke_state(UNCOUPLED, 1, 2), TIMES, processes=[decay(g_d), pumping(g_p)]
    )
    p_star = g_p / (g_p + g_d)
    p_up = p_star + (1 - p_star) * np.exp(-(g_p + g_d) * TIMES)
    assert np.abs(res.delta_energy - UNCOUPLED.B * (p_up - 1)).max() < CLOSED_FORM_ATOL


@pytest.mark.parametrize(
    "local, collective",
    [
        pytest.param(dephasing(0.15), dephasing(0.6, scope="collective"), id="sz=2Sz"),
        pytest.param(decay(0.2), decay(0.2, scope="collective"), id="sm=Sm"),
        pytest.param(pumping(0.1), pumping(0.1, scope="collective"), id="sp=Sp"),
        pytest.param(
            dephasing(0.1, "charger"), dephasing(0.4, "charger", "collective"), id="charger-sz=2Jz"
        ),
    ],
)
def test_one_spin_local_equals_collective(local, collective):
    """For one spin sigma^z = 2 S^z, sigma^- = S^-: local rate g is collective rate 4g / g.

    The local process runs through the block solver (j-resolved basis), the collective one
    through plain mesolve on the symmetric space: independent routes for the convention.
    """
    model = CentralSpinModel(1, 1, B=1.0, h=0.9, A=0.8, delta=0.2)
    psi0 = dicke_state(model, 0, 1) if local.target == "battery" else dicke_state(model, 1, 0)
    local_run = charge(model, psi0, TIMES, processes=local)
    ref = symmetric_mesolve(model, psi0, TIMES, collective)
    assert local_run.solver == "blocks"
    assert np.abs(local_run.delta_energy - ref.delta_energy).max() < MESOLVE_ATOL
