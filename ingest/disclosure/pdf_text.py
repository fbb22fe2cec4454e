"""PDF → page texts with word positions, parsed in a separate, limited process.

A PDF is the attacker's program for the parser: a decompression bomb (a FlateDecode stream
that inflates to gigabytes), deep object nesting, or a file that keeps pdfminer busy for
hours. So the parent never parses one: :func:`read_pdf_text` runs
``python -m ingest.disclosure.pdf_text`` as a child that first limits its own address
space (``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``) and then runs pdfplumber; the parent
waits with a wall-clock timeout. When the child dies, is killed or times out the parent
raises :class:`~ingest.disclosure.model.PdfError` and carries on.

The child prints one JSON object: ``{"pages": [{"number", "width", "height", "words":
[{"text", "x0", "x1", "top", "bottom", "direction"}]}]}`` (PDF points, origin top left). The
parent groups words into lines (:func:`group_lines`): a page's text is its lines joined by
newlines, and the quotes of every extractor are lines of that text.

**Rotated text** (a table's column headers turned 90°, as in the JRC report's Table A5)
reads in its own direction. Each character's writing direction comes from its text
rendering matrix (ISO 32000-1 §9.4.4: the glyph's x axis is (a, b) of the matrix; on the
page, b > 0 runs bottom to top). pdfplumber's ``upright`` flag is not enough: it tests
``a·d > 0``, and a rotation by 90° computed in floating point leaves a ≈ d ≈ 6e-17, so
the letters of "Upstream" set bottom to top counted as upright and came out top to bottom,
one per word ("m a e r t s p U"). Characters are therefore split by :func:`char_direction`
and each set is assembled into words by pdfplumber in its own reading order (``char_dir``
``btt``, ``ttb`` or ``rtl``); a rotated word keeps its spaces ("Scope 1" is one word) and
its ``direction``. :func:`group_lines` never mixes directions in one line.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ingest.disclosure.model import PdfError

MEMORY_LIMIT = 2**30  # bytes of address space for the child
TIME_LIMIT = 60.0  # seconds, wall clock (the CPU limit is the same, rounded up)
MAX_PAGES = 1000
MAX_OUTPUT = 200 * 2**20  # bytes of JSON the parent accepts from the child
_ROOT = Path(__file__).resolve().parents[2]


#: Writing directions of words: pdfplumber's names (left to right, bottom to top, top to
#: bottom, right to left = upside down).
DIRECTIONS = ("ltr", "btt", "ttb", "rtl")
# pdfplumber's word extractor settings per direction: (char_dir, line_dir) — the order of
# the letters in a word and of successive lines (a text turned 90° anticlockwise, read
# bottom to top, has its next line to its right).
_READING = {
    "ltr": ("ltr", "ttb"),
    "btt": ("btt", "ltr"),
    "ttb": ("ttb", "rtl"),
    "rtl": ("rtl", "btt"),
}


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    direction: str = "ltr"  # one of DIRECTIONS


@dataclass(frozen=True)
class Line:
    """Words that share a baseline band, left to right; ``text`` is how they read."""

    words: tuple[Word, ...]
    text: str
    top: float
    bottom: float


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    text: str
    lines: tuple[Line, ...] = ()
    width: float = 0.0
    height: float = 0.0


@dataclass(frozen=True)
class Document:
    """A document as the extractors see it: page texts (and, for PDFs, positions)."""

    pages: tuple[Page, ...]
    sha256: str = ""
    name: str = ""
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_text(cls, pages: list[str] | str, name: str = "") -> Document:
        """A document from plain text, one string per page (or one string: one page)."""
        texts = [pages] if isinstance(pages, str) else list(pages)
        digest = hashlib.sha256("\f".join(texts).encode("utf-8")).hexdigest()
        return cls(
            tuple(Page(i, t) for i, t in enumerate(texts, start=1)), sha256=digest, name=name
        )

    def page(self, number: int) -> Page | None:
        if 1 <= number <= len(self.pages):
            return self.pages[number - 1]
        return None


def group_lines(words: list[Word]) -> tuple[Line, ...]:
    """Words → lines. A word joins a line when its vertical centre lies inside the band of
    the line's first word (so sub- and superscripts stay on their line) and it is written in
    the same direction; horizontal words closer than a fifth of the line height are joined
    without a space ("CO" + "2" → "CO2"). Rotated words (a row of turned column headers)
    form lines of their own, left to right, one space between words."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        centre = (word.top + word.bottom) / 2
        upright = word.direction == "ltr"
        for line in reversed(lines[-3:]):
            same = (line[0].direction == "ltr") == upright
            if same and line[0].top <= centre <= line[0].bottom:
                line.append(word)
                break
        else:
            lines.append([word])
    out = []
    for line in lines:
        line.sort(key=lambda w: w.x0)
        height = max(line[0].bottom - line[0].top, 1.0)
        rotated = line[0].direction != "ltr"
        parts = [line[0].text]
        for previous, word in itertools.pairwise(line):
            tight = not rotated and word.x0 - previous.x1 < 0.2 * height
            parts.append(word.text if tight else " " + word.text)
        top = min(w.top for w in line) if rotated else line[0].top
        bottom = max(w.bottom for w in line) if rotated else line[0].bottom
        out.append(Line(tuple(line), "".join(parts), top, bottom))
    return tuple(out)


def read_pdf_text(
    path: str | Path, *, memory_limit: int = MEMORY_LIMIT, time_limit: float = TIME_LIMIT
) -> Document:
    """Parse ``path`` in a limited child process; see the module docstring.

    Raises :class:`PdfError` when the child fails, is killed (memory, CPU) or times out.
    """
    path = Path(path)
    raw = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(_ROOT), PYTHONDONTWRITEBYTECODE="1")
    command = [
        sys.executable,
        "-m",
        "ingest.disclosure.pdf_text",
        "--memory",
        str(int(memory_limit)),
        "--cpu",
        str(max(1, int(time_limit + 0.999))),
        str(path.resolve()),
    ]
    try:
        child = subprocess.run(
            command, capture_output=True, timeout=time_limit, env=env, cwd=_ROOT, check=False
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise PdfError(str(path), f"parsing took longer than {time_limit:g} s") from exc
    if child.returncode < 0:
        raise PdfError(
            str(path),
            f"the parser was killed by signal {-child.returncode} (memory or CPU limit)",
        )
    if len(child.stdout) > MAX_OUTPUT:
        raise PdfError(str(path), "the parser's output is too large")
    try:
        result = json.loads(child.stdout)
    except ValueError:
        detail = child.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise PdfError(
            str(path), f"the parser exited with status {child.returncode} {detail[0]}".strip()
        ) from None
    if "error" in result:
        raise PdfError(str(path), result["error"])
    pages = []
    for page in result["pages"]:
        words = [Word(**w) for w in page["words"]]
        lines = group_lines(words)
        pages.append(
            Page(
                page["number"],
                "\n".join(line.text for line in lines),
                lines,
                page["width"],
                page["height"],
            )
        )
    return Document(
        tuple(pages),
        sha256=hashlib.sha256(raw).hexdigest(),
        name=path.name,
        meta={"format": "pdf", "pages": len(pages)},
    )


# --- The child -------------------------------------------------------------------------


def _limit(memory: int, cpu: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def char_direction(matrix: tuple[float, ...]) -> str:
    """The writing direction of a character from its text rendering matrix (a, b, c, d, e, f)
    in PDF space (y up): the glyph's baseline runs along (a, b) (ISO 32000-1 §9.4.4)."""
    a, b = float(matrix[0]), float(matrix[1])
    if abs(a) >= abs(b):
        return "ltr" if a > 0 else "rtl"
    return "btt" if b > 0 else "ttb"


def page_words(chars: list[dict]) -> list[dict]:
    """pdfplumber characters → words ``{"text", "x0", "x1", "top", "bottom", "direction"}``,
    each direction's characters assembled in its own reading order (module docstring)."""
    from pdfplumber.utils import extract_words

    by_direction: dict[str, list[dict]] = {d: [] for d in DIRECTIONS}
    for char in chars:
        by_direction[char_direction(char["matrix"])].append(char)
    words = []
    for direction, group in by_direction.items():
        if not group:
            continue
        char_dir, line_dir = _READING[direction]
        # pdfplumber reads "upright" characters with char_dir/line_dir: mark each set so.
        marked = [dict(char, upright=True) for char in group]
        found = extract_words(
            marked,
            char_dir=char_dir,
            line_dir=line_dir,
            keep_blank_chars=direction != "ltr",  # "Scope 1" set on its side is one word
            use_text_flow=False,
        )
        for w in found:
            text = w["text"].strip()
            if not text:
                continue
            words.append(
                {
                    "text": text,
                    "x0": round(float(w["x0"]), 2),
                    "x1": round(float(w["x1"]), 2),
                    "top": round(float(w["top"]), 2),
                    "bottom": round(float(w["bottom"]), 2),
                    "direction": direction,
                }
            )
    return words


def _parse(path: str) -> dict:
    import pdfplumber

    pages = []
    with pdfplumber.open(path) as pdf:
        if len(pdf.pages) > MAX_PAGES:
            return {"error": f"{len(pdf.pages)} pages (limit {MAX_PAGES})"}
        for number, page in enumerate(pdf.pages, start=1):
            words = page_words(page.chars)
            pages.append(
                {
                    "number": number,
                    "width": float(page.width),
                    "height": float(page.height),
                    "words": words,
                }
            )
            page.flush_cache()
    return {"pages": pages}


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Parse a PDF into words (sandboxed child).")
    parser.add_argument("--memory", type=int, default=MEMORY_LIMIT)
    parser.add_argument("--cpu", type=int, default=int(TIME_LIMIT))
    parser.add_argument("path")
    args = parser.parse_args(argv)
    _limit(args.memory, args.cpu)
    try:
        result = _parse(args.path)
    except MemoryError:
        result = {"error": f"the PDF needs more than {args.memory} bytes of memory"}
    except Exception as exc:  # any parser failure is the PDF's fault: report it, exit clean
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
