from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index



async def _carry_data_over(apps, schema_editor) -> None:
    """Tags move from the customer's JSON list to their own table; the average order value and the
    rule version of existing rule-based groups are filled in."""
    client = schema_editor.client
    _, rows = await client.execute_query("SELECT id, tags FROM customer WHERE tags IS NOT NULL AND tags != '[]'")
    pairs = sorted(
        {(row["id"], str(tag).strip().lower()[:50]) for row in rows for tag in loads(row["tags"] or "[]") if str(tag).strip()}
    )
    if pairs:
        values = "($1, $2)" if client.capabilities.dialect == "postgres" else "(?, ?)"
        await client.execute_many(f"INSERT INTO customer_tag (customer_id, tag) VALUES {values}", [list(p) for p in pairs])
    await client.execute_script(
        "UPDATE customer SET average_order_cents = lifetime_cents / order_count WHERE order_count > 0;"
        "UPDATE customer_group SET rule_version = 1, rule_applied_version = 1 WHERE rule IS NOT NULL;"
        "INSERT INTO rule_version (group_id, number, rule, author, at, note) "
        "SELECT id, 1, rule, 'system', updated_at, 'Rule as it was before versions were kept' "
        "FROM customer_group WHERE rule IS NOT NULL;"
    )


class DropColumn(ops.RemoveField):
    """RemoveField without Tortoise's SQLite table rebuild: the rebuild drops the old table with
    foreign keys on, so ON DELETE CASCADE empties orders and memberships, and it loses the indexes.
    SQLite (3.35+) and PostgreSQL both drop an unindexed column in place."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
            await state_editor.client.execute_script(f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{self.name}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomerTag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='customer_tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(max_length=50)),
            ],
            options={'table': 'customer_tag', 'app': 'models', 'unique_together': (('customer_id', 'tag'),), 'indexes': [Index(fields=['tag', 'customer_id'])], 'pk_attr': 'id', 'table_description': 'One tag on one customer (stored lower-case). A table rather than a JSON list, so a rule such'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MembershipExclusion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.CustomerGroup', source_field='group_id', db_constraint=True, to_field='id', related_name='exclusions', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='exclusions', on_delete=OnDelete.CASCADE)),
                ('reason', fields.TextField(default='', unique=False)),
                ('actor', fields.CharField(default='system', max_length=120)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'membership_exclusion', 'app': 'models', 'unique_together': (('group_id', 'customer_id'),), 'pk_attr': 'id', 'table_description': 'A customer the owner took out of a hybrid group: the rule may match them, but they stay out.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RuleVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.CustomerGroup', source_field='group_id', db_constraint=True, to_field='id', related_name='rule_versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('rule', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('author', fields.CharField(max_length=120)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('note', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'rule_version', 'app': 'models', 'unique_together': (('group_id', 'number'),), 'pk_attr': 'id', 'table_description': "Every saved version of a group's rule, with who saved it and when."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='average_order_cents',
            field=fields.BigIntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='CustomerGroup',
            name='rule_applied_version',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='CustomerGroup',
            name='rule_joined',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='CustomerGroup',
            name='rule_left',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='CustomerGroup',
            name='rule_ran_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='CustomerGroup',
            name='rule_version',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunPython(_carry_data_over),
        DropColumn(model_name='Customer', name='tags'),
    ]
