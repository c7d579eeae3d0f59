"""canteen's adapters: storage, mail, payment, calendar data, documents and the CLI.

Each adapter module is a pluggy plugin registered through
:data:`canteen_core.config.plugins.DEFAULT_PLUGINS`, exactly like a third-party plugin would be.
"""
