"""Chain the audit log: every event gets its sequence number, previous hash and own hash.

Existing events are chained in the order they were written (by primary key).
"""

from django.db import migrations, models


def chain_existing_events(apps, schema_editor):
    from consent.audit.chain import GENESIS_HASH, event_hash

    AuditEvent = apps.get_model("consent", "AuditEvent")
    previous = GENESIS_HASH
    for seq, event in enumerate(AuditEvent.objects.order_by("pk").iterator(), start=1):
        event.seq = seq
        event.prev_hash = previous
        event.hash = event_hash(event, version=1)
        event.save(update_fields=["seq", "prev_hash", "hash"])
        previous = event.hash


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_physician_workspace")]

    operations = [
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["seq"]}),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
