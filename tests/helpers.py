"""Small helpers shared by the test modules (``tests/`` is on ``sys.path``)."""

import contextlib
import signal


@contextlib.contextmanager
def time_limit(seconds):
    """Raise TimeoutError in the main thread after ``seconds`` (POSIX interval timer)."""

    def handler(signum, frame):
        raise TimeoutError(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def random_open_start(rng, max_battery: int, max_charger: int, *, mixture: bool, weight: float):
    """A random model and a K-diagonal start: Dicke product state (m0 > 0 allowed), or its
    mixture ``weight * |m0, n0> + (1 - weight) * |N_B - m0, N - n0>``."""
    from qutip_centralspin import CentralSpinModel, dicke_state

    nb, nc = int(rng.integers(1, max_battery + 1)), int(rng.integers(1, max_charger + 1))
    model = CentralSpinModel(
        nb,
        nc,
        B=float(rng.uniform(0.5, 1.5)),
        h=float(rng.uniform(0.5, 1.5)),
        A=float(rng.uniform(-1.2, 1.2)),
        delta=float(rng.uniform(-0.5, 0.5)),
    )
    m0, n0 = int(rng.integers(0, nb + 1)), int(rng.integers(0, nc + 1))
    psi0 = dicke_state(model, m0, n0, dm=True)
    if mixture:
        psi0 = weight * psi0 + (1 - weight) * dicke_state(model, nb - m0, nc - n0, dm=True)
    return model, psi0, m0, n0
