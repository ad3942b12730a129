"""The kinds of notification, registered by the apps that send them.

Notifications knows no domain app (STYLE.md, "The house as it grows"): the
handovers app registers "validation_failed", "changes_requested" and the rest
as it starts, with the label a person sees on the preferences page.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    email: bool = True  # what a person gets by email until they choose


_KINDS: dict[str, Kind] = {}


def register(key, label, *, email=True):
    _KINDS[key] = Kind(key, label, email)


def get(key):
    try:
        return _KINDS[key]
    except KeyError:
        raise LookupError(f"{key!r} is not a registered kind of notification") from None


def all_kinds():
    return list(_KINDS.values())
