"""Amazon SES (the v1 API): templated e-mails, and whether senders are verified.

SES answers a send it will never accept as it stands (the sender or its domain is not verified, or
no longer; the account's sending is paused) with an error the retailer must fix: `EmailRejected`.
Throttling and service errors raise as they are, so the caller's retry (SQS) tries again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared import aws

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
# SES's errors for a message it refuses as it stands (SendTemplatedEmail's documented errors, less
# TemplateDoesNotExist and ConfigurationSetDoesNotExist, which are deployment bugs: retried, then
# kept in the dead-letter queue).
REJECTIONS = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "AccountSendingPausedException"}
)
# GetIdentityVerificationAttributes takes at most 100 identities a call.
MAX_IDENTITIES = 100


class EmailRejected(Exception):
    """SES refused the message for a reason the retailer can fix (`code`: SES's error code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@cache
def _ses() -> Any:
    return boto3.client("ses", config=_RETRIES)


aws.on_reset(_ses.cache_clear)


def send_templated(
    template: str, sender: str, to: str, data: Mapping[str, str], reply_to: str | None = None
) -> str:
    """Send one templated e-mail; returns SES's message id."""
    try:
        sent = _ses().send_templated_email(
            Source=sender,
            Destination={"ToAddresses": [to]},
            ReplyToAddresses=[reply_to] if reply_to else [],
            Template=template,
            TemplateData=json.dumps(dict(data)),
        )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in REJECTIONS:
            raise EmailRejected(code, error.response["Error"].get("Message", "")) from error
        raise
    return str(sent["MessageId"])


def verified_identities(identities: Iterable[str]) -> set[str]:
    """Which of the addresses and domains SES has verified (VerificationStatus Success)."""
    wanted = list(dict.fromkeys(identities))
    verified: set[str] = set()
    for start in range(0, len(wanted), MAX_IDENTITIES):
        answer = _ses().get_identity_verification_attributes(
            Identities=wanted[start : start + MAX_IDENTITIES]
        )
        attributes = answer.get("VerificationAttributes", {})
        verified |= {name for name, a in attributes.items() if a.get("VerificationStatus") == "Success"}
    return verified


def sender_identities(address: str) -> tuple[str, str]:
    """The identities that let `address` send: itself, or its domain."""
    return address, address.rsplit("@", 1)[1].lower()


def sender_verified(address: str) -> bool:
    return bool(verified_identities(sender_identities(address)))
