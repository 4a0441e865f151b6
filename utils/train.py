"""``python -m utils.train``: train a course model from the command line (see ``--help``).

The command lives with the rest of the machinery in ``utils/machinery/train_command.py``; this module only keeps
the short name working.
"""

import sys

from utils.machinery.train_command import main

if __name__ == "__main__":
    sys.exit(main())
