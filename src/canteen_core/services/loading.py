"""Loading what a use case needs in few queries: enrollments (sharing the context's
calendars), households or only their child ids, and the open change requests per enrollment.
An unknown id is a :class:`~canteen_core.domain.errors.NotFoundError`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from canteen_core.domain.change_requests import ChangeRequest, RequestStatus
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import NotFoundError
from canteen_core.domain.families import Household
from canteen_core.services.runner import Transaction

__all__ = ["load_child_ids", "load_enrollments", "load_households", "pending_by_enrollment"]

#: Above this many ids, a bulk use case reads whole tables in one stream instead of one
#: query per id (when the ids are a good share of the table).
_SCAN_THRESHOLD = 200
#: Up to this many households, pending requests are read per household.
_PENDING_PER_HOUSEHOLD = 20


def _check_found(found: Collection[str], wanted: Iterable[str], what: str) -> None:
    for item_id in wanted:
        if item_id not in found:
            raise NotFoundError(f"no {what} {item_id!r}")


def load_enrollments(tx: Transaction, ids: list[str]) -> dict[str, Enrollment]:
    """The enrollments ``ids`` in few queries (``NotFoundError`` for an unknown one),
    sharing the context's calendar instances."""
    found = tx.uow.enrollments.find_many(ids)  # one IN query per few hundred ids
    _check_found(found, ids, "enrollment")
    intern = tx.context.intern
    return {enrollment_id: intern(found[enrollment_id]) for enrollment_id in ids}


def load_households(tx: Transaction, ids: Iterable[str]) -> dict[str, Household]:
    """The households ``ids`` in few queries (``NotFoundError`` for an unknown one)."""
    wanted = list(dict.fromkeys(ids))
    repo = tx.uow.households
    if len(wanted) > _SCAN_THRESHOLD and len(wanted) * 4 >= repo.count():
        keep = set(wanted)
        found = {h.id: h for h in repo.all() if h.id in keep}
        _check_found(found, wanted, "household")
        return found
    found = repo.find_many(wanted)  # one IN query per few hundred ids
    _check_found(found, wanted, "household")
    return found


def load_child_ids(tx: Transaction, ids: Iterable[str]) -> dict[str, frozenset[str]]:
    """The child ids of the households ``ids`` (``NotFoundError`` for an unknown one): what
    an operation that does not read the household needs to check an enrollment's child.
    """
    wanted = list(dict.fromkeys(ids))
    found = tx.uow.households.child_ids(wanted)
    _check_found(found, wanted, "household")
    return found


def pending_by_enrollment(
    tx: Transaction, enrollments: Mapping[str, Enrollment]
) -> dict[str, list[ChangeRequest]]:
    """Open change requests per enrollment: one IN query over a few households (a family's
    call), one scan of the pending ones for a bulk call."""
    result: dict[str, list[ChangeRequest]] = {enrollment_id: [] for enrollment_id in enrollments}
    repo = tx.uow.change_requests
    pending = RequestStatus.PENDING.value
    households = {e.household_id for e in enrollments.values()}
    found: Iterable[ChangeRequest]
    if len(households) <= _PENDING_PER_HOUSEHOLD:
        found = repo.list(household_id=tuple(sorted(households)), status=pending)
    else:
        found = repo.list(status=pending)
    for request in found:
        if request.enrollment_id in result:
            result[request.enrollment_id].append(request)
    return result
