"""Migration scripts, oldest first (revision ids are 4-digit numbers)."""
