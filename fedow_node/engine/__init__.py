"""The engine of a node: the ledger Application that consensus drives, its channel of committed blocks,
transaction and consensus gossip, block sync.

These parts sit between consensus/ (which knows no money), wallet/ + storage/
(which know no votes) and p2p/ (which knows no blocks). The daemon wiring
(``fedow_node.node``, ``fedow_node.daemon``), the HTTP API, the CLI and the tools use them; they use
none of those.
"""
