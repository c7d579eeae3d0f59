"""Enrollment requests ("Inscription à la restauration scolaire"): a family asks, staff decide.

A family asks for one of its children to be enrolled in a service at a site for a school year
(optionally in a tariff category such as ``"pai"``, with a note, and with the weekdays the
child eats, booked every week once the request is accepted). The request waits for staff,
who :func:`accept` it (the enrollment is then made by the enrollment use case, with all its
checks, and its id recorded here) or :func:`refuse` it with a reason the family reads; the
family may :func:`withdraw` it while it is pending. Statuses are those of late-change requests
(:class:`~canteen_core.domain.change_requests.RequestStatus`): pending, approved, rejected,
withdrawn.

Records are plain values with string ids (easy to store); every transition returns a new
record and checks that the request is still pending.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from canteen_core.domain._validators import (
    aware_datetime,
    check_year,
    non_empty_str,
    optional_aware_datetime,
    parse_enum,
)
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import parse_weekdays, weekdays_fr
from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.change_requests import RequestStatus
from canteen_core.domain.errors import ConflictError, InvalidInputError

__all__ = ["STATUS_FR", "EnrollmentApplication", "accept", "refuse", "withdraw"]

#: What the family reads for each status.
STATUS_FR = {
    RequestStatus.PENDING: "En attente d'instruction",
    RequestStatus.APPROVED: "Acceptée",
    RequestStatus.REJECTED: "Refusée",
    RequestStatus.WITHDRAWN: "Retirée",
}

#: The longest note or reason kept (one paragraph).
MAX_TEXT = 500


def _status(value: RequestStatus | str) -> RequestStatus:
    return parse_enum(
        RequestStatus, value, path="status", message="statut de demande inconnu « {value} »"
    )


def _year(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    check_year(value, attribute.name)


def _optional_text(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("le texte ne peut pas être vide", path=attribute.name)
    if len(value) > MAX_TEXT:
        raise InvalidInputError(f"le texte dépasse {MAX_TEXT} caractères", path=attribute.name)


def _weekdays(value: object) -> frozenset[int] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)) and not value:
        raise InvalidInputError("choisissez au moins un jour de repas", path="weekdays")
    try:
        return parse_weekdays(value)  # type: ignore[arg-type]
    except (InvalidInputError, TypeError):
        raise InvalidInputError(
            "jours de repas invalides : donnez des jours de la semaine (lundi, mardi...)",
            path="weekdays",
        ) from None


@attrs.frozen(kw_only=True)
class EnrollmentApplication:
    """A family's request to enroll ``child_id`` in a service at a site for a school year.

    ``school_year`` is the start year (2023 for 2023-2024). ``tariff_category`` is the
    category asked for (``None``: the commune's default, resident). ``service_name`` and
    ``site_name`` are kept so the request reads the same after the catalog changes.
    ``enrollment_id`` names the enrollment made when staff accepted it; ``reason`` is the
    refusal's reason (or an optional note on acceptance). ``weekdays`` (Monday = 0) are the
    days the child eats, booked every week of the enrollment once accepted (``None``: the
    family books itself).
    """

    id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    child_id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    service_name: str = attrs.field(validator=non_empty_str)
    site_id: str = attrs.field(validator=non_empty_str)
    site_name: str = attrs.field(validator=non_empty_str)
    school_year: int = attrs.field(validator=_year)
    tariff_category: str | None = None
    note: str | None = attrs.field(default=None, validator=_optional_text)
    requested_by: str = attrs.field(validator=non_empty_str)
    requested_at: datetime = attrs.field(validator=aware_datetime)
    status: RequestStatus = attrs.field(default=RequestStatus.PENDING, converter=_status)
    decided_by: str | None = None
    decided_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    reason: str | None = attrs.field(default=None, validator=_optional_text)
    enrollment_id: str | None = None
    weekdays: frozenset[int] | None = attrs.field(default=None, converter=_weekdays)

    @staticmethod
    def weekdays_of(value: object) -> frozenset[int]:
        """``value`` (``"lun,jeu"``, ``["mon", "thu"]``, numbers with Monday = 0) as weekday
        numbers; :class:`InvalidInputError` in French for anything else."""
        days = _weekdays(value)
        if days is None:
            raise InvalidInputError("choisissez au moins un jour de repas", path="weekdays")
        return days

    @property
    def weekdays_fr(self) -> str | None:
        """``"lundi, mardi et jeudi"`` (``None`` without weekdays)."""
        return weekdays_fr(self.weekdays) if self.weekdays else None

    @property
    def is_pending(self) -> bool:
        """Still awaiting a decision."""
        return self.status is RequestStatus.PENDING

    @property
    def school_year_fr(self) -> str:
        """``"2023-2024"``."""
        return school_year_label(self.school_year)

    @property
    def label_fr(self) -> str:
        """``"Restauration scolaire à École Ronde (2023-2024)"``."""
        return f"{self.service_name} à {self.site_name} ({self.school_year_fr})"

    @property
    def status_fr(self) -> str:
        """What the family sees: ``"En attente d'instruction"``, ``"Refusée : <motif>"``..."""
        label = STATUS_FR[self.status]
        if self.status is RequestStatus.REJECTED and self.reason:
            return f"{label} : {self.reason}"
        return label


def _ensure_pending(application: EnrollmentApplication) -> None:
    if not isinstance(application, EnrollmentApplication):
        raise InvalidInputError("une demande d'inscription est attendue", path="request")
    if not application.is_pending:
        state = STATUS_FR[application.status].lower()
        raise ConflictError(f"cette demande d'inscription est déjà {state}")


def accept(
    application: EnrollmentApplication,
    *,
    enrollment_id: str,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> EnrollmentApplication:
    """The request accepted by ``actor``: ``enrollment_id`` is the enrollment just made."""
    _ensure_pending(application)
    return attrs.evolve(
        application,
        status=RequestStatus.APPROVED,
        decided_by=actor.user_id,
        decided_at=now,
        reason=note.strip() if note and note.strip() else None,
        enrollment_id=enrollment_id,
    )


def refuse(
    application: EnrollmentApplication, *, reason: str, actor: Actor, now: datetime
) -> EnrollmentApplication:
    """The request refused by ``actor`` with a ``reason`` the family will read (required)."""
    _ensure_pending(application)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("un refus doit donner un motif à la famille", path="reason")
    return attrs.evolve(
        application,
        status=RequestStatus.REJECTED,
        decided_by=actor.user_id,
        decided_at=now,
        reason=reason.strip(),
    )


def withdraw(
    application: EnrollmentApplication, *, actor: Actor, now: datetime
) -> EnrollmentApplication:
    """The family withdraws its pending request."""
    _ensure_pending(application)
    return attrs.evolve(
        application, status=RequestStatus.WITHDRAWN, decided_by=actor.user_id, decided_at=now
    )
