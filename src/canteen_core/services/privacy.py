"""``canteen.privacy``: a household's RGPD rights (access and portability, erasure).

* :meth:`PrivacyService.export_household`: every piece of data held about a household, as
  JSON-ready values by category, with each category's purpose and retention
  (:func:`~canteen_core.domain.retention.data_categories`); the CLI writes it as a JSON file
  and a French PDF summary.
* :meth:`PrivacyService.erase_household`: removes what may go (household, children's health
  data, quotients, enrollments and bookings, requests, attendance, absences, mandates, started
  payments, portal accounts, its e-mails in the send queue) and keeps what the law requires:
  invoices, credit notes, payments and refunds with the payer's name, for their ten-year
  accounting retention (the household id they carry no longer leads to anyone). A portal
  account shared with another household (or also a commune role's) is kept, only unlinked
  from the household. Refused while an invoice is unpaid or the household holds credit.
  Returns what was removed and what was kept, and why.

Both are ``manage_personal_data`` (admin) and leave one audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from canteen_core.config.serialization import unstructure
from canteen_core.domain.accounts import Account
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.audit import AuditEntry
from canteen_core.domain.clock import paris_date
from canteen_core.domain.families import Household
from canteen_core.domain.policy import Action
from canteen_core.domain.retention import DataCategory, data_categories
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing.statements import refuse_while_money_held
from canteen_core.services.family_papers import delete_paper_files
from canteen_core.services.runner import ServiceBase

__all__ = ["ErasureReport", "HouseholdExport", "PrivacyService"]

_FAMILY_ROLES = frozenset({Role.GUARDIAN, Role.CO_REPRESENTATIVE})

#: The export's sections, by the data category they belong to.
_SECTIONS: dict[str, tuple[str, ...]] = {
    "household": ("household",),
    "enrollments": (
        "enrollments",
        "enrollment_requests",
        "campaign_answers",
        "reservations",
        "change_requests",
        "attendance",
        "absences",
    ),
    "documents": ("family_papers",),
    "mandates": ("mandates",),
    "accounts": ("accounts",),
    "messages": ("messages",),
    "accounting": (
        "invoices",
        "credit_notes",
        "payments",
        "refunds",
        "payment_requests",
        "payment_notifications",
    ),
    "audit": ("audit",),
}


@attrs.frozen(kw_only=True)
class HouseholdExport:
    """A household's data (``data``: section name -> JSON-ready records) and the categories
    held, with purpose and retention (``categories``, with how many records each)."""

    household_id: str
    exported_at: datetime
    data: dict[str, list[Any]]
    categories: tuple[tuple[DataCategory, int], ...]

    def as_json(self) -> dict[str, Any]:
        """The machine-readable export (one JSON object)."""
        return {
            "household_id": self.household_id,
            "exported_at": self.exported_at.isoformat(),
            "categories": [
                {
                    "key": category.key,
                    "label": category.label,
                    "purpose": category.purpose,
                    "retention": category.retention,
                    "records": count,
                }
                for category, count in self.categories
            ],
            "data": self.data,
        }


@attrs.frozen(kw_only=True)
class ErasureReport:
    """What an erasure removed and what it kept (French labels, counts, reasons)."""

    household_id: str
    erased_at: datetime
    removed: tuple[tuple[str, int], ...]
    kept: tuple[tuple[str, int, str], ...]

    def lines(self) -> list[str]:
        """The report as French lines."""
        out = [f"Foyer {self.household_id} effacé."]
        out += [f"Supprimé : {label} ({count})" for label, count in self.removed if count]
        out += [f"Conservé : {label} ({count}) : {why}" for label, count, why in self.kept if count]
        return out


def _plain(items: Iterable[Any]) -> list[Any]:
    return [unstructure(item) for item in items]


def _audit_record(entry: AuditEntry, household_id: str) -> dict[str, Any]:
    """An audit entry as the household's export shows it: only its own changes and id, not
    the other households a bulk entry (an import, a billing run) also covers."""
    mine, _ = entry.changes_for(household_id)
    entities = entry.entity_ids
    if len(entry.household_ids) > 1:
        entities = tuple(sorted({change.entity for change in mine}))
    return {
        **entry.details(),
        "household_ids": [household_id],
        "entity_ids": list(entities),
        "changes": [change.as_json() for change in mine],
        "sequence": entry.sequence,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "recorded_at": entry.recorded_at.isoformat(),
    }


def _children(household: Household) -> tuple[str, ...]:
    return tuple(child.id for child in household.children)


def _accounts(uow: UnitOfWork, household_id: str) -> list[Account]:
    return [account for account in uow.accounts.list() if household_id in account.household_ids]


def _notifications(uow: UnitOfWork, household_id: str) -> list[Any]:
    """The payment provider's notifications about the household's online payments (linked
    by the transactions it started)."""
    transactions = sorted(
        {r.transaction_id for r in uow.payment_requests.list(household_id=household_id)}
    )
    return [
        notification
        for transaction_id in transactions
        for notification in uow.notifications_audit.list(transaction_id=transaction_id)
    ]


#: The erasure report's line for the accounts kept (counted by ``_remove``, reported as kept).
_SHARED = "comptes du portail partagés"


def _split_accounts(
    accounts: Iterable[Account], household_id: str
) -> tuple[list[str], list[Account]]:
    """The ids of the accounts an erasure removes (a family account of this household
    only), and the accounts it keeps, unlinked: shared with another household, or also a
    commune role's."""
    removed: list[str] = []
    shared: list[Account] = []
    for account in accounts:
        if account.household_ids == {household_id} and account.roles <= _FAMILY_ROLES:
            removed.append(account.id)
        else:
            shared.append(account)
    return removed, shared


class PrivacyService(ServiceBase):
    """A household's RGPD rights: export and erasure (``manage_personal_data``: admin)."""

    def _gather(self, uow: UnitOfWork, household: Household) -> dict[str, list[Any]]:
        household_id = household.id
        enrollments = list(uow.enrollments.list(household_id=household_id))
        books = uow.reservations.load_many(e.id for e in enrollments)
        children = _children(household)
        return {
            "household": [unstructure(household)],
            "enrollments": [
                {key: value for key, value in unstructure(e).items() if key != "calendar"}
                for e in enrollments
            ],
            "reservations": [
                {
                    "enrollment_id": enrollment_id,
                    "days": [day.isoformat() for day in book.booked_days()],
                }
                for enrollment_id, book in sorted(books.items())
            ],
            "enrollment_requests": _plain(uow.enrollment_requests.list(household_id=household_id)),
            "family_papers": _plain(uow.family_papers.list(household_id=household_id)),
            "campaign_answers": _plain(uow.campaign_answers.list(household_id=household_id)),
            "change_requests": _plain(uow.change_requests.list(household_id=household_id)),
            "attendance": _plain(uow.attendance.list(household_id=household_id)),
            "absences": _plain(uow.absences.list(child_id=children)) if children else [],
            "invoices": _plain(uow.invoices.list(household_id=household_id)),
            "credit_notes": _plain(uow.credit_notes.list(household_id=household_id)),
            "payments": _plain(uow.payments.list(household_id=household_id)),
            "refunds": _plain(uow.refunds.list(household_id=household_id)),
            "mandates": _plain(uow.mandates.list(household_id=household_id)),
            "payment_requests": _plain(uow.payment_requests.list(household_id=household_id)),
            "payment_notifications": _plain(_notifications(uow, household_id)),
            "accounts": _plain(a.view() for a in _accounts(uow, household_id)),
            "messages": _plain(
                record.message
                for record in uow.outbox.records()
                if record.message.household_id == household_id
            ),
            "audit": [
                _audit_record(entry, household_id)
                for entry in uow.audit.entries(
                    self._ctx.deployment.issuer.code, household_id=household_id
                )
            ],
        }

    def _categories(self, data: dict[str, list[Any]]) -> tuple[tuple[DataCategory, int], ...]:
        household = data["household"][0]
        health = sum(
            1
            for child in household.get("children", ())
            if child.get("pai")
            or child.get("pai_allergens")
            or child.get("diet") not in (None, "standard")
        )
        counts = {key: sum(len(data[name]) for name in names) for key, names in _SECTIONS.items()}
        counts["health"] = health
        counts["quotients"] = len(household.get("quotients", ()))
        return tuple(
            (category, counts.get(category.key, 0))
            for category in data_categories(self._ctx.deployment.retention)
        )

    def export_household(self, actor: Actor, household_id: str) -> HouseholdExport:
        """Everything held about ``household_id`` (RGPD access and portability); logged in
        the audit trail as a read. ``NotFoundError`` for an unknown household."""
        with self._ctx.use_case(
            actor, Action.MANAGE_PERSONAL_DATA, household_id=household_id
        ) as tx:
            household = tx.uow.households.get(household_id)
            data = self._gather(tx.uow, household)
            tx.audit.read(household_id, "export RGPD de toutes les données du foyer")
            return HouseholdExport(
                household_id=household_id,
                exported_at=tx.now,
                data=data,
                categories=self._categories(data),
            )

    def erase_household(self, actor: Actor, household_id: str) -> ErasureReport:
        """Erase a household (RGPD right to erasure), keeping its accounting documents.

        Refused with :class:`RuleViolationError` (nothing changed) while one of its invoices
        is unpaid (a direct debit still to be collected included), and with
        :class:`~canteen_core.domain.errors.CreditHeldError` while it holds credit: the
        family's money must be paid back first (``payments.refund``), or it would be left
        with no one to pay it back to. ``NotFoundError`` for an unknown household.
        """
        with self._ctx.use_case(
            actor, Action.MANAGE_PERSONAL_DATA, household_id=household_id
        ) as tx:
            uow = tx.uow
            household = uow.households.get(household_id)
            refuse_while_money_held(
                uow, household_id, today=paris_date(tx.now), refused="effacement refusé"
            )
            papers = list(uow.family_papers.list(household_id=household_id))
            notifications = len(_notifications(uow, household_id))  # before their requests go
            everything = self._remove(uow, household)
            shared = dict(everything).get(_SHARED, 0)
            removed = tuple(item for item in everything if item[0] != _SHARED)
            kept = (
                ("factures", uow.invoices.count(household_id=household_id)),
                ("avoirs", uow.credit_notes.count(household_id=household_id)),
                ("paiements", uow.payments.count(household_id=household_id)),
                ("remboursements", uow.refunds.count(household_id=household_id)),
            )
            reason = "pièces comptables conservées 10 ans avec le nom du payeur (obligation légale)"
            audit_kept = sum(
                1
                for _ in uow.audit.entries(
                    self._ctx.deployment.issuer.code, household_id=household_id
                )
            )
            tx.audit.change(
                f"household:{household_id}",
                "erased",
                None,
                dict(everything),
                household_id=household_id,
            )
            tx.audit.describe(f"Effacement RGPD du foyer {household_id}")
            report = ErasureReport(
                household_id=household_id,
                erased_at=tx.now,
                removed=removed,
                kept=(
                    *((label, count, reason) for label, count in kept),
                    (
                        "entrées du journal d'audit",
                        audit_kept,
                        "traçabilité des actions, effacées selon la durée de conservation",
                    ),
                    (
                        "notifications du prestataire de paiement",
                        notifications,
                        "preuves des paiements en ligne, conservées avec eux",
                    ),
                    (
                        _SHARED,
                        shared,
                        "utilisés aussi par un autre foyer ou par la commune : seul leur lien "
                        "avec ce foyer est retiré",
                    ),
                ),
            )
        # The papers' bytes go once the erasure committed: a failed erasure keeps them.
        delete_paper_files(self._ctx.document_store, papers)
        return report

    def _remove(self, uow: UnitOfWork, household: Household) -> tuple[tuple[str, int], ...]:
        household_id = household.id
        enrollments = list(uow.enrollments.list(household_id=household_id))
        books = uow.reservations.load_many(e.id for e in enrollments)
        cleared = [
            (
                attrs.evolve(
                    book, bits=0, late_booked=0, late_cancelled=0, version=book.version + 1
                ),
                book.version,
            )
            for book in books.values()
            if book.bits or book.late_cancelled
        ]
        if cleared:
            uow.reservations.save_many(cleared)
        counts: dict[str, int] = {
            "réservations (jours)": sum(len(b.booked_days()) for b in books.values())
        }

        def drop(label: str, repository: Any, ids: Iterable[str]) -> None:
            ids = list(ids)
            for item_id in ids:
                repository.remove(item_id)
            counts[label] = counts.get(label, 0) + len(ids)

        def drop_listed(label: str, repository: Any) -> None:
            # The household's records of ``repository``, found by their ``household_id``.
            drop(label, repository, (r.id for r in repository.list(household_id=household_id)))

        children = _children(household)
        drop_listed("demandes de modification", uow.change_requests)
        drop_listed("présences", uow.attendance)
        if children:
            drop(
                "absences justifiées",
                uow.absences,
                (r.id for r in uow.absences.list(child_id=children)),
            )
        drop("inscriptions", uow.enrollments, (e.id for e in enrollments))
        drop_listed("demandes d'inscription", uow.enrollment_requests)
        drop_listed("réponses aux campagnes", uow.campaign_answers)
        drop_listed("documents déposés", uow.family_papers)
        drop(
            "mandats de prélèvement",
            uow.mandates,
            (m.reference for m in uow.mandates.list(household_id=household_id)),
        )
        drop_listed("paiements en ligne commencés", uow.payment_requests)
        accounts, shared = _split_accounts(_accounts(uow, household_id), household_id)
        counts["courriels de la file d'envoi"] = uow.outbox.remove_household(
            household_id, account_ids=accounts
        )
        drop("comptes du portail", uow.accounts, accounts)
        for account in shared:
            # Another household (or the commune) still uses it: only this link goes.
            uow.accounts.save(
                attrs.evolve(account, household_ids=account.household_ids - {household_id})
            )
        counts[_SHARED] = len(shared)
        counts["enfants (dont données de santé)"] = len(children)
        counts["foyer (identité, coordonnées, quotients familiaux)"] = 1
        uow.households.remove(household_id)
        return tuple(counts.items())
