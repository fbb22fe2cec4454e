from django.contrib import admin

from apps.estimates.models import Estimate


@admin.register(Estimate)
class EstimateAdmin(admin.ModelAdmin):
    list_display = ("pk", "subject_key", "tier", "see_total_t_per_t", "trace_sha256")
    list_filter = ("tier", "methodology")
    search_fields = ("subject_key", "trace_sha256")
