"""Payment adapters."""
