"""Channel type `api`: Standard Webhooks signatures, checked against each secret a channel accepts."""

import json
import time

import pytest

from shared.channels import OrderPlaced
from shared.channels.standard import authenticate, interpret
from shared.errors import InvalidRequest
from shared.signatures import SignatureError, standard_webhook_signature

# (The published Standard Webhooks vector is checked in tests/unit/test_signatures.py.)
CURRENT = "whsec_Y3VycmVudC1zZWNyZXQtZm9yLXRoZS10ZXN0cw=="
PREVIOUS = "whsec_cHJldmlvdXMtc2VjcmV0LWZvci10aGUtdGVzdHM="


def signed(secret: str, body: bytes, message_id: str = "msg_1") -> dict[str, str]:
    now = int(time.time())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(now),
        "webhook-signature": standard_webhook_signature(secret, message_id, now, body),
    }


@pytest.mark.parametrize("secret", [CURRENT, PREVIOUS])
def test_the_current_and_the_previous_secret_are_accepted(secret: str) -> None:
    authenticate([CURRENT, PREVIOUS], signed(secret, b"{}"), b"{}")


def test_a_secret_the_channel_does_not_have_is_refused() -> None:
    with pytest.raises(SignatureError, match="no signature matches"):
        authenticate([CURRENT], signed(PREVIOUS, b"{}"), b"{}")
    with pytest.raises(SignatureError, match="no webhook secret"):
        authenticate([], signed(CURRENT, b"{}"), b"{}")


def test_interpret_reads_the_canonical_order_and_keys_it_on_the_webhook_id() -> None:
    order = {
        "channelOrderId": "1001",
        "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "shippingAddress": {"name": "Ada", "line1": "1 Main St", "city": "Boston", "country": "US"},
        "lines": [{"sku": "MUG", "quantity": 1, "unitPrice": "12.50", "channelLineId": "line-1"}],
    }
    body = json.dumps(order).encode()

    inbound = interpret({"webhook-id": "msg_42"}, body)

    assert inbound.eventId == "msg_42"
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.action.order.channelOrderId == "1001"
    assert inbound.action.order.lines[0].channelLineId == "line-1"  # the api channel may send it
    assert inbound.refunds == []  # an api delivery reports no refunds
    with pytest.raises(InvalidRequest) as refused:
        interpret({}, body)
    assert refused.value.details == [{"field": "headers.webhook-id", "message": "is required"}]
