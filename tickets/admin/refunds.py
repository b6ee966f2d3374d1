"""Refunding orders from the admin, always confirmed on a page that lists what will happen.

Whether an order may be refunded is decided by Order.is_refundable, what it costs by Order.refund_amount_for,
and the refund itself by services.refund_order (which refuses with NotRefundable, and leaves Stripe to a task):
this module only asks and reports. The action refunds whole orders; an order's own refund page lets the organiser
choose its tickets. The refunds list (RefundAdmin) follows them until Stripe has answered.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from tickets import services
from tickets.admin.display import ReadOnlyAdmin, local_time
from tickets.exceptions import NotRefundable
from tickets.models import MONEY_BACK, Order, Refund, RefundStatus
from tickets.templatetags.money import pounds


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
        """Ask services.refund_order for each order (its `ticket_ids`, or all its tickets left). Each request is
        recorded at once and Stripe is asked by a task (services.process_refund), so the organiser hears at once
        that the refunds are under way, with a link to the refunds list, which shows each as Stripe answers."""
        requested = []
        for order in orders:
            try:
                requested.append(services.refund_order(order_id=order.pk, ticket_ids=ticket_ids, by=request.user))
            except NotRefundable as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if not requested:
            if orders:
                self.message_user(request, "No refunds were made.", messages.WARNING)
            return
        total = sum(refund.amount_pence for refund in requested)
        ids = ",".join(str(refund.pk) for refund in requested)
        progress = f"{reverse('admin:tickets_refund_changelist', current_app=self.admin_site.name)}?pk__in={ids}"
        refunds = ngettext("The refund of %d order", "Refunds of %d orders", len(requested)) % len(requested)
        # The link only for those who may open the refunds list (a role with change_order alone may not).
        follow = (
            format_html('. <a href="{}">Follow them on the refunds list</a>;', progress)
            if request.user.has_perm("tickets.view_refund")
            else ";"
        )
        self.message_user(
            request,
            format_html(
                "{} ({}) {} under way: Stripe is being asked now{} each order says when its refund is done.",
                refunds,
                pounds(total),
                "is" if len(requested) == 1 else "are",
                follow,
            ),
            messages.SUCCESS,
        )


PROGRESS_REFRESH_SECONDS = 3


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Every refund, read-only: what was asked, what Stripe said, how often it was asked and the last error.
    While refunds on the page are still under way it counts them and reloads itself (a Refresh header, no script)."""

    list_display = ["order", "amount", "status", "made_by_label", "requested", "attempts", "last_error"]
    list_select_related = ["order", "made_by"]
    list_filter = ["status", "source"]
    search_fields = ["order__reference", "order__buyer_email", "stripe_refund_id"]
    fields = ["order", "amount", "status", "source", "made_by", "requested", "attempts", "last_error"]
    fields += ["stripe_refund_id", "idempotency_key"]
    readonly_fields = fields
    requested = local_time("created_at", "Requested")

    @admin.display(description="Amount", ordering="amount_pence")
    def amount(self, refund: Refund) -> str:
        return pounds(refund.amount_pence)

    @admin.display(description="Made by")
    def made_by_label(self, refund: Refund) -> str:
        return refund.made_by_label

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is None:
            return response
        counts = dict(changelist.queryset.order_by().values_list("status").annotate(n=Count("pk")))
        progress = {
            "under_way": counts.get(RefundStatus.REQUESTED, 0),
            "done": sum(counts.get(status, 0) for status in MONEY_BACK),
            "failed": counts.get(RefundStatus.FAILED, 0),
        }
        response.context_data["refund_progress"] = progress
        if progress["under_way"]:
            response["Refresh"] = str(PROGRESS_REFRESH_SECONDS)
        return response
