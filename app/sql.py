"""SQL constructs the ORM lacks, shared by the domains.

``among(column, ids)`` is ``column IN (ids)`` for any number of ids. A plain ``in_()`` sends
one bind parameter per id, and asyncpg refuses a statement with more than 32,767 of them
(SQLite builds differ: 999, 32,766 or 250,000), so a rule run over a national history
failed outright (bench/README.md). Here the ids travel as one parameter: a PostgreSQL
array (``= ANY(:ids)``, which uses the column's index), or on SQLite a JSON array read by
``json_each``.

``sql_in(codes)`` is the IN-list of string literals a check constraint is built from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, Select, String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class Among(ColumnElement[bool]):
    """``column`` is one of ``ids`` (integers). Not cached: the ids are part of the element."""

    inherit_cache = False
    type = Boolean()
    # A comparison already: SQLite must not get ``... = 1`` after it (that hides the index).
    _is_implicitly_boolean = True

    def __init__(self, column: ColumnElement[Any], ids: Iterable[int]) -> None:
        self.column = column
        self.ids = sorted({int(i) for i in ids})


def among(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    return Among(column, ids)


@compiles(Among, "postgresql")
def _among_postgresql(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    ids = bindparam(None, element.ids, type_=ARRAY(BigInteger))
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(ids, **kw)})"


@compiles(Among)
def _among_default(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    ids = bindparam(None, json.dumps(element.ids), type_=String)
    # Both parts are compiled SQL (a column and a bind placeholder), never values.
    return (
        f"{compiler.process(element.column, **kw)} IN "  # noqa: S608
        f"(SELECT value FROM json_each({compiler.process(ids, **kw)}))"
    )


class AmongSelected(ColumnElement[bool]):
    """``column`` is one of the values a subquery selects, in a form PostgreSQL can answer
    from ``column``'s index inside an OR. ``column IN (SELECT ...)`` there is a hashed
    subplan: a filter applied to every row, so an OR holding it reads the whole table;
    ``= ANY(ARRAY(SELECT ...))`` is computed once and looked up in the index (one branch of
    a BitmapOr). SQLite answers ``IN (SELECT ...)`` from the index as it is."""

    inherit_cache = False
    type = Boolean()
    # A comparison already: SQLite must not get ``... = 1`` after it (that hides the index).
    _is_implicitly_boolean = True

    def __init__(self, column: ColumnElement[Any], query: Select[Any]) -> None:
        self.column = column
        self.query = query


def among_selected(column: Any, query: Select[Any]) -> ColumnElement[bool]:
    return AmongSelected(column, query)


@compiles(AmongSelected, "postgresql")
def _among_selected_postgresql(element: AmongSelected, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    query = compiler.process(element.query, asfrom=False, **kw)
    return f"{column} = ANY(ARRAY({query}))"


@compiles(AmongSelected)
def _among_selected_default(element: AmongSelected, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    query = compiler.process(element.query, asfrom=False, **kw)
    return f"{column} IN ({query})"


def sql_in(values: object) -> str:
    """A SQL IN-list of string literals, for check constraints built from code lists."""
    return ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
