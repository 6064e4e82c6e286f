"""The command line: every command is listed and has --help; errors are clear exits."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from textport.cli.main import cli

COMMANDS = ["demo", "host", "pair", "devices", "relay", "import", "export"]


def test_help_lists_every_command_and_each_has_help() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0
    for name in COMMANDS:
        assert name in listed.output
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "--data" in result.output, f"{name} takes --data"
    assert runner.invoke(cli, ["devices", "revoke", "--help"]).exit_code == 0
    assert set(COMMANDS) == set(cli.commands)


def test_pair_without_a_host_says_so_and_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "none"
    result = CliRunner().invoke(cli, ["pair", "--data", str(folder), "K7QF-3M9X"])
    assert result.exit_code == 1
    assert "no textport host" in result.output
    assert not folder.exists()


def test_devices_without_a_host_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["devices", "--data", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no textport host" in result.output
