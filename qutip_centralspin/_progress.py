"""QuTiP's progress bars, printing on stderr.

QuTiP's ``"text"`` and ``"enhanced"`` bars (``qutip.ui.progressbar``) print with ``print`` to
``sys.stdout``, where the command line writes its results (JSON, tables). Every long call of
this package (sweeps, open runs, ``reproduce``) takes QuTiP's ``progress_bar`` names and
``progress_kwargs`` and shows the bar on ``sys.stderr`` instead: the printing bars run with
``sys.stdout`` pointed at ``sys.stderr``; ``"tqdm"`` writes to ``sys.stderr`` already (its
``file`` keyword can be given in ``progress_kwargs``); ``"html"`` displays in a notebook.
"""

from __future__ import annotations

import contextlib
import sys
import threading

from qutip.ui.progressbar import (
    EnhancedTextProgressBar,
    TextProgressBar,
    progress_bars,
)

from . import _checks

__all__: list[str] = []

#: Only one bar prints at a time (a parallel map's results arrive on another thread).
_LOCK = threading.RLock()


def check(progress_bar, progress_kwargs=None, *, name: str = "progress_bar") -> tuple:
    """Return ``(progress_bar, progress_kwargs)`` checked (:func:`_checks.progress_bar`)."""
    bar = _checks.progress_bar(name, progress_bar)
    return bar, _checks.progress_kwargs("progress_kwargs", progress_kwargs)


def prints_text(progress_bar) -> bool:
    """Whether QuTiP's bar of this name prints with ``print`` (to ``sys.stdout``)."""
    try:
        cls = progress_bars.get(progress_bar)
    except TypeError:  # unhashable
        return False
    return cls is not None and issubclass(cls, (TextProgressBar, EnhancedTextProgressBar))


@contextlib.contextmanager
def stdout_to_stderr(progress_bar):
    """Within, ``sys.stdout`` is ``sys.stderr`` if ``progress_bar`` prints; else nothing changes.

    For a solver call that builds QuTiP's bar itself from ``options['progress_bar']``.
    """
    if not prints_text(progress_bar):
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


class _OnStderr:
    """A QuTiP bar whose prints go to ``sys.stderr``."""

    def __init__(self, bar):
        self._bar = bar

    def update(self) -> None:
        with _LOCK, contextlib.redirect_stdout(sys.stderr):
            self._bar.update()

    def finished(self) -> None:
        with _LOCK, contextlib.redirect_stdout(sys.stderr):
            self._bar.finished()


def progress_bar(progress_bar, total: int, progress_kwargs=None):
    """QuTiP's bar ``progress_bar`` over ``total`` steps, printing on ``sys.stderr``.

    Has QuTiP's ``update()`` (one step done) and ``finished()``.
    """
    bar, kwargs = check(progress_bar, progress_kwargs)
    cls = progress_bars[bar]
    if str(bar).lower() == "tqdm":
        kwargs.setdefault("file", sys.stderr)
    with _LOCK, contextlib.redirect_stdout(sys.stderr):
        made = cls(total, **kwargs)
    return _OnStderr(made) if prints_text(bar) else made
