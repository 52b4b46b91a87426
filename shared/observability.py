"""Powertools Logger, Tracer and Metrics shared by every function (service name from the environment)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

# A step that records no business metric is normal; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics()


Handler = Callable[[dict[str, Any], Any], Any]


def with_metrics(handler: Handler) -> Handler:
    """Publish the invocation's metrics (and the cold start) as EMF when the handler returns.

    Powertools keeps unpublished metrics when POWERTOOLS_METRICS_DISABLED is set (as the local
    runtime does), so they are cleared here: a long local session must not accumulate them.
    """
    published = metrics.log_metrics(handler, capture_cold_start_metric=not is_metrics_disabled())

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: Any) -> Any:
        try:
            return published(event, context)
        finally:
            metrics.clear_metrics()

    return run


def count(metric: str, value: int = 1) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def correlate_with_order(order_id: str | None) -> None:
    """Logs of every function that touches an order carry its id as the correlation id."""
    if order_id:
        logger.set_correlation_id(order_id)
        logger.append_keys(order_id=order_id)
        tracer.put_annotation(key="order_id", value=order_id)
