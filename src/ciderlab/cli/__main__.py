"""``python -m ciderlab.cli``: the same as the ``ciderlab`` command."""

import sys

from ciderlab.cli import main

sys.exit(main())
