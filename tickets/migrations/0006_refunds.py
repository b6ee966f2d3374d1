import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def itemise_earlier_refunds(apps, schema_editor):
    """Orders refunded before refunds were itemised: one refund each for the whole total, their tickets void."""
    Order = apps.get_model("tickets", "Order")
    Refund = apps.get_model("tickets", "Refund")
    Ticket = apps.get_model("tickets", "Ticket")
    for order in Order.objects.filter(status="refunded").iterator():
        refund = Refund.objects.create(
            order=order,
            amount_pence=order.total_pence,
            status="succeeded",
            source="earlier",
            stripe_refund_id=order.stripe_refund_id,
            created_at=order.refunded_at or order.updated_at,
        )
        Ticket.objects.filter(order=order).update(refund=refund, refunded_at=order.refunded_at or order.updated_at)


def forget_itemised_refunds(apps, schema_editor):
    """Backwards: the refund rows and ticket columns go with the schema; orders keep their own refund fields."""


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_email_claimed_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="refunded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="Refund",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("amount_pence", models.PositiveIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "Asked of Stripe, no answer yet"),
                            ("pending", "On its way (Stripe)"),
                            ("succeeded", "Refunded"),
                            ("failed", "Failed at Stripe"),
                        ],
                        default="requested",
                        max_length=10,
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("organiser", "An organiser"),
                            ("dashboard", "Stripe dashboard"),
                            ("automatic", "Automatic"),
                            ("earlier", "Before refunds were itemised"),
                        ],
                        max_length=10,
                    ),
                ),
                ("stripe_refund_id", models.CharField(blank=True, default="", max_length=255)),
                ("idempotency_key", models.CharField(blank=True, default="", max_length=100)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "made_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="refunds", to="tickets.order"
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "pk"],
            },
        ),
        migrations.AddField(
            model_name="ticket",
            name="refund",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="tickets",
                to="tickets.refund",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_pence__gte", 1)), name="refund_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["requested", "pending", "succeeded", "failed"])),
                name="refund_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.UniqueConstraint(
                condition=models.Q(("stripe_refund_id", ""), _negated=True),
                fields=("stripe_refund_id",),
                name="refund_unique_stripe_refund",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.UniqueConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                fields=("idempotency_key",),
                name="refund_unique_idempotency_key",
            ),
        ),
        migrations.RunPython(itemise_earlier_refunds, forget_itemised_refunds),
    ]
