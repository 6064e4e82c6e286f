"""``gammu``: USB modems and phones through libGammu (python-gammu, ``textport[gammu]``).

libGammu is blocking and not thread-safe, so every call to it runs on one worker thread
of this transport's own; the event loop never waits on the modem.

- **Receiving** polls the modem's folders every ``poll_interval`` seconds (libGammu has no
  reliable incoming event on most modems: gammu-smsd polls too). Reading, reassembly,
  handing over and deleting are :class:`~textport.transports.inbox.Inbox`'s: a text is
  deleted from the modem only after the host committed it.
- **Sending** lets libGammu encode the text (``gammu.EncodeSMS``, concatenated parts with
  an 8-bit reference; GSM-7 when :mod:`~textport.transports.gsm` says it fits, else
  UCS-2) and sends each part, asking for a status report when ``delivery_reports`` is on.
- **Errors**: :func:`classify` maps each libGammu error to transient (retried with backoff)
  or permanent (the text fails with a sentence that says what to do). An error after
  the first part went out is permanent: a retry would send the first parts twice.
- **Delivery reports** arrive as stored status reports and are matched by recipient and
  message reference (0-255, reused): the newest text with that pair wins, and only the
  last 4096 parts sent are remembered (a restart forgets them; those texts stay ``sent``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from textport import numbers
from textport.errors import ConfigError, TransportError
from textport.transports import gsm, reports
from textport.transports.base import Capabilities, Sink, Transport
from textport.transports.inbox import Inbox, Reading, StatusReport
from textport.transports.reassembly import Part, Reassembler

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_READ: Final = 5000
"""Stored entries read in one round at most (the rest wait for the next)."""
MAX_TRACKED: Final = 4096
"""Sent parts whose status report is still awaited, at most."""
UNKNOWN_SENDER: Final = "Unknown"

# ------------------------------------------------------------ errors

_TRANSIENT: Final = {
    "ERR_TIMEOUT": "The modem did not answer in time",
    "ERR_DEVICEBUSY": "The modem is busy (is another program using it?)",
    "ERR_DEVICELOCKED": "The modem is locked by another program",
    "ERR_DEVICEOPENERROR": "The modem's device could not be opened",
    "ERR_DEVICENOTEXIST": "The modem's device does not exist (unplugged?)",
    "ERR_DEVICENOPERMISSION": "No permission to open the modem's device (add the user to "
    "the dialout group)",
    "ERR_DEVICENOTWORK": "The modem's device does not work",
    "ERR_DEVICEREADERROR": "Reading from the modem failed",
    "ERR_DEVICEWRITEERROR": "Writing to the modem failed",
    "ERR_DEVICEDTRRTSERROR": "The modem's serial lines could not be set",
    "ERR_DEVICECHANGESPEEDERROR": "The modem's serial speed could not be set",
    "ERR_DEVICEPARITYERROR": "The modem's serial parity could not be set",
    "ERR_NOTCONNECTED": "The modem is not connected",
    "ERR_PHONEOFF": "The phone is off",
    "ERR_BUSY": "The modem is busy",
    "ERR_WORKINPROGRESS": "The modem is still working on something else",
    "ERR_NETWORK_ERROR": "The mobile network is not reachable",
    "ERR_NOSERVICE": "No mobile network service",
    "ERR_FULL": "The modem's message memory is full",
    "ERR_NOSIM": "There is no SIM card in the modem",
    "ERR_SECURITYERROR": "The SIM card wants its PIN (set pin in the config)",
    "ERR_UNKNOWNRESPONSE": "The modem gave an answer libGammu does not understand",
    "ERR_UNKNOWNFRAME": "The modem sent something libGammu does not understand",
    "ERR_FRAMENOTREQUESTED": "The modem sent an answer to a question nobody asked",
    "ERR_WRONGCRC": "Garbled data from the modem",
    "ERR_UNKNOWN": "The modem or the network reported an unspecified error",
    "ERR_ABORTED": "The operation was aborted",
    "ERR_CANCELED": "The operation was cancelled",
}
"""Errors where the same text may go through later, unchanged: the outbox retries."""

_PERMANENT: Final = {
    "ERR_INVALIDDATA": "The modem refused this text as invalid: check the number",
    "ERR_NOTSUPPORTED": "This modem cannot send this kind of text",
    "ERR_NOTIMPLEMENTED": "libGammu cannot send texts with this modem",
    "ERR_EMPTYSMSC": "The SIM has no message centre number: set smsc in the config",
    "ERR_GETTING_SMSC": "The modem could not read the message centre number: set smsc in "
    "the config",
    "ERR_PERMISSION": "The modem does not allow sending texts",
    "ERR_UNKNOWNMODELSTRING": "libGammu does not know the model in the config",
    "ERR_UNKNOWNCONNECTIONTYPESTRING": "libGammu does not know the connection in the config",
    "ERR_MEMORY": "The modem ran out of memory for this text",
}
"""Errors that this text (or this setup) will keep getting: it fails with the reason."""


def classify(exc: BaseException) -> TransportError:
    """A libGammu error as a TransportError with a sentence for people.

    Unknown errors count as transient: the text's expiry bounds the retries.
    """
    name = type(exc).__name__
    details = exc.args[0] if exc.args and isinstance(exc.args[0], Mapping) else {}
    where = details.get("Where")
    suffix = f" ({name[4:]} in {where})" if where else f" ({name[4:]})"
    if name in _PERMANENT:
        return TransportError(_PERMANENT[name] + "." + suffix, permanent=True)
    if name in _TRANSIENT:
        return TransportError(_TRANSIENT[name] + "." + suffix)
    text = details.get("Text") or "libGammu reported an error"
    return TransportError(f"{str(text).rstrip('.')}.{suffix}")


# ------------------------------------------------------------ settings


@dataclass(frozen=True)
class GammuSettings:
    """The ``[gammu]`` table of the config file (docs/transports.md lists each key)."""

    device: str
    connection: str = "at"
    model: str = ""
    pin: str | None = None
    smsc: str | None = None
    """The message centre's number; the SIM's own when None."""
    poll_interval: float = 5.0
    delivery_reports: bool = True
    max_parts: int = 10
    reassembly_timeout: float = 3600.0
    region: str = "US"
    """How national numbers from the modem are read (``[host] region``)."""
    log_file: str | None = None
    """libGammu's own debug log (``log_format`` ``textall`` shows every PDU sent)."""
    log_format: str = "textall"

    def __repr__(self) -> str:  # never show the PIN
        return f"GammuSettings(device={self.device!r}, connection={self.connection!r})"

    @classmethod
    def from_table(cls, table: Mapping[str, Any], region: str = "US") -> GammuSettings:
        known: dict[str, type | tuple[type, ...]] = {
            "device": str,
            "connection": str,
            "model": str,
            "pin": str,
            "smsc": str,
            "poll_interval": (int, float),
            "delivery_reports": bool,
            "max_parts": int,
            "reassembly_timeout": (int, float),
            "log_file": str,
            "log_format": str,
        }
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"[gammu] has no setting {key!r}: see docs/transports.md")
            kind = known[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ConfigError(f"[gammu] {key} has the wrong type: see docs/transports.md")
        if not table.get("device"):
            raise ConfigError(
                '[gammu] needs device, e.g. device = "/dev/ttyUSB0" (docs/transports.md)'
            )
        settings = cls(**dict(table), region=region)
        if not 0.05 <= settings.poll_interval <= 3600:
            raise ConfigError("[gammu] poll_interval is 0.05 to 3600 seconds")
        if not 1 <= settings.max_parts <= 255:
            raise ConfigError("[gammu] max_parts is 1 to 255")
        if not 0 <= settings.reassembly_timeout <= 7 * 86400:
            raise ConfigError("[gammu] reassembly_timeout is 0 to 604800 seconds")
        numbers.check_region(region)
        return settings


# ------------------------------------------------------------ the transport


@dataclass(frozen=True)
class Location:
    """Where a received entry is stored, and a fingerprint of what was read there (a
    location the modem reuses for another text is another handle)."""

    location: int
    fingerprint: str


def _fingerprint(sms: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    udh = sms.get("UDH") or {}
    for value in (sms.get("Type"), sms.get("Number"), sms.get("DateTime"), udh.get("Text")):
        digest.update(repr(value).encode() + b"\x00")
    text = sms.get("Text")
    digest.update(text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


class GammuTransport(Transport):
    name = "gammu"

    def __init__(
        self,
        settings: GammuSettings,
        clock: Callable[[], float] = time.time,
        machine: Callable[[], Any] | None = None,
    ) -> None:
        """``machine`` makes the libGammu state machine (tests wrap it to inject faults)."""
        self.settings = settings
        self.capabilities = Capabilities(
            delivery_reports=settings.delivery_reports,
            mms=False,
            max_parts=settings.max_parts,
            dual_sim=False,
            incoming="polling",
        )
        self._clock = clock
        self._gammu = _import_gammu()
        self._make_machine = machine or self._gammu.StateMachine
        self._sm: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._imei = ""
        self._inbox: Inbox[Location] | None = None
        self._task: asyncio.Task[None] | None = None
        self._sink: Sink | None = None
        self._refs = itertools.count(1)
        self._awaiting: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._outstanding: dict[str, int] = {}

    # ---------------------------------------------------------- lifecycle

    async def start(self, sink: Sink) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gammu")
        self._sink = sink
        await self._call(self._connect)
        self._inbox = Inbox(
            self,
            prefix=f"gammu-{self._imei}",
            on_report=self._report,
            reassembler=Reassembler(int(self.settings.reassembly_timeout * 1000)),
            clock_ms=lambda: int(self._clock() * 1000),
        )
        self._task = asyncio.create_task(
            self._inbox.run(sink, self.settings.poll_interval), name="gammu inbox"
        )
        self._task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._executor is not None:
            with contextlib.suppress(TransportError):
                await self._call(self._disconnect)
            self._executor.shutdown(wait=True)
            self._executor = None
        self._sink = None

    async def poll(self) -> int:
        """Read the modem now (tests; the transport also does it every poll_interval)."""
        if self._inbox is None or self._sink is None:
            raise TransportError("the Gammu transport is not started")
        return await self._inbox.poll(self._sink)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise TransportError("the Gammu transport is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _connect(self) -> None:
        """On the worker thread: open the modem (again, after an error)."""
        if self._sm is not None:
            return
        sm = self._make_machine()
        config: dict[str, Any] = {
            "Device": self.settings.device,
            "Connection": self.settings.connection,
            "Model": self.settings.model,
        }
        if self.settings.log_file:
            config |= {"DebugFile": self.settings.log_file, "DebugLevel": self.settings.log_format}
        try:
            sm.SetConfig(0, config)
            sm.Init()
            if self.settings.pin and sm.GetSecurityStatus() == "PIN":
                sm.EnterSecurityCode("PIN", self.settings.pin)
            self._imei = str(sm.GetIMEI())
        except self._gammu.GSMError as exc:
            with contextlib.suppress(self._gammu.GSMError):
                sm.Terminate()
            raise classify(exc) from None
        self._sm = sm
        log.info("modem connected: %s over %s", self.settings.device, self.settings.connection)

    def _disconnect(self) -> None:
        if self._sm is not None:
            sm, self._sm = self._sm, None
            with contextlib.suppress(self._gammu.GSMError):
                sm.Terminate()

    def _machine(self) -> Any:
        self._connect()
        return self._sm

    def _failed(self, exc: BaseException) -> TransportError:
        """Classify, and reopen the modem next time if the connection itself broke."""
        error = classify(exc)
        if type(exc).__name__.startswith(("ERR_DEVICE", "ERR_NOTCONNECTED", "ERR_TIMEOUT")):
            self._disconnect()
        return error

    # ---------------------------------------------------------- receiving (inbox.Device)

    async def read(self) -> Reading[Location]:
        return await self._call(self._read)

    async def delete(self, handle: Location) -> None:
        await self._call(self._delete, handle)

    def _read(self) -> Reading[Location]:
        sm = self._machine()
        reading: Reading[Location] = Reading([], [])
        now_ms = int(self._clock() * 1000)
        location: int | None = None
        for _ in range(MAX_READ):
            try:
                if location is None:
                    batch = sm.GetNextSMS(Folder=0, Start=True)
                else:
                    batch = sm.GetNextSMS(Folder=0, Location=location)
            except self._gammu.ERR_EMPTY:
                break
            except self._gammu.GSMError as exc:
                raise self._failed(exc) from None
            if not batch:
                break
            location = int(batch[0]["Location"])
            for sms in batch:
                self._take(sms, reading, now_ms)
        return reading

    def _take(self, sms: Mapping[str, Any], reading: Reading[Location], now_ms: int) -> None:
        handle = Location(int(sms["Location"]), _fingerprint(sms))
        kind = sms.get("Type")
        if kind == "Status_Report":
            reading.reports.append(
                StatusReport(
                    self._address(sms.get("Number")),
                    int(sms.get("MessageReference") or 0),
                    int(sms.get("DeliveryStatus") or 0),
                    handle,
                )
            )
            return
        if kind != "Deliver" or not sms.get("InboxFolder", True):
            return  # drafts and sent copies in outbox folders are not ours to take
        text = sms.get("Text")
        if isinstance(text, bytes) or str(sms.get("Coding", "")).startswith("8bit"):
            size = len(text) if isinstance(text, bytes | str) else 0
            text = f"(A data message of {size} bytes, such as an MMS notification: not shown.)"
        udh = sms.get("UDH") or {}
        concat = gsm.parse_concat(bytes(udh.get("Text") or b""))
        reading.parts.append(
            Part(
                sender=self._address(sms.get("Number")),
                text=str(text or ""),
                at_ms=_when(sms.get("DateTime"), now_ms),
                handle=handle,
                reference=concat.reference if concat else 0,
                total=concat.total if concat else 1,
                number=concat.number if concat else 1,
            )
        )

    def _address(self, raw: object) -> str:
        written = numbers.as_written(str(raw or ""), self.settings.region)
        return written if written is not None else UNKNOWN_SENDER

    def _delete(self, handle: Location) -> None:
        try:
            self._machine().DeleteSMS(Folder=0, Location=handle.location)
        except self._gammu.ERR_EMPTY:
            pass  # already gone
        except self._gammu.GSMError as exc:
            raise self._failed(exc) from None

    # ---------------------------------------------------------- sending

    async def submit(self, recipients: list[str], body: str) -> str:
        ref = f"gammu:{int(self._clock() * 1000):x}:{next(self._refs)}"
        sent, error = await self._call(self._send, recipients, body)
        self._track(ref, sent)  # on the event loop, like the reports it is matched with
        if error is not None:
            raise error
        return ref

    def _send(
        self, recipients: list[str], body: str
    ) -> tuple[list[tuple[str, int]], TransportError | None]:
        """On the worker thread: send every part to every recipient, and say what went out."""
        messages = self._encode(body)
        if isinstance(messages, TransportError):
            return [], messages
        smsc = {"Number": self.settings.smsc} if self.settings.smsc else {"Location": 1}
        kind = "Status_Report" if self.settings.delivery_reports else "Submit"
        total = len(messages) * len(recipients)
        sent: list[tuple[str, int]] = []
        try:
            sm = self._machine()
        except TransportError as exc:
            return [], exc
        for number in recipients:
            for message in messages:
                try:
                    reference = sm.SendSMS(dict(message, Number=number, SMSC=smsc, Type=kind))
                except self._gammu.GSMError as exc:
                    error = self._failed(exc)
                    if not sent:
                        return sent, error
                    return sent, TransportError(
                        f"Only {len(sent)} of {total} SMS of this text went out before the "
                        f"modem failed ({error.message}) The recipient may see part of it: "
                        "send it again if needed.",
                        permanent=True,
                    )
                sent.append((number, int(reference)))
        return sent, None

    def _encode(self, body: str) -> list[dict[str, Any]] | TransportError:
        """libGammu's parts for ``body``, or why it cannot be sent (permanent)."""
        segments = gsm.segment(body)
        try:
            messages: list[dict[str, Any]] = self._gammu.EncodeSMS(
                {
                    "Class": -1,
                    "Unicode": segments.encoding == "UCS-2",
                    "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": body}],
                }
            )
        except self._gammu.GSMError as exc:
            return classify(exc)
        if "".join(str(message["Text"]) for message in messages) != body:
            # libGammu's strings end at U+0000: it would send a truncated text.
            return TransportError(
                "libGammu cannot send this text as written (it contains a NUL character).",
                permanent=True,
            )
        if len(messages) > self.settings.max_parts:
            return TransportError(
                f"This text needs {len(messages)} SMS; this modem is set to send at most "
                f"{self.settings.max_parts} (max_parts). Shorten it or split it.",
                permanent=True,
            )
        return messages

    # ---------------------------------------------------------- delivery reports

    def _track(self, ref: str, sent: list[tuple[str, int]]) -> None:
        """Remember which text each (recipient, message reference) belongs to."""
        if not self.settings.delivery_reports:
            return
        for key in sent:
            old = self._awaiting.pop(key, None)
            if old is not None:
                self._count(old, -1)  # the reference wrapped: the older text loses it
            self._awaiting[key] = ref
            self._count(ref, 1)
        while len(self._awaiting) > MAX_TRACKED:
            _key, old = self._awaiting.popitem(last=False)
            self._count(old, -1)

    def _count(self, ref: str, delta: int) -> None:
        count = self._outstanding.get(ref, 0) + delta
        if count > 0:
            self._outstanding[ref] = count
        else:
            self._outstanding.pop(ref, None)

    def _report(self, report: StatusReport[Location]) -> None:
        verdict = reports.from_tp_status(report.status)
        key = (report.recipient, report.reference)
        ref = self._awaiting.get(key)
        if ref is None or verdict.outcome == "pending" or self._sink is None:
            return
        del self._awaiting[key]
        if verdict.outcome == "failed":
            for other in [k for k, value in self._awaiting.items() if value == ref]:
                del self._awaiting[other]
            self._outstanding.pop(ref, None)
            self._sink.report(ref, "failed", verdict.reason)
            return
        self._count(ref, -1)
        if ref not in self._outstanding:
            self._sink.report(ref, "delivered", None)


def _when(value: object, now_ms: int) -> int:
    """The service centre's time stamp in ms, or now when it is missing or implausible."""
    if not isinstance(value, dt.datetime):
        return now_ms
    try:
        at = int(value.timestamp() * 1000)  # a naive time is the modem's local time
    except (OverflowError, OSError, ValueError):
        return now_ms
    if not 946_684_800_000 <= at <= now_ms + 86_400_000:  # 2000-01-01 .. tomorrow
        return now_ms
    return at


def _import_gammu() -> Any:
    try:
        import gammu  # noqa: PLC0415 (an optional extra, loaded only when chosen)
    except ImportError:
        raise ConfigError(
            "The gammu transport needs python-gammu: pip install 'textport[gammu]'"
        ) from None
    return gammu


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the Gammu inbox stopped: %r", task.exception())


def from_config(
    table: Mapping[str, Any], region: str, clock: Callable[[], float] = time.time
) -> GammuTransport:
    """The transport for ``--transport gammu``: its ``[gammu]`` table read in ``region``."""
    return GammuTransport(GammuSettings.from_table(table, region), clock)
