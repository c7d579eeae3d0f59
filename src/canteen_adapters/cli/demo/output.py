"""The demo's report as French text or JSON."""

from __future__ import annotations

from typing import Any

import attrs

from canteen_adapters.cli._output import euros, plural
from canteen_adapters.cli.demo.commune import COMMUNE, CONCERTO_ID, PERIOD, SERVICE, SHOWN_AT, SITE
from canteen_adapters.cli.demo.run import DemoReport, PortalLogin
from canteen_adapters.cli.invoices import payer_label
from canteen_core.domain.money import Money

__all__ = [
    "render_text",
    "report_json",
]


def _money(value: Money) -> str:
    return f"{value.rounded().amount:.2f}"


def _totals(report: DemoReport) -> dict[str, Any]:
    billed = report.billed
    invoiced = Money.sum(s.invoiced for s in billed)
    received = Money.sum(s.received for s in report.statements.values())
    outstanding = Money.sum(s.balance_due for s in report.statements.values())
    unpaid = sum(1 for s in billed for i in s.invoices if i.balance_due.is_positive)
    return {
        "households": len(report.households),
        "households_billed": len(billed),
        "invoices": sum(len(s.invoices) for s in billed),
        "invoiced": invoiced,
        "paid": received,
        "outstanding": outstanding,
        "unpaid_invoices": unpaid,
    }


def render_text(report: DemoReport) -> str:
    """The demo's French output: the steps, "MES FACTURES" of the CONCERTO family, the
    commune's totals."""
    by_id = {h.id: h for h in report.households}
    concerto = by_id[CONCERTO_ID]
    lines = [
        f"canteen demo : commune de {COMMUNE} (zone C), année scolaire 2023-2024",
        f"Base de données : {report.database}",
        f"Déploiement : {report.config}",
        "",
    ]
    width = max(len(step.label) for step in report.steps)
    for step in report.steps:
        lines.append(f"  {step.label:<{width}}  {step.text}")
    page = report.concerto_page
    statement = report.statements[CONCERTO_ID]
    lines += [
        "",
        "MES FACTURES",
        "",
        page.summary_fr,
    ]
    headers = ("Facture du", "À régler avant le", "Reste à payer", "Montant total", "État")
    for row in page.rows:
        state = next(s for s in statement.invoices if s.invoice.id == row.invoice_id)
        cells = (
            f"{row.issue_date:%d/%m/%Y}",
            f"{row.due_date:%d/%m/%Y}",
            euros(row.balance_due),
            euros(row.total),
            row.status_label,
        )
        widths = [max(len(h), len(c)) for h, c in zip(headers, cells, strict=True)]
        lines += [
            "",
            row.label,
            "",
            f"Payeur : {payer_label(concerto)}",
            f"Facture n° {row.number}",
            "",
            "   ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
            "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip(),
            "",
        ]
        for line in state.invoice.lines:
            who = f"{line.child_name} : " if line.child_name else ""
            lines.append(
                f"  {who}{line.description}, {line.quantity} x {euros(line.unit_price)}"
                f" = {euros(line.amount)}"
            )
        if row.can_pay_online:
            lines.append(f"  Le paiement en ligne est disponible à partir du "
                         f"{row.payable_online_from:%d/%m/%Y}")  # fmt: skip
    payments = [e for e in statement.entries if e.kind == "payment"]
    if payments:
        lines.append("")
        for entry in payments:
            lines.append(f"  {entry.day:%d/%m/%Y}  {entry.label} : {euros(entry.credit)}")
    totals = _totals(report)
    lines += [
        "",
        f"Commune de {COMMUNE} : facturation de septembre 2023",
        f"  Foyers                {totals['households']}",
        f"  Foyers facturés       {totals['households_billed']}",
        f"  Factures              {totals['invoices']} (dont "
        f"{plural(totals['unpaid_invoices'], 'non réglée', 'non réglées')})",
        f"  Total facturé         {euros(totals['invoiced'])}",
        f"  Total encaissé        {euros(totals['paid'])}",
        f"  Reste à encaisser     {euros(totals['outstanding'])}",
    ]
    lines += _serve_lines(report)
    return "\n".join(lines)


def _serve_lines(report: DemoReport) -> list[str]:
    """How to start the HTTP API on the demo, and Madame CONCERTO's login."""
    login = report.concerto_login
    lines = [
        "",
        "Portail (API HTTP) : démarrez-le sur la démo, à la date de la démo",
        f"  CANTEEN_NOW={SHOWN_AT.isoformat()} canteen serve --config {report.config}",
        "  puis ouvrez http://127.0.0.1:8000/connexion (portail famille) ou /schema (API).",
    ]
    if login is not None:
        lines += _login_lines("Madame CONCERTO (portail famille)", login)
    if report.staff_login is not None:
        lines += _login_lines(
            "l'agent de la régie (pages de gestion, /gestion)", report.staff_login
        )
    return lines


def _login_lines(whose: str, login: PortalLogin) -> list[str]:
    """The lines telling how ``whose`` account signs in: username, then the temporary
    password and activation link while it is not activated."""
    lines = [f"  Identifiant de {whose} : {login.username}"]
    if login.temporary_password is not None:
        lines.append(f"    Mot de passe provisoire : {login.temporary_password}")
    if login.activation_token is not None:
        lines.append(
            "    Lien d'activation (celui du courriel, sur ce serveur) : "
            f"http://127.0.0.1:8000/activation?token={login.activation_token}"
        )
    if login.temporary_password is None:
        lines.append("    Compte déjà activé : connectez-vous avec le mot de passe choisi.")
    return lines


def report_json(report: DemoReport) -> dict[str, Any]:
    """The ``--json`` object: every invoice with its lines, every household's balance.

    Amounts are decimal strings (``"13.40"``). For each invoice, ``total`` is the sum of its
    lines' ``amount``; for each household, ``balance == invoiced - credited - paid +
    refunded``.
    """
    by_id = {h.id: h for h in report.households}
    invoices: list[dict[str, Any]] = []
    households: list[dict[str, Any]] = []
    for household_id in sorted(report.statements):
        statement = report.statements[household_id]
        household = by_id[household_id]
        for state in statement.invoices:
            invoice = state.invoice
            invoices.append(
                {
                    "id": invoice.id,
                    "number": invoice.number,
                    "household_id": household_id,
                    "payer": payer_label(household),
                    "label": invoice.label,
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                    "payable_online_from": invoice.payment_open_date,
                    "total": _money(invoice.total),
                    "paid": _money(state.paid),
                    "balance_due": _money(state.balance_due),
                    "status": state.status.value,
                    "lines": [
                        {
                            "child_id": line.child_id,
                            "child": line.child_name,
                            "description": line.description,
                            "quantity": line.quantity,
                            "unit_price": _money(line.unit_price),
                            "amount": _money(line.amount),
                            "days": list(line.days),
                        }
                        for line in invoice.lines
                    ],
                }
            )
        households.append(
            {
                "household_id": household_id,
                "payer": payer_label(household),
                "invoiced": _money(statement.invoiced),
                "credited": _money(statement.credited),
                "paid": _money(statement.received),
                "refunded": _money(statement.refunded),
                "balance": _money(statement.net_balance),
                "balance_due": _money(statement.balance_due),
                "credit": _money(statement.available_credit),
            }
        )
    totals = _totals(report)
    page = report.concerto_page
    return {
        "commune": COMMUNE,
        "zone": "C",
        "school_year": "2023-2024",
        "site": SITE.name,
        "service": SERVICE.name,
        "period": PERIOD,
        "database": str(report.database),
        "config": str(report.config),
        "totals": {
            key: _money(value) if isinstance(value, Money) else value
            for key, value in totals.items()
        },
        "concerto": {
            "household_id": CONCERTO_ID,
            "payer": payer_label(by_id[CONCERTO_ID]),
            "summary": page.summary_fr,
            "balance_due": _money(page.balance_due),
            "account": None
            if report.concerto_login is None
            else attrs.asdict(report.concerto_login),
        },
        "invoices": invoices,
        "households": households,
    }
