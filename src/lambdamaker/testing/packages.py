"""Deployment packages for tests: a zip of source files, as CreateFunction's ``ZipFile`` takes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping


def zip_files(files: Mapping[str, str | bytes], modes: Mapping[str, int] | None = None) -> bytes:
    """A zip of ``files`` (name -> content); ``modes`` sets Unix permissions per name (0o644)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((modes or {}).get(name, 0o644) & 0xFFFF) << 16
            zf.writestr(info, content)
    return buf.getvalue()


def zip_source(source: str, name: str = "app.py") -> bytes:
    """A package of one module, ``app.py`` unless named (handler ``app.handler``)."""
    return zip_files({name: source})
