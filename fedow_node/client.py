"""Python client of the fedow-node POS API (``/v1``), on aiohttp, with a thin synchronous wrapper.

Used by POS integrations, the benchmarks, the demo and the tests. Reads return
the API's JSON (dicts); submissions return a :class:`Submission`. A refusal
raises :class:`ApiRefused` with the API's code, detail and status. Transactions
signed by a user's key (card link, transfer, QR sale) are signed here and
submitted raw; POS requests are signed by the node with its place key.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Coroutine

import aiohttp

from wallet.bodies import Body, LinkCard, QrSale, Transfer
from wallet.keys import SigningKey
from wallet.tx import NONCE_BYTES, build_unsigned, sign_tx

__all__ = ["ApiRefused", "FedowClient", "HistoryPage", "Submission", "SyncFedowClient"]

Json = dict[str, Any]


class ApiRefused(Exception):
    """The API answered an error: ``code`` (stable), ``detail`` (a sentence), HTTP ``status``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Submission:
    """A transaction the node accepted: pending, committed at (height, position), or dropped (why)."""

    txid: str
    status: str
    height: int | None = None
    position: int | None = None
    error: str | None = None
    detail: str | None = None
    wallet: Json | None = None
    """A committed sale, refill or refund: the card's (or wallet's) balances after it, for the receipt."""
    seq: int | None = None
    """Offline answers (status ``offline``): the operation's number in the node's offline journal."""
    provisional_balance: int | None = None
    """Offline answers: FED the card holds as far as the node knows (docs/offline.md)."""

    @property
    def committed(self) -> bool:
        return self.status == "committed"

    @property
    def offline(self) -> bool:
        """Journalled by a node cut off from the network: forwarded when it is back (docs/offline.md)."""
        return self.status == "offline"

    @classmethod
    def from_json(cls, data: Json) -> Submission:
        return cls(data["txid"], data["status"], data.get("height"), data.get("position"), data.get("error"),
                   data.get("detail"), data.get("wallet"), data.get("seq"), data.get("provisional_balance"))


@dataclass(frozen=True)
class HistoryPage:
    entries: list[Json]
    next_cursor: str | None


def _hex(value: bytes | str) -> str:
    return value.hex() if isinstance(value, bytes) else value


class FedowClient:
    """Async client; ``token`` is a POS API token (needed for the ``pos_*`` requests only)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout_s: float = 30.0,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = session
        self._owns_session = session is None
        self._chain_id: str | None = None

    async def __aenter__(self) -> FedowClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session

    def _headers(self) -> dict[str, str]:
        return {} if self._token is None else {"Authorization": f"Bearer {self._token}"}

    async def request(self, method: str, path: str, body: Json | None = None,
                      params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Json]:
        """One API call: (status, JSON); ApiRefused for any 4xx/5xx."""
        async with self._http().request(method, self.base_url + path, json=body, params=params,
                                        headers=self._headers() | (headers or {})) as response:
            text = await response.text()
            try:
                data = json.loads(text) if text else {}
            except ValueError:
                data = {"error": "not_json", "detail": text[:200]}
            if response.status >= 400:
                raise ApiRefused(response.status, data.get("error", "unknown"), data.get("detail", text[:200]))
            return response.status, data

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Json:
        return (await self.request("GET", path, params=params))[1]

    # -- chain and directory --------------------------------------------------------------
    async def status(self) -> Json:
        return await self._get("/v1/status")

    async def openapi(self) -> Json:
        return await self._get("/v1/openapi.json")

    async def places(self) -> list[Json]:
        return (await self._get("/v1/places"))["places"]

    async def place(self, place_id: str) -> Json:
        return await self._get(f"/v1/places/{place_id}")

    async def assets(self) -> list[Json]:
        return (await self._get("/v1/assets"))["assets"]

    async def asset(self, asset_id: str) -> Json:
        return await self._get(f"/v1/assets/{asset_id}")

    async def federations(self) -> list[Json]:
        return (await self._get("/v1/federations"))["federations"]

    async def validators(self) -> Json:
        return await self._get("/v1/validators")

    async def block(self, height: int) -> Json:
        return await self._get(f"/v1/blocks/{height}")

    async def block_by_hash(self, block_hash: bytes | str) -> Json:
        return await self._get(f"/v1/blocks/by-hash/{_hex(block_hash)}")

    async def tx(self, txid: bytes | str) -> Json:
        return await self._get(f"/v1/txs/{_hex(txid)}")

    # -- cards and wallets ------------------------------------------------------------------
    async def card(self, uid: bytes | str) -> Json:
        return await self._get(f"/v1/cards/{_hex(uid)}")

    async def card_by_number(self, number: str) -> Json:
        return await self._get(f"/v1/cards/by-number/{number}")

    async def card_by_qr(self, qr_id: bytes | str) -> Json:
        return await self._get(f"/v1/cards/by-qr/{_hex(qr_id)}")

    async def wallet(self, wallet_id: bytes | str) -> Json:
        return await self._get(f"/v1/wallets/{_hex(wallet_id)}")

    async def membership(self, wallet_id: bytes | str, asset_id: str) -> Json:
        return await self._get(f"/v1/wallets/{_hex(wallet_id)}/memberships/{asset_id}")

    async def history(self, wallet_id: bytes | str, cursor: str | None = None, limit: int = 50) -> HistoryPage:
        params = {"limit": str(limit)} | ({} if cursor is None else {"cursor": cursor})
        data = await self._get(f"/v1/wallets/{_hex(wallet_id)}/history", params)
        return HistoryPage(data["entries"], data["next_cursor"])

    async def transactions(self, *, cursor: str | None = None, limit: int = 50, **filters: str | int) -> HistoryPage:
        """A page of ``GET /v1/txs``: filters ``kind``, ``asset``, ``place``, ``wallet``, ``from``, ``to``."""
        params = {name.rstrip("_"): str(value) for name, value in filters.items()} | {"limit": str(limit)}
        data = await self._get("/v1/txs", params | ({} if cursor is None else {"cursor": cursor}))
        return HistoryPage(data["entries"], data["next_cursor"])

    async def totals(self, date: str | None = None, days: int = 1, **options: str) -> Json:
        """Day totals per place, asset and kind (``GET /v1/totals``); options ``tz``, ``place``."""
        return await self._get("/v1/totals", {"days": str(days), **options} | ({} if date is None else {"date": date}))

    async def pair(self, code: str, label: str = "") -> Json:
        """Exchange a pairing code for this till's own token (``{"token", "id", "role", "place"}``)."""
        return (await self.request("POST", "/v1/pairing", {"code": code} | ({"label": label} if label else {})))[1]

    async def history_all(self, wallet_id: bytes | str, page_size: int = 200) -> AsyncIterator[Json]:
        """Every history entry, newest first, page by page."""
        cursor: str | None = None
        while True:
            page = await self.history(wallet_id, cursor, page_size)
            for entry in page.entries:
                yield entry
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # -- submissions ------------------------------------------------------------------------
    @staticmethod
    def _wait_params(wait: bool, timeout_ms: int | None) -> dict[str, str] | None:
        if not wait:
            return None
        return {"wait": "commit"} | ({} if timeout_ms is None else {"timeout_ms": str(timeout_ms)})

    async def submit(self, tx: bytes, *, wait: bool = True, timeout_ms: int | None = None) -> Submission:
        """Submit a signed transaction; with ``wait`` the answer comes once it is committed (or pending)."""
        _status, data = await self.request("POST", "/v1/txs", {"tx": tx.hex()}, self._wait_params(wait, timeout_ms))
        return Submission.from_json(data)

    async def submit_batch(self, txs: list[bytes]) -> list[Json]:
        """Submit up to 500 signed transactions; per transaction ``{txid, status}`` or ``{error, detail}``."""
        _status, data = await self.request("POST", "/v1/txs/batch", {"txs": [tx.hex() for tx in txs]})
        return data["results"]

    async def wait_committed(self, txid: str, timeout_s: float, poll_s: float = 0.05) -> Submission:
        """Poll ``/v1/txs/{txid}`` until committed or dropped, or ``timeout_s`` passes (then still pending)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            submission = Submission.from_json(await self.tx(txid))
            if submission.status != "pending" or loop.time() >= deadline:
                return submission
            await asyncio.sleep(poll_s)

    async def sign_and_submit(self, key: SigningKey, body: Body, *, wait: bool = True,
                              timeout_ms: int | None = None) -> Submission:
        """Sign ``body`` with a user's key (expiry from the node's height and ttl) and submit it."""
        status = await self.status()
        expires_at = status["height"] + status["tx_ttl_blocks"]
        tx = sign_tx(key, status["chain_id"], body.KIND, body, os.urandom(NONCE_BYTES), expires_at)
        return await self.submit(tx, wait=wait, timeout_ms=timeout_ms)

    async def unsigned(self, body: Body, expires_in: int | None = None) -> tuple[str, bytes]:
        """(chain id, unsigned part) of a co-signed transaction of ``body`` for this node's chain.

        It expires ``expires_in`` blocks from now (default: the chain's ttl for co-signed
        transactions, about a week, so signatures can be gathered by hand); each
        co-signer then signs it with :func:`wallet.tx.cosign`, and :func:`wallet.tx.combine`
        makes the transaction to :meth:`submit`.
        """
        status = await self.status()
        expires_at = status["height"] + (status["cosigned_tx_ttl_blocks"] if expires_in is None else expires_in)
        return status["chain_id"], build_unsigned(body.KIND, body, os.urandom(NONCE_BYTES), expires_at)

    async def link_card(self, key: SigningKey, card: bytes | str, **options: Any) -> Submission:
        """The key's wallet claims a card by its QR id (16 bytes) or printed number."""
        return await self.sign_and_submit(key, LinkCard(card), **options)

    async def transfer(self, key: SigningKey, to_wallet: bytes, asset: str, amount: int, **options: Any) -> Submission:
        return await self.sign_and_submit(key, Transfer(to_wallet, asset, amount), **options)

    async def qr_sale(self, key: SigningKey, place: str, asset: str, amount: int, **options: Any) -> Submission:
        return await self.sign_and_submit(key, QrSale(place, asset, amount), **options)

    # -- POS requests (signed by the node's place key; need a token) --------------------------
    async def pos(self, action: str, payload: Json, *, wait: bool = True, timeout_ms: int | None = None,
                  idempotency_key: str | None = None) -> Submission:
        """``POST /v1/pos/<action>``; see docs/api.md for each action's fields.

        Pass the same ``idempotency_key`` when retrying a request whose answer was
        lost: the node answers the first request's transaction instead of signing another.
        """
        headers = None if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        _status, data = await self.request("POST", f"/v1/pos/{action}", payload,
                                           self._wait_params(wait, timeout_ms), headers)
        return Submission.from_json(data)

    async def sale(self, uid: bytes | str, asset: str, amount: int, *, operator: bytes | str | None = None,
                   **options: Any) -> Submission:
        """A card pays the place; ``operator`` is the UID of the operator's card, when presented."""
        return await self.pos("sales", {"uid": _hex(uid), "asset": asset, "amount": amount, **_operator(operator)},
                              **options)

    async def refill(self, asset: str, amount: int, *, uid: bytes | str | None = None,
                     wallet: bytes | str | None = None, **options: Any) -> Submission:
        """Cash refill of a card (by UID) or of a wallet: FED from the place's float, or its own asset."""
        return await self.pos("refills", {"asset": asset, "amount": amount, **_target(uid, wallet)}, **options)

    async def refund(self, uid: bytes | str, asset: str, amount: int, *, operator: bytes | str | None = None,
                     **options: Any) -> Submission:
        return await self.pos("refunds", {"uid": _hex(uid), "asset": asset, "amount": amount,
                                          **_operator(operator)}, **options)

    async def void_card(self, uid: bytes | str, *, operator: bytes | str | None = None,
                        **options: Any) -> Submission:
        return await self.pos("voids", {"uid": _hex(uid), **_operator(operator)}, **options)

    async def lost_card(self, uid: bytes | str, **options: Any) -> Submission:
        return await self.pos("lost-cards", {"uid": _hex(uid)}, **options)

    async def set_primary_card(self, uid: bytes | str, primary: bool = True, **options: Any) -> Submission:
        return await self.pos("primary-cards", {"uid": _hex(uid), "primary": primary}, **options)

    async def register_cards(self, cards: list[tuple[bytes, str, bytes]], **options: Any) -> Submission:
        """New cards of the node's place: (uid, printed number, QR id)."""
        rows = [{"uid": uid.hex(), "number": number, "qr_id": qr_id.hex()} for uid, number, qr_id in cards]
        return await self.pos("cards", {"cards": rows}, **options)

    async def grant_membership(self, asset: str, unit: str, count: int, *, uid: bytes | str | None = None,
                               wallet: bytes | str | None = None, **options: Any) -> Submission:
        return await self.pos("memberships", {"asset": asset, "unit": unit, "count": count,
                                              **_target(uid, wallet)}, **options)

    async def badge(self, uid: bytes | str, asset: str, **options: Any) -> Submission:
        return await self.pos("badges", {"uid": _hex(uid), "asset": asset}, **options)

    async def settlement(self, to_place: str, asset: str, amount: int, **options: Any) -> Submission:
        return await self.pos("settlements", {"to_place": to_place, "asset": asset, "amount": amount}, **options)

    async def mint(self, asset: str, amount: int, **options: Any) -> Submission:
        return await self.pos("mints", {"asset": asset, "amount": amount}, **options)

    # -- offline (docs/offline.md) ----------------------------------------------------------------
    async def offline_bond(self, amount: int, **options: Any) -> Submission:
        """Lock FED of the place's float as its offline bond."""
        return await self.pos("offline-bonds", {"amount": amount}, **options)

    async def offline_unbond(self, amount: int, **options: Any) -> Submission:
        """Give notice on part of the offline bond (it comes back after the chain's notice period)."""
        return await self.pos("offline-unbonds", {"amount": amount}, **options)

    async def offline_journal(self, state: str = "pending", limit: int = 100) -> Json:
        """This node's offline journal: pending (not on chain yet), refused, or all entries."""
        return await self._get("/v1/offline/journal", {"state": state, "limit": str(limit)})

    async def place_offline(self, place_id: str, *, shortfalls: bool = False, limit: int = 100) -> Json:
        """A place's offline bond and forwarded offline operations (only the shortfalls if asked)."""
        return await self._get(f"/v1/places/{place_id}/offline",
                               {"shortfalls": "true" if shortfalls else "false", "limit": str(limit)})

    # -- Stripe (the node's place; docs/stripe.md) ----------------------------------------------
    async def stripe_checkout(self, refill_id: str, amount: int, *, uid: bytes | str | None = None,
                              wallet: bytes | str | None = None) -> Json:
        """Open a Checkout Session to top a card or wallet up: ``{refill_id, session_id, url}``."""
        return (await self.request("POST", "/v1/stripe/checkout", {"refill_id": refill_id, "amount": amount,
                                                                   **_target(uid, wallet)}))[1]

    async def buy_float(self, payment_intent: str) -> Json:
        """Have the treasury mint the place's bank transfer ``pi_...`` into its float."""
        return (await self.request("POST", "/v1/stripe/float", {"payment_intent": payment_intent}))[1]

    async def stripe_refund(self, refund_id: str, payment_intent: str, amount: int, *,
                            uid: bytes | str | None = None, wallet: bytes | str | None = None) -> Json:
        """Refund FED to the bank card that paid ``payment_intent`` (hold, Stripe refund, attested burn)."""
        return (await self.request("POST", "/v1/stripe/refunds", {
            "refund_id": refund_id, "payment_intent": payment_intent, "amount": amount, **_target(uid, wallet)}))[1]

    async def payout(self, payout_id: str, amount: int | None = None) -> Json:
        """Pay the place's FED out to its bank (hold, Stripe transfer, attested burn); None: all of it."""
        payload: Json = {"payout_id": payout_id} if amount is None else {"payout_id": payout_id, "amount": amount}
        return (await self.request("POST", "/v1/stripe/payouts", payload))[1]

    # -- events -------------------------------------------------------------------------------
    async def events(self, *, wallet: bytes | str | None = None, card: bytes | str | None = None,
                     place: str | None = None, network: bool = False) -> AsyncIterator[Json]:
        """Committed transactions as the node streams them (server-sent events), until closed.

        ``network``: also the node's ``network`` events (cut off or back online: the ``offline``
        object of the status, with ``"event": "network"`` added)."""
        params = {name: _hex(value) for name, value in (("wallet", wallet), ("card", card), ("place", place))
                  if value is not None}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self._http().get(self.base_url + "/v1/events", params=params, headers=self._headers(),
                                    timeout=timeout) as response:
            if response.status >= 400:
                data = await response.json()
                raise ApiRefused(response.status, data["error"], data["detail"])
            kind = "message"
            async for line in response.content:
                if line.startswith(b"event: "):
                    kind = line[len(b"event: "):].strip().decode()
                elif line.startswith(b"data: "):
                    data = json.loads(line[len(b"data: "):])
                    if kind == "tx":
                        yield data
                    elif kind == "network" and network:
                        yield {**data, "event": "network"}
                elif not line.strip():
                    kind = "message"


def _operator(operator: bytes | str | None) -> Json:
    return {} if operator is None else {"operator": _hex(operator)}


def _target(uid: bytes | str | None, wallet: bytes | str | None) -> Json:
    if (uid is None) == (wallet is None):
        raise ValueError("name exactly one of uid and wallet")
    return {"uid": _hex(uid)} if uid is not None else {"wallet": _hex(wallet)}  # type: ignore[arg-type]


class SyncFedowClient:
    """The same calls from synchronous code: each method runs the async one on a private loop.

    ``events`` and ``history_all`` (async iterators) are not offered; use
    :class:`FedowClient` for streams.
    """

    def __init__(self, base_url: str, token: str | None = None, *, timeout_s: float = 30.0) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = FedowClient(base_url, token, timeout_s=timeout_s)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)
        if name in ("events", "history_all") or not asyncio.iscoroutinefunction(method):
            raise AttributeError(f"SyncFedowClient has no method {name!r}")

        def call(*args: Any, **kwargs: Any) -> Any:
            coroutine: Coroutine[Any, Any, Any] = method(*args, **kwargs)
            return self._loop.run_until_complete(coroutine)
        return call

    def close(self) -> None:
        self._loop.run_until_complete(self._client.close())
        self._loop.close()

    def __enter__(self) -> SyncFedowClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
