"""How the examples of :mod:`.example_values` reach the OpenAPI document.

Litestar builds an operation's success response from the handler's return annotation and has
no argument for its example, so each route's handler gets an ``operation_class`` (the
documented way to adjust what Litestar generates) that writes the examples into the request
body and the success response once Litestar has built them. A value becomes JSON through
Litestar's own encoder, so dates, instants and amounts read exactly as the route writes them.
"""

from __future__ import annotations

import json
import types
from dataclasses import dataclass
from typing import Any, ClassVar, Final, get_args, get_origin

from litestar import Litestar, Response
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
)
from litestar.routes import HTTPRoute
from litestar.serialization import encode_json

from canteen_adapters.web.example_values import (
    BY_OPERATION,
    BY_TYPE,
    FILES,
    PROBLEMS,
    READ_BY_HAND,
    ReadByHand,
    Shown,
)
from canteen_adapters.web.problems import MEDIA_TYPE

__all__ = ["attach_examples", "problem_components"]

#: The name of every example in the document (one per body).
EXAMPLE_ID: Final = "concerto"


@dataclass
class WrittenExample(Example):
    """An example whose value is written whole: Litestar (2.25) drops the ``null`` members of
    an example's value when it writes the document, and the example would then lack fields
    its schema requires (``"email": null``)."""

    def to_schema(self) -> dict[str, Any]:
        """The example as the document writes it, its value untouched."""
        written = super().to_schema()
        written["value"] = self.value
        return written


def as_json(shown: Shown, *, without_nulls: bool = False) -> Example:
    """``shown`` as an OpenAPI example: its value as the API writes it (a file's text as is;
    ``without_nulls``: the members the body leaves out when they are ``null``, as a problem's)."""
    value = shown.value
    written = value if isinstance(value, str) else json.loads(encode_json(value))
    if without_nulls and isinstance(written, dict):
        written = {name: member for name, member in written.items() if member is not None}
    return WrittenExample(summary=shown.summary, value=written)


def _problem_name(status: int) -> str:
    return f"probleme-{status}"


def problem_components() -> Components:
    """The components holding the problems' examples, one per status: every operation's
    problem responses refer to them (written once, not once per route)."""
    return Components(
        examples={
            _problem_name(status): as_json(shown, without_nulls=True)
            for status, shown in PROBLEMS.items()
        }
    )


def _media(content: dict[str, OpenAPIMediaType] | None, shown: Shown | None) -> None:
    if shown is None:
        return
    for media in (content or {}).values():
        media.examples = {EXAMPLE_ID: as_json(shown)}


@dataclass
class ExampleOperation(Operation):
    """An operation that shows :attr:`request` in its request body and :attr:`response` in its
    success response (a subclass per route sets them)."""

    request: ClassVar[Shown | None] = None
    response: ClassVar[Shown | None] = None
    #: The body the route reads itself, which Litestar left out.
    read_by_hand: ClassVar[ReadByHand | None] = None

    def __post_init__(self) -> None:
        body = self.read_by_hand
        if self.request_body is None and body is not None:
            media = OpenAPIMediaType(schema=body.schema, examples={EXAMPLE_ID: as_json(body.shown)})
            self.request_body = RequestBody(content={body.media_type: media}, required=True)
        elif isinstance(self.request_body, RequestBody):
            _media(self.request_body.content, self.request)
        for status, answer in (self.responses or {}).items():
            if not isinstance(answer, OpenAPIResponse):
                continue
            if status.startswith("2"):
                _media(answer.content, self.response)
            elif int(status) in PROBLEMS and answer.content and MEDIA_TYPE in answer.content:
                name = _problem_name(int(status))
                reference = Reference(ref=f"#/components/examples/{name}")
                answer.content[MEDIA_TYPE].examples = {name: reference}


def _shown_for(annotation: Any, media_type: str) -> Shown | None:
    """The example of a body annotated ``annotation`` (``Response[X]``, ``list[X]``, ``X``)."""
    origin = get_origin(annotation)
    if origin is Response or (isinstance(origin, type) and issubclass(origin, Response)):
        (annotation,) = get_args(annotation)
        origin = get_origin(annotation)
    if annotation is bytes:
        return FILES.get(media_type)
    if origin is list:
        item = _shown_for(get_args(annotation)[0], media_type)
        return None if item is None else Shown(item.summary, [item.value])
    return BY_TYPE.get(annotation) if isinstance(annotation, type) else None


def _operation_class(
    request: Shown | None, response: Shown | None, read_by_hand: ReadByHand | None
) -> type[Operation]:
    """An :class:`ExampleOperation` showing ``request`` and ``response`` (and declaring
    ``read_by_hand``)."""

    def fill(namespace: dict[str, Any]) -> None:
        namespace.update(request=request, response=response, read_by_hand=read_by_hand)

    return types.new_class("ExampleOperation", (ExampleOperation,), exec_body=fill)


def _operation_key(route: HTTPRoute, handler: HTTPRouteHandler) -> str:
    (method,) = handler.http_methods
    return f"{method} {route.path_format}"


def attach_examples(app: Litestar) -> None:
    """Give each API route of ``app`` its examples (before its OpenAPI document is built).

    Raises :class:`LookupError` when an entry of ``BY_OPERATION`` or ``READ_BY_HAND`` names no
    route (a route renamed without its examples).
    """
    unused = set(BY_OPERATION) | set(READ_BY_HAND)
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema or "OPTIONS" in handler.http_methods:
                continue
            signature = handler.parsed_fn_signature
            data = signature.parameters.get("data")
            media_type = str(getattr(handler.media_type, "value", handler.media_type))
            request = None if data is None else _shown_for(data.annotation, media_type)
            response = _shown_for(signature.return_type.annotation, media_type)
            key = _operation_key(route, handler)
            if key in BY_OPERATION:
                request = BY_OPERATION[key][0] or request
                response = BY_OPERATION[key][1] or response
            unused.discard(key)
            handler.operation_class = _operation_class(request, response, READ_BY_HAND.get(key))
    if unused:
        raise LookupError(f"examples for operations that do not exist: {sorted(unused)}")
