"""Who and what the chain knows: places, assets (with supply), federations, validators and stakes.

These lists are governance-sized (tens to hundreds of entries), so they are
returned whole, in id order.
"""

from __future__ import annotations

from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.context import context, json_response
from fedow_node.api.errors import ApiError
from fedow_node.api.routes import Route
from fedow_node.api.views import place_view, record_view, validator_view
from wallet import queries, validator_set
from wallet.records import Asset
from wallet.state import StateReader

__all__ = ["ROUTES"]

PLACE_SCHEMA = s.shape({
    "id": s.PLACE_ID, "name": s.TEXT, "wallet": s.HEX32, "public_key": s.HEX32, "address": s.TEXT,
    "archived": s.BOOLEAN, "federations": s.list_of(s.PLACE_ID)})
ASSET_SCHEMA = s.shape({
    "id": s.ASSET_ID, "name": s.TEXT,
    "category": {"type": "string", "enum": ["FED", "TLF", "TNF", "TIM", "FID", "BDG", "SUB"]},
    "origin_place": s.NULLABLE_TEXT, "melting": s.BOOLEAN, "archived": s.BOOLEAN,
    "supply": s.shape({"minted": s.INT, "burnt": s.INT, "held": s.INT}),
    "pools": s.shape({"common": s.INT, "dev": s.INT, "validators": s.INT},
                     required=("common", "dev", "validators"))})
FEDERATION_SCHEMA = s.shape({"id": s.PLACE_ID, "name": s.TEXT, "places": s.list_of(s.PLACE_ID),
                             "assets": s.list_of(s.ASSET_ID)})
VALIDATOR_SCHEMA = s.shape({
    "public_key": s.HEX32, "address": s.TEXT, "place": s.PLACE_ID, "stake": s.INT, "unbonding": s.INT,
    "jailed": s.BOOLEAN, "active": s.BOOLEAN,
    "power": {"type": "integer", "description": "voting power for the next block (0: does not vote)"}})


def _list_of(item: s.Schema, key: str) -> s.Schema:
    return s.shape({key: s.list_of(item)}, required=(key,))


def _asset_view(reader: StateReader, asset: Asset) -> dict[str, object]:
    supply = queries.supply(reader, asset.id)
    return {**record_view(asset), "supply": None if supply is None else record_view(supply),
            "pools": queries.pools(reader, asset.id)}


async def list_places(request: web.Request) -> web.Response:
    return json_response({"places": [place_view(place) for place in queries.places(context(request).node.reader)]})


async def get_place(request: web.Request) -> web.Response:
    place_id = ids.place_id(request.match_info["place_id"], "place_id")
    place = queries.place(context(request).node.reader, place_id)
    if place is None:
        raise ApiError("unknown_place", f"place {place_id[:60]!r} does not exist")
    return json_response(place_view(place))


async def list_assets(request: web.Request) -> web.Response:
    reader = context(request).node.reader
    return json_response({"assets": [_asset_view(reader, asset) for asset in queries.assets(reader)]})


async def get_asset(request: web.Request) -> web.Response:
    reader = context(request).node.reader
    asset_id = ids.asset_id(request.match_info["asset_id"], "asset_id")
    asset = queries.asset(reader, asset_id)
    if asset is None:
        raise ApiError("unknown_asset", f"asset {asset_id[:40]!r} does not exist")
    return json_response(_asset_view(reader, asset))


async def list_federations(request: web.Request) -> web.Response:
    reader = context(request).node.reader
    return json_response({"federations": [record_view(item) for item in queries.federations(reader)]})


async def list_validators(request: web.Request) -> web.Response:
    committed = context(request).node.reader  # one snapshot: the height and its set agree
    powers = dict(validator_set(committed, committed.height + 1))
    validators = queries.validators(committed)
    return json_response({
        "validators": [validator_view(item, powers.get(item.public_key, 0)) for item in validators],
        "total_stake": sum(item.stake for item in validators),
        "total_power": sum(powers.values()),
        "fed_backing": record_view(queries.fed_backing(committed)),
    })


ROUTES = (
    Route("GET", "/v1/places", list_places, "Every place (venue)", "directory",
          response=_list_of(PLACE_SCHEMA, "places")),
    Route("GET", "/v1/places/{place_id}", get_place, "One place", "directory", response=PLACE_SCHEMA,
          errors=(404,)),
    Route("GET", "/v1/assets", list_assets, "Every asset, with its supply", "directory",
          response=_list_of(ASSET_SCHEMA, "assets")),
    Route("GET", "/v1/assets/{asset_id}", get_asset, "One asset, with its supply", "directory",
          response=ASSET_SCHEMA, errors=(404,)),
    Route("GET", "/v1/federations", list_federations, "Every federation: its places and shared assets",
          "directory", response=_list_of(FEDERATION_SCHEMA, "federations")),
    Route("GET", "/v1/validators", list_validators, "Validators, stakes and voting power", "directory",
          response=_list_of(VALIDATOR_SCHEMA, "validators")),
)
