"""flask search … (being written)."""

from flask.cli import AppGroup

search = AppGroup("search", help="The full-text index.")
