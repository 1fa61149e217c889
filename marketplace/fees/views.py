"""fees views (being built)."""


def blueprints():
    return []
