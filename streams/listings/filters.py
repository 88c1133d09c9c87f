"""Predicates over a listing's domain fields, for ``Query.where``.

Each is total: a missing field, or a field of the wrong type, makes the predicate
false instead of raising, so one malformed listing cannot break a search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Fields = Mapping[str, object]
Predicate = Callable[[Fields], bool]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def at_most(name: str, bound: float) -> Predicate:
    """True when field ``name`` is a number <= ``bound`` (a price ceiling)."""

    def check(fields: Fields) -> bool:
        value = _number(fields.get(name))
        return value is not None and value <= bound

    return check


def at_least(name: str, bound: float) -> Predicate:
    """True when field ``name`` is a number >= ``bound`` (a minimum of bedrooms)."""

    def check(fields: Fields) -> bool:
        value = _number(fields.get(name))
        return value is not None and value >= bound

    return check


def equals(name: str, expected: object) -> Predicate:
    """True when field ``name`` is present and equal to ``expected`` (a category, a crop)."""

    def check(fields: Fields) -> bool:
        return name in fields and fields[name] == expected

    return check


def contains(name: str, member: object) -> Predicate:
    """True when field ``name`` is a list, tuple or set holding ``member`` (one of a
    vendor's categories)."""

    def check(fields: Fields) -> bool:
        value = fields.get(name)
        return isinstance(value, list | tuple | set | frozenset) and member in value

    return check


def all_of(*predicates: Predicate) -> Predicate:
    """True when every one of ``predicates`` is (and when there are none)."""

    def check(fields: Fields) -> bool:
        return all(p(fields) for p in predicates)

    return check
