"""Any committed change to what the public pages show gives the page cache a new version (netroots.pagecache).

Models are named by label, so this module imports none: netroots.apps connects the receivers in
ready(), to the watched models only (a receiver for every model would cost every other delete in the
project Django's fast path).

Writes that send no signal (QuerySet.update(), bulk_create()) bump nothing: code that makes them to
what a page shows bumps the version itself, as bench/synthetic.py does. tickets.services makes two
such updates to orders, neither of which changes the seats left: the Checkout Session's id and URL,
and a delayed payment's flag on an order whose hold is live (it holds its seats either way).
"""

from collections.abc import Iterable

from django.db.models.signals import m2m_changed, post_delete, post_save

from netroots.pagecache import PROGRAMME, SALES, bump_on_commit

# By app label or model label: what a change to a model invalidates.
VERSIONS = {
    "events": PROGRAMME,  # events, rooms, tracks, sessions and their speakers
    "speakers": PROGRAMME,  # speakers and organisations
    "tickets.Order": SALES,  # tickets left, on the home page
}


def version_of(model) -> str | None:
    """The page-cache version a change to `model` (a model class) invalidates, if any."""
    return VERSIONS.get(model._meta.label) or VERSIONS.get(model._meta.app_label)


def model_changed(sender, using=None, **kwargs) -> None:
    """post_save and post_delete of a watched model."""
    bump_on_commit(version_of(sender), using=using)


def relation_changed(sender, action: str, using=None, **kwargs) -> None:
    """m2m_changed, whose sender is the through model (a session's speakers: events.SessionSpeaker)."""
    if action.startswith("post_"):
        bump_on_commit(version_of(sender), using=using)


def connect(models: Iterable) -> None:
    """Connect the receivers to those of `models` whose changes show on public pages."""
    for model in models:
        if version_of(model):
            post_save.connect(model_changed, sender=model, dispatch_uid="netroots.pagecache")
            post_delete.connect(model_changed, sender=model, dispatch_uid="netroots.pagecache")
            m2m_changed.connect(relation_changed, sender=model, dispatch_uid="netroots.pagecache")
