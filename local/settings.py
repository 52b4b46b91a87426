"""What `python -m local` and the helper commands (`python -m local.send_order`, `local.send_return`)
read from the environment, in one place: the same variables with the same defaults, so the helpers
find the OMS that `make run` started, and a command printed by one terminal works in another."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from local.gateway import API_KEY_ENV, DEV_API_KEY


@dataclass(frozen=True)
class Setting:
    variable: str
    default: str

    def value(self) -> str:
        return os.environ.get(self.variable) or self.default


API_PORT = Setting("OMS_PORT", "8000")
AWS_PORT = Setting("OMS_AWS_PORT", "4566")
SPAPI_PORT = Setting("OMS_SPAPI_PORT", "4567")
REFUNDS_PORT = Setting("OMS_REFUNDS_PORT", "4568")
API_KEY = Setting(API_KEY_ENV, DEV_API_KEY)
PORTS = (API_PORT, AWS_PORT, SPAPI_PORT, REFUNDS_PORT)
DEMO_HISTORY = Setting("OMS_DEMO_HISTORY", "240")  # orders; local/history.py makes them
DEMO_HISTORY_DAYS = Setting("OMS_DEMO_HISTORY_DAYS", "42")


def local_url(port: Setting) -> str:
    return f"http://127.0.0.1:{port.value()}"


def command_prefix(values: Mapping[Setting, str]) -> str:
    """`VARIABLE=value ` for each setting whose value is not its default: what a command needs in
    front of it to reach an OMS started with `values` from a terminal where none of them is set."""
    return "".join(
        f"{setting.variable}={shlex.quote(value)} "
        for setting, value in values.items()
        if value != setting.default
    )
