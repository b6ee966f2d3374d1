from django.contrib import admin
from django.urls import include, path

from events.views import healthz

admin.site.site_header = "Netroots organisers"
admin.site.site_title = "Netroots admin"
admin.site.index_title = "Run the event"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("speakers/", include("speakers.urls")),
    path("", include("events.urls")),
]
