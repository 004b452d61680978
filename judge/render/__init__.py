"""Report renderers: each ``render(report) -> str``, chosen by ``--format``."""

from . import gradescope, json, junit, text

FORMATS = {
    "text": text.render,
    "json": json.render,
    "junit": junit.render,
    "gradescope": gradescope.render,
}

__all__ = ["FORMATS"]
