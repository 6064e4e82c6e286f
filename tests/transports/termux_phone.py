"""A fake Android phone with Termux:API, for the ``termux`` transport's tests.

Android cannot run here, so :class:`FakePhone` writes two executables,
``termux-sms-list`` and ``termux-sms-send``, into a folder of its own. They do what
Termux:API's scripts (termux-api-package 0.59.1, ``scripts/termux-sms-*.in``) and its
app (termux-api v0.53.0, ``SmsInboxAPI.java``, ``SmsSendAPI.java``,
``TermuxApiPermissionActivity.java``) document and do, as ../shared/notes/sms-sources.md
§3 sums up:

- ``termux-sms-list [-l N] [-o N] [-t all|inbox|sent|draft|outbox]``: the provider's rows
  sorted ``date DESC``, then offset and limit, printed **oldest first**, each as an
  object with ``threadid``, ``type`` (a word), ``read``, ``sender`` (only when a contact
  matches), ``address``, ``number`` (the same), ``received`` (``yyyy-MM-dd HH:mm:ss``,
  local time) and ``body``, ``_id``, in that order, indented as Android's ``JsonWriter``.
- ``termux-sms-send -n NUM[,NUM…] [-s SLOT] [TEXT…]``: the text from the arguments
  (``echo "$@"``) or else stdin, trimmed by the app; nothing printed when it was taken;
  a slot with no SIM sends nothing, silently.
- Wrong flags: the script's own ``illegal option`` line and exit 1. A permission not
  granted: ``{"error": "Please grant the following permission…"}`` and exit 0.

The phone's state is a folder: ``inbox.json`` (the SMS provider's rows), ``sent.jsonl``
(what the app handed to Android's SmsManager), ``calls.jsonl`` (every call's arguments
and stdin) and one queue of faults per command that the next calls take one by one.
"""

from __future__ import annotations

import datetime as dt
import getopt
import json
import os
import sys
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the executables import this module: they start without textport
    from textport.transports.termux import TermuxSettings, TermuxTransport

ROOT = Path(__file__).resolve().parents[2]
TYPES = {"all": 0, "inbox": 1, "sent": 2, "draft": 3, "outbox": 4}
TYPE_WORDS = {1: "inbox", 2: "sent", 3: "draft", 4: "outbox", 5: "failed"}
PERMISSION = "Please grant the following permission to use this command: "
WRAPPER = """#!{python} -S
import sys
sys.path[:0] = [{root!r}, {src!r}]
from tests.transports.termux_phone import {main}
{main}({phone!r})
"""


class FakePhone:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.sms_list = self.bin / "termux-sms-list"
        self.sms_send = self.bin / "termux-sms-send"
        for path, main in ((self.sms_list, "sms_list"), (self.sms_send, "sms_send")):
            path.write_text(
                WRAPPER.format(
                    python=sys.executable,
                    root=str(ROOT),
                    src=str(ROOT / "src"),
                    main=main,
                    phone=str(folder),
                )
            )
            path.chmod(0o755)
        self.contacts: dict[str, str] = {}
        self.sims = [0, 1]
        _write(folder / "inbox.json", [])
        _write(folder / "phone.json", {"contacts": {}, "sims": self.sims})

    # ---------------------------------------------------------- the test's side

    def settings(self, **overrides: Any) -> TermuxSettings:
        from textport.transports.termux import TermuxSettings  # noqa: PLC0415

        table: dict[str, Any] = {
            "list_command": str(self.sms_list),
            "send_command": str(self.sms_send),
            "timeout": 10,
        } | overrides
        return TermuxSettings.from_table(table, "GB")

    def transport(self, data: Path | None = None, **overrides: Any) -> TermuxTransport:
        from textport.transports.termux import TermuxTransport  # noqa: PLC0415

        state = (data or self.folder) / "termux-seen.json"
        return TermuxTransport(self.settings(**overrides), state)

    def config(self, **overrides: Any) -> str:
        """A ``[termux]`` table for a config file."""
        table = {"list_command": str(self.sms_list), "send_command": str(self.sms_send)}
        lines = [f"{key} = {json.dumps(value)}" for key, value in (table | overrides).items()]
        return "[termux]\n" + "\n".join(lines) + "\n"

    def receive(
        self, address: str, body: str, at: dt.datetime | None = None, name: str | None = None
    ) -> int:
        """A text arrives: Android adds a row to its inbox. Returns its ``_id``."""
        return self.receive_many([(address, body)], at, name)[0]

    def receive_many(
        self, texts: list[tuple[str, str]], at: dt.datetime | None = None, name: str | None = None
    ) -> list[int]:
        rows: list[dict[str, Any]] = json.loads((self.folder / "inbox.json").read_text())
        when = at or dt.datetime.now().replace(microsecond=0)
        ids = []
        for n, (address, body) in enumerate(texts):
            ident = max((row["_id"] for row in rows), default=0) + 1
            rows.append(
                {
                    "_id": ident,
                    "thread_id": zlib.crc32(address.encode()) % 1000,
                    "address": address,
                    "body": body,
                    "date": int(when.timestamp() * 1000) + n,
                    "type": 1,
                    "read": 0,
                }
            )
            ids.append(ident)
            if name is not None:
                self.contacts[address] = name
        _write(self.folder / "inbox.json", rows)
        _write(self.folder / "phone.json", {"contacts": self.contacts, "sims": self.sims})
        return ids

    def add_row(self, **row: Any) -> None:
        rows: list[dict[str, Any]] = json.loads((self.folder / "inbox.json").read_text())
        rows.append(row)
        _write(self.folder / "inbox.json", rows)

    def fail(self, command: str, *faults: Any) -> None:
        """Queue faults for the next calls of ``list`` or ``send``."""
        _write(self.folder / f"faults-{command}.json", list(faults))

    def sent(self) -> list[dict[str, Any]]:
        return _lines(self.folder / "sent.jsonl")

    def calls(self, command: str) -> list[dict[str, Any]]:
        return [call for call in _lines(self.folder / "calls.jsonl") if call["command"] == command]


# ------------------------------------------------------------ the executables


def sms_list(phone: str) -> None:
    folder = Path(phone)
    _record(folder, "list", "")
    fault = _next_fault(folder, "list")
    try:
        options, args = getopt.getopt(sys.argv[1:], "hdl:t:f:cno:")
    except getopt.GetoptError as exc:
        _exit(f"termux-sms-list: illegal option -{exc.opt}", 1)
    if args:
        _exit("termux-sms-list: too many arguments", 1)
    opts = dict(options)
    kind = opts.get("-t", "all")
    if kind not in TYPES:
        _exit(f"termux-sms-list: Unsupported type '{kind}'. Use one of: all|inbox|sent", 1)
    _act(folder, fault, "android.permission.READ_SMS")
    limit, offset = int(opts.get("-l", "10")), int(opts.get("-o", "0"))
    phone_doc = json.loads((folder / "phone.json").read_text())
    rows: list[dict[str, Any]] = json.loads((folder / "inbox.json").read_text())
    rows = [row for row in rows if TYPES[kind] in (0, row["type"])]
    rows.sort(key=lambda row: row["date"], reverse=True)  # "date DESC"
    page = rows[offset : offset + limit][::-1]  # the app walks the cursor backwards
    print(json.dumps([_element(row, phone_doc["contacts"]) for row in page], indent=2))


def _element(row: dict[str, Any], contacts: dict[str, str]) -> dict[str, Any]:
    """``SmsInboxAPI.writeElement``: these fields, in this order."""
    element: dict[str, Any] = {}
    if "thread_id" in row:
        element["threadid"] = row["thread_id"]
    element["type"] = TYPE_WORDS.get(row["type"], "")
    element["read"] = row.get("read", 0) != 0
    name = contacts.get(row.get("address", ""))
    if name is not None:
        element["sender"] = name if row["type"] == 1 else "You"
    element["address"] = row.get("address")
    element["number"] = row.get("address")
    if "date" in row:
        received = time.localtime(row["date"] / 1000)
        element["received"] = time.strftime("%Y-%m-%d %H:%M:%S", received)
    element["body"] = row.get("body")
    if "_id" in row:
        element["_id"] = row["_id"]
    for key in row.get("drop", ()):  # a version that lacks a field
        element.pop(key, None)
    extra: dict[str, Any] = row.get("extra", {})  # a version with more, or other, fields
    return element | extra


def sms_send(phone: str) -> None:
    folder = Path(phone)
    try:
        options, args = getopt.getopt(sys.argv[1:], "hn:s:")
    except getopt.GetoptError as exc:
        _exit(f"termux-sms-send: illegal option -{exc.opt}", 1)
    opts = dict(options)
    if not opts.get("-n"):
        _exit("termux-sms-send: no recipient number given", 1)
    text = " ".join(args) + "\n" if args else sys.stdin.read()  # echo "$@" | termux-api
    _record(folder, "send", text)
    fault = _next_fault(folder, "send")
    _act(folder, fault, "android.permission.SEND_SMS")
    slot = int(opts["-s"]) if "-s" in opts else None
    phone_doc = json.loads((folder / "phone.json").read_text())
    if slot is not None and slot not in phone_doc["sims"]:
        return  # "Sim slot N not found", in Android's log only
    sent = {"recipients": opts["-n"].split(","), "slot": slot, "text": text.strip()}
    with open(folder / "sent.jsonl", "a") as file:
        file.write(json.dumps(sent) + "\n")
    if isinstance(fault, dict) and "stall" in fault:  # taken, then never answers
        Path(fault["stall"]).write_text(str(os.getpid()))
        time.sleep(3600)


def _act(folder: Path, fault: Any, permission: str) -> None:
    """Do what a queued fault says, before the command's work."""
    if fault == "permission":
        print(json.dumps({"error": PERMISSION + permission}, indent=2))
        sys.exit(0)
    if fault == "hang":
        (folder / "hanging.pid").write_text(str(os.getpid()))
        time.sleep(3600)
    if isinstance(fault, dict) and "exit" in fault:
        _exit(fault.get("say", ""), fault["exit"])
    if isinstance(fault, dict) and "print" in fault:
        print(fault["print"])
        sys.exit(0)


def _exit(message: str, code: int) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def _record(folder: Path, command: str, stdin: str) -> None:
    call = {"command": command, "args": sys.argv[1:], "stdin": stdin}
    with open(folder / "calls.jsonl", "a") as file:
        file.write(json.dumps(call) + "\n")


def _next_fault(folder: Path, command: str) -> Any:
    path = folder / f"faults-{command}.json"
    try:
        faults = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    if not faults:
        return None
    _write(path, faults[1:])
    return faults[0]


def _write(path: Path, doc: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(doc))
    os.replace(temporary, path)


def _lines(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line]
    except FileNotFoundError:
        return []
