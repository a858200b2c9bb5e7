"""``python -m qutip_centralspin.cli`` runs the same CLI as ``python -m qutip_centralspin``."""

import sys

from . import main

if __name__ == "__main__":  # importing the module runs nothing
    sys.exit(main())
