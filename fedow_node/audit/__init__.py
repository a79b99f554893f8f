"""audit: the auditor's tools — replay a whole chain from genesis, reconcile it with Stripe, export CSV.

:func:`audit_chain` re-checks every block, certificate, signature and state hash
of a :class:`ChainSource` (a node's data folder through :class:`StoreSource`,
or blocks fetched from a running peer with :func:`fetch_from_peer`) and raises
:class:`AuditFailed` at the first discrepancy; its report gives the FED backing.
With a :class:`MoneyTrail` it also collects every attested mint and burn, which
:func:`reconcile_stripe` matches with the Stripe account. :func:`export_ledger` writes
blocks, transactions, balances and the directory as CSV. See docs/audit.md.
"""

from ._errors import AuditFailed
from ._export import EXPORT_FILES, ExportSummary, export_ledger
from ._peer import fetch_from_peer
from ._replay import AuditReport, audit_chain
from ._sample import SampleChain, build_sample_chain, card_uid
from ._signatures import WORKERS
from ._sources import ChainSource, FetchedChain, RecordedHead, StoreSource
from ._stripe import Discrepancy, StripeReconciliation, reconcile_stripe
from ._trail import FedBacking, MoneyTrail, fed_backing

__all__ = [
    "EXPORT_FILES", "WORKERS", "AuditFailed", "AuditReport", "ChainSource", "Discrepancy", "ExportSummary", "FedBacking",
    "FetchedChain", "MoneyTrail", "RecordedHead", "SampleChain", "StoreSource", "StripeReconciliation", "audit_chain",
    "build_sample_chain", "card_uid", "export_ledger", "fed_backing", "fetch_from_peer", "reconcile_stripe",
]
