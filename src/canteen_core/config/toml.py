"""Reading TOML text (the deployment file, tariff grids, the platform's registry) with
errors a person can act on: in French, with the line and column at fault."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from canteen_core.domain.errors import ConfigurationError

__all__ = ["parse_toml", "read_config_file"]

# tomllib's reasons (CPython's tomllib/_parser.py), in French; the few that quote the text
# at fault keep the quote.
_REASONS_FR = (
    (r"Cannot overwrite a value", "valeur déjà définie"),
    (r"Escaped character is not a Unicode scalar value", "caractère échappé invalide"),
    (r"Expected '=' after a key in a key/value pair", "« = » attendu après la clé"),
    (r"Expected '\]' at the end of a table declaration", "« ] » attendu à la fin du nom de table"),
    (r"Expected '\]\]' at the end of an array declaration", "« ]] » attendu à la fin du nom"),
    (
        r"Expected newline or end of document after a statement",
        "fin de ligne attendue après la valeur",
    ),
    (r"Invalid date or datetime", "date invalide"),
    (r"Invalid hex value", "code hexadécimal invalide"),
    (r"Invalid initial character for a key part", "caractère invalide au début d'une clé"),
    (r"Invalid statement", "ligne incompréhensible"),
    (r"Invalid value", "valeur invalide (texte entre guillemets, nombre, date, true ou false)"),
    (r"Unclosed array", "liste non fermée (« ] » manquant)"),
    (r"Unclosed inline table", "table non fermée (« } » manquant)"),
    (r"Unescaped '\\' in a string", "« \\ » non échappé dans un texte"),
    (r"Unterminated string", "texte non terminé (guillemet fermant manquant)"),
    (r"Cannot declare (?P<key>.*) twice", "{key} déclaré deux fois"),
    (r"Cannot mutate immutable namespace (?P<key>.*)", "{key} ne peut plus être modifié"),
    (r"Cannot redefine namespace (?P<key>.*)", "{key} déjà défini"),
    (r"Duplicate inline table key (?P<key>.*)", "clé {key} en double"),
    (r"Found invalid character (?P<key>.*)", "caractère invalide {key}"),
    (r"Illegal character (?P<key>.*)", "caractère interdit {key}"),
)
_POSITION = re.compile(
    r"^(?P<reason>.*?) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)


def _reason_fr(reason: str) -> str:
    for pattern, french in _REASONS_FR:
        match = re.fullmatch(pattern, reason)
        if match is not None:
            return french.format(**match.groupdict())
    return "syntaxe invalide"


def toml_error_fr(error: tomllib.TOMLDecodeError) -> str:
    """``ligne 1, colonne 8 : « ] » attendu à la fin du nom de table``."""
    match = _POSITION.match(str(error))
    if match is None:
        return _reason_fr(str(error))
    where = (
        f"ligne {match['line']}, colonne {match['column']}"
        if match["line"]
        else "en fin de fichier"
    )
    return f"{where} : {_reason_fr(match['reason'])}"


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """``tomllib.loads(text)``; bad TOML is a :class:`ConfigurationError` naming ``source``
    (the file) and the line at fault, in French."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{source} : TOML invalide, {toml_error_fr(error)}") from None


def read_config_file(file: Path, what: str) -> str:
    """The text of the configuration ``file``; one that cannot be read is a
    :class:`ConfigurationError` saying ``what`` it is (``"fichier de déploiement"``)."""
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{what} illisible : {file} ({exc.strerror})") from None
