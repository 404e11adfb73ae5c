"""The central sync server: ``python -m sync.server --help``."""
