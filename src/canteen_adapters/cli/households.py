"""``canteen households import``: households and children from a CSV file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import attrs
import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import FILE, parse_day
from canteen_adapters.cli._output import echo_json, plural, progress
from canteen_core.config.serialization.csv_table import missing_columns, read_csv_table
from canteen_core.domain._validators import check_date
from canteen_core.domain.clock import paris_today
from canteen_core.domain.errors import CanteenError, InvalidInputError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.money import parse_decimal

__all__ = ["COLUMNS", "command", "differences", "parse_households"]

#: Required columns (one row per child; the household's columns repeat on each of its rows).
COLUMNS = (
    "household_id",
    "payer_first_name",
    "payer_last_name",
    "child_id",
    "child_first_name",
    "child_last_name",
    "birth_date",
)
#: Optional columns: payer_email, payer_civility, qf, qf_from, resident (oui/non), diet
#: (standard, no_pork, vegetarian), pai (oui/non).
OPTIONAL = ("payer_email", "payer_civility", "qf", "qf_from", "resident", "diet", "pai")
_BATCH = 500
_YES = {"1", "oui", "o", "true", "yes", "y", "vrai"}
_NO = {"", "0", "non", "n", "false", "no", "faux"}


def _flag(value: str, line: int, column: str) -> bool:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidInputError(f"« {value} » au lieu de oui ou non", path=column)


def _day(text: str, column: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"« {text} » n'est pas une date AAAA-MM-JJ", path=column) from None
    return check_date(day, column)  # the years storage accepts, refused here with the line


def _rows(text: str) -> Iterator[tuple[int, Mapping[str, str]]]:
    reader = read_csv_table(text)
    missing = missing_columns(reader, COLUMNS)
    if missing:
        raise InvalidInputError(
            f"colonnes manquantes dans le fichier CSV : {', '.join(missing)}", path="en-tête"
        )
    for line, row in enumerate(reader, start=2):
        yield line, {key: (value or "").strip() for key, value in row.items() if key}


def parse_households(text: str, *, qf_from: date) -> list[Household]:
    """Households from CSV text (see :data:`COLUMNS`); errors name the line."""
    found: dict[str, Household] = {}
    for line, row in _rows(text):
        try:
            empty = [column for column in COLUMNS if not row.get(column)]
            if empty:
                plural = "s" if len(empty) > 1 else ""
                raise InvalidInputError(f"colonne{plural} vide{plural} : {', '.join(empty)}")
            household_id = row["household_id"]
            quotients: tuple[FamilyQuotient, ...] = ()
            if row.get("qf"):
                start = _day(row["qf_from"], "qf_from") if row.get("qf_from") else qf_from
                value = parse_decimal(row["qf"], path="qf")
                quotients = (FamilyQuotient(value=value, valid_from=start),)
            child = Child(
                id=row["child_id"],
                first_name=row["child_first_name"],
                last_name=row["child_last_name"],
                birth_date=_day(row["birth_date"], "birth_date"),
                diet=row.get("diet") or "standard",
                pai=_flag(row.get("pai", ""), line, "pai"),
            )
            known = found.get(household_id)
            if known is None:
                found[household_id] = Household(
                    id=household_id,
                    payer=Guardian(
                        id=f"{household_id}-payer",
                        first_name=row["payer_first_name"],
                        last_name=row["payer_last_name"],
                        email=row.get("payer_email") or None,
                        civility=row.get("payer_civility") or None,
                    ),
                    children=(child,),
                    quotients=quotients,
                    resident=not row.get("resident") or _flag(row["resident"], line, "resident"),
                )
            else:
                found[household_id] = known.with_child(child)
        except CanteenError as error:
            # The line once, then what is wrong with it (no field path: staff read the file).
            text = error.message if isinstance(error, InvalidInputError) else str(error)
            raise InvalidInputError(f"ligne {line} : {text}") from None
    return list(found.values())


@click.group("households")
def command() -> None:
    """Gérer les foyers : importer, lister."""


@command.command("import")
@operator_command
@click.argument("csv_file", type=FILE)
@click.option(
    "--qf-from", default=None, help="Date d'effet des QF sans qf_from (par défaut : aujourd'hui)."
)
def import_command(operator: Operator, csv_file: Path, qf_from: str | None) -> None:
    """Importer des foyers et leurs enfants depuis un fichier CSV (une ligne par enfant).

    Colonnes : household_id, payer_first_name, payer_last_name, child_id, child_first_name,
    child_last_name, birth_date ; facultatives : payer_email, payer_civility, qf, qf_from,
    resident (oui/non), diet (standard, no_pork, vegetarian), pai (oui/non). Séparateur ','
    ou ';'.

    Tout le fichier est d'abord vérifié (une erreur indique sa ligne et rien n'est importé) ;
    les foyers déjà présents sont laissés tels quels : un import interrompu se relance
    simplement, et ceux dont le fichier dit autre chose (un nouvel enfant, un autre QF) sont
    listés avec ce qui diffère. Affiche une barre de progression sur un terminal.

    \b
        canteen households import foyers.csv
    """
    actor = operator.actor
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"fichier introuvable : {csv_file}", exit_code=2)
    except UnicodeDecodeError:
        fail(f"{csv_file} n'est pas un texte UTF-8", exit_code=2)
    with operator.open() as canteen:
        start = parse_day(qf_from, "--qf-from") if qf_from else paris_today(canteen.context.clock)
        households = parse_households(text, qf_from=start)
        existing = {h.id: h for h in canteen.families.list_households(actor)}
        new = [h for h in households if h.id not in existing]
        differing = {
            h.id: found
            for h in households
            if h.id in existing and (found := differences(existing[h.id], h))
        }
        batches = [new[i : i + _BATCH] for i in range(0, len(new), _BATCH)]
        with progress(batches, label="Import des foyers", length=len(batches)) as bar:
            for batch in bar:
                canteen.families.create_households(actor, batch)
    children = sum(len(h.children) for h in new)
    present = len(households) - len(new)
    lines = [
        f"{plural(len(new), 'foyer importé', 'foyers importés')} ({plural(children, 'enfant')}), "
        f"{plural(present, 'déjà présent', 'déjà présents')}"
    ]
    if differing:
        # Left as they are, but said: an updated file is not an update of the households.
        lines.append(
            "Attention : 1 foyer déjà présent diffère du fichier ; il est laissé tel quel :"
            if len(differing) == 1
            else f"Attention : {len(differing)} foyers déjà présents diffèrent du fichier ;"
            " ils sont laissés tels quels :"
        )
        lines.extend(f"  {key} : {', '.join(found)}" for key, found in differing.items())
    operator.show(
        {
            "imported": len(new),
            "children": children,
            "already_present": present,
            "differing": [
                {"household_id": key, "differences": found} for key, found in differing.items()
            ],
        },
        *lines,
    )


def differences(stored: Household, wanted: Household) -> list[str]:
    """What the file says of an existing household that differs from what is stored, in
    French (``[]``: the same household): an import leaves existing households as they are,
    and staff must see what it did not change (a new child, a new family quotient)."""
    found: list[str] = []
    payer, asked = stored.payer, wanted.payer
    if (payer.first_name, payer.last_name) != (asked.first_name, asked.last_name):
        found.append(f"payeur {asked.display_name} (enregistré : {payer.display_name})")
    if asked.email is not None and asked.email != payer.email:
        found.append(f"e-mail {asked.email} (enregistré : {payer.email or 'aucun'})")
    for quotient in wanted.quotients:
        on_file = stored.quotient_on(quotient.valid_from)
        if on_file != quotient.value:
            found.append(
                f"QF {quotient.value} au {quotient.valid_from:%d/%m/%Y}"
                f" (enregistré : {'aucun' if on_file is None else on_file})"
            )
    if stored.resident != wanted.resident:
        found.append("résident" if wanted.resident else "non résident")
    children = {child.id: child for child in stored.children}
    for child in wanted.children:
        known = children.get(child.id)
        if known is None:
            found.append(f"enfant {child.id} ({child.display_name}) absent du foyer enregistré")
        elif attrs.evolve(child, pai_allergens=known.pai_allergens) != known:
            found.append(f"enfant {child.id} ({child.display_name}) enregistré autrement")
    return found


@command.command("list")
@operator_command
@click.option("--household", help="Seulement ce foyer (ses enfants en détail).")
@click.option(
    "--search",
    help="Seulement les foyers dont l'identifiant ou le nom du payeur contient ce texte.",
)
def list_command(operator: Operator, household: str | None, search: str | None) -> None:
    """Lister les foyers avec leur payeur et leurs enfants (identifiants pour les autres commandes).

    \b
        canteen households list
        canteen households list --search concerto --json
    """
    actor = operator.actor
    with operator.open() as canteen:
        if household is not None:
            found = [canteen.families.get(actor, household)]
        else:
            found = sorted(canteen.families.list_households(actor), key=lambda h: h.id)
    if search:
        needle = search.strip().lower()
        found = [
            h for h in found if needle in h.id.lower() or needle in h.payer.display_name.lower()
        ]
    if operator.as_json:
        echo_json(
            {
                "count": len(found),
                "households": [
                    {
                        "id": h.id,
                        "payer": h.payer.display_name,
                        "email": h.payer.email,
                        "resident": h.resident,
                        "children": [
                            {
                                "id": c.id,
                                "name": c.display_name,
                                "birth_date": c.birth_date,
                                "diet": c.diet.value,
                                "pai": c.pai,
                            }
                            for c in h.children
                        ],
                    }
                    for h in found
                ],
            }
        )
        return
    click.echo(plural(len(found), "foyer"))
    for item in found:
        children = ", ".join(f"{c.id} ({c.display_name})" for c in item.children)
        click.echo(f"  {item.id}  {item.payer.display_name}  enfants : {children or 'aucun'}")
