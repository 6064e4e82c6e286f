"""The config file and the choice of transport."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from textport.cli.main import cli
from textport.errors import ConfigError
from textport.transports import config
from textport.transports.gammu import GammuTransport
from textport.transports.sim import SimCarrier
from textport.transports.smpp import SmppTransport


def test_no_file_is_the_defaults() -> None:
    assert config.load(None) == config.Config()


def test_a_gammu_config(tmp_path: Path) -> None:
    path = tmp_path / "textport.toml"
    path.write_text(
        '[host]\nregion = "gb"\ntext_ttl = 3600\n\n'
        '[gammu]\ndevice = "/dev/ttyUSB2"\nmax_parts = 4\ndelivery_reports = false\n'
    )
    loaded = config.load(path)
    assert (loaded.region, loaded.text_ttl) == ("GB", 3600.0)
    transport = config.open_transport("gammu", loaded, data=tmp_path)
    assert isinstance(transport, GammuTransport)
    assert transport.settings.region == "GB"
    caps = transport.capabilities
    assert (caps.max_parts, caps.delivery_reports, caps.incoming, caps.mms) == (
        4,
        False,
        "polling",
        False,
    )


def test_an_smpp_config(tmp_path: Path) -> None:
    path = tmp_path / "textport.toml"
    path.write_text(
        '[host]\nregion = "DE"\n\n[smpp]\nhost = "smsc.example"\nsystem_id = "tp"\n'
        'password = "pw"\nsource_addr = "+4915112345678"\nconcatenation = "sar"\n'
    )
    transport = config.open_transport("smpp", config.load(path), data=tmp_path)
    assert isinstance(transport, SmppTransport)
    assert (transport.settings.region, transport.settings.concatenation) == ("DE", "sar")
    assert transport.capabilities.incoming == "events"
    path.write_text('[smpp]\nhost = "smsc.example"\nsystem_id = "tp"\n')
    with pytest.raises(ConfigError, match="needs source_addr"):
        config.open_transport("smpp", config.load(path), data=tmp_path)


def test_sim_needs_no_config(tmp_path: Path) -> None:
    transport = config.open_transport("sim", config.Config(), data=tmp_path)
    assert isinstance(transport, SimCarrier)
    assert transport.capabilities.incoming == "events"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[host\n", "not valid TOML"),
        ("[modem]\n", "does not know"),
        ("host = 3\n", "must be a table"),
        ("[host]\ncolour = 'red'\n", "no setting 'colour'"),
        ("[host]\nregion = 'XX'\n", "not a region"),
        ("[host]\ntext_ttl = 0.5\n", "text_ttl"),
        ("[host]\ntext_ttl = 2592001\n", "text_ttl"),
        ("[host]\ntext_ttl = true\n", "wrong type"),
        ("[host]\ndevice_idle_days = 0\n", "device_idle_days"),
        ("[host]\ndevice_idle_days = 3651\n", "device_idle_days"),
        ("[host]\ndevice_idle_days = '90'\n", "wrong type"),
        ("[host]\nsession_grace = 0.5\n", "session_grace"),
        ("[host]\nsession_grace = 604801\n", "session_grace"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        config.load(path)


def test_device_expiry_settings(tmp_path: Path) -> None:
    assert (config.Config().device_idle_days, config.Config().session_grace) == (90.0, 600.0)
    path = tmp_path / "host.toml"
    path.write_text("[host]\ndevice_idle_days = 0.5\nsession_grace = 30\n")
    loaded = config.load(path)
    assert (loaded.device_idle_days, loaded.session_grace) == (0.5, 30.0)


def test_missing_file_and_missing_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"needs a config file with a \[gammu\] table"):
        config.open_transport("gammu", config.Config(), data=tmp_path)
    with pytest.raises(ConfigError, match="no transport"):
        config.open_transport("carrier-pigeon", config.Config(), data=tmp_path)


def test_host_command_says_what_is_wrong(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["host", "--data", str(tmp_path), "--relay", "ws://127.0.0.1:9/v1", "--transport", "gammu"],
    )
    assert result.exit_code == 1
    assert "needs a config file with a [gammu] table" in result.output
    help_text = CliRunner().invoke(cli, ["host", "--help"]).output
    assert "--transport [sim|gammu|smpp|modemmanager|termux]" in " ".join(help_text.split())
    assert "--config FILE" in help_text
