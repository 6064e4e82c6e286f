"""Concatenated SMS put back together, without I/O.

Parts are grouped by (sender, reference, total). A group is handed over as soon as
every part is in; a group still missing parts after ``timeout_ms`` (counted from its
first part) is handed over anyway, marked with the parts it lacks, so that a lost part
never loses the rest of the text. Parts may come in any order and more than once: the
same stored copy read again changes nothing until the transport says it deleted it
(:meth:`Reassembler.forget`); another copy of a part (a network duplicate) adds its
handle, so the transport deletes every copy once the text is stored.

Each part carries a ``handle``: whatever the transport needs to delete it from the
device afterwards (a Gammu location, a ModemManager object path). Handles come back with
the assembled text, in part order.

Limits: at most ``max_groups`` groups wait at once (the oldest is handed over early,
partial, when a new one would exceed it); a part numbered outside 1..total is a text of
its own.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

H = TypeVar("H", bound=Hashable)

DEFAULT_TIMEOUT_MS: Final = 3_600_000
"""An hour: parts of one text usually arrive within seconds, on a bad day minutes."""
MAX_GROUPS: Final = 1000


@dataclass(frozen=True)
class Part(Generic[H]):
    """One received SMS. ``total`` 1 is a text on its own (no concatenation header)."""

    sender: str
    text: str
    at_ms: int
    """When it was sent (the service centre's time stamp), or received if unknown."""
    handle: H
    reference: int = 0
    total: int = 1
    number: int = 1


@dataclass(frozen=True)
class Assembled(Generic[H]):
    """A whole text, or as much of it as came before the timeout."""

    sender: str
    text: str
    at_ms: int
    """The earliest part's time."""
    handles: tuple[H, ...]
    """Every part's handle, duplicates included, in part order."""
    total: int = 1
    missing: tuple[int, ...] = ()
    """The numbers of the parts that never came; empty when the text is complete."""

    @property
    def partial(self) -> bool:
        return bool(self.missing)


GroupKey = tuple[str, int, int]


@dataclass
class _Group(Generic[H]):
    first_seen_ms: int
    texts: dict[int, str] = field(default_factory=dict)
    at_ms: dict[int, int] = field(default_factory=dict)
    handles: dict[int, list[H]] = field(default_factory=dict)


class Reassembler(Generic[H]):
    def __init__(self, timeout_ms: int = DEFAULT_TIMEOUT_MS, max_groups: int = MAX_GROUPS) -> None:
        if timeout_ms < 0 or max_groups < 1:
            raise ValueError("the timeout is at least 0 and at least one group may wait")
        self._timeout_ms = timeout_ms
        self._max_groups = max_groups
        self._groups: dict[GroupKey, _Group[H]] = {}
        self._known: set[H] = set()

    @property
    def waiting(self) -> int:
        """How many texts wait for parts."""
        return len(self._groups)

    def add(self, part: Part[H], now_ms: int) -> list[Assembled[H]]:
        """Take one part; return the texts it completes (or pushes out), usually 0 or 1."""
        if part.handle in self._known:
            return []  # the same copy read again (until the transport deleted it)
        if part.total <= 1 or not 1 <= part.number <= part.total:
            self._known.add(part.handle)
            return [Assembled(part.sender, part.text, part.at_ms, (part.handle,))]
        key = (part.sender, part.reference, part.total)
        out: list[Assembled[H]] = []
        group = self._groups.get(key)
        if group is not None and group.texts.get(part.number, part.text) != part.text:
            # Another text reusing the reference (8-bit references wrap): the first one
            # will not get this part; hand over what it has and start again.
            out.append(self._flush(key))
            group = None
        if group is None:
            if len(self._groups) >= self._max_groups:
                out.append(self._flush(min(self._groups, key=self._age)))
            group = self._groups[key] = _Group(first_seen_ms=now_ms)
        self._known.add(part.handle)
        group.texts.setdefault(part.number, part.text)
        group.at_ms[part.number] = min(part.at_ms, group.at_ms.get(part.number, part.at_ms))
        group.handles.setdefault(part.number, []).append(part.handle)
        if len(group.texts) == part.total:
            out.append(self._flush(key))
        return out

    def expire(self, now_ms: int) -> list[Assembled[H]]:
        """Hand over, partial, every group that waited ``timeout_ms`` or longer."""
        due = [
            key
            for key, group in self._groups.items()
            if now_ms - group.first_seen_ms >= self._timeout_ms
        ]
        return [self._flush(key) for key in sorted(due, key=self._age)]

    def next_deadline_ms(self) -> int | None:
        """When :meth:`expire` will next hand something over, if anything waits."""
        if not self._groups:
            return None
        return min(group.first_seen_ms for group in self._groups.values()) + self._timeout_ms

    def forget(self, handles: tuple[H, ...]) -> None:
        """The transport deleted these parts from the device: a handle may be reused."""
        self._known.difference_update(handles)

    def _age(self, key: GroupKey) -> tuple[int, GroupKey]:
        return (self._groups[key].first_seen_ms, key)

    def _flush(self, key: GroupKey) -> Assembled[H]:
        group = self._groups.pop(key)
        sender, _reference, total = key
        numbers = sorted(group.texts)
        return Assembled(
            sender,
            "".join(group.texts[number] for number in numbers),
            min(group.at_ms.values()),
            tuple(handle for number in numbers for handle in group.handles[number]),
            total,
            tuple(number for number in range(1, total + 1) if number not in group.texts),
        )
