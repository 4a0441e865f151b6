"""``python -m utils.train``: the command lives with the machinery, in ``utils/machinery/train_command.py``."""

import sys

from utils.machinery.train_command import main

if __name__ == "__main__":
    sys.exit(main())
