"""plot_charging: overlaying runs on one axes (one P_B twin, distinct colours, one legend)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from qutip_centralspin import CentralSpinModel, charge, dicke_state  # noqa: E402
from qutip_centralspin.models.processes import dephasing  # noqa: E402
from qutip_centralspin.plotting import plot_charging  # noqa: E402

TLIST = np.linspace(0, 2, 41)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def model():
    return CentralSpinModel(2, 4)


@pytest.fixture(scope="module")
def res_unitary(model):
    return charge(model, dicke_state(model, 0, 4), TLIST)


@pytest.fixture(scope="module")
def res_dephasing(model):
    return charge(model, dicke_state(model, 0, 4), TLIST, processes=[dephasing(0.1)])


def _twin(ax):
    """The one other axes of the figure (the P_B twin)."""
    others = [a for a in ax.figure.axes if a is not ax]
    assert len(others) == 1
    return others[0]


def _rgba(line):
    return mcolors.to_rgba(line.get_color())


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _overlay(res_unitary, res_dephasing, **kwargs):
    ax = plot_charging(res_unitary, label="unitary")
    ret = plot_charging(res_dephasing, ax=ax, label=r"dephasing $\gamma=0.1$", **kwargs)
    return ax, ret


def test_results_differ(res_unitary, res_dephasing):
    # the data checks below only mean something if the two runs are distinguishable
    assert res_dephasing.solver != res_unitary.solver
    assert not np.allclose(res_unitary.delta_energy, res_dephasing.delta_energy)
    assert not np.allclose(res_unitary.power, res_dephasing.power)


def test_overlay_reuses_one_twin(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing)
    assert len(ax.figure.axes) == 2
    twin = _twin(ax)
    assert len(ax.get_lines()) == 2
    assert len(twin.get_lines()) == 2
    # twin shares the time axis and carries the P_B label once
    assert ax.get_shared_x_axes().joined(ax, twin)
    assert "P_B" in twin.get_ylabel()
    assert "Delta E_B" in ax.get_ylabel()


def test_three_runs_still_one_twin(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing)
    plot_charging(res_unitary, ax=ax, label="again")
    assert len(ax.figure.axes) == 2
    assert len(_twin(ax).get_lines()) == 3
    assert len(_legend_texts(ax)) == 6


def test_returns_primary_axes(res_unitary, res_dephasing):
    ax, ret = _overlay(res_unitary, res_dephasing)
    assert ret is ax
    fig, given = plt.subplots()
    assert plot_charging(res_unitary, ax=given) is given
    assert fig.axes[0] is given


def test_runs_get_distinct_colours(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing)
    twin = _twin(ax)
    e0, e1 = ax.get_lines()
    p0, p1 = twin.get_lines()
    assert _rgba(e0) != _rgba(e1)
    # the property cycle, in order
    assert _rgba(e0) == mcolors.to_rgba("C0")
    assert _rgba(e1) == mcolors.to_rgba("C1")
    # P_B in the colour of its run, dashed; Delta E_B solid
    assert _rgba(p0) == _rgba(e0)
    assert _rgba(p1) == _rgba(e1)
    assert e0.get_linestyle() == e1.get_linestyle() == "-"
    assert p0.get_linestyle() == p1.get_linestyle() == "--"


def test_legend_has_both_axes_once(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing)
    texts = _legend_texts(ax)
    assert len(texts) == 4
    assert len(set(texts)) == 4
    assert sorted(texts) == sorted(
        [
            r"unitary: $\Delta E_B$",
            r"unitary: $P_B$",
            r"dephasing $\gamma=0.1$: $\Delta E_B$",
            r"dephasing $\gamma=0.1$: $P_B$",
        ]
    )
    # the combined legend lives on the primary axes only
    assert _twin(ax).get_legend() is None


def test_default_label_is_solver(res_unitary, res_dephasing):
    ax = plot_charging(res_unitary)
    plot_charging(res_dephasing, ax=ax)
    texts = _legend_texts(ax)
    assert f"{res_unitary.solver}: $\\Delta E_B$" in texts
    assert f"{res_unitary.solver}: $P_B$" in texts
    assert f"{res_dephasing.solver}: $\\Delta E_B$" in texts
    assert f"{res_dephasing.solver}: $P_B$" in texts


def test_color_respected(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing, color="tab:olive")
    e1 = ax.get_lines()[1]
    p1 = _twin(ax).get_lines()[1]
    assert _rgba(e1) == mcolors.to_rgba("tab:olive")
    assert _rgba(p1) == mcolors.to_rgba("tab:olive")
    # the first run keeps its cycle colour
    assert _rgba(ax.get_lines()[0]) == mcolors.to_rgba("C0")


def test_power_false_makes_no_twin(res_unitary):
    ax = plot_charging(res_unitary, power=False, label="unitary")
    assert len(ax.figure.axes) == 1
    assert len(ax.get_lines()) == 1
    assert _legend_texts(ax) == [r"unitary: $\Delta E_B$"]


def test_power_false_overlay_keeps_existing_twin(res_unitary, res_dephasing):
    ax = plot_charging(res_unitary, label="unitary")
    plot_charging(res_dephasing, ax=ax, power=False, label="deph")
    assert len(ax.figure.axes) == 2
    assert len(_twin(ax).get_lines()) == 1
    assert len(ax.get_lines()) == 2
    assert len(_legend_texts(ax)) == 3


def test_plotted_data_equal_results(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing)
    twin = _twin(ax)
    for res, e_line, p_line in zip(
        (res_unitary, res_dephasing), ax.get_lines(), twin.get_lines(), strict=True
    ):
        np.testing.assert_array_equal(e_line.get_xdata(), res.times)
        np.testing.assert_array_equal(e_line.get_ydata(), res.delta_energy)
        np.testing.assert_array_equal(p_line.get_xdata(), res.times)
        np.testing.assert_array_equal(p_line.get_ydata(), res.power)


def test_twin_per_primary_axes(res_unitary, res_dephasing):
    # sharex subplots are x-joined too: each primary must still get its own twin
    fig, (top, bottom) = plt.subplots(2, sharex=True)
    plot_charging(res_unitary, ax=top)
    plot_charging(res_dephasing, ax=bottom)
    plot_charging(res_dephasing, ax=top)
    assert len(fig.axes) == 4
    twins = [a for a in fig.axes if a not in (top, bottom)]
    assert sorted(len(t.get_lines()) for t in twins) == [1, 2]


def test_title(model, res_unitary, res_dephasing):
    ax = plot_charging(res_unitary)
    assert ax.get_title() == rf"$N_B=2$, $N=4$ ({res_unitary.solver})"
    plot_charging(res_dephasing, ax=ax)
    # both runs share N_B and N but not the solver
    assert ax.get_title() == r"$N_B=2$, $N=4$"
    other = CentralSpinModel(2, 6)
    plot_charging(charge(other, dicke_state(other, 0, 6), TLIST), ax=ax)
    assert ax.get_title() == r"$N_B=2$"


def test_twin_axes_rejected(res_unitary):
    ax = plot_charging(res_unitary)
    with pytest.raises(ValueError, match="twin"):
        plot_charging(res_unitary, ax=_twin(ax))


def test_legend_drawn_above_twin(res_unitary, res_dephasing):
    ax, _ = _overlay(res_unitary, res_dephasing)
    assert ax.get_zorder() > _twin(ax).get_zorder()
    ax.figure.canvas.draw()  # renders headless without error
