"""Listeners to the market's domain events (to be built)."""


def connect() -> None:
    pass
