from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        from events import signals  # noqa: F401  (connects the page-cache invalidation)
