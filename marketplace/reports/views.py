"""Pages (to be built)."""


def blueprints() -> list:
    return []
