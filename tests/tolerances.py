"""Named numerical tolerances of the test suite, each with the reason for its size.

Import as ``from tolerances import ODE_ATOL`` (pytest puts ``tests/`` on ``sys.path``).
"""

#: QuTiP ODE settings of every reference run; the ODE tolerances below assume them.
#: (atol=1e-12, rtol=1e-10 was measured to drift to 1.6e-7 on N_B=5, N=1, B=2, h=0 by t=5.)
ODE_OPTIONS = {"atol": 1e-14, "rtol": 1e-12, "nsteps": 100_000}

ODE_ATOL = 1e-7  # sesolve/mesolve with atol=1e-14, rtol=1e-12 over t <= ~10 periods, |E| <= ~50
STATE_ATOL = 1e-7  # same ODE settings, error of the state vector in 2-norm
EXACT_ATOL = 1e-12  # closed forms vs exact diagonalisation: both at machine precision
EXACT_RTOL = 1e-10  # relative version for quantities growing with N (sqrt(b_{N,n}) up to ~1e3)
OPERATOR_ATOL = 1e-12  # sparse operator algebra on matrices of norm <= ~N^2
CERTIFIED_RTOL = 1e-10  # maxima.max_power/max_energy certify their bracket to 1e-10 relative
CSTAR_ROOT_ATOL = 1e-12  # brentq with xtol=1e-15: tan(x*) - 2x* vanishes to ~1e-15 * |tan'|
GRID_MAX_ATOL = 1e-9  # dense grid step 1e-5 on sin^2 x/x: error <= step^2 |f''|/8 ~ 1e-11
TAU_RTOL = 1e-4  # P(t) is flat at its maximum: a 1e-10 value bracket fixes t only to ~1e-5
FD_STEP = 1e-4  # central difference step for dE_B/dt at t = 0
FD_ATOL = 1e-6  # central difference error ~ step^2 |E'''|/6 ~ 1e-8 * |E'''| with |E'''| <~ 1e2
HP_EARLY_RTOL = 0.05  # HP limit at g t <= 0.3, N >= 125, n - m <= 3: relative error ~ (n-1)/N
