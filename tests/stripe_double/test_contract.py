"""The double's contract: FIELDS holds only real Stripe fields, and what it returns fits FIELDS and the library's types.

"Real" means what the installed `stripe` library annotates on its resource classes: the field names, their types and,
where it declares them, their enum values (`Literal[...]`). A field the double returns must exist there, and its value
must fit the annotation, so code written against the double reads only what Stripe also sends.
"""

import ast
import importlib
import inspect
import json
import re
import sys
import typing
import urllib.error
import urllib.request
from functools import cache
from typing import Any, Literal, Union

import pytest
import stripe
from stripe._stripe_object import UntypedStripeObject

from stripe_double import server
from stripe_double.server import FIELDS

# The library class that describes each entry of FIELDS.
RESOURCES: dict[str, type[stripe.StripeObject]] = {
    "checkout.session": stripe.checkout.Session,
    "payment_intent": stripe.PaymentIntent,
    "refund": stripe.Refund,
    "event": stripe.Event,
    "event.data": stripe.Event.Data,
    "event.request": stripe.Event.Request,
    "error": stripe.ErrorObject,
}
FIELDS_KEY = {cls: key for key, cls in RESOURCES.items()}

# Fields the double (like Stripe) leaves out in some answers: an error's code and param.
SOMETIMES_ABSENT = {"error": {"code", "param"}}

# The resource inside each event the double sends.
EVENT_OBJECTS = {
    "checkout.session.completed": "checkout.session",
    "checkout.session.async_payment_succeeded": "checkout.session",
    "checkout.session.async_payment_failed": "checkout.session",
    "checkout.session.expired": "checkout.session",
    "refund.created": "refund",
}


class _TypeCheckingNames(dict):
    """The names a stripe module imports only under `if TYPE_CHECKING:`, imported for real when a hint needs one.

    stripe-python quotes those names in its annotations ("PaymentIntent", "CardResource"), so
    `typing.get_type_hints` can resolve them only with this as its local namespace.
    """

    def __init__(self, module_name: str):
        super().__init__()
        self._imports: dict[str, tuple[str, str]] = {}
        tree = ast.parse(inspect.getsource(sys.modules[module_name]))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self._imports[alias.asname or alias.name] = (node.module, alias.name)

    def __missing__(self, name: str) -> Any:
        if name not in self._imports:
            raise KeyError(name)
        module_name, attribute = self._imports[name]
        value = getattr(importlib.import_module(module_name), attribute)
        self[name] = value
        return value


@cache
def hints(cls: type) -> dict[str, Any]:
    """The library's annotations of `cls`, resolved, as `typing.get_type_hints` gives them."""
    return typing.get_type_hints(cls, localns=_TypeCheckingNames(cls.__module__))


def declares(cls: type, field: str) -> bool:
    # Some classes declare `object` only through OBJECT_NAME, not as an annotation.
    return field in hints(cls) or (field == "object" and hasattr(cls, "OBJECT_NAME"))


def problems(value: Any, hint: Any, where: str) -> list[str]:
    """Why `value` (decoded JSON) doesn't fit the library's annotation `hint`; empty when it does."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return []
    if origin is Union:
        if value is None:
            return [] if type(None) in args else [f"{where}: null, but {hint} is not Optional"]
        literals = [v for arg in args if typing.get_origin(arg) is Literal for v in typing.get_args(arg)]
        if literals and isinstance(value, str):
            # Union[Literal[...], str]: the bare str is only for values newer than this library; hold to the Literal.
            return [] if value in literals else [f"{where}: {value!r} is not one of {literals}"]
        found = [problems(value, arg, where) for arg in args if arg is not type(None)]
        return [] if any(not p for p in found) else [p for ps in found for p in ps]
    if origin is Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {list(args)}"]
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a bool"]
    if hint is int:
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: {value!r} is not an int"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not a str"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        return [p for i, item in enumerate(value) for p in problems(item, args[0], f"{where}[{i}]")]
    if origin is UntypedStripeObject:  # metadata and event data: a hash of any keys to values of one type
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        return [p for key, item in value.items() for p in problems(item, args[0], f"{where}.{key}")]
    if inspect.isclass(hint) and issubclass(hint, stripe.StripeObject):
        return object_problems(value, hint, where)
    return [f"{where}: the contract test has no rule for {hint!r}"]


def object_problems(value: Any, cls: type, where: str) -> list[str]:
    """`value` is an object of `cls`: exactly its FIELDS (when FIELDS describes it), each fitting the annotation."""
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not an object"]
    found: list[str] = []
    key = FIELDS_KEY.get(cls)
    if key is not None:
        expected, returned = set(FIELDS[key]), set(value)
        if not expected - SOMETIMES_ABSENT.get(key, set()) <= returned <= expected:
            found.append(f"{where}: fields {sorted(returned)}, but FIELDS[{key!r}] is {sorted(expected)}")
    declared = hints(cls)
    for name, field_value in value.items():
        if name == "object" and "object" not in declared:
            if field_value != getattr(cls, "OBJECT_NAME", None):
                found.append(f"{where}.object: {field_value!r}, but {cls.__qualname__} is {cls.OBJECT_NAME!r}")
        elif name not in declared:
            found.append(f"{where}.{name}: not a field of {cls.__module__}.{cls.__qualname__}")
        else:
            found += problems(field_value, declared[name], f"{where}.{name}")
    return found


def assert_is(value: dict, key: str) -> None:
    """`value`, as the double sent it, is a `key` object by FIELDS and by the library's annotations."""
    assert object_problems(value, RESOURCES[key], key) == []


def raw(stripe_object: stripe.StripeObject) -> dict:
    """The JSON the double actually sent, before the library turned it into objects."""
    return stripe_object.last_response.data


# --- FIELDS against the library ---


def test_fields_describes_exactly_the_objects_mapped_here():
    assert set(FIELDS) == set(RESOURCES)


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_every_field_in_fields_is_declared_by_the_stripe_library(key):
    cls = RESOURCES[key]
    assert [name for name in FIELDS[key] if not declares(cls, name)] == []
    assert len(set(FIELDS[key])) == len(FIELDS[key])


@pytest.mark.parametrize("key", sorted(key for key, cls in RESOURCES.items() if hasattr(cls, "OBJECT_NAME")))
def test_each_resource_key_is_the_object_name_stripe_uses(key):
    assert key == RESOURCES[key].OBJECT_NAME


def test_the_module_docstring_lists_the_same_fields_as_fields():
    doc = server.__doc__
    section = doc[doc.index("Our code may read only these:") : doc.index("Values:")]
    listed = {}
    for entry in re.split(r"\n- ", re.sub(r"\n {2,}", " ", section))[1:]:
        key, names = entry.split(": ", 1)
        listed[key] = {re.sub(r"\s*\(.*\)", "", name).strip() for name in names.strip().split(", ")}
    assert listed == {key: set(names) for key, names in FIELDS.items()}


def test_every_event_type_the_double_sends_is_a_stripe_event_type():
    doc = server.__doc__
    sent = re.search(r"Events it creates: ([^\n]+(?:\n[^\n]+)*?)\.\n", doc).group(1)
    types = {name.strip() for name in sent.replace("\n", " ").split(",")}
    assert types == set(EVENT_OBJECTS)
    declared = typing.get_args(hints(stripe.Event)["type"])
    assert sorted(types - set(declared)) == []


# --- what the double returns, against FIELDS and the library ---


@pytest.fixture
def api(stripe_double) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_contract", base_addresses={"api": stripe_double.base_url})


def create_session(api, double) -> stripe.checkout.Session:
    return api.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer_email": "ada@example.com",
            "client_reference_id": "7",
            "metadata": {"order_reference": "NR-CONTRACT"},
            "expires_at": double.now() + 3600,
            "line_items": [
                {
                    "quantity": 2,
                    "price_data": {"currency": "gbp", "unit_amount": 500, "product_data": {"name": "Ticket"}},
                }
            ],
            "success_url": "https://shop.example/success/?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/cancel/",
        }
    )


def test_a_session_in_every_status_has_exactly_its_fields(api, stripe_double):
    created = create_session(api, stripe_double)
    assert_is(raw(created), "checkout.session")
    assert raw(created)["status"] == "open"
    assert_is(raw(api.v1.checkout.sessions.retrieve(created.id)), "checkout.session")

    stripe_double.complete(created.id)
    paid = api.v1.checkout.sessions.retrieve(created.id)
    assert raw(paid)["payment_intent"].startswith("pi_")
    assert_is(raw(paid), "checkout.session")
    assert (raw(paid)["status"], raw(paid)["payment_status"]) == ("complete", "paid")

    abandoned = create_session(api, stripe_double)
    expired = api.v1.checkout.sessions.expire(abandoned.id)
    assert_is(raw(expired), "checkout.session")
    assert raw(expired)["status"] == "expired"


def test_a_payment_intent_in_every_status_has_exactly_its_fields(api, stripe_double):
    statuses = {}
    for outcome, result in [("paid", None), ("async_pending", None), ("async_pending", "failed")]:
        session = create_session(api, stripe_double)
        stripe_double.complete(session.id, outcome=outcome)
        if result:
            stripe_double.async_result(session.id, outcome=result)
        pi_id = api.v1.checkout.sessions.retrieve(session.id).payment_intent
        payment_intent = api.v1.payment_intents.retrieve(pi_id)
        assert_is(raw(payment_intent), "payment_intent")
        statuses[raw(payment_intent)["status"]] = raw(payment_intent)["amount_received"]
    assert statuses == {"succeeded": 1000, "processing": 0, "requires_payment_method": 0}


def test_a_refund_has_exactly_its_fields(api, stripe_double):
    session = create_session(api, stripe_double)
    stripe_double.complete(session.id)
    pi_id = api.v1.checkout.sessions.retrieve(session.id).payment_intent
    created = api.v1.refunds.create(params={"payment_intent": pi_id, "amount": 300, "reason": "requested_by_customer"})
    assert_is(raw(created), "refund")
    plain = api.v1.refunds.create(params={"payment_intent": pi_id})
    assert raw(plain)["reason"] is None
    assert_is(raw(plain), "refund")
    assert_is(raw(api.v1.refunds.retrieve(created.id)), "refund")


def test_every_event_and_its_object_has_exactly_its_fields(api, stripe_double):
    paid = create_session(api, stripe_double)
    stripe_double.complete(paid.id)
    for result in ("succeeded", "failed"):
        pending = create_session(api, stripe_double)
        stripe_double.complete(pending.id, outcome="async_pending")
        stripe_double.async_result(pending.id, outcome=result)
    api.v1.checkout.sessions.expire(create_session(api, stripe_double).id)
    api.v1.refunds.create(params={"payment_intent": api.v1.checkout.sessions.retrieve(paid.id).payment_intent})

    events = [json.loads(stripe_double.signed_payload(event)[0]) for event in stripe_double.events()]
    assert {event["type"] for event in events} == set(EVENT_OBJECTS)
    for event in events:
        assert_is(event, "event")
        assert object_problems(event["data"], stripe.Event.Data, "event.data") == []
        assert object_problems(event["request"], stripe.Event.Request, "event.request") == []
        key = EVENT_OBJECTS[event["type"]]
        assert object_problems(event["data"]["object"], RESOURCES[key], f"{event['type']}.data.object") == []
    by_request = [e for e in events if e["type"] in ("refund.created", "checkout.session.expired")]
    assert all(e["request"]["id"] for e in by_request)  # made by an API call: its request is recorded


def _error_body(url: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own loopback server
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as failed, opener.open(request, timeout=5):
        pass
    with failed.value as response:
        return response.code, json.loads(response.read())


def test_errors_have_only_stripe_error_fields(api, stripe_double):
    base = stripe_double.base_url
    auth = {"Authorization": "Bearer sk_test_contract"}
    session = f"{base}/v1/checkout/sessions/cs_test_nope"
    bodies = [
        _error_body(session, {}),
        _error_body(session, {"Authorization": "Bearer sk_live_nope"}),
        _error_body(session, auth),
        _error_body(f"{session}?colour=red", auth),
        _error_body(f"{base}/v1/customers", auth),
    ]
    assert [status for status, _ in bodies] == [401, 401, 404, 400, 404]
    for _, body in bodies:
        assert list(body) == ["error"]
        assert_is(body["error"], "error")

    params = {
        "mode": "payment",
        "success_url": "https://shop.example/",
        "line_items": [
            {"quantity": 1, "price_data": {"currency": "gbp", "unit_amount": 500, "product_data": {"name": "T"}}}
        ],
    }
    api.v1.checkout.sessions.create(params=params, options={"idempotency_key": "contract-1"})
    with pytest.raises(stripe.IdempotencyError) as replayed:
        api.v1.checkout.sessions.create(params={**params, "currency": "gbp"}, options={"idempotency_key": "contract-1"})
    # The library parses the body into its own ErrorObject; the JSON the double sent is on the exception.
    assert_is(replayed.value.json_body["error"], "error")
