import pytest

from shared.signatures import (
    SignatureError,
    standard_webhook_key,
    standard_webhook_signature,
    verify_standard_webhook,
)

# Published test vector of the Standard Webhooks reference libraries (TestWebhookSign).
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def headers(signature: str = VECTOR["signature"], timestamp: int = VECTOR["timestamp"]) -> dict[str, str]:
    return {"webhook-id": VECTOR["id"], "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_signature_matches_the_published_vector():
    assert (
        standard_webhook_signature(VECTOR["secret"], VECTOR["id"], VECTOR["timestamp"], VECTOR["body"])
        == VECTOR["signature"]
    )


def test_verify_returns_the_message_id_for_an_authentic_delivery():
    now = VECTOR["timestamp"] + 10
    assert verify_standard_webhook(VECTOR["secret"], headers(), VECTOR["body"], now=now) == VECTOR["id"]


def test_any_of_several_signatures_may_match_during_rotation():
    both = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + VECTOR["signature"]
    assert verify_standard_webhook(VECTOR["secret"], headers(both), VECTOR["body"], now=VECTOR["timestamp"])


def test_header_names_are_case_insensitive():
    upper = {k.upper(): v for k, v in headers().items()}
    assert verify_standard_webhook(VECTOR["secret"], upper, VECTOR["body"], now=VECTOR["timestamp"])


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (h, b + b" "), "no signature matches"),
        (lambda h, b: ({**h, "webhook-id": "msg_other"}, b), "no signature matches"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not a number of seconds"),
        (lambda h, b: ({**h, "webhook-timestamp": "1" + "0" * 400}, b), "not a number of seconds"),
    ],
)
def test_tampered_deliveries_are_refused(mutate, reason):
    tampered_headers, tampered_body = mutate(headers(), VECTOR["body"])
    with pytest.raises(SignatureError, match=reason):
        verify_standard_webhook(VECTOR["secret"], tampered_headers, tampered_body, now=VECTOR["timestamp"])


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_or_future_timestamps_are_refused(skew):
    with pytest.raises(SignatureError, match="outside the accepted window"):
        verify_standard_webhook(VECTOR["secret"], headers(), VECTOR["body"], now=VECTOR["timestamp"] + skew)


def test_secrets_without_the_whsec_prefix_are_raw_bytes():
    assert standard_webhook_key("plain-secret") == b"plain-secret"
