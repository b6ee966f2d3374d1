from django.contrib import admin
from django.urls import include, path

from events.views import healthz
from tickets.views import stripe_webhook

admin.site.site_header = "Netroots organisers"
admin.site.site_title = "Netroots admin"
admin.site.index_title = "Run the event"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("speakers/", include("speakers.urls")),
    path("tickets/", include("tickets.urls")),
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
    path("", include("events.urls")),
]
