from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0009_backups")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Customer",
            index=Index(fields=["created_at", "lifetime_cents"]),
        ),
    ]
