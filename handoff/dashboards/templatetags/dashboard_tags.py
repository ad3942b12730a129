"""How the dashboard says its figures: hours and days, percentages, money, and a dash for none."""

from decimal import Decimal

from django import template

register = template.Library()

NONE = "—"


@register.filter
def hours(value):
    """3.5 -> "3.5 h"; 50 -> "2.1 days"; None -> "—"."""
    if value is None:
        return NONE
    return f"{value / 24:.1f} days" if value >= 48 else f"{value:.1f} h"


@register.filter
def percent(value):
    """0.4 -> "40%"; None -> "—"."""
    return NONE if value is None else f"{value * 100:.0f}%"


@register.filter
def figure(value):
    """A ratio or count, or "—" when there is none."""
    return NONE if value is None else value


@register.filter
def money(value, currency=""):
    """"1507.00" -> "1,507 EUR" (whole units; the CSV and API keep the cents)."""
    amount = Decimal(value or 0)
    return f"{amount:,.0f} {currency}".strip()


@register.filter
def share(value, whole):
    """``value`` as a whole-number percentage of ``whole`` (for the width of a small bar)."""
    return round(100 * value / whole) if whole else 0


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
