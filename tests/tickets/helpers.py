"""Shared steps for the ticket tests: reserve through the form, pay at the Stripe double, deliver signed webhooks."""

from datetime import datetime, timedelta

from django.utils import timezone

from tests.factories import EventFactory, OrderFactory
from tickets import services
from tickets.exceptions import PaymentError
from tickets.models import Order, OrderStatus, Ticket

WEBHOOK = "/stripe/webhook/"


def reserve_over_http(client, *, quantity: int = 2, email: str = "ada@example.com", names: str = "") -> Order:
    """POST the reservation form (as a browser does) and return the new order; the response must redirect."""
    response = client.post(
        "/tickets/",
        {"quantity": quantity, "buyer_name": "Ada Activist", "buyer_email": email, "attendee_names": names},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.latest("pk")
    assert response["Location"].endswith(f"/pay/{order.stripe_checkout_session_id}")
    return order


def pay_at_stripe(double, order: Order, *, outcome: str = "paid") -> dict:
    """The buyer pays at Stripe (the double): the order's Checkout Session is opened if it has none, then completed.

    Our webhook is not called; returns the checkout.session.completed event, to deliver or not.
    """
    if not order.stripe_checkout_session_id:
        services.start_checkout(order=order)
    double.complete(order.stripe_checkout_session_id, outcome=outcome)
    return last_event(double, "checkout.session.completed")


def paid_order(double, **fields) -> Order:
    """An OrderFactory order paid for real: at Stripe (the double, which then knows its payment), then fulfilled."""
    order = OrderFactory(**fields)
    pay_at_stripe(double, order)
    order = services.fulfil_checkout(session_id=order.stripe_checkout_session_id)
    assert order.status == OrderStatus.PAID
    return order


def expire_hold(order: Order) -> None:
    """The order's hold runs out (it is not released yet: that is release_expired_holds' job)."""
    Order.objects.filter(pk=order.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))


def pay_after_release(double, *, capacity: int, rival_quantity: int) -> tuple[Order, dict]:
    """Order A (2 seats) is paid at Stripe just as its hold is released locally; a rival may take the seats meanwhile.

    Returns A and its checkout.session.completed event, not delivered yet.
    """
    event = EventFactory(capacity=capacity)
    order = OrderFactory(event=event, quantity=2)
    completed = pay_at_stripe(double, order)
    services._release(order.pk, OrderStatus.EXPIRED, note="hold expired (the race)")
    if rival_quantity:
        services.reserve_tickets(
            event=event, buyer_name="Rival", buyer_email="rival@example.com", quantity=rival_quantity
        )
    return order, completed


def stripe_down(**kwargs):
    """Monkeypatch in for a call to Stripe (tickets.payments) while Stripe can't be reached."""
    raise PaymentError("Stripe unreachable")


def run_release_task() -> int:
    """Enqueue the periodic release_expired_holds task (run at once by the test backend); returns how many holds
    it released, as the task returned it."""
    result = services.release_expired_holds_task.enqueue()
    result.refresh()
    assert result.status == "SUCCESSFUL", result.errors
    return result.return_value


def deliver(client, double, event: dict, **sign):
    """POST an event to our webhook, signed as Stripe signs it."""
    body, headers = double.signed_payload(event, **sign)
    return client.post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"]
    )


def last_event(double, type_: str) -> dict:
    return double.events(type_)[-1]


def make_order(
    event,
    *names: str,
    status: str = OrderStatus.PAID,
    buyer_name: str = "Ada Activist",
    buyer_email: str = "ada@example.com",
    paid_at: datetime | None = None,
    hold_expires_at: datetime | None = None,
) -> Order:
    """An order in any state (OrderFactory), with a ticket per name whatever the state: the door must not rely on it."""
    names = names or ("Grace Hopper",)
    was_paid = status in (OrderStatus.PAID, OrderStatus.REFUNDED)
    return OrderFactory(
        event=event,
        quantity=len(names),
        attendee_names=list(names),
        status=status,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        paid_at=paid_at or (timezone.now() if was_paid else None),
        tickets=True,
        **({"hold_expires_at": hold_expires_at} if hold_expires_at else {}),
    )


def ticket_of(order: Order) -> Ticket:
    """The order's one ticket."""
    return order.tickets.get()


def reserve(event, *, name: str, email: str, quantity: int = 1) -> Order:
    """A pending order made as the reservation form makes it (services.reserve_tickets), without Stripe."""
    return services.reserve_tickets(event=event, buyer_name=name, buyer_email=email, quantity=quantity)


def set_status(order: Order, status: str) -> Order:
    """Force an order's status (and paid_at) in the database, bypassing the services: for admin display tests."""
    Order.objects.filter(pk=order.pk).update(status=status, paid_at=timezone.now())
    order.refresh_from_db()
    return order
