"""The glossary: the platform's words in plain language (docs/glossary.md).

One list, :data:`TERMS`; the page ``/glossary/`` shows it and the ``{% term %}`` tag
(``apps/web/templatetags/glossary.py``) links a term wherever a page uses it. Legal
citations are linked to EUR-Lex by the page (``methodologies.legal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Term:
    slug: str
    term: str  # translated (gettext_lazy), as the meaning
    meaning: str
    source: str = ""


TERMS: tuple[Term, ...] = (
    Term(
        "see",
        _("SEE (specific embedded emissions)"),
        _(
            "The greenhouse gases emitted to make one tonne of a good, in tonnes of CO₂ "
            "equivalent per tonne (tCO₂e/t). Direct SEE counts the installation's own "
            "emissions and those of its precursors; indirect SEE counts the electricity it "
            "used. A shipment's embedded emissions are its net mass × its SEE."
        ),
        "Regulation (EU) 2023/956, Annex IV; Implementing Regulation (EU) 2025/2547, Annex II",
    ),
    Term(
        "direct-only",
        _("Direct-only goods"),
        _(
            "Goods whose CBAM obligation counts only direct emissions — iron and steel, "
            "aluminium and hydrogen. Their indirect SEE is shown for information but not "
            "added to the total."
        ),
        "Regulation (EU) 2023/956, Annex II",
    ),
    Term(
        "tier",
        _("Tiers (the data-quality ladder)"),
        _(
            "How good an SEE is, best first: verified actual (the installation's own data, "
            "checked by an accredited verifier), disclosed actual (the installation's own "
            "data, unverified), modelled (computed from public evidence about the "
            "plant), default value (the Commission's published value for the country and "
            "good). A shipment takes the best SEE available for its installation, good and "
            "period."
        ),
    ),
    Term(
        "mark-up",
        _("Mark-up"),
        _(
            "The percentage added to a default value so that importing on defaults costs "
            "more than reporting real data (2026: 10 %; 2027: 20 %; from 2028: 30 %; none "
            "for fertilisers)."
        ),
        "Implementing Regulation (EU) 2025/2621, Annex I",
    ),
    Term(
        "benchmark",
        _("Benchmark"),
        _(
            "The emissions per tonne of the most efficient EU installations making a good "
            "(tCO₂e/t). It sets how much of a good's emissions is covered by free allocation "
            "in the EU, and so the part of CBAM certificates an importer need not buy."
        ),
        "Implementing Regulation (EU) 2025/2620",
    ),
    Term(
        "cscf",
        _("CSCF (cross-sectoral correction factor)"),
        _(
            "A factor (at most 1) by which all free allocation in the EU ETS is scaled down "
            "in a year when the free allowances asked for exceed the cap."
        ),
        "Directive 2003/87, Article 10a(5)",
    ),
    Term(
        "sefa",
        _("SEFA (free-allocation adjustment per tonne)"),
        _(
            "The tonnes of CO₂e per tonne of good that the CBAM obligation is reduced by, "
            "because EU producers of the good still receive free allowances: CBAM factor of "
            "the year × CSCF × benchmark (plus the precursors' share with actual data). "
            "Certificates due per tonne = SEE − SEFA − any carbon price paid abroad."
        ),
        "Regulation (EU) 2023/956, Article 31; Implementing Regulation (EU) 2025/2620",
    ),
    Term(
        "trace",
        _("Trace"),
        _(
            "The complete record of how a number was computed: its inputs and the evidence "
            "each came from (file, line, cell or page), the published factors with their "
            "source and validity, every formula step, and the engine's version — as "
            "canonical JSON that anyone can recompute and compare byte for byte."
        ),
    ),
    Term(
        "inclusion-proof",
        _("Inclusion proof"),
        _(
            "A short list of hashes that shows one entry of the audit log is part of a "
            "signed checkpoint of the whole log, without downloading the log. If any entry "
            "was changed or removed later, the proof no longer matches the signature."
        ),
        "RFC 9162, section 2.1.3",
    ),
    Term(
        "checkpoint",
        _("Signed checkpoint"),
        _(
            "The audit log's size and root hash at a moment, signed with the platform's "
            "Ed25519 key. Auditors keep checkpoints and check that later ones extend them "
            "(a consistency proof) with the public key published in the repository."
        ),
    ),
)

BY_SLUG = {t.slug: t for t in TERMS}
