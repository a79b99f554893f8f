"""The package's public surface: every name in ``__all__`` exists, and every kind has a rule."""

import wallet
from wallet.bodies import BODY_TYPES
from wallet.rules import RULES


def test_all_names_exist() -> None:
    for name in wallet.__all__:
        assert hasattr(wallet, name), name


def test_every_kind_has_a_body_and_a_rule() -> None:
    assert sorted(BODY_TYPES) == sorted(RULES)
