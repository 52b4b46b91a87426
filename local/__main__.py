"""`python -m local` (`make run`): the OMS on this machine, with demo data, until Ctrl-C.

Environment: OMS_PORT (API, default 8000), OMS_AWS_PORT (moto, default 4566), OMS_SPAPI_PORT (the
Amazon SP-API sandbox, default 4567), OMS_API_KEY (default `oms-dev-key`), OMS_VERBOSE (show
tracing/metrics and moto's logs).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from types import FrameType

from local.demo import DEMO_CHANNEL_ID, SpApiLocation, seed
from local.runtime import DEFAULT_GATEWAY_PORT, LocalOMS, verbose
from local.samples import AMAZON_CHANNEL, SHOPIFY_CHANNEL, WOO_CHANNEL
from local.spapi_sandbox import FakeSpApi

DEFAULT_SPAPI_PORT = 4567


def configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("local").setLevel(logging.DEBUG if verbose() else logging.INFO)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def banner(oms: LocalOMS, spapi: FakeSpApi, seed_failures: list[str]) -> str:
    api, aws = oms.api_url, oms.aws_endpoint_url
    region = os.environ["AWS_DEFAULT_REGION"]
    lines = [
        "",
        "Local OMS is running.",
        f"  API:           {api}   (x-api-key: {oms.api_key})",
        f"  AWS endpoint:  {aws}   (moto; any credentials, region {region})",
        f"  SP-API:        {spapi.endpoint}   (a local Amazon SP-API sandbox)",
        "",
    ]
    if seed_failures:
        lines += ["Demo data could NOT be fully created (are all handlers written yet?):"]
        lines += [f"  {failure}" for failure in seed_failures] + [""]
    else:
        lines += [
            "Demo data: warehouses wh-east and wh-west, stock for 3 SKUs, and channels",
            f"  {DEMO_CHANNEL_ID} (api), {SHOPIFY_CHANNEL}, {WOO_CHANNEL} and {AMAZON_CHANNEL}.",
            "",
        ]
    lines += [
        "Send a first order (a signed channel webhook), then follow it:",
        "  .venv/bin/python -m local.send_order",
        f"  .venv/bin/python -m local.send_order --channel {SHOPIFY_CHANNEL}",
        f"    (or --channel {WOO_CHANNEL}, or --channel {AMAZON_CHANNEL} through the SQS queue)",
        f"  curl -H 'x-api-key: {oms.api_key}' {api}/orders/<orderId>",
        f"  curl {api}/health",
        "",
        "Look inside with the AWS CLI:",
        f"  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url {aws} --region {region} \\",
        f"    stepfunctions list-executions --state-machine-arn {oms.deployment.order_workflow_arn}",
        "",
        "Ctrl-C stops (all data is in memory and is discarded).",
    ]
    return "\n".join(lines)


def main() -> int:
    configure_logging()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # A shell starting us in the background may have set SIGINT to "ignore": Ctrl-C must stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    gateway_port = int(os.environ.get("OMS_PORT", DEFAULT_GATEWAY_PORT))
    try:
        spapi_port = int(os.environ.get("OMS_SPAPI_PORT", DEFAULT_SPAPI_PORT))
        with (
            FakeSpApi(port=spapi_port) as spapi,
            LocalOMS("server", gateway_port=gateway_port) as oms,
        ):
            failures = seed(oms.request, SpApiLocation(spapi.endpoint, spapi.token_endpoint))
            print(banner(oms, spapi, failures), flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopped.")
    except OSError as error:
        print(
            f"Cannot start: {error}. Set OMS_PORT / OMS_AWS_PORT / OMS_SPAPI_PORT to free ports.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
