"""``fedow-node import-cards``: Fedow's CSV layout (QR url, printed number, tag id) into ``register_cards``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from api_solo_node import BAR, CAFE, SoloNode
from api_world import served_node
from fedow_node.api import create_token, tokens_path
from fedow_node.card_import import CsvError, batches, read_cards
from fedow_node.cli import main
from wallet import queries
from wallet.keys import write_key_file


def line(n: int, number: str | None = None, tag: str | None = None) -> str:
    """A line as Fedow's card factory writes it (lower-case tag ids and numbers are read in upper case)."""
    return f"https://fedow.example.org/qr/{uuid.UUID(int=n)},{number or f'{n:08d}'},{tag or f'{n:08x}'}"


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, SoloNode, Path]]:
    """A node whose card reads are private, and a read token in $FEDOW_API_TOKEN."""
    with served_node(tmp_path / "node") as (url, node):
        _entry, token = create_token(tokens_path(tmp_path / "node"), "", 0, role="read")
        monkeypatch.setenv("FEDOW_API_TOKEN", token)
        yield url, node, tmp_path


def import_cards(folder: Path, lines: list[str], url: str, *, place=BAR, extra: tuple[str, ...] = ()) -> int:
    csv_file = folder / "cards.csv"
    csv_file.write_text("\n".join(lines) + "\n")
    key_file = folder / f"{place.address[-6:]}.key"
    if not key_file.exists():
        write_key_file(key_file, place)
    return main(["import-cards", str(csv_file), "--key", str(key_file), "--api", url, *extra])


def test_a_fedow_csv_registers_the_cards_of_the_signing_place_and_runs_again_safely(api, capsys) -> None:
    url, node, folder = api
    lines = [line(n) for n in range(1, 151)] + [line(151, "ab12cd34", "04a1b2c3d4e5f6")]
    assert import_cards(folder, lines, url, extra=("--dry-run",)) == 0
    assert "151 to register" in capsys.readouterr().out and queries.card(node.reader, bytes.fromhex("00000001")) is None
    assert import_cards(folder, lines, url) == 0
    out = capsys.readouterr().out
    assert out.count(" committed at height") == 2  # 100 + 51 cards
    card = queries.card(node.reader, bytes.fromhex("04A1B2C3D4E5F6"))
    assert card is not None and (card.number, card.qr_id, card.origin_place) == ("AB12CD34", uuid.UUID(int=151).bytes,
                                                                                  "bar")
    assert import_cards(folder, lines, url) == 0  # interrupted or repeated: nothing twice
    assert "151 already registered for bar, 0 to register" in capsys.readouterr().out


def test_card_reads_need_a_token(api, capsys, monkeypatch) -> None:
    url, _node, folder = api
    monkeypatch.delenv("FEDOW_API_TOKEN")
    assert import_cards(folder, [line(1)], url) == 1
    assert "missing_token" in capsys.readouterr().err


def test_cards_of_another_place_or_a_bad_file_register_nothing(api, capsys) -> None:
    url, node, folder = api
    assert import_cards(folder, [line(1), line(2)], url) == 0
    height = node.store.height
    assert import_cards(folder, [line(3), line(9, number="00000002")], url, place=CAFE) == 1
    assert "line 2: tag id 00000009, number 00000002 or its QR code is already card 00000002" in capsys.readouterr().err
    assert import_cards(folder, [line(3), line(4, number="00000003")], url) == 2
    assert "line 2: number already on line 1" in capsys.readouterr().err
    assert node.store.height == height and queries.card(node.reader, bytes.fromhex("00000003")) is None


@pytest.mark.parametrize("text, message", [
    ("https://x.org/qr/nope,00000001,0000000a", "line 1: column 1 must be a QR url"),
    (f"{uuid.UUID(int=1)},0000001,0000000a", "line 1: column 2 must be a printed number of 8 characters"),
    (f"{uuid.UUID(int=1)},00000001,0a0b", "line 1: column 3 must be an NFC tag id of 8 or 14 hex"),
    (f"{uuid.UUID(int=1)},00000001", "line 1: expected 3 columns"),
    (f"{line(1)}\n{line(2, tag='00000001')}", "line 2: tag id already on line 1"),
    ("\n\n", "the file holds no card"),
])
def test_each_bad_line_is_named(text: str, message: str) -> None:
    with pytest.raises(CsvError, match=message):
        read_cards(text)


def test_bare_uuids_and_batches_of_a_hundred() -> None:
    cards = read_cards("\n".join(f"{uuid.UUID(int=n)},{n:08d},{n:08x}" for n in range(1, 202)))
    assert [len(body.cards) for body in batches(cards)] == [100, 100, 1]
    assert batches(cards)[2].cards == ((bytes.fromhex(f"{201:08x}"), "00000201", uuid.UUID(int=201).bytes),)
