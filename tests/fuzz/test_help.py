"""``help(Canteen)`` lists the facade's namespaces and their methods (#21, #22): what the fuzz suite
calls is what a portal developer reads about."""

from __future__ import annotations

import pydoc
import typing

from canteen_core.services import Canteen
from canteen_core.services.runner import ServiceBase

from ._facade import facade_methods


def test_help_lists_every_namespace_and_method() -> None:
    text = pydoc.render_doc(Canteen, renderer=pydoc.plaintext)
    with Canteen.in_memory() as canteen:
        attached = {name for name, value in vars(canteen).items() if isinstance(value, ServiceBase)}
        declared = {
            name
            for name, kind in typing.get_type_hints(Canteen).items()
            if isinstance(kind, type) and issubclass(kind, ServiceBase)
        }
        # A namespace attached in __init__ must be declared in the class body to be listed.
        assert attached == declared
        for namespace in attached:
            assert f"``canteen.{namespace}``" in (Canteen.__doc__ or ""), namespace
            kind = type(getattr(canteen, namespace))
            assert (kind.__doc__ or "").strip(), f"{kind.__name__} has no docstring"
            assert f"canteen.{namespace} ({kind.__name__}):" in text
        for qualified in facade_methods(canteen):
            namespace, method = qualified.split(".")
            section = text[text.index(f"canteen.{namespace} (") :]
            assert f"    {method}" in section, qualified
