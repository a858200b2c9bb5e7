"""``python -m qutip_centralspin`` runs the same CLI as the ``qutip-centralspin`` script."""

import sys

from .cli import main

sys.exit(main())
