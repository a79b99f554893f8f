"""``[api]``: private reads by default, HTTPS with both files or none, the venue's time zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, parse_node_config


def test_defaults_keep_reads_private_over_plain_http_in_utc(tmp_path: Path) -> None:
    api = parse_node_config("", base=tmp_path, env={}).api
    assert (api.public_reads, api.tls_cert, api.tls_key, api.timezone) == (False, None, None, "UTC")


def test_settings_from_file_and_environment(tmp_path: Path) -> None:
    text = '[api]\ntls_cert = "tls/api.crt"\ntls_key = "tls/api.key"\ntimezone = "Europe/Paris"\n'
    api = parse_node_config(text, base=tmp_path, env={"FEDOW_API_PUBLIC_READS": "true"}).api
    assert api.public_reads is True and api.timezone == "Europe/Paris"
    assert (api.tls_cert, api.tls_key) == (tmp_path / "tls/api.crt", tmp_path / "tls/api.key")


@pytest.mark.parametrize("text, reason", [
    ('[api]\ntimezone = "Mars/Olympus"\n', "api.timezone: 'Mars/Olympus' is not an IANA time zone"),
    ('[api]\ntls_cert = "api.crt"\n', "HTTPS needs both api.tls_cert and api.tls_key"),
    ('[api]\npublic_reads = "yes"\n', "api.public_reads: must be true or false"),
])
def test_bad_api_settings_are_refused_with_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_node_config(text, base=tmp_path, env={})
    assert reason in str(caught.value)
