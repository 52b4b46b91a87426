"""Identifiers that sort by creation time.

ULID-like: 48-bit milliseconds + 80 random bits, in Crockford base32.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, remainder = divmod(value, 32)
        chars.append(_ALPHABET[remainder])
    return "".join(reversed(chars))


def new_ulid(now_ms: int | None = None) -> str:
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return _base32(millis, 10) + _base32(secrets.randbits(80), 16)


def new_order_id() -> str:
    return "ord_" + new_ulid()


def fulfillment_id(order_id: str, sequence: int) -> str:
    """Fulfillment ids embed their order id, so a warehouse callback finds its order in one read."""
    return f"{order_id}-F{sequence}"


def order_id_of_fulfillment(fulfillment_id_: str) -> str | None:
    order_id, separator, suffix = fulfillment_id_.rpartition("-F")
    if not separator or not order_id.startswith("ord_") or not suffix.isdigit():
        return None
    return order_id


def return_id(order_id: str, sequence: int) -> str:
    """Return ids embed their order id, as fulfillment ids do."""
    return f"{order_id}-R{sequence}"


def order_id_of_return(return_id_: str) -> str | None:
    order_id, separator, suffix = return_id_.rpartition("-R")
    if not separator or not order_id.startswith("ord_") or not suffix.isdigit():
        return None
    return order_id
