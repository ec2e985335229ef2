"""Model instances from rows of hand-written SQL, for the few hot paths that skip the ORM's query compiler.

Compiling a query with the ORM costs ~0.3-1 ms of CPU, often more than running it; on a path taken for every
request (authentication) or every booking, the SQL is written once (cached) and its rows are turned into model
instances here, exactly as the ORM would load them: every concrete column in field order, through each field's
`from_db_value` (a phone number becomes a `PhoneNumber`, JSON is decoded), then `Model.from_db`.

    sql = f"SELECT {model_columns(Staff, 'st')} FROM catalog_staff st WHERE st.id = %s"
    staff = model_from_row(Staff, cursor.fetchone())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)
_Converter = Callable[[Any, Any, Any], Any]


def model_columns(model: type[models.Model], alias: str) -> str:
    """Every concrete column of `model`, in field order, qualified by `alias`: what `model_from_row` reads."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def model_width(model: type[models.Model]) -> int:
    """How many columns `model_columns` selects: where the next model's columns start in a joined row."""
    return len(model._meta.concrete_fields)


@cache
def _loader(model: type[models.Model]) -> tuple[list[str], list[tuple[int, Any, list[_Converter]]]]:
    names = [field.attname for field in model._meta.concrete_fields]
    converted = [
        (i, field.cached_col, converters)
        for i, field in enumerate(model._meta.concrete_fields)
        if (converters := field.get_db_converters(connection))
    ]
    return names, converted


def model_from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance of `model` from the columns `model_columns` selected, at the start of `row`."""
    names, converted = _loader(model)
    values = list(row[: len(names)])
    for i, expression, converters in converted:
        for convert in converters:
            values[i] = convert(values[i], expression, connection)
    return model.from_db(connection.alias, names, values)
