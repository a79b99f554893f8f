"""The ``[reader]`` section: defaults, TOML and FEDOW_READER_* values, range and cross-field checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, ReaderSection, dump_node_config, load_node_config, parse_node_config
from hardware import ReaderConfig


def test_defaults_match_the_reader_service_defaults() -> None:
    section = load_node_config(None, env={}).reader
    assert section == ReaderSection(enabled=False, name_filter="", poll_interval_ms=250, max_backoff_ms=5000)
    service = ReaderConfig()
    assert (section.poll_interval_ms, section.max_backoff_ms) == (service.poll_interval_ms, service.max_backoff_ms)


def test_file_then_environment(tmp_path: Path) -> None:
    text = '[reader]\nenabled = true\nname_filter = "ACR122"\npoll_interval_ms = 100\nmax_backoff_ms = 2000\n'
    section = parse_node_config(text, base=tmp_path, env={"FEDOW_READER_MAX_BACKOFF_MS": "900"}).reader
    assert section == ReaderSection(True, "ACR122", 100, 900)


@pytest.mark.parametrize(("text", "where", "reason"), [
    ("poll_interval_ms = 5", "reader.poll_interval_ms", "between 10 and 60000 ms, got 5"),
    ("max_backoff_ms = 60001", "reader.max_backoff_ms", "between 10 and 60000 ms, got 60001"),
    ('poll_interval_ms = "250"', "reader.poll_interval_ms", "must be an integer"),
    ("max_backoff_ms = true", "reader.max_backoff_ms", "must be an integer"),
    ("poll_interval_ms = 500\nmax_backoff_ms = 400", "reader.max_backoff_ms",
     "must not be below reader.poll_interval_ms (500), got 400"),
])
def test_bad_values_name_the_field_and_the_reason(tmp_path: Path, text: str, where: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_node_config(f"[reader]\n{text}\n", base=tmp_path, env={})
    assert caught.value.code == "bad_config"
    assert any(where in problem.where and reason in problem.reason for problem in caught.value.problems), \
        caught.value.problems


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FEDOW_READER_POLL_INTERVAL_MS: reader.poll_interval_ms: 'fast'"):
        parse_node_config("", base=tmp_path, env={"FEDOW_READER_POLL_INTERVAL_MS": "fast"})


@given(st.integers(10, 60_000), st.integers(10, 60_000))
def test_accepted_sections_are_accepted_by_the_reader_service(poll: int, backoff: int) -> None:
    try:
        section = ReaderSection(True, "", poll, backoff)
    except ConfigError:
        assert backoff < poll
        return
    assert ReaderConfig(True, "", section.poll_interval_ms, section.max_backoff_ms).max_backoff_ms == backoff


def test_dump_keeps_the_reader_fields(tmp_path: Path) -> None:
    config = parse_node_config("[reader]\nenabled = true\npoll_interval_ms = 40\nmax_backoff_ms = 40\n",
                               base=tmp_path, env={})
    assert parse_node_config(dump_node_config(config), base=tmp_path, env={}).reader == config.reader
