import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.stripe_double import StripeDouble


class Command(BaseCommand):
    help = (
        "Run the Stripe test double (tickets/stripe_double.py) until stopped: a local stand-in for Stripe's API "
        "with a plainly labelled test payment page. Point the site at it with STRIPE_API_BASE."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8425)
        parser.add_argument(
            "--webhook-url", help="where to POST signed events, e.g. http://127.0.0.1:8000/stripe/webhook/"
        )
        parser.add_argument(
            "--webhook-secret",
            default=settings.STRIPE_WEBHOOK_SECRET or "whsec_test_double",
            help="signs the webhooks; the site's STRIPE_WEBHOOK_SECRET must match (default: that setting)",
        )
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args, **options) -> None:
        double = StripeDouble(
            host=options["host"],
            port=options["port"],
            webhook_url=options["webhook_url"],
            webhook_secret=options["webhook_secret"],
            verbose=options["verbose"],
        ).start()
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        self.stdout.write(f"Stripe test double on {double.base_url}; webhooks to {double.webhook_url or 'nowhere'}")
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            double.stop()
