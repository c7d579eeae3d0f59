"""A deployment: which adapters a canteen installation uses, and their settings.

A deployment is a TOML file, ``canteen.toml``::

    timezone = "Europe/Paris"           # optional, the default

    [storage]
    url = "sqlite:///canteen.db"        # or "postgresql://canteen@db.example/canteen"
    # adapter = "sql"                   # default: "sql", or "memory" for url = "memory://"
    # migrate = true                    # run database migrations when opening (default)
    # schema = "canteen"                # PostgreSQL schema (search_path), optional

    [issuer]                            # the régie that bills
    name = "Régie de restauration scolaire de Ronde"
    code = "RONDE"                      # short code used in invoice numbers
    siret = "21750001600019"            # optional, 14 digits

    [billing]
    mode = "postpaid"                   # or "prepaid"

    [calendar]
    source = "france"
    zone = "C"                          # or department = "75"

    [mail]
    adapter = "smtp"                    # or "outbox" (development: store, optionally as .eml)
    sender = "Restauration scolaire <cantine@ronde.fr>"
    host = "smtp.ronde.fr"
    port = 587
    security = "starttls"               # "plain", "starttls" or "tls"
    username = "cantine"
    password = "${CANTEEN_SMTP_PASSWORD}"

    [payment.payzen]                    # one table per payment provider, settings as it needs
    site_id = "12345678"
    mode = "TEST"
    test_key = "${PAYZEN_TEST_KEY}"

    [portal]
    opening_date = 2023-08-21
    url = "https://famille.ronde.fr"

    [plugins]
    blocked = ["some_third_party_plugin"]

**Secrets from the environment.** Any string value may contain ``${NAME}``: it is replaced by
the environment variable ``NAME`` when the file is loaded (``$${`` writes a literal ``${``). A
variable that is not set is an error naming the key. Keep passwords out of the file this way,
including inside URLs: ``url = "postgresql://canteen:${CANTEEN_DB_PASSWORD}@db/canteen"``.

**Errors.** Unknown keys, missing required keys and bad values raise
:class:`~canteen_core.domain.errors.ConfigurationError` whose ``path`` is the key's dotted path
(``"storage.url"``, ``"mail.port"``).

**Relative paths** (a SQLite file, the mail folder) are resolved against the folder of the
deployment file, so a deployment works wherever it is started from.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from canteen_core.config.serialization import structure
from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.calendar import Zone
from canteen_core.domain.errors import ConfigurationError, InvalidInputError

# One billing-mode enum for the library: the deployment's [billing] mode is the invoicing one.
from canteen_core.domain.invoicing import BillingMode

__all__ = [
    "BillingMode",
    "BillingSettings",
    "CalendarSettings",
    "Deployment",
    "IssuerSettings",
    "MailSettings",
    "PluginSettings",
    "PortalSettings",
    "StorageSettings",
    "load_deployment",
    "parse_deployment",
    "resolve_sqlite_url",
]

DEFAULT_FILE_NAME = "canteen.toml"
_ENV_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")


def _storage_url(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    scheme = value.partition("://")[0] if "://" in value else ""
    if scheme == "memory" or scheme in _SQL_SCHEMES or scheme.startswith("postgresql+"):
        return
    raise InvalidInputError(
        f"unsupported storage URL {value!r}; use sqlite:///file.db, "
        "postgresql://user@host/db or memory://",
        path=attribute.name,
    )


def _default_adapter(settings: StorageSettings) -> str:
    return "memory" if settings.url.startswith("memory:") else "sql"


def _identifier(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", value):
        raise InvalidInputError(
            f"must be a plain SQL identifier (letters, digits, _), got {value!r}",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class StorageSettings:
    """``[storage]``: where data lives.

    ``url`` is ``sqlite:///path.db`` (the embedded default), ``postgresql://user@host/db``
    (psycopg 3) or ``memory://`` (tests, notebooks: nothing is kept). ``adapter`` names the
    storage backend plugin; it defaults to ``"sql"`` (``"memory"`` for ``memory://``).
    ``migrate`` runs database migrations automatically when the storage is opened.
    ``schema`` is a PostgreSQL schema to work in (set as the connection's ``search_path``).
    """

    url: str = attrs.field(default="sqlite:///canteen.db", validator=_storage_url)
    adapter: str = attrs.field(
        default=attrs.Factory(_default_adapter, takes_self=True), validator=non_empty_str
    )
    migrate: bool = True
    schema: str | None = attrs.field(default=None, validator=_identifier)
    echo: bool = False  # log SQL statements (debugging)


def _siret(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not (len(value) == 14 and value.isdigit()):
        raise InvalidInputError(f"a SIRET has 14 digits, got {value!r}", path=attribute.name)


def _code(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", value):
        raise InvalidInputError(
            f"must be 1-32 letters, digits, '-' or '_', got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class IssuerSettings:
    """``[issuer]``: the régie that bills (name and address printed on invoices)."""

    name: str = attrs.field(validator=non_empty_str)
    code: str = attrs.field(validator=_code)
    siret: str | None = attrs.field(default=None, validator=_siret)
    address: str | None = None
    email: str | None = None
    phone: str | None = None


@attrs.frozen(kw_only=True)
class BillingSettings:
    """``[billing]``: ``mode`` is ``"prepaid"`` or ``"postpaid"`` (the default)."""

    mode: BillingMode = BillingMode.POSTPAID


def _department(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not re.fullmatch(r"(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])", value):
        raise InvalidInputError(
            f"not a French department code: {value!r} (e.g. '75', '2A', '974')",
            path=attribute.name,
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
        raise InvalidInputError(f"not a TCP port: {value}", path=attribute.name)


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
            raise InvalidInputError("the smtp mailer needs a host", path="host")
        if (self.username is None) != (self.password is None):
            raise InvalidInputError("username and password go together", path="password")
        if self.timeout <= 0:
            raise InvalidInputError("must be a positive number of seconds", path="timeout")


@attrs.frozen(kw_only=True)
class PortalSettings:
    """``[portal]``: the family portal (``opening_date``: no login before it;
    ``template_dir``: a folder whose templates override the web pages', e.g. the footer's
    ``pages/mentions-legales.html``, relative to the deployment file)."""

    name: str | None = None
    url: str | None = None
    opening_date: date | None = None
    template_dir: str | None = None


@attrs.frozen(kw_only=True)
class PluginSettings:
    """``[plugins]``: ``blocked`` plugin names are never loaded."""

    blocked: tuple[str, ...] = ()


def _timezone(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"unknown time zone {value!r} (e.g. 'Europe/Paris')", path=attribute.name
        ) from None


@attrs.frozen(kw_only=True)
class Deployment:
    """A whole ``canteen.toml``, typed. Build with :func:`load_deployment`.

    ``payment`` maps a provider name to its settings table (each provider plugin checks its
    own settings). ``base_dir`` is the folder of the file relative paths were resolved against.
    """

    issuer: IssuerSettings
    storage: StorageSettings = attrs.Factory(StorageSettings)
    timezone: str = attrs.field(default="Europe/Paris", validator=_timezone)
    billing: BillingSettings = attrs.Factory(BillingSettings)
    calendar: CalendarSettings = attrs.Factory(CalendarSettings)
    mail: MailSettings = attrs.Factory(MailSettings)
    payment: dict[str, dict[str, Any]] = attrs.Factory(dict)
    portal: PortalSettings = attrs.Factory(PortalSettings)
    plugins: PluginSettings = attrs.Factory(PluginSettings)
    base_dir: Path | None = attrs.field(default=None, eq=False)

    @property
    def zoneinfo(self) -> ZoneInfo:
        """The deployment's wall-clock zone."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        base_dir: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
        source: str = "deployment",
    ) -> Deployment:
        """Build from parsed TOML (or any mapping); see :func:`parse_deployment`."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{source}: expected a table of settings")
        if "base_dir" in data:
            raise ConfigurationError(f"{source}: unknown key", path="base_dir")
        env = os.environ if environ is None else environ
        expanded = _expand_env(dict(data), env, "", source)
        try:
            deployment = structure(expanded, cls)
        except InvalidInputError as exc:
            raise ConfigurationError(f"{source}: {_strip_path(exc)}", path=exc.path) from exc
        base = Path(base_dir).resolve() if base_dir is not None else None
        return deployment._resolved(base)

    def _resolved(self, base: Path | None) -> Deployment:
        storage = self.storage
        mail = self.mail
        portal = self.portal
        if base is not None:
            if storage.url.startswith("sqlite"):
                storage = attrs.evolve(storage, url=resolve_sqlite_url(storage.url, base))
            if mail.folder is not None and not Path(mail.folder).is_absolute():
                mail = attrs.evolve(mail, folder=str(base / mail.folder))
            if portal.template_dir is not None and not Path(portal.template_dir).is_absolute():
                portal = attrs.evolve(portal, template_dir=str(base / portal.template_dir))
        return attrs.evolve(self, storage=storage, mail=mail, portal=portal, base_dir=base)


def _strip_path(exc: InvalidInputError) -> str:
    text = str(exc)
    prefix = f"{exc.path}: " if exc.path else ""
    return text.removeprefix(prefix)


def _expand_env(value: Any, environ: Mapping[str, str], path: str, source: str) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            if name not in environ:
                raise ConfigurationError(
                    f"{source}: environment variable {name} is not set", path=path or None
                )
            return environ[name]

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, dict):
        return {
            key: _expand_env(item, environ, f"{path}.{key}" if path else str(key), source)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _expand_env(item, environ, f"{path}[{index}]", source)
            for index, item in enumerate(value)
        ]
    return value


def resolve_sqlite_url(url: str, base_dir: str | Path) -> str:
    """Make a relative ``sqlite:///file.db`` URL absolute against ``base_dir``.

    ``sqlite:///:memory:``, ``sqlite://`` and absolute paths (``sqlite:////var/db.sqlite``)
    are returned unchanged.
    """
    scheme, _, rest = url.partition(":///")
    if not rest or rest.startswith((":memory:", "/")):
        return url
    path, sep, query = rest.partition("?")
    absolute = (Path(base_dir) / path).resolve()
    return f"{scheme}:///{absolute.as_posix()}{sep}{query}"


def parse_deployment(
    text: str,
    *,
    base_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    source: str = "canteen.toml",
) -> Deployment:
    """Parse deployment TOML text (relative paths resolved against ``base_dir``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    return Deployment.from_mapping(data, base_dir=base_dir, environ=environ, source=source)


def load_deployment(
    path: str | Path = DEFAULT_FILE_NAME, *, environ: Mapping[str, str] | None = None
) -> Deployment:
    """Load a ``canteen.toml``; relative paths in it are resolved against its folder.

    Raises :class:`~canteen_core.domain.errors.ConfigurationError` (with the key's path) for unknown
    keys, missing required keys, bad values and unset environment variables.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read deployment file {file}: {exc.strerror}") from None
    return parse_deployment(text, base_dir=file.resolve().parent, environ=environ, source=str(file))
