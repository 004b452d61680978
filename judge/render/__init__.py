"""Report renderers: each ``render(report) -> str``, chosen by ``--format``."""

from . import json, text

FORMATS = {"text": text.render, "json": json.render}

__all__ = ["FORMATS"]
