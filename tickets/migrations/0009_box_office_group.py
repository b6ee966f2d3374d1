"""Create the "Box office" group: may look after orders (the list, each order's page, the buyer's details),
refund them, export attendees and resend confirmations; may see tickets, refunds and background tasks (refund
messages link to the refunds list). Nothing of the programme (events, sessions, speakers), no check-in, no users."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Box office"
PERMISSIONS = [
    ("tickets", "view_order"),
    ("tickets", "change_order"),  # the buyer's name and email, and refunds (the refund action asks for "change")
    ("tickets", "view_ticket"),
    ("tickets", "view_refund"),
    ("tickets", "view_email"),  # the order page's emails: whether the confirmation went, or what failed
    ("tickets", "view_orderlog"),
    ("tickets", "view_stripeevent"),
    ("django_tasks_database", "view_dbtaskresult"),  # background tasks: what ran, what failed
]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations run; make these apps' now so the group can use them.
    for app_label in sorted({app_label for app_label, _ in PERMISSIONS}):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_tasks_database", "0001_initial"),
        ("tickets", "0008_refund_attempts"),
    ]
    operations = [migrations.RunPython(create_group, delete_group)]
