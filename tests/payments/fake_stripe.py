"""A small fake of Stripe's v1 API for the tests: checkout sessions, refunds, transfers.

It listens on 127.0.0.1 (port 0) with aiohttp, checks the bearer key, records every request
(form parameters flattened as the SDK sends them, ``Idempotency-Key`` included) and honours
idempotency like Stripe: the same key with the same parameters answers the same object, with
other parameters a 400 ``idempotency_error``. ``fail_with`` switches on an error mode (402,
400, 401 or 500) for every following request; failed requests store no idempotent result, so a
retry after switching the mode off goes through. Stripe-mock is a Go program and localstripe
lacks Checkout Sessions and Transfers, hence this fake.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

ERROR_BODIES: dict[int, dict[str, str]] = {
    402: {"type": "card_error", "code": "card_declined", "message": "Your card was declined."},
    400: {"type": "invalid_request_error", "code": "parameter_invalid", "message": "Invalid request (fake)."},
    401: {"type": "authentication_error", "code": "api_key_invalid", "message": "Invalid API Key provided."},
    500: {"type": "api_error", "code": "internal", "message": "Something went wrong on Stripe's end (fake)."},
}


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
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self._payment_intents: dict[str, int] = {}
        self._idempotent: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/checkout/sessions", self._create_session)
        app.router.add_post("/v1/refunds", self._create_refund)
        app.router.add_post("/v1/transfers", self._create_transfer)
        app.router.add_get("/v1/refunds", self._list_refunds)
        app.router.add_get("/v1/transfers", self._list_transfers)
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

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer pays: the session completes paid with a new payment intent."""
        session = self.sessions[session_id]
        intent = f"pi_fake{next(self._ids)}"
        self._payment_intents[intent] = session["amount_total"]
        session.update(status="complete", payment_status="paid", payment_intent=intent)
        return dict(session)

    def event(self, session: dict[str, Any], event_type: str = "checkout.session.completed",
              event_id: str | None = None) -> dict[str, Any]:
        """A webhook event carrying a snapshot of ``session``."""
        return {"id": event_id or f"evt_fake{next(self._ids)}", "object": "event", "api_version": "2024-06-20",
                "created": int(time.time()), "type": event_type, "livemode": False,
                "data": {"object": dict(session)}}

    def refundable(self, payment_intent: str) -> int:
        return self._payment_intents[payment_intent]

    # -- endpoints -------------------------------------------------------------------------

    async def _create_session(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._new_session)

    async def _create_refund(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._new_refund)

    async def _create_transfer(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._new_transfer)

    async def _list_refunds(self, request: web.Request) -> web.Response:
        return self._list(request, self.refunds, "payment_intent")

    async def _list_transfers(self, request: web.Request) -> web.Response:
        return self._list(request, self.transfers, "transfer_group")

    def _list(self, request: web.Request, objects: dict[str, dict[str, Any]], filter_key: str) -> web.Response:
        params = dict(request.query)
        self.calls.append(ReceivedCall(request.method, request.path, params, None))
        if request.headers.get("Authorization") != f"Bearer {self._secret_key}":
            return _error(401, ERROR_BODIES[401])
        if self.fail_with is not None:
            return _error(self.fail_with, ERROR_BODIES[self.fail_with])
        wanted = [obj for obj in objects.values() if obj.get(filter_key) == params.get(filter_key)]
        limit = int(params.get("limit", "10"))
        return web.json_response({"object": "list", "url": request.path, "has_more": len(wanted) > limit,
                                  "data": list(reversed(wanted))[:limit]})

    async def _answer(self, request: web.Request, create: Any) -> web.Response:
        params = {key: str(value) for key, value in (await request.post()).items()}
        key = request.headers.get("Idempotency-Key")
        self.calls.append(ReceivedCall(request.method, request.path, params, key))
        if request.headers.get("Authorization") != f"Bearer {self._secret_key}":
            return _error(401, ERROR_BODIES[401])
        if self.fail_with is not None:
            return _error(self.fail_with, ERROR_BODIES[self.fail_with])
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

    def _new_session(self, params: dict[str, str]) -> dict[str, Any]:
        session_id = f"cs_test_fake{next(self._ids)}"
        session = {
            "id": session_id, "object": "checkout.session", "mode": params["mode"],
            "url": f"{self.url}/pay/{session_id}", "status": "open", "payment_status": "unpaid",
            "currency": params["line_items[0][price_data][currency]"],
            "amount_total": int(params["line_items[0][price_data][unit_amount]"]),
            "client_reference_id": params.get("client_reference_id"), "payment_intent": None,
            "success_url": params["success_url"], "cancel_url": params["cancel_url"],
            "metadata": _nested(params, "metadata"),
        }
        self.sessions[session_id] = session
        return dict(session)

    def _new_refund(self, params: dict[str, str]) -> dict[str, Any]:
        intent, amount = params["payment_intent"], int(params["amount"])
        if intent not in self._payment_intents:
            return {"error": {"type": "invalid_request_error", "code": "resource_missing",
                              "message": f"No such payment_intent: '{intent}'"}}
        if amount > self._payment_intents[intent]:
            return {"error": {"type": "invalid_request_error", "code": "amount_too_large",
                              "message": "Refund amount is greater than the unrefunded amount."}}
        self._payment_intents[intent] -= amount
        refund = {"id": f"re_fake{next(self._ids)}", "object": "refund", "amount": amount, "currency": "eur",
                  "payment_intent": intent, "status": "succeeded", "metadata": _nested(params, "metadata")}
        self.refunds[refund["id"]] = refund
        return refund

    def _new_transfer(self, params: dict[str, str]) -> dict[str, Any]:
        if not params["destination"].startswith("acct_"):
            return {"error": {"type": "invalid_request_error", "code": "resource_missing",
                              "message": f"No such destination: '{params['destination']}'"}}
        transfer = {"id": f"tr_fake{next(self._ids)}", "object": "transfer", "amount": int(params["amount"]),
                    "currency": params["currency"], "destination": params["destination"],
                    "transfer_group": params.get("transfer_group"), "metadata": _nested(params, "metadata")}
        self.transfers[transfer["id"]] = transfer
        return transfer


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    """``metadata[key]=value`` form fields back into a dict."""
    prefix = f"{name}["
    return {key[len(prefix):-1]: value for key, value in sorted(params.items()) if key.startswith(prefix)}


def _error(status: int, body: dict[str, str]) -> web.Response:
    return web.json_response({"error": body}, status=status)
