"""The template machinery of mail: :class:`MailRenderer` renders a kind's three templates for a
recipient, in full or through a stencil of the shape for kinds sent in bulk.

:class:`~canteen_core.domain.notifications.notifier.Notifier` builds on it with one method per
message kind (see :mod:`canteen_core.domain.notifications`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import jinja2
import markupsafe

from canteen_core.domain.clock import Clock
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.money import Money
from canteen_core.domain.notifications.filters import (
    _date_fr,
    _datetime_fr,
    _money_or_slot,
    _printed,
    _single_line,
    _Slot,
    _Stencil,
    _weekday_fr,
)
from canteen_core.domain.notifications.messages import (
    NotificationSettings,
    OutgoingMessage,
    Recipient,
    _standard_message,
)


class MailRenderer:
    """Renders messages from templates (package templates, overridden per deployment)."""

    def __init__(
        self,
        settings: NotificationSettings,
        *,
        clock: Clock,
    ) -> None:
        if not isinstance(settings, NotificationSettings):
            raise ConfigurationError("expected NotificationSettings", path="settings")
        self.settings = settings
        self.clock = clock
        loaders: list[jinja2.BaseLoader] = []
        if settings.template_dir is not None:
            if not settings.template_dir.is_dir():
                raise ConfigurationError(
                    f"template directory {str(settings.template_dir)!r} does not exist",
                    path="template_dir",
                )
            loaders.append(jinja2.FileSystemLoader(settings.template_dir))
        loaders.append(jinja2.PackageLoader("canteen_core", "templates/mail"))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters.update(
            money=_money_or_slot,
            date_fr=_date_fr,
            weekday_fr=_weekday_fr,
            datetime_fr=_datetime_fr,
        )
        # Stencils (a kind rendered once per shape, values filled in per message) are only
        # used with the package's own templates, whose use of each value is known and tested.
        package = jinja2.PackageLoader("canteen_core", "templates/mail")
        self._stencils_allowed = settings.template_dir is None or not any(
            (settings.template_dir / name).exists() for name in package.list_templates()
        )
        self._stencils: dict[tuple[Any, ...], _Stencil | None] = {}
        self._stencils_lock = threading.Lock()

    # -- generic ---------------------------------------------------------------------------

    def render(
        self,
        kind: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        *,
        key: str,
        household_id: str | None = None,
        account_id: str | None = None,
    ) -> OutgoingMessage:
        """Render the three templates of ``kind`` for ``recipient``.

        ``key`` identifies what the message is about (an invoice id, an event...): with the
        kind and the address it makes the message id. Plugins may render their own kinds.
        """
        if not isinstance(recipient, Recipient):
            raise InvalidInputError("expected a Recipient", path="recipient")
        variables = {
            "recipient": recipient,
            "settings": self.settings,
            "signature": self.settings.signature_text,
            **context,
        }
        try:
            subject = self.environment.get_template(f"{kind}.subject.txt").render(variables)
            text = self.environment.get_template(f"{kind}.txt").render(variables)
            html = self.environment.get_template(f"{kind}.html").render(variables)
        except jinja2.TemplateNotFound as error:
            raise ConfigurationError(
                f"no mail template {error.name!r} for kind {kind!r}", path="template_dir"
            ) from None
        except jinja2.TemplateError as error:
            raise ConfigurationError(
                f"mail template for {kind!r} failed: {error}", path="template_dir"
            ) from None
        return _standard_message(
            kind,
            recipient,
            key=key,
            subject=_single_line(subject),
            text_body=text,
            html_body=html,
            created_at=self.clock.now(),
            household_id=household_id,
            trusted=False,
            account_id=account_id,
        )

    def _each(
        self,
        kind: str,
        recipients: Sequence[Recipient],
        context: Mapping[str, Any],
        *,
        key: str,
        household_id: str | None,
        varying: Mapping[str, str | Money] | None = None,
    ) -> list[OutgoingMessage]:
        """Render ``kind`` for each distinct recipient address.

        ``varying``: the context values that change from one message to the next (invoice
        number, total), for kinds sent in bulk: the templates are then rendered once per
        shape of the rest of the context and these values filled in (:meth:`_stenciled`).
        """
        if isinstance(recipients, Recipient):
            recipients = [recipients]
        seen: set[str] = set()
        messages = []
        for recipient in recipients:
            if recipient.address.lower() in seen:  # payer and co-representative may share one
                continue
            seen.add(recipient.address.lower())
            message = None
            if varying is not None and self._stencils_allowed:
                message = self._stenciled(
                    kind, recipient, context, varying, key=key, household_id=household_id
                )
            if message is None:
                full = {**context, **(varying or {})}
                message = self.render(kind, recipient, full, key=key, household_id=household_id)
            messages.append(message)
        return messages

    def _stenciled(
        self,
        kind: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        varying: Mapping[str, str | Money],
        *,
        key: str,
        household_id: str | None,
    ) -> OutgoingMessage | None:
        """:meth:`render` through a stencil of the shape, or ``None`` when the shape has none.

        The recipient's name and address and the ``varying`` values are the holes; a name
        that is empty stays in the shape (templates test it). A stencil is kept only if two
        renderings with different stand-ins agree everywhere but in the holes.
        """
        name = recipient.name
        shape = (kind, tuple(sorted(context.items())), tuple(sorted(varying)), bool(name) or name)
        try:
            hash(shape)
        except TypeError:
            return None
        try:
            stencil = self._stencils[shape]
        except KeyError:
            stencil = self._make_stencil(kind, context, varying, bool(name), name)
            with self._stencils_lock:  # a notifier may serve several threads
                if len(self._stencils) >= 64:
                    self._stencils.pop(next(iter(self._stencils)))
                self._stencils[shape] = stencil
        if stencil is None:
            return None
        plain = {slot: _printed(value) for slot, value in varying.items()}
        plain["address"] = recipient.address
        if name:
            plain["name"] = name
        escaped = {slot: str(markupsafe.escape(value)) for slot, value in plain.items()}
        subject = _single_line(_Stencil.fill(stencil.subject, plain))
        text = _Stencil.fill(stencil.text, plain)
        created = self.clock.now()
        # The stencil's kind rendered into a valid message (its id, kind and headers were
        # checked then), a Recipient's address is normalized and its name single line, the
        # subject is one non-empty line, the text not blank, the instant aware: what
        # OutgoingMessage checks holds (compared by tests).
        trusted = (
            type(recipient) is Recipient
            and bool(subject)
            and bool(text.strip())
            and isinstance(created, datetime)
            and created.utcoffset() is not None
        )
        return _standard_message(
            kind,
            recipient,
            key=key,
            subject=subject,
            text_body=text,
            html_body=_Stencil.fill(stencil.html, escaped),
            created_at=created,
            household_id=household_id,
            trusted=trusted,
        )

    def _make_stencil(
        self,
        kind: str,
        context: Mapping[str, Any],
        varying: Mapping[str, str | Money],
        named: bool,
        name: str | None,
    ) -> _Stencil | None:
        slots = [*varying, "address", *(["name"] if named else [])]
        renderings = []
        for tag in ("q", "zz"):  # stand-ins of different lengths and letters
            tokens = {slot: f"{tag}{uuid.uuid4().hex}{tag}" for slot in slots}
            recipient = Recipient(
                address=f"{tokens['address']}@stencil.invalid",
                name=tokens["name"] if named else name,
            )
            tokens["address"] = recipient.address
            values = {slot: _Slot(tokens[slot]) for slot in varying}
            try:
                message = self.render(kind, recipient, {**context, **values}, key="stencil")
            except (ConfigurationError, InvalidInputError):
                return None
            assert message.html_body is not None
            renderings.append(
                (
                    tokens,
                    _Stencil(
                        subject=_Stencil.split(message.subject, tokens),
                        text=_Stencil.split(message.text_body, tokens),
                        html=_Stencil.split(message.html_body, tokens),
                    ),
                )
            )
        (_, first), (_, second) = renderings
        return first if first == second else None
