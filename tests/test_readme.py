"""The README's Python examples run as written (a new user's first contact)."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code):
    exec(compile(code, str(README), "exec"), {})  # a fresh namespace, as a new session
    plt.close("all")


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


# -- the command lines of the README ----------------------------------------------------------
def _cli_lines():
    """Every ``qutip-centralspin ...`` command the README shows (inline or in a block), one
    string each, with line breaks inside a backtick span joined."""
    text = README.read_text(encoding="utf-8")
    spans = re.findall(r"`(qutip-centralspin [^`]+)`", text, re.S)
    blocks = re.findall(r"^(qutip-centralspin [^\n#]+)", text, re.M)
    lines = [" ".join(s.split()) for s in spans + blocks]
    return [line for line in lines if line.split()[1] != "..."]


CLI_LINES = _cli_lines()


def _subcommand_flags():
    from qutip_centralspin.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return {
        name: {o for action in parser._actions for o in action.option_strings}
        for name, parser in sub.choices.items()
    }


@pytest.mark.parametrize("line", CLI_LINES, ids=[f"cli{i}" for i in range(len(CLI_LINES))])
def test_readme_cli_flags_exist(line):
    """Every flag the README writes exists on every subcommand it names (``charge|pmax``)."""
    flags = _subcommand_flags()
    commands = line.split()[1].split("|")
    assert all(c in flags for c in commands), line
    for command in commands:
        for flag in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", line):
            assert flag in flags[command], f"{flag} is not a flag of {command}: {line}"


def _runnable(line):
    """The line without its optional ``[...]`` parts, if nothing is left to fill in."""
    core = re.sub(r"\[[^\[\]]*\]", "", line)
    core = re.sub(r"\[[^\[\]]*\]", "", core)  # nested brackets
    words = core.split()[1:]
    if "..." in words or any(w.isupper() for w in words) or words[0] == "reproduce":
        return None
    return words


RUNNABLE = [(line, _runnable(line)) for line in CLI_LINES if _runnable(line)]


@pytest.mark.parametrize(("line", "words"), RUNNABLE, ids=[w[0] for _, w in RUNNABLE])
def test_readme_cli_line_runs(line, words, capsys):
    from qutip_centralspin.cli import main

    for command in words[0].split("|"):
        assert main([command, *words[1:]]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out


def test_readme_shows_command_lines():
    assert len(CLI_LINES) >= 5 and len(RUNNABLE) >= 2
