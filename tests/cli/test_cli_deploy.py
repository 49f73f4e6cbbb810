"""The pieces of ``lambdamaker functions deploy`` that need no server: packaging, handler
checks, environment merging, endpoint and key discovery."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

from lambdamaker.cli.connection import connect
from lambdamaker.cli.deploy import environment_with, handler_module_missing, zip_directory


def make_tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("def handler(event, context):\n    return event\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (root / "pkg" / "mod.pyc").write_bytes(b"junk")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")


def test_package_holds_relative_paths_without_caches_or_vcs(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    with zipfile.ZipFile(io.BytesIO(zip_directory(tmp_path / "src"))) as zf:
        assert zf.namelist() == ["app.py", "run.sh", "pkg/__init__.py", "pkg/mod.py"]
        mode = zf.getinfo("run.sh").external_attr >> 16
        assert stat.S_IMODE(mode) == 0o755
        assert zf.read("app.py").startswith(b"def handler")


def test_package_is_deterministic_so_unchanged_code_keeps_its_hash(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    first = zip_directory(tmp_path / "src")
    (tmp_path / "src" / "app.py").touch()  # a new mtime changes nothing
    assert zip_directory(tmp_path / "src") == first


def test_handler_module_lookup(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert not handler_module_missing(tmp_path, "app.handler")
    assert not handler_module_missing(tmp_path, "pkg.mod.fn")
    assert not handler_module_missing(tmp_path, "pkg/mod.fn")
    assert handler_module_missing(tmp_path, "nope.handler")
    assert handler_module_missing(tmp_path, "handler")


def test_environment_merges_updates_and_preload() -> None:
    current = {"A": "1", "LAMBDAMAKER_PRELOAD": "numpy"}
    assert environment_with(current, {"B": "2"}, None) == {
        "A": "1",
        "B": "2",
        "LAMBDAMAKER_PRELOAD": "numpy",
    }
    assert environment_with(current, {}, ["numpy", "pandas"])["LAMBDAMAKER_PRELOAD"] == (
        "numpy,pandas"
    )
    assert environment_with(current, {}, []) == {"A": "1"}


def test_connection_comes_from_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text(json.dumps({"endpoint": "http://127.0.0.1:5555"}))
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n"
    )
    conn = connect(None, tmp_path)
    assert (conn.endpoint_url, conn.access_key, conn.secret_key) == (
        "http://127.0.0.1:5555",
        "AKIAEXAMPLE",
        "secret",
    )
    assert connect("http://elsewhere:1", tmp_path).endpoint_url == "http://elsewhere:1"
    empty = connect(None, tmp_path / "missing")
    assert empty.endpoint_url == "http://127.0.0.1:4599"
    assert empty.access_key is None
