"""`python -m local.send_order`: the options it refuses, and the Amazon order it places at the SP-API
sandbox."""

from __future__ import annotations

import pytest
import requests

from local.send_order import main, place_at_amazon
from local.spapi_sandbox import SANDBOX_ORDERS_PREFIX, FakeSpApi
from shared.channels.amazon import to_canonical
from shared.channels.spapi import SpApiClient


@pytest.mark.parametrize("channel", ["demo-shopify", "demo-woo", "demo-amazon"])
def test_a_channel_order_id_is_refused_where_the_channel_makes_its_own(
    channel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--channel", channel, "--channel-order-id", "c-1"])

    assert refused.value.code == 2
    assert "--channel-order-id is for api channels" in capsys.readouterr().err


def test_the_amazon_order_placed_at_the_sandbox_is_the_sku_and_quantity_asked_for() -> None:
    with FakeSpApi() as spapi:
        place_at_amazon(spapi.endpoint, "111-0000001-0000002", [("MUG-WHT-11OZ", 3)])
        client = SpApiClient(spapi.credentials(), timeout=2.0)
        order = client.get_order("111-0000001-0000002")
        items = client.get_order_items("111-0000001-0000002")

    [line] = to_canonical(order, items).lines
    assert (line.sku, line.quantity) == ("MUG-WHT-11OZ", 3)


def test_the_sandbox_refuses_an_order_it_cannot_serve() -> None:
    with FakeSpApi() as spapi:
        answer = requests.put(f"{spapi.endpoint}{SANDBOX_ORDERS_PREFIX}111-1", json={"order": []}, timeout=5)

    assert answer.status_code == 400
    assert "orderItems" in answer.json()["errors"][0]["message"]
