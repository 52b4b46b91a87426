"""What `python -m local` prints when it runs, and what it says when it cannot start (no servers)."""

from __future__ import annotations

import socket

import pytest

from local import history
from local.__main__ import Running, banner, busy_port
from local.demo import STOCK
from local.settings import PORTS, Setting

WORKFLOW_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:oms-OrderWorkflow"


def running(
    api: int = 8000, aws: int = 4566, spapi: int = 4567, refunds: int = 4568, key: str = "oms-dev-key"
) -> Running:
    return Running(
        api_url=f"http://127.0.0.1:{api}",
        aws_url=f"http://127.0.0.1:{aws}",
        spapi_url=f"http://127.0.0.1:{spapi}",
        refunds_url=f"http://127.0.0.1:{refunds}",
        api_key=key,
        region="us-east-1",
        workflow_arn=WORKFLOW_ARN,
    )


def send_order_lines(printed: str) -> list[str]:
    return [line.strip() for line in printed.splitlines() if "-m local.send_order" in line]


def send_return_lines(printed: str) -> list[str]:
    return [line.strip() for line in printed.splitlines() if "-m local.send_return" in line]


def test_at_the_defaults_the_send_order_commands_need_no_variables() -> None:
    printed = banner(running(), [])

    assert send_order_lines(printed) == [
        ".venv/bin/python -m local.send_order",
        ".venv/bin/python -m local.send_order --channel demo-shopify",
    ]
    assert send_return_lines(printed) == [".venv/bin/python -m local.send_return <orderId>"]


def test_the_send_order_commands_carry_every_setting_that_is_not_at_its_default() -> None:
    printed = banner(running(api=18100, aws=18101, spapi=18102, refunds=18103, key="my key"), [])

    prefix = (
        "OMS_PORT=18100 OMS_AWS_PORT=18101 OMS_SPAPI_PORT=18102 OMS_REFUNDS_PORT=18103 OMS_API_KEY='my key' "
    )
    assert send_order_lines(printed) == [
        f"{prefix}.venv/bin/python -m local.send_order",
        f"{prefix}.venv/bin/python -m local.send_order --channel demo-shopify",
    ]
    assert send_return_lines(printed) == [f"{prefix}.venv/bin/python -m local.send_return <orderId>"]


def test_the_banner_names_the_refund_sandbox_and_where_it_lists_its_refunds() -> None:
    printed = banner(running(refunds=18103), [])

    assert "  Refunds:       http://127.0.0.1:18103   (a local refund sandbox" in printed
    assert "  curl http://127.0.0.1:18103/sandbox/refunds " in printed


def test_only_the_settings_that_differ_are_printed() -> None:
    [plain, _] = send_order_lines(banner(running(aws=18101), []))

    assert plain == "OMS_AWS_PORT=18101 .venv/bin/python -m local.send_order"


def test_the_curl_and_aws_commands_use_the_real_addresses_and_key() -> None:
    printed = banner(running(api=18100, aws=18101, key="k-1"), [])

    assert "  curl -H 'x-api-key: k-1' http://127.0.0.1:18100/orders/<orderId>\n" in printed
    assert "  curl http://127.0.0.1:18100/health\n" in printed
    assert "aws --endpoint-url http://127.0.0.1:18101 --region us-east-1 \\\n" in printed
    assert f"stepfunctions list-executions --state-machine-arn {WORKFLOW_ARN}\n" in printed


def test_the_banner_names_the_skus_the_demo_stocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STOCK, ("SOCKS-RED-L", "wh-east"), 5)

    printed = banner(running(), [])

    assert "stock of TSHIRT-BLK-M, MUG-WHT-11OZ, HOODIE-GRY-L, SOCKS-RED-L" in printed


def test_when_seeding_failed_the_banner_says_what_failed_instead_of_the_demo_data() -> None:
    printed = banner(running(), ["PUT /warehouses/wh-east -> 500 b'boom'"])

    assert "could NOT be fully created" in printed
    assert "  PUT /warehouses/wh-east -> 500 b'boom'" in printed
    assert "stock of" not in printed


@pytest.mark.parametrize("setting", PORTS, ids=lambda s: s.variable)
def test_a_port_something_listens_on_is_named_with_its_variable(
    monkeypatch: pytest.MonkeyPatch, setting: Setting
) -> None:
    for free in PORTS:
        monkeypatch.setenv(free.variable, "0")
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        port = occupant.getsockname()[1]
        monkeypatch.setenv(setting.variable, str(port))

        assert busy_port() == (setting, port)


def test_no_port_is_busy_when_each_is_picked_free(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in PORTS:
        monkeypatch.setenv(setting.variable, "0")

    assert busy_port() is None


def test_a_demo_history_is_summed_up_with_the_dashboard_link() -> None:
    made = history.Report(orders=240, delivered=180, cancelled=14, backordered=12, returned=18, split=21)
    made.first_day, made.seconds = "2026-10-22", 201.4

    printed = banner(running(), [], made)

    assert "Demo history: 240 orders placed from 2026-10-22 to yesterday through demo-store" in printed
    assert "180 delivered, 21 split, 12 backordered, 14 cancelled, 18 returned (made in 201 s;" in printed
    assert "The dashboard: http://127.0.0.1:8000/console/dashboard" in printed
    assert "warehouses wh-east, wh-west, wh-central," in printed


def test_without_a_history_the_banner_says_nothing_of_one() -> None:
    printed = banner(running(), [])

    assert "Demo history" not in printed
    assert "warehouses wh-east, wh-west, stock" in printed
