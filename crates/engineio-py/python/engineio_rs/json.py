"""The json module python-engineio uses by default: the standard one, with
integers of more than 100 digits refused when decoding."""

from json import *  # noqa: F401, F403
from json import loads as _original_loads


def _safe_int(text):
    if len(text) > 100:
        raise ValueError("Integer is too large")
    return int(text)


def loads(*args, **kwargs):
    """``json.loads`` refusing integers of more than 100 digits."""
    if "parse_int" not in kwargs:
        kwargs["parse_int"] = _safe_int
    return _original_loads(*args, **kwargs)
