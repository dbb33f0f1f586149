"""Static file rules of ``WSGIApp`` and ``ASGIApp`` (``static_files``), as
python-engineio documents them: a dict from URL (or URL prefix) to a file
name (or directory), or to ``{"filename": ..., "content_type": ...}``; the
empty key names the file served for URLs ending in ``/`` (``index.html``
when absent). Meant for development, as python-engineio says: no caching.
"""

import os

CONTENT_TYPES = {
    "css": "text/css",
    "gif": "image/gif",
    "html": "text/html",
    "jpg": "image/jpeg",
    "js": "application/javascript",
    "json": "application/json",
    "png": "image/png",
    "txt": "text/plain",
}


def get_static_file(path, static_files):
    """The file to serve for ``path``: ``{"filename", "content_type"}``, or
    ``None`` when no rule matches (or the path tries to climb out of a
    directory with ``..``)."""
    if static_files is None:
        return None
    rule, rest = _match(path, static_files)
    if rule is None or ".." in rest.split("/"):
        return None
    if isinstance(rule, str):
        rule = {"filename": rule}
    filename = rule["filename"]
    if rest:
        filename = filename + rest[1:] if filename.endswith("/") else filename + rest
    content_type = rule.get("content_type")
    if filename.endswith("/"):
        default = static_files.get("", "index.html")
        if isinstance(default, dict):
            content_type = default.get("content_type", content_type)
            default = default["filename"]
        filename += default
    if content_type is None:
        extension = filename.rsplit(".", 1)[-1]
        content_type = CONTENT_TYPES.get(extension, "application/octet-stream")
    return {"filename": filename, "content_type": content_type}


def _match(path, static_files):
    """The rule for ``path`` and what is left of the path after its key:
    the full path first, then shorter and shorter prefixes (each also with
    a trailing ``/``)."""
    if path in static_files:
        return static_files[path], ""
    prefix, rest = path, ""
    while "/" in prefix:
        prefix, last = prefix.rsplit("/", 1)
        rest = "/" + last + rest
        for key in (prefix, prefix + "/"):
            if key and key in static_files:
                return static_files[key], rest
    return None, ""


def read(path, static_files):
    """``(content_type, bytes)`` of the static file for ``path``, or
    ``None`` when there is none on disk."""
    found = get_static_file(path, static_files)
    if found is None or not os.path.isfile(found["filename"]):
        return None
    with open(found["filename"], "rb") as f:
        return found["content_type"], f.read()
