"""iCalendar (.ics) export of a child's reservations, for the family's phone calendar.

:func:`reservations_ics` turns a child's reservation books (one per enrollment) into an
RFC 5545 calendar with **one all-day event per booked day**: ``Repas – Restauration scolaire``
at the site, with the meal time in the description. Choices worth knowing:

- **All-day events** (``DTSTART;VALUE=DATE``, ``DTEND`` the next day) are floating dates: a
  booked Tuesday stays on Tuesday whatever the phone's time zone, which is what a school day is.
  ``DTSTAMP`` is in UTC as the RFC requires; ``X-WR-TIMEZONE`` says ``Europe/Paris`` for
  clients that show it. Events are ``TRANSPARENT``: they do not mark the parent busy.
- **Stable UIDs**: ``{enrollment id}-{YYYYMMDD}@{uid_domain}``. Importing or subscribing again
  updates events instead of duplicating them, and a cancelled day simply disappears from the
  next export. Pass the portal's host name as ``uid_domain`` so two communes never collide.
- Days booked but **closed since** (a strike, works: the enrollment's calendar says so) are left
  out: no meal will be served.

The function returns bytes (CRLF line endings, UTF-8); serving or saving them is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Child
from canteen_core.domain.reservations import ReservationBook

__all__ = ["DEFAULT_SUMMARY", "PRODUCT_ID", "reservations_ics"]

#: The ``PRODID`` of exported calendars.
PRODUCT_ID = "-//canteen//Réservations de restauration scolaire//FR"
#: How often subscribed clients should fetch the calendar again.
REFRESH = timedelta(hours=12)
#: Default event title; ``{service}`` is the service name, ``{child}`` the child's first name.
DEFAULT_SUMMARY = "Repas – {service}"


def _check_pair(index: int, item: object, child: Child) -> tuple[Enrollment, ReservationBook]:
    path = f"bookings[{index}]"
    if not (isinstance(item, tuple) and len(item) == 2):
        raise InvalidInputError("expected an (Enrollment, ReservationBook) pair", path=path)
    enrollment, book = item
    if not isinstance(enrollment, Enrollment):
        raise InvalidInputError(
            f"expected an Enrollment, got {type(enrollment).__name__}", path=f"{path}[0]"
        )
    if not isinstance(book, ReservationBook):
        raise InvalidInputError(
            f"expected a ReservationBook, got {type(book).__name__}", path=f"{path}[1]"
        )
    if enrollment.child_id != child.id:
        raise InvalidInputError(
            f"enrollment {enrollment.id!r} is that of child {enrollment.child_id!r}, "
            f"not {child.id!r}",
            path=f"{path}[0]",
        )
    if book.enrollment_id != enrollment.id:
        raise InvalidInputError(
            f"the reservation book of enrollment {book.enrollment_id!r} "
            f"was given with enrollment {enrollment.id!r}",
            path=f"{path}[1]",
        )
    return enrollment, book


def _check_day(value: object, path: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInputError(f"expected a date, got {value!r}", path=path)
    return value


def _summary(template: str, enrollment: Enrollment, child: Child) -> str:
    try:
        return template.format(service=enrollment.service.name, child=child.first_name)
    except (KeyError, IndexError, ValueError) as error:
        raise InvalidInputError(
            f"bad summary template {template!r} ({error}); use {{service}} and {{child}}",
            path="summary",
        ) from None


def reservations_ics(
    child: Child,
    bookings: Iterable[tuple[Enrollment, ReservationBook]],
    *,
    start: date | None = None,
    end: date | None = None,
    generated_at: datetime | None = None,
    calendar_name: str | None = None,
    summary: str = DEFAULT_SUMMARY,
    uid_domain: str = "canteen",
) -> bytes:
    """The booked days of ``child`` as an iCalendar file (bytes).

    ``bookings`` pairs each of the child's enrollments with its
    :class:`~canteen_core.domain.reservations.ReservationBook`. ``start`` and ``end`` (inclusive)
    limit
    the export (default: everything booked). ``generated_at`` (timezone-aware; default: now) is
    the events' ``DTSTAMP``. ``calendar_name`` is the ``X-WR-CALNAME`` shown by calendar apps
    (default ``"Réservations – Alban CONCERTO"``). ``summary`` is the event title template.

    Raises :class:`~canteen_core.domain.errors.InvalidInputError` for an enrollment of another
    child, a
    book given with the wrong enrollment, the same enrollment twice, ``end`` before ``start``, a
    naive ``generated_at`` or a bad template. A child with nothing booked gets a valid calendar
    without events.
    """
    if not isinstance(child, Child):
        raise InvalidInputError(f"expected a Child, got {type(child).__name__}", path="child")
    if isinstance(bookings, tuple) and len(bookings) == 2 and isinstance(bookings[0], Enrollment):
        raise InvalidInputError(
            "bookings is a list of (Enrollment, ReservationBook) pairs; wrap a single pair in a "
            "list",
            path="bookings",
        )
    pairs = [_check_pair(index, item, child) for index, item in enumerate(bookings)]
    seen: set[str] = set()
    for index, (enrollment, _) in enumerate(pairs):
        if enrollment.id in seen:
            raise InvalidInputError(
                f"enrollment {enrollment.id!r} is given twice", path=f"bookings[{index}]"
            )
        seen.add(enrollment.id)
    first, last = _check_day(start, "start"), _check_day(end, "end")
    if first is not None and last is not None and last < first:
        raise InvalidInputError("the export ends before it starts", path="end")
    if generated_at is None:
        generated_at = datetime.now(UTC)
    elif not isinstance(generated_at, datetime) or generated_at.utcoffset() is None:
        raise InvalidInputError(
            "generated_at must be a timezone-aware datetime", path="generated_at"
        )
    if (
        not isinstance(uid_domain, str)
        or not uid_domain.strip()
        or any(c.isspace() for c in uid_domain)
    ):
        raise InvalidInputError("uid_domain must be a host name", path="uid_domain")
    stamp = generated_at.astimezone(UTC).replace(microsecond=0)
    titles = {enrollment.id: _summary(summary, enrollment, child) for enrollment, _ in pairs}

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name or f"Réservations – {child.display_name}")
    calendar.add("x-wr-timezone", "Europe/Paris")
    # Subscribed calendars (a portal URL) are refreshed twice a day (RFC 7986, and Apple's name).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT12H")

    events: list[tuple[date, str, Event]] = []
    for enrollment, book in pairs:
        service, site = enrollment.service, enrollment.site
        meal_time = f"{service.starts_at.hour} h {service.starts_at.minute:02d}"
        description = (
            f"{child.display_name} – {service.name} – {site.name}\n"
            f"Service à partir de {meal_time}.\n"
            "Pour annuler ce repas, passez par votre espace famille avant la date limite."
        )
        for day in book.booked_days(first, last):
            if not enrollment.is_bookable(day):
                continue  # closed since it was booked (strike, works): no meal that day
            event = Event()
            uid = f"{enrollment.id}-{day:%Y%m%d}@{uid_domain}"
            event.add("uid", uid)
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", titles[enrollment.id])
            event.add("location", site.name)
            event.add("description", description)
            event.add("transp", "TRANSPARENT")
            event.add("categories", [service.name])
            events.append((day, uid, event))
    for _, _, event in sorted(events, key=lambda item: (item[0], item[1])):
        calendar.add_component(event)
    result: bytes = calendar.to_ical()
    return result
