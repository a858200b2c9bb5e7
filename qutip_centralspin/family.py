"""QuTiP family entry point: lets ``qutip.about()`` list this plugin."""

from .version import __version__

__all__ = ["version"]


def version():
    """Return ``(package name, version)`` as ``qutip.about()`` expects."""
    return "qutip-centralspin", __version__
