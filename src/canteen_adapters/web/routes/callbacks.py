"""The payment providers' server-to-server notifications (PayZen IPN, PayFiP).

They carry no session and no CSRF token: the provider signs them, and the payment adapter
checks the signature before anything is credited (a bad signature is 400, only audited).
"""

from __future__ import annotations

from litestar.params import URLEncodedBody

from canteen_adapters.web.callbacks_paths import PROVIDERS
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import body
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.routes._actions import action
from canteen_adapters.web.schemas import NotificationOut

__all__ = ["HANDLERS", "PATHS"]

TAGS = ["Rappels des prestataires"]
PATHS = tuple(PROVIDERS.values())


def _handle(web: Web, provider: str, fields: dict[str, str]) -> NotificationOut:
    if provider not in web.canteen.deployment.payment:
        raise Problem(
            404,
            "provider-not-configured",
            "Prestataire non configuré",
            "Ce service de paiement n'est pas configuré sur ce portail.",
        )
    result = web.canteen.payments.handle_notification(provider, fields)
    # The reason is French, on one line.
    return body(NotificationOut, result, reason=" ".join(result.reason.split()))


@action(PROVIDERS["payzen"], tags=TAGS)
def payzen_ipn(
    request: AnyRequest, web: Web, data: URLEncodedBody[dict[str, str]]
) -> NotificationOut:
    """PayZen's instant payment notification (IPN), form-encoded and signed with the shop
    key. Configure this URL as the shop's IPN URL; PayZen retries are recognised (no double
    credit)."""
    return _handle(web, "payzen", data)


@action(PROVIDERS["payfip"], tags=TAGS)
def payfip_notification(
    request: AnyRequest, web: Web, data: URLEncodedBody[dict[str, str]]
) -> NotificationOut:
    """PayFiP's notification (the ``urlnotif`` of the payment), form-encoded."""
    return _handle(web, "payfip", data)


HANDLERS = [payzen_ipn, payfip_notification]
