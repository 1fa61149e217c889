"""Small rules everything else relies on: credit codes, money, config, uploads."""

import io

import pytest
from flask_babel import force_locale

from marketplace.common import uscc
from marketplace.common.money import format_fen, yuan_to_fen
from marketplace.config import load_config
from marketplace.extensions import db


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_real_credit_codes_pass(code):
    assert uscc.is_valid(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "18"),
        ("91350100M000100Y433", "18"),
        ("91350100M000100Y44", "check digit"),
        ("91350100M0001O0Y43", "characters"),  # letter O is not allowed
        ("9135010AM000100Y43", "administrative division"),
        ("91350100M000100Y4!", "characters"),
    ],
)
def test_wrong_credit_codes_say_why(app, code, reason):
    with app.test_request_context(), force_locale("en"):
        problem = uscc.uscc_error(code)
        assert problem is not None and reason in str(problem)


def test_made_codes_are_valid_and_lowercase_is_normalised():
    code = uscc.make("91", "320500", "MA1XYW7Q0")
    assert uscc.is_valid(code) and uscc.is_valid(code.lower())


def test_money_is_fen_shown_as_yuan():
    assert format_fen(123456) == "¥1,234.56"
    assert format_fen(5) == "¥0.05"
    assert yuan_to_fen("1,200.5") == 120050
    assert yuan_to_fen("¥30") == 3000
    for bad in ("12.345", "abc", "NaN", "1e400"):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)


def test_missing_secret_key_outside_development_is_an_error(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config({"MARKET_ENV": "production", "INSTANCE_DIR": str(tmp_path)})
    dev = load_config({"MARKET_ENV": "development", "INSTANCE_DIR": str(tmp_path)})
    assert len(dev["SECRET_KEY"]) >= 32
    assert (
        load_config({"MARKET_ENV": "development", "INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
        == dev["SECRET_KEY"]
    )


def test_gunicorn_defaults_to_production(monkeypatch):
    from marketplace.config import app_env

    monkeypatch.delenv("MARKET_ENV", raising=False)
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert app_env() == "production"


def test_make_serve_runs_sync_workers_two_per_core_and_one(tmp_path):
    """`make serve` starts gunicorn's sync workers (one thread each), 2 × cores + 1 but at most 9 — gunicorn's
    defaults from marketplace/serving.py, as gunicorn itself resolves them (README, Production: threads of one
    worker queue behind each other's GIL; each worker holds ~270 MB); WORKERS and THREADS still choose."""
    import os
    import re
    import shlex
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    # not the settings of a `make test` this runs under (its MAKEFLAGS would pass its command-line variables on)
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "WORKERS", "THREADS", "WEB_CONCURRENCY"}
    }

    def resolved(*assignments: str) -> dict[str, str]:
        """gunicorn's settings for the command `make serve` runs (`make -n`: printed, not run)."""
        dry = subprocess.run(
            ["make", "-n", "serve", *assignments],
            cwd=root, env=clean | {"SECRET_KEY": "x"}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        line = next(
            line for line in dry.stdout.splitlines() if "gunicorn -c python:marketplace.serving" in line
        )
        command = shlex.split(line)
        command = command[next(i for i, word in enumerate(command) if word.endswith("/gunicorn")) :]
        shown = subprocess.run(
            [*command[:-1], "--print-config", command[-1]],
            cwd=root, env=clean, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return dict(re.findall(r"^(\w+) += (.*)$", shown.stdout, re.M))

    cores = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    settings = resolved()
    assert (settings["workers"], settings["threads"], settings["worker_class"]) == (
        str(min(2 * cores + 1, 9)),
        "1",
        "sync",
    )
    chosen = resolved("WORKERS=3", "THREADS=2")
    assert (chosen["workers"], chosen["threads"]) == ("3", "2")


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MARKET_MIN_BIDS", "5")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    config = load_config({"MARKET_ENV": "testing", "INSTANCE_DIR": str(tmp_path)})
    assert config["MARKET_MIN_BIDS"] == 5
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("MARKET_MIN_BIDS", "many")
    with pytest.raises(RuntimeError, match="MARKET_MIN_BIDS"):
        load_config({"MARKET_ENV": "testing", "INSTANCE_DIR": str(tmp_path)})


def test_uploads_are_checked_by_content_and_size(app):
    from marketplace.common import uploads
    from marketplace.common.errors import Invalid
    from tests.factories import PDF, PNG

    with app.test_request_context():
        assert uploads.check_upload(PDF) == "application/pdf"
        assert uploads.check_upload(PNG) == "image/png"
        with pytest.raises(Invalid):
            uploads.check_upload(b"MZ\x90\x00 this is an exe renamed to scan.pdf")
        with pytest.raises(Invalid):
            uploads.check_upload(b"")
        with pytest.raises(Invalid):
            uploads.check_upload(PDF + b"0" * app.config["MAX_UPLOAD_BYTES"])
        stored = uploads.save_upload(io.BytesIO(PDF), "../../etc/passwd.pdf", "qualifications")
        db.session.commit()  # a stored file takes its name when its transaction commits
        path = uploads.upload_path("qualifications", stored.key)
        assert path.read_bytes() == PDF and stored.name == "passwd.pdf"
        assert "static" not in str(path)
        with pytest.raises(ValueError):
            uploads.upload_path("qualifications", "../secret_key")


def test_searches_reopen_the_index_at_most_every_ten_seconds_in_production(monkeypatch, tmp_path):
    """Under load a 1-second refresh kept a twentieth of the workers' time opening searchers (README, load test)."""
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("SEARCH_REFRESH_SECONDS", raising=False)
    seconds = {
        env: load_config({"MARKET_ENV": env, "INSTANCE_DIR": str(tmp_path)})["SEARCH_REFRESH_SECONDS"]
        for env in ("production", "development", "testing")
    }
    assert seconds == {"production": 10.0, "development": 1.0, "testing": 0.0}
    monkeypatch.setenv("SEARCH_REFRESH_SECONDS", "2.5")
    assert (
        load_config({"MARKET_ENV": "production", "INSTANCE_DIR": str(tmp_path)})["SEARCH_REFRESH_SECONDS"]
        == 2.5
    )
