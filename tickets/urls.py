from django.urls import path

from tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.reserve, name="reserve"),
    path("find/", views.find_booking, name="find-booking"),
    path("checkout/success/", views.checkout_success, name="checkout-success"),
    path("order/<str:reference>/<str:secret>/", views.order_detail, name="order-detail"),
    path("order/<str:reference>/<str:secret>/cancel/", views.checkout_cancel, name="checkout-cancel"),
    path("order/<str:reference>/<str:secret>/calendar.ics", views.order_calendar, name="order-calendar"),
]
