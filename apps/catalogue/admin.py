from django.contrib import admin

from apps.catalogue.models import CNCode, DefaultValue


@admin.register(CNCode)
class CNCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "category", "sector", "in_cbam_scope")
    list_filter = ("sector", "in_cbam_scope")
    search_fields = ("code", "description")


@admin.register(DefaultValue)
class DefaultValueAdmin(admin.ModelAdmin):
    list_display = ("origin", "country", "cn_code", "description", "total_t_per_t", "dv_2026")
    list_filter = ("sector", "origin")
    search_fields = ("cn_code", "country", "description")
