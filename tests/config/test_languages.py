"""The translation catalogs (docs/languages.md): every message of the code and templates
has a French and a Spanish translation, and the compiled ``.mo`` files kept in the
repository say the same as their ``.po``.

The catalogs are extracted again here, as ``makemessages`` does, into a copy of
``locale/``: a string marked for translation since the catalogs were last updated is
missing from the copy's French or Spanish catalog, untranslated, and the test names it.
Needs GNU gettext (``xgettext``, ``msgmerge``, ``msgfmt``; Debian package ``gettext``)."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, service_missing

LANGUAGES = ("fr", "es")
#: What is scanned for messages: the apps (code and templates), the site's templates and
#: settings. (The engine, the readers and the verifier never show text in a page.)
SOURCES = ("apps", "templates", "config")
#: The options docs/languages.md gives for `makemessages`.
MAKEMESSAGES = ["--no-location", "--no-obsolete", "--no-wrap", "--symlinks"]


def _gettext_tools() -> None:
    for tool in ("xgettext", "msgmerge", "msgfmt", "msgattrib"):
        if shutil.which(tool) is None:
            service_missing(f"needs GNU gettext's {tool} (Debian package gettext)")


def _entries(po: Path, *flags: str) -> list[str]:
    """The msgids ``msgattrib`` selects with ``flags`` (``--untranslated``,
    ``--only-fuzzy``), one per item."""
    out = subprocess.run(
        ["msgattrib", "--no-wrap", *flags, str(po)], check=True, capture_output=True, text=True
    ).stdout
    return [m for m in re.findall(r'^msgid "(.*)"$', out, flags=re.M) if m]


def test_every_message_has_a_french_and_a_spanish_translation(tmp_path: Path) -> None:
    _gettext_tools()
    # The sources linked into a scratch folder with a copy of the catalogs: makemessages
    # writes the catalogs of the folder it runs in, so the repository's stay untouched.
    for name in SOURCES:
        (tmp_path / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    args = [f"--locale={lang}" for lang in LANGUAGES]
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", *args, *MAKEMESSAGES],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    problems = []
    for lang in LANGUAGES:
        po = tmp_path / "locale" / lang / "LC_MESSAGES" / "django.po"
        for label, flags in (("untranslated", "--untranslated"), ("fuzzy", "--only-fuzzy")):
            problems += [f"{lang}: {label}: {m!r}" for m in _entries(po, flags)]
    assert not problems, (
        f"{len(problems)} messages lack a translation (see docs/languages.md, 'A new "
        "string'):\n" + "\n".join(problems[:40])
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalog_says_what_its_po_says(lang: str, tmp_path: Path) -> None:
    _gettext_tools()
    folder = ROOT / "locale" / lang / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(fresh), str(folder / "django.po")],
        check=True,
        capture_output=True,
    )

    def catalog(path: Path) -> dict:
        with path.open("rb") as handle:
            return dict(gettext.GNUTranslations(handle)._catalog)

    kept, compiled = catalog(folder / "django.mo"), catalog(fresh)
    stale = sorted(str(k) for k in kept.keys() ^ compiled.keys())
    stale += sorted(str(k) for k in kept.keys() & compiled.keys() if kept[k] != compiled[k])
    assert not stale, (
        f"locale/{lang}/LC_MESSAGES/django.mo is older than its .po "
        "(run `python manage.py compilemessages`): " + ", ".join(stale[:10])
    )


#: Words a page may show untranslated: the product's name, units (SI and the trade's),
#: codes and acronyms. Phrases that are names (a law, a data set, a table's row, a path)
#: are taken out before the words are read.
UNTRANSLATED_PHRASES = (
    "Carbon Manifest",
    "Commission Implementing Regulation (EU)",
    "Eurostat Comext DS",
    "Other countries and territories",
    "/api/v1/operations/replica/",
    "max(0",
)
UNTRANSLATED_WORDS = {
    *("t", "kg", "MW", "MWh", "kWh", "MJ", "tCO₂", "tCO₂e", "gCO₂e", "gCO₂eq", "kgCO₂e"),
    *("kgH₂", "H₂", "USD", "EUR", "LHV", "UTC", "US", "EU"),
    *("SEE", "SEFA", "CBAM", "CSCF", "BM", "CN", "EORI", "CSV", "XLSX", "JSON", "SHA", "sha256"),
}


def _bare_words(path: Path) -> list[str]:
    """The words of a template shown as they are written: text outside translation tags,
    comments, HTML tags and ``<code>`` (``{{ … }}`` and ``{% … %}`` read as a space)."""
    from django.template.base import Lexer, TokenType

    parts, hidden = [], 0
    for token in Lexer(path.read_text(encoding="utf-8")).tokenize():
        name = token.contents.split()[0] if token.token_type == TokenType.BLOCK else ""
        if name in ("comment", "blocktranslate", "blocktrans"):
            hidden += 1
        elif name in ("endcomment", "endblocktranslate", "endblocktrans"):
            hidden -= 1
        shown = token.token_type == TokenType.TEXT and not hidden
        parts.append(token.contents if shown else " ")
    # Styles, and code (commands, formulas, identifiers) stay as written.
    text = re.sub(r"<(style|code)\b.*?</\1>", " ", "".join(parts), flags=re.S)
    text = re.sub(r"<[^>]*>|&[a-z0-9#]+;", " ", text)
    for phrase in UNTRANSLATED_PHRASES:
        text = text.replace(phrase, " ")
    # Single letters are symbols (v1, k = 2, z, Q1, g/MJ).
    words = re.findall(r"[^\W\d_][\w₀-₉]*", text)
    return [w for w in words if len(w) > 1 and w not in UNTRANSLATED_WORDS]


def test_no_template_shows_text_outside_a_translation_tag() -> None:
    templates = sorted(
        [*(ROOT / "templates").rglob("*.html"), *ROOT.glob("apps/*/templates/**/*.html")]
    )
    assert len(templates) > 30
    found = {str(p.relative_to(ROOT)): words for p in templates if (words := _bare_words(p))}
    assert not found, (
        "text shown untranslated (wrap it in {% translate %} or {% blocktranslate %}, "
        f"docs/languages.md): {found}"
    )
