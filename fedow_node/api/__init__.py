"""The venue's local HTTP API for POS software and the ticketing site (aiohttp, JSON, ``/v1``).

Card look-ups, ledger queries, POS requests that the node signs with its place
key for terminals holding a place-bound token, client-signed transactions,
``?wait=commit``, and a server-sent-events stream of commits. The node plugs
in through :class:`NodeFacade`; see docs/api.md.
"""

from fedow_node.api.app import ROUTES, build_app, start_server, tls_context
from fedow_node.api.errors import ApiError, status_of
from fedow_node.api.facade import CommittedTx, NodeFacade, SubmitRefused
from fedow_node.api.feed import CommitFeed
from fedow_node.api.openapi import openapi_document
from fedow_node.api.tokens import (TOKENS_FILE, TokenEntry, TokenFile, TokenFileError, create_token, list_tokens,
                                   revoke_token, tokens_path)

__all__ = [
    "ROUTES", "TOKENS_FILE", "ApiError", "CommitFeed", "CommittedTx", "NodeFacade", "SubmitRefused", "TokenEntry",
    "TokenFile", "TokenFileError", "build_app", "create_token", "list_tokens", "openapi_document", "revoke_token",
    "start_server", "status_of", "tls_context", "tokens_path",
]
