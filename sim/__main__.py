"""``python -m treatysim``: the treatysim command line."""

import sys

from treatysim.cli import main

if __name__ == "__main__":
    sys.exit(main())
