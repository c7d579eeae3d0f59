"""What the online payment providers share: being made from their deployment settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = ["ConfiguredProvider"]

Settings = TypeVar("Settings")


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
