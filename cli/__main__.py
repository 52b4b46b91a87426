"""Operator commands for a running OMS.

python -m cli import-stock counts.csv     # counted stock, sku,warehouseId,onHand[,safetyStock]
python -m cli reconcile [--fix]           # stock against its reservations and ledger
python -m cli analytics-backfill [--reset] # the order analytics rebuilt from the stored orders
python -m cli shard-backfill              # orders, returns, deliveries stored before the lists were sharded

By default they reach the local OMS that `make run` started, with the variables it reads
(OMS_PORT, OMS_AWS_PORT, OMS_API_KEY). For a deployed stack: `import-stock --url <API URL>
--api-key <key>`; `reconcile --table <Inventory table name>` with your AWS credentials and no
`--endpoint-url`; `analytics-backfill --orders-table <name> --returns-table <name> --analytics-table
<name>` and `shard-backfill --orders-table <name> --returns-table <name> --deliveries-table <name>`
likewise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from blueprint import ANALYTICS, DELIVERIES, INVENTORY, ORDERS, RETURNS, Table
from cli import import_stock, reconcile
from local.provision import DEFAULT_NAMING
from local.settings import API_KEY, API_PORT, AWS_PORT, local_url

SHOWN_ERRORS = 20
SHARDED_LISTS = (ORDERS, RETURNS, DELIVERIES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    importing = commands.add_parser("import-stock", help="import counted stock from a CSV file")
    importing.add_argument("file", type=Path, help="CSV: sku,warehouseId,onHand[,safetyStock]")
    importing.add_argument("--url", default=None, help="the OMS API (default: the local one)")
    importing.add_argument("--api-key", default=None, help=f"default: ${API_KEY.variable} or the local key")
    importing.add_argument("--errors", type=Path, default=None, help="write every row error to this CSV")

    reconciling = commands.add_parser("reconcile", help="report (and --fix) drifts of stock")
    reconciling.add_argument("--fix", action="store_true", help="write compensating ledger entries")
    reconciling.add_argument("--table", default=None, help="the Inventory table (default: the local one)")
    reconciling.add_argument("--endpoint-url", default=None, help="the AWS endpoint (default: local moto)")

    backfilling = commands.add_parser(
        "analytics-backfill", help="apply every stored order to the analytics (--reset: rebuild them)"
    )
    backfilling.add_argument("--reset", action="store_true", help="empty the analytics first")
    for table in (ORDERS, RETURNS, ANALYTICS):
        backfilling.add_argument(f"--{table.name.lower()}-table", default=None, help="default: the local one")
    backfilling.add_argument("--endpoint-url", default=None, help="the AWS endpoint (default: local moto)")

    sharding = commands.add_parser(
        "shard-backfill", help="put what was stored before the lists were sharded into them"
    )
    for table in SHARDED_LISTS:
        sharding.add_argument(f"--{table.name.lower()}-table", default=None, help="default: the local one")
    sharding.add_argument("--endpoint-url", default=None, help="the AWS endpoint (default: local moto)")

    args = parser.parse_args(argv)
    if args.command == "import-stock":
        return _import(args)
    if args.command == "analytics-backfill":
        return _backfill(args)
    if args.command == "shard-backfill":
        return _shard_backfill(args)
    return _reconcile(args)


def _import(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    oms = import_stock.Oms(args.url or local_url(API_PORT), args.api_key or API_KEY.value())
    report = import_stock.run(args.file, oms)
    for error in report.errors[:SHOWN_ERRORS]:
        where = f" {error.sku} at {error.warehouse_id}" if error.sku else ""
        print(f"line {error.line}{where}: {error.message}")
    if len(report.errors) > SHOWN_ERRORS:
        print(
            f"... and {len(report.errors) - SHOWN_ERRORS} more" + ("" if args.errors else " (--errors FILE)")
        )
    if args.errors:
        import_stock.write_errors(report, args.errors)
        print(f"row errors written to {args.errors}")
    print(report.summary())
    return 1 if report.errors else 0


def _reconcile(args: argparse.Namespace) -> int:
    _aim_at_inventory(args.table, args.endpoint_url)
    report = reconcile.find_drifts()
    for drift in report.drifts:
        print(drift.describe())
    if args.fix and report.drifts:
        reconcile.fix(report)
        for drift in report.changed_meanwhile:
            print(f"changed while reconciling, run again: {drift.describe()}")
    fixed = f", {report.fixed} fixed" if args.fix else ""
    print(f"{report.buckets} stock buckets checked: {len(report.drifts)} drifted{fixed}")
    unfixed = len(report.drifts) - report.fixed
    return 1 if unfixed else 0


def _backfill(args: argparse.Namespace) -> int:
    from shared.dal import orders  # noqa: PLC0415 - after the environment names the tables
    from shared.logic import aggregation  # noqa: PLC0415

    names = {table: getattr(args, f"{table.name.lower()}_table") for table in (ORDERS, RETURNS, ANALYTICS)}
    _aim_at(names, args.endpoint_url)
    report = aggregation.backfill(
        orders.order_ids(), reset=args.reset, progress=lambda done: print(f"{done} orders", flush=True)
    )
    reset = f"{report.deleted} analytics items deleted, then " if args.reset else ""
    print(f"{reset}{report.orders} orders applied: {report.changed} changed the analytics")
    return 0


def _shard_backfill(args: argparse.Namespace) -> int:
    from shared.dal import deliveries, orders, returns  # noqa: PLC0415 - after the environment names the tables

    _aim_at(
        {table: getattr(args, f"{table.name.lower()}_table") for table in SHARDED_LISTS}, args.endpoint_url
    )
    written = orders.backfill_list_keys(), returns.backfill_list_keys(), deliveries.backfill_channel_shards()
    print(
        f"{written[0]} orders, {written[1]} returns and {written[2]} deliveries given their sharded list keys"
    )
    return 0


def _aim_at_inventory(table_name: str | None, endpoint_url: str | None) -> None:
    _aim_at({INVENTORY: table_name}, endpoint_url)


def _aim_at(tables: dict[Table, str | None], endpoint_url: str | None) -> None:
    """Point the OMS's own data access at the tables: the local ones through moto unless told."""
    local = all(name is None for name in tables.values()) and endpoint_url is None
    for table, name in tables.items():
        os.environ[table.env] = name or DEFAULT_NAMING.table(table)
    if local or endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url or local_url(AWS_PORT)
    if local:
        # Dummy credentials, always, for moto: never sign a local call with real keys.
        os.environ |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


if __name__ == "__main__":
    sys.exit(main())
