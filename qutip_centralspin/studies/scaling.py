r"""Sweeps of :math:`P_{max}` and :math:`E_{max}` and the power-law fits of Sec. III B.

:math:`P_{max} \propto \beta(N) N_B^\alpha` (Eqs. 18, B6) is fitted by least squares on
:math:`\ln P_{max} = \alpha\ln N_B + \ln\beta` (Eq. B7). In the thermodynamic limit
:math:`N \gg N_B` the Holstein-Primakoff result (Eq. 31) gives :math:`\alpha = 3/2` and
:math:`\beta = c^*\sqrt N` (:func:`beta_limit`).

Every sweep takes a ``map`` function with QuTiP's signature -- ``qutip.serial_map`` (default),
``qutip.parallel_map``, ``qutip.loky_pmap`` or ``qutip.mpi_pmap`` -- so a large grid runs on all
cores or on a cluster without code changes. Work is sent to the map in chunks, one battery size
per task. ``checkpoint=PATH`` writes each finished battery size to ``PATH`` as it arrives, and a
rerun with the same file computes only the missing ones
(:func:`~qutip_centralspin.studies.checkpoint.checkpoint_map`); ``progress_bar`` shows QuTiP's progress
bar over the tasks, on stderr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import qutip

from .. import _checks
from ..maxima.certified import certified_max_energy, certified_max_power
from ..models.spin import CentralSpinModel
from ..paper.analytic import c_star
from ..solvers.sector import SectorEngine
from .checkpoint import checkpoint_map

__all__ = [
    "ScalingSweep",
    "PowerLawFit",
    "scaling_sweep",
    "power_grid",
    "fit_power_law",
    "beta_limit",
    "initial_charger_excitations",
]

INITIAL_STATES = ("n=N", "n=N_B")


def initial_charger_excitations(initial: str, n_battery: int, n_charger: int) -> int:
    """Flipped charger spins ``n0`` of the paper's initial states: ``"n=N"`` or ``"n=N_B"``.

    ``"n=N_B"`` needs ``N_B <= N`` (a charger cannot hold more excitations than spins).
    """
    if initial == "n=N":
        return n_charger
    if initial == "n=N_B":
        if n_battery > n_charger:
            raise ValueError(
                f"initial 'n=N_B' needs n_battery <= n_charger, got {n_battery} > {n_charger}"
            )
        return n_battery
    raise ValueError(f"initial must be one of {INITIAL_STATES}, got {initial!r}")


@dataclass(frozen=True)
class ScalingSweep:
    """Certified maxima along a line of battery sizes at fixed charger size.

    Attributes
    ----------
    n_battery : ndarray of int
    n_charger : int
    p_max, t_pmax : ndarray
        Certified :math:`P_{max}` and its time :math:`\\tau` (:func:`max_power`).
    e_max : ndarray or None
        :math:`E_{max}` over the default window (:func:`max_energy`), if requested.
    e_converged : ndarray of bool or None
        Whether each :math:`E_{max}` is certified on its window (``Maximum.converged``).
    """

    n_battery: np.ndarray
    n_charger: int
    initial: str
    p_max: np.ndarray
    t_pmax: np.ndarray
    e_max: np.ndarray | None
    e_converged: np.ndarray | None
    params: dict


def _maxima_task(n_battery, n_charger, initial, m0, params, energy):
    """One (N_B, N) point: certified P_max, tau and optionally E_max. Picklable, top level."""
    model = CentralSpinModel(int(n_battery), int(n_charger), **params)
    n0 = initial_charger_excitations(initial, model.n_battery, model.n_charger)
    evo = SectorEngine(model).evolve((m0, n0))
    p = certified_max_power(evo)
    if not energy:
        return p.value, p.time, math.nan, True
    e = certified_max_energy(evo)
    return p.value, p.time, e.value, e.converged


def _row_task(n_battery, n_chargers, initial, m0, params, energy):
    return [_maxima_task(n_battery, n, initial, m0, params, energy) for n in n_chargers]


def _model_params(B, h, A, delta) -> dict:
    params = {"B": B, "h": h, "A": A, "delta": delta}
    CentralSpinModel(1, 1, **params)  # validate once, with named errors
    return params


def _sweep_params(sweep, n_charger, initial, m0, params, energy) -> dict:
    """What a sweep's rows depend on besides N_B: the header of its checkpoint."""
    if initial not in INITIAL_STATES:  # before any work (and before a checkpoint is written)
        raise ValueError(f"initial must be one of {INITIAL_STATES}, got {initial!r}")
    return {
        "sweep": sweep,
        "n_charger": n_charger,
        "initial": initial,
        "m0": m0,
        **{key: float(value) for key, value in params.items()},  # B=1 and B=1.0 are one sweep
        "energy": energy,
    }


def scaling_sweep(
    n_battery,
    n_charger: int,
    *,
    initial: str = "n=N",
    m0: int = 0,
    B: float = 1.0,
    h: float = 1.0,
    A: float = 1.0,
    delta: float = 0.0,
    energy: bool = True,
    map=qutip.serial_map,  # noqa: A002 - QuTiP's name for it
    map_kw: dict | None = None,
    progress_bar=None,
    progress_kwargs: dict | None = None,
    checkpoint=None,
) -> ScalingSweep:
    r"""Certified :math:`P_{max}` (and :math:`E_{max}`) for each :math:`N_B` at fixed :math:`N`.

    Parameters
    ----------
    n_battery : iterable of int
        Battery sizes :math:`N_B`.
    n_charger : int
        Charger size :math:`N`.
    initial : {"n=N", "n=N_B"}
        Initial charger excitations: full charger (Figs. 3, 5) or :math:`n_0 = N_B` (Fig. 4).
    m0 : int, default 0
        Initial battery excitations (0: empty battery).
    B, h, A, delta : float
        Model parameters (see :class:`CentralSpinModel`).
    energy : bool, default True
        Also compute :math:`E_{max}` (costs about as much as :math:`P_{max}`).
    map : callable
        ``qutip.serial_map`` (default), ``qutip.parallel_map``, ``qutip.loky_pmap`` or
        ``qutip.mpi_pmap``.
    map_kw : dict, optional
        Passed to ``map``.
    progress_bar : {"text", "enhanced", "tqdm", "html", "", None}
        QuTiP's progress bar over the battery sizes, on stderr; ``progress_kwargs`` go to it.
    checkpoint : str or Path, optional
        A file that receives each battery size as it is done; rerun with it, only the
        missing sizes are computed. Refused if it holds another sweep (other ``n_charger``,
        ``initial``, ``m0``, model parameters or ``energy``). See
        :mod:`qutip_centralspin.studies.checkpoint`.

    Examples
    --------
    >>> from qutip_centralspin.studies.scaling import scaling_sweep, fit_power_law
    >>> sweep = scaling_sweep(range(20, 81), 5)
    >>> fit = fit_power_law(sweep.n_battery, sweep.p_max)
    >>> round(fit.alpha, 3)
    0.501
    """
    sizes = np.array([_checks.positive_int("n_battery", int(x)) for x in n_battery])
    n_charger = _checks.positive_int("n_charger", n_charger)
    params = _model_params(B, h, A, delta)
    rows = checkpoint_map(
        _row_task,
        [int(x) for x in sizes],
        task_args=((n_charger,), initial, m0, params, energy),
        checkpoint=checkpoint,
        params=_sweep_params("scaling_sweep", n_charger, initial, m0, params, energy),
        map=map,
        map_kw=map_kw,
        progress_bar=progress_bar,
        progress_kwargs=progress_kwargs,
    )
    data = np.array([r[0] for r in rows], dtype=float)
    return ScalingSweep(
        n_battery=sizes,
        n_charger=n_charger,
        initial=initial,
        p_max=data[:, 0],
        t_pmax=data[:, 1],
        e_max=data[:, 2] if energy else None,
        e_converged=data[:, 3].astype(bool) if energy else None,
        params=params,
    )


def power_grid(
    n_battery,
    n_charger,
    *,
    initial: str = "n=N",
    m0: int = 0,
    B: float = 1.0,
    h: float = 1.0,
    A: float = 1.0,
    delta: float = 0.0,
    map=qutip.serial_map,  # noqa: A002
    map_kw: dict | None = None,
    progress_bar=None,
    progress_kwargs: dict | None = None,
    checkpoint=None,
) -> np.ndarray:
    r"""Certified :math:`P_{max}` on the grid ``n_battery x n_charger`` (Fig. 5).

    Returns an array of shape ``(len(n_battery), len(n_charger))``; one map task per
    battery size. ``initial``, ``m0`` and the model parameters are those of
    :func:`scaling_sweep`; so are ``map``, ``map_kw``, ``progress_bar``, ``progress_kwargs``
    and ``checkpoint`` (one line per battery size; refused if the file holds another sweep,
    e.g. other ``n_charger``).

    Examples
    --------
    >>> from qutip_centralspin.studies.scaling import power_grid
    >>> power_grid([1, 2], [1, 3]).round(4)
    array([[0.7246, 1.2551],
           [1.0248, 2.6105]])
    """
    sizes = [_checks.positive_int("n_battery", int(x)) for x in n_battery]
    chargers = tuple(_checks.positive_int("n_charger", int(x)) for x in n_charger)
    params = _model_params(B, h, A, delta)
    rows = checkpoint_map(
        _row_task,
        sizes,
        task_args=(chargers, initial, m0, params, False),
        checkpoint=checkpoint,
        params=_sweep_params("power_grid", list(chargers), initial, m0, params, False),
        map=map,
        map_kw=map_kw,
        progress_bar=progress_bar,
        progress_kwargs=progress_kwargs,
    )
    return np.array([[point[0] for point in row] for row in rows])


@dataclass(frozen=True)
class PowerLawFit:
    r"""Least-squares fit :math:`\ln P = \alpha\ln N_B + \ln\beta` (Eq. B7)."""

    alpha: float
    beta: float
    window: tuple[int, int]
    residual: float  # RMS of the log residuals

    def __call__(self, n_battery):
        """The fitted law :math:`\\beta N_B^\\alpha`."""
        return self.beta * np.asarray(n_battery, dtype=float) ** self.alpha


def fit_power_law(n_battery, p_max, window: tuple[int, int] | None = None) -> PowerLawFit:
    """Fit :math:`P_{max} = \\beta N_B^\\alpha` in log-log on ``window[0] <= N_B <= window[1]``.

    Raises
    ------
    ValueError
        If fewer than two points fall in the window or a power is not positive.
    """
    x = np.asarray(n_battery, dtype=float)
    y = np.asarray(p_max, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"n_battery and p_max must have one shape, got {x.shape}, {y.shape}")
    if window is None:
        window = (int(x.min()), int(x.max()))
    sel = (x >= window[0]) & (x <= window[1])
    if sel.sum() < 2:
        raise ValueError(f"window {window} holds {int(sel.sum())} points; at least 2 needed")
    if np.any(y[sel] <= 0):
        raise ValueError("p_max must be > 0 in the fit window (log-log fit)")
    lx, ly = np.log(x[sel]), np.log(y[sel])
    (alpha, log_beta), res, *_ = np.polyfit(lx, ly, 1, full=True)
    rms = math.sqrt(float(res[0]) / sel.sum()) if res.size else 0.0
    return PowerLawFit(float(alpha), float(math.exp(log_beta)), tuple(window), rms)


def beta_limit(n_charger, B: float = 1.0, A: float = 1.0):
    r"""Thermodynamic-limit prefactor :math:`\beta = c^* B A\sqrt N` of Eq. (31)."""
    return c_star()[0] * B * A * np.sqrt(np.asarray(n_charger, dtype=float))
