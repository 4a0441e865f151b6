"""Text from outside the course, read strictly and shown safely: ``COURSE_*`` settings, file names, file contents."""

from __future__ import annotations

import os

YES, NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def safe_text(value: object) -> str:
    """``value`` as text that cannot control the terminal: a name from a file or a path that holds escape codes,
    newlines or other unprintable characters is shown quoted and escaped (Python's repr), never raw."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def refuse_setting(name: str, value: str, allowed: str) -> None:
    """A mistyped setting stops every entry point and notebook with one line (no traceback), before any work."""
    raise SystemExit(f"error: {name}={safe_text(value)!r} is not a setting; use {allowed} (or leave it unset)")


def flag(name: str, default: str = "0") -> bool:
    """An on/off setting from the environment: 1/0, true/false, yes/no, on/off; anything else is refused."""
    value = os.environ.get(name, default)
    if value.strip().lower() not in YES + NO:
        refuse_setting(name, value, "1 or 0 (also true/false, yes/no, on/off)")
    return value.strip().lower() in YES
