"""``python -m memprint.cli``."""

import sys

from memprint.cli import main

sys.exit(main())
