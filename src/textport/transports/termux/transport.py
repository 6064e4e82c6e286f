"""``termux``: the Android phone textport runs on, through Termux:API.

textport runs in Termux on the phone; the Termux:API app reads and sends its SMS, and
its two commands are all this transport calls: ``termux-sms-list`` and
``termux-sms-send``. Every call is a subprocess with a timeout (Termux:API hangs when
its app is missing, or on some Android 14 phones), in its own process group, killed
whole when it overruns.

- **Receiving** polls, because Termux:API has no incoming event (its app holds
  ``READ_SMS`` and ``SEND_SMS`` but no ``RECEIVE_SMS``). Each round pages the inbox
  newest first, ``termux-sms-list -t inbox -l LIMIT -o OFFSET`` (Android sorts by
  ``date DESC``, then applies offset and limit; Termux:API prints each page oldest
  first, so the order is ours to restore), on while a page holds a new text, and hands
  what is new over oldest first. Only the flags that both the old and the 2025 script
  take are used, so either works.
- **What was handed over is remembered, because nothing is deleted.** The phone's inbox
  is the user's own messaging history (their SMS app keeps showing it), so the
  commit-then-delete order of :class:`~textport.transports.inbox.Inbox` does not apply.
  A high-water mark alone would not do either: pages are ordered by date, not ``_id``,
  and an ``_id`` is reused when the newest row is deleted. So each text has a key, the
  provider's ``_id`` plus a digest of its address, date and body, and
  ``termux-seen.json`` in the host's data folder keeps the keys handed over (the newest
  ``MAX_SEEN``; written atomically after each round and every :data:`SAVE_EVERY` texts)
  and the **floor**, the largest ``_id`` in the inbox at the first start: a text
  is new when its key is unknown and its ``_id`` is over the floor. A restart, even
  after a long stop, pages back to exactly where the last round ended, so nothing is
  missed. The key is also the text's ``source_id``, so a crash after the store's
  commit and before the file's write hands a text over again and the store keeps it
  once: nothing is stored twice. At the first start (no file) the newest ``backfill``
  texts are taken and the rest of the inbox is left to ``textport import``. A text
  dated before the newest ``list_limit`` texts already taken (a clock set back) can be
  missed: no page with news leads to it.
- **Sending** is ``termux-sms-send -n NUMBER[,NUMBER…] [-s SLOT]`` with the body on
  stdin (as an argument it would show in the phone's process list, and the script pipes
  it to the app anyway). Android splits it; Termux:API trims it and passes no sent or
  delivery intents, so it reports nothing: a text that left is ``sent`` and stays so.
- **Errors**: a missing command, a permission not granted or a command that hangs are
  transient (fixed on the phone, then retried). A send that timed out is permanent:
  the app may have sent it, and a retry could send it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from textport import numbers
from textport.errors import ConfigError, TransportError
from textport.transports import gsm
from textport.transports.base import Capabilities, Incoming, Sink, Transport
from textport.transports.termux.listing import (
    MAX_SEEN,
    Listed,
    Seen,
    parse_listing,
    received_ms,
    refusal,
    shown,
)

log = logging.getLogger(__name__)

STATE_FILE: Final = "termux-seen.json"
SAVE_EVERY: Final = 100
"""During a long round (a flood), the keys are written after this many texts too."""
UNKNOWN_SENDER: Final = "Unknown"
_NUMBER: Final = re.compile(r"\+?[0-9]{1,20}")
_INBOX: Final = (None, "inbox")
"""``type`` values taken: ``-t inbox`` lists only these, but a text listed as another kind
is never handed over."""
_USAGE: Final = ("illegal option", "unsupported type", "no recipient", "too many arguments")
"""What the scripts print when called wrongly (a version textport does not know)."""

# ------------------------------------------------------------ settings


@dataclass(frozen=True)
class TermuxSettings:
    """The ``[termux]`` table of the config file (docs/transports.md lists each key)."""

    list_command: str = "termux-sms-list"
    """A name on PATH or a path; tests point it at a fake."""
    send_command: str = "termux-sms-send"
    poll_interval: float = 5.0
    list_limit: int = 100
    """Texts asked for in one ``termux-sms-list`` call (one page)."""
    sim_slot: int | None = None
    """The SIM slot texts are sent from (0 is the first); None is Android's default SIM."""
    timeout: float = 30.0
    """Seconds one command may take before it is killed."""
    backfill: int = 0
    """Texts already in the inbox at the first start that are taken (newest first)."""
    max_parts: int = 10
    region: str = "US"

    @classmethod
    def from_table(cls, table: Mapping[str, Any], region: str = "US") -> TermuxSettings:
        known: dict[str, type | tuple[type, ...]] = {
            "list_command": str,
            "send_command": str,
            "poll_interval": (int, float),
            "list_limit": int,
            "sim_slot": int,
            "timeout": (int, float),
            "backfill": int,
            "max_parts": int,
        }
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"[termux] has no setting {key!r}: see docs/transports.md")
            kind = known[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigError(f"[termux] {key} has the wrong type: see docs/transports.md")
        for key in ("list_command", "send_command"):
            if key in table and not table[key].strip():
                raise ConfigError(f"[termux] {key} is empty")
        settings = cls(**dict(table), region=numbers.check_region(region))
        checks = (
            (0.05 <= settings.poll_interval <= 3600, "poll_interval is 0.05 to 3600 seconds"),
            (1 <= settings.list_limit <= 1000, "list_limit is 1 to 1000"),
            (settings.sim_slot is None or 0 <= settings.sim_slot <= 7, "sim_slot is 0 to 7"),
            (0.5 <= settings.timeout <= 600, "timeout is 0.5 to 600 seconds"),
            (0 <= settings.backfill <= 100_000, "backfill is 0 to 100000"),
            (1 <= settings.max_parts <= 255, "max_parts is 1 to 255"),
        )
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"[termux] {message}")
        return settings


# ------------------------------------------------------------ the transport


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes


class TermuxTransport(Transport):
    name = "termux"

    def __init__(
        self, settings: TermuxSettings, state: Path, clock: Callable[[], float] = time.time
    ) -> None:
        """``state`` is the file that remembers what was handed over (``termux-seen.json``
        in the host's data folder)."""
        self.settings = settings
        self.capabilities = Capabilities(
            delivery_reports=False,
            mms=False,
            max_parts=settings.max_parts,
            dual_sim=settings.sim_slot is not None,
            incoming="polling",
        )
        self._state = state
        self._clock = clock
        self._seen = Seen(max(MAX_SEEN, 2 * settings.list_limit))
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._sink: Sink | None = None
        self._refs = itertools.count(1)

    # ---------------------------------------------------------- lifecycle

    async def start(self, sink: Sink) -> None:
        """Load what was handed over and ask for the newest text once: a missing command
        or a permission not granted stops the start, saying what to do."""
        self._load()
        await self._list(1, 0)
        self._sink = sink
        self._task = asyncio.create_task(self._run(sink), name="termux inbox")
        self._task.add_done_callback(_log_failure)
        log.info("Termux:API ready: polling the inbox every %gs", self.settings.poll_interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._sink = None

    def _load(self) -> None:
        try:
            raw = self._state.read_bytes()
        except FileNotFoundError:
            return  # the first start
        except OSError as exc:
            raise TransportError(f"cannot read {self._state}: {exc.strerror}") from None
        try:
            self._seen = Seen.load(raw, self._seen.limit)
        except ValueError:
            raise TransportError(
                f"{self._state} is damaged: delete it to start again (the newest `backfill` "
                "texts are then taken again; the store keeps each text once)"
            ) from None

    def _save(self) -> None:
        """Write the keys atomically: a crash leaves the old file or the new one."""
        temporary = self._state.with_name(self._state.name + ".tmp")
        try:
            # 0600 like every file of the host's: its keys are digests of texts.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(descriptor, "wb") as file:
                file.write(self._seen.dump())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._state)
        except OSError as exc:
            raise TransportError(f"cannot write {self._state}: {exc.strerror}") from None

    # ---------------------------------------------------------- receiving

    async def poll(self) -> int:
        """One round now (tests; it also runs every poll_interval): returns how many
        texts were handed over. Rounds never overlap."""
        if self._sink is None:
            raise TransportError("the Termux transport is not started")
        async with self._lock:
            return await self._poll(self._sink)

    async def _run(self, sink: Sink) -> None:
        failing = False
        while True:
            try:
                async with self._lock:
                    await self._poll(sink)
            except TransportError as exc:
                if not failing:
                    log.warning("reading received texts failed: %s", exc.message)
                failing = True
            except Exception:  # the store refused: the texts are offered again
                if not failing:
                    log.exception("storing received texts failed")
                failing = True
            else:
                if failing:
                    log.info("reading received texts works again")
                failing = False
            await asyncio.sleep(self.settings.poll_interval)

    async def _poll(self, sink: Sink) -> int:
        first = self._seen.floor is None
        fresh = await self._unseen(first)
        now_ms = int(self._clock() * 1000)
        if first:
            taken = fresh[: self.settings.backfill]
            left = fresh[len(taken) :]
            # Taken texts stay over the floor: if the store refuses one, it is offered again.
            self._seen.floor = max((entry.id or 0 for entry in left), default=0)
            for entry in left:
                self._seen.add(entry.key)
            if left:
                log.info("first start: texts already on the phone are left to textport import")
            fresh = taken
        handed = 0
        try:
            for entry in reversed(fresh):  # oldest first
                sink.incoming(self._incoming(entry, now_ms))
                self._seen.add(entry.key)
                handed += 1
                if handed % SAVE_EVERY == 0:
                    self._save()
        finally:
            if handed or first:
                self._save()
        return handed

    async def _unseen(self, first: bool) -> list[Listed]:
        """Inbox texts not handed over yet, newest first. Pages on while a page holds a
        new text, so texts dated before others (a clock that jumped) are found too as long
        as new texts lead to them; at the first start, pages until ``backfill``."""
        limit, offset = self.settings.list_limit, 0
        fresh: list[Listed] = []
        while True:
            listed = await self._list(limit, offset)
            page = [entry for entry in listed if entry.kind in _INBOX]
            new = page if first else [entry for entry in page if self._seen.is_new(entry)]
            fresh += new
            if len(listed) < limit or not new or (first and len(fresh) >= self.settings.backfill):
                break
            offset += limit
        now_ms = int(self._clock() * 1000)
        fresh.sort(key=lambda e: (received_ms(e.received, now_ms), e.id or 0), reverse=True)
        return fresh

    async def _list(self, limit: int, offset: int) -> list[Listed]:
        args = [self.settings.list_command, "-t", "inbox", "-l", str(limit), "-o", str(offset)]
        command = Path(args[0]).name
        ran = await self._exec(args, b"")
        if ran is None:
            raise TransportError(
                f"{command} did not answer within {self.settings.timeout:g} s: is the "
                "Termux:API app installed, and allowed to run in the background (battery "
                "optimisation off)?"
            )
        if ran.returncode != 0:
            raise _failed(command, ran)
        return parse_listing(ran.stdout)

    def _incoming(self, entry: Listed, now_ms: int) -> Incoming:
        written = numbers.as_written(entry.address, self.settings.region)
        return Incoming(
            sender=written if written is not None else UNKNOWN_SENDER,
            body=entry.body,
            at_ms=received_ms(entry.received, now_ms),
            source_id=f"termux:{entry.key}",
            name=entry.name,
        )

    # ---------------------------------------------------------- sending

    async def submit(self, recipients: list[str], body: str) -> str:
        for number in recipients:
            if not _NUMBER.fullmatch(number):
                raise TransportError(
                    "Termux:API sends only to phone numbers (digits, with + for "
                    "international ones).",
                    permanent=True,
                )
        if not recipients:
            raise TransportError("A text needs a recipient.", permanent=True)
        text = body.strip()  # what Termux:API sends: it trims its input
        if not text:
            raise TransportError("Termux:API cannot send a text of only spaces.", permanent=True)
        parts = len(gsm.segment(text).parts)
        if parts > self.settings.max_parts:
            raise TransportError(
                f"This text needs {parts} SMS; this phone is set to send at most "
                f"{self.settings.max_parts} (max_parts). Shorten it or split it.",
                permanent=True,
            )
        args = [self.settings.send_command, "-n", ",".join(recipients)]
        command = Path(args[0]).name
        if self.settings.sim_slot is not None:
            args += ["-s", str(self.settings.sim_slot)]
        ran = await self._exec(args, text.encode())
        if ran is None:
            raise TransportError(
                f"{command} did not finish within {self.settings.timeout:g} s. The phone may "
                "or may not have sent it: check its messaging app, and send it again if "
                "needed.",
                permanent=True,
            )
        if ran.returncode != 0:
            raise _failed(command, ran)
        answer = ran.stdout.strip()
        if answer:  # Termux:API prints nothing when it took the text
            raise _answered(command, answer)
        return f"termux:{int(self._clock() * 1000):x}:{next(self._refs)}"

    # ---------------------------------------------------------- subprocesses

    async def _exec(self, args: Sequence[str], stdin: bytes) -> Ran | None:
        """Run a command; None when it overran its timeout (it is killed, with its
        children). A command that cannot be started raises a transient error."""
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise TransportError(
                f"{args[0]} was not found: run `pkg install termux-api` in Termux and install "
                "the Termux:API app (F-Droid or GitHub, the same source as Termux)"
            ) from None
        except OSError as exc:
            raise TransportError(f"cannot run {args[0]}: {exc.strerror}") from None
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(stdin), self.settings.timeout
            )
        except TimeoutError:
            _kill(process)
            await process.wait()
            return None
        except BaseException:  # cancelled (the host stops): no process is left behind
            _kill(process)
            await process.wait()
            raise
        return Ran(process.returncode or 0, stdout, stderr)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _failed(command: str, ran: Ran) -> TransportError:
    """A command that exited non-zero. Called wrongly (a version textport does not know)
    is permanent; anything else, nothing was handed to Android: retried."""
    said = shown(ran.stderr) or shown(ran.stdout)
    if ran.returncode == 127:
        return TransportError(
            f"{command} could not start (exit 127): run `pkg install termux-api` in Termux"
        )
    if any(word in said.lower() for word in _USAGE):
        return TransportError(
            f"{command} refused how textport called it ({said!r}): update termux-api "
            "(`pkg upgrade termux-api`).",
            permanent=True,
        )
    return TransportError(f"{command} failed (exit {ran.returncode}): {said!r}")


def _answered(command: str, answer: bytes) -> TransportError:
    """Something printed by a send, which prints nothing when it worked."""
    with contextlib.suppress(ValueError):
        doc = json.loads(answer)
        if isinstance(doc, dict) and "error" in doc:
            return refusal(doc)  # nothing was sent: retried once the permission is granted
    return TransportError(
        f"{command} answered {shown(answer)!r} instead of nothing, so the text may not have "
        "gone out: check the phone's messaging app, and send it again if needed.",
        permanent=True,
    )


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the Termux inbox stopped: %r", task.exception())


USES_DATA: Final = True
""":func:`from_config` takes the host's data folder (``termux-seen.json`` is kept there)."""


def from_config(
    table: Mapping[str, Any],
    region: str,
    clock: Callable[[], float] = time.time,
    *,
    data: Path,
) -> TermuxTransport:
    """The transport for ``--transport termux``: its optional ``[termux]`` table."""
    return TermuxTransport(TermuxSettings.from_table(table, region), data / STATE_FILE, clock)
