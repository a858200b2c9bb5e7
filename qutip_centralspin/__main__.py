"""``python -m qutip_centralspin`` runs the same CLI as the ``qutip-centralspin`` script."""

import sys

from .cli import main

if __name__ == "__main__":  # (importing the module, as the docs' autosummary does, runs nothing)
    sys.exit(main())
