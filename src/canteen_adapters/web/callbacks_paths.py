"""The stable URLs the payment providers call (configure them in their back offices)."""

from __future__ import annotations

__all__ = ["PROVIDERS", "notification_path"]

#: Provider name -> path of its server-to-server notification.
PROVIDERS = {
    "payzen": "/api/v1/callbacks/payzen/ipn",
    "payfip": "/api/v1/callbacks/payfip/notification",
}


def notification_path(provider: str) -> str:
    """The notification path of ``provider`` (a generic one for others)."""
    return PROVIDERS.get(provider, f"/api/v1/callbacks/{provider}/notification")
