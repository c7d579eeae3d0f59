"""What each adapter factory is given: its section of the deployment file, typed.

A deployment file (:mod:`canteen_core.config.deployment`) has one section per kind of adapter;
the plugin manager hands that section to the adapter's factory. These records are part of the
ports because they are what an adapter receives: ``[storage]`` -> :class:`StorageSettings`,
``[mail]`` -> :class:`MailSettings`, ``[calendar]`` -> :class:`CalendarSettings`. (A payment
provider receives its own ``[payment.<name>]`` table as a mapping, and checks it itself.)

The core checks only what does not depend on the adapter: a storage URL has a scheme, but
which schemes are usable is for the storage backend to say when it opens (a third-party
``mongodb://`` backend is as welcome as the built-in ``sql``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

import attrs

from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.calendar import Zone
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.tenants import TENANT_ID_PATTERN

__all__ = [
    "CalendarSettings",
    "MailSecurity",
    "MailSettings",
    "StorageSettings",
    "url_scheme",
]


def url_scheme(url: str) -> str:
    """The scheme of a storage URL, lower-cased (``"postgresql+psycopg://..."`` ->
    ``"postgresql+psycopg"``), or ``""`` when it has none."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator else ""


def _storage_url(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(
        r"[A-Za-z][A-Za-z0-9+.-]*", url_scheme(value) or "-"
    ):
        raise InvalidInputError(
            f"une URL de stockage commence par son schéma (sqlite:///fichier.db, "
            f"postgresql://utilisateur@hôte/base, memory://...) : « {value} »",
            path=attribute.name,
        )


def _default_adapter(settings: StorageSettings) -> str:
    return "memory" if url_scheme(settings.url) == "memory" else "sql"


def _optional_matching(
    pattern: str, expected: str
) -> Callable[[Any, attrs.Attribute[str | None], str | None], None]:
    """An attrs validator: ``None``, or a text matching ``pattern`` whole ("must be
    ``expected``" otherwise)."""
    compiled = re.compile(pattern)

    def check(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None and not compiled.fullmatch(value):
            raise InvalidInputError(f"{expected} attendu : « {value} »", path=attribute.name)

    return check


_identifier = _optional_matching(
    r"[A-Za-z_][A-Za-z0-9_]{0,62}", "un identifiant SQL simple (lettres, chiffres, _)"
)

_tenant_id = _optional_matching(
    TENANT_ID_PATTERN, "un identifiant de commune (lettres, chiffres, - et _)"
)


@attrs.frozen(kw_only=True)
class StorageSettings:
    """``[storage]``: where data lives.

    ``url`` is ``sqlite:///path.db`` (the embedded default), ``postgresql://user@host/db``
    (psycopg 3), ``memory://`` (tests, notebooks: nothing is kept), or any URL a third-party
    backend understands. ``adapter`` names the storage backend plugin; it defaults to
    ``"sql"`` (``"memory"`` for ``memory://``): set it for a third-party backend. The backend
    checks the URL when it opens. ``migrate`` runs database migrations automatically when the
    storage is opened. ``schema`` is a PostgreSQL schema to work in (the ``search_path``).
    ``tenant`` is the commune this instance works for in a PostgreSQL database shared by many
    (row-level security, see ``docs/tenancy.md``); unset, a single commune's ``"default"``.
    SQLite and memory storages hold one commune each and ignore it.
    """

    url: str = attrs.field(default="sqlite:///canteen.db", validator=_storage_url)
    adapter: str = attrs.field(
        default=attrs.Factory(_default_adapter, takes_self=True), validator=non_empty_str
    )
    migrate: bool = True
    schema: str | None = attrs.field(default=None, validator=_identifier)
    echo: bool = False  # log SQL statements (debugging)
    tenant: str | None = attrs.field(default=None, validator=_tenant_id)


_department = _optional_matching(
    r"0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6]", "un code de département (par exemple 75, 2A, 974)"
)


@attrs.frozen(kw_only=True)
class CalendarSettings:
    """``[calendar]``: the holiday source plugin (``"france"``) and the zone or department."""

    source: str = attrs.field(default="france", validator=non_empty_str)
    zone: Zone | None = None
    department: str | None = attrs.field(default=None, validator=_department)


class MailSecurity(enum.StrEnum):
    """How an SMTP connection is secured."""

    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"  # implicit TLS (port 465)


def _port(_: Any, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and not 0 < value < 65536:
        raise InvalidInputError(f"numéro de port TCP invalide : {value}", path=attribute.name)


#: The built-in mail adapters that put ``sender`` in the From: of what they send.
_SENDING_ADAPTERS = frozenset({"outbox", "smtp"})


@attrs.frozen(kw_only=True)
class MailSettings:
    """``[mail]``: the mailer plugin and its settings.

    ``adapter`` is ``"outbox"`` (development: messages are kept, and written as ``.eml`` files
    to ``folder`` if set) or ``"smtp"`` (needs ``host``). ``sender`` is the From address.
    """

    adapter: str = attrs.field(default="outbox", validator=non_empty_str)
    sender: str = "canteen@localhost"
    reply_to: str | None = None
    folder: str | None = None
    host: str | None = None
    port: int | None = attrs.field(default=None, validator=_port)
    security: MailSecurity = MailSecurity.STARTTLS
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: int = 30

    def __attrs_post_init__(self) -> None:
        if self.adapter == "smtp" and not self.host:
            raise InvalidInputError("l'envoi par SMTP demande un hôte (host)", path="host")
        if self.adapter in _SENDING_ADAPTERS and not self.sender.strip():
            # Else the messages leave with an empty From: (refused or lost as spam).
            raise InvalidInputError(
                "l'adresse d'expéditeur (sender) ne doit pas être vide, par exemple "
                '"Restauration scolaire <cantine@mairie.fr>"',
                path="sender",
            )
        if (self.username is None) != (self.password is None):
            raise InvalidInputError("username et password vont ensemble", path="password")
        if self.timeout <= 0:
            raise InvalidInputError("un nombre de secondes positif est attendu", path="timeout")
