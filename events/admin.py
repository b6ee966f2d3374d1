from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from events import scheduling
from events.models import Event, InfoPage, Room, Session, SessionSpeaker, Track


class SessionSpeakerFormSet(BaseInlineFormSet):
    """Refuses a speaker who would be in two places at once.

    The admin builds this formset with the session already updated from the main form, so the
    check sees the new time even when the time and the speakers change in one save.
    """

    def clean(self) -> None:
        super().clean()
        session = self.instance
        if any(self.errors) or not (session.starts_at and session.ends_at):
            return
        speaker_ids = [
            form.cleaned_data["speaker"].pk
            for form in self.forms
            if form.cleaned_data.get("speaker") and not form.cleaned_data.get("DELETE")
        ]
        if len(speaker_ids) != len(set(speaker_ids)):
            raise ValidationError("A speaker is listed twice for this session.")
        scheduling.check_speakers_free(session, speaker_ids)


class SessionSpeakerInline(admin.TabularInline):
    model = SessionSpeaker
    formset = SessionSpeakerFormSet
    autocomplete_fields = ["speaker"]
    fields = ["speaker", "position"]
    extra = 1


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_at", "venue", "ticket_price_pence", "capacity"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "description"]}),
        (
            "When and where",
            {"fields": ["starts_at", "ends_at", "venue", "address", "venue_latitude", "venue_longitude"]},
        ),
        (
            "Tickets",
            {
                "fields": [
                    "ticket_price_pence",
                    "capacity",
                    "per_order_limit",
                    "hold_minutes",
                    "sales_open_at",
                    "sales_close_at",
                ]
            },
        ),
        ("Information for attendees", {"fields": ["info_page_links"]}),
    ]
    readonly_fields = ["info_page_links"]

    @admin.display(description="Information pages")
    def info_page_links(self, event: Event) -> str:
        """The event's pages (venue, access, terms...), each a link to edit it, and a link to add one.

        Links, not an inline: a page's text is long, and the event's form stays one that posts its own fields only.
        """
        if event.pk is None:
            return "Save the event, then add its venue, accessibility, FAQ, terms and other pages here."
        pages = format_html_join(
            "",
            '<div><a href="{}">{}</a>{}</div>',
            (
                (
                    reverse("admin:events_infopage_change", args=[page.pk]),
                    page.title,
                    "" if page.is_published else " (draft)",
                )
                for page in event.info_pages.all()
            ),
        )
        add = reverse("admin:events_infopage_add") + f"?event={event.pk}"
        return format_html('{}<div><a class="addlink" href="{}">Add a page</a></div>', pages, add)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "event", "capacity", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["name", "event"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "ends_at", "room", "kind", "speaker_names", "is_published"]
    list_filter = ["kind", "room", "track", "is_published", "event"]
    search_fields = ["title", "abstract", "speakers__name"]
    list_select_related = ["room"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SessionSpeakerInline]
    actions = ["publish", "unpublish"]
    date_hierarchy = "starts_at"
    fieldsets = [
        (None, {"fields": ["event", "title", "slug", "kind", "track", "abstract"]}),
        ("Time and place", {"fields": ["starts_at", "ends_at", "room", "place_limit"]}),
        ("Visibility", {"fields": ["is_published"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speaker_roles__speaker")

    @admin.display(description="Speakers")
    def speaker_names(self, session: Session) -> str:
        return ", ".join(speaker.name for speaker in session.ordered_speakers)

    @admin.action(description="Publish selected sessions", permissions=["change"])
    def publish(self, request, queryset) -> None:
        self._set_published(request, queryset, is_published=True)

    @admin.action(description="Unpublish selected sessions", permissions=["change"])
    def unpublish(self, request, queryset) -> None:
        self._set_published(request, queryset, is_published=False)

    def _set_published(self, request, queryset, *, is_published: bool) -> None:
        # Save one by one (not queryset.update) so the page-cache signals fire.
        sessions = list(queryset.exclude(is_published=is_published))
        for session in sessions:
            session.is_published = is_published
            session.save(update_fields=["is_published"])
        verb = "published" if is_published else "unpublished"
        self.message_user(
            request,
            ngettext("%(n)d session %(verb)s.", "%(n)d sessions %(verb)s.", len(sessions))
            % {"n": len(sessions), "verb": verb},
            messages.SUCCESS,
        )


@admin.register(InfoPage)
class InfoPageAdmin(admin.ModelAdmin):
    """Venue, accessibility, FAQ, code of conduct, privacy, terms and contact: written in Markdown, shown at
    /info/<kind>/ and linked from every page's footer and the home page."""

    list_display = ["title", "kind", "event", "position", "is_published", "updated_at"]
    list_display_links = ["title"]
    list_editable = ["position", "is_published"]
    list_filter = ["kind", "is_published", "event"]
    search_fields = ["title", "summary", "body"]
    list_select_related = ["event"]
    formfield_overrides = {  # room to write: the admin's wide text boxes
        models.CharField: {"widget": forms.TextInput(attrs={"class": "vLargeTextField"})},  # not the kind: a <select>
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 24, "class": "vLargeTextField"})},
    }
    fieldsets = [
        (None, {"fields": ["event", "kind", "title", "summary", "body"]}),
        ("Listing", {"fields": ["position", "is_published"]}),
    ]

    def get_changeform_initial_data(self, request) -> dict:
        """A new page is for the current event unless the link says otherwise (?event=<id>)."""
        initial = super().get_changeform_initial_data(request)
        if "event" not in initial and (event := Event.objects.current()):
            initial["event"] = event.pk
        return initial
