"""Refunding orders from the admin, always confirmed on a page that lists what will happen.

Whether an order may be refunded is decided by Order.is_refundable, and the refund itself by
services.refund_order (which refuses with NotRefundable): this module only asks and reports.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import ngettext

from tickets import services
from tickets.exceptions import NotRefundable, PaymentError
from tickets.models import Order


class OrderRefunds:
    """The refund action and each order's refund page, mixed into the order admin (an admin.ModelAdmin)."""

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [path("<path:object_id>/refund/", refund, name="tickets_order_refund"), *super().get_urls()]

    @admin.action(description="Refund selected paid orders (through Stripe, emails the buyer)", permissions=["change"])
    def refund(self, request, queryset) -> TemplateResponse | None:
        """First show what would be refunded; refund only when that page's form comes back with `confirm`."""
        orders = list(queryset.prefetch_related("tickets"))
        if request.POST.get("confirm") == "yes" or not any(order.is_refundable for order in orders):
            self._refund_orders(request, orders)  # nothing refundable: nothing to confirm, just say why
            return None
        return self._refund_confirmation(request, orders, cancel_url=request.get_full_path())

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One order's refund, from its change page: GET asks, POST refunds."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        change_url = reverse("admin:tickets_order_change", args=[order.pk], current_app=self.admin_site.name)
        if request.method == "POST" or not order.is_refundable:
            self._refund_orders(request, [order])
            return HttpResponseRedirect(change_url)
        return self._refund_confirmation(request, [order], cancel_url=change_url, order=order)

    def _refund_confirmation(
        self, request: HttpRequest, orders: list[Order], *, cancel_url: str, order: Order | None = None
    ) -> TemplateResponse:
        refundable = [o for o in orders if o.is_refundable]
        title = (
            f"Refund order {order.reference}?"
            if order
            else ngettext("Refund %d order?", "Refund %d orders?", len(refundable)) % len(refundable)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "order": order,  # None when the refund action was chosen in the list
            "orders": orders,
            "refundable": refundable,
            "not_refundable": [o for o in orders if not o.is_refundable],
            "total_pence": sum(o.total_pence for o in refundable),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tickets/order/refund_confirmation.html", context)

    def _refund_orders(self, request: HttpRequest, orders: list[Order]) -> None:
        """Ask services.refund_order for each order, and report what it did or why it didn't."""
        done = 0
        for order in orders:
            try:
                if services.refund_order(order_id=order.pk).is_refunded:
                    done += 1
            except NotRefundable as exc:
                self.message_user(request, str(exc), messages.WARNING)
            except PaymentError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
        summary = ngettext("%d order refunded.", "%d orders refunded.", done) % done
        self.message_user(request, summary, messages.SUCCESS if done else messages.WARNING)
