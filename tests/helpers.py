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
