"""pytest plugin (stub until built)."""
