"""Search pages (being written)."""


def blueprints():
    return []
