"""The local runtime's mail log: every e-mail the OMS sent through moto's SES, rendered as the customer
would get it, and printed as it is sent (`local.mail`: template, recipient, sender, subject).

moto's SES accepts a send only from a verified sender with an existing template, as SES does, and
keeps each message in its backend (`sent_messages`, an internal API of the pinned moto; its server
runs in this process, so the same backend serves both modes). It keeps the template's name and data,
not the text: each message is rendered with SES's TestRenderTemplate, on moto, from the same template.
moto's record has no Reply-To: `replyTo` is sent to SES but not shown here.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from moto.ses.models import ses_backends

logger = logging.getLogger("local.mail")

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class SentEmail:
    messageId: str
    sender: str
    to: list[str]
    template: str
    data: dict[str, Any]
    subject: str
    text: str
    html: str


class MailLog:
    def __init__(self, ses: Any, account_id: str, region: str) -> None:
        self._ses = ses
        self._account_id = account_id
        self._region = region
        self._logged = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-log", daemon=True)

    def start(self) -> MailLog:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask it to stop, without waiting (so that several end their waits at once)."""
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=POLL_SECONDS + 5)

    def _messages(self) -> list[Any]:
        backend = ses_backends[self._account_id][self._region]
        return [m for m in list(backend.sent_messages) if hasattr(m, "template")]

    def sent(self) -> list[SentEmail]:
        """Every templated e-mail sent so far, oldest first, rendered."""
        return [self._rendered(message) for message in self._messages()]

    def _rendered(self, message: Any) -> SentEmail:
        rendered = self._ses.test_render_template(
            TemplateName=message.template, TemplateData=message.template_data
        )
        parsed = email.message_from_string(rendered["RenderedTemplate"], policy=email.policy.default)
        parts = {
            part.get_content_type(): part.get_content() for part in parsed.walk() if not part.is_multipart()
        }
        destinations = message.destinations
        to = list(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else []
        return SentEmail(
            messageId=message.id,
            sender=message.source,
            to=to,
            template=message.template,
            data=json.loads(message.template_data),
            subject=str(parsed["Subject"] or ""),
            text=str(parts.get("text/plain", "")),
            html=str(parts.get("text/html", "")),
        )

    def _run(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            try:
                self._log_new()
            except Exception:
                if not self._stopping.is_set():
                    logger.exception("reading the sent e-mails failed")

    def _log_new(self) -> None:
        messages = self._messages()
        for message in messages[self._logged :]:
            shown = self._rendered(message)
            logger.info(
                "mail %s to %s from %s: %s", shown.template, ", ".join(shown.to), shown.sender, shown.subject
            )
        self._logged = len(messages)
