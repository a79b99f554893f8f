"""Offline: a venue cut off from the network keeps selling, within a risk it chose in advance (docs/offline.md).

:class:`OfflineService` watches the node's connections and the chain's progress
(:mod:`~fedow_node.offline.watch`), and while the node is cut off its :class:`OfflineTill`
accepts sales, cash refills and badge check-ins against the last committed state and the
venue's limits, each signed with the place key, numbered and synced in the
:class:`OfflineJournal` before the till's answer; back online, the :class:`Forwarder` submits
the journal in order until every entry is on chain. The ledger side is
``wallet/rules/offline.py``.
"""

from fedow_node.offline.forward import Forwarder, Pass
from fedow_node.offline.journal import COMMITTED, PENDING, REFUSED, Entry, OfflineJournal, Origin
from fedow_node.offline.service import NetworkView, NodeView, OfflineService, open_offline
from fedow_node.offline.till import Accepted, OfflineTill
from fedow_node.offline.watch import Connectivity, Seen

__all__ = ["Accepted", "COMMITTED", "Connectivity", "Entry", "Forwarder", "NetworkView", "NodeView", "OfflineJournal",
           "OfflineService", "OfflineTill", "Origin", "PENDING", "Pass", "REFUSED", "Seen", "open_offline"]
