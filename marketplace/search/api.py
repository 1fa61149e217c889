"""Search API (being written)."""


def blueprints():
    return []
