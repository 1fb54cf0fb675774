from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_audit_tokens')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BackupRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('taken_by', fields.CharField(max_length=120)),
                ('file', fields.CharField(max_length=500)),
                ('size_bytes', fields.BigIntField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'backup_run', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One attempt to back up the database, daily or by hand: the file and its size, or why it'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Shop',
            name='backup_enabled',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Shop',
            name='backup_folder',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='Shop',
            name='backup_keep',
            field=fields.IntField(default=7, db_default=7),
        ),
    ]
