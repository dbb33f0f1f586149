"""Static file rules of ``WSGIApp`` and ``ASGIApp`` (``static_files``), as
python-engineio documents them: a dict from URL (or URL prefix) to a file
name (or directory), or to ``{"filename": ..., "content_type": ...}``; the
empty key names the file served for URLs ending in ``/`` (``index.html``
when absent). Meant for development, as python-engineio says: no caching.

The rules are resolved by the Rust ``engineio`` crate's ``StaticFiles``
(``_core.StaticRules``), the same resolver native mode serves with; a path
that tries to leave its directory (``..``) matches nothing.
"""

import os
import urllib.parse

from . import _core


def get_static_file(path, static_files):
    """The file to serve for ``path`` (as decoded in a WSGI environ or ASGI
    scope): ``{"filename", "content_type"}``, or ``None`` when no rule
    matches (python-engineio's function)."""
    if static_files is None:
        return None
    found = resolve(path, _core.StaticRules(static_files))
    if found is None:
        return None
    filename, content_type = found
    return {"filename": filename, "content_type": content_type}


def resolve(path, rules):
    """``(filename, content_type)`` for a decoded ``path`` under
    ``_core.StaticRules``, or ``None``."""
    return rules.resolve(urllib.parse.quote(path, safe="/"))


def read(path, rules):
    """``(content_type, bytes)`` of the static file for ``path`` under
    ``_core.StaticRules``, or ``None`` when there is none on disk."""
    found = resolve(path, rules)
    if found is None or not os.path.isfile(found[0]):
        return None
    filename, content_type = found
    with open(filename, "rb") as f:
        return content_type, f.read()
