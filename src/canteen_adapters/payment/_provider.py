"""What the online payment providers share: being made from their deployment settings, and
reading the fields of their notifications."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

from canteen_core.domain.errors import ConfigurationError, InvalidInputError

__all__ = ["ConfiguredProvider", "NotificationFields", "check_known_settings", "setting_error"]

Settings = TypeVar("Settings")
_NOTHING: Final = object()


def setting_error(
    section: str, name: str, expected: str, value: object = _NOTHING
) -> ConfigurationError:
    """``[payment.payzen] mode doit valoir TEST ou PRODUCTION (reçu « LIVE »)``: a setting's
    error in one French line that names it, since the command line shows the message alone."""
    received = "" if value is _NOTHING else f" (reçu « {value} »)"
    return ConfigurationError(f"[{section}] {name} {expected}{received}", path=name)


def check_known_settings(
    section: str, settings: Mapping[str, object], known: Iterable[str]
) -> None:
    """Refuse the keys of ``[section]`` that are not in ``known``, listing the possible ones."""
    possible = sorted(known)
    unknown = sorted(set(settings) - set(possible))
    if unknown:
        raise ConfigurationError(
            f"[{section}] réglages inconnus : {', '.join(unknown)}"
            f" (possibles : {', '.join(possible)})",
            path=section,
        )


class ConfiguredProvider(Generic[Settings]):
    """An :class:`~canteen_core.ports.online_payment.OnlinePaymentProvider` holding its checked
    ``settings`` (its ``repr`` shows them), made by :meth:`from_settings`."""

    #: The settings class; its ``from_mapping`` reads and checks the deployment table.
    settings_type: ClassVar[Any]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """The factory the plugin system calls with the ``[payment.<name>]`` table."""
        return cls(cls.settings_type.from_mapping(settings))


class NotificationFields(dict[str, str]):
    """A provider's notification as text fields, which names the notification in its errors
    (``where``: ``la notification PayZen``, ``le résultat PayFiP``)."""

    def __init__(self, fields: object, where: str, *, strip: bool = False) -> None:
        """Read ``fields`` (values stripped with ``strip``); an :class:`InvalidInputError` when
        they are not a mapping."""
        if not isinstance(fields, Mapping):
            raise InvalidInputError("notification fields must be a mapping", path="fields")
        super().__init__(
            (str(name), str(value).strip() if strip else str(value))
            for name, value in fields.items()
        )
        self.where = where

    def required(self, name: str) -> str:
        """The non-empty field ``name``; else ``<name> manque dans <where>``."""
        value = self.get(name, "")
        if not value:
            raise InvalidInputError(f"{name} manque dans {self.where}", path=name)
        return value

    def cents(self, name: str, *, digits: int) -> Decimal:
        """The required amount ``name``, written in cents with at most ``digits`` digits, in
        units (``"1250"`` -> ``Decimal("12.5")``)."""
        cents = self.required(name)
        if not re.fullmatch(rf"[0-9]{{1,{digits}}}", cents):
            raise InvalidInputError(f"montant en centimes attendu, reçu « {cents} »", path=name)
        return Decimal(cents) / 100
