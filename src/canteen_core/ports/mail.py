"""The mail port: what a mailer must do.

A mailer hands one :class:`~canteen_core.domain.notifications.OutgoingMessage` to a mail system
and returns only when it was accepted, or raises :class:`MailDeliveryError` (``permanent`` for
a refusal the server says retrying will not fix). A mailer that remembers which message ids it
has handed over also implements :class:`DeduplicatingMailer`, and the outbox dispatcher then
never sends a message twice after a crash (see :mod:`canteen_core.domain.outbox`).

These Protocols are defined in :mod:`canteen_core.domain.outbox`, next to the dispatcher that
calls them (the domain imports no port); this module is where a plugin author finds them. A
plugin offers a mailer through the ``canteen_mailers`` hook
(:class:`~canteen_core.ports.backends.MailerBackend`); its factory receives the deployment's
``[mail]`` section (:class:`~canteen_core.ports.settings.MailSettings`).
"""

from __future__ import annotations

from canteen_core.domain.outbox import DeduplicatingMailer, MailDeliveryError, Mailer

__all__ = ["DeduplicatingMailer", "MailDeliveryError", "Mailer"]
