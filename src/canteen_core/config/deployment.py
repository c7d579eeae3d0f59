"""A deployment: which adapters a canteen installation uses, and their settings.

A deployment is a TOML file, ``canteen.toml``::

    timezone = "Europe/Paris"           # optional, the default

    [storage]
    url = "sqlite:///canteen.db"        # or "postgresql://canteen@db.example/canteen"
    # adapter = "sql"                   # default: "sql", or "memory" for url = "memory://";
                                        # a third-party backend is named here (adapter = "mongodb")
    # migrate = true                    # run database migrations when opening (default)
    # schema = "canteen"                # PostgreSQL schema (search_path), optional
    # tenant = "ronde"                  # commune in a shared PostgreSQL (docs/tenancy.md)

    [issuer]                            # the régie that bills
    name = "Régie de restauration scolaire de Ronde"
    code = "RONDE"                      # short code used in invoice numbers
    siret = "21750001600019"            # optional, 14 digits

    [billing]
    mode = "postpaid"                   # or "prepaid"
    # arrears_threshold = "50.00"       # families owing more (overdue) cannot book new days
    # arrears_grace_days = 15           # only invoices more than 15 days past due count
    # billed_days = "regularise"        # a change to a billed month: "regularise" or "refuse"

    [money]
    max_payment = "10000"               # largest payment recorded without an explicit override

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

    [documents]                         # the family's papers ("Espace de stockage")
    store = "files"                     # or "database" (the [storage] database); default "files"
    folder = "documents"                # the files store's folder (random file names)
    max_bytes = 5242880                 # one file, 5 MiB by default
    household_quota = 52428800          # one household's papers together, 50 MiB by default

    [capacity]                          # places freed on a full day (docs/rules/capacity.md)
    promotion = "automatic"             # the first family waiting gets it; or "offer"
    offer_hours = 48                    # "offer": hours the family has to accept it

    [campaigns]                         # the yearly campaigns
    missing_quotient = "top_bracket"    # no new QF at the deadline: "top_bracket" or "keep"
    leaving_age = 11                    # this old at the rentrée: gone to the collège

    [plugins]
    blocked = ["some_third_party_plugin"]

**Secrets from the environment.** Any string value may contain ``${NAME}``: it is replaced by
the environment variable ``NAME`` when the file is loaded (``$${`` writes a literal ``${``). A
variable that is not set is an error naming the key. Keep passwords out of the file this way,
including inside URLs: ``url = "postgresql://canteen:${CANTEEN_DB_PASSWORD}@db/canteen"``.

**Errors.** Unknown keys, missing required keys and bad values raise
:class:`~canteen_core.domain.errors.ConfigurationError` whose ``path`` is the key's dotted path
(``"storage.url"``, ``"mail.port"``).

**Relative paths** (a SQLite file, the mail folder, a payment provider's ``output_dir``) are
resolved against the folder of the deployment file, so a deployment works wherever it is started
from.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from canteen_core.config.serialization import structure
from canteen_core.config.serialization.errors import unknown_fields_fr
from canteen_core.config.toml import parse_toml, read_config_file
from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.campaigns import CampaignSettings
from canteen_core.domain.capacity import CapacitySettings
from canteen_core.domain.errors import ConfigurationError, InvalidInputError

# One billing-mode enum for the library: the deployment's [billing] mode is the invoicing one.
from canteen_core.domain.invoicing import BillingMode
from canteen_core.domain.money import Money, MoneySettings
from canteen_core.domain.reminders import ArrearsRule
from canteen_core.domain.retention import RetentionSettings
from canteen_core.ports.document_store import DocumentStoreSettings

# The sections handed to adapter factories are defined with the ports (what adapters receive).
from canteen_core.ports.settings import (
    CalendarSettings,
    MailSecurity,
    MailSettings,
    StorageSettings,
)

__all__ = [
    "BilledDays",
    "BillingMode",
    "BillingSettings",
    "CalendarSettings",
    "CampaignSettings",
    "Deployment",
    "DocumentStoreSettings",
    "IssuerSettings",
    "MailSecurity",
    "MailSettings",
    "MoneySettings",
    "PluginSettings",
    "PortalSettings",
    "StorageSettings",
    "load_deployment",
    "parse_deployment",
    "resolve_sqlite_url",
]

DEFAULT_FILE_NAME = "canteen.toml"
_ENV_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _siret(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not (len(value) == 14 and value.isdigit()):
        raise InvalidInputError(f"un SIRET a 14 chiffres : « {value} »", path=attribute.name)


def _code(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", value):
        raise InvalidInputError(
            f"1 à 32 lettres, chiffres, « - » ou « _ » : « {value} »", path=attribute.name
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


def _arrears_threshold(_: Any, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInputError(
            'un montant entre guillemets est attendu, par exemple "50.00"', path=attribute.name
        )
    try:
        amount = Money.of(value)
    except InvalidInputError:
        raise InvalidInputError(
            f'« {value} » n\'est pas un montant (par exemple "50.00")', path=attribute.name
        ) from None
    if amount.is_negative:
        raise InvalidInputError("ne doit pas être négatif", path=attribute.name)


def _grace_days(_: Any, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise InvalidInputError("un nombre de jours de 0 à 366 est attendu", path=attribute.name)


class BilledDays(enum.StrEnum):
    """What happens to a change (booking, cancellation, attendance) to a day of a month
    already invoiced (``[billing] billed_days``)."""

    #: Allowed; the household's next post-paid run charges or credits it (régularisation).
    REGULARISE = "regularise"
    #: Refused with a French :class:`~canteen_core.domain.errors.RuleViolationError`.
    REFUSE = "refuse"


def _billed_days(value: object) -> BilledDays:
    if isinstance(value, str) and value in {item.value for item in BilledDays}:
        return BilledDays(value)
    raise InvalidInputError(
        f'"regularise" ou "refuse" est attendu : « {value} »', path="billed_days"
    )


@attrs.frozen(kw_only=True)
class BillingSettings:
    """``[billing]``: ``mode`` is ``"prepaid"`` or ``"postpaid"`` (the default).

    ``arrears_threshold`` (a decimal string, euros; optional) turns the arrears rule on: a
    family whose overdue balance exceeds it cannot book new days; ``arrears_grace_days``:
    only invoices more than that many days past due count (default 0). ``billed_days``
    (:class:`BilledDays`): a booking, cancellation or attendance change to a day of a month
    already invoiced is either regularised on the next invoice (``"regularise"``, the default)
    or refused (``"refuse"``).
    """

    mode: BillingMode = BillingMode.POSTPAID
    arrears_threshold: str | None = attrs.field(default=None, validator=_arrears_threshold)
    arrears_grace_days: int = attrs.field(default=0, validator=_grace_days)
    billed_days: BilledDays = attrs.field(default=BilledDays.REGULARISE, converter=_billed_days)

    @property
    def arrears_rule(self) -> ArrearsRule | None:
        """The arrears rule these settings describe (``None``: bookings are never blocked)."""
        if self.arrears_threshold is None:
            return None
        return ArrearsRule(
            threshold=Money.of(self.arrears_threshold), grace_days=self.arrears_grace_days
        )


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
            f"fuseau horaire inconnu : « {value} » (par exemple Europe/Paris)", path=attribute.name
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
    money: MoneySettings = attrs.Factory(MoneySettings)
    calendar: CalendarSettings = attrs.Factory(CalendarSettings)
    mail: MailSettings = attrs.Factory(MailSettings)
    payment: dict[str, dict[str, Any]] = attrs.Factory(dict)
    portal: PortalSettings = attrs.Factory(PortalSettings)
    plugins: PluginSettings = attrs.Factory(PluginSettings)
    documents: DocumentStoreSettings = attrs.Factory(DocumentStoreSettings)
    retention: RetentionSettings = attrs.Factory(RetentionSettings)
    capacity: CapacitySettings = attrs.Factory(CapacitySettings)
    campaigns: CampaignSettings = attrs.Factory(CampaignSettings)
    base_dir: Path | None = attrs.field(default=None, eq=False)

    @property
    def document_store(self) -> DocumentStoreSettings:
        """The ``[documents]`` section as the store's factory gets it: the store named
        (``"memory"`` beside a memory storage), the folder absolute (against the deployment's
        folder, else the SQLite file's, else the working directory), and the database
        store's URL and schema the storage's unless it names its own."""
        documents = self.documents
        store = documents.store or ("memory" if self.storage.adapter == "memory" else "files")
        folder = Path(documents.folder)
        if not folder.is_absolute():
            folder = (self.base_dir or _sqlite_folder(self.storage.url) or Path.cwd()) / folder
        url = documents.url or self.storage.url
        if self.base_dir is not None and url.startswith("sqlite"):
            url = resolve_sqlite_url(url, self.base_dir)
        schema = documents.schema if documents.url else (documents.schema or self.storage.schema)
        tenant = documents.tenant or self.storage.tenant
        return attrs.evolve(
            documents, store=store, folder=str(folder), url=url, schema=schema, tenant=tenant
        )

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
            raise ConfigurationError(f"{source} : une table de réglages est attendue")
        if "base_dir" in data:
            raise ConfigurationError(
                f"{source} : {unknown_fields_fr(['base_dir'])}", path="base_dir"
            )
        env = os.environ if environ is None else environ
        expanded = _expand_env(dict(data), env, "", source)
        try:
            deployment = structure(expanded, cls)
        except InvalidInputError as exc:
            raise ConfigurationError(
                f"{source} : {_where(exc.path)}{_strip_path(exc)}", path=exc.path
            ) from exc
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
            payment = {
                name: _resolved_output_dir(table, base) for name, table in self.payment.items()
            }
        else:
            payment = self.payment
        return attrs.evolve(
            self,
            storage=storage,
            mail=mail,
            portal=portal,
            payment=payment,
            base_dir=base,
        )


def _resolved_output_dir(table: dict[str, Any], base: Path) -> dict[str, Any]:
    """A provider table whose relative ``output_dir`` (the SEPA files' folder) is made
    absolute against the deployment file's folder."""
    folder = table.get("output_dir")
    if isinstance(folder, str) and folder and not Path(folder).is_absolute():
        return {**table, "output_dir": str(base / folder)}
    return table


def _strip_path(exc: InvalidInputError) -> str:
    text = str(exc)
    prefix = f"{exc.path}: " if exc.path else ""
    return text.removeprefix(prefix).removeprefix("Deployment invalide : ")


def _where(path: str | None) -> str:
    """``storage.url : `` (the key in error, as the file spells it), or nothing."""
    return f"{path} : " if path else ""


def _expand_env(value: Any, environ: Mapping[str, str], path: str, source: str) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            if name not in environ:
                raise ConfigurationError(
                    f"{source} : {_where(path)}variable d'environnement {name} non définie",
                    path=path or None,
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


def _sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite file URL (``None`` for other URLs and in-memory SQLite)."""
    scheme, _, rest = url.partition(":///")
    if not scheme.startswith("sqlite") or not rest or rest.startswith(":memory:"):
        return None
    return Path(rest.partition("?")[0]).parent


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
    data = parse_toml(text, source=source)
    return Deployment.from_mapping(data, base_dir=base_dir, environ=environ, source=source)


def load_deployment(
    path: str | Path = DEFAULT_FILE_NAME, *, environ: Mapping[str, str] | None = None
) -> Deployment:
    """Load a ``canteen.toml``; relative paths in it are resolved against its folder.

    Raises :class:`~canteen_core.domain.errors.ConfigurationError` (with the key's path) for unknown
    keys, missing required keys, bad values and unset environment variables.
    """
    file = Path(path)
    text = read_config_file(file, "fichier de déploiement")
    return parse_deployment(text, base_dir=file.resolve().parent, environ=environ, source=str(file))
