"""Create the "Programme editors" group: may edit sessions, rooms, tracks, speakers and
organisations, and nothing else (not the event's price or capacity, not users)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Programme editors"
EDITABLE = {"events": ["session", "sessionspeaker", "room", "track"], "speakers": ["speaker", "organisation"]}
VIEW_ONLY = {"events": ["event"]}


def codenames(app_label: str, models: dict[str, list[str]], actions: list[str]) -> list[tuple[str, str]]:
    return [(app_label, f"{action}_{model}") for model in models.get(app_label, []) for action in actions]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations run; make them now so the group can use them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    wanted = []
    for app_label in ("events", "speakers"):
        wanted += codenames(app_label, EDITABLE, ["add", "change", "delete", "view"])
        wanted += codenames(app_label, VIEW_ONLY, ["view"])
    for app_label, codename in wanted:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("events", "0001_initial"),
        ("speakers", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_group, delete_group)]
