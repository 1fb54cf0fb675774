from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    """Promotions get a version, so an edit made on an older one is refused instead of overwriting a
    save made meanwhile; promotions saved before start at 1."""

    dependencies = [('models', '0010_customer_report_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Promotion',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
    ]
