"""The helper commands as a user runs them: pasted from the banner of `python -m local` into another
terminal, against the running OMS; and a second start on a port that is taken."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from local.settings import PORTS
from tests.e2e.conftest import API_KEY, ROOT, RunningOMS, free_port
from tests.support.orders import Client

CHANNELS = ["demo-store", "demo-shopify", "demo-woo", "demo-amazon"]


def printed_send_order_command(running_oms: RunningOMS) -> str:
    """The banner's first send_order command, exactly as printed."""
    return next(
        line.strip() for line in running_oms.banner.splitlines() if line.endswith("-m local.send_order")
    )


def another_terminal() -> dict[str, str]:
    """A terminal whose OMS variables lead nowhere (a closed port, another key): a command works
    there only with what the banner printed."""
    nowhere = str(free_port())
    return {
        **os.environ,
        "OMS_PORT": nowhere,
        "OMS_AWS_PORT": nowhere,
        "OMS_SPAPI_PORT": nowhere,
        "OMS_REFUNDS_PORT": nowhere,
        "OMS_API_KEY": "not-the-key",
    }


def run_pasted(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=another_terminal(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_send_order(
    running_oms: RunningOMS, *arguments: str, api_key: str = API_KEY
) -> subprocess.CompletedProcess[str]:
    """`python -m local.send_order` with the OMS's ports set in its environment."""
    spapi_url = re.search(r"SP-API: +(\S+)", running_oms.banner)
    assert spapi_url is not None, running_oms.banner
    environment = {
        **os.environ,
        "OMS_PORT": running_oms.api_url.rsplit(":", 1)[1],
        "OMS_AWS_PORT": running_oms.aws_url.rsplit(":", 1)[1],
        "OMS_SPAPI_PORT": spapi_url.group(1).rsplit(":", 1)[1],
        "OMS_API_KEY": api_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "local.send_order", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def order_id_in(printed: str) -> str:
    return next(word for word in printed.replace('"', " ").split() if word.startswith("ord_"))


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_banner_send_order_command_places_the_line_asked_for_on_each_channel_from_another_terminal(
    running_oms: RunningOMS, client: Client, channel: str
) -> None:
    """Webhooks for the api, Shopify and WooCommerce channels; for Amazon the order placed at the
    SP-API sandbox and a notification on the SQS queue, which the running OMS polls."""
    command = f"{printed_send_order_command(running_oms)} --channel {channel} --sku MUG-WHT-11OZ --quantity 2"

    sent = run_pasted(command)

    assert sent.returncode == 0, sent.stdout + sent.stderr
    order_id = order_id_in(sent.stdout)
    order = client.wait_for_status(order_id, "FULFILLING")
    assert order["channelId"] == channel
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("MUG-WHT-11OZ", 2)]
    assert "Mug" in order["lines"][0]["title"]
    _, archived = client.call("GET", f"/channels/{channel}/deliveries/{order['deliveryId']}")
    assert archived["result"]["orderId"] == order_id


@pytest.mark.parametrize("channel", ["demo-shopify", "demo-woo"])
def test_two_runs_send_two_orders(running_oms: RunningOMS, channel: str) -> None:
    first = run_send_order(running_oms, "--channel", channel)
    second = run_send_order(running_oms, "--channel", channel)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert '"CREATED"' in first.stdout
    assert '"CREATED"' in second.stdout, second.stdout
    assert order_id_in(first.stdout) != order_id_in(second.stdout)


def test_a_wrong_api_key_is_named_and_leaves_nothing_to_follow(running_oms: RunningOMS) -> None:
    sent = run_send_order(running_oms, api_key="not-the-key")

    assert sent.returncode != 0
    assert "OMS_API_KEY" in sent.stderr
    assert "cannot reach" not in sent.stderr
    assert "Follow the order" not in sent.stdout


def test_the_readme_curl_example_lists_the_orders_of_the_oms_its_variables_name(
    running_oms: RunningOMS,
) -> None:
    readme = (ROOT / "README.md").read_text()
    [command] = [line for line in readme.splitlines() if line.startswith("curl -s") and "/orders |" in line]
    terminal = {
        **os.environ,
        "OMS_PORT": running_oms.api_url.rsplit(":", 1)[1],
        "OMS_API_KEY": API_KEY,
    }

    listed = subprocess.run(
        command, shell=True, env=terminal, capture_output=True, text=True, timeout=30, check=False
    )

    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout)["orders"], list)


@pytest.mark.parametrize("variable", [port.variable for port in PORTS])
def test_a_start_on_a_busy_port_names_the_port_and_its_variable(variable: str) -> None:
    ports = {port.variable: str(free_port()) for port in PORTS}
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        ports[variable] = str(occupant.getsockname()[1])

        started = subprocess.run(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env={**os.environ, **ports},
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    assert started.returncode == 1
    assert f"Cannot start: port {ports[variable]} ({variable}) is already in use" in started.stderr
