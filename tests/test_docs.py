"""Docs that cannot drift: the spec names every code, message and operation the code has,
and the README's test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from textport.errors import ErrorCode
from textport.protocol import frames, messages

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "docs" / "protocol.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## \d+\. {re.escape(title)}\n(.*?)(?=^## )", SPEC, re.S | re.M)
    assert match, f"docs/protocol.md has no section {title!r}"
    return match.group(1)


def test_every_error_code_is_documented_and_nothing_else() -> None:
    table = set(re.findall(r"^\| `([a-z_]+)` \|", _section("Error codes"), re.M))
    assert table == {code.value for code in ErrorCode}


def test_the_browser_knows_the_same_error_codes() -> None:
    source = (ROOT / "web" / "src" / "protocol" / "errors.ts").read_text()
    union = re.search(r"export type ErrorCode =(.*?);", source, re.S)
    assert union, "web/src/protocol/errors.ts has no ErrorCode union"
    assert set(re.findall(r'"([a-z_]+)"', union.group(1))) == {code.value for code in ErrorCode}


def test_every_message_type_is_in_the_catalogue() -> None:
    named = set(re.findall(r"\b([a-z_]+)\{", _section("Application messages")))
    assert set(messages.MESSAGE_TYPES) <= named, set(messages.MESSAGE_TYPES) - named


def test_every_relay_operation_is_documented() -> None:
    ops = set(re.findall(r"^\S+ +-> +\S+ +([a-z_]+)\{", _section("Relay frames"), re.M))
    assert ops == {cls.__struct_config__.tag for cls in frames.ControlOp.__args__}


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block, "the README opens with a sh code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["scripts/demo", "scripts/test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec scripts/test$", ci, re.M)


def test_every_local_link_and_picture_in_the_docs_exists() -> None:
    """README, docs/ and web/README.md: a renamed file or a screenshot not regenerated
    (scripts/screenshot) would leave a broken link or picture."""
    pages = [ROOT / "README.md", ROOT / "web" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
    gallery = (ROOT / "docs" / "screenshots.md").read_text()
    pictures = {path.name for path in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert pictures == set(re.findall(r"\(screenshots/([^)]+\.png)\)", gallery))
