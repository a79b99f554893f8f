"""audit: the auditor's tools — replay a whole chain from genesis, and export the ledger as CSV.

:func:`audit_chain` re-checks every block, certificate, signature and state hash
of a :class:`ChainSource` (a node's data folder through :class:`StoreSource`,
or blocks fetched from a running peer with :func:`fetch_from_peer`) and raises
:class:`AuditFailed` at the first discrepancy. :func:`export_ledger` writes
blocks, transactions, balances and the directory as CSV. See docs/audit.md.
"""

from ._errors import AuditFailed
from ._export import EXPORT_FILES, ExportSummary, export_ledger
from ._peer import fetch_from_peer
from ._replay import AuditReport, audit_chain
from ._sample import SampleChain, build_sample_chain, card_uid
from ._sources import ChainSource, FetchedChain, RecordedHead, StoreSource

__all__ = [
    "EXPORT_FILES", "AuditFailed", "AuditReport", "ChainSource", "ExportSummary", "FetchedChain", "RecordedHead",
    "SampleChain", "StoreSource", "audit_chain", "build_sample_chain", "card_uid", "export_ledger", "fetch_from_peer",
]
