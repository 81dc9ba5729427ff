"""Make article-derived text safe to show in a terminal: no control characters, no escape sequences.

Articles, their titles and file names are untrusted. Shown raw, `ESC]0;...BEL` sets the window title,
`ESC[2J` clears the screen, `ESC]52;c;...` writes the clipboard, and a C1 byte (U+009B) does what
`ESC[` does. rich drops only a few C0 codes (BEL, BS, VT, FF, CR) and Textual passes ESC through, so
every face (CLI, chat app, exports) shows text through this one module. Stored text, quotes and
offsets stay verbatim: only what is displayed is cleaned.
"""

from __future__ import annotations

import json
import re

# A whole escape sequence goes, not only its ESC: "ESC[8m" minus ESC would still print "[8m".
# String sequences (OSC, DCS, SOS, PM, APC) run to BEL or ST (ESC \ or U+009C); CSI to its final byte;
# any other ESC sequence is ESC, intermediate bytes, one final byte.
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC, DCS, SOS, PM, APC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor moves, clear screen, hide text)
    r"|\x1b[ -/]*[0-~]"  # two-byte and nF escapes (ESC c resets the terminal, ESC # 8 fills it)
)
# What is left: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates, which make a terminal show characters in another order than they are stored.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINE = re.compile(r"\r\n?")


def clean(text: str) -> str:
    """The text without escape sequences or control characters; newlines and tabs are kept (a carriage
    return becomes a newline, so lines are not glued together)."""
    if not text:
        return text
    text = _NEWLINE.sub("\n", text)
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


# The start of an escape sequence that has not ended yet, at the end of a streamed piece.
_UNFINISHED = re.compile(
    r"(?:(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*|(?:\x1b\[|\x9b)[0-?]*[ -/]*|\x1b[ -/]*|\x1b)\Z")
MAX_HELD_CHARS = 4096  # a sequence still open after this much text is dropped, not waited for


class StreamCleaner:
    """Cleans text that arrives in pieces (a model's tokens): a sequence split over two pieces
    ("ESC]0;pw" + "ned BEL") is held back until it ends, then removed whole."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        m = _UNFINISHED.search(text)
        if m and len(text) - m.start() <= MAX_HELD_CHARS:
            text, self._held = text[: m.start()], text[m.start() :]
        else:
            self._held = ""
        return clean(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return clean(text)


def clean_line(text: str) -> str:
    """One line: cleaned, with every run of whitespace (newlines included) made one space."""
    return " ".join(clean(text).split())


def is_clean(text: str) -> bool:
    """Whether a terminal can be given this text as it is."""
    return clean(text) == text and "\r" not in text


def json_line(payload: str) -> str:
    """JSON text with the characters JSON may leave raw but a terminal would obey (DEL, C1 controls,
    bidi overrides) written as \\u escapes. JSON escapes the C0 controls itself; outside strings there
    are none of these, so the escaped text is the same JSON value."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", payload)


def dumps(value: object) -> str:
    """`json.dumps` for records printed to a terminal (non-ASCII letters kept readable)."""
    return json_line(json.dumps(value, ensure_ascii=False))
