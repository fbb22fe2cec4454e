"""The Registry report of one importer for one period, built from its shipments.

Reg. (EU) 2023/956 Art. 6(2) and Art. 35(2): per good (CN code), origin and installation,
the quantity imported, the specific embedded emissions direct and indirect, the method
behind them (actual emissions or default values, Art. 7(2) and Annex IV) and the carbon
price paid where known. The XML itself is written by the pure
:func:`ingest.cbam_report.write_cbam_report`; this module only reads the database.

Only actual emissions (the verified and disclosed rungs) and default values may be
declared: a shipment on the modelled rung, or with no estimate, is named in the error
rather than declared under a method it does not have.

Default values: IR 2025/2621 Annex I publishes the direct, indirect and total values and the
total *including the year's mark-up*; the platform's estimate charges the marked-up total.
The report's two components are that total split in the published direct : indirect
proportion (:func:`declared_see`), so that what is declared adds up to what is charged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from apps.estimates.models import Tier
from apps.shipments.models import Shipment
from apps.shipments.selectors import importer_lines, importer_organisation
from ingest.eori import EORI

_METHOD = {Tier.VERIFIED: "actual", Tier.DISCLOSED: "actual", Tier.DEFAULT: "default"}


class ReportInputError(ValueError):
    """The shipments cannot be declared as they are; the message says which and why."""


def period_bounds(year: int, quarter: int | None) -> tuple[dt.date, dt.date, str]:
    """First day, day after the last, and the ``ReportingPeriod`` code (``Q1``..``Q4``, or
    ``YR`` for a whole year: the platform's own code, see ``ingest.cbam_report.CODES``)."""
    if quarter is None:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1), "YR"
    if quarter not in (1, 2, 3, 4):
        raise ReportInputError(f"--quarter {quarter}: a quarter is 1, 2, 3 or 4")
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end, f"Q{quarter}"


def declared_see(estimate) -> tuple[float, float | None]:
    """(direct, indirect) SEE to declare for ``estimate`` [tCO2e/t].

    Each published component times ``see_total / (direct + indirect counted)``: 1 for actual
    values, the year's mark-up factor for default values (IR 2025/2621 Annex I, e.g. China
    CN 7208 in 2026: 3.1869 × 3.5056 / 3.1869 = 3.5056). Indirect is counted only where the
    good is not direct-only (Reg. 2023/956 Annex II) but is still declared where known.
    """
    direct = estimate.see_direct_t_per_t
    indirect = estimate.see_indirect_t_per_t
    counted = direct + (0.0 if estimate.direct_only or indirect is None else indirect)
    k = estimate.see_total_t_per_t / counted if counted > 0 else 1.0
    return direct * k, (indirect * k if indirect is not None else None)


def importer_report(
    *,
    importer: str,
    year: int,
    quarter: int | None = None,
    eori: str = "",
    country: str = "",
    city: str = "",
    submitted: dt.datetime | None = None,
) -> dict:
    """The report dict of :func:`ingest.cbam_report.write_cbam_report` for ``importer``
    (a name, or the EORI when it has that form: the lines of the importer's organisation,
    see :func:`apps.shipments.selectors.importer_lines`) and the period."""
    start, end, code = period_bounds(year, quarter)
    ident = eori or (importer if EORI.match(importer) else "")
    if not ident:
        raise ReportInputError(
            f"importer {importer!r}: the report needs the declarant's EORI number; give --eori"
        )
    country = country or ident[:2]
    organisation = importer_organisation(name=importer, eori=ident)
    name = organisation.name if organisation is not None else importer
    qs = (
        Shipment.objects.filter(
            importer_lines(name=name, organisation=organisation),
            is_current=True,
            date__gte=start,
            date__lt=end,
        )
        .select_related("estimate", "installation")
        .defer("estimate__trace")
        .order_by("cn_code", "origin", "declaration_id", "line")
    )
    shipments = list(qs)
    if not shipments:
        raise ReportInputError(
            f"no current shipments of importer {importer!r} between {start} and {end}"
        )
    refused = [s for s in shipments if s.estimate_id is None or s.tier not in _METHOD]
    if refused:
        named = ", ".join(
            f"{s.declaration_id}/{s.line} ({s.tier or 'no estimate'})" for s in refused[:10]
        )
        raise ReportInputError(
            f"{len(refused)} shipment(s) have neither actual emissions nor default values and "
            f"cannot be declared as they are (Reg. 2023/956 Art. 7(2)): {named}"
        )
    goods: dict[tuple[str, str], dict] = {}
    lines: dict[tuple, dict] = defaultdict(dict)
    for s in shipments:
        good = goods.setdefault(
            (s.cn_code, s.origin),
            {"cn_code": s.cn_code, "origin": s.origin, "net_mass_t": 0.0, "emissions": []},
        )
        good["net_mass_t"] += s.net_mass_t
        e = s.estimate
        inst = s.installation
        see_d, see_i = declared_see(e)
        key = (
            s.cn_code,
            s.origin,
            inst.identifier if inst else "",
            _METHOD[s.tier],
            see_d,
            see_i,
        )
        line = lines[key]
        if not line:
            line.update(
                {
                    "net_mass_t": 0.0,
                    "see_direct_t_per_t": see_d,
                    "see_indirect_t_per_t": see_i,
                    "method": _METHOD[s.tier],
                    "production_country": s.origin,
                }
            )
            if inst:
                line["installation"] = {
                    "id": inst.identifier,
                    "name": inst.name,
                    "country": inst.country[:2] or s.origin,
                }
            good["emissions"].append(line)
        line["net_mass_t"] += s.net_mass_t
    return {
        "year": year,
        "period": code,
        "submission_date": submitted or dt.datetime.now(dt.UTC).replace(microsecond=0),
        "declarant": {
            "id": ident,
            "name": name[:70],
            "country": country,
            "city": city,
        },
        "goods": list(goods.values()),
    }
