"""Estimates in the admin: read-only.

An estimate's served columns are copies of its trace's result, and its trace is recorded
in the audit log (``estimate.create``); an edit in the admin would change a served number
with no event and no new trace (issue #16 item 11). A correction is a new estimate made by
the services (a restated disclosure supersedes the earlier one), never an edit.
"""

from __future__ import annotations

from django.contrib import admin

from apps.common.admin import ReadOnlyModelAdmin
from apps.estimates.models import Estimate


@admin.register(Estimate)
class EstimateAdmin(ReadOnlyModelAdmin):
    list_display = ("pk", "subject_key", "tier", "see_total_t_per_t", "trace_sha256")
    list_filter = ("tier", "methodology")
    search_fields = ("subject_key", "trace_sha256")
