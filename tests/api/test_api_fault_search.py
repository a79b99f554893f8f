"""find_fault: the fatal fault inside whatever trio and aiohttp wrap it in, even through a looping chain."""

from __future__ import annotations

from fedow_node.api.answers import find_fault


class Fatal(Exception):
    pass


def test_a_fault_is_found_in_groups_and_through_causes() -> None:
    fatal = Fatal("corrupt store")
    wrapped = RuntimeError("request failed")
    wrapped.__cause__ = fatal
    group = BaseExceptionGroup("nursery", [ValueError("other"), ExceptionGroup("inner", [wrapped])])
    assert find_fault(group, (Fatal,)) is fatal
    assert find_fault(ValueError("nothing"), (Fatal,)) is None


def test_a_context_chain_that_loops_ends_the_search() -> None:
    first, second = KeyError("a"), OSError("b")
    first.__context__, second.__context__ = second, first  # raised while handling each other
    assert find_fault(first, (Fatal,)) is None
    assert find_fault(first, (OSError,)) is second


def test_the_first_member_of_a_group_wins() -> None:
    one, two = Fatal("one"), Fatal("two")
    assert find_fault(ExceptionGroup("g", [one, two]), (Fatal,)) is one
