"""CentralSpinModel: immutability, defaults, validation (also through ``replace``)."""

import dataclasses
import math

import numpy as np
import pytest

from qutip_centralspin import CentralSpinModel

BAD_COUNTS = [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(2.5, id="float"),
    pytest.param(2.0, id="integral-float"),
    pytest.param(True, id="bool"),
    pytest.param("3", id="str"),
    pytest.param(None, id="none"),
]

BAD_REALS = [
    pytest.param(math.nan, id="nan"),
    pytest.param(math.inf, id="inf"),
    pytest.param(-math.inf, id="-inf"),
    pytest.param(np.float64("nan"), id="np-nan"),
    pytest.param("1", id="str"),
    pytest.param(1j, id="complex"),
    pytest.param(True, id="bool"),
]


def test_defaults():
    model = CentralSpinModel(n_battery=2, n_charger=5)
    assert (model.A, model.B, model.h, model.delta) == (1.0, 1.0, 1.0, 0.0)
    assert (model.n_battery, model.n_charger) == (2, 5)


def test_positional_order_and_types_normalised():
    model = CentralSpinModel(np.int64(3), np.int32(4), 2, 3, 4, 5)
    assert (model.n_battery, model.n_charger) == (3, 4)
    assert (model.B, model.h, model.A, model.delta) == (2.0, 3.0, 4.0, 5.0)
    assert type(model.n_battery) is int and type(model.n_charger) is int
    assert all(type(v) is float for v in (model.B, model.h, model.A, model.delta))


@pytest.mark.parametrize("field", ["n_battery", "n_charger", "B", "h", "A", "delta"])
def test_frozen(field):
    model = CentralSpinModel(n_battery=1, n_charger=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(model, field, 3)


def test_hashable_and_equal_by_value():
    a = CentralSpinModel(2, 3, B=1.5)
    b = CentralSpinModel(2, 3, B=1.5)
    assert a == b and hash(a) == hash(b)
    assert a != a.replace(B=2.0)
    assert len({a, b, a.replace(delta=1.0)}) == 2


def test_shape_properties():
    model = CentralSpinModel(n_battery=3, n_charger=7)
    assert model.dims == [[4, 8], [4, 8]]
    assert model.ket_dims[0] == [4, 8]
    assert model.shape == 32


@pytest.mark.parametrize("field", ["n_battery", "n_charger"])
@pytest.mark.parametrize("value", BAD_COUNTS)
def test_bad_spin_counts(field, value):
    kwargs = {"n_battery": 1, "n_charger": 1, field: value}
    with pytest.raises(ValueError, match=field):
        CentralSpinModel(**kwargs)


@pytest.mark.parametrize("field", ["B", "h", "A", "delta"])
@pytest.mark.parametrize("value", BAD_REALS)
def test_bad_real_fields(field, value):
    with pytest.raises(ValueError, match=rf"\b{field}\b"):
        CentralSpinModel(1, 1, **{field: value})


@pytest.mark.parametrize(
    "changes, name",
    [
        pytest.param({"n_battery": 0}, "n_battery", id="n_battery-0"),
        pytest.param({"n_charger": 2.5}, "n_charger", id="n_charger-float"),
        pytest.param({"n_charger": True}, "n_charger", id="n_charger-bool"),
        pytest.param({"B": math.nan}, "B", id="B-nan"),
        pytest.param({"delta": math.inf}, "delta", id="delta-inf"),
    ],
)
def test_replace_revalidates(changes, name):
    model = CentralSpinModel(2, 3)
    with pytest.raises(ValueError, match=name):
        model.replace(**changes)


def test_replace_returns_new_validated_copy():
    model = CentralSpinModel(2, 3, B=1.0)
    new = model.replace(n_charger=np.int64(6), B=2)
    assert new is not model
    assert (new.n_battery, new.n_charger, new.B) == (2, 6, 2.0)
    assert type(new.n_charger) is int and type(new.B) is float
    assert (model.n_charger, model.B) == (3, 1.0)  # original untouched


def test_negative_and_zero_fields_allowed():
    """B, h, A, Delta are any finite reals (B < 0 or A = 0 are legitimate models)."""
    model = CentralSpinModel(1, 1, B=-2.0, h=0.0, A=0.0, delta=-3.0)
    assert (model.B, model.h, model.A, model.delta) == (-2.0, 0.0, 0.0, -3.0)
