"""JSON API (being written)."""


def blueprints():
    return []
