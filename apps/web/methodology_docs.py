"""Methodology pages generated from the engine itself, so they cannot drift from it: the
registry (``methodologies.METHODOLOGIES``), each module's docstring, its public formula
functions with their docstrings (units in brackets, references) and its module-level
constants with their current values and ``#:`` comments."""

from __future__ import annotations

import ast
import inspect
import pprint
import re
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from methodologies import METHODOLOGIES, Methodology

# "Reference: …", "Legal basis: …" or "Sources: …" up to the end of its paragraph.
_REFERENCE = re.compile(
    r"(?:References?|Legal basis|Sources?):[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*", re.IGNORECASE
)


@dataclass(frozen=True)
class Constant:
    name: str
    value: Any
    shown: str  # the value as the page shows it (pprint)
    comment: str


@dataclass(frozen=True)
class Formula:
    name: str
    signature: str
    doc: str


@dataclass(frozen=True)
class MethodologyDoc:
    id: str
    version: str
    summary: str
    module: str
    docstring: str
    formulas: list[Formula]
    constants: list[Constant]
    sources: list[str]
    siblings: list[str]  # other methodologies of the same module


def _constant_comments(module: ModuleType) -> dict[str, str]:
    """Module-level UPPER_CASE assignments → the ``#:`` comment lines just above them."""
    source = inspect.getsource(module)
    lines = source.splitlines()
    out: dict[str, str] = {}
    for node in ast.parse(source).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            if not isinstance(target, ast.Name) or target.id.startswith("_"):
                continue
            if target.id != target.id.upper():
                continue
            comment = []
            i = node.lineno - 2
            while i >= 0 and lines[i].lstrip().startswith("#:"):
                comment.insert(0, lines[i].lstrip()[2:].strip())
                i -= 1
            out[target.id] = " ".join(comment)
    return out


def _sources(texts: list[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for match in _REFERENCE.findall(text or ""):
            cleaned = " ".join(match.split())
            if cleaned not in found:
                found.append(cleaned)
    return found


@cache
def methodology_doc(methodology_id: str) -> MethodologyDoc:
    m: Methodology = METHODOLOGIES[methodology_id]
    module = m.module
    constants = [
        Constant(
            name=name,
            value=getattr(module, name),
            shown=pprint.pformat(getattr(module, name), width=88, sort_dicts=False),
            comment=comment,
        )
        for name, comment in _constant_comments(module).items()
        if hasattr(module, name)
    ]
    formulas = [
        Formula(name=name, signature=str(inspect.signature(fn)), doc=inspect.getdoc(fn) or "")
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    ]
    formulas.sort(key=lambda f: inspect.getsourcelines(getattr(module, f.name))[1])
    source_constants = [str(c.value) for c in constants if c.name.endswith("SOURCE")]
    return MethodologyDoc(
        id=m.id,
        version=m.version,
        summary=m.summary,
        module=module.__name__,
        docstring=m.docstring,
        formulas=formulas,
        constants=constants,
        sources=source_constants + _sources([m.docstring, *(f.doc for f in formulas)]),
        siblings=[o.id for o in METHODOLOGIES.values() if o.module is module and o.id != m.id],
    )


def methodology_index() -> list[Methodology]:
    return list(METHODOLOGIES.values())
