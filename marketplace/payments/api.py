"""payments api (being built)."""


def blueprints():
    return []
