"""canteen's adapters: storage, mail, payment, calendar data, documents and the CLI.

Each adapter module is a pluggy plugin declared in canteen's ``pyproject.toml`` under
``[project.entry-points.canteen]``, exactly like a third-party plugin is; the core names none of
them. Adapters implement the ports of :mod:`canteen_core.ports` and never the reverse.
"""
