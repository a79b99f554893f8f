"""Schemathesis against the node's own OpenAPI document (issue 10, item 2).

Every operation of ``/v1/openapi.json`` gets generated requests (valid and
invalid, bounded and derandomized, so the run is deterministic and a few
minutes at most): no answer may be a 5xx, and every answer must match the
document (status, content type, body schema). The server is the one
`fedow-node run` starts, over a real socket, with an operator token (routes
that need a pos token answer 403 and are checked as such). The two event
streams never end by design and are left to their own tests.
"""

from __future__ import annotations

from pathlib import Path
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, Phase, given, settings

from api_solo_node import SoloNode
from api_world import ServerThread
from fedow_node.api import create_token, tokens_path

EXAMPLES_PER_OPERATION = 30
STREAMS = r"/v1/(reader/)?events$"
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.negative_data_rejection]
"""Not ``positive_data_acceptance``: a schema-valid id may still be refused (a checksum, an unknown card)."""


def test_every_route_answers_as_documented_and_never_5xx(tmp_path: Path) -> None:
    node = SoloNode(tmp_path)
    _entry, token = create_token(tokens_path(tmp_path), "", 0, role="operator")
    server = ServerThread(node)
    server.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        schema = schemathesis.openapi.from_url(f"{url}/v1/openapi.json")
        schema.config.update(base_url=url)
        operations = [result.ok() for result in schema.exclude(path_regex=STREAMS).get_all_operations()]
        assert len(operations) >= 25, [op.label for op in operations]
        failures = {}
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=30)

            try:
                check()
            except Exception as exc:  # noqa: BLE001 - collect every route's failure, then report them all
                failures[operation.label] = str(exc)[:2000]
        assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    finally:
        server.stop()
        node.close()
