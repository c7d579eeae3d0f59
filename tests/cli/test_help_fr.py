"""``canteen --help`` and every subcommand's help are French, click's own words included
(``Utilisation :``, ``Options :``, ``Afficher ce message et quitter.``, ``[par défaut : x]``),
and click's usage errors are one French line with exit status 2."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from canteen_adapters.cli import main
from canteen_adapters.cli._common import CanteenGroup

#: click's English words, as its help and errors print them.
CLICK_ENGLISH = (
    "Usage:",
    "Options:",
    "Commands:",
    "Show this message",
    "Show the version",
    "[default:",
    "[required]",
    "env var:",
    "COMMAND [ARGS]",
    " TEXT ",
    "INTEGER",
    "FLOAT",
    "Error:",
    "Try '",
)
#: Common English words (outside option names, ids and examples) that French help never has
#: (not command names such as ``show`` or ``list``; "file" is French too).
ENGLISH_WORDS = re.compile(
    r"\b(the|and|with|of|is|are|to|from|by|for|this|that|or|each|when|default|required|"
    r"print|only|day|days|name|which|what|who|not|its|their|new)\b",
    re.IGNORECASE,
)


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command of the tree, as the words that invoke it (``()`` is ``canteen``)."""
    yield path
    if isinstance(command, click.Group):
        for name, subcommand in sorted(command.commands.items()):
            yield from command_paths(subcommand, (*path, name))


PATHS = list(command_paths(main))


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="canteen", terminal_width=100)


def prose(help_text: str) -> str:
    """The help's sentences: without the examples and formats shown as they are (indented
    blocks), option names, environment variables, file names and snake_case keys."""
    lines = [line for line in help_text.splitlines() if not line.startswith("      ")]
    text = " ".join(lines)
    return re.sub(
        r"(--?[\w-]+|\$\w+|[\w.-]+\.(toml|md|csv|pdf|json|db)|\w+_\w+|\[[^\]]*\])", "", text
    )


def test_the_tree_is_walked() -> None:
    assert ("bill",) in PATHS
    assert ("sites", "close") in PATHS
    assert ("audit", "verify") in PATHS
    assert len(PATHS) > 50


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "canteen")
def test_every_help_is_french(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    text = result.stdout.replace("\u00a0", " ")  # French no-break spaces before ":" and ";"
    assert text.startswith(f"Utilisation : {' '.join(('canteen', *path))} [OPTIONS]")
    assert "Options :" in text
    assert "-h, --help" in text
    assert "Afficher ce message et quitter." in text
    if isinstance(_command(path), click.Group):
        assert "Commandes :" in text
    for english in CLICK_ENGLISH:
        assert english not in text, english
    found = ENGLISH_WORDS.findall(prose(text))
    assert not found, f"English in {' '.join(path)} --help: {found}"


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_the_help_shows_defaults_required_and_types_in_french() -> None:
    text = run("bill", "--help").stdout.replace("\u00a0", " ")
    assert "--config FICHIER" in text
    assert "[par défaut : canteen.toml]" in text
    assert "--period YYYY-MM       Mois à facturer.  [obligatoire]" in text
    text = run("worker", "--help").stdout.replace("\u00a0", " ")
    assert "--concurrency, -c ENTIER" in text or "-c, --concurrency ENTIER" in text
    assert "[par défaut : INFO]" in text
    text = run("demo", "--help").stdout.replace("\u00a0", " ")
    assert "[par défaut : 300 ; 0<=x<=100000]" in text
    assert run("--version").stdout.startswith("canteen, version ")
    assert "--version   Afficher la version et quitter." in run("--help").stdout


def test_no_argument_on_a_group_shows_its_french_help() -> None:
    result = run("sites")
    assert result.exit_code == 2
    assert "Afficher ce message et quitter." in result.output
    assert "Usage:" not in result.output


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "canteen")
def test_an_unknown_option_is_one_french_line(path: tuple[str, ...]) -> None:
    result = run(*path, "--no-such-option")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Erreur : option inconnue : --no-such-option (voir « {' '.join(('canteen', *path))} "
        "--help »)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "commande inconnue : nosuch"),
        (["calendr"], "commande inconnue : calendr (vouliez-vous dire calendar ?)"),
        (["sites", "nosuch"], "commande inconnue : nosuch (voir « canteen sites --help »)"),
        (["bill", "--period", "2023-09", "extra"], "argument en trop : extra"),
        (["bill"], "option obligatoire manquante : --period"),
        (["bill", "--period"], "option --period : valeur manquante (voir « canteen bill --help »)"),
        (["bill", "--period", "nope"], "--period : mois invalide « nope »"),
        (["book", "--helpp"], "option inconnue : --helpp (vouliez-vous dire --help ?)"),
        (["documents", "accept"], "argument obligatoire manquant : PAPER_ID"),
        (
            ["capacity", "set", "--site", "s", "--service", "rs", "--places", "beaucoup"],
            "valeur invalide « beaucoup » pour --places (attendu : un nombre entier)",
        ),
        (
            ["worker", "--concurrency", "0"],
            "valeur invalide « 0 » pour --concurrency / -c (attendu : un nombre entier de 1 à 256)",
        ),
        (
            ["month-end", "--period", "2023-09", "--timeout", "0"],
            "pour --timeout (attendu : un nombre au moins égal à 1)",
        ),
        (
            ["worker", "--pool", "nope"],
            "valeur invalide « nope » pour --pool (valeurs possibles : prefork, solo, threads)",
        ),
        (
            ["sepa", "returns", "/nonexistent/retours.xml"],
            "FICHIER : « /nonexistent/retours.xml » introuvable",
        ),
        (["sepa", "returns", "."], "FICHIER : « . » est un dossier (un fichier est attendu)"),
        (["calendar", "--zone", "A", "--bogus"], "option inconnue : --bogus"),
        (["--bogus"], "option inconnue : --bogus (voir « canteen --help »)"),
    ],
)
def test_usage_errors_are_one_french_line_with_status_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Erreur : ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    for english in CLICK_ENGLISH:
        assert english not in result.stderr, english
    for english in ("is not", "does not", "Missing", "No such", "requires", "Got unexpected"):
        assert english not in result.stderr, english


def test_commands_added_later_get_french_help_and_interrupts_are_french(tmp_path: Path) -> None:
    @click.group(cls=CanteenGroup)
    def group() -> None:
        """Groupe de test."""

    @click.group("sub")
    def sub() -> None:
        """Sous-groupe."""

    @sub.command("leaf")
    @click.option("--count", type=int, required=True, help="Combien.")
    @click.option("--out", type=click.Path(dir_okay=False), help="Fichier.")
    def leaf(count: int, out: str | None) -> None:
        """Feuille."""

    @group.command()
    def interrupted() -> None:
        raise KeyboardInterrupt

    group.add_command(sub)
    result = CliRunner().invoke(group, ["sub", "leaf", "--help"], prog_name="g")
    text = result.stdout.replace("\u00a0", " ")
    assert text.startswith("Utilisation : g sub leaf [OPTIONS]")
    assert "--count ENTIER  Combien.  [obligatoire]" in text
    assert "--out FICHIER" in text
    assert "Afficher ce message et quitter." in text
    result = CliRunner().invoke(group, ["interrupted"])
    assert (result.exit_code, result.stderr) == (1, "\nErreur : opération interrompue\n")
