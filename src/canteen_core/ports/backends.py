"""The named records provider hooks return: one per kind of adapter a plugin can offer.

A plugin offers adapters by returning these records from its provider hooks
(:mod:`canteen_core.config.hookspecs`); the plugin manager collects them and a deployment picks
one by ``name``. Each record's ``factory`` builds the adapter from what the deployment says
about it, and returns an object implementing the port:

* :class:`StorageBackend`: ``factory(StorageSettings)`` opens a
  :class:`~canteen_core.ports.storage.Storage`;
* :class:`MailerBackend`: ``factory(MailSettings)`` builds a
  :class:`~canteen_core.ports.mail.Mailer`;
* :class:`HolidaySourceBackend`: ``factory(CalendarSettings)`` builds a
  :class:`~canteen_core.ports.calendar.HolidaySource`;
* :class:`PaymentProviderBackend`: ``factory(table)`` builds a payment provider from its
  ``[payment.<name>]`` table;
* :class:`DocumentStoreBackend`: ``factory(DocumentStoreSettings)`` builds a
  :class:`~canteen_core.ports.document_store.DocumentStore`.

The settings are in :mod:`canteen_core.ports.settings`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from canteen_core.domain._validators import non_empty_str

if TYPE_CHECKING:
    from canteen_core.ports.calendar import HolidaySource
    from canteen_core.ports.document_store import DocumentStore, DocumentStoreSettings
    from canteen_core.ports.mail import Mailer
    from canteen_core.ports.settings import CalendarSettings, MailSettings, StorageSettings
    from canteen_core.ports.storage import Storage

__all__ = [
    "DocumentStoreBackend",
    "HolidaySourceBackend",
    "MailerBackend",
    "NamedAdapter",
    "NamedProvider",
    "PaymentProviderBackend",
    "StorageBackend",
]


@attrs.frozen(kw_only=True)
class NamedAdapter:
    """A named adapter offered by a provider hook. ``plugin`` is filled in by the manager."""

    name: str = attrs.field(validator=non_empty_str)
    description: str = ""
    plugin: str | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class StorageBackend(NamedAdapter):
    """A storage backend: ``factory(settings)`` opens a
    :class:`~canteen_core.ports.storage.Storage`.

    The factory checks the settings' URL itself (the core knows no URL scheme) and raises
    :class:`~canteen_core.domain.errors.ConfigurationError` with ``path="storage.url"`` for one
    it cannot open.
    """

    factory: Callable[[StorageSettings], Storage]


@attrs.frozen(kw_only=True)
class MailerBackend(NamedAdapter):
    """A mailer: ``factory(settings)`` builds a :class:`~canteen_core.ports.mail.Mailer` from the
    ``[mail]`` section."""

    factory: Callable[[MailSettings], Mailer]


@attrs.frozen(kw_only=True)
class PaymentProviderBackend(NamedAdapter):
    """A payment provider: ``factory(settings)`` gets its ``[payment.<name>]`` table."""

    factory: Callable[[Mapping[str, Any]], Any]


class NamedProvider(Protocol):
    """What every payment provider port shares (online, direct debit, counter): the name its
    :class:`PaymentProviderBackend` was offered under, which ``[payment.<name>]`` picks."""

    @property
    def name(self) -> str:
        """The provider's registry name (``"payzen"``, ``"payfip"``, ``"sepa"``, ``"manual"``)."""
        ...


@attrs.frozen(kw_only=True)
class HolidaySourceBackend(NamedAdapter):
    """A source of school-year facts: ``factory(settings)`` builds a
    :class:`~canteen_core.ports.calendar.HolidaySource` from the ``[calendar]`` section."""

    factory: Callable[[CalendarSettings], HolidaySource]


@attrs.frozen(kw_only=True)
class DocumentStoreBackend(NamedAdapter):
    """A store for the family's papers: ``factory(settings)`` builds a
    :class:`~canteen_core.ports.document_store.DocumentStore` from the ``[documents]`` section
    (whose ``url``/``schema`` default to the storage's, and ``folder`` is absolute)."""

    factory: Callable[[DocumentStoreSettings], DocumentStore]
