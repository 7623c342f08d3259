"""A row and the row its foreign key points to, read by SQL written once per process.

The patient's pages read their link and its consent session on every request. Through the ORM
(`select_related(...).get(pk=...)`) that one query cost more CPU to compile than the bare view
it guards (issue 13's profile of the patient page). Here the SELECT is written once per model
pair and database from the models' own metadata, and each value goes through the same
converters the ORM applies (the backend's, then the field's `from_db_value`), so the instances
are those the ORM would have made: same field values, same types, the parent cached on the
child as `select_related` leaves it.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import Model

Converter = Any


@dataclass(frozen=True)
class _Plan:
    sql: str
    child_names: list[str]
    parent_names: list[str]
    converters: list[tuple[Any, list[Converter]]]


@cache
def _plan(child: type[Model], field_name: str, alias: str) -> _Plan:
    connection = connections[alias]

    def quote(name: str | None) -> str:
        return connection.ops.quote_name(str(name))

    foreign_key: Any = child._meta.get_field(field_name)
    parent: type[Model] = foreign_key.related_model
    child_fields, parent_fields = child._meta.concrete_fields, parent._meta.concrete_fields
    child_table, parent_table = child._meta.db_table, parent._meta.db_table
    columns = [f"c.{quote(f.column)}" for f in child_fields]
    columns += [f"p.{quote(f.column)}" for f in parent_fields]
    # Identifiers from the models' metadata, quoted by the backend; the key is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(child_table)} c "  # noqa: S608
        f"INNER JOIN {quote(parent_table)} p "
        f"ON p.{quote(parent._meta.pk.column)} = c.{quote(foreign_key.column)} "
        f"WHERE c.{quote(child._meta.pk.column)} = %s"
    )
    converters = []
    for table, field in [(child_table, f) for f in child_fields] + [
        (parent_table, f) for f in parent_fields
    ]:
        column = field.get_col(table)
        converters.append(
            (
                column,
                connection.ops.get_db_converters(column) + field.get_db_converters(connection),
            )
        )
    return _Plan(
        sql=sql,
        child_names=[f.attname for f in child_fields],
        parent_names=[f.attname for f in parent_fields],
        converters=converters,
    )


def row_with_parent(child: type[Model], field_name: str, pk: Any) -> Model | None:
    """`child.objects.select_related(field_name).get(pk=pk)`, or None when there is no such
    row, in one query whose SQL is written once."""
    alias = router.db_for_read(child)
    connection = connections[alias]
    plan = _plan(child, field_name, alias)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, (column, converters) in enumerate(plan.converters):
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    split = len(plan.child_names)
    instance = child.from_db(alias, plan.child_names, values[:split])
    parent_model: Any = child._meta.get_field(field_name).related_model
    parent = parent_model.from_db(alias, plan.parent_names, values[split:])
    setattr(instance, field_name, parent)
    return instance
