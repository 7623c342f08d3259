"""Install the triggers that make history append-only (consent/triggers.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from consent.audit.triggers import create_sql

    for statement in create_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    from consent.audit.triggers import drop_sql

    for statement in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_audit_chain")]

    operations = [migrations.RunPython(install, remove)]
