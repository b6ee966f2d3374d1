import json

from django import forms
from django.contrib import admin
from django.db import models

from speakers.models import Organisation, Speaker


class JSONFormField(forms.JSONField):
    """The admin's JSON field, showing refused input back as typed even when it held an escaped lone surrogate
    ("\\ud800"): the plain field writes that out raw, and the page then can't be encoded (a 500)."""

    def prepare_value(self, value):
        text = super().prepare_value(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value, cls=self.encoder)  # ASCII, escapes and all
        return text


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
    formfield_overrides = {models.JSONField: {"form_class": JSONFormField}}  # links (validated on the model)
