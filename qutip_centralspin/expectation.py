r"""``e_ops`` as every solver path understands them: QuTiP's forms, evaluated one way.

``e_ops`` may be ``None``, one item, a list or a dict (QuTiP's forms). An item is

* a ``Qobj`` :math:`O`: the value is :math:`\mathrm{tr}[O\rho]` (``qutip.expect``);
* a ``QobjEvo`` :math:`O(t)`: :math:`\mathrm{tr}[O(t)\rho(t)]`;
* a callable ``f(t, state)`` (QuTiP 5's signature), e.g. the callbacks of
  :mod:`qutip_centralspin.observables.energy` and :mod:`qutip_centralspin.observables.ergotropy`.

Values are stored under the dict keys, or the list positions (QuTiP's ``e_data``).
"""

from __future__ import annotations

import numpy as np
import qutip

__all__ = ["normalize_e_ops", "evaluate_e_ops"]


def normalize_e_ops(e_ops) -> dict:
    """Return QuTiP-style ``e_ops`` (None, one item, list or dict) as a dict.

    Raises
    ------
    TypeError
        If an item is neither a ``Qobj``, a ``QobjEvo`` nor a callable.
    """
    if e_ops is None:
        return {}
    if isinstance(e_ops, dict):
        items = dict(e_ops)
    elif isinstance(e_ops, (qutip.Qobj, qutip.QobjEvo)) or callable(e_ops):
        items = {0: e_ops}
    else:
        items = dict(enumerate(e_ops))
    for key, op in items.items():
        if not (isinstance(op, (qutip.Qobj, qutip.QobjEvo)) or callable(op)):
            raise TypeError(
                f"e_ops[{key!r}] must be a Qobj, a QobjEvo or a callable f(t, state), "
                f"got {type(op).__name__}"
            )
    return items


def _check_dims(key, op: qutip.Qobj, state: qutip.Qobj) -> None:
    want = state.dims[0]
    if op.dims[1] != want:
        raise ValueError(
            f"e_ops[{key!r}] acts on dims {op.dims[1]}, but the states of this run have dims "
            f"{want} (with processes the states are the battery's reduced state in the "
            "qutip.piqs Dicke basis: build battery operators with qutip.piqs.jspin)"
        )


def evaluate_e_ops(e_ops: dict, times, states) -> dict:
    """Evaluate normalised ``e_ops`` on the states at ``times``: ``{key: ndarray}``.

    Hermitian ``Qobj`` give real arrays (as ``qutip.expect``); callables give what they return.
    """
    out = {}
    for key, op in e_ops.items():
        if isinstance(op, qutip.Qobj):
            if states:
                _check_dims(key, op, states[0])
            out[key] = np.asarray(qutip.expect(op, list(states)))
        elif isinstance(op, qutip.QobjEvo):
            vals = []
            for t, s in zip(times, states, strict=True):
                op_t = op(t)
                _check_dims(key, op_t, s)
                vals.append(qutip.expect(op_t, s))
            out[key] = np.asarray(vals)
        else:
            out[key] = np.asarray([op(t, s) for t, s in zip(times, states, strict=True)])
    return out
