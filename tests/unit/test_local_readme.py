"""The README's local instructions agree with what `python -m local` and its helpers read."""

from __future__ import annotations

import re
from pathlib import Path

from local.demo import demo_skus
from local.settings import API_KEY, PORTS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```\w*\n(.*?)```", text, flags=re.DOTALL)


def running_locally_examples() -> str:
    section = README.split("\n## Running locally\n", 1)[1].split("\n## ", 1)[0]
    return "".join(code_blocks(section))


def test_the_readme_starts_with_the_two_commands() -> None:
    assert README.startswith("```bash\n")
    first_block = code_blocks(README)[0]
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make run", "make test"]


def test_the_local_examples_take_every_port_from_its_variable_with_its_default() -> None:
    examples = running_locally_examples()
    defaults = {setting.variable: setting.default for setting in PORTS}

    assert re.findall(r"127\.0\.0\.1:\d+", examples) == []
    used = set(re.findall(r"127\.0\.0\.1:\$\{(\w+):-(\d+)\}", examples))
    assert used == {("OMS_PORT", "8000"), ("OMS_AWS_PORT", "4566"), ("OMS_REFUNDS_PORT", "4568")}
    assert all(defaults[variable] == default for variable, default in used)


def test_the_local_examples_take_the_api_key_from_its_variable() -> None:
    key_headers = re.findall(r"x-api-key: ([^\"']+)", running_locally_examples())

    assert key_headers
    assert set(key_headers) == {f"${{{API_KEY.variable}:-{API_KEY.default}}}"}


def test_the_readme_examples_order_skus_the_demo_stocks() -> None:
    ordered = re.findall(r"--sku (\S+)", README)

    assert ordered
    assert set(ordered) <= set(demo_skus())
