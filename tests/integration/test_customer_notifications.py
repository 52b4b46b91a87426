"""Customer e-mails on the local runtime: domain events from the real workflow, the bus rule to the
notifier's queue, the notifier sending through moto's SES with the blueprint's templates, read back
rendered. Once per event, nothing for a channel that has them off, and a channel's sender must be
verified in SES."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.demo import DEMO_SENDER
from local.mail_log import SentEmail
from local.refund_sandbox import FakeChannelRefunds
from local.runtime import LocalOMS
from tests.support.events import has, settle, wait_for_events
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order
from tests.support.returns import authorized, delivered_order, receive, wait_for_return

CUSTOMER = "ada@example.com"


def notifications(client: Client, channel_id: str = CHANNEL_ID, **settings: Any) -> tuple[int, Any]:
    body = {"enabled": True, "sender": DEMO_SENDER, **settings}
    return client.call("PUT", f"/channels/{channel_id}/notifications", body)


def wait_for_emails(
    oms: LocalOMS, wanted: Callable[[list[SentEmail]], bool], timeout: float = 15.0
) -> list[SentEmail]:
    deadline = time.monotonic() + timeout
    while True:
        sent = oms.sent_emails()
        if wanted(sent):
            return sent
        if time.monotonic() > deadline:
            raise AssertionError(f"not the e-mails expected: {[(m.template, m.subject) for m in sent]}")
        time.sleep(0.05)


def templates(sent: list[SentEmail]) -> list[str]:
    """The blueprint template of each e-mail (the local SES template is `oms-<name>`)."""
    return [message.template.removeprefix("oms-") for message in sent]


def of_order(sent: list[SentEmail], order_number: str) -> list[SentEmail]:
    return [message for message in sent if order_number in message.subject]


def queue_drained(oms: LocalOMS, name: str = "CustomerNotifications") -> bool:
    sqs = oms.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=oms.deployment.queue_urls[name],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def wait_until_drained(oms: LocalOMS, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not queue_drained(oms):
        assert time.monotonic() < deadline, "the notifier's queue still holds messages"
        time.sleep(0.05)


def dead_letters(oms: LocalOMS) -> list[dict[str, Any]]:
    url = oms.deployment.dead_letter_queue_urls["CustomerNotifications"]
    messages: list[dict[str, Any]] = (
        oms.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    )
    return messages


def ship(client: Client, order_id: str, **shipped: str) -> str:
    order = client.wait_for_status(order_id, "FULFILLING")
    fulfillment_id = str(order["fulfillments"][0]["fulfillmentId"])
    status, body = client.fulfillment_event(fulfillment_id, "SHIPPED", **shipped)
    assert status == 200, body
    return fulfillment_id


def test_an_order_is_emailed_confirmed_shipped_with_a_tracking_link_and_delivered(
    oms: LocalOMS, client: Client
) -> None:
    assert notifications(client, replyTo="help@demo-shop.example")[0] == 200
    number = f"#{uuid.uuid4().hex[:8]}"
    customer = {"email": CUSTOMER, "name": "Ada <Lovelace> & Co"}
    order_id = client.place(canonical_order(orderNumber=number, customer=customer))

    confirmed = wait_for_emails(oms, lambda sent: len(of_order(sent, number)) == 1)
    fulfillment_id = ship(client, order_id, carrier="UPS", trackingNumber="1Z999AA10123456784")
    wait_for_emails(oms, lambda sent: len(of_order(sent, number)) == 2)
    assert client.fulfillment_event(fulfillment_id, "DELIVERED")[0] == 200
    sent = of_order(wait_for_emails(oms, lambda sent: len(of_order(sent, number)) == 3), number)

    assert templates(sent) == ["OrderConfirmed", "OrderShipped", "OrderDelivered"]
    assert all(m.to == [CUSTOMER] and m.sender == DEMO_SENDER for m in sent)
    assert [m.subject for m in sent] == [
        f"Your order {number} is confirmed",
        f"Your order {number} has shipped",
        f"Your order {number} was delivered",
    ]
    # SES escapes nothing: the HTML body gets the escaped name, the text body the name as it is.
    assert "Hello Ada <Lovelace> & Co," in confirmed[0].text
    assert "Hello Ada &lt;Lovelace&gt; &amp; Co," in confirmed[0].html
    shipped = sent[1]
    assert "Carrier: UPS" in shipped.text and "Tracking number: 1Z999AA10123456784" in shipped.text
    # The link opens the order on the customer tracking page: the page sends its token to the lookup.
    link = next(word for word in shipped.text.split() if word.startswith("http"))
    assert link.startswith("http://localhost/track?token=")
    assert f'href="{link}"' in shipped.html
    (token,) = parse_qs(urlsplit(link).query)["token"]
    status, view = client.call("POST", "/track/lookup", {"token": token}, headers={"x-api-key": ""})
    assert status == 200, view
    assert view["orderNumber"] == number
    settings = client.call("GET", f"/channels/{CHANNEL_ID}/notifications")[1]
    assert settings == {
        "channelId": CHANNEL_ID,
        "enabled": True,
        "sender": DEMO_SENDER,
        "replyTo": "help@demo-shop.example",
        "updatedAt": settings["updatedAt"],
    }
    assert settings["updatedAt"].startswith("20")


@pytest.fixture
def refunds() -> Iterator[FakeChannelRefunds]:
    with FakeChannelRefunds(signing_secret=CHANNEL_SECRET) as sandbox:
        yield sandbox


def test_a_refund_the_channel_issued_is_emailed_with_its_amount(
    oms: LocalOMS, client: Client, refunds: FakeChannelRefunds
) -> None:
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET, "refundUrl": refunds.signed_target().url}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200
    assert notifications(client)[0] == 200
    number = f"#{uuid.uuid4().hex[:8]}"
    order = delivered_order(client, [("MUG-BLUE", 1)], orderNumber=number)
    returned = authorized(client, order["orderId"], [("MUG-BLUE", 1)])
    assert receive(client, returned["returnId"], [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, returned["returnId"], "CLOSED")

    sent = of_order(wait_for_emails(oms, lambda sent: "RefundIssued" in templates(sent)), number)
    (refund,) = [m for m in sent if m.template.endswith("RefundIssued")]
    total = closed["refund"]["total"]
    assert refund.subject == f"Your refund of {total} USD for order {number}"
    assert f"We have refunded {total} USD" in refund.text
    assert refund.to == [CUSTOMER]


def test_a_channel_with_emails_off_sends_none(oms: LocalOMS, client: Client) -> None:
    assert client.call("GET", f"/channels/{CHANNEL_ID}/notifications")[1]["enabled"] is False
    order_id = client.place()
    ship(client, order_id, carrier="UPS", trackingNumber="1Z1")
    wait_for_events(oms, has(order_id, "fulfillment.shipped"))
    assert notifications(client, enabled=False)[0] == 200  # off, even with a sender
    second = client.place()
    wait_for_events(oms, has(second, "fulfillment.planned"))
    settle(oms)
    wait_until_drained(oms)

    assert oms.sent_emails() == []
    assert dead_letters(oms) == []


def test_a_redelivered_event_sends_no_second_email(oms: LocalOMS, client: Client) -> None:
    assert notifications(client)[0] == 200
    order_id = client.place()
    wait_for_emails(oms, lambda sent: len(sent) == 1)
    events = wait_for_events(oms, has(order_id, "order.status_changed"))
    confirming = next(e for e in events if e["subject"] == order_id and e["type"] == "order.status_changed")
    message = {"version": "0", "source": "oms", "detail-type": confirming["type"], "detail": confirming}
    url = oms.deployment.queue_urls["CustomerNotifications"]
    for _ in range(2):  # SQS delivers at least once: the same event again, twice
        oms.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(message))
    wait_until_drained(oms)
    settle(oms, 0.5)

    assert templates(oms.sent_emails()) == ["OrderConfirmed"]
    assert dead_letters(oms) == []


def test_a_sender_no_longer_verified_is_recorded_and_dropped_not_retried_forever(
    oms: LocalOMS, client: Client, json_logs: list[dict[str, Any]]
) -> None:
    assert notifications(client)[0] == 200
    oms.client("ses").delete_identity(Identity=DEMO_SENDER)
    order_id = client.place()
    client.wait_for_status(order_id, "FULFILLING")
    wait_for_events(oms, has(order_id, "fulfillment.planned"))
    wait_until_drained(oms)

    assert oms.sent_emails() == []
    assert dead_letters(oms) == []
    (refused,) = [line for line in json_logs if line.get("message", "").startswith("SES refused")]
    assert refused["code"] == "MessageRejected" and refused["sender"] == DEMO_SENDER


def test_the_settings_refuse_an_unverified_sender_a_bad_address_and_an_unknown_channel(
    oms: LocalOMS, client: Client
) -> None:
    status, body = notifications(client, sender="shop@unverified.example")
    assert status == 409, body
    assert body["error"]["code"] == "SENDER_NOT_VERIFIED"
    assert body["error"]["details"] == {
        "field": "sender",
        "identities": ["shop@unverified.example", "unverified.example"],
    }
    oms.client("ses").verify_domain_identity(Domain="unverified.example")
    assert notifications(client, sender="shop@unverified.example")[0] == 200  # its domain is verified

    status, body = notifications(client, sender="not an address")
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in body["error"]["details"]] == ["sender"]
    status, body = client.call("PUT", f"/channels/{CHANNEL_ID}/notifications", {"enabled": True})
    assert status == 400 and "sender is required" in json.dumps(body)
    status, body = client.call("PUT", f"/channels/{CHANNEL_ID}/notifications", {"enabled": "yes"})
    assert status == 400 and [d["field"] for d in body["error"]["details"]] == ["enabled"]
    assert notifications(client, "no-such-channel")[0] == 404
    assert client.call("GET", "/channels/no-such-channel/notifications")[0] == 404
    # Registering the channel again keeps its e-mail settings.
    channel = {"type": "api", "webhookSecret": CHANNEL_SECRET}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200
    assert (
        client.call("GET", f"/channels/{CHANNEL_ID}/notifications")[1]["sender"] == "shop@unverified.example"
    )
    assert [c["channelId"] for c in client.call("GET", "/channels")[1]["channels"]] == [CHANNEL_ID]
