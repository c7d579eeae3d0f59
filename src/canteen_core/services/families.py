"""Households: staff manage them, families see (and lightly edit) their own.

``canteen.families`` on the facade. A guardian only ever sees the households listed in its
actor (``Actor.household_ids``); staff, finance and admin see every household.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.policy import Action
from canteen_core.services.billing.billed_days import (
    BilledQuotientChangeError,
    quotient_repricing,
)
from canteen_core.services.billing.statements import refuse_while_money_held
from canteen_core.services.campaign_answers import record_quotient_answer
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["FamilyService", "HouseholdDashboard"]

#: The household fields whose before/after the audit trail records.
_AUDITED = ("payer", "co_representative", "children", "quotients", "resident")
#: What staff reading a household see of its children's health (logged as such).
_HEALTH = "données de santé (PAI, régimes)"


@attrs.frozen(kw_only=True)
class HouseholdDashboard:
    """What the portal's home page shows for a household (the seed's "Mon espace").

    The household with its payer, co-representative and children, and each child's
    enrollments.
    """

    household: Household
    enrollments: tuple[Enrollment, ...] = ()

    @property
    def payer(self) -> Guardian:
        """The payer (représentant légal payeur)."""
        return self.household.payer

    @property
    def co_representative(self) -> Guardian | None:
        """The co-representative, if any."""
        return self.household.co_representative

    @property
    def children(self) -> tuple[Child, ...]:
        """The household's children."""
        return self.household.children

    def enrollments_of(self, child_id: str) -> tuple[Enrollment, ...]:
        """The enrollments of one child."""
        return tuple(e for e in self.enrollments if e.child_id == child_id)


def _household(value: object) -> Household:
    if not isinstance(value, Household):
        raise InvalidInputError(
            f"expected a Household, got {type(value).__name__}", path="household"
        )
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("ne doit pas être vide", path=path)
    return value


class FamilyService(ServiceBase):
    """Households CRUD for staff, family quotients, and the family's own view."""

    # -- staff: create and change ----------------------------------------------------------

    def create_household(self, actor: Actor, household: Household) -> Household:
        """Store a new household (admin). ``ConflictError`` if its id or a child id exists."""
        household = _household(household)
        with self._ctx.use_case(actor, Action.MANAGE_HOUSEHOLDS) as tx:
            tx.uow.households.add(household)
            tx.audit.changes_of(
                f"household:{household.id}", None, household, _AUDITED, household_id=household.id
            )
            tx.audit.describe(f"Création du foyer {household.id}")
        return household

    def create_households(self, actor: Actor, households: Sequence[Household]) -> int:
        """Store many new households in one transaction (an import); all or nothing."""
        items = [_household(item) for item in households]
        with self._ctx.use_case(actor, Action.MANAGE_HOUSEHOLDS) as tx:
            # One batch: the repositories report the first conflict as adding them in order
            # would (same errors), in a few statements instead of a few per household.
            tx.uow.households.add_many(items)
            for item in items:
                # The quotients only (who set this QF); the rest is in the household itself.
                tx.audit.changes_of(
                    f"household:{item.id}", None, item, ("quotients",), household_id=item.id
                )
            tx.audit.describe(f"Import de {len(items)} foyer(s)")
        return len(items)

    def save_household(
        self, actor: Actor, household: Household, *, reprice_billed: bool = False
    ) -> Household:
        """Replace a stored household by a changed copy (admin); ``NotFoundError`` if new.

        Its quotients follow :meth:`set_family_quotient`'s rule: a copy that would price a day
        already invoiced with another quotient is refused with
        :class:`~canteen_core.services.billing.BilledQuotientChangeError` (nothing stored)
        unless ``reprice_billed`` confirms the correction."""
        household = _household(household)
        summary = f"Modification du foyer {household.id}"
        with self._ctx.use_case(actor, Action.MANAGE_HOUSEHOLDS) as tx:
            before = tx.uow.households.get(household.id)
            if not reprice_billed:
                _refuse_repricing(tx, before, household)
            tx.uow.households.save(household)
            _record(tx, before, household, summary)
        return household

    def add_child(self, actor: Actor, household_id: str, child: Child) -> Household:
        """Add a child to a household (admin); ``ConflictError`` if it belongs elsewhere."""
        if not isinstance(child, Child):
            raise InvalidInputError(f"expected a Child, got {type(child).__name__}", path="child")
        summary = f"Ajout de l'enfant {child.id} au foyer {household_id}"
        return self._change(actor, household_id, lambda h: h.with_child(child), summary)

    def set_co_representative(
        self, actor: Actor, household_id: str, guardian: Guardian | None
    ) -> Household:
        """Set (or remove with ``None``) the household's co-representative (admin)."""
        if guardian is not None and not isinstance(guardian, Guardian):
            raise InvalidInputError("expected a Guardian or None", path="guardian")
        summary = f"Co-représentant du foyer {household_id}"
        return self._change(
            actor, household_id, lambda h: h.with_co_representative(guardian), summary
        )

    def _change(
        self,
        actor: Actor,
        household_id: str,
        change: Callable[[Household], Household],
        summary: str,
    ) -> Household:
        """Save ``change`` of the stored household (admin), audited under ``summary``."""
        with self._ctx.use_case(actor, Action.MANAGE_HOUSEHOLDS) as tx:
            before = tx.uow.households.get(household_id)
            household = change(before)
            tx.uow.households.save(household)
            _record(tx, before, household, summary)
        return household

    def remove_household(self, actor: Actor, household_id: str) -> None:
        """Delete a household (admin); ``ConflictError`` while it has enrollments, and
        :class:`~canteen_core.domain.errors.RuleViolationError` while one of its invoices is
        unpaid or it holds credit (as :meth:`PrivacyService.erase_household
        <canteen_core.services.privacy.PrivacyService.erase_household>`)."""
        with self._ctx.use_case(actor, Action.MANAGE_HOUSEHOLDS) as tx:
            if tx.uow.enrollments.count(household_id=household_id):
                raise ConflictError(
                    f"le foyer {household_id} a encore des inscriptions : supprimez-les d'abord"
                )
            before = tx.uow.households.get(household_id)
            refuse_while_money_held(
                tx.uow, household_id, today=paris_date(tx.now), refused="suppression refusée"
            )
            tx.uow.households.remove(household_id)
            _record(tx, before, None, f"Suppression du foyer {household_id}")

    def set_family_quotient(
        self,
        actor: Actor,
        household_id: str,
        quotient: FamilyQuotient,
        *,
        reprice_billed: bool = False,
    ) -> Household:
        """Record a family quotient from its start date on (finance, admin); the previous one
        ends the day before, and those planned after it are replaced.

        A quotient applies from a date, never to what was already invoiced: one whose
        ``valid_from`` would give a day already invoiced for the household (net of credit
        notes; a prepaid invoice's days may be in the future) another quotient is refused
        with :class:`~canteen_core.services.billing.BilledQuotientChangeError`, naming the
        invoice and the first day it can apply from, and nothing is stored. ``reprice_billed``
        confirms a deliberate correction (a quotient recorded wrong): the next post-paid run
        then regularises those days (credit notes, and the days charged again at the new
        bracket). Re-recording the quotient in force changes no invoiced day: no confirmation.
        """
        if not isinstance(quotient, FamilyQuotient):
            raise InvalidInputError("expected a FamilyQuotient", path="quotient")
        with self._ctx.use_case(actor, Action.MANAGE_FAMILY_QUOTIENT) as tx:
            before = tx.uow.households.get(household_id)
            household = before.with_quotient(quotient)
            if not reprice_billed:
                _refuse_repricing(tx, before, household)
            tx.uow.households.save(household)
            record_quotient_answer(tx, household, quotient)
            tx.audit.changes_of(
                f"household:{household_id}",
                before,
                household,
                ("quotients",),
                household_id=household_id,
            )
            tx.audit.describe(
                f"QF du foyer {household_id} : {quotient.value} à partir du {quotient.valid_from}"
                + (" (refacturation confirmée)" if reprice_billed else "")
            )
        return household

    # -- families: their own details --------------------------------------------------------

    def update_contact(
        self,
        actor: Actor,
        household_id: str,
        guardian_id: str,
        *,
        email: str | None = None,
        civility: str | None = None,
    ) -> Household:
        """Change a guardian's email or civility (the payer, or admin)."""
        guardian_id = _text(guardian_id, "guardian_id")
        with self._ctx.use_case(actor, Action.UPDATE_HOUSEHOLD, household_id=household_id) as tx:
            household = before = tx.uow.households.get(household_id)
            if household.payer.id == guardian_id:
                changed = _contact(household.payer, email, civility)
                household = attrs.evolve(household, payer=changed)
            elif (
                household.co_representative is not None
                and household.co_representative.id == guardian_id
            ):
                changed = _contact(household.co_representative, email, civility)
                household = attrs.evolve(household, co_representative=changed)
            else:
                raise NotFoundError(f"no guardian {guardian_id!r} in household {household_id!r}")
            tx.uow.households.save(household)
            _record(tx, before, household, f"Coordonnées du foyer {household_id}")
        return household

    # -- reading ------------------------------------------------------------------------------

    def get(self, actor: Actor, household_id: str) -> Household:
        """One household (a family sees only its own)."""
        with self._ctx.use_case(
            actor, Action.VIEW_HOUSEHOLD, household_id=_text(household_id, "household_id")
        ) as tx:
            tx.audit.read(household_id, _HEALTH)
            return tx.uow.households.get(household_id)

    def list_households(self, actor: Actor) -> list[Household]:
        """Every household the actor may see: all for commune roles, its own for a family."""
        with self._ctx.use_case(actor, Action.VIEW_HOUSEHOLD, read_only=True) as tx:
            if actor.is_family:
                found = [tx.uow.households.find(h) for h in sorted(actor.household_ids)]
                result = [h for h in found if h is not None]
                tx.authorize_many(h.id for h in result)
                tx.filtered()
                return result
            # Listings (tools, counts) are not logged as health reads: opening one household
            # (get, dashboard) is.
            return list(tx.uow.households.all())

    def of_guardian(self, actor: Actor, guardian_id: str) -> list[Household]:
        """The households a guardian belongs to (separated parents may have several)."""
        guardian_id = _text(guardian_id, "guardian_id")
        with self._ctx.use_case(actor, Action.VIEW_HOUSEHOLD, read_only=True) as tx:
            found = tx.uow.households.of_guardian(guardian_id)
            if actor.is_family:
                found = [h for h in found if h.id in actor.household_ids]
            tx.authorize_many(h.id for h in found)
            tx.filtered()
            return found

    def dashboard(self, actor: Actor, household_id: str) -> HouseholdDashboard:
        """The household with payer, co-representative, children and their enrollments."""
        household_id = _text(household_id, "household_id")
        with self._viewing(actor, Action.VIEW_HOUSEHOLD, household_id) as tx:
            household = tx.uow.households.get(household_id)
            tx.audit.read(household_id, _HEALTH)
            enrollments = tuple(
                self._ctx.intern(e) for e in tx.uow.enrollments.list(household_id=household_id)
            )
        return HouseholdDashboard(household=household, enrollments=enrollments)


def _record(tx: Transaction, before: Household, after: Household | None, summary: str) -> None:
    """The audit trail's before/after of a household's fields."""
    tx.audit.changes_of(f"household:{before.id}", before, after, _AUDITED, household_id=before.id)
    tx.audit.describe(summary)


def _contact(guardian: Guardian, email: str | None, civility: str | None) -> Guardian:
    if email is None and civility is None:
        raise InvalidInputError(
            "indiquez l'adresse électronique ou la civilité à changer", path="email"
        )
    if email is not None and any(c.isspace() or not c.isprintable() for c in email):
        # A space or a line break would end up in the e-mails' To: header.
        raise InvalidInputError(
            f"adresse électronique invalide « {' '.join(email.split())[:80]} » : "
            "écrivez-la sans espace, comme prenom.nom@exemple.fr",
            path="email",
        )
    return attrs.evolve(
        guardian,
        email=guardian.email if email is None else email,
        civility=guardian.civility if civility is None else civility,
    )


def _refuse_repricing(tx: Transaction, before: Household, after: Household) -> None:
    """:class:`~canteen_core.services.billing.BilledQuotientChangeError` when ``after``'s
    quotients would price a day already invoiced for the household with another quotient.
    One household's invoices and credit notes: a short read, inside the write so that
    nothing invoiced since a first look slips through."""
    billed = quotient_repricing(tx.uow, before, after)
    if billed is not None:
        raise BilledQuotientChangeError(billed.refusal_fr())
