"""API resources (to be built)."""


def blueprints() -> list:
    return []
