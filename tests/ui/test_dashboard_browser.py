"""The operator dashboard in a real browser, over a real 2-validator devnet after a short festival day.

Headless Chromium (Debian's) opens node 0's ``/ui/``: private pages refuse an
anonymous visitor (the page asks for a token and the API answers 401), the
public health page shows the API's validators, an operator signs in and sees
the day's totals per place, asset, kind and till equal to ``GET /v1/totals``,
and a card look-up by printed number shows the API's balances and history.
Screenshots (phone and desktop) are saved under the test's folder, and into
``$DASHBOARD_SCREENSHOTS`` when set (how docs/dashboard.png is made).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from browser import DESKTOP, PHONE, chromium
from config import OfflineSection
from fedow_node.client import FedowClient
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 120
UI_TIMEOUT_MS = 30_000


def _get(home: NodeHome, path: str, token: str | None = None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(home.api_url + path, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def _wait_started(devnet: Devnet, homes: list[NodeHome]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    for home in homes:
        while True:
            assert not devnet.exited(), f"nodes exited: {devnet.exited()} (see node.log in {home.home.parent})"
            try:
                if _get(home, "/v1/status")["height"] >= 1:
                    break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            assert time.monotonic() < deadline, f"{home.api_url} committed no block within {START_TIMEOUT_S} s"
            time.sleep(0.2)


async def _short_day(homes: list[NodeHome], operator: str) -> dict[str, Any]:
    """Cards, refills, sales at both venues, a refund, and a till paired by code that sells once."""
    bar = FedowClient(homes[0].api_url, homes[0].pos_token, timeout_s=90)
    food = FedowClient(homes[1].api_url, homes[1].pos_token, timeout_s=90)
    admin = FedowClient(homes[0].api_url, operator)
    try:
        cards = [(bytes([0x04, 0xA1, 0, 0, 0, 0, n]), f"FEST000{n}", bytes([n]) * 16) for n in range(1, 4)]
        await _committed(bar, await bar.register_cards(cards))
        for uid, _number, _qr in cards:
            await _committed(bar, await bar.refill("FED", 5_000, uid=uid))
        await _committed(bar, await bar.refill("MLT", 1_000, uid=cards[0][0]))
        await _committed(bar, await bar.sale(cards[0][0], "FED", 450))
        await _committed(bar, await bar.sale(cards[0][0], "MLT", 300))
        await _committed(food, await food.sale(cards[1][0], "FED", 1_200))
        await _committed(bar, await bar.refund(cards[1][0], "FED", 200))
        code = (await admin.request("POST", "/v1/admin/pairing-codes", {"role": "pos", "label": "bar till 2"}))[1]
        async with FedowClient(homes[0].api_url) as setup_screen:  # the new till, before it has a token
            paired = await setup_screen.pair(code["code"])
        till = FedowClient(homes[0].api_url, paired["token"], timeout_s=90)
        try:
            await _committed(till, await till.sale(cards[2][0], "FED", 650))
        finally:
            await till.close()
        return {"cards": cards, "till": paired["id"]}
    finally:
        for client in (bar, food, admin):
            await client.close()


async def _committed(client: FedowClient, submission: Any) -> None:
    if not submission.committed:
        submission = await client.wait_committed(submission.txid, 90.0)
    assert submission.committed, submission


def _figures(page: Any, prefix: str) -> dict[str, int]:
    return page.eval_on_selector_all(
        f'[data-figure^="{prefix}"]', "els => Object.fromEntries(els.map(e => [e.dataset.figure, Number(e.dataset.value)]))")


def _shot(page: Any, folder: Path, name: str) -> Path:
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("DASHBOARD_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


def test_dashboard_shows_the_apis_figures_and_keeps_private_pages_private(tmp_path: Path) -> None:
    homes = prepare_devnet(tmp_path / "devnet", 2, free_ports(2), fed_melts=False,  # balances hold still
                           offline=OfflineSection(enabled=True, max_sale=1_500, no_quorum_after_ms=60_000))
    operator = homes[0].operator_token  # made by prepare_devnet, as for `fedow-node demo`
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with Devnet(homes) as devnet:
        devnet.start_all()
        _wait_started(devnet, homes)
        day = asyncio.run(_short_day(homes, operator))
        ui = f"{homes[0].api_url}/ui/"
        with chromium(tmp_path / "profile") as browser:
            page = browser.new_page()  # type: ignore[attr-defined]
            page.set_default_timeout(UI_TIMEOUT_MS)

            # An anonymous visitor: private pages ask for a token, the API refuses the data.
            for private in ("sales", "cards?q=FEST0001", "tokens"):
                page.goto(f"{ui}#/{private}")
                page.wait_for_selector("#login-form")
                assert page.locator('[data-figure^="row:"], [data-figure^="balance:"]').count() == 0
            assert page.evaluate("fetch('/v1/totals').then(r => r.status)") == 401
            assert page.evaluate("fetch('/v1/cards/by-number/FEST0001').then(r => r.status)") == 401

            # The link `fedow-node demo` prints signs in once and leaves the address bar.
            signed_in = browser.new_page()  # type: ignore[attr-defined]
            signed_in.goto(homes[0].dashboard_url)
            signed_in.wait_for_selector("#session:has-text('operator')")
            assert "token=" not in signed_in.url and signed_in.url.endswith("/ui/#/health")
            signed_in.close()

            # The public health page shows the API's chain and validators.
            page.goto(f"{ui}#/health")
            page.wait_for_selector('[data-figure="chain_id"]')
            assert page.inner_text('[data-figure="chain_id"]') == _get(homes[0], "/v1/status")["chain_id"]
            validators = _get(homes[0], "/v1/validators")["validators"]
            assert _figures(page, "validator:") == {
                **{f"validator:{v['place']}:stake": v["stake"] for v in validators},
                **{f"validator:{v['place']}:power": v["power"] for v in validators}}
            key_sets = _get(homes[0], "/v1/status")["key_sets"]
            assert _figures(page, "keyset:") == {f"keyset:{name}:threshold": ks["threshold"]
                                                 for name, ks in key_sets.items()}
            offline = _get(homes[0], "/v1/status")["offline"]   # the health panel's offline sales: the API's
            assert page.inner_text('[data-figure="offline"]') == "online" == offline["state"]
            assert _figures(page, "offline:") == {
                "offline:pending": offline["pending"], "offline:exposure": offline["exposure"],
                "offline:exposure_cap": offline["exposure_cap"], "offline:bond_locked": offline["bond"]["locked"],
                "offline:bond_unbonding": offline["bond"]["unbonding"], "offline:committed": offline["committed"],
                "offline:refused": offline["refused"], "offline:max_sale": 1_500,
                "offline:max_per_card": offline["limits"]["max_per_card"]}

            # The operator signs in: the day's figures are the API's, to the cent.
            page.goto(f"{ui}#/login?next=sales")
            page.fill("#token-input", operator)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector('[data-figure^="row:"]')
            shown_day = page.input_value("#sales-date")
            totals = _get(homes[0], f"/v1/totals?date={shown_day}", operator)
            expected = {}
            for row in totals["rows"]:
                expected[f"row:{row['place']}:{row['asset']}:{row['kind']}:count"] = row["count"]
                expected[f"row:{row['place']}:{row['asset']}:{row['kind']}:amount"] = row["amount"]
            assert _figures(page, "row:") == expected
            assert expected["row:venue-0:FED:sale:amount"] == 450 + 650
            assert expected["row:venue-1:FED:sale:amount"] == 1_200
            tills = {key: value for key, value in _figures(page, "till:").items() if key.endswith(":amount")}
            assert tills[f"till:{day['till']}:FED:sale:amount"] == 650
            assert tills == {f"till:{t['till']}:{t['asset']}:{t['kind']}:amount": t["amount"]
                             for t in totals["tills"] if t["till"]}
            hours = _figures(page, "hour:")
            assert sum(v for k, v in hours.items() if k.endswith(":sale")) == sum(
                r["amount"] for r in totals["rows"] if r["kind"] == "sale")
            _shot(page, shots, "dashboard-sales-desktop.png")
            page.set_viewport_size(PHONE)
            _shot(page, shots, "dashboard-sales-phone.png")

            # A card look-up by printed number: the API's balances and dated history.
            page.goto(f"{ui}#/cards")
            page.fill("#card-query", "FEST0001")
            page.click("#card-lookup")
            page.wait_for_selector('[data-figure="balance:FED"]')
            card = _get(homes[0], "/v1/cards/by-number/FEST0001", operator)
            assert _figures(page, "balance:") == {f"balance:{b['asset']}": b["amount"]
                                                  for b in card["paying_wallet"]["balances"]}
            assert _figures(page, "balance:")["balance:FED"] == 5_000 - 450
            history = _get(homes[0], f"/v1/wallets/{card['paying_wallet']['wallet']}/history?limit=20", operator)
            assert page.locator('[data-figure^="history:"]').count() == len(history["entries"]) == 4
            _shot(page, shots, "dashboard-card-phone.png")

            page.goto(f"{ui}#/cards?q=NOPE0000")
            assert "NOPE0000" in page.inner_text("#card-error")

            # The explorer lists the API's transactions; the directory shows the assets' supply.
            page.set_viewport_size(DESKTOP)
            page.goto(f"{ui}#/explorer?kind=sale")
            page.wait_for_selector('[data-figure^="tx:"]')
            sales = _get(homes[0], "/v1/txs?kind=sale&limit=20", operator)["entries"]
            shown = page.eval_on_selector_all('[data-figure^="tx:"]', "els => els.map(e => e.dataset.figure)")
            assert shown == [f"tx:{entry['txid']}" for entry in sales] and len(sales) == 4
            _shot(page, shots, "dashboard-explorer-desktop.png")
            page.goto(f"{ui}#/directory")
            page.wait_for_selector('[data-figure="asset:FED:held"]')
            fed = _get(homes[0], "/v1/assets/FED")  # FED does not melt here: stable between the reads
            assert _figures(page, "asset:FED:") == {"asset:FED:held": fed["supply"]["held"],
                                                    "asset:FED:pool:common": fed["pools"]["common"],
                                                    "asset:FED:pool:validators": fed["pools"]["validators"]}

            # Tokens: the paired till is listed under its label.
            page.goto(f"{ui}#/tokens")
            page.wait_for_selector(f'[data-revoke="{day["till"]}"]')
            assert "bar till 2" in page.inner_text("main")
            page.goto(f"{ui}#/health")
            page.wait_for_selector('[data-figure="chain_id"]')
            _shot(page, shots, "dashboard-health-desktop.png")
        devnet.stop_all()
    assert all(path.stat().st_size > 10_000 for path in shots.iterdir())
