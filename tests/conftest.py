"""Test configuration: Hypothesis profiles and the PostgreSQL switch."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["canteen_core.testing"]

# "ci" runs more examples, with no deadline (a shared 2-core machine has noisy timings).
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")
