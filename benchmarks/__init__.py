"""Benchmarks of the OMS: local throughput and latency on moto, and AWS cost per order.

`python -m benchmarks` (or `make bench`) runs orders through the local runtime, checks that every
order was delivered and that inventory adds up, counts what each order did (state transitions,
Lambda invocations, API requests, DynamoDB request units) and prices it with AWS list prices.
Then stock: flash sales and a CSV import over HTTP to a server-mode local OMS, each checked
(`benchmarks.flash_sale`, `benchmarks.stock_import`), and a simulation of a hot SKU's writes over
buckets (`benchmarks.hot_sku`). The report goes to stdout and to `docs/benchmarks.md`.
"""
