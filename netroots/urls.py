"""The site's URLs: every public page, and which of them the page cache serves (netroots.pagecache).

The programme's and the organisations' pages are cached here, where the site is put together, so
that the apps' views know nothing of the cache. The ticket desk's pages are never cached.
"""

from django.contrib import admin
from django.urls import include, path

from events import views as programme
from netroots import views
from netroots.pagecache import PROGRAMME, SALES, cached_page
from tickets.views import stripe_webhook

admin.site.site_header = "Netroots organisers"
admin.site.site_title = "Netroots admin"
admin.site.index_title = "Run the event"

programme_pages = [
    path("programme/", cached_page(vary_on_params=("kind", "track"))(programme.session_list), name="session-list"),
    path("programme/<slug:slug>/", cached_page()(programme.session_detail), name="session-detail"),
    path("programme/<slug:slug>/calendar.ics", programme.session_ics, name="session-ics"),
]
speaker_pages = [
    path("speakers/", cached_page()(programme.speaker_list), name="speaker-list"),
    path("speakers/<slug:slug>/", cached_page()(programme.speaker_detail), name="speaker-detail"),
    path("organisations/", cached_page()(programme.organisation_list), name="organisation-list"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "", cached_page(versions=(PROGRAMME, SALES), fresh_until=views.sales_state_changes_at)(views.home), name="home"
    ),
    path("healthz", views.healthz, name="healthz"),
    path("", include((programme_pages, "events"))),
    path("", include((speaker_pages, "speakers"))),
    path("tickets/", include("tickets.urls")),
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]
