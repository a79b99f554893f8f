"""A synthetic Fedow (v1.5.x) SQLite database, written from ../shared/notes/fedow-schema.md.

Our own CREATE TABLE statements with the columns an import reads (Django's app prefix
``fedow_core_``, UUIDs as 32 hex characters, datetimes as Django writes them on SQLite)
and invented rows: three places in one federation, a fourth outside it, one asset of
each category, anonymous and linked cards, primary cards, memberships, tokens whose
sums the import must reproduce to the cent. Nothing here comes from Fedow's code.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE fedow_core_wallet (uuid char(32) PRIMARY KEY, name varchar(100), public_pem text, private_pem text);
CREATE TABLE fedow_core_configuration (id integer PRIMARY KEY, name varchar(100), domain varchar(100),
    primary_wallet_id char(32) REFERENCES fedow_core_wallet (uuid));
CREATE TABLE fedow_core_place (uuid char(32) PRIMARY KEY, name varchar(100) UNIQUE, description text,
    wallet_id char(32) UNIQUE REFERENCES fedow_core_wallet (uuid), stripe_connect_account varchar(21),
    cashless_rsa_pub_key text, logo varchar(100), lespass_domain varchar(100));
CREATE TABLE fedow_core_fedowuser (uuid char(32) PRIMARY KEY, email varchar(254) UNIQUE,
    wallet_id char(32) UNIQUE REFERENCES fedow_core_wallet (uuid), stripe_customer_id varchar(21));
CREATE TABLE fedow_core_place_admins (id integer PRIMARY KEY, place_id char(32), fedowuser_id char(32));
CREATE TABLE fedow_core_asset (uuid char(32) PRIMARY KEY, name varchar(100), currency_code varchar(3),
    category varchar(3), wallet_origin_id char(32) REFERENCES fedow_core_wallet (uuid), archive bool,
    created_at datetime);
CREATE TABLE fedow_core_token (uuid char(32) PRIMARY KEY, value integer unsigned, asset_id char(32),
    wallet_id char(32));
CREATE TABLE fedow_core_federation (uuid char(32) PRIMARY KEY, name varchar(100), description text);
CREATE TABLE fedow_core_federation_places (id integer PRIMARY KEY, federation_id char(32), place_id char(32));
CREATE TABLE fedow_core_federation_assets (id integer PRIMARY KEY, federation_id char(32), asset_id char(32));
CREATE TABLE fedow_core_origin (id integer PRIMARY KEY, place_id char(32), generation integer);
CREATE TABLE fedow_core_card (uuid char(32) PRIMARY KEY, first_tag_id varchar(8) UNIQUE,
    complete_tag_id_uuid char(32), qrcode_uuid char(32), number_printed varchar(8) UNIQUE,
    origin_id integer, user_id char(32), wallet_ephemere_id char(32));
CREATE TABLE fedow_core_card_primary_places (id integer PRIMARY KEY, card_id char(32), place_id char(32));
CREATE TABLE fedow_core_checkoutstripe (uuid char(32) PRIMARY KEY, checkout_session_id_stripe varchar(80),
    intent_payment_id_stripe varchar(80), status varchar(1), asset_id char(32), user_id char(32));
CREATE TABLE fedow_core_transaction (uuid char(32) PRIMARY KEY, hash varchar(64), previous_transaction_id char(32),
    datetime datetime, action varchar(3), amount integer, sender_id char(32), receiver_id char(32),
    asset_id char(32), card_id char(32), primary_card_id char(32), checkout_stripe_id char(32),
    subscription_type varchar(2), subscription_start_datetime datetime, comment text, metadata text);
"""

CATEGORIES = ("FED", "TLF", "TNF", "TIM", "FID", "BDG", "SUB")


@dataclass
class FedowDb:
    """Builds the database row by row; ids are returned so a test can refer to (or break) any row.

    UUIDs are counted, not random: the same fixture always makes the same database (and genesis).
    """

    path: Path
    db: sqlite3.Connection = field(init=False)
    issued: int = 0

    def __post_init__(self) -> None:
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

    def new_id(self) -> str:
        self.issued += 1
        return uuid.UUID(int=(0xFED0 << 112) + self.issued).hex

    def insert(self, table: str, **columns: object) -> None:
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        self.db.execute(f"INSERT INTO fedow_core_{table} ({names}) VALUES ({marks})", tuple(columns.values()))

    def wallet(self, name: str | None = None) -> str:
        wallet_id = self.new_id()
        self.insert("wallet", uuid=wallet_id, name=name, public_pem="-----BEGIN PUBLIC KEY-----\nsynthetic\n",
                    private_pem=None)
        return wallet_id

    def place(self, name: str) -> tuple[str, str]:
        place_id, wallet_id = self.new_id(), self.wallet()
        self.insert("place", uuid=place_id, name=name, description="", wallet_id=wallet_id,
                    stripe_connect_account="acct_synthetic", cashless_rsa_pub_key="synthetic", logo="",
                    lespass_domain=f"{name.lower().replace(' ', '')}.example.org")
        return place_id, wallet_id

    def asset(self, name: str, code: str, category: str, origin_wallet: str, archive: bool = False) -> str:
        asset_id = self.new_id()
        self.insert("asset", uuid=asset_id, name=name, currency_code=code, category=category,
                    wallet_origin_id=origin_wallet, archive=archive, created_at="2024-03-01 10:00:00.000000")
        return asset_id

    def token(self, wallet_id: str, asset_id: str, value: int) -> str:
        token_id = self.new_id()
        self.insert("token", uuid=token_id, value=value, asset_id=asset_id, wallet_id=wallet_id)
        return token_id

    def user(self, email: str) -> tuple[str, str]:
        user_id, wallet_id = self.new_id(), self.wallet()
        self.insert("fedowuser", uuid=user_id, email=email, wallet_id=wallet_id, stripe_customer_id=None)
        return user_id, wallet_id

    def origin(self, place_id: str, generation: int = 1) -> int:
        cursor = self.db.execute("INSERT INTO fedow_core_origin (place_id, generation) VALUES (?, ?)",
                                 (place_id, generation))
        return int(cursor.lastrowid or 0)

    def card(self, tag: str, number: str, origin: int, user_id: str | None = None,
             primary_places: tuple[str, ...] = ()) -> tuple[str, str | None]:
        card_id = self.new_id()
        ephemeral = None if user_id else self.wallet()
        self.insert("card", uuid=card_id, first_tag_id=tag, complete_tag_id_uuid=self.new_id(), qrcode_uuid=self.new_id(),
                    number_printed=number, origin_id=origin, user_id=user_id, wallet_ephemere_id=ephemeral)
        for place_id in primary_places:
            self.insert("card_primary_places", card_id=card_id, place_id=place_id)
        return card_id, ephemeral

    def transaction(self, action: str, sender: str, receiver: str, asset_id: str, amount: int, when: str,
                    subscription_type: str = "NO", subscription_start: str | None = None) -> str:
        tx_id = self.new_id()
        self.insert("transaction", uuid=tx_id, hash=self.new_id() + self.new_id(), previous_transaction_id=None,
                    datetime=when, action=action, amount=amount, sender_id=sender, receiver_id=receiver,
                    asset_id=asset_id, card_id=None, primary_card_id=None, checkout_stripe_id=None,
                    subscription_type=subscription_type, subscription_start_datetime=subscription_start,
                    comment="", metadata="{}")
        return tx_id

    def close(self) -> None:
        self.db.commit()
        self.db.close()


@dataclass(frozen=True)
class Fixture:
    """The standard database and what the import must find in it."""

    path: Path
    ids: dict[str, str]
    """Named rows (places, assets, cards, tokens...) for tests that change one."""
    sums: dict[str, int]
    """Per Fedow asset name: the sum of its tokens, in cents."""


def build_fixture(path: Path) -> Fixture:
    fedow = FedowDb(path)
    ids: dict[str, str] = {}
    primary = fedow.wallet("Primary Wallet")
    fedow.insert("configuration", id=1, name="Festival des Possibles", domain="fedow.example.org",
                 primary_wallet_id=primary)
    for key, name in (("bar", "Bar du Coin"), ("cafe", "Café Culturel"), ("scene", "La Scène"),
                      ("ferme", "Ferme Solidaire")):
        ids[key], ids[f"{key}_wallet"] = fedow.place(name)
    fed = ids["FED"] = fedow.asset("Euro fédéré", "FED", "FED", primary)
    ids["TLF"] = fedow.asset("Monnaie locale", "MLC", "TLF", ids["bar_wallet"])
    ids["TNF"] = fedow.asset("Bon repas", "BRP", "TNF", ids["cafe_wallet"])
    ids["TIM"] = fedow.asset("Heures bénévoles", "HEU", "TIM", ids["scene_wallet"])
    ids["FID"] = fedow.asset("Points fidélité", "PTS", "FID", ids["bar_wallet"])
    ids["BDG"] = fedow.asset("Badgeuse", "BDG", "BDG", ids["scene_wallet"])
    ids["SUB"] = fedow.asset("Adhésion", "ADH", "SUB", ids["cafe_wallet"])
    ids["old"] = fedow.asset("Ancienne monnaie", "ANC", "TLF", ids["ferme_wallet"], archive=True)
    ids["federation"] = federation = fedow.new_id()
    fedow.insert("federation", uuid=federation, name="Festival", description="three venues")
    for key in ("bar", "cafe", "scene"):
        fedow.insert("federation_places", federation_id=federation, place_id=ids[key])
    for key in ("FED", "TLF", "SUB", "BDG"):
        fedow.insert("federation_assets", federation_id=federation, asset_id=ids[key])
    fedow.insert("place_admins", place_id=ids["bar"], fedowuser_id=fedow.new_id())

    origin_bar, origin_cafe = fedow.origin(ids["bar"]), fedow.origin(ids["cafe"])
    ids["alice"], ids["alice_wallet"] = fedow.user("alice@example.org")
    ids["bob"], ids["bob_wallet"] = fedow.user("bob@example.org")
    ids["card_anon1"], ids["card_anon1_wallet"] = fedow.card("04A1B2C3", "A1B2C3D4", origin_bar)
    ids["card_anon2"], ids["card_anon2_wallet"] = fedow.card("04d5e6f7", "E5F6A7B8", origin_cafe)
    ids["card_alice"], _ = fedow.card("1A2B3C4D", "C1D2E3F4", origin_bar, user_id=ids["alice"])
    ids["card_alice2"], _ = fedow.card("5E6F7A8B", "G5H6J7K8", origin_cafe, user_id=ids["alice"])
    ids["card_bob"], _ = fedow.card("9C0D1E2F", "L9M0N1P2", origin_cafe, user_id=ids["bob"])
    ids["card_operator"], ids["card_operator_wallet"] = fedow.card("33445566", "OPER0001", origin_bar,
                                                                    primary_places=(ids["bar"], ids["cafe"]))

    sums: dict[str, int] = {}

    def token(key: str, wallet: str, asset: str, value: int) -> None:
        ids[key] = fedow.token(wallet, ids[asset], value)
        sums[asset] = sums.get(asset, 0) + value

    token("t_anon1_fed", ids["card_anon1_wallet"], "FED", 4_550)
    token("t_anon1_tlf", ids["card_anon1_wallet"], "TLF", 1_200)
    token("t_anon2_fed", ids["card_anon2_wallet"], "FED", 1_001)
    token("t_anon2_zero", ids["card_anon2_wallet"], "TNF", 0)           # an empty token: nothing to carry
    token("t_alice_fed", ids["alice_wallet"], "FED", 12_345)
    token("t_alice_tim", ids["alice_wallet"], "TIM", 300)
    token("t_alice_fid", ids["alice_wallet"], "FID", 75)
    token("t_bob_fed", ids["bob_wallet"], "FED", 99)
    token("t_bob_tnf", ids["bob_wallet"], "TNF", 2_500)
    token("t_bar_fed", ids["bar_wallet"], "FED", 38_010)                # sales received by the bar
    token("t_cafe_fed", ids["cafe_wallet"], "FED", 7_020)
    token("t_bar_tlf", ids["bar_wallet"], "TLF", 800)
    token("t_primary_fed", primary, "FED", 0)                           # back to zero after the refills
    token("t_ferme_old", ids["ferme_wallet"], "old", 650)               # an archived asset still held
    token("t_alice_sub", ids["alice_wallet"], "SUB", 2_000)             # what the membership cost
    token("t_anon1_bdg", ids["card_anon1_wallet"], "BDG", 0)

    fedow.transaction("FST", primary, primary, fed, 0, "2024-03-01 10:00:00.000000")
    fedow.transaction("CRE", primary, primary, fed, 5_000, "2024-04-02 18:00:00.000000")
    fedow.transaction("REF", primary, ids["card_anon1_wallet"], fed, 5_000, "2024-04-02 18:00:01.000000")
    fedow.transaction("SAL", ids["card_anon1_wallet"], ids["bar_wallet"], fed, 450, "2024-04-02 19:30:00.000000")
    ids["sub_alice_old"] = fedow.transaction("SUB", ids["cafe_wallet"], ids["alice_wallet"], ids["SUB"], 2_000,
                                             "2024-01-10 09:00:00.000000", "Y", "2024-01-10 09:00:00.000000")
    ids["sub_alice"] = fedow.transaction("SUB", ids["cafe_wallet"], ids["alice_wallet"], ids["SUB"], 2_000,
                                         "2025-01-15 09:00:00.000000", "Y", "2025-01-15 09:00:00.000000")
    ids["sub_anon2"] = fedow.transaction("SUB", ids["cafe_wallet"], ids["card_anon2_wallet"], ids["SUB"], 0,
                                         "2025-03-31 12:00:00.000000", "M", "2025-03-31 12:00:00.000000")
    fedow.transaction("BDG", ids["card_anon1_wallet"], ids["scene_wallet"], ids["BDG"], 0,
                      "2024-04-03 08:00:00.000000")
    fedow.close()
    return Fixture(path, ids, sums)
