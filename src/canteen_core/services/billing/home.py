"""The family's home page in one read: ``canteen.billing.household_home``.

The portal's dashboard shows the household (payer, co-representative, children), the
children's enrollments, "Vous avez N facture(s) non réglée(s)", the latest late-change
requests and the enrollment requests. Read through the four use cases that show each
(``families.dashboard``, ``billing.invoices_page``, ``reservations.requests``,
``enrollment_requests.of_household``) it costs four transactions, four account checks and
three reads of the household; :meth:`HouseholdHomes.household_home` reads it all in one, with
the same permissions (each use case's action is checked for the household).
"""

from __future__ import annotations

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import ChangeRequest
from canteen_core.domain.clock import paris_date
from canteen_core.domain.enrollment_requests import EnrollmentApplication
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.families import Household
from canteen_core.domain.policy import Action
from canteen_core.services.billing._base import _household_id
from canteen_core.services.billing.statements import InvoicesPage, Statements, household_account

__all__ = ["HouseholdHome", "HouseholdHomes"]

#: What staff reading a household's home page read (logged, as ``families.dashboard``).
_HEALTH = "données de santé (PAI, régimes)"


@attrs.frozen(kw_only=True)
class HouseholdHome:
    """Everything the family's home page shows, read at one instant.

    ``enrollments`` as ``families.dashboard`` gives them; ``invoices`` as
    ``billing.invoices_page``; ``requests`` the late-change requests oldest first (as
    ``reservations.requests``); ``enrollment_requests`` newest first (as
    ``enrollment_requests.of_household``).
    """

    household: Household
    enrollments: tuple[Enrollment, ...]
    invoices: InvoicesPage
    requests: tuple[ChangeRequest, ...]
    enrollment_requests: tuple[EnrollmentApplication, ...]


class HouseholdHomes(Statements):
    """The home page's one read (a mixin of ``canteen.billing``)."""

    def household_home(self, actor: Actor, household_id: str) -> HouseholdHome:
        """The household's home page (see the module docstring): ``view_household``,
        ``view_invoices`` and ``view_change_requests`` for the household (a family: its
        own); ``NotFoundError`` for an unknown household."""
        household_id = _household_id(household_id)
        with self._ctx.use_case(
            actor, Action.VIEW_HOUSEHOLD, household_id=household_id, read_only=True
        ) as tx:
            tx.authorize(household_id, action=Action.VIEW_INVOICES)
            tx.authorize(household_id, action=Action.VIEW_CHANGE_REQUESTS)
            household = tx.uow.households.get(household_id)
            tx.audit.read(household_id, _HEALTH)
            enrollments = tuple(
                self._ctx.intern(e) for e in tx.uow.enrollments.list(household_id=household_id)
            )
            account = household_account(tx.uow, household_id)
            requests = list(tx.uow.change_requests.list(household_id=household_id))
            applications = list(tx.uow.enrollment_requests.list(household_id=household_id))
            today = paris_date(tx.now)
        return HouseholdHome(
            household=household,
            enrollments=enrollments,
            invoices=self._page(account, today),
            requests=tuple(sorted(requests, key=lambda r: (r.requested_at, r.day, r.id))),
            enrollment_requests=tuple(
                sorted(applications, key=lambda r: (r.requested_at, r.id), reverse=True)
            ),
        )
