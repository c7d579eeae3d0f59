"""The seed's world for the service tests: actors, the Ronde school restaurant, households."""

from __future__ import annotations

from datetime import date, time

import attrs

from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.enrollments import Enrollment, LateChangeMode
from canteen_core.domain.families import Child, Diet, Guardian, Household
from canteen_core.services import Canteen

# -- the seed's world -----------------------------------------------------------------------------

ADMIN = Actor.staff("admin", Role.ADMIN)
STAFF = Actor.staff("agent", Role.STAFF)
FINANCE = Actor.staff("regisseur", Role.FINANCE)
SYSTEM = Actor.system()
PAYER = Actor.guardian("maman", "concerto")
CO_REP = Actor(user_id="papa", roles={Role.CO_REPRESENTATIVE}, household_ids={"concerto"})
OTHER = Actor.guardian("voisin", "voisins")

SERVICE = Service(id="rs", name="Restauration scolaire", open_weekdays="mon,tue,thu,fri")
SITE = Site(id="ronde", name="École élémentaire Ronde", zone="C", department="75")
#: "Thursday 10:00 of the previous week".
WEEKLY = WeeklyDeadline(weekday=3, at=time(10, 0))


def concerto() -> Household:
    """The seed's household: payer, co-representative, two children (one PAI)."""
    return Household(
        id="concerto",
        payer=Guardian(
            id="maman",
            first_name="Maman",
            last_name="Concerto",
            email="maman@concerto.fr",
            civility="Madame",
        ),
        co_representative=Guardian(
            id="papa", first_name="Papa", last_name="Concerto", email="papa@concerto.fr"
        ),
        children=(
            Child(
                id="alban",
                first_name="Alban",
                last_name="Concerto",
                birth_date=date(2015, 3, 2),
                diet=Diet.NO_PORK,
            ),
            Child(
                id="zoe",
                first_name="Zoé",
                last_name="Concerto",
                birth_date=date(2017, 6, 9),
                pai=True,
            ),
        ),
    )


def voisins() -> Household:
    """Another household (a guardian of it must never see the CONCERTO data)."""
    return Household(
        id="voisins",
        payer=Guardian(id="voisin", first_name="Jean", last_name="Voisin", email="jean@voisin.fr"),
        children=(
            Child(
                id="lea",
                first_name="Léa",
                last_name="Voisin",
                birth_date=date(2016, 1, 20),
                diet=Diet.VEGETARIAN,
            ),
        ),
    )


@attrs.frozen
class World:
    """The canteen with two households enrolled for 2023-2024."""

    canteen: Canteen
    alban: Enrollment
    zoe: Enrollment
    lea: Enrollment


def build_world(canteen: Canteen, *, late_change: LateChangeMode = LateChangeMode.PENDING) -> World:
    """Create the households and enroll the three children (admin)."""
    canteen.families.create_household(ADMIN, concerto())
    canteen.families.create_household(ADMIN, voisins())
    enrolled = {}
    for household_id, child_id in (("concerto", "alban"), ("concerto", "zoe"), ("voisins", "lea")):
        enrolled[child_id] = canteen.enrollments.enroll(
            ADMIN,
            household_id,
            child_id,
            service=SERVICE,
            site=SITE,
            booking_policy=WEEKLY,
            late_change=late_change,
            school_year=2023,
            enrollment_id=f"e-{child_id}",
        )
    return World(canteen=canteen, **enrolled)
