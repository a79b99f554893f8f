"""First checks: the app starts, status answers, a sale is committed through a POS request."""

from __future__ import annotations

from api_solo_node import CHAIN
from api_world import World, card_uid, run_world


def test_status_and_a_sale(tmp_path):
    async def scenario(world: World) -> None:
        status = await world.client.status()
        assert status["chain_id"] == CHAIN and status["height"] == 0 and status["place"] == "bar"
        await world.register(1)
        await world.client.refill("FED", 1000, uid=card_uid(1))
        sale = await world.client.sale(card_uid(1), "FED", 250)
        assert sale.committed and sale.height == 3
        card = await world.client.card(card_uid(1))
        assert card["paying_wallet"]["balances"][0]["amount"] == 750
    run_world(tmp_path, scenario)
