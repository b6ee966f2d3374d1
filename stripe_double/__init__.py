"""A Stripe TEST DOUBLE for the tests, the local demo and the benchmarks. It is never production code.

It is a small local HTTP server that answers Stripe's API for exactly the calls Netroots makes (tickets/payments.py),
with a plainly labelled test payment page and signed webhooks, so that the real `stripe` library can be pointed at
it (``STRIPE_API_BASE``) where Stripe itself can't be reached. No money moves and nothing it holds outlives it.

It stands apart from the site on purpose: it imports neither Django nor anything of Netroots (only the `stripe`
library, for the API version its events carry); nothing under netroots/, events/, speakers/ or tickets/ imports it;
and the Docker image leaves it out, with tests/ and bench/ (.dockerignore).

    from stripe_double import StripeDouble          # in tests (the `stripe_double` fixture) and benchmarks
    python -m stripe_double --port 8425 --webhook-url http://127.0.0.1:8000/stripe/webhook/ \\
        --webhook-secret whsec_... [--latency 0.4]  # standalone, as `dev.py run` starts it for the demo

What it answers, what it refuses, and the fields it promises (checked against the `stripe` library's own
annotations by tests/stripe_double/test_contract.py): stripe_double/server.py.
"""

from stripe_double.server import FIELDS, StripeDouble, StripeDoubleError

__all__ = ["FIELDS", "StripeDouble", "StripeDoubleError"]
