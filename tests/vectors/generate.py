"""Write tests/vectors/textport-v1.json: deterministic transcripts of protocol v1.

Run ``python -m tests.vectors.generate``. Every key and every random byte comes from a
fixed seed, so the file is the same on every machine; tests/protocol/test_vectors.py fails
when the code and the file disagree, and web/tests/vectors.test.ts replays the file
through the TypeScript implementation byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from textport.errors import TextportError
from textport.protocol import derive, frames, messages, pairing, session
from textport.protocol.noise import KeyPair

OUT = Path(__file__).with_name("textport-v1.json")
RELAY = "ws://127.0.0.1:8750/v1"
NOW = 1_790_000_000


class Drbg:
    """SHA-256 in counter mode: a reproducible stand-in for os.urandom."""

    def __init__(self, seed: str) -> None:
        self._seed = seed.encode()
        self._counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return out[:n]


def key(name: str) -> KeyPair:
    return KeyPair.from_private_bytes(
        hashlib.sha256(b"textport vector key " + name.encode()).digest()
    )


HOST = key("host")
DEVICE = key("device")


def sample_messages() -> list[messages.Message]:
    record = messages.MessageRecord(
        id=41,
        conv=7,
        dir="in",
        peers=["+15550100"],
        body="Liked “see you at 8 🎉”",
        at=1_789_999_000_123,
        state="received",
        reason=None,
        cmid=None,
    )
    return [
        messages.Hello(proto=1, agent="textport-web/0.1 (Chromium)"),
        messages.Welcome(
            proto=1,
            host_name="Ana's phone",
            device_id=derive.b64url(derive.device_id(DEVICE.public)),
            seq=1234,
            caps=messages.Capabilities(
                delivery_reports=True, mms=False, max_parts=10, text_ttl_ms=86_400_000
            ),
        ),
        messages.Sync(since=1200, limit=500),
        messages.Batch(
            events=[
                messages.MessageEvent(seq=1201, msg=record),
                messages.StatusEvent(
                    seq=1202, id=40, state="delivered", reason=None, at=1_789_999_100_000
                ),
                messages.ConversationEvent(
                    seq=1203,
                    conv=messages.ConversationRecord(
                        id=7,
                        peers=["+15550100", "+447700900123"],
                        name="Ana & Bo",
                        last_at=1_789_999_000_123,
                        snippet="Liked “see you at 8 🎉”",
                        unread=2,
                    ),
                ),
            ],
            more=False,
        ),
        messages.Synced(seq=1203),
        messages.Reset(seq=1203),
        messages.EventMessage(
            event=messages.StatusEvent(
                seq=1204, id=42, state="failed", reason="Number blocked", at=1_790_000_000_000
            )
        ),
        messages.Send(
            cmid="0f" * 16,
            to=["+15550100"],
            body="Running late — 10 min 😅\nsorry",
            created=1_789_999_990_000,
        ),
        messages.Ack(cmid="0f" * 16, msg_id=42, state="sending", reason=None),
        messages.Send(
            cmid="0e" * 16, to=["+15550100"], body="Happy birthday!", at=1_790_086_400_000
        ),
        messages.Ack(cmid="0e" * 16, msg_id=43, state="queued", reason=None),
        messages.Unschedule(qid=18, msg_id=43),
        messages.Read(conv=7),
        messages.Search(qid=3, query="dinner", limit=50, before=None),
        messages.Results(
            qid=3,
            hits=[
                messages.Hit(
                    msg_id=12, conv=7, at=1_780_000_000_000, snippet="…for \x02dinner\x03 at…"
                )
            ],
            more=True,
        ),
        messages.Convs(qid=4, before=None, limit=50),
        messages.Convs(qid=5, before=(1_789_999_000_123, 7), limit=50),
        messages.Convs(qid=10, before=None, limit=50, folder="archived"),
        messages.ConvPage(
            qid=5,
            convs=[
                messages.ConversationRecord(
                    id=6,
                    peers=["+15550101"],
                    name=None,
                    last_at=1_789_000_000_000,
                    snippet="📷 Photo",
                    unread=0,
                    hist=3,
                ),
                messages.ConversationRecord(
                    id=5,
                    peers=["+15550100", "+447700900123"],
                    name=None,
                    last_at=1_788_000_000_000,
                    snippet="ok",
                    unread=1,
                    pinned=True,
                    muted=True,
                    names=["Ana", None],
                ),
            ],
            more=True,
        ),
        messages.ConvSet(qid=11, conv=7, pinned=True, unread=False),
        messages.ConvSet(qid=12, conv=7, archived=True, muted=False, blocked=True, unread=True),
        messages.ConvDelete(qid=13, conv=6),
        messages.Contact(qid=14, number="+447700900123", name="Bo 🎈"),
        messages.Contact(qid=15, number="+447700900123", name=None),
        messages.Done(qid=14),
        messages.EventMessage(event=messages.GoneEvent(seq=1205, conv=6)),
        messages.Devices(qid=16),
        messages.DeviceList(
            qid=16,
            devices=[
                messages.DeviceRecord(
                    id="AAECAwQFBgcICQoLDA0ODw",
                    name="Chrome on Linux",
                    agent="textport-web/0.1 Mozilla/5.0",
                    created=1_780_000_000_000,
                    last_seen=1_789_999_000_000,
                    connected=True,
                    current=True,
                ),
                messages.DeviceRecord(
                    id="EBESExQVFhcYGRobHB0eHw",
                    name="Firefox on macOS ✨",
                    agent="textport-py/0.1",
                    created=1_781_000_000_000,
                    last_seen=None,
                    connected=False,
                    current=False,
                    session=True,
                ),
            ],
        ),
        messages.Revoke(qid=17, device_id="EBESExQVFhcYGRobHB0eHw"),
        messages.DeviceChanged(
            change="paired",
            device=messages.DeviceRecord(
                id="EBESExQVFhcYGRobHB0eHw",
                name="Firefox on macOS ✨",
                agent="textport-py/0.1",
                created=1_781_000_000_000,
                last_seen=None,
                connected=False,
                current=False,
            ),
        ),
        messages.Thread(qid=6, conv=7, before=None, after=None, limit=50),
        messages.Thread(qid=7, conv=7, before=None, after=(1_780_000_000_000, 12), limit=20),
        messages.ThreadPage(
            qid=7,
            conv=7,
            msgs=[
                messages.MessageRecord(
                    id=13,
                    conv=7,
                    dir="in",
                    peers=["+15550100", "+447700900123"],
                    body="look at this",
                    at=1_780_000_000_500,
                    state="received",
                    reason=None,
                    cmid=None,
                    kind="mms",
                    sender="+447700900123",
                    subject="Trip",
                    atts=[
                        messages.AttachmentRecord(
                            id=5, type="image/jpeg", name="IMG_0001.jpg", size=48_213, broken=None
                        ),
                        messages.AttachmentRecord(
                            id=6,
                            type="image/png",
                            name=None,
                            size=0,
                            broken="the file's copy of this attachment is corrupt (not base64)",
                        ),
                    ],
                ),
                record,
            ],
            more=False,
        ),
        messages.Fetch(qid=8, att=5, offset=45_000),
        messages.Chunk(
            qid=8,
            att=5,
            offset=45_000,
            total=48_213,
            type="image/jpeg",
            data=base64.b64encode(bytes(range(256)) * 2).decode(),
        ),
        messages.Ping(n=9),
        messages.Pong(n=9),
        messages.Error(
            code="invalid_number", message="The number 555 is not valid.", ref="0f" * 16
        ),
        messages.Bye(reason="revoked"),
        messages.PairRequest(name="Firefox on laptop", agent="Mozilla/5.0"),
        messages.PairRequest(name="Chrome on Linux", agent="Mozilla/5.0", session=True),
        messages.PairAccept(
            host_name="Ana's phone",
            room=derive.b64url(b"R" * 16),
            token=derive.b64url(b"T" * 32),
            relay=RELAY,
        ),
        messages.PairReject(reason="Declined on the host"),
    ]


INVALID_MESSAGES = [
    b"",
    b"[]",
    b"{}",
    b'{"t":"teleport"}',
    b'{"t":"hello","proto":2,"agent":"x"}',
    b'{"t":"send","cmid":"0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F","to":["+15550100"],"body":"hi"}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["555-0100"],"body":"hi"}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+0123"],"body":"hi"}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":[],"body":"hi"}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":""}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":"'
    + b"x" * 10001
    + b'"}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":"hi","at":-1}',
    b'{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":"hi","at":"soon"}',
    b'{"t":"unschedule","qid":1}',
    b'{"t":"sync","since":-1,"limit":10}',
    b'{"t":"sync","since":0,"limit":1001}',
    b'{"t":"sync","since":1.5,"limit":10}',
    b'{"t":"ping","n":9007199254740992}',
    b'{"t":"search","qid":1,"query":"x","limit":101,"before":null}',
    b'{"t":"convs","qid":1,"before":[1],"limit":50}',
    b'{"t":"convs","qid":1,"before":[1,2,3],"limit":50}',
    b'{"t":"thread","qid":1,"conv":2,"before":null,"after":null,"limit":101}',
    b'{"t":"thread","qid":1,"conv":2,"before":[-1,0],"after":null,"limit":10}',
    b'{"t":"fetch","qid":1,"att":2}',
    b'{"t":"convs","qid":1,"before":null,"limit":50,"folder":"trash"}',
    b'{"t":"conv_set","qid":1,"conv":2,"pinned":"yes"}',
    b'{"t":"conv_delete","qid":1}',
    b'{"t":"contact","qid":1,"number":"+15550100","name":""}',
    b'{"t":"contact","qid":1,"number":"a,b","name":"x"}',
    b'{"t":"event","event":{"k":"gone","seq":1}}',
    b'{"t":"chunk","qid":1,"att":2,"offset":0,"total":3,"type":"image/png","data":"a*b="}',
    b'{"t":"chunk","qid":1,"att":2,"offset":0,"total":3,"type":"","data":""}',
    b'{"t":"welcome","proto":1,"host_name":"h","device_id":"AAAAAAAAAAAAAAAAAAAAAB","seq":0,"caps":{"delivery_reports":true,"mms":false,"max_parts":10}}',
    b'{"t":"pair_accept","host_name":"h","room":"UlJSUlJSUlJSUlJSUlJSUg","token":"x","relay":"ws://r"}',
    b'{"t":"pair_accept","host_name":"h","room":"UlJSUlJSUlJSUlJSUlJSUg","token":"VFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFQ","relay":"http://r"}',
    b'{"t":"hello","proto":1,"agent":"\xff"}',
    b'{"t":"hello","proto":1,"agent":"x"',
    # Python's "$" also matches before a final newline; patterns use \Z instead.
    b'{"t":"ack","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\\n","msg_id":1,"state":"sent","reason":null}',
    # An error code must come from the error's path, never from quoted input.
    b'{"t":"ack","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","msg_id":1,"state":"a - at `$.proto`",'
    b'"reason":null}',
    b'{"t":"pair_accept","host_name":"h","room":"UlJSUlJSUlJSUlJSUlJSUg",'
    b'"token":"VFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFQ","relay":"ws://r/v1?x=1"}',
    b'{"t":"ping","n":1,"x":' + b"[" * 3000 + b"]" * 3000 + b"}",
]

VALID_FRAMES: list[frames.ControlOp] = [
    frames.HostOp(room=derive.b64url(b"R" * 16), cred=derive.b64url(b"C" * 32)),
    frames.ReadyOp(online=True),
    frames.RegisterOp(token_hash=derive.b64url(derive.token_hash(b"T" * 32))),
    frames.UnregisterOp(token_hash=derive.b64url(derive.token_hash(b"T" * 32))),
    frames.CloseOp(link=7, reason="revoked"),
    frames.OpenedOp(link=7),
    frames.ClosedOp(link=7),
    frames.JoinOp(room=derive.b64url(b"R" * 16), token=derive.b64url(b"T" * 32)),
    frames.PresenceOp(online=False),
    frames.OfferOp(channel="code-K7QF3M9X", ttl=600),
    frames.AcceptOp(channel="code-K7QF3M9X"),
    frames.PeerOp(),
    frames.ErrorOp(code="pairing_used", message="That pairing code was already used."),
]

INVALID_FRAMES = [
    b"",
    b"\x00",
    b"\x03abc",
    b"\x02\x00\x00\x00",
    b"\x02\x00\x00\x00\x01",
    b"\x01",
    b"\x01[]",
    b"\x01{}",
    b'\x01{"op":"fly"}',
    b'\x01{"op":"join","room":"short","token":"x"}',
    b'\x01{"op":"offer","channel":"c","ttl":601}',
    b'\x01{"op":"opened","link":0}',
    b'\x01{"op":"close","link":4294967296,"reason":""}',
    b'\x01{"op":"accept","channel":"has space"}',
    b"\x01" + b'{"op":"error","code":"x","message":"' + b"m" * 4100 + b'"}',
    b"\x02\x00\x00\x00\x01" + b"\x00" * 65536,
    b'\x01{"op":"accept","channel":"abc\\n"}',
    b'\x01{"op":"peer","x":' + b"[" * 2000 + b"]" * 2000 + b"}",
]

BAD_OFFERS = [
    (  # Arabic-Indic digits are digits to str.isdigit(), not to the spec
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA"
        "&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=%D9%A1%D9%A7%D9%A9%D9%A0",
        "bad_pairing_code",
    ),
    (
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1%0A&c=AAAAAAAAAAAAAAAAAAAAAA"
        "&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "bad_pairing_code",
    ),
    (  # found by fuzz/decoders.py: a malformed IPv6 literal made urlsplit raise ValueError
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%5D3A8750%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA"
        "&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "bad_pairing_code",
    ),
    (
        "textport-pair:1?r=ws%3A%2F%2F%5B%3A%3A1%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA"
        "&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "bad_pairing_code",
    ),
    (
        "textport-pair:2?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "version_mismatch",
    ),
    ("https://example.org/?x=1", "bad_pairing_code"),
    (
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=AAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "bad_pairing_code",
    ),
    (
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "bad_pairing_code",
    ),
    (
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1789999999",
        "pairing_expired",
    ),
    (
        "textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790007200",
        "bad_pairing_code",
    ),
    (
        "textport-pair:1?r=wss%3A%2F%2Fevil.example%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "relay_not_allowed",
    ),
    (
        "textport-pair:1?r=http%3A%2F%2F127.0.0.1%2Fv1&c=AAAAAAAAAAAAAAAAAAAAAA&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&e=1790000060",
        "bad_pairing_code",
    ),
]

CODES = [
    ("K7QF-3M9X", "K7QF3M9X"),
    (" k7qf 3m9x ", "K7QF3M9X"),
    ("IOLO-0000", "1010" + "0000"),
    ("K7QF-3M9", "bad_pairing_code"),
    ("K7QF-3M9U", "bad_pairing_code"),
    ("K7QF-3M9X-1", "bad_pairing_code"),
]


def _hex(data: bytes) -> str:
    return data.hex()


def _transport(
    device: session.Session, host: session.Session, script: list[tuple[str, messages.Message]]
) -> list[dict[str, str]]:
    out = []
    for sender, message in script:
        sealer, opener = (device, host) if sender == "device" else (host, device)
        ciphertext = sealer.seal(message)
        assert opener.open(ciphertext) == message
        out.append(
            {
                "from": sender,
                "body": messages.encode(message).decode(),
                "ciphertext": _hex(ciphertext),
            }
        )
    return out


def offer_transcript() -> dict[str, Any]:
    offer = pairing.PairingOffer.create(RELAY, now=NOW, ttl=60, rng=Drbg("offer"))
    rng_reader, rng_maker = Drbg("offer reader"), Drbg("offer maker")
    host = pairing.offer_handshake(offer, HOST, made_offer=False, rng=rng_reader)
    device = pairing.offer_handshake(offer, DEVICE, made_offer=True, rng=rng_maker)
    msgs = [host.write()]
    device.read(msgs[0])
    msgs.append(device.write())
    host.read(msgs[1])
    msgs.append(host.write())
    device.read(msgs[2])
    hs, ds = host.session(NOW), device.session(NOW)
    return {
        "offer": offer.to_uri(),
        "now": NOW,
        "reader_static": HOST.private_bytes().hex(),
        "maker_static": DEVICE.private_bytes().hex(),
        "reader_ephemeral": Drbg("offer reader")(32).hex(),
        "maker_ephemeral": Drbg("offer maker")(32).hex(),
        "messages": [_hex(m) for m in msgs],
        "handshake_hash": _hex(hs.handshake_hash),
        "confirmation_code": derive.confirmation_code(hs.handshake_hash),
        "transport": _transport(
            ds,
            hs,
            [
                ("device", messages.PairRequest(name="Firefox on laptop", agent="Mozilla/5.0")),
                (
                    "host",
                    messages.PairAccept(
                        host_name="Ana's phone",
                        room=derive.b64url(b"R" * 16),
                        token=derive.b64url(b"T" * 32),
                        relay=RELAY,
                    ),
                ),
            ],
        ),
    }


def code_transcript() -> dict[str, Any]:
    code = pairing.new_code(Drbg("typed code"))
    host = pairing.CodeHostHandshake(code, RELAY, HOST, rng=Drbg("code host"))
    device = pairing.CodeDeviceHandshake(code, RELAY, DEVICE, rng=Drbg("code device"))
    device.read_commitment(host.commitment)
    msgs = [device.write()]
    host.read(msgs[0])
    msgs.append(host.write())
    device.read(msgs[1])
    msgs.append(device.write())
    host.read(msgs[2])
    assert host.comparison_code() == device.comparison_code()
    hs, ds = host.session(NOW), device.session(NOW)
    return {
        "code": code,
        "relay": RELAY,
        "host_static": HOST.private_bytes().hex(),
        "device_static": DEVICE.private_bytes().hex(),
        "host_ephemeral": Drbg("code host")(32).hex(),
        "device_ephemeral": Drbg("code device")(32).hex(),
        "commitment": _hex(host.commitment),
        "messages": [_hex(m) for m in msgs],
        "handshake_hash": _hex(hs.handshake_hash),
        "comparison_code": host.comparison_code(),
        "transport": _transport(
            ds,
            hs,
            [
                ("device", messages.PairRequest(name="Chromium", agent="Mozilla/5.0")),
                ("host", messages.PairReject(reason="Declined on the host")),
            ],
        ),
    }


def session_transcript() -> dict[str, Any]:
    room = Drbg("room")(16)
    device = session.device_handshake(DEVICE, HOST.public, room, rng=Drbg("session device"))
    host = session.host_handshake(HOST, room, rng=Drbg("session host"))
    msgs = [device.write()]
    host.read(msgs[0])
    msgs.append(host.write())
    device.read(msgs[1])
    ds, hs = device.session(NOW), host.session(NOW)
    script: list[tuple[str, messages.Message]] = [
        (
            "device"
            if isinstance(
                m,
                messages.Hello
                | messages.Sync
                | messages.Send
                | messages.Read
                | messages.Search
                | messages.Ping,
            )
            else "host",
            m,
        )
        for m in sample_messages()
        if not isinstance(m, messages.PairRequest | messages.PairAccept | messages.PairReject)
    ]
    script.append(("device", messages.Send(cmid="1e" * 16, to=["+15550100"], body="é" * 3000)))
    return {
        "room": _hex(room),
        "host_static": HOST.private_bytes().hex(),
        "device_static": DEVICE.private_bytes().hex(),
        "host_ephemeral": Drbg("session host")(32).hex(),
        "device_ephemeral": Drbg("session device")(32).hex(),
        "messages": [_hex(m) for m in msgs],
        "handshake_hash": _hex(hs.handshake_hash),
        "transport": _transport(ds, hs, script),
    }


def _error_code(fn: Any) -> str:
    try:
        fn()
    except TextportError as exc:
        return exc.code.value
    raise AssertionError("expected an error")


def build() -> dict[str, Any]:
    token = b"T" * 32
    return {
        "version": 1,
        "generated_by": "python -m tests.vectors.generate",
        "identities": {
            "host_static": HOST.private_bytes().hex(),
            "host_public": _hex(HOST.public),
            "host_id": _hex(derive.host_id(HOST.public)),
            "device_static": DEVICE.private_bytes().hex(),
            "device_public": _hex(DEVICE.public),
            "device_id": _hex(derive.device_id(DEVICE.public)),
            "token": _hex(token),
            "token_hash": _hex(derive.token_hash(token)),
            "session_prologue": _hex(
                derive.session_prologue(b"R" * 16, derive.host_id(HOST.public))
            ),
        },
        "pairing_offer": offer_transcript(),
        "pairing_code": code_transcript(),
        "session": session_transcript(),
        "messages": [messages.encode(m).decode() for m in sample_messages()],
        "invalid_messages": [
            {"body": _hex(b), "code": _error_code(lambda b=b: messages.decode(b))}
            for b in INVALID_MESSAGES
        ],
        "frames": [_hex(frames.encode_control(f)) for f in VALID_FRAMES]
        + [_hex(frames.encode_data(7, b"\x00noise\xff")), _hex(frames.encode_data(0, b"x"))],
        "invalid_frames": [
            {"frame": _hex(f), "code": _error_code(lambda f=f: frames.decode_frame(f))}
            for f in INVALID_FRAMES
        ],
        "padding": [
            {"body_length": n, "padded_length": len(session.pad(b"\x01" * n))}
            for n in (0, 1, 126, 127, 254, 255, 32766, 32767, 65517)
        ],
        "bad_offers": [
            {"offer": uri, "now": NOW, "allowed_relays": [RELAY], "code": code}
            for uri, code in BAD_OFFERS
        ],
        "typed_codes": [{"input": given, "result": result} for given, result in CODES],
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
