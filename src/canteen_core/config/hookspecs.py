"""Every hook canteen calls, with the pluggy markers of the project ``"canteen"``.

There are two kinds of hooks:

* **Provider hooks** return named adapters: storage backends, mailers, payment providers,
  holiday sources. canteen calls every implementation and collects the records; a deployment
  then picks an adapter by name (``[storage] adapter = "sql"``). Two plugins offering the same
  name is an error naming both.
* **Document hooks** draw a document inside a use case:
  ``canteen_render_mandate_authorization`` draws the SEPA authorization a family signed.
* **Event hooks** are called *after* a change is committed, with the event describing it
  (:mod:`canteen_core.domain.events`). A rolled-back change fires nothing. Their return value is
  ignored, and an exception raised by one plugin is logged and does not stop the others (the
  change is already committed: it cannot be undone by a failing observer).

Write a plugin as a module or an object whose functions carry :data:`hookimpl`, and expose it
through the ``canteen`` entry-point group (see ``docs/plugins.md``). The records provider hooks
return are in :mod:`canteen_core.ports.backends`, the ports they build in
:mod:`canteen_core.ports`::

    from canteen_core import hookimpl

    @hookimpl
    def canteen_invoice_issued(event):
        print("invoice", event.number, "for", event.household_id)

Every hook name starts with ``canteen_``; ``tests/test_hookspecs.py`` checks that each one is
documented here (parameters, return, firstresult, example) and in ``docs/plugins.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pluggy

from canteen_core.config.project import PROJECT_NAME

if TYPE_CHECKING:
    from canteen_core.domain.events import (
        AccountInvited,
        ChangeRequestDecided,
        DirectDebitAnnounced,
        Event,
        InvoiceIssued,
        InvoiceOverdue,
        PaymentReceived,
        ReservationsChanged,
    )
    from canteen_core.domain.mandate_authorization import MandateAuthorization
    from canteen_core.ports.backends import (
        DocumentStoreBackend,
        HolidaySourceBackend,
        MailerBackend,
        PaymentProviderBackend,
        StorageBackend,
    )

__all__ = ["PROJECT_NAME", "OfferedAdapter", "hookimpl", "hookspec", "offer"]

#: Marks a hook specification (used in this module only).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a hook implementation in a plugin: ``@hookimpl def canteen_...``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

_Record = TypeVar("_Record")


class OfferedAdapter(Protocol):
    """An adapter class :func:`offer` can register: its ``name`` and a ``from_settings`` factory."""

    @property
    def name(self) -> str:
        """The name deployments pick the adapter by."""
        ...  # pragma: no cover - a protocol

    def from_settings(self, settings: Any, /) -> object:
        """Build the adapter from what the deployment says about it."""
        ...  # pragma: no cover - a protocol


def offer(
    kind: Callable[..., _Record], adapter: OfferedAdapter, description: str
) -> Callable[[], list[_Record]]:
    """A provider hook implementation offering one adapter: the one registration line of a module.

    ``kind`` is the record class of the hook (:mod:`canteen_core.ports.backends`); the record is
    named after ``adapter.name`` and built by ``adapter.from_settings``. Bind the result to the
    hook's name, so the module is a plugin (its entry point names the module)::

        canteen_mailers = offer(MailerBackend, SendgridMailer, "delivers through Sendgrid")
    """
    record = kind(name=adapter.name, description=description, factory=adapter.from_settings)

    def provider() -> list[_Record]:
        return [record]

    provider.__doc__ = f"Offers the {adapter.name!r} adapter: {description}."
    return hookimpl(provider)


# -- provider hooks ----------------------------------------------------------------------------


@hookspec
def canteen_storage_backends() -> list[StorageBackend]:
    """Offer storage backends (where households, reservations, invoices... are kept).

    :returns: a list of :class:`~canteen_core.ports.backends.StorageBackend` records, each with a
        unique ``name`` (matched against ``[storage] adapter`` in the deployment) and a
        ``factory(settings: StorageSettings) -> Storage`` that opens the storage and checks
        the URL itself (the core knows no URL scheme). Return an
        empty list (or nothing) to offer none. The built-ins are ``"memory"`` and ``"sql"``.

    Firstresult: no; every plugin's records are collected. Two plugins offering the same name
    raise :class:`~canteen_core.domain.errors.ConfigurationError` naming both.

    Example::

        @hookimpl
        def canteen_storage_backends():
            return [StorageBackend(name="redis", factory=RedisStorage.open)]
    """
    raise NotImplementedError  # pragma: no cover - a specification, never called


@hookspec
def canteen_mailers() -> list[MailerBackend]:
    """Offer mailers that deliver the messages of the outbox.

    :returns: a list of :class:`~canteen_core.ports.backends.MailerBackend` records, each with a
        unique ``name`` (matched against ``[mail] adapter``) and a
        ``factory(settings: MailSettings) -> Mailer`` building the mailer
        (:class:`~canteen_core.ports.mail.Mailer`). The built-ins are
        ``"outbox"`` and ``"smtp"``.

    Firstresult: no; every plugin's records are collected, a duplicate name is an error.

    Example::

        @hookimpl
        def canteen_mailers():
            return [MailerBackend(name="sendgrid", factory=SendgridMailer.from_settings)]
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def canteen_payment_providers() -> list[PaymentProviderBackend]:
    """Offer online or offline payment providers (card, direct debit...).

    :returns: a list of :class:`~canteen_core.ports.backends.PaymentProviderBackend` records,
        each with a unique ``name`` (matched against the deployment's ``[payment.<name>]`` tables)
        and a ``factory(settings: Mapping[str, Any])`` receiving that table. The built-ins
        are ``"payzen"``, ``"payfip"``, ``"sepa"`` and ``"manual"``.

    Firstresult: no; every plugin's records are collected, a duplicate name is an error.

    Example::

        @hookimpl
        def canteen_payment_providers():
            return [PaymentProviderBackend(name="stripe", factory=StripeProvider.from_settings)]
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def canteen_holiday_sources() -> list[HolidaySourceBackend]:
    """Offer sources of school-year facts (holidays, public holidays, bridge days).

    :returns: a list of :class:`~canteen_core.ports.backends.HolidaySourceBackend` records,
        each with a unique ``name`` (matched against ``[calendar] source``) and a
        ``factory(settings: CalendarSettings) -> HolidaySource`` building the source
        (:class:`~canteen_core.ports.calendar.HolidaySource`). The built-in is ``"france"``.

    Firstresult: no; every plugin's records are collected, a duplicate name is an error.

    Example::

        @hookimpl
        def canteen_holiday_sources():
            return [HolidaySourceBackend(name="belgium", factory=BelgianHolidays)]
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def canteen_document_stores() -> list[DocumentStoreBackend]:
    """Offer stores for the bytes of the family's papers (the "Espace de stockage").

    :returns: a list of :class:`~canteen_core.ports.backends.DocumentStoreBackend` records,
        each with a unique ``name`` (matched against ``[documents] store``) and a
        ``factory(settings: DocumentStoreSettings) -> DocumentStore`` building the store
        (:class:`~canteen_core.ports.document_store.DocumentStore`: ``put`` returns a random
        key, ``get``, ``delete``). The built-ins are ``"files"``, ``"database"`` and
        ``"memory"``.

    Firstresult: no; every plugin's records are collected, a duplicate name is an error.

    Example::

        @hookimpl
        def canteen_document_stores():
            return [DocumentStoreBackend(name="s3", factory=S3Store.from_settings)]
    """
    raise NotImplementedError  # pragma: no cover


# -- document hooks (called inside a use case) ---------------------------------------------------


@hookspec
def canteen_render_mandate_authorization(authorization: MandateAuthorization) -> bytes | None:
    """Draw the SEPA direct-debit authorization a family signed, filed in its document space.

    Called by ``canteen.payments`` when a mandate is signed (and again when its account changes
    or it is revoked, the document then says so), before the change is committed.

    :param authorization: a :class:`~canteen_core.domain.mandate_authorization.
        MandateAuthorization`: the creditor and its ICS, the mandate (RUM, debtor, IBAN, BIC,
        payment type, amendment, revocation), the debtor's address, the date and place of
        signature and the SEPA legal mention.
    :returns: the document as PDF bytes, or ``None`` to leave it to another plugin. When no
        plugin draws it (the ``documents`` extra is not installed), the mandate is signed
        without a document. An exception refuses the signature (nothing is stored).

    Firstresult: no; canteen files the first document returned, the plugins registered last
    asked first (so a deployment's plugin overrides the built-in
    ``canteen_adapters.documents.mandate``).

    Example::

        @hookimpl
        def canteen_render_mandate_authorization(authorization):
            return my_letterhead.render_mandate(authorization)
    """
    raise NotImplementedError  # pragma: no cover


# -- event hooks (called after commit) ----------------------------------------------------------


@hookspec
def canteen_reservations_changed(event: ReservationsChanged) -> None:
    """Days were booked or cancelled for one child's enrollment (the change is committed).

    :param event: a :class:`~canteen_core.domain.events.ReservationsChanged` with the household,
        child and enrollment, the acting user, and the days ``booked``, ``cancelled`` and
        ``pending`` (late changes awaiting staff).
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called. An exception is logged and the other
    implementations still run.

    Example::

        @hookimpl
        def canteen_reservations_changed(event):
            kitchen.invalidate_headcount(event.enrollment_id, event.booked + event.cancelled)
    """


@hookspec
def canteen_change_request_decided(event: ChangeRequestDecided) -> None:
    """Staff approved or rejected a late change request (committed).

    :param event: a :class:`~canteen_core.domain.events.ChangeRequestDecided` with the request, the
        household, child and day, ``approved``, the ``reason`` and who decided.
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_change_request_decided(event):
            if not event.approved:
                audit.write("rejected", event.request_id, event.reason)
    """


@hookspec
def canteen_invoice_issued(event: InvoiceIssued) -> None:
    """An invoice was issued to a household (committed, numbered).

    :param event: an :class:`~canteen_core.domain.events.InvoiceIssued` with the invoice id and
        number, the household, the total and the due date.
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_invoice_issued(event):
            accounting_export.append(event.number, event.total)
    """


@hookspec
def canteen_invoice_overdue(event: InvoiceOverdue) -> None:
    """A reminder step became due for an unpaid invoice (committed).

    :param event: an :class:`~canteen_core.domain.events.InvoiceOverdue` with the invoice, the
        household, the balance due, the due date and the reminder ``level`` (1 = first).
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_invoice_overdue(event):
            if event.level >= 2:
                treasury.prepare_title(event.invoice_id)
    """


@hookspec
def canteen_payment_received(event: PaymentReceived) -> None:
    """Money was received from a household and allocated to invoices (committed).

    :param event: a :class:`~canteen_core.domain.events.PaymentReceived` with the payment id, the
        household, the amount, the method (card, direct debit, cash...) and the invoices paid.
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_payment_received(event):
            metrics.increment("payments", method=event.method)
    """


@hookspec
def canteen_direct_debit_announced(event: DirectDebitAnnounced) -> None:
    """A household will be debited: the SEPA pre-notification was prepared (committed).

    :param event: a :class:`~canteen_core.domain.events.DirectDebitAnnounced` with the
        household, the amount, the collection date and the mandate reference.
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_direct_debit_announced(event):
            sms.send(event.household_id, f"Prélèvement le {event.collection_date}")
    """


@hookspec
def canteen_account_invited(event: AccountInvited) -> None:
    """A portal account was created for a guardian and the invitation queued (committed).

    :param event: an :class:`~canteen_core.domain.events.AccountInvited` with the account id, the
        username, the email address and the household. It never carries the password or token.
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_account_invited(event):
            crm.link(event.household_id, event.email)
    """


@hookspec
def canteen_event_committed(event: Event) -> None:
    """Any domain event, after commit: one hook for audit logs, webhooks or message buses.

    Called for every event, after the event's own hook (``canteen_invoice_issued``...), so a
    plugin can observe everything without knowing each event type.

    :param event: the :class:`~canteen_core.domain.events.Event` (any subclass).
    :returns: nothing; the return value is ignored.

    Firstresult: no; every implementation is called, exceptions are logged.

    Example::

        @hookimpl
        def canteen_event_committed(event):
            webhook.post(type(event).__name__, unstructure(event))
    """
