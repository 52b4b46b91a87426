"""Money: Decimal amounts sent as strings, with ISO 4217 currency codes. Never float."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG""".split()
)

MAX_DECIMAL_PLACES = 4

# ISO 4217's minor units ("E" column of list one): 2 for every listed currency but these.
_MINOR_UNITS_OTHER_THAN_TWO = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}


def minor_units(currency: str) -> int:
    """Decimal places of the currency's smallest unit: 2 for USD, 0 for JPY, 3 for KWD."""
    return _MINOR_UNITS_OTHER_THAN_TWO.get(currency, 2)


def smallest_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def decimal_places(amount: Decimal) -> int:
    """Decimal places that carry a value: 10.10 has 1, 10.001 has 3, 1000 has 0."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def finer_than(amount: Decimal, currency: str) -> bool:
    return decimal_places(amount) > minor_units(currency)


def too_fine_for(currency: str) -> str:
    return f"has more decimal places than {currency} has ({minor_units(currency)})"


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """Rounded to the currency's smallest unit, halves away from zero (as PHP's round() does)."""
    return amount.quantize(smallest_unit(currency), rounding=ROUND_HALF_UP)


def split_line_price(
    price: Decimal, quantity: int, discount: Decimal, tax: Decimal, step: Decimal
) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """(units, unit price, discount, tax) for a line price over `quantity` units, exact in `step`s.

    10.00 / 4 -> [(4, 2.50, discount, tax)]; 10.00 / 3 -> [(1, 3.34, ...), (2, 3.33, ...)], the
    line's discount and tax shared in proportion to the two lines' prices (the first line's share
    rounded down to a step, the rest to the second, so the shares add up exactly).
    """
    unit = price / quantity
    if unit * quantity == price and unit == unit.quantize(step):
        return [(quantity, unit, discount, tax)]
    low = unit.quantize(step, rounding=ROUND_FLOOR)
    higher_units = int((price - low * quantity) / step)  # 0 < higher_units < quantity
    higher_price = (low + step) * higher_units
    shares = [
        (amount * higher_price / price).quantize(step, rounding=ROUND_FLOOR) for amount in (discount, tax)
    ]
    return [
        (higher_units, low + step, shares[0], shares[1]),
        (quantity - higher_units, low, discount - shares[0], tax - shares[1]),
    ]


def _parse_amount(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("must be a decimal string such as '12.50'") from exc
    else:
        raise ValueError("must be a decimal string such as '12.50' (numbers would lose precision)")
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount < 0:
        raise ValueError("must not be negative")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        raise ValueError(f"has more than {MAX_DECIMAL_PLACES} decimal places")
    return amount


def _parse_currency(value: Any) -> str:
    if not isinstance(value, str) or value not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code such as 'USD'")
    return value


Amount = Annotated[Decimal, BeforeValidator(_parse_amount), PlainSerializer(str, return_type=str)]
Currency = Annotated[str, BeforeValidator(_parse_currency)]
