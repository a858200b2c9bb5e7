"""Regenerate ``pmax_golden.csv`` ON PURPOSE (only when a change of P_max is intended).

    python tests/golden/make_pmax_golden.py          # from the repository root

Each value is the certified ``max_power`` (bracket 1e-10 relative). Before writing, every row
is cross-checked against an independent full-space ``qutip.sesolve`` run on a fine time grid
(to 1e-6 relative), so a broken engine cannot silently become the new golden truth.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import qutip

from qutip_centralspin import CentralSpinModel, dicke_state, max_power
from qutip_centralspin.operators import battery_hamiltonian, hamiltonian

OUT = Path(__file__).with_name("pmax_golden.csv")
CROSS_CHECK_RTOL = 1e-6  # sesolve (atol 1e-12, rtol 1e-10) sampled with a grid error <= 2.5e-7

#: (n_battery, n_charger, m0, n0, B, h, A, delta)
CASES = [
    (1, 10, 0, 5, 1.0, 1.0, 1.0, 0.0),
    (1, 10, 0, 5, 5.0, 1.0, 1.0, 5.0),
    (3, 5, 0, 5, 1.0, 1.0, 1.0, 0.0),
    (6, 4, 0, 4, 1.0, 1.0, 1.0, 0.0),
    (4, 6, 1, 4, 2.0, 0.5, 1.0, 0.7),
    (10, 10, 0, 10, 1.0, 1.0, 1.0, 0.0),
    (20, 5, 0, 5, 1.0, 1.0, 1.0, 0.0),
    (5, 100, 0, 5, 1.0, 1.0, 1.0, 0.0),
    (7, 9, 2, 6, 1.3, 0.6, 0.8, -0.4),
    (40, 200, 0, 200, 1.0, 1.0, 1.0, 0.0),
]


def sesolve_pmax(model, m0, n0, cert):
    """Grid maximum of Delta E_B/t from a full-space sesolve, on a grid fine enough near tau."""
    psi0 = dicke_state(model, m0, n0)
    h_b = battery_hamiltonian(model)
    tau = cert.time
    tlist = np.linspace(0.0, 1.5 * tau, 6001)
    res = qutip.sesolve(
        hamiltonian(model),
        psi0,
        tlist,
        e_ops=[h_b],
        options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7},
    )
    e = np.real(np.asarray(res.e_data[0]))
    return float(np.max((e[1:] - e[0]) / tlist[1:]))


def main():
    rows = []
    for nb, nc, m0, n0, B, h, A, delta in CASES:
        model = CentralSpinModel(nb, nc, B=B, h=h, A=A, delta=delta)
        cert = max_power(model, (m0, n0))
        check = sesolve_pmax(model, m0, n0, cert)
        rel = abs(check - cert.value) / cert.value
        if rel > CROSS_CHECK_RTOL:
            raise SystemExit(f"sesolve disagrees for {(nb, nc, m0, n0)}: rel {rel:.2e}")
        print(f"N_B={nb:3d} N={nc:3d} |{m0},{n0}>  P_max={cert.value:.15g}  sesolve rel {rel:.1e}")
        rows.append([nb, nc, m0, n0, B, h, A, delta, repr(cert.value), repr(cert.time)])
    with OUT.open("w", newline="") as fh:
        fh.write(
            "# Certified P_max = max_t Delta E_B(t)/t from |m0, n0> (qutip_centralspin.max_power,\n"
        )
        fh.write("# bracket 1e-10 relative; cross-checked against full-space sesolve to 1e-6).\n")
        fh.write("# Checked to 1e-9 relative by tests/test_maxima.py::test_golden_pmax.\n")
        fh.write("# Regenerate ON PURPOSE only: python tests/golden/make_pmax_golden.py\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(
            ["n_battery", "n_charger", "m0", "n0", "B", "h", "A", "delta", "p_max", "t_pmax"]
        )
        writer.writerows(rows)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
