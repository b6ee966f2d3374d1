from django.apps import AppConfig

from netroots import signals


class NetrootsConfig(AppConfig):
    """The site itself: it has no models, only the page cache's invalidation to connect."""

    name = "netroots"

    def ready(self) -> None:
        signals.connect(self.apps.get_models(include_auto_created=True))
