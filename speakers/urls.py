from django.urls import path

from speakers import views

app_name = "speakers"
urlpatterns = [
    path("", views.speaker_list, name="speaker-list"),
    path("<slug:slug>/", views.speaker_detail, name="speaker-detail"),
]
