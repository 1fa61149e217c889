"""Pieces of HTML kept per process under everything they show.

A public page repeats the same blocks on every request (an agency's card, a category's table of fee figures):
made through the templates, each costs its translations, filters and url_for calls every time although its
inputs rarely change. `fragment(name, key, make)` keeps the HTML `make()` returned under `key` — which must hold
every value the HTML is made from (plain frozen values read on this request) — plus the language and the
script root. Nothing can go stale: a change of any input is a different key; old keys fall out, least recently
used first. The data is still read on every request; only the rendering of identical data is skipped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup


class Kept:
    """The last `size` fragments made, by their key (least recently used dropped first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.made: OrderedDict[tuple, Markup] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Markup | None:
        with self.lock:
            found = self.made.get(key)
            if found is not None:
                self.made.move_to_end(key)
            return found

    def put(self, key: tuple, html: Markup) -> None:
        with self.lock:
            self.made[key] = html
            while len(self.made) > self.size:
                self.made.popitem(last=False)


def kept(name: str, size: int) -> Kept:
    """The app's store of fragments called `name` (app.extensions["mp_" + name])."""
    found = current_app.extensions.get(f"mp_{name}")
    if found is None:
        found = current_app.extensions.setdefault(f"mp_{name}", Kept(size))
    return found


def fragment(name: str, key: Hashable | None, make: Callable[[], str], size: int = 1024) -> Markup:
    """`make()`'s HTML, kept under (language, script root, key) in the store `name`; made each time and not kept
    when `key` is None (what it shows cannot be named by a value: ORM objects, figures computed and not kept)."""
    if key is None:
        return Markup(make())
    full = (str(get_locale()), request.script_root, key)
    store = kept(name, size)
    html = store.get(full)
    if html is None:
        html = Markup(make())
        store.put(full, html)
    return html
