"""Powertools Logger, Tracer and Metrics shared by every function (service name from the environment)."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# A step that records no business metric is normal; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def count(metric: str, value: int = 1) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def correlate_with_order(order_id: str | None) -> None:
    """Logs of every function that touches an order carry its id as the correlation id."""
    if order_id:
        logger.set_correlation_id(order_id)
        logger.append_keys(order_id=order_id)
        tracer.put_annotation(key="order_id", value=order_id)
