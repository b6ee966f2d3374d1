"""``python -m stripe_double``: run the Stripe test double until SIGTERM or Ctrl+C (the demo's `dev.py run` does).

A test double, never production code: see the package docstring.
"""

import argparse
import os
import signal
import threading

from stripe_double.server import StripeDouble


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_double",
        description="Run the Stripe test double until stopped: a local stand-in for Stripe's API with a plainly "
        "labelled test payment page. Point the site at it with STRIPE_API_BASE. Never use it in production.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8425, help="0 picks a free port (default: 8425)")
    parser.add_argument("--webhook-url", help="where to POST signed events, e.g. http://127.0.0.1:8000/stripe/webhook/")
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_test_double",
        help="signs the webhooks; the site's STRIPE_WEBHOOK_SECRET must match "
        "(default: $STRIPE_WEBHOOK_SECRET, else whsec_test_double)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="answer every API call (/v1) this many seconds late, as a slow Stripe does; e.g. 0.4 (default: 0)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request and webhook")
    args = parser.parse_args(argv)

    double = StripeDouble(
        host=args.host,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        verbose=args.verbose,
        latency_seconds=args.latency,
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    latency = f"; API answers {args.latency:g} s late" if args.latency else ""
    print(
        f"Stripe test double on {double.base_url}; webhooks to {double.webhook_url or 'nowhere'}{latency}", flush=True
    )
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()


if __name__ == "__main__":
    main()
