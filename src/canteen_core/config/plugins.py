"""Building the plugin manager, and finding adapters by name.

The manager is built by :func:`build_plugin_manager`, never at import time. It loads the
plugins of the ``canteen`` entry-point group: the built-in adapters are declared there in
canteen's own ``pyproject.toml`` (``[project.entry-points.canteen]``) exactly as a third-party
package declares its plugins, so the core names no adapter module. It skips blocked names, and
checks every hook implementation against :mod:`canteen_core.config.hookspecs`
(``check_pending``).

Adding a built-in adapter is writing its module (``@hookimpl`` provider hooks, like any
plugin) and adding one line under ``[project.entry-points.canteen]``.

>>> pm = build_plugin_manager()                            # doctest: +SKIP
>>> storage = pm.open_storage(deployment.storage)          # doctest: +SKIP
>>> pm.adapter("storage", "oracle")                        # doctest: +SKIP
ConfigurationError: unknown storage backend 'oracle'; available: memory, sql

The records provider hooks return (:class:`StorageBackend`...) are defined with the ports, in
:mod:`canteen_core.ports.backends`, and re-exported here.
"""

from __future__ import annotations

import enum
import importlib.metadata
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

import attrs
import pluggy

from canteen_core.config import hookspecs
from canteen_core.config.project import ENTRY_POINT_GROUP, PROJECT_NAME
from canteen_core.domain import events as _events
from canteen_core.domain.errors import ConfigurationError
from canteen_core.ports.backends import (
    DocumentStoreBackend,
    HolidaySourceBackend,
    MailerBackend,
    NamedAdapter,
    PaymentProviderBackend,
    StorageBackend,
)

if TYPE_CHECKING:
    from canteen_core.ports.document_store import DocumentStore, DocumentStoreSettings
    from canteen_core.ports.settings import StorageSettings
    from canteen_core.ports.storage import Storage

__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterKind",
    "CanteenPluginManager",
    "DocumentStoreBackend",
    "HolidaySourceBackend",
    "MailerBackend",
    "NamedAdapter",
    "PaymentProviderBackend",
    "StorageBackend",
    "build_plugin_manager",
    "built_in_plugin_names",
]

logger = logging.getLogger(__name__)

_Record = TypeVar("_Record", bound=NamedAdapter)

#: Distributions whose plugins are the built-ins: an optional extra they need may be missing.
_BUILT_IN_DISTRIBUTION = PROJECT_NAME


class AdapterKind(enum.StrEnum):
    """The kinds of named adapters, one per provider hook."""

    STORAGE = "storage"
    MAILER = "mailer"
    PAYMENT_PROVIDER = "payment_provider"
    HOLIDAY_SOURCE = "holiday_source"
    DOCUMENT_STORE = "document_store"

    @property
    def hook_name(self) -> str:
        """The provider hook offering this kind."""
        return _KIND_HOOKS[self][0]

    @property
    def record_type(self) -> type[NamedAdapter]:
        """The record class the hook returns."""
        return _KIND_HOOKS[self][1]

    @property
    def label(self) -> str:
        """French name for messages (``"moteur de stockage"``)."""
        return _KIND_HOOKS[self][2]


_KIND_HOOKS: dict[AdapterKind, tuple[str, type[NamedAdapter], str]] = {
    AdapterKind.STORAGE: ("canteen_storage_backends", StorageBackend, "moteur de stockage"),
    AdapterKind.MAILER: ("canteen_mailers", MailerBackend, "service d'envoi d'e-mails"),
    AdapterKind.PAYMENT_PROVIDER: (
        "canteen_payment_providers",
        PaymentProviderBackend,
        "moyen de paiement",
    ),
    AdapterKind.HOLIDAY_SOURCE: (
        "canteen_holiday_sources",
        HolidaySourceBackend,
        "calendrier de vacances",
    ),
    AdapterKind.DOCUMENT_STORE: (
        "canteen_document_stores",
        DocumentStoreBackend,
        "stockage de documents",
    ),
}

#: Event class -> its own hook (every event also goes to ``canteen_event_committed``).
EVENT_HOOKS: dict[type[_events.Event], str] = {
    _events.ReservationsChanged: "canteen_reservations_changed",
    _events.ChangeRequestDecided: "canteen_change_request_decided",
    _events.InvoiceIssued: "canteen_invoice_issued",
    _events.InvoiceOverdue: "canteen_invoice_overdue",
    _events.PaymentReceived: "canteen_payment_received",
    _events.DirectDebitAnnounced: "canteen_direct_debit_announced",
    _events.AccountInvited: "canteen_account_invited",
}


class CanteenPluginManager(pluggy.PluginManager):
    """pluggy's manager with canteen's registry helpers (adapters by kind and name, events)."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        #: Built-in plugins skipped because an optional extra is missing: name -> reason.
        self.unavailable: dict[str, str] = {}

    # -- adapters ---------------------------------------------------------------------------

    def adapters(self, kind: AdapterKind | str) -> dict[str, NamedAdapter]:
        """Every adapter of ``kind`` by name, each tagged with the plugin offering it.

        Raises :class:`ConfigurationError` when two plugins offer the same name (naming both)
        or a plugin returns something that is not a record of the right type.
        """
        kind = _kind(kind)
        found: dict[str, NamedAdapter] = {}
        caller = getattr(self.hook, kind.hook_name)
        for impl in caller.get_hookimpls():  # registration order
            if impl.hookwrapper or impl.wrapper:
                continue  # wrappers observe calls; they offer nothing themselves
            plugin_name = impl.plugin_name
            try:
                offered = impl.function()
            except Exception as exc:
                raise ConfigurationError(
                    f"l'extension {plugin_name} a échoué dans {kind.hook_name}() : {exc}"
                ) from exc
            for record in _as_list(offered, plugin_name, kind):
                record = attrs.evolve(record, plugin=plugin_name)
                if record.name in found:
                    other = found[record.name].plugin
                    raise ConfigurationError(
                        f"deux extensions offrent le {kind.label} « {record.name} » : "
                        f"{other} et {plugin_name} ; bloquez-en une ([plugins] blocked)"
                    )
                found[record.name] = record
        return found

    def adapter(self, kind: AdapterKind | str, name: str) -> NamedAdapter:
        """The adapter of ``kind`` called ``name``.

        Raises :class:`ConfigurationError` listing the valid names when ``name`` is unknown.
        """
        kind = _kind(kind)
        available = self.adapters(kind)
        try:
            return available[name]
        except KeyError:
            names = ", ".join(sorted(available)) or "aucun (aucune extension n'en offre)"
            missing = "".join(
                f" ; non chargée : {module} ({reason})"
                for module, reason in self.unavailable.items()
            )
            raise ConfigurationError(
                f"{kind.label} « {name} » introuvable ; disponibles : {names}{missing}"
            ) from None

    def storage_backend(self, name: str) -> StorageBackend:
        """The storage backend called ``name``."""
        return self._record(AdapterKind.STORAGE, name, StorageBackend)

    def mailer_backend(self, name: str) -> MailerBackend:
        """The mailer called ``name``."""
        return self._record(AdapterKind.MAILER, name, MailerBackend)

    def payment_provider_backend(self, name: str) -> PaymentProviderBackend:
        """The payment provider called ``name``."""
        return self._record(AdapterKind.PAYMENT_PROVIDER, name, PaymentProviderBackend)

    def holiday_source_backend(self, name: str) -> HolidaySourceBackend:
        """The holiday source called ``name``."""
        return self._record(AdapterKind.HOLIDAY_SOURCE, name, HolidaySourceBackend)

    def document_store_backend(self, name: str) -> DocumentStoreBackend:
        """The document store called ``name``."""
        return self._record(AdapterKind.DOCUMENT_STORE, name, DocumentStoreBackend)

    def _record(self, kind: AdapterKind, name: str, record_type: type[_Record]) -> _Record:
        """:meth:`adapter`, typed as the record class of ``kind``."""
        record = self.adapter(kind, name)
        assert isinstance(record, record_type)
        return record

    def open_document_store(self, settings: DocumentStoreSettings) -> DocumentStore:
        """Open the document store a deployment's ``[documents]`` section names."""
        return self.document_store_backend(settings.store_name).factory(settings)

    def open_storage(self, settings: StorageSettings) -> Storage:
        """Open the storage a deployment's ``[storage]`` section names."""
        return self.storage_backend(settings.adapter).factory(settings)

    def validate_adapters(self) -> None:
        """Collect every kind of adapter once, so duplicates fail at start-up."""
        for kind in AdapterKind:
            self.adapters(kind)

    # -- events -----------------------------------------------------------------------------

    def dispatch(self, event: _events.Event) -> list[BaseException]:
        """Call the event's hook, then ``canteen_event_committed``, for a committed change.

        Each implementation is called on its own: an exception is logged and collected, and
        the other plugins still run. Returns the exceptions (empty when all went well).
        """
        errors: list[BaseException] = []
        names = [name for cls, name in EVENT_HOOKS.items() if isinstance(event, cls)]
        for hook_name in [*names[:1], "canteen_event_committed"]:
            caller = getattr(self.hook, hook_name)
            for impl in caller.get_hookimpls():  # registration order
                if impl.hookwrapper or impl.wrapper:
                    continue
                try:
                    impl.function(event=event)
                except Exception as exc:
                    logger.exception(
                        "plugin %r failed in %s for %s", impl.plugin_name, hook_name, event
                    )
                    errors.append(exc)
        return errors

    def dispatch_all(self, events: Iterable[_events.Event]) -> list[BaseException]:
        """:meth:`dispatch` each event in order; returns all exceptions raised by plugins."""
        errors: list[BaseException] = []
        for event in events:
            errors.extend(self.dispatch(event))
        return errors


def _kind(kind: AdapterKind | str) -> AdapterKind:
    try:
        return AdapterKind(kind)
    except ValueError:
        valid = ", ".join(member.value for member in AdapterKind)
        raise ConfigurationError(
            f"sorte d'adaptateur inconnue « {kind} » ; possibles : {valid}"
        ) from None


def _as_list(offered: object, plugin: str, kind: AdapterKind) -> list[NamedAdapter]:
    if offered is None:
        return []
    items = [offered] if isinstance(offered, NamedAdapter) else offered
    if not isinstance(items, list | tuple):
        raise ConfigurationError(
            f"extension {plugin} : {kind.hook_name}() doit renvoyer une liste de "
            f"{kind.record_type.__name__}, pas {type(offered).__name__}"
        )
    for item in items:
        if not isinstance(item, kind.record_type):
            raise ConfigurationError(
                f"extension {plugin} : {kind.hook_name}() a renvoyé {type(item).__name__} "
                f"au lieu de {kind.record_type.__name__}"
            )
    return list(items)


def _register(pm: CanteenPluginManager, plugin: object, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise ConfigurationError(f"extension {name} invalide : {exc}") from exc
    except ValueError as exc:  # already registered under that name
        raise ConfigurationError(f"extension {name} impossible à enregistrer : {exc}") from exc


def _load_entrypoints(
    pm: CanteenPluginManager, group: str, *, built_ins: bool, third_party: bool
) -> None:
    seen: set[str] = set()
    for entry_point in importlib.metadata.entry_points(group=group):
        name = entry_point.name
        if name in seen or pm.is_blocked(name) or pm.get_plugin(name) is not None:
            continue  # the same distribution seen twice on sys.path, or blocked
        built_in = _is_built_in(entry_point)
        if not (built_ins if built_in else third_party):
            continue
        seen.add(name)
        try:
            plugin = entry_point.load()
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if not built_in or missing.split(".")[0] in ("", "canteen_core", "canteen_adapters"):
                raise ConfigurationError(
                    f"impossible de charger l'extension {name} ({entry_point.value}) : {exc}"
                ) from exc
            # A built-in whose optional extra is not installed (canteen[payments]...): its
            # adapters are simply not offered, and asking for one says why.
            pm.unavailable[name] = f"missing module {missing!r}"
            logger.info("built-in plugin %s not loaded: %s", name, exc)
            continue
        except Exception as exc:
            raise ConfigurationError(
                f"impossible de charger l'extension {name} ({entry_point.value}) : {exc}"
            ) from exc
        _register(pm, plugin, name)


def _is_built_in(entry_point: importlib.metadata.EntryPoint) -> bool:
    """Whether the entry point is declared by canteen's own distribution (a built-in)."""
    distribution = entry_point.dist
    return distribution is not None and distribution.name == _BUILT_IN_DISTRIBUTION


def built_in_plugin_names(group: str = ENTRY_POINT_GROUP) -> tuple[str, ...]:
    """The names of the built-in plugins, as declared in canteen's ``pyproject.toml``."""
    return tuple(
        sorted(
            {
                entry_point.name
                for entry_point in importlib.metadata.entry_points(group=group)
                if _is_built_in(entry_point)
            }
        )
    )


def build_plugin_manager(
    *,
    blocked: Iterable[str] = (),
    load_entrypoints: bool = True,
    plugins: Iterable[object] = (),
    built_ins: bool = True,
    group: str = ENTRY_POINT_GROUP,
) -> CanteenPluginManager:
    """Build a plugin manager: the plugins of the entry-point group, then ``plugins``; then
    check them.

    Built-in adapters and third-party plugins are both found through the ``canteen``
    entry-point group; the built-ins are those canteen's own distribution declares.

    :param blocked: plugin names never registered: a built-in such as
        ``"canteen_adapters.storage.memory"``, or a third-party entry-point name.
    :param load_entrypoints: load the third-party plugins (entry points of other
        distributions). Tests turn it off so that they do not depend on what else is installed.
    :param plugins: extra plugin objects or modules to register (tests, embedding code).
    :param built_ins: load the built-in adapters (entry points of canteen itself).
    :param group: the entry-point group to load from.
    :returns: the manager, with every hook implementation validated (``check_pending``) and
        adapter names checked for duplicates.
    :raises ConfigurationError: a plugin fails to import, implements an unknown ``canteen_``
        hook or with wrong arguments, or two plugins offer one adapter name.
    """
    pm = CanteenPluginManager()
    for name in blocked:
        pm.set_blocked(name)
    _load_entrypoints(pm, group, built_ins=built_ins, third_party=load_entrypoints)
    for plugin in plugins:
        # A readable name for messages: the module name, or the class of an instance.
        name = getattr(plugin, "__name__", None) or (
            f"{type(plugin).__module__}.{type(plugin).__qualname__}"
        )
        if not pm.is_blocked(name):
            _register(pm, plugin, name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigurationError(f"extension {exc.plugin} : {exc}") from exc
    pm.validate_adapters()
    return pm
