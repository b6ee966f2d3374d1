"""Django's database sessions, written at most once per request for the same data.

SessionMiddleware saves a modified session again after the view returns. The reservation view saves the buyer's
session itself before it calls Stripe (tickets.views._remember), so that a database failure there comes while the
booking's hold is still provisional; written a second time after Stripe answered, a failure would leave a buyer
on an error page with seats held for the whole hold. With this store, that second write is skipped when the data
is what this request already saved; the middleware still sets the cookie.
"""

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    def save(self, must_create: bool = False) -> None:
        """Save, unless this store already saved exactly this data under this key (then nothing is written)."""
        data = self.serializer().dumps(self._get_session(no_load=must_create))  # bytes: a snapshot, not a reference
        if not must_create and getattr(self, "_saved", None) == (self.session_key, data):
            return
        super().save(must_create=must_create)
        self._saved = (self.session_key, data)
