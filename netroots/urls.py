"""The site's URLs: every public page, and which of them the page cache serves (netroots.pagecache).

The programme's, the organisations' and the event information pages are cached here, where the site
is put together, so that the apps' views know nothing of the cache. The ticket desk's pages are never
cached. robots.txt, favicon.ico and sitemap.xml are what crawlers and browsers ask every site for.
"""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from events import views as programme
from netroots import views
from netroots.pagecache import PROGRAMME, SALES, cached_page
from netroots.sitemaps import SITEMAPS
from tickets.views import stripe_webhook

admin.site.site_header = "Netroots organisers"
admin.site.site_title = "Netroots admin"
admin.site.index_title = "Run the event"

# Pages that show the sales state (netroots.context_processors: `sales`) change with orders and with time alone.
cached_sales_page = cached_page(versions=(PROGRAMME, SALES), fresh_until=views.sales_state_changes_at)

programme_pages = [
    path("programme/", cached_page(vary_on_params=("kind", "track"))(programme.session_list), name="session-list"),
    path("programme/<slug:slug>/", cached_sales_page(programme.session_detail), name="session-detail"),
    path("programme/<slug:slug>/calendar.ics", programme.session_ics, name="session-ics"),
    path("info/<slug:kind>/", cached_page()(programme.info_page), name="info-page"),
]
speaker_pages = [
    path("speakers/", cached_page()(programme.speaker_list), name="speaker-list"),
    path("speakers/<slug:slug>/", cached_page()(programme.speaker_detail), name="speaker-detail"),
    path("organisations/", cached_page()(programme.organisation_list), name="organisation-list"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", cached_sales_page(views.home), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include((programme_pages, "events"))),
    path("", include((speaker_pages, "speakers"))),
    path("tickets/", include("tickets.urls")),
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]
