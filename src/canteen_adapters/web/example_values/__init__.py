"""The values the OpenAPI document shows: the CONCERTO family's 2023-2024 school year at Ronde,
as the demo (``canteen demo``) writes it, in the API's own bodies.

Each value is an instance of the body class the route reads or answers (or a list of them), so
an example cannot name a field the body lacks or miss one it requires. Where a route builds its
body from domain objects with a converter of its own, so do the examples: the household, its
late request, its mandate and its paperless choice are domain objects put through
``household_out``, ``request_out``, ``mandate_out`` and ``paperless_out``; a submission's
summary comes from ``summary_fr`` and every amount from ``convert.money``.
:mod:`canteen_adapters.web.examples` turns them into JSON with Litestar's encoder and puts them
in the document.

``family`` holds the family's side, ``office`` the commune's, ``tables`` what the document
reads: ``BY_TYPE`` the example of a body class wherever a route reads or answers it,
``BY_OPERATION`` the examples one operation shows instead (its French message, a preview's
summary), ``FILES`` the beginning of a downloaded file by media type, ``PROBLEMS`` one problem
per status, ``READ_BY_HAND`` the request bodies the routes read themselves (a form with a
file, an XML file) with their schemas.
"""

from __future__ import annotations

from canteen_adapters.web.example_values._base import ReadByHand, Shown
from canteen_adapters.web.example_values.tables import (
    BY_OPERATION,
    BY_TYPE,
    FILES,
    PROBLEMS,
    READ_BY_HAND,
)

__all__ = ["BY_OPERATION", "BY_TYPE", "FILES", "PROBLEMS", "READ_BY_HAND", "ReadByHand", "Shown"]
