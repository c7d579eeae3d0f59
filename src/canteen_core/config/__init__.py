"""Configuration: the deployment file, the plugin manager, the hook specifications, serialization.

* :mod:`~canteen_core.config.deployment`: a deployment's TOML file (which adapters, which settings).
* :mod:`~canteen_core.config.plugins`: building the pluggy manager and finding adapters by name.
* :mod:`~canteen_core.config.hookspecs`: every hook canteen calls (the plugin author's reference).
* :mod:`~canteen_core.config.serialization`: the one cattrs converter for every domain type.

This layer sits above :mod:`canteen_core.domain` and :mod:`canteen_core.ports` and below
:mod:`canteen_core.services`.
"""
