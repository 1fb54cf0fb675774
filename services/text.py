"""Text as people type it into names, descriptions and tags: what is shown is what is stored."""

import re

# Control characters (tabs and line breaks included) and the invisible marks that reorder or turn
# text on screen (bidi embeddings, overrides, isolates and direction marks): a name with U+202E
# reads backwards on every page and in every export.
HIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# An email address as a shop keeps it: something@somewhere.tld, no spaces. Whether it reaches anyone
# is the shop's mail system's question; this only keeps typing slips out. The API's schemas use the
# same pattern text.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL = re.compile(EMAIL_PATTERN)


def plain_text(value: str, *, label: str, limit: int) -> str:
    """`value` without surrounding spaces; ValueError if it holds hidden characters or is too long."""
    value = value.strip()
    if HIDDEN.search(value):
        raise ValueError(
            f"{label} contains hidden characters (such as tabs, line breaks or direction marks): remove them."
        )
    if len(value) > limit:
        raise ValueError(f"Use at most {limit} characters.")
    return value


def plain_lines(value: str, *, label: str, limit: int) -> str:
    """As plain_text, for text that may run over several lines (a description): line breaks are
    kept (Windows' CR LF as LF), every other hidden character is refused."""
    value = value.replace("\r\n", "\n").strip()
    if HIDDEN.search(value.replace("\n", "")):
        raise ValueError(f"{label} contains hidden characters (such as tabs or direction marks): remove them.")
    if len(value) > limit:
        raise ValueError(f"Use at most {limit} characters.")
    return value
