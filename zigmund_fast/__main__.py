from __future__ import annotations

import sys

from zigmund_fast.cli import main

sys.exit(main())
