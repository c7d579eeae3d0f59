"""The HTTP API: an ASGI application over the :class:`~canteen_core.services.Canteen` facade.

Built with Litestar (OpenAPI 3.1 generated from the attrs bodies of
:mod:`canteen_adapters.web.schemas`), served by uvicorn (``canteen serve``)::

    from canteen_adapters.web import create_app
    from canteen_core.services import Canteen

    canteen = Canteen.open("canteen.toml")
    app = create_app(canteen)       # any ASGI server, or mounted in another ASGI app

See the "HTTP API" page of the documentation for authentication, errors, conflicts,
idempotency and the payment providers' callbacks.
"""

from canteen_adapters.web.app import CALLBACK_PATHS, create_app
from canteen_adapters.web.settings import WebSettings

__all__ = ["CALLBACK_PATHS", "WebSettings", "create_app"]
