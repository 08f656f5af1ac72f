"""TOML values and keys written by hand (the standard library reads TOML but does not write it).

>>> toml_value({"種別": ["サロン", 3], "ok": True})
'{ "種別" = ["サロン", 3], ok = true }'
"""

from __future__ import annotations

import re

__all__ = ["toml_key", "toml_value"]


def toml_value(value: object) -> str:
    """``value`` (bool, number, text, list or table) as a TOML value on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def toml_key(key: str) -> str:
    """``key`` bare when TOML allows it, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else toml_value(key)
