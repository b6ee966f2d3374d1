"""Refunding orders from the admin, always confirmed on a page that lists what will happen.

Whether an order may be refunded is decided by Order.is_refundable, what it costs by Order.refund_amount_for,
and the refund itself by services.refund_order (which refuses with NotRefundable): this module only asks and
reports. The action refunds whole orders; an order's own refund page lets the organiser choose its tickets.
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
from tickets.exceptions import NotRefundable, PaymentError, RefundUnconfirmed
from tickets.models import Order, Ticket
from tickets.templatetags.money import pounds


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
        """One order's refund, from its change page: GET asks which tickets (all by default), POST refunds them."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        change_url = reverse("admin:tickets_order_change", args=[order.pk], current_app=self.admin_site.name)
        if request.method == "POST" and order.is_refundable:
            chosen = request.POST.getlist("ticket")
            if not chosen:
                self.message_user(request, "Choose at least one ticket to refund.", messages.ERROR)
                return self._refund_confirmation(request, [order], cancel_url=change_url, order=order, chosen=set())
            try:
                ticket_ids = [int(pk) for pk in chosen]
            except ValueError:
                return HttpResponse("Those tickets are not this order's.", status=400)
            self._refund_orders(request, [order], ticket_ids=ticket_ids)
            return HttpResponseRedirect(change_url)
        if request.method == "POST" or not order.is_refundable:
            self._refund_orders(request, [order])
            return HttpResponseRedirect(change_url)
        return self._refund_confirmation(request, [order], cancel_url=change_url, order=order)

    def _refund_confirmation(
        self,
        request: HttpRequest,
        orders: list[Order],
        *,
        cancel_url: str,
        order: Order | None = None,
        chosen: set[int] | None = None,
    ) -> TemplateResponse:
        """The page that asks first. `order` set: that order's page, with a checkbox per ticket it may still refund
        (those in `chosen`, or all, ticked). Tickets already checked in are named, since refunding them is unusual."""
        refundable = [o for o in orders if o.is_refundable]
        rows = []
        for paid in refundable:
            tickets = list(paid.tickets.all())
            open_tickets = [ticket for ticket in tickets if ticket.refund_id is None]
            rows.append(
                {
                    "order": paid,
                    "tickets": open_tickets,
                    "done": [ticket for ticket in tickets if ticket.refund_id is not None],
                    "used": [ticket for ticket in open_tickets if ticket.checked_in_at],
                    "amount_pence": paid.refund_amount_for(len(open_tickets)),
                }
            )
        title = (
            f"Refund tickets of order {order.reference}?"
            if order
            else ngettext("Refund %d order?", "Refund %d orders?", len(refundable)) % len(refundable)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "order": order,  # None when the refund action was chosen in the list
            "orders": orders,
            "rows": rows,
            "refundable": refundable,
            "used": [ticket for row in rows for ticket in row["used"]],
            "chosen": chosen,
            "not_refundable": [o for o in orders if not o.is_refundable],
            "total_pence": sum(row["amount_pence"] for row in rows),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tickets/order/refund_confirmation.html", context)

    def _refund_orders(self, request: HttpRequest, orders: list[Order], *, ticket_ids: list[int] | None = None) -> None:
        """Ask services.refund_order for each order (its `ticket_ids`, or all its tickets left), and report what
        really happened: refunded, partly refunded, refused by Stripe, or not known yet (Stripe didn't answer)."""
        full = partial = 0
        for order in orders:
            try:
                refunded = services.refund_order(order_id=order.pk, ticket_ids=ticket_ids, by=request.user)
            except NotRefundable as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            except RefundUnconfirmed as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.WARNING)
                continue
            except PaymentError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
                continue
            if refunded.is_refunded:
                full += 1
                continue
            partial += 1
            void = Ticket.objects.filter(order=refunded).void().count()
            self.message_user(
                request,
                f"{refunded.reference}: {_plural(void, 'ticket')} of {refunded.quantity} refunded, "
                f"{pounds(refunded.refunded_pence)} in all; {pounds(refunded.remaining_pence)} stays paid "
                "and the other tickets stay valid.",
                messages.SUCCESS,
            )
        if full or not partial:
            summary = ngettext("%d order refunded.", "%d orders refunded.", full) % full
            self.message_user(request, summary, messages.SUCCESS if full else messages.WARNING)
