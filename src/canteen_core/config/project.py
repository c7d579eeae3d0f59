"""The project's name, shared by the hook markers and the plugin manager (tox's shape).

:mod:`canteen_core.config.hookspecs` and :mod:`canteen_core.config.plugins` both import this
module and never each other, so there is no import cycle between the specification and the
manager that loads it.
"""

from __future__ import annotations

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME"]

#: The pluggy project name: the ``@hookimpl``/``@hookspec`` markers carry it.
PROJECT_NAME = "canteen"

#: The entry-point group plugins (built-in and third-party) declare themselves in.
ENTRY_POINT_GROUP = PROJECT_NAME
