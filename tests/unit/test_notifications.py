"""Customer e-mails, decided without AWS: which event means which e-mail, when none is sent and why,
the template data, and the contract between that data and the blueprint's SES templates."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from pydantic import ValidationError

from blueprint import CUSTOMER_EMAIL_EVENTS, EMAIL_TEMPLATES, FUNCTIONS, TRACKING_PAGE_URL_ENV
from shared.dal import email
from shared.logic import notifications, tracking_links
from shared.logic.notifications import Email, Skip, decide, email_for, template_data
from shared.models.events import DomainEvent, EventType
from shared.models.notifications import EmailKind, NotificationSettings, NotificationSettingsIn, SkipReason
from shared.models.order import Order, OrderStatus

ORDER_ID = "ord_01HZZZZZZZZZZZZZZZZZZZZZZZ"
PAGE = "https://api.example/v1/track"
LINK = f"{PAGE}?token=t"
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def event(event_type: EventType, **data: Any) -> DomainEvent:
    return DomainEvent(
        id="shard-1-0",
        type=event_type,
        time="2026-12-01T10:00:00Z",
        subject=ORDER_ID,
        data={"orderId": ORDER_ID, **data},
    )


def status_changed(before: str, after: str) -> DomainEvent:
    return event(EventType.ORDER_STATUS_CHANGED, channelId="shop", previousStatus=before, status=after)


def order(**changes: Any) -> Order:
    values: dict[str, Any] = {
        "orderId": ORDER_ID,
        "channelId": "shop",
        "channelOrderId": "1001",
        "orderNumber": "#1001",
        "status": OrderStatus.RESERVED,
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "createdAt": "2026-12-01T09:00:00Z",
        "updatedAt": "2026-12-01T09:00:00Z",
    }
    return Order.model_validate({**values, **changes})


def settings(**changes: Any) -> NotificationSettings:
    values = {"channelId": "shop", "enabled": True, "sender": "orders@shop.example", "updatedAt": "x"}
    return NotificationSettings.model_validate({**values, **changes})


SHIPPED = event(
    EventType.FULFILLMENT_SHIPPED, fulfillmentId="F1", warehouseId="wh", carrier="UPS", trackingNumber="1Z9"
)
REFUNDED = event(
    EventType.RETURN_REFUNDED,
    returnId=f"{ORDER_ID}-R1",
    channelId="shop",
    refundId="RF1",
    status="SUCCEEDED",
    method="CHANNEL",
    total="13.50",
    currency="USD",
)


# Which event means which e-mail


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("RECEIVED", "RESERVED", EmailKind.ORDER_CONFIRMED),
        ("RECEIVED", "BACKORDERED", EmailKind.ORDER_CONFIRMED),
        ("BACKORDERED", "RESERVED", None),  # confirmed already, when it was backordered
        ("RESERVED", "FULFILLING", None),
        ("RECEIVED", "REJECTED", None),
        ("RECEIVED", "CANCELLED", None),
        ("FULFILLING", "SHIPPED", None),  # each shipment is e-mailed by its own event
    ],
)
def test_an_order_is_confirmed_the_first_time_it_is_accepted(
    before: str, after: str, expected: EmailKind | None
) -> None:
    assert email_for(status_changed(before, after)) is expected


def test_shipments_deliveries_and_refunds_mean_their_emails_and_nothing_else_means_one() -> None:
    assert email_for(SHIPPED) is EmailKind.ORDER_SHIPPED
    assert email_for(event(EventType.FULFILLMENT_DELIVERED, fulfillmentId="F1", warehouseId="wh")) is (
        EmailKind.ORDER_DELIVERED
    )
    assert email_for(REFUNDED) is EmailKind.REFUND_ISSUED
    others = set(EventType) - {
        EventType.ORDER_STATUS_CHANGED,
        EventType.FULFILLMENT_SHIPPED,
        EventType.FULFILLMENT_DELIVERED,
        EventType.RETURN_REFUNDED,
    }
    assert [t for t in others if email_for(event(t)) is not None] == []


def test_the_bus_rule_copies_exactly_the_event_types_that_may_mean_an_email() -> None:
    may_mean_one = {t.value for t in EventType if email_for(event(t)) or t is EventType.ORDER_STATUS_CHANGED}
    assert set(CUSTOMER_EMAIL_EVENTS.event_types) == may_mean_one
    assert len(CUSTOMER_EMAIL_EVENTS.event_types) == len(may_mean_one)


# When none is sent, and why


@pytest.mark.parametrize(
    ("stored", "found", "reason"),
    [
        (None, order(), SkipReason.NOTIFICATIONS_OFF),
        (settings(enabled=False), order(), SkipReason.NOTIFICATIONS_OFF),
        (
            NotificationSettings.model_construct(channelId="shop", enabled=True, sender=None),
            order(),
            SkipReason.NO_SENDER,
        ),
        (settings(), None, SkipReason.ORDER_NOT_FOUND),
        (settings(), order(customer=None), SkipReason.NO_CUSTOMER_EMAIL),
    ],
)
def test_skips_say_why(stored: NotificationSettings | None, found: Order | None, reason: SkipReason) -> None:
    decided = decide(SHIPPED, EmailKind.ORDER_SHIPPED, found, stored, shop_name="Shop", tracking_url=LINK)
    assert decided == Skip(reason)


def test_a_manual_refund_is_not_announced_as_issued() -> None:
    manual = REFUNDED.model_copy(update={"data": {**REFUNDED.data, "status": "MANUAL", "method": "MANUAL"}})
    decided = decide(
        manual, EmailKind.REFUND_ISSUED, order(), settings(), shop_name="Shop", tracking_url=None
    )
    assert decided == Skip(SkipReason.REFUND_NOT_ISSUED)


def test_an_email_goes_to_the_customer_from_the_channels_sender_with_its_reply_to() -> None:
    decided = decide(
        SHIPPED,
        EmailKind.ORDER_SHIPPED,
        order(),
        settings(replyTo="help@shop.example"),
        shop_name="Shop",
        tracking_url=LINK,
    )
    assert isinstance(decided, Email)
    assert (decided.kind, decided.to, decided.sender, decided.reply_to) == (
        EmailKind.ORDER_SHIPPED,
        "ada@example.com",
        "orders@shop.example",
        "help@shop.example",
    )
    assert decided.data["trackingUrl"] == LINK


# Template data


def test_shipped_data_names_the_carrier_tracking_number_and_link_each_also_escaped_for_html() -> None:
    data = template_data(
        EmailKind.ORDER_SHIPPED,
        SHIPPED,
        order(customer={"email": "a@b.co", "name": "Ann & <b>"}),
        "Shop",
        LINK,
    )
    assert data["carrier"] == "UPS" and data["trackingNumber"] == "1Z9" and data["trackingUrl"] == LINK
    assert data["orderNumber"] == "#1001" and data["shopName"] == "Shop"
    assert data["customerName"] == "Ann & <b>"
    assert data["customerNameHtml"] == "Ann &amp; &lt;b&gt;"
    assert all(isinstance(value, str) for value in data.values())  # SES renders strings


def test_a_shipment_without_carrier_or_number_says_so_and_the_channel_order_id_stands_in_for_a_number() -> (
    None
):
    bare = event(EventType.FULFILLMENT_SHIPPED, fulfillmentId="F1", warehouseId="wh")
    data = template_data(EmailKind.ORDER_SHIPPED, bare, order(orderNumber=None), "Shop", LINK)
    assert (data["carrier"], data["trackingNumber"], data["orderNumber"]) == (
        "not given",
        "not given",
        "1001",
    )


def test_refund_data_carries_the_amount_and_currency_of_the_event() -> None:
    data = template_data(EmailKind.REFUND_ISSUED, REFUNDED, order(), "Shop", None)
    assert (data["amount"], data["currency"]) == ("13.50", "USD")
    assert "trackingUrl" not in data


def test_the_tracking_link_is_signed_for_the_order_and_lasts_the_links_days() -> None:
    key = b"k" * 32
    link = notifications.tracking_link(key, PAGE, ORDER_ID, now=1_800_000_000)
    assert link.startswith(f"{PAGE}?token=")
    verified = tracking_links.verify(key, link.split("token=", 1)[1], now=1_800_000_001)
    assert verified.order_id == ORDER_ID
    assert verified.expires_at == 1_800_000_000 + notifications.LINK_DAYS * 24 * 3600


# The templates and the data agree

SAMPLES: dict[EmailKind, DomainEvent] = {
    EmailKind.ORDER_CONFIRMED: status_changed("RECEIVED", "RESERVED"),
    EmailKind.ORDER_SHIPPED: SHIPPED,
    EmailKind.ORDER_DELIVERED: event(EventType.FULFILLMENT_DELIVERED, fulfillmentId="F1", warehouseId="wh"),
    EmailKind.REFUND_ISSUED: REFUNDED,
}


@pytest.mark.parametrize("kind", EmailKind)
def test_each_template_uses_only_data_the_notifier_gives_escaped_in_html_plain_elsewhere(
    kind: EmailKind,
) -> None:
    template = EMAIL_TEMPLATES[kind.value]
    data = template_data(kind, SAMPLES[kind], order(), "Shop", LINK)
    in_html = set(PLACEHOLDER.findall(template.html()))
    in_plain = set(PLACEHOLDER.findall(template.subject() + template.text()))
    assert in_html and in_plain
    assert in_html | in_plain <= data.keys()
    assert all(name.endswith("Html") for name in in_html)
    assert not any(name.endswith("Html") for name in in_plain)
    assert notifications.TEMPLATE_ENV[kind] == template.env


def test_the_notifier_sends_every_template_and_links_to_the_tracking_page() -> None:
    notifier = FUNCTIONS["CustomerNotifier"]
    assert set(notifier.sends_email) == {kind.value for kind in EmailKind} == set(EMAIL_TEMPLATES)
    assert notifier.links_to_tracking_page and notifications.TRACKING_PAGE_URL_ENV == TRACKING_PAGE_URL_ENV


@pytest.mark.parametrize("kind", EmailKind)
def test_ses_renders_each_template_with_its_data(kind: EmailKind) -> None:
    template = EMAIL_TEMPLATES[kind.value]
    data = template_data(
        kind, SAMPLES[kind], order(customer={"email": "a@b.co", "name": "Ann & Bo"}), "Shop", LINK
    )
    with mock_aws():
        ses = boto3.client("ses", region_name="us-east-1")
        ses.create_template(
            Template={
                "TemplateName": template.name,
                "SubjectPart": template.subject(),
                "HtmlPart": template.html(),
                "TextPart": template.text(),
            }
        )
        rendered = ses.test_render_template(TemplateName=template.name, TemplateData=json.dumps(data))
    text = rendered["RenderedTemplate"]
    assert "{{" not in text
    assert "Ann & Bo" in text and "Ann &amp; Bo" in text  # the text part, then the HTML part
    assert f"Subject: {PLACEHOLDER.sub(lambda m: data[m.group(1)], template.subject())}" in text


# The channel's settings


def test_settings_need_a_sender_when_enabled_and_real_addresses_and_booleans() -> None:
    assert NotificationSettingsIn.model_validate({"enabled": False}).sender is None
    for invalid in (
        {"enabled": True},
        {"enabled": "true", "sender": "a@b.co"},
        {"enabled": 1, "sender": "a@b.co"},
        {"enabled": True, "sender": "not-an-address"},
        {"enabled": True, "sender": "a@b.co", "replyTo": "nobody"},
        {"enabled": True, "sender": "a@b.co", "cc": "x@y.co"},
    ):
        with pytest.raises(ValidationError):
            NotificationSettingsIn.model_validate(invalid)


# SES's answers


@pytest.fixture
def stubbed_ses(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    email._ses.cache_clear()
    with Stubber(email._ses()) as stubber:
        yield stubber
    email._ses.cache_clear()


@pytest.mark.parametrize(
    "code", ["MessageRejected", "MailFromDomainNotVerifiedException", "AccountSendingPausedException"]
)
def test_a_refusal_the_retailer_must_fix_is_told_apart_from_a_failure_worth_retrying(
    stubbed_ses: Any, code: str
) -> None:
    stubbed_ses.add_client_error("send_templated_email", service_error_code=code, service_message="no")
    stubbed_ses.add_client_error(
        "send_templated_email", service_error_code="Throttling", http_status_code=400
    )
    with pytest.raises(email.EmailRejected) as rejected:
        email.send_templated("t", "a@b.co", "c@d.co", {"x": "1"})
    assert rejected.value.code == code
    with pytest.raises(Exception) as throttled:
        email.send_templated("t", "a@b.co", "c@d.co", {"x": "1"})
    assert not isinstance(throttled.value, email.EmailRejected)


def test_a_sender_is_verified_by_its_address_or_its_domain(stubbed_ses: Any) -> None:
    expected = {"Identities": ["Orders@Shop.example", "shop.example"]}
    answer = {"VerificationAttributes": {"shop.example": {"VerificationStatus": "Success"}}}
    stubbed_ses.add_response("get_identity_verification_attributes", answer, expected)
    assert email.sender_verified("Orders@Shop.example") is True
    pending = {"VerificationAttributes": {"a@b.co": {"VerificationStatus": "Pending"}}}
    stubbed_ses.add_response(
        "get_identity_verification_attributes", pending, {"Identities": ["a@b.co", "b.co"]}
    )
    assert email.sender_verified("a@b.co") is False
