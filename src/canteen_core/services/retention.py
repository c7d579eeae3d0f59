"""``canteen.retention``: apply the deployment's retention settings (``[retention]``).

:meth:`RetentionService.run` finds what has been kept longer than the settings allow and, with
``apply=True``, removes it in one transaction (one audit entry naming what went, never the
health values themselves):

* family portal accounts without a login (or activation, or creation) for
  ``inactive_accounts_days``: removed;
* children's diets and PAI once their last enrollment ended ``health_data_days_after_enrollment``
  days ago: cleared (standard diet, no PAI);
* audit entries older than ``audit_entries_days``: the chain's oldest part is cut
  (:meth:`~canteen_core.ports.audit.AuditLogRepository.cut_before`); the first kept entry then
  anchors the chain.

* uploaded papers reviewed (accepted or rejected) more than ``documents_days_after_review``
  days ago: their records are removed, and their bytes deleted from the document store once
  the run committed (a failed run keeps them); papers still waiting for review stay. A signed
  SEPA mandate (filed by canteen) is kept while the mandate is in force, and goes
  ``documents_days_after_review`` days after its revocation.

Without ``apply`` nothing changes (a dry run: the report of what would go).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.families import Diet, Household
from canteen_core.domain.family_papers import FamilyPaper, PaperKind, PaperStatus
from canteen_core.domain.policy import Action
from canteen_core.services.family_papers import delete_paper_files
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["RetentionItem", "RetentionReport", "RetentionService"]


@attrs.frozen(kw_only=True)
class RetentionItem:
    """One kind of data past its retention: how many, which (ids), why (French)."""

    key: str
    label: str
    rule: str
    ids: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many records."""
        return len(self.ids)


@attrs.frozen(kw_only=True)
class RetentionReport:
    """What a retention run found (and removed, when ``applied``)."""

    applied: bool
    items: tuple[RetentionItem, ...]

    def lines(self) -> list[str]:
        """The report as French lines."""
        verb = "supprimé(s)" if self.applied else "à supprimer"
        out = [f"{item.label} : {item.count} {verb} ({item.rule})" for item in self.items]
        if not self.applied:
            out.append("Simulation : rien n'a été modifié (relancez avec --apply pour appliquer).")
        return out


def _sensitive(household: Household, ends: dict[str, date], before: date) -> tuple[str, ...]:
    return tuple(
        child.id
        for child in household.children
        if (child.pai or child.pai_allergens or child.diet is not Diet.STANDARD)
        and child.id in ends
        and ends[child.id] < before
    )


def _expired(paper: FamilyPaper, cutoff: datetime, last_day: date) -> bool:
    """Whether ``paper`` was reviewed before ``cutoff``; a signed SEPA mandate instead counts
    from its revocation (``valid_until``) before ``last_day``, and is kept while in force."""
    if paper.kind is PaperKind.SEPA_MANDATE:
        return paper.valid_until is not None and paper.valid_until < last_day
    return (
        paper.status is not PaperStatus.PENDING
        and paper.reviewed_at is not None
        and paper.reviewed_at < cutoff
    )


class RetentionService(ServiceBase):
    """The retention policy run (``apply_retention``: admin, system)."""

    def run(self, actor: Actor, *, apply: bool = False) -> RetentionReport:
        """Find (and with ``apply``, remove) what is kept beyond the retention settings."""
        papers: list[FamilyPaper] = []
        with self._ctx.use_case(actor, Action.APPLY_RETENTION, read_only=not apply) as tx:
            items = (
                self._accounts(tx, apply),
                self._health(tx, apply),
                self._documents(tx, apply, papers),
                self._audit(tx, apply),
            )
            if apply:
                tx.audit.describe(
                    "Durées de conservation appliquées : "
                    + ", ".join(f"{item.label.lower()} {item.count}" for item in items)
                )
        # The bytes go once the records' removal committed.
        delete_paper_files(self._ctx.document_store, papers)
        return RetentionReport(applied=apply, items=items)

    def _accounts(self, tx: Transaction, apply: bool) -> RetentionItem:
        days = self._ctx.deployment.retention.inactive_accounts_days
        cutoff = tx.now - timedelta(days=days)
        stale = tuple(
            account.id
            for account in tx.uow.accounts.list()
            if account.is_family
            and (account.last_login_at or account.activated_at or account.created_at) < cutoff
        )
        if apply:
            for account_id in stale:
                tx.uow.accounts.remove(account_id)
                tx.audit.touch(f"account:{account_id}")
        return RetentionItem(
            key="accounts",
            label="Comptes du portail inactifs",
            rule=f"aucune connexion depuis {days} jours",
            ids=stale,
        )

    def _health(self, tx: Transaction, apply: bool) -> RetentionItem:
        days = self._ctx.deployment.retention.health_data_days_after_enrollment
        before = paris_date(tx.now) - timedelta(days=days)
        ends: dict[str, date] = {}
        for enrollment in tx.uow.enrollments.list():
            ends[enrollment.child_id] = max(
                enrollment.end, ends.get(enrollment.child_id, enrollment.end)
            )
        cleared: list[str] = []
        for household in tx.uow.households.all():
            children = _sensitive(household, ends, before)
            if not children:
                continue
            cleared += children
            if apply:
                changed = attrs.evolve(
                    household,
                    children=tuple(
                        attrs.evolve(
                            child, diet=Diet.STANDARD, pai=False, pai_allergens=frozenset()
                        )
                        if child.id in children
                        else child
                        for child in household.children
                    ),
                )
                tx.uow.households.save(changed)
                tx.audit.touch(*(f"child:{c}" for c in children), household_id=household.id)
        return RetentionItem(
            key="health",
            label="Données de santé d'enfants (régime, PAI)",
            rule=f"{days} jours après la fin de la dernière inscription",
            ids=tuple(cleared),
        )

    def _documents(self, tx: Transaction, apply: bool, removed: list[FamilyPaper]) -> RetentionItem:
        days = self._ctx.deployment.retention.documents_days_after_review
        cutoff = tx.now - timedelta(days=days)
        last_day = paris_date(cutoff)
        old = [paper for paper in tx.uow.family_papers.list() if _expired(paper, cutoff, last_day)]
        if apply:
            for paper in old:
                tx.uow.family_papers.remove(paper.id)
                tx.audit.touch(f"paper:{paper.id}", household_id=paper.household_id)
            removed.extend(old)
        return RetentionItem(
            key="documents",
            label="Documents déposés par les familles",
            rule=f"examinés il y a plus de {days} jours",
            ids=tuple(paper.id for paper in old),
        )

    def _audit(self, tx: Transaction, apply: bool) -> RetentionItem:
        days = self._ctx.deployment.retention.audit_entries_days
        commune = self._ctx.deployment.issuer.code
        cutoff = tx.now - timedelta(days=days)
        # One pass over the old entries: their ids for the report, the last one's sequence for
        # the cut (entries come in sequence order; only ids are kept, not the entries' changes).
        old: list[str] = []
        last_sequence = 0
        for entry in tx.uow.audit.entries(commune, until=cutoff):
            old.append(entry.id)
            last_sequence = entry.sequence
        if apply and old:
            tx.uow.audit.cut_before(commune, last_sequence + 1)
            tx.audit.change(f"audit:{commune}", "cut_before", None, last_sequence + 1)
        return RetentionItem(
            key="audit",
            label="Entrées du journal d'audit",
            rule=f"plus de {days} jours",
            ids=tuple(old),
        )
