"""ChainParams: defaults, devnet values, validation messages, dict round trip."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ChainParams, ConfigError
from config.params import PPM


def test_production_defaults_are_valid_and_as_specified() -> None:
    params = ChainParams()
    assert (params.timeout_propose_ms, params.timeout_prevote_ms, params.timeout_precommit_ms,
            params.timeout_delta_ms, params.timeout_cap_ms, params.timeout_commit_ms) == (3000, 1000, 1000, 500, 30000, 20)
    assert params.heartbeat_ms == 60_000
    assert (params.max_block_txs, params.max_block_bytes, params.max_tx_bytes, params.tx_ttl_blocks) == (
        2000, 2 * 1024 * 1024, 4096, 600)
    assert params.demurrage_idle_ms == 90 * 86_400_000 and params.demurrage_period_ms == 30 * 86_400_000
    assert [getattr(params, f"demurrage_share_{who}_ppm") for who in ("place", "common", "dev", "validators")] \
        == [250_000] * 4  # the card's place, the common fund, the tool's maintenance, the validators
    assert (params.fed_demurrage_rate_ppm, params.fed_demurrage_idle_ms, params.fed_demurrage_period_ms) == (
        10_000, 365 * 86_400_000, 30 * 86_400_000)
    assert sum(getattr(params, f"demurrage_share_{who}_ppm") for who in ("place", "common", "dev", "validators")) == PPM


def test_devnet_has_millisecond_timeouts_and_keeps_the_rest() -> None:
    devnet = ChainParams.devnet()
    assert devnet.timeout_propose_ms == 1000 and devnet.timeout_cap_ms == 5000 and devnet.timeout_commit_ms == 20
    assert devnet.max_block_txs == ChainParams().max_block_txs
    assert (devnet.fed_demurrage_idle_ms, devnet.fed_demurrage_period_ms) == (15_000, 5_000)  # a demo sees it


def test_every_field_is_an_int() -> None:
    assert all(type(value) is int for value in ChainParams().to_dict().values())


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"timeout_propose_ms": 0}, "timeout_propose_ms", "must be positive"),
    ({"max_block_txs": -1}, "max_block_txs", "must be positive"),
    ({"demurrage_idle_ms": -1}, "demurrage_idle_ms", "must not be negative"),
    ({"timeout_cap_ms": 999}, "timeout_cap_ms", "must be >= timeout_propose_ms"),
    ({"demurrage_rate_ppm": PPM + 1}, "demurrage_rate_ppm", "parts per million"),
    ({"slash_fraction_ppm": PPM + 1}, "slash_fraction_ppm", "parts per million"),
    ({"demurrage_share_dev_ppm": 250_001}, "demurrage_share_validators_ppm", "sum to 1000000, they sum to 1000001"),
    ({"fed_demurrage_rate_ppm": PPM + 1}, "fed_demurrage_rate_ppm", "parts per million"),
    ({"fed_demurrage_period_ms": 0}, "fed_demurrage_period_ms", "must be positive"),
    ({"max_tx_bytes": 3 * 1024 * 1024}, "max_tx_bytes", "<= max_block_bytes"),
    ({"min_validator_stake": 10**12 + 1}, "min_validator_stake", "<= 1000000000000"),
    ({"unbonding_ms": 2**63}, "unbonding_ms", "at most 2**63-1"),
    ({"tx_ttl_blocks": True}, "tx_ttl_blocks", "must be an integer"),
    ({"tx_ttl_blocks": "600"}, "tx_ttl_blocks", "must be an integer"),
])
def test_bad_values_are_rejected_naming_field_and_reason(changes: dict, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        dataclasses.replace(ChainParams(), **changes)
    assert caught.value.code == "bad_params"
    assert any(problem.where == field and reason in problem.reason for problem in caught.value.problems), caught.value


def test_from_dict_round_trip() -> None:
    assert ChainParams.from_dict(ChainParams.devnet().to_dict()) == ChainParams.devnet()


def test_from_dict_names_unknown_and_missing_fields() -> None:
    data = ChainParams().to_dict()
    del data["timeout_commit_ms"]
    data["timeout_lunch_ms"] = 5
    with pytest.raises(ConfigError) as caught:
        ChainParams.from_dict(data)
    assert [str(problem) for problem in caught.value.problems] == [
        "params.timeout_lunch_ms: unknown parameter", "params.timeout_commit_ms: missing"]


@given(st.sampled_from(list(ChainParams().to_dict())), st.one_of(st.integers(), st.booleans(), st.text(), st.none()))
def test_any_single_change_is_accepted_or_rejected_with_a_named_field(name: str, value: object) -> None:
    data = {**ChainParams().to_dict(), name: value}
    try:
        params = ChainParams.from_dict(data)
    except ConfigError as exc:
        assert exc.problems and all(problem.where.startswith("params.") for problem in exc.problems)
    else:
        assert params.to_dict() == data
