"""Powertools Logger, Tracer and Metrics shared by every function (service name from the environment)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.jmespath_utils import query

# A step that records no business metric is normal; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# What the OMS calls out with: AWS (botocore) and HTTP (http.client, under shared/http_client.py).
# Powertools' default patches every library X-Ray supports that imports, sqlite3 among them: a cold
# start would import it only to trace calls the OMS never makes.
TRACED_MODULES = ("botocore", "httplib")

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
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


# Kept per thread (Powertools' thread-safe keys): locally, concurrent workflow steps share one
# Logger, and no step's order may appear in another's lines.
ORDER_KEYS = ("correlation_id", "order_id")


def correlate_with_order(order_id: str | None) -> None:
    """Logs of every function that touches an order carry its id as the correlation id."""
    if order_id:
        logger.thread_safe_append_keys(correlation_id=order_id, order_id=order_id)
        tracer.put_annotation(key="order_id", value=order_id)


def lambda_entry(handler: Handler, correlation_id_path: str | None = None) -> Handler:
    """A Lambda entry point with logging, tracing and metrics that starts every invocation with
    clean log keys: nothing appended during one invocation (an order id...) leaks into the next,
    as it would on a warm Lambda.

    Powertools' `inject_lambda_context` keeps the context's keys in one place per process; here
    they are kept per thread, because the local runtime runs workflow steps of different functions
    concurrently in one process, and each line must name its own function and request.
    """
    traced = tracer.capture_lambda_handler(with_metrics(handler))
    cold_start = True

    @functools.wraps(handler)
    def entry(event: dict[str, Any], context: Any) -> Any:
        nonlocal cold_start
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(cold_start=cold_start, **build_lambda_context_model(context).__dict__)
        cold_start = False
        if correlation_id_path:
            logger.thread_safe_append_keys(correlation_id=query(data=event, envelope=correlation_id_path))
        return traced(event, context)

    return entry


def forget_order() -> None:
    """Log lines from here on name no order (e.g. the next record of a batch)."""
    logger.thread_safe_remove_keys(ORDER_KEYS)
