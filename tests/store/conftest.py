"""Store fixtures beyond the shared ``store_url``/``store`` of ``tests/conftest.py``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import lambdamaker


@pytest.fixture()
def child_env() -> dict[str, str]:
    """The environment of a child Python (crash tests) that imports this checkout's lambdamaker."""
    src = str(Path(lambdamaker.__file__).resolve().parents[1])
    paths = [src, os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
