"""Every command, option and problem message is documented.

Commands and options come from the argparse parser in cli.py. Problem messages come from the
code itself: every call of `error(...)` or `warning(...)` (the constructors in problems.py)
in src/naltrexone_site/ is found with `ast`, and its message, a string or an f-string,
becomes a pattern in which each `{...}` matches any text. CONTRIBUTING.md must show, for
each, an example line in `check`'s format with the same severity whose message fits the
pattern. Reading the code rather than a hand-kept list means a new message cannot be added
without this test noticing; the reverse check keeps the examples in step when a message is
reworded.
"""

from __future__ import annotations

import argparse
import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from naltrexone_site.cli import _parser

REPO = Path(__file__).parent.parent
SOURCE = REPO / "src" / "naltrexone_site"
README = (REPO / "README.md").read_text(encoding="utf-8")
GUIDE = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
DOCS = README + "\n" + GUIDE
# path[:line[:col]]: severity: rest -- the format `check` prints, in the guide's examples
EXAMPLE = re.compile(
    r"^(?P<path>(?:claims|content)/[\w./-]+)(?::\d+(?::\d+)?)?: "
    r"(?P<severity>error|warning): (?P<rest>.+)$"
)
FIELD = r"(?:[\w.\[\]-]+: )?"  # the optional field before the message
HINT = r"(?: \(.*\))?"  # the optional hint after it


@dataclass(frozen=True)
class Message:
    severity: str
    template: str  # the message with each placeholder as {}
    where: str  # file:line of the call

    def pattern(self) -> re.Pattern[str]:
        parts = (re.escape(part) for part in self.template.split("{}"))
        return re.compile(FIELD + ".+?".join(parts) + HINT)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


def messages() -> list[Message]:
    """Every problem message in the code, from the calls of `error(...)` and `warning(...)`."""
    found = []
    for path in sorted(SOURCE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constructors = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "problems"
            for alias in node.names
            if alias.name in ("error", "warning")
        }
        if path.name == "problems.py":
            continue
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in constructors
            ):
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            given = node.args[2] if len(node.args) > 2 else None
            given = next((k.value for k in node.keywords if k.arg == "message"), given)
            template = _template(given)
            assert template is not None, (
                f"{where}: the message is not a string or f-string, so it cannot be checked "
                "against CONTRIBUTING.md; write it out at the call"
            )
            found.append(Message(node.func.id, template, where))
    return found


def _template(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values
        )  # fmt: skip
    return None


def examples() -> list[tuple[str, str]]:
    """(severity, rest of the line) of every problem line shown in CONTRIBUTING.md."""
    return [
        (match["severity"], match["rest"])
        for line in GUIDE.splitlines()
        if (match := EXAMPLE.match(line.strip()))
    ]


def test_the_message_finder_finds_the_known_messages() -> None:
    found = messages()
    templates = {m.template for m in found}
    assert len(found) >= 40
    assert "duplicate key '{}' (first at line {})" in templates
    assert "nearly the same as claim '{}' ({}% similar)" in templates
    assert {m.severity for m in found} == {"error", "warning"}


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_command_is_documented(name: str) -> None:
    assert re.search(rf"(build\.py|naltrexone-site) {name}\b", DOCS), (
        f"'{name}' is not documented: show 'python build.py {name}' in README.md or CONTRIBUTING.md"
    )


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_is_documented_with_its_command(name: str) -> None:
    lines = [
        line
        for line in DOCS.splitlines()
        if re.search(rf"(build\.py|naltrexone-site) {name}\b", line)
    ]
    for option in options(subcommands()[name]):
        assert any(option in line for line in lines), (
            f"'{option}' of '{name}' is not documented: show it on the line that shows "
            f"'python build.py {name}' in README.md or CONTRIBUTING.md"
        )


def test_the_global_options_are_documented() -> None:
    for option in options(_parser()):
        assert option in DOCS, f"'{option}' is not documented in README.md or CONTRIBUTING.md"


@pytest.mark.parametrize("message", messages(), ids=lambda m: m.where)
def test_every_problem_message_has_an_example(message: Message) -> None:
    pattern = message.pattern()
    assert any(
        severity == message.severity and pattern.fullmatch(rest) for severity, rest in examples()
    ), (
        f"{message.where}: the {message.severity} '{message.template}' has no example in "
        "CONTRIBUTING.md's 'Read an error' section: add the line `check` prints for it, "
        "and how to fix it"
    )


def test_every_example_is_a_message_the_code_can_print() -> None:
    known = messages()
    stale = [
        f"{severity}: {rest}"
        for severity, rest in examples()
        if not any(m.severity == severity and m.pattern().fullmatch(rest) for m in known)
    ]
    assert stale == [], "CONTRIBUTING.md shows messages the code no longer prints"
    assert len(examples()) >= 40
