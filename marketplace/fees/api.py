"""fees api (being built)."""


def blueprints():
    return []
