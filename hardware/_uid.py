"""GET DATA UID: the PC/SC pseudo-APDU that asks a contactless reader for the card's UID.

PC/SC part 3 defines ``FF CA 00 00 00``; the reader (not the card) answers the
UID followed by the status word ``90 00``. ISO 14443-3 UIDs are 4, 7 or 10 bytes.
"""

from __future__ import annotations

from hardware._errors import CardReadError

GET_DATA_UID = bytes.fromhex("FFCA000000")
_SW_SUCCESS = bytes.fromhex("9000")
_UID_LENGTHS = (4, 7, 10)


def parse_uid_response(response: bytes) -> bytes:
    """Return the UID carried by a GET DATA response, or raise :class:`CardReadError`."""
    if len(response) < 2:
        raise CardReadError("status_word",
                            f"GET DATA UID answered {response.hex().upper() or 'nothing'}, "
                            f"shorter than a status word")
    data, status_word = response[:-2], response[-2:]
    if status_word != _SW_SUCCESS:
        raise CardReadError("status_word",
                            f"GET DATA UID answered status word {status_word.hex().upper()} "
                            f"instead of 9000")
    if len(data) not in _UID_LENGTHS:
        raise CardReadError("bad_uid",
                            f"GET DATA UID returned {len(data)} bytes ({data.hex().upper()}); "
                            f"a UID has 4, 7 or 10")
    return data
