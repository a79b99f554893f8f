"""The treasury tests run their nodes over the API tests' solo node (``tests/api/api_solo_node.py``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))
