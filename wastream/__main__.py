"""``python -m wastream``: the same command line as ``wastream``."""

import sys

from wastream.cli import main

sys.exit(main())
