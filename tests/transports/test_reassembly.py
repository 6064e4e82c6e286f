"""Multipart reassembly: any order, duplicates, timeouts (partial, never lost), limits."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from textport.transports.reassembly import Assembled, Part, Reassembler

T0 = 1_790_000_000_000


def split(sender: str, text: str, reference: int, total: int, tag: str) -> list[Part[str]]:
    size = -(-len(text) // total) if text else 1
    chunks = [text[i * size : (i + 1) * size] for i in range(total)]
    return [
        Part(sender, chunk, T0 + number, f"{tag}{number}", reference, total, number)
        for number, chunk in enumerate(chunks, 1)
    ]


texts = st.lists(
    st.tuples(
        st.sampled_from(["+15550100", "+15550101"]),
        st.text(min_size=1, max_size=40),
        st.integers(1, 6),
    ),
    min_size=1,
    max_size=8,
)


@given(texts, st.randoms(use_true_random=False), st.integers(0, 3))
@settings(max_examples=300, deadline=None)
def test_any_order_with_duplicates_gives_each_text_once_and_whole(
    spec: list[tuple[str, str, int]], rng: random.Random, copies: int
) -> None:
    parts: list[Part[str]] = []
    for index, (sender, text, total) in enumerate(spec):
        parts += split(sender, text, index, total, f"t{index}.")
    stream = parts + [rng.choice(parts) for _ in range(copies * len(parts) // 2)]
    rng.shuffle(stream)
    box: Reassembler[str] = Reassembler(timeout_ms=60_000)
    out: list[Assembled[str]] = []
    for part in stream:
        out += box.add(part, T0)
    assert box.waiting == 0
    assert len(out) == len(spec)
    got = {(a.sender, a.text) for a in out}
    assert all(not a.partial for a in out)
    for index, (sender, text, total) in enumerate(spec):
        whole = "".join(p.text for p in split(sender, text, index, total, ""))
        assert (sender, whole) in got
    handles = [h for a in out for h in a.handles]
    assert sorted(handles) == sorted(p.handle for p in parts), "every part, once"


@given(texts, st.randoms(use_true_random=False), st.data())
@settings(max_examples=300, deadline=None)
def test_lost_parts_time_out_as_partial_and_nothing_else_is_lost(
    spec: list[tuple[str, str, int]], rng: random.Random, data: st.DataObject
) -> None:
    parts: list[Part[str]] = []
    for index, (sender, text, total) in enumerate(spec):
        parts += split(sender, text, index, total, f"t{index}.")
    kept = [p for p in parts if p.total == 1 or data.draw(st.booleans())]
    rng.shuffle(kept)
    box: Reassembler[str] = Reassembler(timeout_ms=60_000)
    out: list[Assembled[str]] = []
    for part in kept:
        out += box.add(part, T0)
    assert box.expire(T0 + 59_999) == []
    deadline = box.next_deadline_ms()
    assert deadline is None or deadline == T0 + 60_000
    out += box.expire(T0 + 60_000)
    assert box.waiting == 0
    assert sorted(h for a in out for h in a.handles) == sorted(p.handle for p in kept)
    for assembled in out:
        got = {int(h.split(".")[1]) for h in assembled.handles}
        assert set(assembled.missing) == set(range(1, assembled.total + 1)) - got
        assert assembled.partial == bool(assembled.missing)


def test_partial_text_keeps_what_came_in_order() -> None:
    parts = split("+15550100", "aaabbbccc", 7, 3, "x")
    box: Reassembler[str] = Reassembler(timeout_ms=1000)
    assert box.add(parts[2], T0) == []
    assert box.add(parts[0], T0 + 10) == []
    (partial,) = box.expire(T0 + 1000)
    assert (partial.text, partial.missing, partial.total) == ("aaaccc", (2,), 3)
    assert partial.handles == ("x1", "x3")
    assert partial.at_ms == T0 + 1


def test_a_reused_reference_hands_over_the_first_text_and_starts_again() -> None:
    first = split("+15550100", "aaabbb", 9, 2, "a")
    second = split("+15550100", "cccddd", 9, 2, "b")
    box: Reassembler[str] = Reassembler()
    assert box.add(first[0], T0) == []
    (pushed,) = box.add(second[0], T0)
    assert (pushed.text, pushed.missing) == ("aaa", (2,))
    (whole,) = box.add(second[1], T0)
    assert (whole.text, whole.missing) == ("cccddd", ())


def test_same_part_stored_twice_is_deleted_twice() -> None:
    part = split("+15550100", "aaabbb", 1, 2, "a")
    copy = Part(part[0].sender, part[0].text, part[0].at_ms, "copy", 1, 2, 1)
    box: Reassembler[str] = Reassembler()
    assert box.add(part[0], T0) == []
    assert box.add(copy, T0) == []
    assert box.add(part[0], T0) == [], "the same copy read again changes nothing"
    (whole,) = box.add(part[1], T0)
    assert whole.text == "aaabbb"
    assert whole.handles == ("a1", "copy", "a2")


def test_too_many_waiting_texts_push_out_the_oldest() -> None:
    box: Reassembler[str] = Reassembler(max_groups=2)
    for ref in range(2):
        assert box.add(split("+15550100", "aabb", ref, 2, f"r{ref}.")[0], T0 + ref) == []
    (pushed,) = box.add(split("+15550100", "aabb", 5, 2, "r5.")[0], T0 + 5)
    assert pushed.handles == ("r0.1",)
    assert box.waiting == 2


def test_single_and_malformed_parts_are_texts_of_their_own() -> None:
    box: Reassembler[str] = Reassembler()
    (one,) = box.add(Part("+15550100", "hi", T0, "h"), T0)
    assert (one.text, one.partial, one.total) == ("hi", False, 1)
    assert box.add(Part("+15550100", "hi", T0, "h"), T0) == [], "not deleted yet"
    box.forget(("h",))
    assert len(box.add(Part("+15550100", "hi", T0, "h"), T0)) == 1
    (odd,) = box.add(Part("+15550100", "x", T0, "o", reference=1, total=2, number=3), T0)
    assert odd.text == "x"
    assert box.waiting == 0


def test_forgotten_handles_are_taken_again() -> None:
    box: Reassembler[str] = Reassembler()
    part = split("+15550100", "aabb", 1, 2, "a")[0]
    box.add(part, T0)
    (partial,) = box.expire(T0 + 10**9)
    assert box.add(part, T0) == [], "read again before its delete: not a new text"
    box.forget(partial.handles)
    box.expire(T0 + 2 * 10**9)
    assert box.add(part, T0) == []
    assert box.waiting == 1
