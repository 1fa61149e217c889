"""Templates are compiled once per machine (Jinja's bytecode cache under TEMPLATE_CACHE_DIR) and a web worker has
compiled them all, with the search's dictionaries loaded, before its first request (marketplace/serving.py)."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from marketplace import serving
from marketplace.app import create_app
from marketplace.common.templating import compile_all
from marketplace.config import ROOT

TEMPLATES = ROOT / "templates"


def _app(tmp_path, name: str, folder):
    return create_app(
        {
            "MARKET_ENV": "testing",
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "INSTANCE_DIR": str(tmp_path / name),
            "TEMPLATE_CACHE_DIR": str(folder),
        }
    )


def _names(app) -> set[str]:
    """Every template the app can render: ours (templates/) and those of the libraries' blueprints."""
    names = set(app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".xml"))))
    ours = {
        p.relative_to(TEMPLATES).as_posix()
        for p in TEMPLATES.rglob("*")
        if p.suffix in (".html", ".txt", ".xml")
    }
    assert ours <= names and len(ours) > 100
    return names


def _compiles(app) -> list[str]:
    """The names of the templates the app's environment compiles from source from now on."""
    made: list[str] = []
    compile_source = app.jinja_env.compile

    def counting(source, name=None, filename=None, raw=False, defer_init=False):
        made.append(name)
        return compile_source(source, name, filename, raw, defer_init)

    app.jinja_env.compile = counting
    return made


def test_every_template_is_compiled_once_per_machine_and_read_back_by_the_next_worker(tmp_path):
    folder = tmp_path / "compiled"
    first = _app(tmp_path, "one", folder)
    names = _names(first)
    made = _compiles(first)
    assert compile_all(first) == len(names)
    assert set(made) == names and len(list(folder.glob("*.cache"))) == len(names)

    second = _app(tmp_path, "two", folder)  # another worker (or the same one after a restart)
    made = _compiles(second)
    compile_all(second)
    assert made == []  # every template read from the disk, none compiled again
    assert second.jinja_env.get_template("base.html").render  # usable as compiled

    # A changed template is compiled again: the cache is keyed by the source, not by the name alone.
    changed = _app(tmp_path, "three", folder)
    made = _compiles(changed)
    loader = changed.jinja_loader
    original = loader.get_source

    def edited(environment, template):
        source, filename, uptodate = original(environment, template)
        return (source + "\n{# edited #}" if template == "errors/error.html" else source), filename, uptodate

    loader.get_source = edited
    compile_all(changed)
    assert made == ["errors/error.html"]


def test_a_web_worker_is_ready_before_its_first_request(tmp_path):
    app = _app(tmp_path, "worker", tmp_path / "compiled")
    made = _compiles(app)
    interval = sys.getswitchinterval()
    try:
        serving.post_worker_init(SimpleNamespace(wsgi=app, log=logging.getLogger("test.worker")))
        assert sys.getswitchinterval() == pytest.approx(0.001)  # the GIL handed over every millisecond
        # what the worker loaded (the app, the dictionaries, the templates) is out of the collector's passes
        assert gc.get_freeze_count() > 100_000
        assert len(gc.get_objects(generation=2)) < gc.get_freeze_count() / 10
    finally:
        gc.unfreeze()  # (this test process goes on)
        sys.setswitchinterval(interval)
    assert set(made) == _names(app)
    assert (
        "pypinyin" in sys.modules
    )  # the search's pinyin fallback: loaded now, not during a visitor's search
    made.clear()
    with app.test_request_context("/"):
        app.jinja_env.get_template("agencies/index.html")
    assert made == []  # nothing left to compile on a request


@pytest.mark.parametrize("value", ["fast", "0", "-1", "5"])
def test_a_wrong_switch_interval_stops_gunicorn_with_its_name(value):
    """WORKER_SWITCH_INTERVAL (seconds, above 0 and at most 1): a wrong one is refused when gunicorn reads its
    settings, by name, instead of each worker failing to start."""
    done = subprocess.run(
        [sys.executable, "-c", "import marketplace.serving"],
        env=os.environ | {"WORKER_SWITCH_INTERVAL": value},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"WORKER_SWITCH_INTERVAL: a number of seconds above 0 and at most 1, not {value!r}" in done.stderr
