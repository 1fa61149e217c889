"""payments views (being built)."""


def blueprints():
    return []
