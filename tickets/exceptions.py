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


class PaymentMismatch(TicketError):
    """Stripe reports a payment that does not match the order (amount or currency)."""
