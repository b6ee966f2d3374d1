"""Steps and readers shared by the admin tests: the admin's URLs, its messages, lists and forms."""

from html.parser import HTMLParser

from django.contrib.auth.models import Group, User

from tickets.models import Order

ORDERS = "/admin/tickets/order/"
TICKETS = "/admin/tickets/ticket/"
CHECK_IN = "/admin/tickets/ticket/check-in/"
EXPORT = "/admin/tickets/order/attendees.csv"


def change_url(order: Order) -> str:
    return f"{ORDERS}{order.pk}/change/"


def listed(response) -> set:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def offered_actions(response) -> set[str]:
    action_form = response.context["action_form"]  # None when the list offers no actions at all
    return {name for name, _ in action_form.fields["action"].choices} if action_form else set()


def shown_levels(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def run_action(client, action: str, *orders: Order, follow: bool = True):
    return client.post(ORDERS, {"action": action, "_selected_action": [o.pk for o in orders]}, follow=follow)


class FormReader(HTMLParser):
    """The fields a browser would submit from a page's POST form: hidden inputs, ticked boxes and the submit button."""

    def __init__(self, html: str):
        super().__init__()
        self.in_post_form = False
        self.data: dict[str, list[str]] = {}
        self.buttons: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_post_form = attrs.get("method", "").lower() == "post"
        elif tag == "input" and self.in_post_form:
            if attrs.get("type") == "submit":
                self.buttons.append(attrs.get("value", ""))
            elif attrs.get("type") == "checkbox" and "checked" not in attrs:
                return  # an unticked box sends nothing
            elif attrs.get("name"):
                self.data.setdefault(attrs["name"], []).append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post_form = False


def refund_confirmation(client, *orders: Order):
    """Choose "Refund" for these orders in the list: the answer is a page asking to confirm."""
    page = run_action(client, "refund", *orders, follow=False)
    assert page.status_code == 200
    assert "admin/tickets/order/refund_confirmation.html" in [t.name for t in page.templates]
    return page


def confirm_refund(client, *orders: Order):
    """Choose "Refund", then press the confirmation page's button, as an organiser would."""
    form = FormReader(refund_confirmation(client, *orders).content.decode())
    return client.post(ORDERS, form.data, follow=True)


def staff_user(username: str, group: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user
