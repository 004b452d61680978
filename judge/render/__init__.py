"""Report renderers: each ``render(report) -> str``, chosen by ``--format``."""

from . import classroom, gradescope, json, junit, prairielearn, text

FORMATS = {
    "text": text.render,
    "json": json.render,
    "junit": junit.render,
    "gradescope": gradescope.render,
    "classroom": classroom.render,
    "prairielearn": prairielearn.render,
}

__all__ = ["FORMATS"]
