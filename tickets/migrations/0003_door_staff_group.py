"""Create the "Door staff" group: may check tickets in at the door, and nothing else
(no orders, no buyers' details, no refunds, not even the ticket list)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Door staff"
PERMISSIONS = [("tickets", "check_in_ticket")]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations run; make the tickets ones now so the group can use them.
    app_config = apps.get_app_config("tickets")
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
        ("tickets", "0002_ticket_check_in_permission"),
    ]
    operations = [migrations.RunPython(create_group, delete_group)]
