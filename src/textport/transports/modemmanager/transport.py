"""``modemmanager``: a modem driven by ModemManager, over the system D-Bus (``dbus-fast``,
``textport[modemmanager]``).

ModemManager owns the modem (Linux phones, laptops with a WWAN card, USB sticks); this
transport is one of its D-Bus clients, beside NetworkManager, and never opens the modem
itself.

- **Finding the modem**: the one whose ``EquipmentIdentifier`` (IMEI) is ``modem``, or the
  first one ModemManager lists. A disabled modem is enabled (``Modem.Enable``), as
  NetworkManager would. If the modem goes away (unplugged, ModemManager restarted) sends
  fail as transient and the transport looks for it again every few seconds.
- **Receiving** is event driven: the ``Messaging.Added`` signal, plus one
  ``Messaging.List`` at start (and whenever the modem comes back) for texts that came while
  nobody listened. ModemManager puts long texts together itself: a text is taken only when
  its ``State`` is RECEIVED (3); until then its ``State`` property change is awaited.
  A text is deleted (``Messaging.Delete``) only after ``Sink.incoming`` returned: commit,
  then delete. If storing fails, the text stays and is offered again a little later.
- **Sending**: ``Messaging.Create`` then ``Sms.Send``, one SMS object per recipient, which
  is deleted afterwards. ModemManager splits long texts into parts (and asks for a status
  report on the last part only, when ``DeliveryReportRequest`` is set).
- **Delivery reports** come as received SMS objects of type STATUS_REPORT carrying the
  recipient, the ``MessageReference`` of the part they are about, and ``DeliveryState``
  (TP-Status); they are matched with the sent text by (recipient, reference), then deleted.
- **Errors**: :mod:`.errors` maps ModemManager's D-Bus errors to
  transient or permanent, with a readable reason.
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
from dataclasses import dataclass
from typing import Any, Final

from textport import numbers
from textport.errors import ConfigError, TransportError
from textport.transports import gsm, reports
from textport.transports.base import Capabilities, Incoming, Sink, Transport
from textport.transports.modemmanager import errors as mm_errors

log = logging.getLogger(__name__)

MM: Final = "org.freedesktop.ModemManager1"
MM_PATH: Final = "/org/freedesktop/ModemManager1"
MODEM: Final = f"{MM}.Modem"
MESSAGING: Final = f"{MM}.Modem.Messaging"
SMS: Final = f"{MM}.Sms"
PROPS: Final = "org.freedesktop.DBus.Properties"
OBJECTS: Final = "org.freedesktop.DBus.ObjectManager"

# MMModemState, MMModemStateFailedReason, MMSmsState, MMSmsPduType
STATE_FAILED: Final = -1
STATE_LOCKED: Final = 2
STATE_DISABLED: Final = 3
STATE_REGISTERED: Final = 8
FAILED_SIM_MISSING: Final = 2
SMS_RECEIVED: Final = 3
PDU_DELIVER: Final = 1
PDU_STATUS_REPORT: Final = 3
PDU_CDMA_DELIVER: Final = 4

CALL_TIMEOUT: Final = 30.0
"""Seconds any D-Bus call but ``Sms.Send`` may take."""
RETRY_AFTER: Final = 5.0
"""Seconds before a text the host could not store (or delete) is tried again."""
LOOK_EVERY: Final = 2.0
"""Seconds between two looks for a modem that went away."""
MAX_TRACKED: Final = 4096
UNKNOWN_SENDER: Final = "Unknown"


# ------------------------------------------------------------ settings


@dataclass(frozen=True)
class MMSettings:
    """The ``[modemmanager]`` table of the config file (docs/transports.md lists each key)."""

    modem: str = ""
    """The modem's equipment identifier (IMEI), or empty for the first one."""
    bus_address: str = ""
    """A D-Bus address; empty is the system bus (``DBUS_SYSTEM_BUS_ADDRESS`` or the default)."""
    delivery_reports: bool = True
    smsc: str | None = None
    max_parts: int = 10
    send_timeout: float = 120.0
    region: str = "US"

    def __repr__(self) -> str:
        return f"MMSettings(modem={'first' if not self.modem else 'by equipment id'})"

    @classmethod
    def from_table(cls, table: Mapping[str, Any], region: str = "US") -> MMSettings:
        known: dict[str, type | tuple[type, ...]] = {
            "modem": str,
            "bus_address": str,
            "delivery_reports": bool,
            "smsc": str,
            "max_parts": int,
            "send_timeout": (int, float),
        }
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"[modemmanager] has no setting {key!r}: see docs/transports.md")
            kind = known[key]
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ConfigError(
                    f"[modemmanager] {key} has the wrong type: see docs/transports.md"
                )
        settings = cls(**dict(table), region=numbers.check_region(region))
        if not 1 <= settings.max_parts <= 255:
            raise ConfigError("[modemmanager] max_parts is 1 to 255")
        if not 1 <= settings.send_timeout <= 3600:
            raise ConfigError("[modemmanager] send_timeout is 1 to 3600 seconds")
        if settings.bus_address and ":" not in settings.bus_address:
            raise ConfigError(
                "[modemmanager] bus_address is a D-Bus address such as "
                '"unix:path=/run/dbus/system_bus_socket", or empty for the system bus'
            )
        if settings.smsc is not None and not settings.smsc.lstrip("+").isdigit():
            raise ConfigError('[modemmanager] smsc is a number, e.g. "+447785016005"')
        return settings


# ------------------------------------------------------------ D-Bus plumbing


class CallError(TransportError):
    """A D-Bus call failed; ``name`` is ModemManager's error name without its prefix
    (``Message.NoNetwork``), or ``timeout`` / ``disconnected`` when no answer came."""

    def __init__(self, error: TransportError, name: str) -> None:
        super().__init__(error.message, permanent=error.permanent)
        self.name = name


UNANSWERED: Final = frozenset({"timeout", "disconnected", "Serial.ResponseTimeout", "NoReply"})
"""Errors after which nobody can tell whether ``Sms.Send`` sent the text."""


class _Bus:
    """The few D-Bus calls this transport makes, each with a deadline; errors are
    :class:`CallError` (see .errors)."""

    def __init__(self, bus: Any) -> None:
        self.raw = bus
        self._message: Any = _dbus().Message
        self._error: Any = _dbus().MessageType.ERROR

    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        *,
        timeout: float = CALL_TIMEOUT,
        destination: str = MM,
    ) -> list[Any]:
        message = self._message(
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=body or [],
        )
        try:
            async with asyncio.timeout(timeout):
                reply = await self.raw.call(message)
        except TimeoutError:
            error = TransportError("ModemManager did not answer in time.")
            raise CallError(error, "timeout") from None
        except (OSError, EOFError) as exc:
            error = TransportError(f"The system D-Bus connection broke ({type(exc).__name__}).")
            raise CallError(error, "disconnected") from None
        if reply is None:
            error = TransportError("The system D-Bus connection closed.")
            raise CallError(error, "disconnected")
        if reply.message_type == self._error:
            name = reply.error_name or ""
            detail = str(reply.body[0]) if reply.body else ""
            short = name.removeprefix(mm_errors.PREFIX).removeprefix("org.freedesktop.DBus.Error.")
            raise CallError(mm_errors.classify(name, detail), short)
        return list(reply.body)

    async def properties(self, path: str, interface: str) -> dict[str, Any]:
        (values,) = await self.call(path, PROPS, "GetAll", "s", [interface])
        return {key: variant.value for key, variant in values.items()}

    async def match(self, rule: str) -> None:
        await self.call(
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "AddMatch",
            "s",
            [rule],
            destination="org.freedesktop.DBus",
        )


@dataclass
class _Modem:
    path: str
    equipment_id: str


# ------------------------------------------------------------ the transport


class ModemManagerTransport(Transport):
    name = "modemmanager"

    def __init__(self, settings: MMSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.capabilities = Capabilities(
            delivery_reports=settings.delivery_reports,
            mms=False,
            max_parts=settings.max_parts,
            dual_sim=False,
            incoming="events",
        )
        self._clock = clock
        self._bus: _Bus | None = None
        self._sink: Sink | None = None
        self._modem: _Modem | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        """SMS paths queued or being handled (Added and List may both name one)."""
        self._receiving: set[str] = set()
        """Texts whose parts are still coming: their State change is awaited."""
        self._tasks: list[asyncio.Task[None]] = []
        self._refs = itertools.count(1)
        self._awaiting: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._outstanding: dict[str, int] = {}

    # ---------------------------------------------------------- lifecycle

    async def start(self, sink: Sink) -> None:
        dbus = _dbus()
        try:
            raw = await dbus.aio.MessageBus(
                bus_address=self.settings.bus_address or None, bus_type=dbus.BusType.SYSTEM
            ).connect()
        except (OSError, ValueError, dbus.errors.AuthError) as exc:
            raise TransportError(
                f"Cannot reach the system D-Bus ({type(exc).__name__}): is dbus running?"
            ) from None
        self._bus = bus = _Bus(raw)
        self._sink = sink
        try:
            raw.add_message_handler(self._on_message)
            sender = f"type='signal',sender='{MM}'"
            await bus.match(f"{sender},interface='{MESSAGING}',member='Added'")
            await bus.match(
                f"{sender},interface='{PROPS}',member='PropertiesChanged',"
                f"path_namespace='{MM_PATH}/SMS'"
            )
            await bus.match(f"{sender},interface='{OBJECTS}',member='InterfacesRemoved'")
            await bus.match(
                f"type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{MM}'"
            )
            await self._adopt(await self._find())
        except BaseException:
            raw.disconnect()
            self._bus = None
            raise
        self._spawn(self._work(), "modemmanager inbox")
        self._spawn(self._watch(), "modemmanager modem watch")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._bus is not None:
            self._bus.raw.disconnect()
            self._bus = None
        self._sink = None

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_log_failure)
        self._tasks.append(task)

    # ---------------------------------------------------------- the modem

    async def _find(self) -> _Modem:
        """The configured modem, enabled; a TransportError says why there is none."""
        bus = self._need_bus()
        (objects,) = await bus.call(MM_PATH, OBJECTS, "GetManagedObjects")
        modems = sorted(
            (str(path), str(interfaces[MODEM]["EquipmentIdentifier"].value))
            for path, interfaces in objects.items()
            if MODEM in interfaces and "EquipmentIdentifier" in interfaces[MODEM]
        )
        wanted = self.settings.modem
        for path, equipment_id in modems:
            if not wanted or equipment_id == wanted:
                modem = _Modem(path, equipment_id)
                await self._ready(modem, enable=True)
                return modem
        if not modems:
            raise TransportError("ModemManager has no modem (is it plugged in?).")
        raise TransportError(
            f"ModemManager has {len(modems)} modem(s), none with the equipment id set in "
            "[modemmanager] modem (mmcli -L, then mmcli -m N shows each one's)."
        )

    async def _ready(self, modem: _Modem, *, enable: bool = False) -> int:
        """The modem's state; a TransportError when it cannot send (SIM, PIN, network)."""
        props = await self._need_bus().properties(modem.path, MODEM)
        state = int(props.get("State", 0))
        if state == STATE_FAILED:
            if int(props.get("StateFailedReason", 0)) == FAILED_SIM_MISSING:
                raise TransportError(mm_errors.SIM_MISSING)
            raise TransportError("ModemManager says the modem failed (mmcli -m any shows why).")
        if state == STATE_LOCKED:
            raise TransportError(mm_errors.SIM_LOCKED)
        if state == STATE_DISABLED and enable:
            log.info("enabling the modem")
            await self._need_bus().call(modem.path, MODEM, "Enable", "b", [True])
        return state

    async def _adopt(self, modem: _Modem) -> None:
        """Take ``modem`` as ours and read what came while nobody listened."""
        self._modem = modem
        self._receiving.clear()
        log.info("using a modem of ModemManager (%s)", modem.path.rsplit("/", 1)[-1])
        (paths,) = await self._need_bus().call(modem.path, MESSAGING, "List")
        for path in paths:
            self._enqueue(str(path))

    async def _watch(self) -> None:
        """Look for the modem again, every few seconds, while it is gone."""
        gone_logged = False
        while True:
            await asyncio.sleep(LOOK_EVERY)
            if self._modem is not None:
                gone_logged = False
                continue
            try:
                await self._adopt(await self._find())
            except TransportError as exc:
                if not gone_logged:
                    log.warning("waiting for the modem: %s", exc.message)
                gone_logged = True

    def _lost(self) -> None:
        if self._modem is not None:
            log.warning("the modem went away; looking for it again")
        self._modem = None
        self._queued.clear()
        self._receiving.clear()

    def _need_bus(self) -> _Bus:
        if self._bus is None:
            raise TransportError("the ModemManager transport is not started")
        return self._bus

    # ---------------------------------------------------------- signals

    def _on_message(self, message: Any) -> None:
        if message.message_type != _dbus().MessageType.SIGNAL:
            return
        member, body = message.member, message.body
        modem = self._modem
        if member == "Added" and modem is not None and message.path == modem.path:
            path, received = body
            if received:
                self._enqueue(str(path))
        elif member == "PropertiesChanged" and message.path in self._receiving:
            _interface, changed, _invalidated = body
            state = changed.get("State")
            if state is not None and state.value == SMS_RECEIVED:
                self._receiving.discard(message.path)
                self._enqueue(message.path)
        elif member == "NameOwnerChanged" or (
            member == "InterfacesRemoved" and modem is not None and body[0] == modem.path
        ):
            self._lost()  # unplugged, or ModemManager stopped or restarted

    def _enqueue(self, path: str) -> None:
        if path not in self._queued:
            self._queued.add(path)
            self._queue.put_nowait(path)

    def _later(self, path: str) -> None:
        self._queued.discard(path)
        asyncio.get_running_loop().call_later(RETRY_AFTER, self._enqueue, path)

    # ---------------------------------------------------------- receiving

    async def _work(self) -> None:
        while True:
            path = await self._queue.get()
            if path not in self._queued:
                continue  # dropped when the modem went away
            try:
                await self._take(path)
            except TransportError as exc:
                log.warning("reading a received text failed (tried again later): %s", exc.message)
                self._later(path)
            except Exception:  # the store refused: the text stays in ModemManager
                log.exception("storing a received text failed (tried again later)")
                self._later(path)

    async def _take(self, path: str) -> None:
        bus = self._need_bus()
        try:
            props = await bus.properties(path, SMS)
        except TransportError as exc:
            if exc.message == mm_errors.GONE:
                self._queued.discard(path)  # deleted meanwhile
                return
            raise
        kind = int(props.get("PduType", 0))
        if kind == PDU_STATUS_REPORT:
            self._report(props)
        elif kind in (PDU_DELIVER, PDU_CDMA_DELIVER):
            if int(props.get("State", 0)) != SMS_RECEIVED:
                self._receiving.add(path)  # more parts to come: its State change is awaited
                self._queued.discard(path)
                return
            sink = self._sink
            if sink is None:
                return
            sink.incoming(self._incoming(props))
        else:
            self._queued.discard(path)
            return  # a text being written or sent (ours, or another client's)
        await self._delete(path)
        self._queued.discard(path)

    async def _delete(self, path: str) -> None:
        modem = self._modem
        if modem is None:
            raise TransportError(mm_errors.GONE)
        try:
            await self._need_bus().call(modem.path, MESSAGING, "Delete", "o", [path])
        except TransportError as exc:
            if exc.message != mm_errors.GONE:
                raise

    def _incoming(self, props: Mapping[str, Any]) -> Incoming:
        number = str(props.get("Number") or "")
        sender = numbers.as_written(number, self.settings.region) or UNKNOWN_SENDER
        text = str(props.get("Text") or "")
        data = bytes(props.get("Data") or b"")
        if not text and data:
            text = f"(A data message of {len(data)} bytes, such as an MMS notification: not shown.)"
        stamp = str(props.get("Timestamp") or "")
        digest = hashlib.sha256()
        for field in (sender, stamp, text, data.hex()):
            digest.update(field.encode("utf-8", "surrogatepass") + b"\x00")
        modem = self._modem.equipment_id if self._modem else ""
        return Incoming(
            sender=sender,
            body=text,
            at_ms=_when(stamp, int(self._clock() * 1000)),
            source_id=f"mm-{modem}:{digest.hexdigest()[:32]}",
            parts=max(1, len(gsm.segment(text).parts)),
        )

    # ---------------------------------------------------------- sending

    async def submit(self, recipients: list[str], body: str) -> str:
        parts = len(gsm.segment(body).parts)
        if parts > self.settings.max_parts:
            raise TransportError(
                f"This text needs {parts} SMS; this modem is set to send at most "
                f"{self.settings.max_parts} (max_parts). Shorten it or split it.",
                permanent=True,
            )
        modem = self._modem
        if modem is None:
            raise TransportError(mm_errors.GONE)
        if await self._ready(modem) < STATE_REGISTERED:
            raise TransportError(mm_errors.NOT_REGISTERED)
        ref = f"mm:{int(self._clock() * 1000):x}:{next(self._refs)}"
        sent: list[tuple[str, int]] = []
        for number in recipients:
            try:
                reference = await self._send(modem, number, body, parts)
            except TransportError as exc:
                if not sent:
                    raise
                self._track(ref, sent)
                raise TransportError(
                    f"Only {len(sent)} of {len(recipients)} recipients got this text before "
                    f"the modem failed ({exc.message}) Send it again to the others if needed.",
                    permanent=True,
                ) from None
            sent.append((number, reference))
        self._track(ref, sent)
        return ref

    async def _send(self, modem: _Modem, number: str, body: str, parts: int) -> int:
        """Send ``body`` to one recipient; the message reference of its last part."""
        dbus = _dbus()
        bus = self._need_bus()
        properties = {
            "number": dbus.Variant("s", number),
            "text": dbus.Variant("s", body),
            "delivery-report-request": dbus.Variant("b", self.settings.delivery_reports),
        }
        if self.settings.smsc:
            properties["smsc"] = dbus.Variant("s", self.settings.smsc)
        (path,) = await bus.call(modem.path, MESSAGING, "Create", "a{sv}", [properties])
        try:
            try:
                await bus.call(path, SMS, "Send", timeout=self.settings.send_timeout)
            except TransportError as exc:
                raise self._send_failed(exc, parts) from None
            try:
                return int((await bus.properties(path, SMS)).get("MessageReference", 0))
            except TransportError:
                return -1  # sent; its report cannot be matched
        finally:
            with contextlib.suppress(TransportError):
                await self._delete(path)

    @staticmethod
    def _send_failed(exc: TransportError, parts: int) -> TransportError:
        """What a failed ``Sms.Send`` means for the text: nothing went out (the error as
        it is), or nobody can tell (permanent: a retry could send it twice).

        ModemManager sends a long text's parts one by one and, when one fails, says
        neither which nor how many went before, so a modem or network error on a long
        text may leave the first parts sent. Errors ModemManager raises before talking
        to the modem (``Core.*``, D-Bus errors) sent nothing.
        """
        name = exc.name if isinstance(exc, CallError) else ""
        if name in UNANSWERED:
            return TransportError(mm_errors.AMBIGUOUS, permanent=True)
        if parts > 1 and name.startswith(("Message.", "MobileEquipment.", "Serial.")):
            return TransportError(
                f"The modem failed while sending this {parts}-part text ({exc.message}) "
                "Part of it may have gone out: send it again if needed.",
                permanent=True,
            )
        return exc

    # ---------------------------------------------------------- delivery reports

    def _track(self, ref: str, sent: list[tuple[str, int]]) -> None:
        if not self.settings.delivery_reports:
            return
        for number, reference in sent:
            if reference < 0:
                continue
            key = (self._key(number), reference)
            old = self._awaiting.pop(key, None)
            if old is not None:
                self._count(old, -1)  # the reference wrapped: the older text loses it
            self._awaiting[key] = ref
            self._count(ref, 1)
        while len(self._awaiting) > MAX_TRACKED:
            _key, old = self._awaiting.popitem(last=False)
            self._count(old, -1)

    def _key(self, number: str) -> str:
        return numbers.as_written(number, self.settings.region) or number

    def _count(self, ref: str, delta: int) -> None:
        count = self._outstanding.get(ref, 0) + delta
        if count > 0:
            self._outstanding[ref] = count
        else:
            self._outstanding.pop(ref, None)

    def _report(self, props: Mapping[str, Any]) -> None:
        state = int(props.get("DeliveryState", 0x100))
        if state >= 0x100:
            return  # unknown, or CDMA
        key = (self._key(str(props.get("Number") or "")), int(props.get("MessageReference", 0)))
        verdict = reports.from_tp_status(state)
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


def _when(stamp: str, now_ms: int) -> int:
    """ModemManager's ISO 8601 time stamp in ms, or now when missing or implausible."""
    try:
        at = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return now_ms
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    ms = int(at.timestamp() * 1000)
    if not 946_684_800_000 <= ms <= now_ms + 86_400_000:  # 2000-01-01 .. tomorrow
        return now_ms
    return ms


def _dbus() -> Any:
    try:
        import dbus_fast  # noqa: PLC0415 (an optional extra, loaded only when chosen)
        import dbus_fast.aio  # noqa: PLC0415
    except ImportError:
        raise ConfigError(
            "The modemmanager transport needs dbus-fast: pip install 'textport[modemmanager]'"
        ) from None
    return dbus_fast


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a ModemManager task stopped: %r", task.exception())


def from_config(
    table: Mapping[str, Any], region: str, clock: Callable[[], float] = time.time
) -> ModemManagerTransport:
    """The transport for ``--transport modemmanager``: its table read in ``region``."""
    _dbus()
    return ModemManagerTransport(MMSettings.from_table(table, region), clock)
