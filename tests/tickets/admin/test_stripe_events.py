"""The list of webhook events Stripe sent us: it runs the same queries however long it is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EventFactory, OrderFactory
from tickets.models import StripeEvent

pytestmark = pytest.mark.django_db


def test_stripe_event_list_queries_do_not_grow_with_its_rows(client, organiser):
    event = EventFactory()

    def queries_for(rows: int) -> int:
        for _ in range(rows - StripeEvent.objects.count()):
            n = StripeEvent.objects.count()
            StripeEvent.objects.create(
                stripe_event_id=f"evt_{n}",
                type="checkout.session.completed",
                order=OrderFactory(event=event, paid=True),
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/tickets/stripeevent/")
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == rows
        return len(queries)

    assert queries_for(2) == queries_for(12)
