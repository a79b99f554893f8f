"""A small fake of Stripe's v1 API on 127.0.0.1, for the tests and the demo (there is no internet here).

Serves what the bridge, the treasury nodes and the audit call through the official SDK:
checkout sessions, payment intents (with their charge), refunds and transfers, created with
``POST /v1/<objects>``, read with ``GET /v1/<objects>/<id>`` and listed newest first with
``limit``, ``starting_after`` and ``has_more`` (and the filters the callers use). It checks the
bearer key, records every request (form parameters flattened as the SDK sends them,
``Idempotency-Key`` included) and honours idempotency like Stripe: the same key with the same
parameters answers the same object, with other parameters a 400 ``idempotency_error``.
``fail_with`` switches on an error mode for every following request: 401 (the key refused)
and 500 (Stripe down) for reads too, 402 (declined) and 400 (invalid) for what creates an
object only, as Stripe refuses a request, not a read; failed requests store no idempotent
result, so a retry after switching the mode off goes through. What a customer or a bank does happens through methods: :meth:`FakeStripe.pay`,
:meth:`FakeStripe.bank_transfer`, :meth:`FakeStripe.refund_outside`, :meth:`FakeStripe.fail_refund`,
:meth:`FakeStripe.reverse_transfer`. Stripe-mock is a Go program and localstripe lacks Checkout
Sessions and Transfers, hence this fake. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

ERROR_BODIES: dict[int, dict[str, str]] = {
    402: {"type": "card_error", "code": "card_declined", "message": "Your card was declined."},
    400: {"type": "invalid_request_error", "code": "parameter_invalid", "message": "Invalid request (fake)."},
    401: {"type": "authentication_error", "code": "api_key_invalid", "message": "Invalid API Key provided."},
    500: {"type": "api_error", "code": "internal", "message": "Something went wrong on Stripe's end (fake)."},
}

Obj = dict[str, Any]
_COLLECTIONS = {"checkout/sessions": "sessions", "payment_intents": "payment_intents", "refunds": "refunds",
                "transfers": "transfers"}
"""URL path of each kind of object -> the attribute holding them."""
_LIST_FILTERS = ("payment_intent", "transfer_group")


@dataclass(frozen=True)
class ReceivedCall:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None


class FakeStripe:
    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key
        self.calls: list[ReceivedCall] = []
        self.fail_with: int | None = None
        self.sessions: dict[str, Obj] = {}
        self.payment_intents: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.refunds: dict[str, Obj] = {}
        self.transfers: dict[str, Obj] = {}
        self._idempotent: dict[str, tuple[dict[str, str], Obj]] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/checkout/sessions", self._create_session)
        app.router.add_post("/v1/refunds", self._create_refund)
        app.router.add_post("/v1/transfers", self._create_transfer)
        for path in _COLLECTIONS:
            app.router.add_get(f"/v1/{path}", self._list)
            app.router.add_get(f"/v1/{path}/{{id}}", self._retrieve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests look at ----------------------------------------------------------------

    def calls_to(self, path: str, method: str = "POST") -> list[ReceivedCall]:
        return [call for call in self.calls if (call.method, call.path) == (method, path)]

    def forget_idempotency_keys(self) -> None:
        """What Stripe does after 24 hours."""
        self._idempotent.clear()

    def event(self, session: Obj, event_type: str = "checkout.session.completed",
              event_id: str | None = None) -> Obj:
        """A webhook event carrying a snapshot of ``session``."""
        return {"id": event_id or f"evt_fake{next(self._ids)}", "object": "event", "api_version": "2024-06-20",
                "created": int(time.time()), "type": event_type, "livemode": False,
                "data": {"object": dict(session)}}

    def refundable(self, payment_intent: str) -> int:
        charge = self.charges[self.payment_intents[payment_intent]["latest_charge"]]
        return charge["amount"] - charge["amount_refunded"]

    # -- what customers and banks do ---------------------------------------------------------

    def pay(self, session_id: str) -> Obj:
        """The customer pays: the session completes paid, with a succeeded payment intent."""
        session = self.sessions[session_id]
        intent = self._new_payment_intent(session["amount_total"], session["currency"],
                                          session.get("payment_intent_metadata") or session["metadata"])
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        return _public_session(session)

    def bank_transfer(self, amount: int, metadata: dict[str, str], currency: str = "eur") -> Obj:
        """A payment received by bank transfer (a venue buying FED float): a succeeded payment intent."""
        return dict(self._new_payment_intent(amount, currency, metadata))

    def refund_outside(self, payment_intent: str, amount: int) -> Obj:
        """A refund made from Stripe's dashboard (not through the bridge)."""
        return self._new_refund({"payment_intent": payment_intent, "amount": str(amount)})

    def fail_refund(self, refund_id: str) -> None:
        """The card network refuses a refund after Stripe accepted it: the money comes back."""
        refund = self.refunds[refund_id]
        charge = self.charges[self.payment_intents[refund["payment_intent"]]["latest_charge"]]
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        refund["status"] = "failed"

    def reverse_transfer(self, transfer_id: str) -> None:
        """A transfer taken back in full (the venue's account could not receive it)."""
        transfer = self.transfers[transfer_id]
        transfer.update(amount_reversed=transfer["amount"], reversed=True)

    # -- endpoints -------------------------------------------------------------------------

    async def _create_session(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._new_session)

    async def _create_refund(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._new_refund)

    async def _create_transfer(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._new_transfer)

    def _collection(self, request: web.Request) -> dict[str, Obj]:
        path = request.path.removeprefix("/v1/")
        name = next(name for prefix, name in _COLLECTIONS.items() if path == prefix or path.startswith(prefix + "/"))
        return getattr(self, name)

    def _refused(self, request: web.Request, params: dict[str, str], key: str | None = None) -> web.Response | None:
        """Record the call; the error Stripe would answer first (bad key, error mode), if any."""
        self.calls.append(ReceivedCall(request.method, request.path, params, key))
        if request.headers.get("Authorization") != f"Bearer {self._secret_key}":
            return _error(401, ERROR_BODIES[401])
        if self.fail_with in (401, 500) or (self.fail_with is not None and request.method == "POST"):
            return _error(self.fail_with, ERROR_BODIES[self.fail_with])
        return None

    async def _retrieve(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        refused = self._refused(request, params)
        if refused is not None:
            return refused
        found = self._collection(request).get(request.match_info["id"])
        if found is None:
            return _error(404, {"type": "invalid_request_error", "code": "resource_missing",
                                "message": f"No such object: '{request.match_info['id']}'"})
        return web.json_response(self._shown(found, params))

    async def _list(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        refused = self._refused(request, params)
        if refused is not None:
            return refused
        wanted = [obj for obj in reversed(self._collection(request).values())
                  if all(obj.get(name) == params[name] for name in _LIST_FILTERS if name in params)]
        if "starting_after" in params:
            ids = [obj["id"] for obj in wanted]
            wanted = wanted[ids.index(params["starting_after"]) + 1:] if params["starting_after"] in ids else []
        limit = int(params.get("limit", "10"))
        return web.json_response({"object": "list", "url": request.path, "has_more": len(wanted) > limit,
                                  "data": [self._shown(obj, params) for obj in wanted[:limit]]})

    def _shown(self, obj: Obj, params: dict[str, str]) -> Obj:
        """The object as Stripe answers it (a payment intent's charge expanded when asked)."""
        if obj.get("object") == "checkout.session":
            return _public_session(obj)
        shown = dict(obj)
        if obj.get("object") == "payment_intent" and "latest_charge" in params.get("expand[0]", ""):
            shown["latest_charge"] = dict(self.charges[obj["latest_charge"]])
        return shown

    async def _answer(self, request: web.Request, create: Callable[[dict[str, str]], Obj]) -> web.Response:
        params = {key: str(value) for key, value in (await request.post()).items()}
        key = request.headers.get("Idempotency-Key")
        refused = self._refused(request, params, key)
        if refused is not None:
            return refused
        if key is not None and key in self._idempotent:
            first_params, first_answer = self._idempotent[key]
            if first_params != params:
                return _error(400, {"type": "idempotency_error", "message": "Keys for idempotent requests "
                                    "can only be used with the same parameters they were first used with."})
            return web.json_response(first_answer, headers={"Idempotent-Replayed": "true"})
        answer = create(params)
        if "error" in answer:
            return _error(400, answer["error"])
        if key is not None:
            self._idempotent[key] = (params, answer)
        return web.json_response(answer)

    def _new_session(self, params: dict[str, str]) -> Obj:
        session_id = f"cs_test_fake{next(self._ids)}"
        session = {
            "id": session_id, "object": "checkout.session", "mode": params["mode"],
            "url": f"{self.url}/pay/{session_id}", "status": "open", "payment_status": "unpaid",
            "currency": params["line_items[0][price_data][currency]"],
            "amount_total": int(params["line_items[0][price_data][unit_amount]"]),
            "client_reference_id": params.get("client_reference_id"), "payment_intent": None,
            "success_url": params["success_url"], "cancel_url": params["cancel_url"],
            "metadata": _nested(params, "metadata"),
            "payment_intent_metadata": _nested(params, "payment_intent_data[metadata]"),
        }
        self.sessions[session_id] = session
        return _public_session(session)

    def _new_payment_intent(self, amount: int, currency: str, metadata: dict[str, str]) -> Obj:
        intent_id, charge_id = f"pi_fake{next(self._ids)}", f"ch_fake{next(self._ids)}"
        self.charges[charge_id] = {"id": charge_id, "object": "charge", "amount": amount, "currency": currency,
                                   "payment_intent": intent_id, "paid": True, "amount_refunded": 0,
                                   "refunded": False}
        intent = {"id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
                  "currency": currency, "status": "succeeded", "latest_charge": charge_id,
                  "metadata": dict(metadata)}
        self.payment_intents[intent_id] = intent
        return intent

    def _new_refund(self, params: dict[str, str]) -> Obj:
        intent_id, amount = params["payment_intent"], int(params["amount"])
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            return {"error": {"type": "invalid_request_error", "code": "resource_missing",
                              "message": f"No such payment_intent: '{intent_id}'"}}
        charge = self.charges[intent["latest_charge"]]
        if amount > charge["amount"] - charge["amount_refunded"]:
            return {"error": {"type": "invalid_request_error", "code": "amount_too_large",
                              "message": "Refund amount is greater than the unrefunded amount."}}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {"id": f"re_fake{next(self._ids)}", "object": "refund", "amount": amount, "currency": "eur",
                  "payment_intent": intent_id, "charge": charge["id"], "status": "succeeded",
                  "metadata": _nested(params, "metadata")}
        self.refunds[refund["id"]] = refund
        return refund

    def _new_transfer(self, params: dict[str, str]) -> Obj:
        if not params["destination"].startswith("acct_"):
            return {"error": {"type": "invalid_request_error", "code": "resource_missing",
                              "message": f"No such destination: '{params['destination']}'"}}
        transfer = {"id": f"tr_fake{next(self._ids)}", "object": "transfer", "amount": int(params["amount"]),
                    "currency": params["currency"], "destination": params["destination"],
                    "transfer_group": params.get("transfer_group"), "amount_reversed": 0, "reversed": False,
                    "metadata": _nested(params, "metadata")}
        self.transfers[transfer["id"]] = transfer
        return transfer


def _public_session(session: Obj) -> Obj:
    """A session as Stripe shows it (without what the fake keeps for the payment intent to come)."""
    return {key: value for key, value in session.items() if key != "payment_intent_metadata"}


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    """``metadata[key]=value`` form fields back into a dict."""
    prefix = f"{name}["
    return {key[len(prefix):-1]: value for key, value in sorted(params.items())
            if key.startswith(prefix) and "[" not in key[len(prefix):-1]}


def _error(status: int, body: dict[str, str]) -> web.Response:
    return web.json_response({"error": body}, status=status)
