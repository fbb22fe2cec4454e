"""Reader for ENTSO-E Transparency Platform XML documents (IEC 62325-451).

Reads what the Transparency Platform API returns for a bidding zone:

- ``GL_MarketDocument`` type A75, actual generation per production type (one
  ``TimeSeries`` per ``psrType``; a series with ``outBiddingZone_Domain`` is energy taken
  out of the zone, e.g. pumping of hydro pumped storage);
- ``GL_MarketDocument`` type A65, total load (``outBiddingZone_Domain``);
- ``Publication_MarketDocument`` type A44, day-ahead prices (``price.amount``).

Each ``TimeSeries`` has one or more ``Period`` (``timeInterval`` start/end in UTC, a
``resolution`` PT15M, PT30M or PT60M) of ``Point`` (``position`` 1…n). The point at
position p covers ``[start + (p − 1) × resolution, start + p × resolution)``.

Curve types (ENTSO-E Implementation Guide, "curveType", code list A01/A03):

- ``A01`` sequential fixed-size blocks: every position is given;
- ``A03`` variable-sized blocks: a point is left out when its value repeats the previous
  one; a point starts a block that lasts until the next point or the end of the period.
  The reader expands the blocks, so every slot of the period has a row (``filled`` true for
  the rows it added).

Size limits (issue #16, item 4): a period's slots are computed from two times and a
resolution, so a few hundred bytes can ask for a hundred million rows. A period may hold at
most :data:`MAX_PERIOD_SLOTS` slots — one leap year at PT15M, the finest resolution the
platform publishes, over the longest interval one API request returns (one year); a longer
one is rejected as a row error naming the limit, before anything is allocated. A document
whose periods together ask for more than :data:`MAX_DOCUMENT_SLOTS` slots raises
:class:`~ingest.base.TooLarge`. The document is parsed in a forked child limited in memory
and CPU (``ingest.safety.run_limited``).

Code list: https://transparency.entsoe.eu/content/static_content/Static%20content/web%20api/Guide.html
(Appendix A.5 "PsrType", A.6 "DocumentType", A.9 "BusinessType").
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ingest.base import IngestError, RowError, TooLarge, UnreadableFile

SOURCE = "entsoe"

#: Slots one period may describe: a leap year of PT15M slots (366 × 96).
MAX_PERIOD_SLOTS = 366 * 96
#: Slots a whole document may describe (about 140 series of a year at PT15M).
MAX_DOCUMENT_SLOTS = 5_000_000

#: ENTSO-E production type (psrType, code list A.5) → (official name, Electricity Maps
#: mode). The modes are those of Electricity Maps' ENTSO-E parser (electricitymaps-contrib,
#: ``parsers/ENTSOE.py``): storage types are kept apart from generation.
PSR_TYPE_MAP: dict[str, tuple[str, str]] = {
    "B01": ("Biomass", "biomass"),
    "B02": ("Fossil Brown coal/Lignite", "coal"),
    "B03": ("Fossil Coal-derived gas", "gas"),
    "B04": ("Fossil Gas", "gas"),
    "B05": ("Fossil Hard coal", "coal"),
    "B06": ("Fossil Oil", "oil"),
    "B07": ("Fossil Oil shale", "coal"),
    "B08": ("Fossil Peat", "coal"),
    "B09": ("Geothermal", "geothermal"),
    "B10": ("Hydro Pumped Storage", "hydro storage"),
    "B11": ("Hydro Run-of-river and poundage", "hydro"),
    "B12": ("Hydro Water Reservoir", "hydro"),
    "B13": ("Marine", "unknown"),
    "B14": ("Nuclear", "nuclear"),
    "B15": ("Other renewable", "unknown"),
    "B16": ("Solar", "solar"),
    "B17": ("Waste", "biomass"),
    "B18": ("Wind Offshore", "wind"),
    "B19": ("Wind Onshore", "wind"),
    "B20": ("Other", "unknown"),
    "B25": ("Energy storage", "battery storage"),
}

#: Document type (code list A.6) → quantity kind of its values.
DOCUMENT_KINDS: dict[str, str] = {
    "A44": "day_ahead_price",
    "A65": "load",
    "A69": "generation_forecast",
    "A71": "generation_forecast",
    "A75": "generation",
}

#: Unit names of the documents (UN/ECE Rec. 20 codes) → canonical unit.
UNITS: dict[str, str] = {"MAW": "MW", "MWH": "MWh"}

#: EIC area code → Electricity Maps zone key (ENTSO-E "Areas" list; electricitymaps-contrib
#: ``ENTSOE_DOMAIN_MAPPINGS``). An area not listed keeps ``zone`` empty; ``domain`` is kept.
EIC_ZONES: dict[str, str] = {
    "10YAT-APG------L": "AT",
    "10YBE----------2": "BE",
    "10YCH-SWISSGRIDZ": "CH",
    "10YCZ-CEPS-----N": "CZ",
    "10Y1001A1001A83F": "DE",
    "10Y1001A1001A82H": "DE",
    "10YDK-1--------W": "DK-DK1",
    "10YDK-2--------M": "DK-DK2",
    "10YES-REE------0": "ES",
    "10YFI-1--------U": "FI",
    "10YFR-RTE------C": "FR",
    "10YGB----------A": "GB",
    "10YIT-GRTN-----B": "IT",
    "10YNL----------L": "NL",
    "10YNO-1--------2": "NO-NO1",
    "10YNO-2--------T": "NO-NO2",
    "10YNO-3--------J": "NO-NO3",
    "10YNO-4--------9": "NO-NO4",
    "10Y1001A1001A48H": "NO-NO5",
    "10YPL-AREA-----S": "PL",
    "10YPT-REN------W": "PT",
    "10Y1001A1001A44P": "SE-SE1",
    "10Y1001A1001A45N": "SE-SE2",
    "10Y1001A1001A46L": "SE-SE3",
    "10Y1001A1001A47J": "SE-SE4",
}

COLUMNS = [
    "zone",
    "domain",
    "direction",
    "time_utc",
    "kind",
    "psr_type",
    "mode",
    "value",
    "unit",
    "resolution",
    "curve_type",
    "timeseries",
    "position",
    "filled",
    "source_line",
]

# to_hourly: one row per hour, so no curve position; the count of slots it averages instead.
HOURLY_COLUMNS = [
    *(c for c in COLUMNS if c not in ("curve_type", "position", "filled", "source_line")),
    "n_slots",
    "complete",
    "filled",
    "source_line",
]

_RESOLUTION = re.compile(r"^PT([0-9]+)([MH])$")
_DOMAINS = (
    ("inBiddingZone_Domain.mRID", "in"),
    ("in_Domain.mRID", "in"),
    ("outBiddingZone_Domain.mRID", "out"),
    ("out_Domain.mRID", "out"),
)


class UnsupportedDocument(IngestError):
    """The XML is not an ENTSO-E document this reader knows, or it carries no data."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {reason}")


class _Element(ET.Element):
    """An element that remembers the line it starts on (``line``)."""

    line: int | None = None


def _parse(path: Path) -> ET.Element:
    """Parse with defusedxml (no DTD entities, no external resources), keeping lines."""
    holder: list[DefusedXMLParser] = []

    def factory(tag: str, attrib: dict) -> _Element:
        element = _Element(tag, attrib)
        element.line = holder[0].parser.CurrentLineNumber
        return element

    parser = DefusedXMLParser(target=ET.TreeBuilder(element_factory=factory))
    holder.append(parser)
    try:
        parser.feed(path.read_bytes())
        return parser.close()
    except DefusedXmlException as exc:
        # defusedxml refuses entity declarations (billion laughs) and external references
        # (XXE) before expanding anything: https://pypi.org/project/defusedxml/
        raise UnreadableFile(
            path, f"XML with entity declarations or external references is refused ({exc!r})"
        ) from exc
    except ET.ParseError as exc:
        raise UnreadableFile(path, f"not well-formed XML ({exc})") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element | None, *names: str) -> str:
    """Stripped text of the element reached through ``names`` ("" when absent)."""
    for name in names:
        if element is None:
            return ""
        element = _child(element, name)
    return (element.text or "").strip() if element is not None else ""


def parse_resolution(text: str) -> timedelta | None:
    """``PT15M`` → 15 minutes, ``PT60M``/``PT1H`` → 1 hour; ``None`` for other durations."""
    match = _RESOLUTION.match(text)
    if not match or int(match.group(1)) == 0:
        return None
    amount = int(match.group(1))
    return timedelta(minutes=amount) if match.group(2) == "M" else timedelta(hours=amount)


def parse_utc(text: str) -> datetime | None:
    """An ENTSO-E time (``2024-01-01T00:00Z``, seconds optional) as an aware UTC datetime."""
    for layout in ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _acknowledgement(root: ET.Element) -> str:
    reason = _child(root, "Reason")
    return _text(reason, "text") or _text(reason, "code") or "no reason given"


def _expand(positions: np.ndarray, values: np.ndarray, slots: int, a03: bool) -> np.ndarray:
    """Index into ``values`` for every slot 1…``slots`` (−1 = no value).

    A01: a slot takes the point at its position. A03: a slot takes the last point at or
    before it (the block it belongs to)."""
    order = np.argsort(positions, kind="stable")
    positions, index = positions[order], order
    slot = np.arange(1, slots + 1)
    found = np.searchsorted(positions, slot, side="right") - 1
    taken = np.where(found >= 0, index[np.maximum(found, 0)], -1)
    if not a03:
        exact = (found >= 0) & (positions[np.maximum(found, 0)] == slot)
        taken = np.where(exact, taken, -1)
    return taken


def read_entsoe(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read an ENTSO-E Transparency XML document (generation, load or day-ahead prices).

    Returns ``(data, meta)``; ``data`` has :data:`COLUMNS`, one row per time slot:
    ``zone`` Electricity Maps zone key ("" if the EIC code is not in :data:`EIC_ZONES`);
    ``domain`` EIC code; ``direction`` "in" (generation into the zone, prices) or "out"
    (load, pumping); ``time_utc`` datetime64[ns, UTC] (start of the slot); ``kind``
    (:data:`DOCUMENT_KINDS`); ``psr_type`` (B01…, "" for load and prices); ``mode``
    (Electricity Maps mode, :data:`PSR_TYPE_MAP`; "" for load and prices); ``value`` float64
    in ``unit`` "MW" (average power over the slot) or "EUR/MWh"; ``resolution``
    ("PT15M", …); ``curve_type`` "A01"/"A03"; ``timeseries`` (1-based order of the
    ``TimeSeries`` in the file); ``position``; ``filled`` (true for a slot an A03 block
    covers without its own point); ``source_line`` (line of the ``Point`` whose value the
    row carries).

    ``meta`` adds ``document_type``, ``kind``, ``timeseries``, ``periods``,
    ``points_in_file``, ``points_filled``. ``rows_read`` counts the time slots the periods
    describe; a slot is rejected (one :class:`RowError`) when its point has no readable
    value or its period cannot be read. Raises :class:`UnreadableFile` for a file that is
    not XML and :class:`UnsupportedDocument` for another document (an
    ``Acknowledgement_MarketDocument`` says why the platform sent no data).
    """
    from ingest.safety import run_limited

    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file")
    # Parsed in a child limited in memory and CPU, like the tables (module docstring).
    return run_limited(_read, path, path=path)


def _read(path: Path) -> tuple[pd.DataFrame, dict]:
    root = _parse(path)
    root_name = _local(root.tag)
    if root_name == "Acknowledgement_MarketDocument":
        raise UnsupportedDocument(path, f"the platform sent no data: {_acknowledgement(root)}")
    if root_name not in ("GL_MarketDocument", "Publication_MarketDocument"):
        raise UnsupportedDocument(
            path, f"root element {root_name!r} is not a GL_ or Publication_MarketDocument"
        )
    document_type = _text(root, "type")
    if document_type not in DOCUMENT_KINDS:
        raise UnsupportedDocument(
            path,
            f"document type {document_type!r} is not one of {', '.join(sorted(DOCUMENT_KINDS))}",
        )
    kind = DOCUMENT_KINDS[document_type]
    is_price = kind == "day_ahead_price"

    errors: list[RowError] = []
    frames: list[pd.DataFrame] = []
    slots_read = points_in_file = periods_read = 0
    series_list = _children(root, "TimeSeries")
    for number, series in enumerate(series_list, start=1):
        line = series.line
        domain, direction = "", ""
        for name, way in _DOMAINS:
            domain = _text(series, name)
            if domain:
                direction = way
                break
        curve = _text(series, "curveType") or "A01"
        psr = _text(series, "MktPSRType", "psrType")
        if is_price:
            currency = _text(series, "currency_Unit.name") or "EUR"
            per = UNITS.get(_text(series, "price_Measure_Unit.name"), "MWh")
            unit = f"{currency}/{per}"
        else:
            unit = UNITS.get(_text(series, "quantity_Measure_Unit.name"), "")
        problem = ""
        if curve not in ("A01", "A03"):
            problem, field, value = f"curve type {curve!r} is not A01 or A03", "curve_type", curve
        elif psr and psr not in PSR_TYPE_MAP:
            problem, field, value = f"unknown psrType {psr!r}", "psr_type", psr
        elif not unit:
            value = _text(series, "quantity_Measure_Unit.name")
            problem, field = f"unknown unit {value!r}", "unit"
        elif not domain:
            problem, field, value = "no in/out domain (EIC code)", "domain", ""
        mode = PSR_TYPE_MAP[psr][1] if psr in PSR_TYPE_MAP else ""
        for period in _children(series, "Period"):
            periods_read += 1
            points = _children(period, "Point")
            points_in_file += len(points)
            resolution_text = _text(period, "resolution")
            step = parse_resolution(resolution_text)
            start = parse_utc(_text(period, "timeInterval", "start"))
            end = parse_utc(_text(period, "timeInterval", "end"))
            period_problem = problem
            if not period_problem:
                field = "resolution"
                value = resolution_text
                if step is None:
                    period_problem = f"resolution {resolution_text!r} is not PT<n>M or PT<n>H"
                elif start is None or end is None or end <= start:
                    field, value = "time_utc", _text(period, "timeInterval", "start")
                    period_problem = "period time interval is missing or not a UTC time"
                elif (end - start) % step:
                    field, value = "time_utc", f"{start:%Y-%m-%dT%H:%MZ}/{end:%Y-%m-%dT%H:%MZ}"
                    period_problem = f"period is not a whole number of {resolution_text} slots"
            if not period_problem and (end - start) // step > MAX_PERIOD_SLOTS:
                field, value = "time_utc", f"{start:%Y-%m-%dT%H:%MZ}/{end:%Y-%m-%dT%H:%MZ}"
                period_problem = (
                    f"period of {(end - start) // step:,} {resolution_text} slots is over the "
                    f"limit of {MAX_PERIOD_SLOTS:,} (one year at PT15M)"
                )
            if period_problem:
                slots_read += len(points)
                errors.append(RowError(period.line or line, field, value, period_problem))
                continue
            slots = (end - start) // step
            if slots_read + slots > MAX_DOCUMENT_SLOTS:
                raise TooLarge(
                    path,
                    "time slots in the document's periods",
                    slots_read + slots,
                    MAX_DOCUMENT_SLOTS,
                )
            slots_read += slots
            positions = np.empty(len(points), dtype=np.int64)
            values = np.empty(len(points), dtype=np.float64)
            lines = np.empty(len(points), dtype=np.int64)
            for i, point in enumerate(points):
                lines[i] = point.line or 0
                position_text = _text(point, "position")
                value_text = _text(point, "price.amount" if is_price else "quantity")
                try:
                    positions[i] = int(position_text)
                except ValueError:
                    positions[i] = -1
                try:
                    values[i] = float(value_text)
                except ValueError:
                    values[i] = np.nan
                if not 1 <= positions[i] <= slots:
                    errors.append(
                        RowError(
                            int(lines[i]),
                            "position",
                            position_text,
                            f"position must be a whole number in 1…{slots}",
                        )
                    )
                elif not np.isfinite(values[i]):
                    errors.append(
                        RowError(int(lines[i]), "value", value_text, "value is not a number")
                    )
            ok = (positions >= 1) & (positions <= slots)
            kept = np.flatnonzero(ok)
            taken = _expand(positions[kept], values[kept], slots, curve == "A03")
            source = np.where(taken >= 0, kept[np.maximum(taken, 0)], -1)
            have = source >= 0
            have[have] = np.isfinite(values[source[have]])
            slot = np.flatnonzero(have)
            src = source[have]
            frames.append(
                pd.DataFrame(
                    {
                        "time_utc": pd.Timestamp(start) + pd.to_timedelta(slot * step),
                        "value": values[src],
                        "position": slot + 1,
                        "filled": positions[src] != slot + 1,
                        "source_line": lines[src],
                        "timeseries": number,
                        "resolution": resolution_text,
                        "curve_type": curve,
                        "psr_type": psr,
                        "mode": mode,
                        "unit": unit,
                        "domain": domain,
                        "direction": direction,
                    }
                )
            )
            missing = np.flatnonzero(~have & (source < 0))
            if len(missing) and curve == "A01":
                errors.append(
                    RowError(
                        period.line or line,
                        "position",
                        f"{len(missing)} of {slots}",
                        f"A01 period has no point at position(s) "
                        f"{', '.join(str(p + 1) for p in missing[:10])}"
                        + (" …" if len(missing) > 10 else ""),
                    )
                )
    if not series_list:
        raise UnsupportedDocument(path, "the document has no TimeSeries")
    if frames:
        data = pd.concat(frames, ignore_index=True)
    else:
        data = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    data["kind"] = kind
    data["zone"] = data["domain"].map(EIC_ZONES).fillna("").astype(str)
    data["time_utc"] = pd.to_datetime(data["time_utc"], utc=True).astype("datetime64[ns, UTC]")
    for name in ("position", "source_line", "timeseries"):
        data[name] = data[name].astype(np.int64)
    data["value"] = data["value"].astype(np.float64)
    data["filled"] = data["filled"].astype(bool)
    data = data[COLUMNS]
    errors.sort(key=lambda e: e.line or 0)
    meta = {
        "source": SOURCE,
        "path": str(path),
        "format": "xml",
        "document": root_name,
        "document_type": document_type,
        "kind": kind,
        "timeseries": len(series_list),
        "periods": periods_read,
        "points_in_file": points_in_file,
        "points_filled": int(data["filled"].sum()),
        "rows_read": slots_read,
        "rows_accepted": len(data),
        "rows_rejected": slots_read - len(data),
        "errors": errors,
    }
    return data, meta


#: Columns that identify a series; ``to_hourly`` keeps them and averages the values.
SERIES_KEYS = ["zone", "domain", "direction", "kind", "psr_type", "mode", "unit", "timeseries"]


def to_hourly(data: pd.DataFrame) -> pd.DataFrame:
    """Hourly means of sub-hourly rows (PT15M, PT30M → PT60M); hourly rows pass through.

    A value in MW is an average power over its slot, so the hourly mean of the slots is the
    average power over the hour, and numerically the energy of the hour in MWh: the
    aggregation keeps energy. A price (EUR/MWh) gets the plain (not volume-weighted) mean
    of its slots. Rows keep :data:`SERIES_KEYS`; ``time_utc`` is the start of the hour;
    ``resolution`` "PT60M"; ``n_slots`` the slots averaged and ``complete`` whether the
    hour had every slot its resolution implies (an incomplete hour is the mean of the slots
    present); ``filled`` true if any slot was an expanded A03 block.
    """
    if data.empty:
        return data.assign(n_slots=pd.Series(dtype=np.int64), complete=pd.Series(dtype=bool))
    minutes = data["resolution"].map(lambda r: parse_resolution(r) // timedelta(minutes=1))
    per_hour = (60 // minutes.clip(upper=60)).astype(np.int64)
    frame = data.assign(hour=data["time_utc"].dt.floor("h"), per_hour=per_hour.to_numpy(), one=1)
    grouped = frame.groupby([*SERIES_KEYS, "hour"], sort=True, observed=True)
    out = grouped.agg(
        value=("value", "mean"),
        n_slots=("one", "sum"),
        per_hour=("per_hour", "max"),
        filled=("filled", "any"),
        source_line=("source_line", "min"),
    ).reset_index()
    out["complete"] = out["n_slots"] >= out["per_hour"]
    out = out.rename(columns={"hour": "time_utc"}).drop(columns="per_hour")
    out["resolution"] = "PT60M"
    return out[HOURLY_COLUMNS]
