r"""The power-law exponent :math:`\alpha` of :math:`P_{max}` against the spread of disordered couplings.

The paper's scaling law (Eq. 18, Sec. III B) is :math:`P_{max} \propto \beta(N) N_B^\alpha` at a
fixed charger of :math:`N` spins: :math:`\alpha` measures how the power grows with the number
:math:`N_B` of battery spins, :math:`\alpha = 1` for :math:`N_B` independent cells and
:math:`\alpha > 1` a collective advantage. :func:`disorder_scaling` asks what becomes of it when
the charger couplings are disordered: each charger spin couples with its own :math:`A_k`, drawn
from the box :math:`[A_0 - w/2, A_0 + w/2]`
(:func:`~qutip_centralspin.studies.disorder.box_profile`), binned into groups until the
estimated binning error is below a tolerance
(:func:`~qutip_centralspin.studies.disorder.binning_convergence`).

One disorder sample is one charger: its :math:`N` couplings are drawn once and charge every
battery size :math:`N_B` (a paired design: :math:`\alpha` of a sample is that of one device).
The same uniform draws are scaled to every width :math:`w` (common random numbers), so the
:math:`w` dependence is smooth. :math:`P_{max}` and :math:`\tau` are averaged over the samples,
with standard errors; :math:`\alpha(w)` is the least-squares slope of
:math:`\ln\langle P_{max}\rangle` against :math:`\ln N_B` (Eq. B7, as
:func:`~qutip_centralspin.studies.scaling.fit_power_law`), with two errors: the disorder error
(jackknife over the samples) and the fit error (the slope's least-squares standard error, which
measures how far the data are from a pure power law). Where :math:`N_B = 1` is among the sizes,
the advantage over :math:`N_B` disordered cells, :math:`\Gamma = \langle P_{max}(N_B)\rangle /
(N_B \langle P_{max}(1)\rangle)`, comes with it: a cell is one battery spin with its own copy
of the sample's charger.

Conventions: :math:`\hbar = 1`; all charger spins share the field :math:`h` and start fully
excited, the battery (field :math:`B`) empty, :math:`\Delta = 0`; couplings in units of
:math:`A_0`, :math:`P_{max}` in :math:`B A_0`, :math:`\tau` in :math:`1/A_0`.

The samples are tasks of :func:`~qutip_centralspin.studies.checkpoint.checkpoint_map`: pass
``map=qutip.parallel_map``, ``qutip.loky_pmap`` or ``qutip.mpi_pmap`` to spread them, and
``checkpoint=PATH`` to make the sweep resumable (results are identical either way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import qutip

from .. import _checks
from .checkpoint import checkpoint_map
from .disorder import binning_convergence, box_profile
from .scaling import fit_power_law

__all__ = ["DisorderScaling", "disorder_scaling"]

QUANTITIES = ("alpha", "p_max", "tau", "gamma")


@dataclass(frozen=True, eq=False)
class DisorderScaling:
    r"""Disorder-averaged :math:`P_{max}`, :math:`\tau` and the exponent :math:`\alpha` against
    the box width :math:`w`.

    Arrays are indexed ``[charger, width, battery]`` (``[charger, width]`` for the fits).

    Attributes
    ----------
    widths : ndarray
        Box widths :math:`w` (units :math:`A_0`), increasing.
    n_battery : ndarray of int
        Battery sizes :math:`N_B` of the fit, increasing.
    n_charger : ndarray of int
        Charger sizes :math:`N`.
    n_samples : int
        Disorder samples per :math:`(N, w > 0)`; :math:`w = 0` has one (no disorder).
    p_max, p_max_err : ndarray
        Mean certified :math:`P_{max}` over the samples and its standard error
        (units :math:`B A_0`).
    tau, tau_err : ndarray
        Mean time of :math:`P_{max}` and its standard error (units :math:`1/A_0`).
    samples : ndarray
        Every sample's ``(P_max, tau)``, shape ``(charger, width, sample, battery, 2)`` (the one
        sample of :math:`w = 0` repeated).
    groups : ndarray of int
        The largest number of charger groups :math:`G` used over the samples.
    binning_error : ndarray
        The largest estimated relative binning error of :math:`P_{max}` over the samples
        (:attr:`BinningStudy.error <qutip_centralspin.studies.disorder.BinningStudy.error>`);
        above ``tol`` where ``max_groups`` was reached first.
    alpha, alpha_err, alpha_fit_err : ndarray
        :math:`\alpha` fitted to :math:`\langle P_{max}\rangle` against :math:`N_B`; its
        disorder error (jackknife over the samples); its least-squares standard error.
    params : dict
        The parameters of the sweep (those of its checkpoint).
    """

    widths: np.ndarray
    n_battery: np.ndarray
    n_charger: np.ndarray
    n_samples: int
    p_max: np.ndarray
    p_max_err: np.ndarray
    tau: np.ndarray
    tau_err: np.ndarray
    samples: np.ndarray
    groups: np.ndarray
    binning_error: np.ndarray
    alpha: np.ndarray
    alpha_err: np.ndarray
    alpha_fit_err: np.ndarray
    params: dict

    def _charger_index(self, n_charger) -> int:
        hits = np.flatnonzero(self.n_charger == n_charger)
        if hits.size == 0:
            raise ValueError(
                f"n_charger must be one of {self.n_charger.tolist()}, got {n_charger!r}"
            )
        return int(hits[0])

    def _battery_index(self, n_battery) -> int:
        hits = np.flatnonzero(self.n_battery == n_battery)
        if hits.size == 0:
            raise ValueError(
                f"n_battery must be one of {self.n_battery.tolist()}, got {n_battery!r}"
            )
        return int(hits[0])

    def ratio(self, n_battery: int) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`\langle P_{max}(w)\rangle / P_{max}(w = 0)` at fixed :math:`N_B`, per charger.

        Returns the ratio and its standard error, each of shape ``(charger, width)``. Needs
        :math:`w = 0` among the widths.
        """
        k = self._battery_index(n_battery)
        zero = self._zero_width()
        ref = self.p_max[:, zero, k][:, None]
        return self.p_max[:, :, k] / ref, self.p_max_err[:, :, k] / ref

    def _zero_width(self) -> int:
        hits = np.flatnonzero(self.widths == 0.0)
        if hits.size == 0:
            raise ValueError(f"widths must contain 0 for this, got {self.widths.tolist()}")
        return int(hits[0])

    def gamma(self) -> tuple[np.ndarray, np.ndarray]:
        r"""The advantage :math:`\Gamma = \langle P_{max}(N_B)\rangle / (N_B\langle
        P_{max}(1)\rangle)` over :math:`N_B` disordered cells and its jackknife error.

        Each of shape ``(charger, width, battery)``; needs :math:`N_B = 1` among the sizes.
        """
        one = self._battery_index(1)
        nb = self.n_battery.astype(float)

        def gamma_of(p):  # p: (..., sample, battery) -> (..., battery)
            mean = p.mean(axis=-2)
            return mean / (nb * mean[..., one : one + 1])

        p = self.samples[..., 0]
        return gamma_of(p), _jackknife(p, gamma_of)

    def advantage_lost_at(self, quantity: str = "alpha") -> dict[int, float | None]:
        r"""The width :math:`w_c` where the measured advantage first falls to 1, per charger.

        ``quantity="alpha"``: :math:`\alpha(w) = 1` (no faster than :math:`N_B` cells);
        ``"gamma"``: :math:`\Gamma(w) = 1` at the largest :math:`N_B`. Linear interpolation
        between the grid widths; ``None`` where the advantage stays above 1 over the whole
        grid (or is never above 1), so nothing is claimed beyond the data.
        """
        if quantity == "alpha":
            curves = self.alpha
        elif quantity == "gamma":
            curves = self.gamma()[0][:, :, -1]
        else:
            raise ValueError(f"quantity must be 'alpha' or 'gamma', got {quantity!r}")
        out = {}
        for n, curve in zip(self.n_charger.tolist(), curves, strict=True):
            below = np.flatnonzero(curve <= 1.0)
            if curve[0] <= 1.0 or below.size == 0:
                out[n] = None
                continue
            i = int(below[0])
            w0, w1, y0, y1 = self.widths[i - 1], self.widths[i], curve[i - 1], curve[i]
            out[n] = float(w0 + (1.0 - y0) * (w1 - w0) / (y1 - y0))
        return out

    def plot(self, ax=None, *, quantity: str = "alpha", n_battery: int | None = None):
        r"""Plot against the box width :math:`w`, one curve per charger size :math:`N`.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            A new figure is made if ``None``.
        quantity : {"alpha", "p_max", "tau", "gamma"}
            :math:`\alpha(w)` with its disorder and fit errors combined; or, at the battery
            size ``n_battery`` (default: the largest), :math:`\langle P_{max}(w)\rangle /
            P_{max}(0)`, :math:`\langle\tau(w)\rangle / \tau(0)` or :math:`\Gamma(w)`.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
        if ax is None:
            _, ax = plt.subplots()
        nb = int(self.n_battery[-1] if n_battery is None else n_battery)
        k = self._battery_index(nb)
        w = self.widths
        markers = "osD^vP"
        for c, n in enumerate(self.n_charger.tolist()):
            if quantity == "alpha":
                y = self.alpha[c]
                err = np.hypot(self.alpha_err[c], self.alpha_fit_err[c])
            elif quantity == "p_max":
                y, err = (a[c] for a in self.ratio(nb))
            elif quantity == "tau":
                zero = self._zero_width()
                y = self.tau[c, :, k] / self.tau[c, zero, k]
                err = self.tau_err[c, :, k] / self.tau[c, zero, k]
            else:
                y, err = (a[c, :, k] for a in self.gamma())
            ax.errorbar(w, y, yerr=err, marker=markers[c % 6], capsize=2, label=f"$N = {n}$")
        nbs = f"{self.n_battery[0]}..{self.n_battery[-1]}"
        if quantity == "alpha":
            ax.axhline(1.0, color="grey", lw=1, label=r"$N_B$ independent cells ($\alpha = 1$)")
            ylabel = rf"$\alpha$ in $P_{{max}} \propto N_B^\alpha$ ($N_B = {nbs}$)"
        elif quantity == "p_max":
            ylabel = rf"$\langle P_{{max}}\rangle / P_{{max}}(w=0)$, $N_B = {nb}$"
        elif quantity == "tau":
            ylabel = rf"$\langle\tau\rangle / \tau(w=0)$, $N_B = {nb}$"
        else:
            ax.axhline(1.0, color="grey", lw=1, label="no advantage")
            ylabel = rf"$\Gamma = \langle P_{{max}}\rangle / (N_B\langle P^{{cell}}_{{max}}\rangle)$, $N_B = {nb}$"  # noqa: E501
        ax.set(
            xlabel=r"box width $w$ [$A_0$]",
            ylabel=ylabel,
            title=f"full charger, {self.n_samples} disorder samples",
        )
        ax.legend(fontsize=8)
        return ax


def _jackknife(samples: np.ndarray, statistic) -> np.ndarray:
    """Jackknife standard error of ``statistic(samples)`` over axis -2 (the samples)."""
    n = samples.shape[-2]
    if n < 2:
        return np.zeros_like(statistic(samples))
    leave = np.stack(
        [statistic(np.delete(samples, i, axis=-2)) for i in range(n)], axis=0
    )  # (n, ...)
    return np.sqrt((n - 1) / n * np.sum((leave - leave.mean(axis=0)) ** 2, axis=0))


def _slope_error(x, y) -> float:
    """Least-squares standard error of the slope of y on x (0 for two points)."""
    if x.size < 3:
        return 0.0
    slope, icpt = np.polyfit(x, y, 1)
    resid = y - (slope * x + icpt)
    return math.sqrt(float(resid @ resid) / (x.size - 2) / float(np.sum((x - x.mean()) ** 2)))


def _sample_task(key, n_battery, seed, A0, B, h, tol, max_groups):
    """One disorder sample ``key = [N, w, s]``: [P_max, tau, G, error] per N_B. Top level."""
    n_charger, width, sample = key
    couplings = box_profile(n_charger, width, A0=A0, seed=[seed, n_charger, sample])
    rows = []
    for nb in n_battery:
        study = binning_convergence(
            [(nb, B)], couplings, h=h, tol=tol, max_groups=min(max_groups, n_charger)
        )
        best = study.maxima[-1]
        rows.append([best.value, best.time, study.groups[-1], study.error])
    return rows


def disorder_scaling(
    widths,
    n_battery,
    n_charger,
    *,
    n_samples: int = 16,
    seed: int = 0,
    A0: float = 1.0,
    B: float = 1.0,
    h: float = 1.0,
    tol: float = 1e-3,
    max_groups: int = 6,
    map=qutip.serial_map,  # noqa: A002 - QuTiP's name for it
    map_kw: dict | None = None,
    progress_bar=None,
    progress_kwargs: dict | None = None,
    checkpoint=None,
) -> DisorderScaling:
    r"""Disorder-averaged :math:`P_{max}`, :math:`\tau` and the exponent :math:`\alpha` of
    :math:`P_{max} \propto N_B^\alpha` against the box width :math:`w` of the charger couplings.

    Parameters
    ----------
    widths : iterable of float
        Box widths :math:`w \ge 0` (units :math:`A_0`; :math:`w \le 2 A_0` keeps every
        :math:`A_k \ge 0`). Include 0 for the ratios to the clean model.
    n_battery : iterable of int
        Battery sizes :math:`N_B` of the fit, at least two distinct; include 1 for
        :math:`\Gamma`.
    n_charger : int or iterable of int
        Charger sizes :math:`N`, one :math:`\alpha(w)` each.
    n_samples : int, default 16
        Disorder samples per :math:`(N, w > 0)`.
    seed : int, default 0
        Sample ``s`` of charger size ``N`` draws from ``numpy.random.default_rng([seed, N, s])``.
    A0, B, h : float
        Mean coupling, battery field, charger field.
    tol : float, default 1e-3
        Relative binning error at which a sample stops adding groups.
    max_groups : int, default 6
        At most this many charger groups (the cost grows as :math:`\binom{N_B+G}{G}`).
    map, map_kw, progress_bar, progress_kwargs, checkpoint
        As for :func:`~qutip_centralspin.studies.scaling.scaling_sweep`; one task per sample,
        keyed ``[N, w, s]`` in the checkpoint.

    Examples
    --------
    >>> from qutip_centralspin.studies.disorder_scaling import disorder_scaling
    >>> study = disorder_scaling([0.0, 1.0], [1, 2, 4], 8, n_samples=2)
    >>> study.alpha.round(3)
    array([[1.101, 1.095]])
    >>> study.advantage_lost_at()  # alpha stays above 1 on this grid
    {8: None}
    """
    ws = [_checks.nonnegative_real("widths", w) for w in widths]
    if not ws or sorted(set(ws)) != ws:
        raise ValueError(f"widths must be distinct and increasing, at least one, got {ws!r}")
    sizes = [_checks.positive_int("n_battery", int(x)) for x in n_battery]
    if len(set(sizes)) < 2 or sorted(set(sizes)) != sizes:
        raise ValueError(
            f"n_battery must hold at least two distinct sizes, increasing, got {sizes!r}"
        )
    chargers = [n_charger] if np.ndim(n_charger) == 0 else list(n_charger)
    chargers = [_checks.positive_int("n_charger", int(n)) for n in chargers]
    n_samples = _checks.positive_int("n_samples", n_samples)
    seed = _checks.int_in_range("seed", seed, 0, 2**63 - 1)
    A0 = _checks.finite_real("A0", A0)
    B = _checks.finite_real("B", B)
    h = _checks.finite_real("h", h)
    tol = _checks.positive_real("tol", tol)
    max_groups = _checks.positive_int("max_groups", max_groups)
    params = {
        "sweep": "disorder_scaling",
        "profile": "box",
        "n_battery": sizes,
        "seed": seed,
        "A0": A0,
        "B": B,
        "h": h,
        "tol": tol,
        "max_groups": max_groups,
    }
    keys = [[n, w, s] for n in chargers for w in ws for s in range(n_samples if w > 0 else 1)]
    rows = checkpoint_map(
        _sample_task,
        keys,
        task_args=(sizes, seed, A0, B, h, tol, max_groups),
        checkpoint=checkpoint,
        params=params,
        map=map,
        map_kw=map_kw,
        progress_bar=progress_bar,
        progress_kwargs=progress_kwargs,
    )
    # (charger, width, sample, battery, [P, tau, G, error]); w = 0: its one sample repeated
    by_key = {
        (k[0], k[1], k[2]): np.asarray(r, dtype=float) for k, r in zip(keys, rows, strict=True)
    }
    data = np.array(
        [
            [[by_key[n, w, s if w > 0 else 0] for s in range(n_samples)] for w in ws]
            for n in chargers
        ]
    )
    p, tau = data[..., 0], data[..., 1]
    spread = (
        (lambda a: a.std(axis=2, ddof=1) / math.sqrt(n_samples))
        if n_samples > 1
        else (lambda a: np.zeros(a.shape[:2] + a.shape[3:]))
    )
    p_mean = p.mean(axis=2)
    lx = np.log(np.asarray(sizes, dtype=float))

    def alpha_of(samples):  # (..., sample, battery) -> (...)
        mean = np.log(samples.mean(axis=-2))
        return np.polyfit(lx, mean.reshape(-1, lx.size).T, 1)[0].reshape(mean.shape[:-1])

    alpha = np.array(
        [
            [fit_power_law(sizes, p_mean[c, j]).alpha for j in range(len(ws))]
            for c in range(len(chargers))
        ]
    )
    fit_err = np.array(
        [
            [_slope_error(lx, np.log(p_mean[c, j])) for j in range(len(ws))]
            for c in range(len(chargers))
        ]
    )
    alpha_err = _jackknife(p, alpha_of)
    alpha_err[:, np.asarray(ws) == 0.0] = 0.0  # one sample: no disorder, no disorder error
    return DisorderScaling(
        widths=np.asarray(ws),
        n_battery=np.asarray(sizes),
        n_charger=np.asarray(chargers),
        n_samples=n_samples,
        p_max=p_mean,
        p_max_err=spread(p),
        tau=tau.mean(axis=2),
        tau_err=spread(tau),
        samples=data[..., :2],
        groups=data[..., 2].max(axis=2).astype(int),
        binning_error=data[..., 3].max(axis=2),
        alpha=alpha,
        alpha_err=alpha_err,
        alpha_fit_err=fit_err,
        params=params,
    )
