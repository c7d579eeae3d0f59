"""What the online payment providers share: being made from their deployment settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

from canteen_core.domain.errors import ConfigurationError

__all__ = ["ConfiguredProvider", "check_known_settings", "setting_error"]

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
