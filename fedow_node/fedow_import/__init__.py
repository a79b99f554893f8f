"""Moving a federation from Fedow: its SQLite database read, converted to a draft genesis, reconciled.

:func:`read_fedow` reads the rows (read-only), :func:`convert` makes the draft genesis
and the per-asset reconciliation, or raises :class:`ImportRefused` naming every row it
cannot carry over. ``fedow-node import-fedow`` runs both; docs/install.md tells the story.
"""

from fedow_node.fedow_import._convert import (SUBSCRIPTION_UNITS, AssetLine, Converted, convert, person_wallet_id,
                                              place_ids, slug)
from fedow_node.fedow_import._errors import ImportRefused, Refusal
from fedow_node.fedow_import._read import FedowData, read_fedow

__all__ = ["AssetLine", "Converted", "FedowData", "ImportRefused", "Refusal", "SUBSCRIPTION_UNITS", "convert",
           "person_wallet_id", "place_ids", "read_fedow", "slug"]
