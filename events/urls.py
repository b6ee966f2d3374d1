from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("", views.event_detail, name="event-detail"),
    path("programme/", views.session_list, name="session-list"),
    path("programme/<slug:slug>/", views.session_detail, name="session-detail"),
    path("programme/<slug:slug>/calendar.ics", views.session_ics, name="session-ics"),
    path("organisations/", views.organisation_list, name="organisation-list"),
]
