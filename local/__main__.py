"""`python -m local` (`make run`): the OMS on this machine, with demo data, until Ctrl-C.

Environment: OMS_PORT (API, default 8000), OMS_AWS_PORT (moto, default 4566), OMS_SPAPI_PORT (the
Amazon SP-API sandbox, default 4567), OMS_REFUNDS_PORT (the refund sandbox: Shopify's and WooCommerce's
refund APIs and a signed refund receiver, where the demo channels send refunds; default 4568),
OMS_API_KEY (default `oms-dev-key`), OMS_DEMO_HISTORY (how many orders of demo history to make
before the banner, over OMS_DEMO_HISTORY_DAYS days before today: default 240 over 42; 0 for none),
OMS_VERBOSE (show tracing/metrics and moto's logs). The helper
commands (`python -m local.send_order`, `python -m local.send_return`) read the same variables with the
same defaults (`local.settings`), and the banner prints them in front of a command where they differ
from the defaults, so the command works as printed in another terminal.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from types import FrameType

from aws_lambda_powertools.logging.filters import SuppressFilter

from blueprint import COMMON_ENVIRONMENT, CONSOLE
from local import history
from local.demo import (
    DEMO_CHANNEL_ID,
    DEMO_TRACKING_PROVIDERS,
    DEMO_WEBHOOK_SECRET,
    WAREHOUSES,
    RefundsLocation,
    SpApiLocation,
    demo_skus,
    seed,
)
from local.refund_sandbox import SEEN_PATH, FakeChannelRefunds
from local.runtime import LocalOMS, port_in_use, verbose
from local.samples import AMAZON_CHANNEL, SHOPIFY_CHANNEL, WOO_CHANNEL
from local.settings import (
    API_KEY,
    API_PORT,
    AWS_PORT,
    DEMO_HISTORY,
    DEMO_HISTORY_DAYS,
    PORTS,
    REFUNDS_PORT,
    SPAPI_PORT,
    Setting,
    command_prefix,
)
from local.spapi_sandbox import FakeSpApi

# What each Shopify order paid, as the refund sandbox sees it: more than any demo order costs, so a
# return of the largest order the demo stock allows is refunded.
DEMO_SHOPIFY_SALE = "1000000.00"
SECONDS_PER_HISTORY_ORDER = 1.3  # measured: 240 orders in 310 s on this project's 2-core machine


def configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("local").setLevel(logging.DEBUG if verbose() else logging.INFO)
    # The handlers' Powertools Logger prints its own JSON lines. It keeps them from reaching the root
    # logger's handlers only if those exist when it is created, and it was created on import.
    for handler in logging.root.handlers:
        handler.addFilter(SuppressFilter(COMMON_ENVIRONMENT["POWERTOOLS_SERVICE_NAME"]))


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@dataclass(frozen=True)
class Running:
    """Where the started OMS answers, and with which key: what the banner tells."""

    api_url: str
    aws_url: str
    spapi_url: str
    refunds_url: str
    api_key: str
    region: str
    workflow_arn: str

    @classmethod
    def of(cls, oms: LocalOMS, spapi: FakeSpApi, refunds: FakeChannelRefunds) -> Running:
        if oms.api_url is None or oms.aws_endpoint_url is None:
            raise RuntimeError("the banner is for an OMS served over HTTP (server mode, with a gateway)")
        return cls(
            api_url=oms.api_url,
            aws_url=oms.aws_endpoint_url,
            spapi_url=spapi.endpoint,
            refunds_url=refunds.endpoint,
            api_key=oms.api_key,
            region=os.environ["AWS_DEFAULT_REGION"],
            workflow_arn=oms.deployment.order_workflow_arn,
        )

    def settings(self) -> dict[Setting, str]:
        """The value of each setting a helper command needs to reach this OMS."""
        ports = {
            API_PORT: self.api_url,
            AWS_PORT: self.aws_url,
            SPAPI_PORT: self.spapi_url,
            REFUNDS_PORT: self.refunds_url,
        }
        return {setting: url.rsplit(":", 1)[1] for setting, url in ports.items()} | {API_KEY: self.api_key}


def banner(running: Running, seed_failures: list[str], made: history.Report | None = None) -> str:
    sections = [
        _addresses(running),
        _seed_failures(seed_failures) if seed_failures else _demo_data(made),
        *([_demo_history(running, made)] if made else []),
        _first_order(running),
        _first_tracking(running),
        _first_return(running),
        _first_subscription(running),
        _aws_cli(running),
        ["Ctrl-C stops (all data is in memory and is discarded)."],
    ]
    return "\n" + "\n\n".join("\n".join(section) for section in sections)


def _addresses(running: Running) -> list[str]:
    return [
        "Local OMS is running.",
        f"  API:           {running.api_url}   (x-api-key: {running.api_key})",
        f"  AWS endpoint:  {running.aws_url}   (moto; any credentials, region {running.region})",
        f"  SP-API:        {running.spapi_url}   (a local Amazon SP-API sandbox)",
        f"  Refunds:       {running.refunds_url}   (a local refund sandbox: Shopify, WooCommerce and a"
        " signed receiver)",
        f"  API docs:      {running.api_url}/swagger   (Swagger UI in a browser; try the API with the key)",
        f"  Console:       {running.api_url}{CONSOLE.path}/   (the back office; sign in with the API key)",
    ]


def _seed_failures(failures: list[str]) -> list[str]:
    return [
        "Demo data could NOT be fully created (are all handlers written yet?):",
        *(f"  {failure}" for failure in failures),
    ]


def _demo_data(made: history.Report | None) -> list[str]:
    warehouses = [*WAREHOUSES, history.CENTRAL] if made else list(WAREHOUSES)
    return [
        f"Demo data: warehouses {', '.join(warehouses)}, stock of {', '.join(demo_skus())},",
        f"  channels {DEMO_CHANNEL_ID} (api), {SHOPIFY_CHANNEL}, {WOO_CHANNEL} and {AMAZON_CHANNEL},",
        f"  and tracking providers {' and '.join(DEMO_TRACKING_PROVIDERS)}.",
    ]


def _demo_history(running: Running, made: history.Report) -> list[str]:
    lines = [
        f"Demo history: {made.orders} orders placed from {made.first_day} to yesterday through"
        f" {', '.join(history.CHANNEL_WEIGHTS)}:",
        f"  {made.delivered} delivered, {made.split} split, {made.backordered} backordered,"
        f" {made.cancelled} cancelled, {made.returned} returned (made in {made.seconds:.0f} s;"
        " OMS_DEMO_HISTORY=0 skips it).",
        f"  The dashboard: {running.api_url}{CONSOLE.path}/dashboard",
    ]
    if made.problems:
        lines.append(f"  {len(made.problems)} of its calls failed, the first: {made.problems[0]}")
    return lines


def _first_order(running: Running) -> list[str]:
    send_order = f"{command_prefix(running.settings())}.venv/bin/python -m local.send_order"
    key_header = f"-H {shlex.quote(f'x-api-key: {running.api_key}')}"
    return [
        "Send a first order (a signed channel webhook), then follow it:",
        f"  {send_order}",
        f"  {send_order} --channel {SHOPIFY_CHANNEL}",
        f"    (or --channel {WOO_CHANNEL}, or --channel {AMAZON_CHANNEL} through the SQS queue;",
        "     --sku and --quantity choose the order's line)",
        f"  curl {key_header} {running.api_url}/orders/<orderId>",
        f"  curl {running.api_url}/health",
    ]


def _first_tracking(running: Running) -> list[str]:
    send_tracking = f"{command_prefix(running.settings())}.venv/bin/python -m local.send_tracking"
    return [
        "Or let a carrier tracking provider ship and deliver it (demo-easypost, demo-aftership):",
        f"  {send_tracking} <orderId>",
    ]


def _first_return(running: Running) -> list[str]:
    send_return = f"{command_prefix(running.settings())}.venv/bin/python -m local.send_return"
    return [
        "Then return it (delivered first if need be; refunded through the refund sandbox):",
        f"  {send_return} <orderId>",
        f"  curl {running.refunds_url}{SEEN_PATH}   (the refunds the sandbox made)",
    ]


def _first_subscription(running: Running) -> list[str]:
    key_header = f"-H {shlex.quote(f'x-api-key: {running.api_key}')}"
    body = shlex.quote('{"url": "http://127.0.0.1:9000/hooks", "eventTypes": ["*"]}')
    return [
        "Have every event POSTed to a receiver of yours, signed (Standard Webhooks; http is fine locally):",
        f"  curl {key_header} -X PUT -d {body} {running.api_url}/subscriptions/mine",
        f"  curl {key_header} {running.api_url}/subscriptions/mine/deliveries   (attempts, results)",
    ]


def _aws_cli(running: Running) -> list[str]:
    return [
        "Look inside with the AWS CLI:",
        f"  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url {running.aws_url}"
        f" --region {running.region} \\",
        f"    stepfunctions list-executions --state-machine-arn {running.workflow_arn}",
    ]


def busy_port() -> tuple[Setting, int] | None:
    """The first port to listen on that something else already holds (0 picks a free one)."""
    for setting in PORTS:
        port = int(setting.value())
        if port and port_in_use(port):
            return setting, port
    return None


def history_size() -> tuple[int, int] | None:
    """(orders, days) of demo history asked for; None when a setting is not a whole number."""
    try:
        orders, days = int(DEMO_HISTORY.value()), int(DEMO_HISTORY_DAYS.value())
    except ValueError:
        return None
    return (orders, days) if orders >= 0 and days >= 1 else None


def make_history(oms: LocalOMS, orders: int, days: int) -> history.Report:
    print(
        f"Making {orders} orders of demo history over {days} days (about"
        f" {max(1, round(orders * SECONDS_PER_HISTORY_ORDER / 60))} min on 2 cores;"
        f" {DEMO_HISTORY.variable}=0 skips it)...",
        flush=True,
    )

    def progress(day: int, placed: int) -> None:
        if day % 7 == 6 or day == days - 1:
            print(f"  day {day + 1} of {days}: {placed} orders", flush=True)

    return history.make(oms, orders, days, progress)


def main() -> int:
    configure_logging()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # A shell starting us in the background may have set SIGINT to "ignore": Ctrl-C must stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    size = history_size()
    if size is None:
        print(
            f"Cannot start: {DEMO_HISTORY.variable} must be a number of orders (0 for none) and"
            f" {DEMO_HISTORY_DAYS.variable} a number of days (1 or more).",
            file=sys.stderr,
        )
        return 1
    orders, days = size
    busy = busy_port()
    if busy is not None:
        setting, port = busy
        print(
            f"Cannot start: port {port} ({setting.variable}) is already in use (is the OMS running"
            f" already?). Set {setting.variable} to a free port.",
            file=sys.stderr,
        )
        return 1
    try:
        with (
            FakeSpApi(port=int(SPAPI_PORT.value())) as spapi,
            FakeChannelRefunds(
                signing_secret=DEMO_WEBHOOK_SECRET,
                shopify_sale_amount=DEMO_SHOPIFY_SALE,
                port=int(REFUNDS_PORT.value()),
            ) as refunds,
            LocalOMS("server", gateway_port=int(API_PORT.value())) as oms,
        ):
            spapi_location = SpApiLocation(spapi.endpoint, spapi.token_endpoint)
            failures = seed(oms.request, spapi_location, RefundsLocation.of(refunds))
            made = None if failures or not orders else make_history(oms, orders, days)
            print(banner(Running.of(oms, spapi, refunds), failures, made), flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopped.")
    except OSError as error:
        print(
            f"Cannot start: {error}. Set {' / '.join(port.variable for port in PORTS)} to free ports.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
