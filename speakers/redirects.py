"""Permanent redirects from the old addresses of renamed pages, kept by django.contrib.redirects.

A speaker's or a session's slug is in its URLs, which people bookmark, share and (a session's calendar
file) subscribe to. When a slug changes, the model's save() (RedirectsOldURLs) calls `record_move`; from then on
RedirectFallbackMiddleware answers a 404 on an old path with a 301 to the new one. A page that answers
(200) always wins over a redirect, so a slug reused by another speaker or session is theirs. Organisers
see and can edit the redirects in the admin. Used by events.models too: a rule two apps share lives in
the lower one.

Writes that skip save() (QuerySet.update(), loaddata) record nothing.
"""

from django.conf import settings
from django.contrib.redirects.models import Redirect
from django.db import transaction


class RedirectsOldURLs:
    """Mixin for a model with a `slug` in its public URLs, which it lists in `public_paths(slug)`: saving it
    with a new slug records redirects from each old URL to the new one, in the same transaction."""

    @staticmethod
    def public_paths(slug: str) -> list[str]:
        raise NotImplementedError

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            before = self._slug_in_database(kwargs.get("update_fields"))
            super().save(*args, **kwargs)
            if before != self.slug:
                old = self.public_paths(before) if before else []
                record_move(old=old, new=self.public_paths(self.slug))

    def _slug_in_database(self, update_fields) -> str | None:
        """The slug saved now (None for a new row), or our own when this save can't change it."""
        if update_fields is not None and "slug" not in update_fields:
            return self.slug
        if self._state.adding:
            return None
        return type(self)._default_manager.filter(pk=self.pk).values_list("slug", flat=True).first()


def record_move(*, old: list[str], new: list[str]) -> None:
    """The page that was at each path of `old` is now at the path in the same place in `new` (`old` is empty
    for a new page). Call in the transaction that saves the change.

    A redirect from a path that now answers is dropped (renaming A to B and back makes no loop), and older
    redirects that led to an old path are pointed at the new one (no chains: one hop from any old URL).
    """
    redirects = Redirect.objects.filter(site_id=settings.SITE_ID)
    redirects.filter(old_path__in=new).delete()
    for old_path, new_path in zip(old, new if old else [], strict=True):
        redirects.filter(new_path=old_path).update(new_path=new_path)
        Redirect.objects.update_or_create(site_id=settings.SITE_ID, old_path=old_path, defaults={"new_path": new_path})
