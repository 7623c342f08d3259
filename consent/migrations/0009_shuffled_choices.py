"""Shuffled choices and what a question says beyond its answer (consent/choice_order.py).

Sessions that exist already get a secret each (a default is computed once for all existing
rows, so each is then given its own).
On SQLite, adding a column with a computed default rebuilds the table, which the history
triggers of other tables refer to: they are dropped first and installed again at the end (and
after every migrate anyway, consent/apps.py).
"""

from django.db import migrations, models

import consent.models


def triggers_drop(apps, schema_editor):
    from consent.audit.triggers import drop_sql

    for statement in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def secrets_apart(apps, schema_editor):
    import secrets

    Session = apps.get_model("consent", "ConsentSession")
    for pk in Session.objects.values_list("pk", flat=True):
        Session.objects.filter(pk=pk).update(choice_order_secret=secrets.token_hex(32))


def triggers_create(apps, schema_editor):
    from consent.audit.triggers import create_sql

    for statement in create_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_addendum_records"),
    ]

    operations = [
        migrations.RunPython(triggers_drop, triggers_create),
        migrations.AddField(
            model_name="attempt",
            name="order_seed",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="attempt",
            name="shown_order",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="attempt",
            name="variant",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="consentsession",
            name="choice_order_secret",
            field=models.CharField(
                default=consent.models.choice_order_secret_new, editable=False, max_length=64
            ),
        ),
        migrations.RunPython(secrets_apart, migrations.RunPython.noop),
        migrations.AddField(
            model_name="question",
            name="choice_feedback",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="question",
            name="fact",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="question",
            name="variants",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
