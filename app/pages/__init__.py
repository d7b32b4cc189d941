"""Dashboard pages, one file each (layout only)."""
