"""The web handler of docs/embedding.md (docs/examples/portal_wsgi.py) really works.

The example is imported from its file and driven through WSGI calls against a canteen in
memory: a family logs in with the credentials of its welcome email, reads its week grid, books
a day, reads "MES FACTURES" after September's billing; wrong input, another family's data and
late changes get the documented statuses and change nothing.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import argon2
import pytest

from canteen_core.domain.accounts import AccountSettings
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.tariffs import BracketPricing, TariffGrid
from canteen_core.services import Canteen

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "portal_wsgi.py"
ADMIN = Actor.staff("admin", Role.ADMIN)
FINANCE = Actor.staff("regisseur", Role.FINANCE)
PASSWORD = "Cantine-Ronde-2023!"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("portal_wsgi", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Client:
    """Calls a WSGI application as a server would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.token = ""

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        raw = b"" if body is None else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
            "REMOTE_ADDR": "192.0.2.10",
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
        }
        captured: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            captured.append(status)
            assert ("Content-Type", "application/json; charset=utf-8") in headers

        payload = b"".join(self.app(environ, start_response))
        return int(captured[0].split()[0]), json.loads(payload)


def _household(household_id: str, payer: str, email: str) -> Household:
    return Household(
        id=household_id,
        payer=Guardian(id=payer, first_name="Maman", last_name="Concerto", email=email),
        children=(
            Child(
                id=f"{household_id}-c1",
                first_name="Alban",
                last_name="Concerto",
                birth_date=date(2015, 3, 2),
            ),
        ),
    )


@pytest.fixture
def clock() -> FixedClock:
    """Friday 1 September 2023, 10:00 in Paris (before the rentrée)."""
    return FixedClock(datetime(2023, 9, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def canteen(clock: FixedClock) -> Any:
    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with Canteen.in_memory(
        zone="C", clock=clock, account_settings=AccountSettings(hasher=hasher)
    ) as canteen:
        service = Service(id="rs", name="Restauration scolaire")
        site = Site(id="ronde", name="École élémentaire Ronde", zone="C", department="77")
        for household_id, payer in (("concerto", "maman"), ("voisins", "voisin")):
            canteen.families.create_household(
                ADMIN, _household(household_id, payer, f"{payer}@example.fr")
            )
            canteen.enrollments.enroll(
                ADMIN,
                household_id,
                f"{household_id}-c1",
                service=service,
                site=site,
                booking_policy=WeeklyDeadline(weekday=3, at=time(10, 0)),
                late_change="pending",
                school_year=2023,
                enrollment_id=f"e-{household_id}",
            )
        canteen.families.set_family_quotient(
            FINANCE, "concerto", FamilyQuotient(value=Decimal(650), valid_from=date(2023, 1, 1))
        )
        canteen.billing.save_tariff_grid(
            ADMIN,
            TariffGrid(
                id="rs-2023",
                service_id="rs",
                valid_from=date(2023, 8, 1),
                prices={
                    "resident_child": BracketPricing.from_thresholds(
                        ["1.00", "3.05", "3.10", "3.15"], [500, 800, 1200]
                    )
                },
            ),
        )
        yield canteen


def _logged_in(canteen: Canteen, client: Client) -> None:
    """Invite the CONCERTO payer, activate, log in through the app, change the password."""
    canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
    (record,) = [r for r in canteen.accounts.outbox(ADMIN) if r.message.kind == "invitation"]
    text = record.message.text_body
    username = re.search(r"Nom d'utilisateur : (\S+)", text)
    temporary = re.search(r"Mot de passe provisoire : (\S+)", text)
    token = re.search(r"token=(\S+)", text)
    assert username
    assert temporary
    assert token
    canteen.accounts.activate(token.group(1))
    status, body = client.request(
        "POST", "/connexion", {"identifiant": username.group(1), "mot_de_passe": "faux"}
    )
    assert status == 403
    assert body["erreur"] == "Identifiant ou mot de passe incorrect."
    status, body = client.request(
        "POST",
        "/connexion",
        {"identifiant": username.group(1), "mot_de_passe": temporary.group(1)},
    )
    assert status == 200
    assert body["changer_mot_de_passe"] is True
    client.token = body["jeton"]
    status, body = client.request("GET", "/inscriptions/e-concerto/semaines/2023-09-11")
    assert status == 403  # nothing but the password change until it is done
    canteen.accounts.change_password(
        client.app.sessions[client.token], temporary.group(1), PASSWORD
    )


def test_a_family_books_and_reads_its_invoices(canteen: Canteen, clock: FixedClock) -> None:
    client = Client(_example().PortalApp(canteen))
    assert client.request("GET", "/foyers/concerto/factures")[0] == 401
    _logged_in(canteen, client)

    status, grid = client.request("GET", "/inscriptions/e-concerto/semaines/2023-09-11")
    assert status == 200
    assert grid["colonnes"] == ["LUNDI", "MARDI", "JEUDI", "VENDREDI"]
    assert [cell["jour"] for cell in grid["jours"]] == [
        "2023-09-11",
        "2023-09-12",
        "2023-09-14",
        "2023-09-15",
    ]
    assert all(cell["modifiable"] and not cell["reserve"] for cell in grid["jours"])

    for day in ("2023-09-11", "2023-09-12", "2023-09-14"):
        status, result = client.request(
            "POST", "/inscriptions/e-concerto/reservations", {"jour": day, "reserve": True}
        )
        assert status == 200
        assert result == {"reserves": [day], "annules": [], "en_attente": []}

    # A Wednesday is closed: 422 with the calendar's reason, nothing booked.
    status, body = client.request(
        "POST", "/inscriptions/e-concerto/reservations", {"jour": "2023-09-13", "reserve": True}
    )
    assert status == 422
    assert "Mercredi" in body["erreur"]
    # Another family's enrollment: 403, whatever the day.
    status, body = client.request(
        "POST", "/inscriptions/e-voisins/reservations", {"jour": "2023-09-11", "reserve": True}
    )
    assert status == 403
    # Malformed input: 400, nothing changed.
    for bad in ({"jour": "11/09/2023", "reserve": True}, {"jour": "2023-09-15", "reserve": "oui"}):
        assert client.request("POST", "/inscriptions/e-concerto/reservations", bad)[0] == 400
    assert client.request("GET", "/nulle-part")[0] == 404
    booked = canteen.reservations.booked_days(ADMIN, "e-concerto")
    assert [day.isoformat() for day in booked] == ["2023-09-11", "2023-09-12", "2023-09-14"]

    # After the deadline (Thursday 7 September 10:00 for the week of the 11th) a cancellation
    # becomes a request for the staff to decide: the day stays booked.
    clock.set(datetime(2023, 9, 8, 8, 0, tzinfo=UTC))
    status, result = client.request(
        "POST", "/inscriptions/e-concerto/reservations", {"jour": "2023-09-12", "reserve": False}
    )
    assert status == 200
    assert result == {"reserves": [], "annules": [], "en_attente": ["2023-09-12"]}

    clock.set(datetime(2023, 10, 2, 7, 0, tzinfo=UTC))
    canteen.billing.run_postpaid(FINANCE, "2023-09")
    status, page = client.request("GET", "/foyers/concerto/factures")
    assert status == 200
    assert page["resume"] == "Vous avez 1 facture non réglée"
    (invoice,) = page["factures"]
    assert invoice["libelle"] == "SEPTEMBRE 2023"
    assert invoice["total"] == invoice["reste_a_payer"] == "9,15 €"  # 3 meals at 3,05 €
    assert invoice["date"] == "02/10/2023"
    assert client.request("GET", "/foyers/voisins/factures")[0] == 403
