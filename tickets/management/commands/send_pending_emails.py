from django.core.management.base import BaseCommand

from tickets import emails


class Command(BaseCommand):
    help = "Retry order emails that failed or have not gone out yet (older than a minute). Safe to run every minute."

    def handle(self, *args, **options) -> None:
        sent, failed = emails.send_pending()
        self.stdout.write(f"Sent {sent} email(s); {failed} still failing.")
