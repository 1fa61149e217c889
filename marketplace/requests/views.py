"""HTML pages (being written)."""


def blueprints():
    return []
