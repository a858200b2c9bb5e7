"""Old import paths, kept for one release: each warns and gives the module's new home.

The package was a flat list of modules; they now live in subpackages that follow the flow of
a computation (models, solvers, observables, maxima, studies, paper). ``import
qutip_centralspin.cavity`` (or ``from qutip_centralspin import cavity``) still works and
returns :mod:`qutip_centralspin.models.cavity`, with a ``DeprecationWarning`` naming the new
path. The table is :data:`MOVED`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "install"]

_PKG = __name__.rsplit(".", 1)[0]
#: Old module path -> new module path (both relative to the package).
MOVED = {
    "model": "models.spin",
    "operators": "models.operators",
    "states": "models.states",
    "statedata": "models.statedata",
    "chargers": "models.chargers",
    "thermal": "models.thermal",
    "thermal_battery": "models.thermal_battery",
    "processes": "models.processes",
    "protocols": "models.protocols",
    "basis": "models.basis",
    "cavity": "models.cavity",
    "dicke_charger": "models.dicke",
    "estimates": "solvers.estimates",
    "ergotropy": "observables.ergotropy",
    "open_maxima": "maxima.open",
    "optimal": "studies.optimal",
    "scaling": "studies.scaling",
    "advantage": "studies.advantage",
    "dicke_advantage": "studies.dicke_advantage",
    "cycle": "studies.cycle",
    "checkpoint": "studies.checkpoint",
    "analytic": "paper.analytic",
    "reproduce": "paper.reproduce",
}


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{_PKG}.{old} has moved to {_PKG}.{new}; the old path will be removed in the next "
        "release",
        DeprecationWarning,
        stacklevel=3,
    )


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``qutip_centralspin.<old>`` to the moved module (the same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        prefix = _PKG + "."
        if fullname.startswith(prefix) and fullname[len(prefix) :] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        old = spec.name[len(_PKG) + 1 :]
        _warn(old, MOVED[old])
        return importlib.import_module(f"{_PKG}.{MOVED[old]}")

    def exec_module(self, module):
        """Nothing to run: the moved module is already imported."""


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once): it answers only for the old names,
    before an editable install's finder could look for their files."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())  # only old names: nothing else is intercepted
