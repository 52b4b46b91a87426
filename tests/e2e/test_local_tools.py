"""The helper commands as a user runs them, against the running OMS."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.e2e.conftest import API_KEY, ROOT, RunningOMS


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


@pytest.mark.parametrize("channel", ["demo-shopify", "demo-woo"])
def test_two_runs_send_two_orders(running_oms: RunningOMS, channel: str) -> None:
    first = run_send_order(running_oms, "--channel", channel)
    second = run_send_order(running_oms, "--channel", channel)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert '"CREATED"' in first.stdout
    assert '"CREATED"' in second.stdout, second.stdout
    assert order_id_in(first.stdout) != order_id_in(second.stdout)
