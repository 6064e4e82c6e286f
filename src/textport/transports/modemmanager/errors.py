"""ModemManager's D-Bus errors as TransportErrors: transient or permanent, and why. No I/O.

ModemManager answers a failed call with a D-Bus error name
(``org.freedesktop.ModemManager1.Error.<Domain>.<Name>``) and a short English message.
``+CMS ERROR`` codes it has no name for come as ``Message.Unknown`` with the message
``Unknown message error: <code>``: those codes are TS 24.011 RP-causes (below 128) and
TS 23.040 TP-failure causes (128-255), which :func:`classify` reads too.

Transient errors are retried by the outbox until the text expires; permanent ones fail
the text at once with the sentence as its reason. Unknown errors count as transient: the
text's expiry bounds the retries. Sentences never contain numbers or bodies.
"""

from __future__ import annotations

import re
from typing import Final

from textport.errors import TransportError

PREFIX: Final = "org.freedesktop.ModemManager1.Error."

GONE: Final = (
    "The modem is gone (unplugged, reset, or ModemManager restarted): texts wait until it is back."
)
NOT_RUNNING: Final = "ModemManager is not running on the system D-Bus (start it)."
SIM_MISSING: Final = "There is no SIM card in the modem."
SIM_LOCKED: Final = "The SIM card is locked and wants its PIN (mmcli -i any --pin=…)."
NOT_REGISTERED: Final = "The modem is not registered with a mobile network (no signal?)."
AMBIGUOUS: Final = (
    "The modem did not confirm the text in time: it may or may not have gone out. Send "
    "it again if needed."
)

_TRANSIENT: Final = {
    # ModemManager itself
    "Core.Retry": "ModemManager asked to try again later",
    "Core.InProgress": "The modem is busy with another operation",
    "Core.WrongState": "The modem is not ready to send (not enabled or not registered)",
    "Core.WrongSimState": "The SIM card is not ready",
    "Core.Cancelled": "The operation was cancelled",
    "Core.Aborted": "The operation was aborted",
    "Core.Failed": "ModemManager reported a failure",
    "Core.Unauthorized": "ModemManager refused: this user is not allowed to send texts "
    "(run the host as root, or allow it with a polkit rule: see docs/transports.md)",
    "Core.ResetAndRetry": "The modem needs a reset",
    # the modem's serial port
    "Serial.OpenFailed": "The modem's port could not be opened",
    "Serial.OpenFailedNoDevice": "The modem's port does not exist (unplugged?)",
    "Serial.SendFailed": "Writing to the modem failed",
    "Serial.NotOpen": "The modem's port is closed",
    "Serial.ResponseTimeout": "The modem did not answer in time",
    # +CMS ERROR with a name
    "Message.MeFailure": "The modem reported a failure",
    "Message.SimNotInserted": "There is no SIM card in the modem",
    "Message.SimPin": "The SIM card wants its PIN",
    "Message.PhSimPin": "The modem wants its PIN",
    "Message.SimFailure": "The SIM card failed",
    "Message.SimBusy": "The SIM card is busy",
    "Message.SimWrong": "The SIM card is not the right one",
    "Message.SimPuk": "The SIM card is blocked and wants its PUK",
    "Message.MemoryFailure": "The modem's memory failed",
    "Message.MemoryFull": "The modem's message memory is full",
    "Message.NoNetwork": "No mobile network service",
    "Message.NetworkTimeout": "The mobile network did not answer in time",
    "Message.Unknown": "The modem or the network reported an unspecified error",
    # +CME ERROR
    "MobileEquipment.PhoneFailure": "The modem reported a failure",
    "MobileEquipment.NoConnection": "The modem has no connection",
    "MobileEquipment.SimNotInserted": "There is no SIM card in the modem",
    "MobileEquipment.SimPin": "The SIM card wants its PIN",
    "MobileEquipment.SimPuk": "The SIM card is blocked and wants its PUK",
    "MobileEquipment.SimFailure": "The SIM card failed",
    "MobileEquipment.SimBusy": "The SIM card is busy",
    "MobileEquipment.MemoryFull": "The modem's memory is full",
    "MobileEquipment.NoNetwork": "No mobile network service",
    "MobileEquipment.NetworkTimeout": "The mobile network did not answer in time",
    "MobileEquipment.Unknown": "The modem reported an unspecified error",
}

_PERMANENT: Final = {
    "Core.Unsupported": "This modem cannot send texts",
    "Core.InvalidArgs": "ModemManager refused this text as invalid",
    "Core.TooMany": "This text has too many parts for the modem",
    "Message.NotAllowed": "The modem does not allow sending texts",
    "Message.NotSupported": "The modem cannot send this kind of text",
    "Message.InvalidPduParameter": "The modem refused this text as invalid",
    "Message.InvalidTextParameter": "The modem refused this text as invalid",
    "Message.SmscAddressUnknown": "The SIM has no message centre number: set smsc in the config",
    "MobileEquipment.NotAllowed": "The modem does not allow this",
    "MobileEquipment.NotSupported": "The modem cannot do this",
    "MobileEquipment.TextTooLong": "The text is too long for the modem",
    "MobileEquipment.InvalidChars": "The modem refused characters in this text",
    "MobileEquipment.InvalidDialString": "The modem refused the number",
    "MobileEquipment.DialStringTooLong": "The number is too long for the modem",
}

_CMS_PERMANENT: Final = {
    1: "The number is not in use",
    8: "The network bars texts from this SIM",
    10: "Texts to this number are barred",
    21: "The network refused this text",
    28: "The network does not know the recipient",
    29: "The network refused the service",
    30: "The network does not know the recipient",
    50: "This SIM is not subscribed to sending texts",
    69: "The network cannot send this kind of text",
    95: "The network found this text invalid",
    96: "The network found this text invalid",
    0x80: "The network cannot send this kind of text",
    0xA1: "The network cannot send this kind of text",
    0xB0: "The network cannot send this kind of text",
    0xC1: "This SIM has no subscription to the message centre",
    0xC3: "The message centre refused the number",
    0xC4: "The recipient is barred",
    0xC5: "The message centre refused this text as a duplicate",
}
"""``+CMS ERROR`` causes this text will keep getting; every other cause is transient (e.g.
27 destination out of service, 38 network out of order, 41 temporary failure, 42
congestion, 0xC0 message centre busy)."""

_CMS_CODE: Final = re.compile(r"message error: (\d{1,3})\b")


def classify(name: str, message: str = "") -> TransportError:
    """The D-Bus error ``name`` (and its ``message``) as a TransportError."""
    short = name.removeprefix(PREFIX)
    if name.startswith("org.freedesktop.DBus.Error."):
        return _dbus(short.removeprefix("org.freedesktop.DBus.Error."))
    if "could not open serial device" in message.lower():
        # ModemManager 1.20 sends this serial error under a wrong name (Core.Connected).
        return TransportError(f"{_TRANSIENT['Serial.OpenFailed']} (unplugged?). ({short})")
    if short == "Message.Unknown" and (match := _CMS_CODE.search(message)):
        return _cms(int(match.group(1)))
    if short in _PERMANENT:
        return TransportError(f"{_PERMANENT[short]}. ({short})", permanent=True)
    if short in _TRANSIENT:
        return TransportError(f"{_TRANSIENT[short]}. ({short})")
    return TransportError(f"ModemManager reported an error. ({short})")


def _cms(code: int) -> TransportError:
    if code in _CMS_PERMANENT:
        return TransportError(f"{_CMS_PERMANENT[code]}. (CMS error {code})", permanent=True)
    return TransportError(f"The network refused this text for now. (CMS error {code})")


def _dbus(short: str) -> TransportError:
    if short in ("ServiceUnknown", "NameHasNoOwner"):
        return TransportError(NOT_RUNNING)
    if short in ("UnknownObject", "UnknownInterface", "UnknownMethod"):
        return TransportError(GONE)
    if short == "AccessDenied":
        return TransportError(
            "The system D-Bus refused access to ModemManager (see docs/transports.md)."
        )
    return TransportError(f"The system D-Bus reported an error. ({short})")
