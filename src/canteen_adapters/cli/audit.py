"""``canteen audit``: read the audit trail, ``canteen audit verify``: check its hash chain."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import parse_day
from canteen_adapters.cli._output import echo_json, plural
from canteen_core.domain.audit import AuditEntry

__all__ = ["command"]

_PARIS = ZoneInfo("Europe/Paris")


def _as_json(entry: AuditEntry, household: str | None = None) -> dict[str, Any]:
    """An entry as JSON; with ``household``, a bulk entry keeps only that household's
    changes (``other_households``, ``other_changes``: how many of the rest were left out)."""
    document = {
        "sequence": entry.sequence,
        "id": entry.id,
        "recorded_at": entry.recorded_at.isoformat(),
        "actor_id": entry.actor_id,
        "kind": entry.kind.value,
        "hash": entry.hash,
        "previous_hash": entry.previous_hash,
        **entry.details(),
        "action": entry.action,
    }
    if household is not None and len(entry.household_ids) > 1:
        mine, others = entry.changes_for(household)
        document["household_ids"] = [household]
        document["other_households"] = len(entry.household_ids) - 1
        document["changes"] = [change.as_json() for change in mine]
        document["entity_ids"] = sorted({change.entity for change in mine})
        document["other_changes"] = others
    return document


def _value(value: object) -> str:
    """A before/after value for people: JSON, "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _households(entry: AuditEntry, household: str | None) -> str:
    """The households an entry covers, as its line shows them."""
    ids = entry.household_ids
    if household is not None and household in ids and len(ids) > 1:
        return f"{household} et {plural(len(ids) - 1, 'autre foyer', 'autres foyers')}"
    return ", ".join(ids[:3]) + ("…" if len(ids) > 3 else "")


def _line(entry: AuditEntry, household: str | None = None) -> str:
    """An entry for people; with ``household``, only the changes concerning it (a bulk
    entry's others are summed up in one line)."""
    when = entry.recorded_at.astimezone(_PARIS).strftime("%d/%m/%Y %H:%M:%S")
    households = _households(entry, household)
    head = f"n° {entry.sequence} {when} {entry.actor_id} {entry.action}"
    if households:
        head += f" [{households}]"
    lines = [f"{head} : {entry.summary}"]
    changes, others = entry.changes_for(household) if household is not None else (entry.changes, 0)
    for change in changes[:20]:
        before, after = _value(change.before), _value(change.after)
        lines.append(f"    {change.entity} {change.field} : {before} -> {after}")
    if len(changes) > 20:
        lines.append(f"    … {len(changes) - 20} autre(s) modification(s)")
    if others:
        hidden = "non affichée" if others == 1 else "non affichées"
        lines.append(f"    … {plural(others, 'modification')} d'autres foyers ({hidden})")
    return "\n".join(lines)


@click.group("audit", invoke_without_command=True)
@operator_command
@click.option("--household", default=None, metavar="ID", help="Seulement les entrées de ce foyer.")
@click.option(
    "--actor",
    "actor_id",
    default=None,
    metavar="ID",
    help="Seulement les entrées de cet utilisateur.",
)
@click.option(
    "--action", default=None, metavar="ACTION", help="Seulement cette action (enroll...)."
)
@click.option("--since", default=None, metavar="DATE", help="À partir de ce jour (heure de Paris).")
@click.option(
    "--until", default=None, metavar="DATE", help="Jusqu'à ce jour inclus (heure de Paris)."
)
@click.pass_context
def command(
    context: click.Context,
    operator: Operator,
    household: str | None,
    actor_id: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Consulter le journal d'audit : qui a modifié quoi, quand, et la valeur d'avant.

    \b
        canteen audit --household CONCERTO
        canteen audit --actor cli:marie --action manage_family_quotient --json
        canteen audit verify
    """
    if context.invoked_subcommand is not None:
        return
    start = end = None
    if since is not None:
        start = datetime.combine(parse_day(since, "--since"), time(0), tzinfo=_PARIS)
    if until is not None:
        end = datetime.combine(
            parse_day(until, "--until") + timedelta(days=1), time(0), tzinfo=_PARIS
        ) - timedelta(microseconds=1)
    with operator.open() as canteen:
        entries = canteen.audit.entries(
            operator.actor,
            household_id=household,
            actor_id=actor_id,
            action=action,
            since=start,
            until=end,
        )
    if operator.as_json:
        echo_json({"entries": [_as_json(entry, household) for entry in entries]})
        return
    if not entries:
        click.echo("Aucune entrée du journal d'audit ne correspond.")
        return
    for entry in entries:
        click.echo(_line(entry, household))
    click.echo(plural(len(entries), "entrée"))


@command.command("verify")
@operator_command
def verify_command(operator: Operator) -> None:
    """Vérifier la chaîne du journal d'audit : si elle est rompue, nommer la première entrée
    modifiée, supprimée ou insérée et sortir avec le code 1."""
    with operator.open() as canteen:
        report = canteen.audit.verify(operator.actor)
    if operator.as_json:
        echo_json(
            {
                "commune": report.commune,
                "intact": report.intact,
                "checked": report.checked,
                "broken_sequence": report.broken_sequence,
                "broken_id": report.broken_id,
                "reason": report.reason,
            }
        )
        if not report.intact:
            raise SystemExit(1)
        return
    if not report.intact:
        fail(report.message())
    click.echo(report.message())
