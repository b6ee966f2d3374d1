from urllib.parse import urlsplit

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def sync_site(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate: give django.contrib.sites' one Site (SITE_ID, which django.contrib.redirects needs) the
    host of SITE_URL, so that the admin's "View on site" links point at this site, not at "example.com"."""
    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    site = apps.get_model("sites", "Site")
    site.objects.using(using).update_or_create(pk=settings.SITE_ID, defaults={"domain": domain, "name": "Netroots UK"})


class SpeakersConfig(AppConfig):
    name = "speakers"

    def ready(self) -> None:
        post_migrate.connect(sync_site, sender=self, dispatch_uid="speakers.sync_site")
