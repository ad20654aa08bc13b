"""``python -m memprint.cli``."""

import sys

from memprint.cli.main import main

sys.exit(main())
