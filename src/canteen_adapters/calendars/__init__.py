"""Calendars adapters."""
