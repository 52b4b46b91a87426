"""The environment `python -m local` and its helper commands share (local/settings.py)."""

from __future__ import annotations

import pytest

from local.send_order import parse_arguments
from local.settings import API_KEY, API_PORT, AWS_PORT, PORTS, SPAPI_PORT, command_prefix

VARIABLES = [setting.variable for setting in (*PORTS, API_KEY)]


def test_the_defaults_are_those_make_run_documents() -> None:
    assert {s.variable: s.default for s in (*PORTS, API_KEY)} == {
        "OMS_PORT": "8000",
        "OMS_AWS_PORT": "4566",
        "OMS_SPAPI_PORT": "4567",
        "OMS_REFUNDS_PORT": "4568",
        "OMS_API_KEY": "oms-dev-key",
    }


def test_send_order_finds_the_oms_where_the_variables_put_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PORT", "18100")
    monkeypatch.setenv("OMS_AWS_PORT", "18101")
    monkeypatch.setenv("OMS_SPAPI_PORT", "18102")

    arguments = parse_arguments([])

    assert (arguments.url, arguments.aws_url, arguments.spapi_url) == (
        "http://127.0.0.1:18100",
        "http://127.0.0.1:18101",
        "http://127.0.0.1:18102",
    )


def test_without_the_variables_send_order_looks_where_make_run_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)

    arguments = parse_arguments([])

    assert (arguments.url, arguments.aws_url, arguments.spapi_url) == (
        "http://127.0.0.1:8000",
        "http://127.0.0.1:4566",
        "http://127.0.0.1:4567",
    )
    assert API_KEY.value() == "oms-dev-key"


def test_an_empty_variable_means_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_API_KEY", "")

    assert API_KEY.value() == "oms-dev-key"


def test_a_command_prefix_names_only_what_differs_from_the_defaults_quoted_for_a_shell() -> None:
    values = {API_PORT: "18100", AWS_PORT: "4566", SPAPI_PORT: "0", API_KEY: "it's mine"}

    assert command_prefix(values) == "OMS_PORT=18100 OMS_SPAPI_PORT=0 OMS_API_KEY='it'\"'\"'s mine' "
    assert command_prefix({API_PORT: "8000", API_KEY: "oms-dev-key"}) == ""
