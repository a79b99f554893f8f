"""wallet.queries on a genesis state: look-ups by id, number and QR id, and the demurrage estimate."""

from __future__ import annotations

import wallet
from api_solo_node import ALICE, BAR, BOB, FLOAT, GENESIS_MS, genesis
from wallet import melting, queries
from wallet.state import DictReader

DAY = 86_400_000


def test_projected_amount_follows_the_ledgers_demurrage_arithmetic():
    reader = DictReader(wallet.genesis_state(genesis()))
    params = queries.params(reader)
    idle_end = GENESIS_MS + params.demurrage_idle_ms
    assert queries.projected_amount(reader, BOB.public_key, "MELT", idle_end) == 10_000
    for periods in (1, 2, 12):
        now = idle_end + periods * params.demurrage_period_ms
        expected = melting.melt(10_000, params.demurrage_rate_ppm, periods)
        assert queries.projected_amount(reader, BOB.public_key, "MELT", now) == expected < 10_000
        assert queries.projected_amount(reader, BOB.public_key, "MELT", now - 1) > expected
    assert queries.projected_amount(reader, ALICE.public_key, "FED", GENESIS_MS + 900 * DAY) == 50_000
    assert queries.projected_amount(reader, ALICE.public_key, "MELT", GENESIS_MS + 900 * DAY) == 0


def test_directory_queries_read_genesis():
    reader = DictReader(wallet.genesis_state(genesis()))
    assert [place.id for place in queries.places(reader)] == ["bar", "cafe"]
    assert queries.place_by_key(reader, BAR.public_key) == queries.place(reader, "bar")
    assert queries.place_by_key(reader, ALICE.public_key) is None
    assert [entry.asset_id for entry in queries.balances(reader, BOB.public_key)] == ["MELT"]
    assert queries.card(reader, b"\1\2\3\4") is None and queries.card_by_number(reader, "00000001") is None
    assert queries.fed_backing(reader).attested_minted == 150_000 + FLOAT  # stake, Alice's and the bar's float
    assert [federation.id for federation in queries.federations(reader)] == ["festival"]
