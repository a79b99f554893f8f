"""Which protocol versions this software runs, and the stop at an upgrade it cannot follow.

The ledger says which version each height has (wallet/protocol.py); a release says which
versions it implements. When the next height needs a version this release does not know,
the node stops cleanly at that height (:class:`UpgradeRequired`, exit code 4) with a
message naming the version to install; the release that knows it starts from the same
home and goes on. No rule differs between versions 1 and 2 yet: version 2 exists so that
the switch itself is exercised, and a release that changes the rules will give its
version a meaning. ``FEDOWNODE_TEST_PROTOCOL_VERSIONS`` (comma-separated) adds versions,
for tests that play a newer release.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SOFTWARE_VERSIONS = frozenset({1})
"""The protocol versions this release implements."""
TEST_VERSIONS_VARIABLE = "FEDOWNODE_TEST_PROTOCOL_VERSIONS"
UPGRADE_EXIT_CODE = 4
"""``fedow-node run`` exits with this code when the chain needs a newer release (deploy/fedow-node.service
does not restart on it)."""


def known_versions(env: Mapping[str, str] = os.environ) -> frozenset[int]:
    extra = {int(item) for item in env.get(TEST_VERSIONS_VARIABLE, "").split(",") if item.strip()}
    return SOFTWARE_VERSIONS | extra


class UpgradeRequired(Exception):
    """The chain reached a height whose protocol version this software does not implement."""

    def __init__(self, version: int, height: int, known: frozenset[int]) -> None:
        self.version = version
        self.height = height
        super().__init__(
            f"the chain runs protocol version {version} from height {height} on, and this fedow-node implements "
            f"version(s) {', '.join(map(str, sorted(known)))}: install a release that implements protocol version "
            f"{version} and start it with the same home (the chain is kept; nothing was signed for height {height})")
