"""The ASGI application: :func:`create_app` over a :class:`~canteen_core.services.Canteen`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import time
from typing import Any

from litestar import Controller, Litestar, Response, get
from litestar.concurrency import sync_to_thread
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin
from litestar.openapi.spec import OpenAPIType, Schema, Server, Tag
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from canteen_adapters.web.context import AnyRequest, IdempotencyStore, WebContext
from canteen_adapters.web.examples import attach_examples, problem_components
from canteen_adapters.web.pages import pages_router, route_errors, static_router
from canteen_adapters.web.problems import MEDIA_TYPE, http_error_to_problem, problem_handlers
from canteen_adapters.web.routes import (
    auth,
    callbacks,
    campaigns,
    documents,
    enrollment_requests,
    family,
    family_papers,
    invoices,
    menus_capacity,
    paperless,
    reservations,
    sepa,
    staff,
)
from canteen_adapters.web.schemas import ProblemOut
from canteen_adapters.web.security import check_csrf, csrf_applies, security_headers
from canteen_adapters.web.sessions import SessionStore
from canteen_adapters.web.settings import WebSettings
from canteen_core.domain.clock import Clock, SystemClock
from canteen_core.services import Canteen

__all__ = ["CALLBACK_PATHS", "PROBLEM_RESPONSES", "create_app"]

#: The payment providers' callbacks: authenticated by their signature, not by a session.
CALLBACK_PATHS = frozenset(callbacks.PATHS)
#: The Redoc viewer of ``/schema`` (Redoc 2, as Litestar's plugin loads by default).
REDOC_JS = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"

_PROBLEM_STATUSES = {
    400: "Requête mal formée (champ manquant, type invalide).",
    401: "Connexion requise, identifiants incorrects, lien invalide.",
    403: "Accès refusé (autre foyer, rôle insuffisant, jeton CSRF manquant, mot de passe "
    "provisoire à changer, portail pas encore ouvert).",
    404: "Introuvable.",
    409: "Conflit avec les données actuelles : une modification passée avant (current_version "
    "donne la version actuelle) ou une donnée existante (enfant déjà inscrit).",
    410: "Lien expiré ou déjà utilisé.",
    412: "If-Match périmé (current_version donne la version actuelle).",
    415: "Demande sans session envoyée autrement qu'en JSON.",
    422: "Données invalides ou règle métier (date limite, facture non payable en ligne).",
    429: "Trop de tentatives de connexion (Retry-After).",
    500: "Erreur interne (sans détail).",
    503: "Base de données indisponible.",
}
#: The problems every route may answer, for the OpenAPI document (their examples are
#: components, see examples.py).
PROBLEM_RESPONSES = {
    status: ResponseSpec(
        data_container=ProblemOut,
        description=text,
        media_type=MEDIA_TYPE,
        generate_examples=False,
    )
    for status, text in _PROBLEM_STATUSES.items()
}


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """A time of day (an arrival, ``"16:40:00"``, Europe/Paris wall clock, no offset) in the
    OpenAPI document. Litestar (2.25) writes ``format: duration`` for :class:`datetime.time`,
    and JSON Schema's ``format: time`` requires an offset: neither matches what the API reads
    and writes, a pattern does."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        """Whether the field is a time of day."""
        return field_definition.annotation is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """A string ``HH:MM:SS`` (``HH:MM`` accepted)."""
        return Schema(
            type=OpenAPIType.STRING,
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            description="Heure (Europe/Paris), HH:MM:SS.",
        )


API_DESCRIPTION = """\
The HTTP API of canteen: the family portal's flows (account, dashboard, reservations,
invoices, online payment) and the commune's back office (requests to instruct, roll calls,
closures, headcounts, billing, reminders). Sessions are cookies; every unsafe request of a
session carries the session's `X-CSRF-Token`. Errors are RFC 9457 problem details
(`application/problem+json`) with a French `detail`. See the "HTTP API" page of the docs.
"""


def _route_handlers(
    items: Sequence[HTTPRouteHandler | type[Controller]],
) -> Iterator[HTTPRouteHandler]:
    """The route handlers of ``items``, those of controllers included."""
    for item in items:
        if isinstance(item, HTTPRouteHandler):
            yield item
        else:
            yield from (v for v in vars(item).values() if isinstance(v, HTTPRouteHandler))


def create_app(
    canteen: Canteen,
    settings: WebSettings | None = None,
    *,
    path: str | None = None,
    clock: Clock | None = None,
) -> Litestar:
    """The ASGI app serving ``canteen`` (the caller keeps it open, and closes it).

    Mount it in another ASGI app as any ASGI callable (``Mount("/cantine", app)`` in
    Starlette; Litestar's ``asgi(..., is_mount=True)``); ``path`` is where it is mounted, for
    the OpenAPI document's server URL; ``clock`` is the real time sessions and idempotency
    keys expire by (the system's by default). Error bodies never carry a stack trace: unexpected
    errors are logged (logger ``canteen.web``) and answered with a bare 500 problem.
    """
    settings = settings or WebSettings()
    # Sessions and idempotency keys expire in real time, whatever the canteen's clock says
    # (a demo served at a past date, tests moving the clock by weeks).
    real_time = clock or SystemClock()
    context = WebContext(
        canteen=canteen,
        settings=settings,
        sessions=SessionStore(
            canteen.context.storage,
            idle=settings.session_idle,
            maximum=settings.session_max,
            now=real_time.now,
            cache_for=settings.session_cache.total_seconds(),
        ),
        idempotency=IdempotencyStore(
            canteen.context.storage, settings.idempotency_ttl, real_time.now
        ),
    )

    def provide_web() -> WebContext:
        return context

    # A coroutine: Litestar runs a sync before_request hook in a worker thread, for every
    # request. Only an unsafe request whose session is not cached reads the storage: that
    # read alone goes to a thread (the route then finds the session read).
    async def csrf(request: AnyRequest) -> None:
        if not csrf_applies(request, CALLBACK_PATHS):
            return
        if not context.session_known(request):
            await sync_to_thread(context.session, request)
        check_csrf(request, context.session, CALLBACK_PATHS)

    @get("/openapi.json", include_in_schema=False, sync_to_thread=False)
    def openapi_document(request: AnyRequest) -> Response[dict[str, Any]]:
        """The OpenAPI 3.1 document (also at ``/schema/openapi.json``, rendered at
        ``/schema``)."""
        return Response(
            request.app.openapi_schema.to_schema(),
            media_type="application/vnd.oai.openapi+json",
        )

    # Handlers sharing a path are grouped in a Controller, so that Litestar (2.25) registers
    # them once each (a sync handler registered twice is wrapped twice).
    handlers: Sequence[HTTPRouteHandler | type[Controller]] = [
        openapi_document,
        *auth.HANDLERS,
        *family.HANDLERS,
        *reservations.HANDLERS,
        *invoices.HANDLERS,
        *callbacks.HANDLERS,
        *staff.HANDLERS,
        *enrollment_requests.HANDLERS,
        *sepa.HANDLERS,
        *documents.HANDLERS,
        *family_papers.HANDLERS,
        *paperless.HANDLERS,
        *menus_capacity.HANDLERS,
        *campaigns.HANDLERS,
    ]
    for handler in _route_handlers(handlers):
        if handler is not openapi_document:
            # Every route may answer these problems: documented, so clients (and the schema
            # tests) know their shape.
            handler.responses = {**PROBLEM_RESPONSES, **(handler.responses or {})}
    app = Litestar(
        route_handlers=[*handlers, pages_router(), static_router()],
        dependencies={"web": Provide(provide_web, sync_to_thread=False)},
        plugins=[TimeOfDaySchema()],
        before_request=csrf,
        exception_handlers={
            **problem_handlers(),
            # A browser's unknown address outside the API: the French page, not JSON.
            HTTPException: route_errors(http_error_to_problem),
        },
        before_send=[security_headers("/schema")],
        openapi_config=OpenAPIConfig(
            title="canteen HTTP API",
            version="1",
            description=API_DESCRIPTION,
            path="/schema",
            servers=[Server(url=path or "/")],
            render_plugins=[
                # From the CDN the docs page's Content-Security-Policy allows (security.DOCS_CSP):
                # Redoc's default, cdn.redoc.ly, is refused there and the page stays blank.
                RedocRenderPlugin(path="/", js_url=REDOC_JS),
                JsonRenderPlugin(path="/openapi.json"),
            ],
            # The examples are canteen's own (examples.py), not random values.
            create_examples=False,
            components=problem_components(),
            use_handler_docstrings=True,
            tags=[
                Tag(name="Compte", description="Connexion, activation, mots de passe."),
                Tag(name="Famille", description="Tableau de bord, profil, demandes."),
                Tag(name="Réservations", description="Grilles, cases à cocher, périodicités."),
                Tag(name="Factures", description="Factures, paiement en ligne, compte."),
                Tag(name="Rappels des prestataires", description="PayZen (IPN), PayFiP."),
                Tag(
                    name="Gestion",
                    description="Ce que fait le service restauration : demandes à instruire, "
                    "inscriptions, appel, fermetures, effectifs, facturation, relances, "
                    "campagnes, pièces justificatives.",
                ),
                Tag(name="Prélèvement", description="Mandats SEPA, échéancier, fichier pain.008."),
                Tag(name="Documents", description="Attestations, relevé de compte, calendrier."),
            ],
        ),
        debug=False,
        state=State({"canteen_web": context}),
    )
    _fix_options_answers(app)
    attach_examples(app)
    return app


def _fix_options_answers(app: Litestar) -> None:
    """Make each path's automatic OPTIONS answer list all the path's methods.

    Litestar (2.25) builds a path's OPTIONS handler when its first handler is registered, over
    that first route; handlers registered later on the same path (even in one controller) are
    missing from its ``Allow`` header. The handler reads the methods of the route it closes
    over: point it at the final route.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name != "options_handler":
                continue
            for cell in getattr(handler.fn, "__closure__", None) or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
