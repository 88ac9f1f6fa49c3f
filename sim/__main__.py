"""``python -m sim``: the treatysim command line."""

import sys

from sim.cli import main

sys.exit(main())
