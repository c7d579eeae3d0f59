"""Emails to families: domain events and account actions rendered from Jinja2 templates.

:class:`Notifier` turns an :class:`~canteen_core.domain.accounts.Invitation`, a
:class:`~canteen_core.domain.accounts.PasswordReset` or a domain event
(:mod:`canteen_core.domain.events`) into :class:`OutgoingMessage` records, in French, each with a
plain-text and an HTML part. The caller adds them to the outbox
(:mod:`canteen_core.domain.outbox`) in the same transaction as the change that caused them.

Templates
---------
Each kind of message has three templates in ``canteen_core/templates/mail/``:
``<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html`` (HTML is autoescaped; the text
parts are not). HTML parts extend ``_layout.html``; text parts include ``_signature.txt``.
A deployment overrides any of them by putting a file with the same name in
:attr:`NotificationSettings.template_dir`, searched first. Undefined variables are errors,
so a broken override fails when rendered, not silently.

Every template sees ``recipient`` (``name``, ``address``), ``settings`` (``organisation``,
``signature``, ``portal_url``, ``contact``) and ``signature``; the kind-specific variables are
listed in :data:`KINDS`. Filters: ``money`` (``13,40 €``), ``date_fr`` (``21 août 2023``),
``weekday_fr`` (``lundi 21 août 2023``), ``datetime_fr`` (``21 août 2023 à 9 h 00``).

Message ids are derived from what the message is about (kind, event key, recipient), so
rendering the same event twice gives the same id and the outbox stores it once.

Invoice emails go out by thousands after a billing run: with the package's own templates
(none overridden), they are rendered once per shape of their context (label, dates, whether
the recipient has a name) with stand-ins for the number, total, name and address, which are
then filled in per message (escaped in the HTML part). The text is the same as a full
rendering; a deployment that overrides a template gets every message rendered in full. A
billing run does not even render them: it queues them unrendered (``deferred=True``) and the
outbox dispatcher renders each one at the send (:meth:`Notifier.render_deferred`).

The rooms of this package:

* :mod:`~canteen_core.domain.notifications.messages`: the message kinds, :class:`Recipient`,
  :class:`OutgoingMessage`, :class:`NotificationSettings`;
* :mod:`~canteen_core.domain.notifications.filters`: the template filters and the stencils of
  invoice emails;
* :mod:`~canteen_core.domain.notifications.rendering`: the template machinery (environment,
  rendering in full or through a stencil) that :class:`Notifier` builds on;
* :mod:`~canteen_core.domain.notifications.notifier`: :class:`Notifier`, one method per kind of
  message, for events and account actions;
* :mod:`~canteen_core.domain.notifications.deferred`: messages queued unrendered, rendered
  at the send.

Every name below is importable from ``canteen_core.domain.notifications`` itself.
"""

from canteen_core.domain.notifications.messages import (
    KINDS,
    PAYMENT_METHOD_LABELS,
    Attachment,
    NotificationSettings,
    OutgoingMessage,
    Recipient,
    message_id_for,
)
from canteen_core.domain.notifications.notifier import Notifier, SecretSealer, secret_placeholder

__all__ = [
    "KINDS",
    "PAYMENT_METHOD_LABELS",
    "Attachment",
    "NotificationSettings",
    "Notifier",
    "OutgoingMessage",
    "Recipient",
    "SecretSealer",
    "message_id_for",
    "secret_placeholder",
]
