"""Rapport's version: the one place it is written (pyproject.toml reads it from here, the
window, ``--version``, About and the bundle show it)."""

VERSION = "0.1.0"
