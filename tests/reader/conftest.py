"""The reader tests reuse the pcscd controller and card emulator of tests/hardware and the API world of tests/api.

Those helpers are imported, not copied: their folders are put on ``sys.path``
(pytest's default import mode only adds the test file's own folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for helpers in ("hardware", "api", "node"):
    if str(_TESTS / helpers) not in sys.path:
        sys.path.append(str(_TESTS / helpers))
