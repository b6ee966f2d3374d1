"""Domain errors of the ticket desk. Views turn them into messages for the buyer."""


class TicketError(Exception):
    """Base class: the message is safe to show to the buyer."""


class SoldOut(TicketError):
    pass


class SalesClosed(TicketError):
    pass


class InvalidTransition(TicketError):
    pass


class NotRefundable(TicketError):
    """The order is not paid (pending, released or already refunded), so there is nothing to refund."""


class PaymentError(TicketError):
    """Stripe could not be reached or refused the request."""


class RefundUnconfirmed(PaymentError):
    """Stripe didn't answer a refund request, even when asked again: it may or may not have been made."""


class PaymentMismatch(TicketError):
    """Stripe reports a payment that does not match the order (amount or currency)."""


class TooManyUnpaidBookings(TicketError):
    """The buyer's client address or email already has the most unpaid bookings allowed at once (settings
    MAX_UNPAID_BOOKINGS_PER_CLIENT, MAX_UNPAID_BOOKINGS_PER_EMAIL). `by_email` says which limit; `count` is how
    many they have."""

    def __init__(self, message: str, *, count: int, by_email: bool):
        super().__init__(message)
        self.count, self.by_email = count, by_email
