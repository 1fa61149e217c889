"""WSGI entry point: `flask --app wsgi run`, `gunicorn wsgi:app`."""

from marketplace.app import create_app

app = create_app()
