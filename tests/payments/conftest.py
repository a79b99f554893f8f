"""The end-to-end tests reuse the API tests' solo node and the in-process treasury nodes of tests/treasury."""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for helpers in ("api", "treasury"):
    sys.path.insert(0, str(_TESTS / helpers))
