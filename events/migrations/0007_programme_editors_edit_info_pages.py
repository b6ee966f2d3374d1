"""Programme editors may write the event's information pages (venue, access, FAQ, terms...) as they write the
programme: add, change, delete and view. The event itself stays view-only for them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Programme editors"  # made by 0002_programme_editors_group
CODENAMES = ["add_infopage", "change_infopage", "delete_infopage", "view_infopage"]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations run; make them now so the group can be given them.
    app_config = apps.get_app_config("events")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="events", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name=GROUP_NAME):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="events", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("events", "0006_info_pages_and_venue_location"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
