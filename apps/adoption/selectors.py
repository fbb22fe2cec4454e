"""Reads of methodology versions: the coalition's configuration, each version's status, the
version figures are computed under, and the figures of sample cases under two versions."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

import methodologies
from apps.adoption.models import MethodologyVersion
from methodologies.errors import MethodologyError
from methodologies.versions import apply_parameters, runnable_here, version_manifest
from verifier.adoption import check_adoption, parse_member_keys, render_record
from verifier.errors import FormatError
from verifier.note import NoteKey

ADOPTED, PREVIEW, RETIRED = "adopted", "preview", "retired"


@dataclass(frozen=True)
class Coalition:
    """The member keys (CM_COALITION_KEYS) and how many must sign (CM_ADOPTION_THRESHOLD;
    unset or 0: a majority). No keys: the instance runs alone and no adoption applies."""

    keys: list[NoteKey]
    threshold: int

    @property
    def enabled(self) -> bool:
        return bool(self.keys)


def coalition() -> Coalition:
    raw = settings.COALITION_KEYS or ""
    try:
        keys = parse_member_keys(raw) if raw.strip() else []
    except FormatError as exc:
        raise ImproperlyConfigured(f"CM_COALITION_KEYS: {exc}") from None
    threshold = settings.ADOPTION_THRESHOLD or len(keys) // 2 + 1
    if keys and not 1 <= threshold <= len(keys):
        raise ImproperlyConfigured(
            f"CM_ADOPTION_THRESHOLD={threshold} must be between 1 and the {len(keys)} member keys"
        )
    return Coalition(keys, threshold)


def version_lines(version: MethodologyVersion) -> list[str]:
    return [s.line for s in version.signatures.all()]


def version_signers(version: MethodologyVersion, members: Coalition | None = None) -> list[str]:
    """The configured members whose signature on the version's record verifies."""
    members = members or coalition()
    if not members.enabled:
        return []
    return check_adoption(
        version.statement, version_lines(version), members.keys, members.threshold
    ).signers


def version_status(version: MethodologyVersion, members: Coalition | None = None) -> str:
    """``retired``, ``adopted`` (k of the configured member keys signed) or ``preview``."""
    if version.retired_at is not None:
        return RETIRED
    members = members or coalition()
    return ADOPTED if len(version_signers(version, members)) >= members.threshold else PREVIEW


def version_record(version: MethodologyVersion) -> str:
    """The adoption record as a signed note (text, blank line, signature lines)."""
    return render_record(version.statement, version_lines(version))


def version_list() -> QuerySet[MethodologyVersion]:
    return MethodologyVersion.objects.prefetch_related("signatures").select_related("proposed_by")


@functools.cache
def _here() -> dict[str, Any]:
    return version_manifest()


def version_runs_here(version: MethodologyVersion) -> bool:
    """Whether the engine installed here is the version's (code, tables, methodologies)."""
    here = _here()
    return all(version.manifest.get(p) == here[p] for p in ("engine", "code", "tables"))


def version_differences_here(version: MethodologyVersion) -> list[str]:
    return runnable_here(version.manifest)


@dataclass(frozen=True)
class Stamp:
    """What a trace computed now records of its adoption (docs/adoption.md): ``block`` is
    the trace's ``adoption`` object (None when the instance runs alone)."""

    block: dict[str, Any] | None
    version: MethodologyVersion | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def preview(self) -> bool:
        return self.block is not None and self.block["status"] != ADOPTED


def version_current() -> Stamp:
    """The version figures are computed under now: the newest adopted, unretired version
    this engine runs; else the newest proposed one it runs, as a preview; else none (a
    preview of no record). Figures of an instance without member keys carry no stamp."""
    members = coalition()
    if not members.enabled:
        return Stamp(None)
    runnable = [v for v in version_list().filter(retired_at__isnull=True) if version_runs_here(v)]
    adopted = [v for v in runnable if version_status(v, members) == ADOPTED]
    chosen = (adopted or runnable or [None])[0]
    block: dict[str, Any] = {
        "status": ADOPTED if adopted else PREVIEW,
        "threshold": members.threshold,
        "members": len(members.keys),
        "version": chosen.label if chosen else None,
        "digest": chosen.digest if chosen else None,
        "record": version_record(chosen) if chosen else None,
    }
    parameters = chosen.manifest.get("parameters", {}) if chosen else {}
    return Stamp(block, chosen, parameters)


@dataclass(frozen=True)
class SampleCase:
    """One figure to recompute under two versions: a label, the mass it multiplies and
    the engine case of its estimate."""

    key: str
    net_mass_t: float
    case: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _figure(case: dict[str, Any], version: MethodologyVersion) -> float | str:
    if not version_runs_here(version):
        return "not runnable here"
    try:
        out = methodologies.run_case(apply_parameters(case, version.manifest.get("parameters", {})))
    except MethodologyError as exc:
        return f"error: {exc}"
    return float(out["see_total_t_per_t"])


def version_compare(
    *, a: MethodologyVersion, b: MethodologyVersion, items: list[SampleCase]
) -> list[dict[str, Any]]:
    """Each sample case's SEE and embedded emissions under ``a`` and under ``b`` (the
    engine run on the stored case with each version's parameter set). A version whose
    code or tables are not the ones installed here is not run: said in the row."""
    rows = []
    for item in items:
        row: dict[str, Any] = {"key": item.key, "net_mass_t": item.net_mass_t, **item.extra}
        for side, version in (("a", a), ("b", b)):
            see = _figure(item.case, version)
            row[f"{side}_see_total_t_per_t"] = see
            row[f"{side}_embedded_emissions_t"] = (
                see * item.net_mass_t if isinstance(see, float) else None
            )
        sa, sb = row["a_see_total_t_per_t"], row["b_see_total_t_per_t"]
        row["changed"] = not (isinstance(sa, float) and isinstance(sb, float) and sa == sb)
        row["delta_embedded_emissions_t"] = (
            row["b_embedded_emissions_t"] - row["a_embedded_emissions_t"]
            if isinstance(sa, float) and isinstance(sb, float)
            else None
        )
        rows.append(row)
    return rows
