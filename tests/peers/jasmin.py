"""Jasmin 0.11.0, the SMPP gateway, with RabbitMQ and Redis, routed to its SMSC simulator.

Everything runs from a folder of its own, on 127.0.0.1 and free ports, and is stopped by
PID (scripts/peers/jasmin installs Jasmin in .peers/jasmin, outside textport's venv):

* :class:`SmscSimulator`: the sdist's ``ManualDeliveryReceiptHappySMSC`` served by
  ``tests/peers/smsc_runner.py`` (its docstring has the control protocol). Bound to
  directly, it is a light SMPP peer (0.3-0.5 s to start); in the stack it is the
  network behind Jasmin. It can send MO texts and receipts, and be killed and restarted
  on the same port; its journal of every ``submit_sm`` survives that.
* :class:`JasminStack`: a private ``epmd`` and RabbitMQ, a private ``redis-server``, the
  simulator, and ``jasmind`` with the sdist's ``misc/config/jasmin.cfg`` relocated
  (``ROOT_PATH``, ``CONFIG_PATH``, ``LOG_PATH``, every listener on 127.0.0.1 and a free
  port). Once up it is configured through jCli as an operator would: a group, a user
  whose ``system_id``/password textport's ESME binds with, an ``smppccm`` connector to
  the simulator (``submit_throughput 0``, reconnecting after 1 s), a default MT route to
  it, a default MO route to ``smpps(user)``, then ``persist``, so a restarted
  ``jasmind`` loads the same profile.

Start order, as ../shared/PEERS.md found it must be: RabbitMQ, Redis and the simulator
together (RabbitMQ's AMQP port accepting a handshake is the slow part, 3-6 s), then
jasmind (its SMPP and jCli ports), then jCli. Measured here on the 2-core machine: the
simulator 0.2 s; the whole stack 4-5 s (RabbitMQ 3.5-4.5 s of it, jasmind 0.4 s, jCli
and the connector's bind 0.1 s); a jasmind restart 2.5 s; stopping everything 1.5 s.
Logs stay in the folder; :meth:`JasminStack.logs` returns their tails for failure
messages.

jasmind takes a machine-wide lock (``/tmp/jasmind.lock``) that would keep two test runs
from each having a Jasmin and that a killed jasmind leaves behind:
``tests/peers/jasmind_runner.py`` moves it into the stack's folder.
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
PEER: Final = ROOT / ".peers" / "jasmin"
PYTHON: Final = PEER / "venv" / "bin" / "python"
JASMIND: Final = PEER / "venv" / "bin" / "jasmind.py"
SDIST: Final = PEER / "sdist"
RUNNER: Final = Path(__file__).with_name("smsc_runner.py")
JASMIND_RUNNER: Final = Path(__file__).with_name("jasmind_runner.py")
RABBITMQ_SERVER: Final = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
FACTOR: Final = float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
START_TIMEOUT: Final = 60.0 * FACTOR
JCLI_USER: Final = "jcliadmin"
JCLI_PASSWORD: Final = "jclipwd"  # Jasmin's documented default, on loopback
LISTENERS: Final = (
    "smpp-server",
    "smpp-server-pb",
    "client-management",
    "http-api",
    "router",
    "jcli",
)


class PeerError(Exception):
    """A peer did not start, or answered its control channel with an error."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no {path.name})"
    return f"--- {path}\n" + "\n".join(text.splitlines()[-lines:])


def poll(check: Callable[[], bool], what: str, timeout: float, proc: Process | None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.popen.poll() is not None:
            raise PeerError(f"{proc.name} exited ({proc.popen.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise PeerError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def environment(changes: dict[str, str | None]) -> dict[str, str]:
    """This process's environment with ``changes``; a None value removes the variable."""
    env = {**os.environ, **changes}
    return {key: value for key, value in env.items() if value is not None}


class Process:
    """A child process in a session of its own; output to ``log``; stopped by its PID."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log: Path,
        env: dict[str, str | None] | None = None,
        *,
        stdout: int | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self._log = log.open("ab")
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log if stdout is None else stdout,
            stderr=self._log,
            env=environment(env or {}),
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def kill(self) -> None:
        """SIGKILL, as a crash: the process group, so no helper outlives it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        self.popen.wait(10)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self._log.close()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL to the group if it is still there after ``grace``."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        # Whatever it started in its session (Erlang's helpers) goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self._reap()


# ------------------------------------------------------------------------- the simulator


@dataclass(frozen=True)
class Submit:
    """One ``submit_sm`` the simulator took, from its journal."""

    message_id: str
    source: str
    destination: str
    data_coding: int
    esm_class: int
    registered_delivery: int
    short_message: bytes

    @property
    def udh(self) -> bytes:
        if not self.esm_class & 0x40:
            return b""
        return self.short_message[: self.short_message[0] + 1]

    @property
    def text(self) -> str:
        """The part's text: UCS-2 as UTF-16BE, anything else as one character per octet."""
        data = self.short_message[len(self.udh) :]
        return data.decode("utf-16-be") if self.data_coding == 8 else data.decode("latin-1")

    @property
    def concat(self) -> tuple[int, int, int] | None:
        """(reference, total, sequence) of an 8- or 16-bit concatenation header."""
        udh = self.udh
        at = 1
        while at + 1 < len(udh):
            iei, size = udh[at], udh[at + 1]
            value = udh[at + 2 : at + 2 + size]
            if iei == 0 and size == 3:
                return value[0], value[1], value[2]
            if iei == 8 and size == 4:
                return value[0] << 8 | value[1], value[2], value[3]
            at += 2 + size
        return None


class SmscSimulator:
    """Jasmin's SMSC simulator in a process of its own, with its control channel."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.journal = folder / "submits.jsonl"
        self.log = folder / "smsc.log"
        self.port = 0
        self.control_port = 0
        self.process: Process | None = None
        self._receipts: tuple[str | None, float] = (None, 0.0)

    def start(self) -> None:
        """Start (or restart, on the same ports, receipts as they were set) and wait until
        it listens."""
        if not PYTHON.exists():
            raise PeerError(f"{PYTHON} is missing: run scripts/setup (scripts/peers/jasmin)")
        argv = [
            str(PYTHON),
            str(RUNNER),
            "--sdist",
            str(SDIST),
            "--journal",
            str(self.journal),
            "--port",
            str(self.port),
            "--control-port",
            str(self.control_port),
        ]
        self.process = Process("the SMSC simulator", argv, self.log, stdout=subprocess.PIPE)
        stdout = self.process.popen.stdout
        assert stdout is not None
        line = stdout.readline().decode(errors="replace")
        match = re.fullmatch(r"ready (\d+) (\d+)\s*", line)
        if not match:
            self.process.stop()
            raise PeerError(f"the SMSC simulator did not start: {line!r}\n{tail(self.log)}")
        self.port, self.control_port = int(match.group(1)), int(match.group(2))
        if self._receipts[0] is not None:
            self.auto_receipts(*self._receipts)

    def kill(self) -> None:
        """SIGKILL the simulator: every SMPP connection to it drops without an unbind."""
        if self.process is not None:
            self.process.kill()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def control(self, op: str, **fields: Any) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as sock:
            sock.sendall(json.dumps({"op": op, **fields}).encode() + b"\n")
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        reply: dict[str, Any] = json.loads(answer)
        if not reply.get("ok"):
            raise PeerError(f"the SMSC simulator refused {op}: {reply.get('error')}")
        return reply

    def send_mo(
        self, source: str, text: str, destination: str = "1234", coding: str = "gsm"
    ) -> int:
        """The network delivers ``text`` from ``source``; how many SMS it took."""
        reply = self.control("mo", source=source, destination=destination, text=text, coding=coding)
        parts: int = reply["parts"]
        return parts

    def receipt(self, message_id: str, stat: str = "DELIVRD") -> None:
        self.control("dlr", message_id=message_id, stat=stat)

    def auto_receipts(self, stat: str | None = "DELIVRD", delay: float = 0.0) -> None:
        """A receipt with ``stat`` after every submit from now on (None: none)."""
        self.control("receipts", auto=stat is not None, stat=stat or "DELIVRD", delay=delay)
        self._receipts = (stat, delay)

    def binds(self) -> list[str]:
        binds: list[str] = self.control("binds")["binds"]
        return binds

    def drop(self) -> int:
        dropped: int = self.control("drop")["dropped"]
        return dropped

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log, lines) + "\n" + tail(self.journal, 10)

    def submits(self) -> list[Submit]:
        """Every submit_sm taken since the folder was made, across restarts, in order."""
        if not self.journal.exists():
            return []
        records = []
        for line in self.journal.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            records.append(
                Submit(
                    message_id=row["message_id"],
                    source=row["source"],
                    destination=row["destination"],
                    data_coding=row["data_coding"],
                    esm_class=row["esm_class"],
                    registered_delivery=row["registered_delivery"],
                    short_message=bytes.fromhex(row["short_message"] or row["message_payload"]),
                )
            )
        return records


@contextlib.contextmanager
def smsc_simulator(folder: Path) -> Iterator[SmscSimulator]:
    sim = SmscSimulator(folder)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


# ------------------------------------------------------------------------- RabbitMQ, Redis


class RabbitMQ:
    """A RabbitMQ node of its own: own epmd port, node name, cookie (HOME), state, logs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.epmd_port = free_port()
        self.dist_port = free_port()
        self.epmd: Process | None = None
        self.process: Process | None = None

    def start(self) -> None:
        folder = self.folder
        for sub in ("mnesia", "log", "plugins"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "enabled_plugins").write_text("[].\n")
        (folder / "rabbitmq.conf").write_text("loopback_users.guest = false\n")
        (folder / "rabbitmq-env.conf").write_text("")
        env: dict[str, str | None] = {
            "HOME": str(folder),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
        }
        # Our own epmd in the foreground, so that it is stopped by PID like the rest
        # (the one Erlang would start itself daemonizes and outlives the test).
        self.epmd = Process(
            "epmd",
            ["epmd", "-address", "127.0.0.1", "-port", str(self.epmd_port)],
            folder / "epmd.log",
        )
        poll(lambda: accepts(self.epmd_port), "epmd", START_TIMEOUT, self.epmd)
        env |= {
            "RABBITMQ_NODENAME": f"textport-{secrets.token_hex(4)}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(folder / "plugins"),
            "RABBITMQ_PID_FILE": str(folder / "rabbit.pid"),
        }
        self.process = Process("RabbitMQ", [str(RABBITMQ_SERVER)], folder / "rabbitmq.out", env)

    def ready(self) -> bool:
        """The AMQP port answers a protocol header with a Connection.Start frame."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"AMQP\x00\x00\x09\x01")
                return sock.recv(1) == b"\x01"
        except OSError:
            return False

    def wait(self) -> None:
        poll(self.ready, "RabbitMQ's AMQP port", START_TIMEOUT, self.process)

    def stop(self) -> None:
        for process in (self.process, self.epmd):
            if process is not None:
                process.stop(grace=15)
        self.process = self.epmd = None

    def logs(self) -> list[Path]:
        return [self.folder / "rabbitmq.out", *sorted((self.folder / "log").glob("*.log"))]


class Redis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: Process | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = Process("redis-server", argv, self.folder / "redis.log")

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def wait(self) -> None:
        poll(self.ready, "redis-server", START_TIMEOUT, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


# ------------------------------------------------------------------------- jCli


class JCli:
    """Jasmin's admin console over a plain socket (telnet negotiation stripped)."""

    PROMPT = re.compile(rb"(jcli : |> )$")

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.transcript: list[str] = []
        self.read_until(rb"Authentication required.")  # then waits for the user name
        self.sock.sendall(JCLI_USER.encode() + b"\r\n")
        self.read_until(rb"Password: ")
        self.sock.sendall(JCLI_PASSWORD.encode() + b"\r\n")
        welcome = self.read_until(self.PROMPT)
        if "Welcome" not in welcome:
            raise PeerError(f"jCli refused the login: {welcome!r}")

    def read_until(self, pattern: bytes | re.Pattern[bytes]) -> str:
        expected = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        buffer = b""
        while not expected.search(buffer):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PeerError(f"jCli closed the connection after {buffer!r}")
            buffer += chunk
            buffer = re.sub(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", b"", buffer, flags=re.S)
        text = buffer.decode(errors="replace")
        self.transcript.append(text)
        return text

    def send(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.read_until(self.PROMPT)

    def add(self, command: str, settings: dict[str, str], expect: str) -> None:
        """``command`` (``user -a``...), one ``key value`` per line, then ``ok``."""
        out = self.send(command)
        for key, value in settings.items():
            out = self.send(f"{key} {value}")
            if "Unknown" in out or "Error" in out:
                raise PeerError(f"jCli: {command} {key}: {out!r}")
        out = self.send("ok")
        if expect not in out:
            raise PeerError(f"jCli: {command} did not succeed: {out!r}")

    def command(self, line: str, expect: str) -> None:
        out = self.send(line)
        if expect not in out:
            raise PeerError(f"jCli: {line!r} did not succeed: {out!r}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"quit\r\n")
        self.sock.close()


# ------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class Esme:
    """What textport's ESME binds to Jasmin's SMPP server with."""

    host: str
    port: int
    system_id: str
    password: str


class JasminStack:
    """RabbitMQ, Redis, the SMSC simulator and jasmind, configured for one ESME user."""

    SYSTEM_ID: Final = "textport"
    PASSWORD: Final = "tp-pw-01"  # SMPP passwords are at most 8 characters
    CONNECTOR: Final = "simulator"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rabbitmq = RabbitMQ(folder / "rabbitmq")
        self.redis = Redis(folder / "redis")
        self.smsc = SmscSimulator(folder / "smsc")
        self.ports = {name: free_port() for name in LISTENERS}
        self.config = folder / "jasmin" / "etc"
        self.log_dir = folder / "jasmin" / "log"
        self.jasmind: Process | None = None
        self.timings: dict[str, float] = {}

    @property
    def esme(self) -> Esme:
        return Esme("127.0.0.1", self.ports["smpp-server"], self.SYSTEM_ID, self.PASSWORD)

    def start(self) -> None:
        started = time.monotonic()
        try:
            self.rabbitmq.start()
            self.redis.start()
            self.smsc.start()
            self.redis.wait()
            self.rabbitmq.wait()
            self.timings["rabbitmq"] = time.monotonic() - started
            self._write_config()
            self.start_jasmind(load_profile=False)
            self.timings["jasmind"] = time.monotonic() - started
            self._configure()
            self.wait_connector_bound()
            self.timings["total"] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise

    def _write_config(self) -> None:
        # jasmin.cfg and the AMQP specs; not misc/config/store, whose sample profile
        # (a connector "smppsim" logging under /var/log) jasmind would load at start.
        source = SDIST / "misc" / "config"
        shutil.copytree(source / "resource", self.config / "resource", dirs_exist_ok=True)
        shutil.copy(source / "jasmin.cfg", self.config / "jasmin.cfg")
        (self.config / "store").mkdir(exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(self.config / "jasmin.cfg")
        for name, port in self.ports.items():
            cfg[name]["bind"] = "127.0.0.1"
            cfg[name]["port"] = str(port)
        cfg["amqp-broker"]["host"] = "127.0.0.1"
        cfg["amqp-broker"]["port"] = str(self.rabbitmq.port)
        cfg["amqp-broker"]["connection_loss_retry_delay"] = "1"
        cfg["amqp-broker"]["connection_failure_retry_delay"] = "1"
        cfg["redis-client"]["host"] = "127.0.0.1"
        cfg["redis-client"]["port"] = str(self.redis.port)
        cfg["router"]["persistence_timer_secs"] = "0"
        # Retry within a second, not 30 s (a text while the connector is down) or 10 s
        # (a receipt that overtook the submit_sm_resp it refers to).
        cfg["sm-listener"]["submit_retrial_delay_smppc_not_ready"] = "1"
        cfg["dlr"]["dlr_lookup_retry_delay"] = "1"
        # An MO text or a receipt for an ESME that is not bound (yet, or again) is tried
        # every second for half a minute, not every 30 s three times.
        for thrower in ("deliversm-thrower", "dlr-thrower"):
            cfg[thrower]["retry_delay"] = "1"
            cfg[thrower]["max_retries"] = "30"
        with (self.config / "jasmin.cfg").open("w") as out:
            cfg.write(out)

    def start_jasmind(self, *, load_profile: bool = True) -> None:
        """Start jasmind; with ``load_profile``, from the profile ``persist`` saved."""
        run = self.folder / "jasmin" / "run"
        shutil.rmtree(run, ignore_errors=True)  # a killed jasmind's lock
        run.mkdir(parents=True)
        argv = [str(PYTHON), str(JASMIND_RUNNER), str(run / "jasmind"), str(JASMIND)]
        argv += ["--config", str(self.config / "jasmin.cfg")]
        argv += ["--enable-dlr-lookup", "--enable-dlr-thrower", "--disable-http-api"]
        if load_profile:
            argv += ["--username", JCLI_USER, "--password", JCLI_PASSWORD]
        env: dict[str, str | None] = {
            # Jasmin ignores LOG_PATH under Kubernetes; this is a test, never a pod.
            "KUBERNETES_SERVICE_HOST": None,
            "ROOT_PATH": str(self.folder / "jasmin"),
            "CONFIG_PATH": str(self.config),
            "LOG_PATH": str(self.log_dir),
        }
        self.jasmind = Process("jasmind", argv, self.log_dir / "jasmind.out", env)
        for name in ("smpp-server", "jcli"):
            poll(
                functools.partial(accepts, self.ports[name]),
                f"jasmind's {name}",
                START_TIMEOUT,
                self.jasmind,
            )

    def _configure(self) -> None:
        jcli = JCli(self.ports["jcli"])
        try:
            jcli.add("group -a", {"gid": "textport"}, "Successfully added")
            jcli.add(
                "user -a",
                {
                    "username": self.SYSTEM_ID,
                    "password": self.PASSWORD,
                    "gid": "textport",
                    "uid": self.SYSTEM_ID,
                },
                "Successfully added",
            )
            jcli.add(
                "smppccm -a",
                {
                    "cid": self.CONNECTOR,
                    "host": "127.0.0.1",
                    "port": str(self.smsc.port),
                    "username": "jasmin",
                    "password": "jasmin",
                    "bind": "transceiver",
                    "submit_throughput": "0",
                    "con_loss_delay": "1",
                    "con_fail_delay": "1",
                },
                "Successfully added",
            )
            jcli.command(f"smppccm -1 {self.CONNECTOR}", "Successfully started")
            jcli.add(
                "mtrouter -a",
                {"type": "defaultroute", "connector": f"smppc({self.CONNECTOR})", "rate": "0.00"},
                "Successfully added",
            )
            jcli.add(
                "morouter -a",
                {"type": "defaultroute", "connector": f"smpps({self.SYSTEM_ID})"},
                "Successfully added",
            )
            jcli.command("persist", "smppcc configuration persisted")
        finally:
            jcli.close()

    def wait_connector_bound(self) -> None:
        """Until Jasmin's connector is bound to the simulator (as a transceiver)."""
        poll(
            lambda: "transceiver" in self.smsc.binds(),
            "Jasmin's connector to bind to the SMSC simulator",
            START_TIMEOUT,
            self.jasmind,
        )

    def kill_jasmind(self) -> None:
        """SIGKILL jasmind: the SMSC textport's ESME is bound to vanishes."""
        if self.jasmind is not None:
            self.jasmind.kill()
            self.jasmind = None

    def restart_jasmind(self) -> None:
        """Start jasmind again from its persisted profile; until its connector is bound."""
        self.start_jasmind(load_profile=True)
        self.wait_connector_bound()

    def stop(self) -> None:
        if self.jasmind is not None:
            self.jasmind.stop()
            self.jasmind = None
        self.smsc.stop()
        self.redis.stop()
        self.rabbitmq.stop()

    def logs(self, lines: int = 40) -> str:
        """The tails of every log, for a failure message."""
        paths = [self.log_dir / "jasmind.out", *sorted(self.log_dir.glob("*.log"))]
        paths += [self.smsc.log, *self.rabbitmq.logs(), self.redis.folder / "redis.log"]
        return "\n".join(tail(path, lines) for path in paths)


@contextlib.contextmanager
def jasmin_stack(folder: Path) -> Iterator[JasminStack]:
    stack = JasminStack(folder)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
