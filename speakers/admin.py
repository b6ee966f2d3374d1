from django.contrib import admin
from django.db import models

from speakers.models import Organisation, Speaker


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "url"]
    list_filter = ["kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "organisation", "is_featured"]
    list_filter = ["is_featured", "organisation__kind"]
    list_select_related = ["organisation"]
    search_fields = ["name", "role", "organisation__name"]
    autocomplete_fields = ["organisation"]
    prepopulated_fields = {"slug": ["name"]}
