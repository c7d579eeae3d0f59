"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error a client sees has a stable ``type`` (one per error class of the library, plus the
web layer's own: authentication, CSRF, validation, unknown route), a French ``title`` and
``detail`` a family can read, the HTTP ``status`` and, when known, the ``field`` in error.
Anything unexpected becomes a 500 whose body says nothing of the cause: the stack trace goes to
the server's log only.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from canteen_core.domain.accounts import AuthenticationError, LoginThrottledError
from canteen_core.domain.errors import (
    AlreadyDecidedError,
    CanteenError,
    ConfigurationError,
    ConflictError,
    DuplicateRequestError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
    StorageError,
)

__all__ = ["PROBLEM_BASE", "Problem", "problem_handlers", "problem_response"]

#: Prefix of every problem ``type`` (a URN: stable, resolvable by nobody, documented in the
#: HTTP API page).
PROBLEM_BASE = "urn:canteen:problem:"
MEDIA_TYPE = "application/problem+json"

_log = logging.getLogger("canteen.web")

#: The title of every 409: a concurrent change or existing data in the way (a child already
#: enrolled); the French detail says which.
CONFLICT_TITLE: Final = "Conflit avec les données actuelles"

#: The library's error classes, most specific first: (class, slug, status, French title,
#: French detail used when the library's own message is not meant for families; always for a
#: refusal, whose message names the household asked for).
_CANTEEN: tuple[tuple[type[CanteenError], str, int, str, str], ...] = (
    (
        ConfigurationError,
        "configuration",
        500,
        "Erreur de configuration",
        "Le service est mal configuré : contactez le service restauration.",
    ),
    (
        InvalidInputError,
        "invalid-input",
        422,
        "Données invalides",
        "Une donnée de la demande n'est pas valide.",
    ),
    (
        RuleViolationError,
        "rule-violation",
        422,
        "Opération refusée",
        "Cette opération n'est pas permise par les règles du service.",
    ),
    (NotFoundError, "not-found", 404, "Introuvable", "L'élément demandé est introuvable."),
    (
        NotAuthorizedError,
        "not-authorized",
        403,
        "Accès refusé",
        "Vous n'avez pas accès à cet élément.",
    ),
    (
        AlreadyDecidedError,
        "already-decided",
        409,
        "Demande déjà traitée",
        "Cette demande a déjà été traitée : rechargez la page pour voir la décision.",
    ),
    (
        DuplicateRequestError,
        "duplicate-request",
        409,
        "Demande déjà en cours",
        "Une demande identique est déjà en cours : elle attend d'être instruite.",
    ),
    (
        ConflictError,
        "conflict",
        409,
        CONFLICT_TITLE,
        "Ces données ont été modifiées entre-temps : rechargez la page et recommencez.",
    ),
    (
        StorageError,
        "storage-unavailable",
        503,
        "Service indisponible",
        "Le service est momentanément indisponible : réessayez dans quelques instants.",
    ),
)

# French words and letters: the library writes family-facing messages in French and
# developer-facing ones (an unknown id, a wrong type) in English.
_FRENCH = re.compile(
    r"[éèêàùçôî]|\b(le|la|les|de|du|des|une?|et|ou|est|pas|vous|votre|vos|pour|avant|depuis)\b",
    re.IGNORECASE,
)


class Problem(HTTPException):
    """An error of the web layer itself, rendered as a problem (``slug`` names its type)."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status, headers=headers)
        self.slug = slug
        self.title = title
        self.field = field
        self.more = extra or {}


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    """A ``problem+json`` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if field is not None:
        body["field"] = field
    body.update(extra or {})
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _french(message: str, fallback: str) -> str:
    message = " ".join(message.split())
    return message if message and _FRENCH.search(message) else fallback


def canteen_error_to_problem(request: Request[Any, Any, Any], error: CanteenError) -> Response[Any]:
    """A library error as a problem: its class decides ``type`` and status."""
    path = request.url.path
    if isinstance(error, AuthenticationError):
        headers = None
        status = 401 if error.code in {"invalid_credentials", "invalid_token"} else 403
        if isinstance(error, LoginThrottledError):
            status = 429
            headers = {"Retry-After": str(max(1, int(error.retry_after.total_seconds())))}
        elif error.code in {"token_expired", "token_already_used"}:
            status = 410
        return problem_response(
            status,
            f"authentication:{error.code}",
            "Authentification refusée",
            " ".join(str(error).split()) or "Authentification refusée.",
            instance=path,
            headers=headers,
        )
    slug, status, title, fallback = "error", 500, "Erreur", "Une erreur est survenue."
    for kind, *rest in _CANTEEN:
        if isinstance(error, kind):
            slug, status, title, fallback = rest  # type: ignore[assignment]
            break
    field = getattr(error, "path", None)
    message = getattr(error, "message", None) or str(error)
    level = logging.ERROR if status >= 500 else logging.INFO
    _log.log(level, "%s on %s %s: %s", type(error).__name__, request.method, path, error)
    if isinstance(error, NotAuthorizedError):
        # The library's refusal names the user and the household asked for: another
        # family's id must not come back to the one who tried it. The log keeps it.
        return problem_response(status, slug, title, fallback, instance=path)
    if status >= 500:
        message = ""  # the cause is for the server's log only
    extra = dict(getattr(error, "problem_extra", {}) or {})
    return problem_response(
        status,
        slug,
        title,
        _french(message, fallback),
        field=field,
        instance=path,
        extra=extra,
    )


_HTTP_TITLES = {
    400: ("bad-request", "Requête invalide", "La requête n'est pas valide."),
    401: ("not-authenticated", "Connexion requise", "Veuillez vous connecter."),
    403: ("forbidden", "Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("no-such-route", "Introuvable", "Cette adresse n'existe pas."),
    405: ("method-not-allowed", "Méthode refusée", "Cette méthode n'est pas permise ici."),
    413: ("too-large", "Requête trop volumineuse", "La requête est trop volumineuse."),
    415: ("unsupported-media-type", "Format refusé", "Ce format de données n'est pas accepté."),
}


def http_error_to_problem(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """Litestar's own errors (validation, unknown route...) and :class:`Problem`."""
    path = request.url.path
    if isinstance(error, Problem):
        return problem_response(
            error.status_code,
            error.slug,
            error.title,
            error.detail,
            field=error.field,
            instance=path,
            headers=error.headers,
            extra=error.more,
        )
    if isinstance(error, ValidationException):
        fields: list[dict[str, Any]] = []
        extra = error.extra if isinstance(error.extra, list) else []
        for item in extra:
            if isinstance(item, dict):
                fields.append({"field": _field_of(item), "source": _source_of(item)})
        missing = _MISSING_PARAMETER.search(str(error.detail))
        if not fields and missing:
            # A required query/path/header parameter left out: Litestar only says so in its
            # English message, which names the parameter.
            fields.append({"field": missing.group(2), "source": missing.group(1)})
        first = fields[0]["field"] if fields and fields[0]["field"] else None
        return problem_response(
            400,
            "validation",
            "Données invalides",
            "La requête contient une donnée manquante ou invalide"
            + (f" : {first}." if first else "."),
            field=first,
            instance=path,
            extra={"errors": fields} if fields else None,
        )
    status = error.status_code
    if status >= 500:
        _log.error("HTTP %s on %s %s: %s", status, request.method, path, error.detail)
        return internal_error(request, error)
    slug, title, detail = _HTTP_TITLES.get(
        status, ("http-error", "Erreur", "La requête n'a pas pu aboutir.")
    )
    headers = {k: v for k, v in (error.headers or {}).items() if k.lower() == "allow"}
    return problem_response(status, slug, title, detail, instance=path, headers=headers or None)


#: Litestar's message for a required parameter left out of the request.
_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")


def _source_of(item: dict[str, Any]) -> str:
    """Where the field in error was (``body``, ``query``, ``path``...): Litestar gives a
    ``ParamType`` enum for parameters, whose ``str()`` is its Python name."""
    source = item.get("source", "")
    return str(getattr(source, "value", source))


def _field_of(item: dict[str, Any]) -> str:
    """The field a Litestar validation message is about: ``... at `$.username` `` or
    ``missing required field `password` ``, else the parameter's name."""
    message = str(item.get("message", ""))
    found = re.search(r"at `\$\.([^`]+)`", message) or re.search(r"field `([^`]+)`", message)
    if found:
        return found.group(1)
    return str(item.get("key") or item.get("source") or "")


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Anything else: logged with its trace, answered with no detail of the cause."""
    if not isinstance(error, HTTPException):
        _log.exception(
            "unexpected error on %s %s", request.method, request.url.path, exc_info=error
        )
    return problem_response(
        500,
        "internal",
        "Erreur interne",
        "Une erreur inattendue est survenue. Réessayez plus tard ou contactez le service "
        "restauration.",
        instance=request.url.path,
    )


def problem_handlers() -> dict[Any, Any]:
    """The exception handlers of the app."""
    return {
        CanteenError: canteen_error_to_problem,
        HTTPException: http_error_to_problem,
        Exception: internal_error,
    }
