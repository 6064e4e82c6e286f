"""The SMPP transport: an ESME bound as a transceiver to one SMSC account.

- **Connection**: one TCP connection, bound with ``bind_transceiver``, kept alive with
  ``enquire_link``; when it drops (or never came up) it is opened again after a wait
  that doubles from ``reconnect_min`` to ``reconnect_max`` seconds, each wait drawn
  between half and all of that (jitter, so that many hosts do not come back at once).
- **Sending**: the text is cut by :func:`textport.transports.gsm.segment` (GSM-7 as
  unpacked septets, ``data_coding`` 0, or UCS-2, ``data_coding`` 8) and each part is
  one ``submit_sm``, concatenated by a user data header (``esm_class`` 0x40) or by the
  ``sar_*`` TLVs. Parts go one after the other. Throttling (``ESME_RTHROTTLED``,
  ``ESME_RMSGQFUL``) and other transient errors on the first part raise a transient
  error (the outbox retries); a later part is retried in place for ``throttle_wait``
  seconds, and then the text fails saying how much of it went out. A ``submit_sm`` left
  unanswered (timeout, broken connection) fails the text as "may or may not have gone
  out": SMPP has no way to ask, and a resend could deliver it twice.
- **Receiving**: each ``deliver_sm`` is answered only after the host committed what it
  carries (``Sink.incoming`` or ``Sink.report`` returned): if the host dies first, the
  SMSC delivers it again. Parts of a long text are put back together
  (:class:`~textport.transports.reassembly.Reassembler`); each part is answered when the
  whole text is stored, or after ``part_ack_wait`` seconds at the latest (an SMSC
  times out waiting otherwise). A text whose parts stop coming is stored partial after
  ``reassembly_timeout``. When the host cannot store, the SMSC is answered
  ``ESME_RX_T_APPN`` and tries again later.
- **Delivery receipts** (``esm_class`` 0x04 or a ``receipted_message_id`` TLV) are
  matched with the message ids ``submit_sm_resp`` returned. A text is ``delivered`` when
  every part to every recipient is, ``failed`` as soon as one part fails. Only the last
  ``MAX_TRACKED`` message ids are remembered; a receipt for an id this process did not
  send is reported as ``smpp:<id>``, which is the carrier reference of a one-part text:
  so those still match after a restart.

Logs name the SMSC and the account, never the password, a number or a text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Final

from textport import numbers
from textport.errors import TransportError
from textport.transports import gsm
from textport.transports.base import Capabilities, Incoming, Sink, Transport
from textport.transports.reassembly import Assembled, Part, Reassembler
from textport.transports.smpp import pdu, receipt, status
from textport.transports.smpp.session import NoAnswerError, NotSentError, Session
from textport.transports.smpp.settings import SmppSettings

log = logging.getLogger(__name__)

MAX_TRACKED: Final = 100_000
"""Message ids whose receipt is still awaited, at most (oldest forgotten first)."""
MAX_HELD: Final = 10_000
"""Unanswered parts of long incoming texts, at most (the oldest is answered early)."""
UNKNOWN_SENDER: Final = "Unknown"
TICK: Final = 0.5
"""Seconds between two looks at waiting parts (reassembly timeout, part_ack_wait)."""

Handle = tuple[int, int]
"""A received part: (connection number, sequence number)."""


@dataclass
class _Held:
    session: Session
    sequence: int
    since: float


class SmppTransport(Transport):
    name = "smpp"

    def __init__(
        self,
        settings: SmppSettings,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.capabilities = Capabilities(
            delivery_reports=settings.delivery_reports,
            mms=False,
            max_parts=settings.max_parts,
            dual_sim=False,
            incoming="events",
        )
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        self._sink: Sink | None = None
        self._session: Session | None = None
        self._bound = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._connections = itertools.count(1)
        self._connection = 0
        self._references = itertools.count(self._rng.randrange(256))
        self._reassembler: Reassembler[Handle] = Reassembler(
            int(settings.reassembly_timeout * 1000)
        )
        self._held: OrderedDict[Handle, _Held] = OrderedDict()
        self._awaiting: OrderedDict[str, str] = OrderedDict()
        self._outstanding: dict[str, int] = {}
        self._settled: OrderedDict[str, None] = OrderedDict()
        self._submitting = 0
        self._deferred: list[tuple[Session, int, receipt.Receipt]] = []
        self.binds = 0
        """How many times a bind succeeded (tests watch reconnects with it)."""

    # ---------------------------------------------------------- lifecycle

    async def start(self, sink: Sink) -> None:
        """Bind once, then keep the connection up in the background.

        Raises TransportError when the SMSC refuses the account (wrong system_id or
        password). An SMSC that cannot be reached is not an error here: the transport
        keeps trying, and texts wait in the outbox meanwhile.
        """
        self._sink = sink
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._spawn(self._connect_forever(first), "smpp connection")
        self._spawn(self._housekeeping(), "smpp housekeeping")
        try:
            await first
        except TransportError:
            await self.stop()
            raise

    async def stop(self) -> None:
        session, self._session = self._session, None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._bound.clear()
        if session is not None:
            await session.unbind()
        self._sink = None

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_log_failure)
        self._tasks.append(task)

    async def _connect_forever(self, first: asyncio.Future[None]) -> None:
        settings = self.settings
        failures = 0
        while True:
            try:
                session = await Session.open(settings, self._on_request)
                session.start()
                try:
                    smsc = await session.bind()
                except BaseException:
                    await session.close()
                    raise
            except TransportError as exc:
                if not first.done():
                    if exc.permanent:
                        first.set_exception(exc)
                        return
                    first.set_result(None)
                log.warning("SMPP: %s Trying again.", exc.message.rstrip("."))
                failures += 1
                cap = min(settings.reconnect_max, settings.reconnect_min * 2 ** (failures - 1))
                await asyncio.sleep(self._rng.uniform(cap / 2, cap))
                continue
            failures = 0
            self.binds += 1
            self._connection = next(self._connections)
            self._session = session
            self._bound.set()
            log.info(
                "SMPP: bound to %s:%d as %s (SMSC %s)",
                settings.host,
                settings.port,
                settings.system_id,
                smsc or "unnamed",
            )
            if not first.done():
                first.set_result(None)
            try:
                await session.wait_closed()
            finally:
                self._bound.clear()
                if self._session is session:
                    self._session = None
            failures = 1
            await asyncio.sleep(
                self._rng.uniform(settings.reconnect_min / 2, settings.reconnect_min)
            )

    async def _ready(self) -> Session:
        """The bound session, waiting a little for one; NotSentError if none comes."""
        session = self._session
        if session is not None and not session.closed.is_set():
            return session
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bound.wait(), self.settings.connect_timeout)
        session = self._session
        if session is None or session.closed.is_set():
            raise NotSentError(
                f"Not connected to the SMSC at {self.settings.host}:{self.settings.port}."
            )
        return session

    # ---------------------------------------------------------- sending

    async def submit(self, recipients: list[str], body: str) -> str:
        messages = self._encode(body)
        destinations = [_destination(number) for number in recipients]
        total = len(messages) * len(destinations)
        sent = 0
        ref: str | None = None
        self._submitting += 1
        try:
            for ton, npi, address in destinations:
                for message in messages:
                    try:
                        message_id = await self._submit_part(message, ton, npi, address, not sent)
                    except TransportError as exc:
                        if not sent:
                            raise
                        raise TransportError(
                            f"Only {sent} of {total} SMS of this text went out before the "
                            f"SMSC failed ({exc.message.rstrip('.')}). The recipient may see "
                            "part of it: send it again if needed.",
                            permanent=True,
                        ) from None
                    ref = ref or f"smpp:{message_id}"
                    self._track(ref, message_id)
                    sent += 1
        except BaseException:
            if ref is not None:
                self._untrack(ref)
            raise
        finally:
            self._submitting -= 1
            if not self._submitting and self._deferred:
                # After the outbox stored the ref (it does so as soon as this returns).
                deferred, self._deferred = self._deferred, []
                asyncio.get_running_loop().call_soon(self._apply_deferred, deferred)
        if ref is None:
            raise TransportError("There was nobody to send this text to.", permanent=True)
        return ref

    def _encode(self, body: str) -> list[pdu.SubmitSm]:
        """The parts of ``body`` as submit_sm templates (no address, no sequence)."""
        segments = gsm.segment(body)
        texts = segments.parts or ("",)
        if len(texts) > self.settings.max_parts:
            raise TransportError(
                f"This text needs {len(texts)} SMS; this account is set to send at most "
                f"{self.settings.max_parts} (max_parts). Shorten it or split it.",
                permanent=True,
            )
        gsm7 = segments.encoding == "GSM-7"
        coding = pdu.CODING_DEFAULT if gsm7 else pdu.CODING_UCS2
        reference = next(self._references) % 256
        sar = self.settings.concatenation == "sar"
        out: list[pdu.SubmitSm] = []
        for number, text in enumerate(texts, 1):
            payload = gsm.to_septets(text) if gsm7 else text.encode("utf-16-be")
            esm_class = 0
            tlvs: tuple[pdu.Tlv, ...] = ()
            if len(texts) > 1 and sar:
                tlvs = (
                    pdu.Tlv(pdu.SAR_MSG_REF_NUM, reference.to_bytes(2, "big")),
                    pdu.Tlv(pdu.SAR_TOTAL_SEGMENTS, bytes([len(texts)])),
                    pdu.Tlv(pdu.SAR_SEGMENT_SEQNUM, bytes([number])),
                )
            elif len(texts) > 1:
                concat = gsm.Concat(reference, len(texts), number)
                payload = gsm.concat_udh(concat) + payload
                esm_class = pdu.ESM_UDHI
            out.append(
                pdu.SubmitSm(
                    sequence=0,
                    source_addr_ton=_ton(self.settings.source_addr),
                    source_addr_npi=_npi(self.settings.source_addr),
                    source_addr=_digits(self.settings.source_addr),
                    esm_class=esm_class,
                    registered_delivery=1 if self.settings.delivery_reports else 0,
                    data_coding=coding,
                    short_message=payload,
                    tlvs=tlvs,
                )
            )
        return out

    async def _submit_part(
        self, template: pdu.SubmitSm, ton: int, npi: int, address: str, first: bool
    ) -> str:
        """One submit_sm; the SMSC's message id. Throttling on a later part is waited out."""
        deadline = time.monotonic() + self.settings.throttle_wait
        pause = 0.2
        while True:
            session = await self._ready()

            def make(sequence: int) -> pdu.Pdu:
                return replace(
                    template,
                    sequence=sequence,
                    dest_addr_ton=ton,
                    dest_addr_npi=npi,
                    destination_addr=address,
                )

            try:
                answer = await session.request(make)
            except NoAnswerError as exc:
                raise TransportError(
                    f"{exc.message} It may or may not have gone out: SMPP cannot tell, so "
                    "textport does not send it again by itself.",
                    permanent=True,
                ) from None
            if answer.status == status.ESME_ROK and isinstance(answer, pdu.SubmitSmResp):
                return answer.message_id
            if answer.status == status.ESME_ROK:
                raise TransportError(
                    "The SMSC answered submit_sm with something else: it may or may not "
                    "have gone out.",
                    permanent=True,
                )
            if first or not status.is_throttling(answer.status):
                raise status.submit_error(answer.status)
            if time.monotonic() + pause > deadline:
                raise status.submit_error(answer.status)
            await asyncio.sleep(self._rng.uniform(pause / 2, pause))
            pause = min(pause * 2, 5.0)

    def _track(self, ref: str, message_id: str) -> None:
        """Remember that a receipt for ``message_id`` is one for the text ``ref``."""
        if not self.settings.delivery_reports:
            return
        key = receipt.match_keys(message_id)[0]
        old = self._awaiting.pop(key, None)
        if old is not None:
            self._count(old, -1)
        self._awaiting[key] = ref
        self._count(ref, 1)
        while len(self._awaiting) > MAX_TRACKED:
            _key, old = self._awaiting.popitem(last=False)
            self._count(old, -1)

    def _untrack(self, ref: str) -> None:
        """Forget a text's awaited receipts; those still coming are then ignored."""
        for key in [k for k, value in self._awaiting.items() if value == ref]:
            del self._awaiting[key]
            self._settled[key] = None
        while len(self._settled) > MAX_TRACKED:
            self._settled.popitem(last=False)
        self._outstanding.pop(ref, None)

    def _count(self, ref: str, delta: int) -> None:
        count = self._outstanding.get(ref, 0) + delta
        if count > 0:
            self._outstanding[ref] = count
        else:
            self._outstanding.pop(ref, None)

    # ---------------------------------------------------------- receiving

    def _on_request(self, session: Session, message: pdu.Pdu) -> None:
        """A deliver_sm (the session answers everything else itself)."""
        if not isinstance(message, pdu.DeliverSm):
            return
        if receipt.is_receipt(message):
            self._on_receipt(session, message)
        else:
            self._on_text(session, message)

    def _on_receipt(self, session: Session, message: pdu.DeliverSm) -> None:
        found = receipt.parse(message)
        if found is not None and found.verdict.outcome != "pending" and self._submitting:
            # Perhaps faster than submit: the host may not know the text's ref yet (nor
            # this transport the message id, when the receipt was read in the same
            # breath as its submit_sm_resp). Applied, and answered, once it does.
            self._deferred.append((session, message.sequence, found))
            return
        _answer(session, message.sequence, self._apply(found))

    def _apply_deferred(self, deferred: list[tuple[Session, int, receipt.Receipt]]) -> None:
        for session, sequence, found in deferred:
            _answer(session, sequence, self._apply(found))

    def _apply(self, found: receipt.Receipt | None) -> int:
        """Tell the host what the receipt says; the deliver_sm_resp status to answer."""
        if found is None or found.verdict.outcome == "pending":
            return status.ESME_ROK
        if self._sink is None:
            return status.ESME_RX_T_APPN
        try:
            self._report(self._sink, found)
        except Exception:  # the host could not store it: the SMSC sends it again
            log.exception("SMPP: a delivery report could not be stored")
            return status.ESME_RX_T_APPN
        return status.ESME_ROK

    def _key(self, message_id: str) -> str | None:
        return next((k for k in receipt.match_keys(message_id) if k in self._awaiting), None)

    def _report(self, sink: Sink, found: receipt.Receipt) -> None:
        key = self._key(found.message_id)
        outcome = found.verdict.outcome
        if key is None:
            if any(k in self._settled for k in receipt.match_keys(found.message_id)):
                return  # a later part of a text that already failed
            # Not sent by this process (a restart): a one-part text's ref is its id.
            if outcome in ("delivered", "failed"):
                sink.report(f"smpp:{found.message_id}", outcome, found.verdict.reason)
            return
        ref = self._awaiting.pop(key)
        if outcome == "failed":
            self._untrack(ref)
            sink.report(ref, "failed", found.verdict.reason)
            return
        self._count(ref, -1)
        if ref not in self._outstanding:
            sink.report(ref, "delivered", None)

    def _on_text(self, session: Session, message: pdu.DeliverSm) -> None:
        now = self._clock()
        handle = (self._connection, message.sequence)
        part = self._part(message, handle, int(now * 1000))
        self._held[handle] = _Held(session, message.sequence, time.monotonic())
        texts = self._reassembler.add(part, int(now * 1000))
        for text in texts:
            self._hand_over(text)
        while len(self._held) > MAX_HELD:
            _handle, held = self._held.popitem(last=False)
            _answer(held.session, held.sequence, status.ESME_ROK)

    def _hand_over(self, text: Assembled[Handle]) -> None:
        """Store one whole (or timed-out) text, then answer its parts' deliver_sm."""
        answer = status.ESME_ROK
        if self._sink is not None:
            try:
                self._sink.incoming(
                    Incoming(
                        sender=text.sender,
                        body=text.text,
                        at_ms=text.at_ms,
                        source_id=_source_id(text),
                        parts=text.total,
                        missing=text.missing,
                    )
                )
            except Exception:  # the host could not store it: the SMSC sends it again
                log.exception("SMPP: a received text could not be stored")
                answer = status.ESME_RX_T_APPN
        else:
            answer = status.ESME_RX_T_APPN
        self._reassembler.forget(text.handles)
        for handle in text.handles:
            held = self._held.pop(handle, None)
            if held is not None:
                _answer(held.session, held.sequence, answer)

    def _part(self, message: pdu.DeliverSm, handle: Handle, now_ms: int) -> Part[Handle]:
        data = message.short_message or message.tlv(pdu.MESSAGE_PAYLOAD) or b""
        concat: gsm.Concat | None = None
        if message.esm_class & pdu.ESM_UDHI and data and data[0] + 1 <= len(data):
            udh, data = data[: data[0] + 1], data[data[0] + 1 :]
            concat = gsm.parse_concat(udh)
        reference, total, number = message.tlv(pdu.SAR_MSG_REF_NUM), None, None
        if concat is None and reference is not None:
            total, number = message.tlv(pdu.SAR_TOTAL_SEGMENTS), message.tlv(pdu.SAR_SEGMENT_SEQNUM)
            if total and number and 1 <= number[0] <= total[0]:
                concat = gsm.Concat(int.from_bytes(reference[:2], "big"), total[0], number[0])
        sender = _sender(message, self.settings.region)
        return Part(
            sender=sender,
            text=decode_text(data, message.data_coding),
            at_ms=now_ms,
            handle=handle,
            reference=concat.reference if concat else 0,
            total=concat.total if concat else 1,
            number=concat.number if concat else 1,
        )

    async def _housekeeping(self) -> None:
        """Store texts whose parts stopped coming; answer parts that waited too long."""
        while True:
            await asyncio.sleep(TICK)
            for text in self._reassembler.expire(int(self._clock() * 1000)):
                self._hand_over(text)
            due = time.monotonic() - self.settings.part_ack_wait
            while self._held:
                handle, held = next(iter(self._held.items()))
                if held.since > due:
                    break
                del self._held[handle]
                _answer(held.session, held.sequence, status.ESME_ROK)


# ------------------------------------------------------------ helpers


def decode_text(data: bytes, coding: int) -> str:
    """A short message's octets as text, by its data_coding (SMPP 3.4 5.2.19 and the
    GSM 03.38 coding groups). Never raises."""
    alphabet = "gsm"
    if coding in (1, 3):
        alphabet = "latin-1"
    elif coding in (2, 4) or coding & 0xF4 == 0xF4:
        alphabet = "binary"
    elif coding == 8:
        alphabet = "ucs2"
    elif 0x10 <= coding <= 0x3F or 0xC0 <= coding <= 0xEF:
        group = (coding >> 2) & 3 if coding < 0xC0 else (2 if coding >= 0xE0 else 0)
        alphabet = {0: "gsm", 1: "binary", 2: "ucs2"}.get(group, "gsm")
    elif coding not in (0, 0xF0, 0xF1, 0xF2, 0xF3):
        alphabet = "latin-1"
    if alphabet == "gsm":
        return gsm.from_septets(data)
    if alphabet == "ucs2":
        return data.decode("utf-16-be", "replace")
    if alphabet == "binary":
        return f"(A data message of {len(data)} bytes, such as an MMS notification: not shown.)"
    return data.decode("latin-1")


def _sender(message: pdu.DeliverSm, region: str) -> str:
    raw = message.source_addr.strip()
    if message.source_addr_ton == 1 and raw.isdigit():
        raw = "+" + raw
    written = numbers.as_written(raw, region)
    return written if written is not None else UNKNOWN_SENDER


def _source_id(text: Assembled[Handle]) -> str:
    """Stable for the stored text; SMPP gives a received text no id of its own."""
    digest = hashlib.sha256(f"{text.sender}\x00{text.text}".encode("utf-8", "surrogatepass"))
    return f"smpp:{text.at_ms:x}:{digest.hexdigest()[:16]}"


def _digits(address: str) -> str:
    return address[1:] if address.startswith("+") else address


def _ton(address: str) -> int:
    """International for +digits, unknown for other digits, alphanumeric for a name."""
    if address.startswith("+") and address[1:].isdigit():
        return 1
    return 0 if address.isdigit() else 5


def _npi(address: str) -> int:
    """ISDN (E.164) for numbers; unknown for an alphanumeric sender name."""
    return 1 if _digits(address).isdigit() else 0


def _destination(number: str) -> tuple[int, int, str]:
    if not _digits(number).isdigit() or len(_digits(number)) >= pdu.MAX_ADDR:
        raise TransportError(
            "SMPP sends only to phone numbers (digits, with + and the country code).",
            permanent=True,
        )
    return _ton(number), _npi(number), _digits(number)


def _answer(session: Session, sequence: int, answer: int) -> None:
    with contextlib.suppress(TransportError, OSError):
        session.send(pdu.DeliverSmResp(sequence=sequence, status=answer))


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r", task.get_name(), task.exception())
