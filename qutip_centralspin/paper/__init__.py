"""Peng *et al.*, PRA 103, 052220 (2021): its published numbers as data, its closed forms, and
the ``reproduce`` job (every figure and Table I).

* :mod:`.data` -- parameter sets and Table I, as data;
* :mod:`.analytic` -- Eqs. 11-16, A6-A8, 29-31;
* :mod:`.reproduce` -- the figures and ``table1.csv``.
"""

from .data import *  # noqa: F403 - the data module's public names, as before the move
from .data import __all__ as _data_all

__all__ = list(_data_all)
