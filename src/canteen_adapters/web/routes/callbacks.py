"""The payment providers' server-to-server notifications (PayZen IPN, PayFiP).

They carry no session and no CSRF token: the provider signs them, and the payment adapter
checks the signature before anything is credited (a bad signature is 400, only audited).
PayFiP also sends the payer's browser back to its ``urlcl`` (a GET): that return is sent on to
the page showing where the payment stands, and credits nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from canteen_adapters.web.callbacks_paths import PROVIDERS
from canteen_adapters.web.context import Web
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.schemas import NotificationOut

__all__ = ["HANDLERS", "PATHS", "RETURN_PAGE"]

TAGS = ["Rappels des prestataires"]
PATHS = tuple(PROVIDERS.values())
#: The page the payer's browser is sent to when back from PayFiP.
RETURN_PAGE = "/paiement/retour/payfip"


def _handle(web: Web, provider: str, fields: dict[str, str]) -> NotificationOut:
    if provider not in web.canteen.deployment.payment:
        raise Problem(
            404,
            "provider-not-configured",
            "Prestataire non configuré",
            "Ce service de paiement n'est pas configuré sur ce portail.",
        )
    result = web.canteen.payments.handle_notification(provider, fields)
    return NotificationOut(
        decision=result.decision,
        reason=result.reason,
        transaction_id=result.transaction_id,
        credited=result.credited,
    )


@post(PROVIDERS["payzen"], tags=TAGS, status_code=HTTP_200_OK, sync_to_thread=True)
def payzen_ipn(
    request: Request[Any, Any, Any], web: Web, data: URLEncodedBody[dict[str, str]]
) -> NotificationOut:
    """PayZen's instant payment notification (IPN), form-encoded and signed with the shop
    key. Configure this URL as the shop's IPN URL; PayZen retries are recognised (no double
    credit)."""
    return _handle(web, "payzen", data)


class PayFiPController(Controller):
    """PayFiP's ``urlcl``: the DGFiP's server posts the result there, and the payer's browser
    comes back to it."""

    path = PROVIDERS["payfip"]
    tags = TAGS

    @post(status_code=HTTP_200_OK, sync_to_thread=True)
    def payfip_notification(
        self, request: Request[Any, Any, Any], web: Web, data: URLEncodedBody[dict[str, str]]
    ) -> NotificationOut:
        """PayFiP's notification (the ``urlcl`` of the payment), form-encoded."""
        return _handle(web, "payfip", data)

    @get(sync_to_thread=False)
    def payfip_return(
        self,
        refdet: FromQuery[str] = "",
        resultrans: FromQuery[str] = "",
    ) -> Response[None]:
        """The payer's browser back from PayFiP: sent (303) to the page that shows where the
        payment stands. Nothing is credited here (PayFiP results are not signed)."""
        query = urlencode({"refdet": refdet[:64], "resultrans": resultrans[:4]})
        return Response(
            None, status_code=HTTP_303_SEE_OTHER, headers={"Location": f"{RETURN_PAGE}?{query}"}
        )


HANDLERS: list[Any] = [payzen_ipn, PayFiPController]
