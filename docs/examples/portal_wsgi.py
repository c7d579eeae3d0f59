"""A family portal's web handler on top of the ``Canteen`` facade: plain WSGI, no framework.

Four routes, JSON in and out, French messages for families:

* ``POST /connexion`` ``{"identifiant": ..., "mot_de_passe": ...}``: log in, get a session token;
* ``GET /foyers/<household>/factures``: the "MES FACTURES" page;
* ``GET /inscriptions/<enrollment>/semaines/<YYYY-MM-DD>``: the week's reservation grid;
* ``POST /inscriptions/<enrollment>/reservations`` ``{"jour": "2023-09-11", "reserve": true}``:
  book or cancel one day.

The portal keeps its own sessions (here a dict from token to the ``Actor`` the login returned)
and passes that actor to every call: the facade checks it against the authorization matrix,
runs one transaction and publishes events after commit. canteen's errors map to HTTP statuses;
their messages are already in French. Serve it with any WSGI server, for instance::

    from wsgiref.simple_server import make_server
    from canteen_core.services import Canteen

    with Canteen.open("canteen.toml") as canteen:
        make_server("127.0.0.1", 8000, PortalApp(canteen)).serve_forever()
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import (
    CanteenError,
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.services import Canteen

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

#: canteen's errors as HTTP statuses, most specific first.
STATUSES: tuple[tuple[type[CanteenError], str], ...] = (
    (NotAuthorizedError, "403 Forbidden"),
    (NotFoundError, "404 Not Found"),
    (ConflictError, "409 Conflict"),
    (RuleViolationError, "422 Unprocessable Content"),
    (InvalidInputError, "400 Bad Request"),
)


class HttpError(Exception):
    """An error of the web layer itself (no session, unknown route)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class PortalApp:
    """The WSGI application: ``PortalApp(canteen)`` is callable by any WSGI server."""

    def __init__(self, canteen: Canteen) -> None:
        self.canteen = canteen
        self.sessions: dict[str, Actor] = {}
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = [
            ("POST", re.compile(r"/connexion"), self.login),
            ("GET", re.compile(r"/foyers/([\w-]+)/factures"), self.invoices),
            ("GET", re.compile(r"/inscriptions/([\w-]+)/semaines/([\d-]+)"), self.week),
            ("POST", re.compile(r"/inscriptions/([\w-]+)/reservations"), self.reserve),
        ]

    # -- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, body = "200 OK", self.dispatch(environ)
        except HttpError as error:
            status, body = error.status, {"erreur": str(error)}
        except CanteenError as error:
            status = next(code for kind, code in STATUSES if isinstance(error, kind))
            body = {"erreur": str(error)}
        # Anything else is a bug or an outage (StorageError...): the server logs it as a 500.
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = [("Content-Type", "application/json; charset=utf-8")]
        start_response(status, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def dispatch(self, environ: dict[str, Any]) -> Any:
        """Find the route of the request and call it."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return handler(environ, *match.groups())
        raise HttpError("404 Not Found", "Page introuvable.")

    # -- helpers ---------------------------------------------------------------------------------

    def actor(self, environ: dict[str, Any]) -> Actor:
        """The logged-in user of the request (``Authorization: Bearer <token>``)."""
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        actor = self.sessions.get(token)
        if actor is None:
            raise HttpError("401 Unauthorized", "Veuillez vous connecter.")
        return actor

    @staticmethod
    def body(environ: dict[str, Any]) -> dict[str, Any]:
        """The JSON object the request carries."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            data = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except ValueError:
            raise InvalidInputError("le corps de la requête n'est pas du JSON") from None
        if not isinstance(data, dict):
            raise InvalidInputError("le corps de la requête doit être un objet JSON")
        return data

    @staticmethod
    def day(text: object, path: str) -> date:
        """A date from ``YYYY-MM-DD``."""
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            raise InvalidInputError(f"date invalide : {text!r}", path=path) from None

    # -- routes ----------------------------------------------------------------------------------

    def login(self, environ: dict[str, Any]) -> dict[str, Any]:
        """Check the credentials; the portal keeps the returned actor in its session."""
        data = self.body(environ)
        login = self.canteen.accounts.login(
            str(data.get("identifiant", "")),
            str(data.get("mot_de_passe", "")),
            source=environ.get("REMOTE_ADDR"),
        )
        token = secrets.token_urlsafe(32)
        self.sessions[token] = login.actor
        return {"jeton": token, "changer_mot_de_passe": login.must_change_password}

    def invoices(self, environ: dict[str, Any], household_id: str) -> dict[str, Any]:
        """The "MES FACTURES" table: date, due date, remaining to pay, total."""
        page = self.canteen.billing.invoices_page(self.actor(environ), household_id)
        return {
            "resume": page.summary_fr,
            "factures": [
                {
                    "numero": row.number,
                    "libelle": row.label,
                    "date": f"{row.issue_date:%d/%m/%Y}",
                    "echeance": f"{row.due_date:%d/%m/%Y}",
                    "reste_a_payer": row.balance_due.format_fr(),
                    "total": row.total.format_fr(),
                    "statut": row.status_label,
                    "payable_en_ligne": row.can_pay_online,
                }
                for row in page.rows
            ],
        }

    def week(self, environ: dict[str, Any], enrollment_id: str, day: str) -> dict[str, Any]:
        """The week's grid: one cell per open weekday, with what a click would do."""
        grid = self.canteen.reservations.week_grid(
            self.actor(environ), enrollment_id, self.day(day, "semaine")
        )
        return {
            "titre": grid.title,
            "colonnes": list(grid.columns),
            "jours": [
                {
                    "jour": cell.day.isoformat(),
                    "reserve": cell.booked,
                    "modifiable": cell.editable,
                    "motif": cell.reason,
                }
                for cell in grid.cells()
            ],
        }

    def reserve(self, environ: dict[str, Any], enrollment_id: str) -> dict[str, Any]:
        """Book (``"reserve": true``) or cancel one day."""
        data = self.body(environ)
        actor, day = self.actor(environ), self.day(data.get("jour"), "jour")
        wanted = data.get("reserve")
        if not isinstance(wanted, bool):
            raise InvalidInputError("« reserve » vaut true ou false", path="reserve")
        reservations = self.canteen.reservations
        result = (reservations.book if wanted else reservations.cancel)(actor, enrollment_id, day)
        return {
            "reserves": [d.isoformat() for d in result.booked],
            "annules": [d.isoformat() for d in result.cancelled],
            "en_attente": [request.day.isoformat() for request in result.pending],
        }
