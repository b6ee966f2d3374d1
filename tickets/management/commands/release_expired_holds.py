from django.core.management.base import BaseCommand

from tickets import services


class Command(BaseCommand):
    help = (
        "Release pending orders whose hold ran out (expiring their Stripe Checkout Sessions first) and retry "
        "refunds still owed. Safe to run every minute, even twice at once."
    )

    def handle(self, *args, **options) -> None:
        released = services.release_expired_holds()
        refunded = services.refund_owed_payments()
        self.stdout.write(f"Released {released} expired hold(s); refunded {refunded} payment(s) owed.")
