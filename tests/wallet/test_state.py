"""Overlays: nested changes, dropping a child, merged sorted scans, record caching."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from wallet.codec import pack
from wallet.records import Amount
from wallet.state import DictReader, Overlay


def test_child_commit_and_drop() -> None:
    base = DictReader({b"a": pack([1]), b"b": pack([2])})
    root = Overlay(base)
    kept = root.child()
    kept.put(b"c", Amount(3))
    kept.delete(b"a")
    kept.commit()
    dropped = root.child()
    dropped.put(b"d", Amount(4))
    dropped.delete(b"b")
    assert root.changes() == {b"a": None, b"c": pack([3])}
    assert root.record(b"b", Amount) == Amount(2)
    assert base.get(b"a") == pack([1])


def test_records_are_decoded_once_per_root() -> None:
    class CountingReader(DictReader):
        reads = 0

        def get(self, key: bytes) -> bytes | None:
            CountingReader.reads += 1
            return super().get(key)

    root = Overlay(CountingReader({b"k": pack([7])}))
    for _ in range(3):
        assert root.child().record(b"k", Amount) == Amount(7)
    assert CountingReader.reads == 1


keys = st.binary(min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, st.integers(0, 9)), st.lists(st.tuples(keys, st.one_of(st.none(), st.integers(0, 9)))),
       st.lists(st.tuples(keys, st.one_of(st.none(), st.integers(0, 9)))), st.binary(max_size=1))
def test_iter_prefix_equals_a_plain_merge(base: dict[bytes, int], first: list[tuple[bytes, int | None]],
                                          second: list[tuple[bytes, int | None]], prefix: bytes) -> None:
    expected = {key: pack([value]) for key, value in base.items()}
    root = Overlay(DictReader(expected))
    for layer, writes in ((root, first), (root.child(), second)):
        for key, value in writes:
            if value is None:
                layer.delete(key)
                expected.pop(key, None)
            else:
                layer.put(key, Amount(value))
                expected[key] = pack([value])
            # scans between writes: the sorted-keys cache must follow every new key
            assert list(layer.iter_prefix(prefix)) == sorted((k, v) for k, v in expected.items()
                                                             if k.startswith(prefix))
        if layer is not root:
            layer.commit()
    committed = DictReader({key: pack([value]) for key, value in base.items()})
    committed.apply(root.changes())
    assert committed.snapshot() == dict(sorted(expected.items()))


def test_record_cache_survives_blocks_and_forgets_changed_keys() -> None:
    from wallet.state import RecordCache
    reader = DictReader({b"a": pack([1]), b"b": pack([2])})
    cache = RecordCache()
    first = Overlay(reader, cache)
    assert first.record(b"a", Amount) == Amount(1) and first.record(b"b", Amount) == Amount(2)
    first.put(b"a", Amount(5))
    changes = first.changes()
    reader.apply(changes)
    cache.forget(changes)
    second = Overlay(reader, cache)
    assert second.record(b"a", Amount) == Amount(5)      # re-read after the change
    assert cache.entries[b"b"] == Amount(2)               # unchanged key stays decoded
