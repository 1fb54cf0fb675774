from tortoise import fields
from tortoise.models import Model


class Shop(Model):
    """The one shop this installation serves: its name and shop-wide settings."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    currency = fields.CharField(max_length=3, default="USD")
    one_group_per_customer = fields.BooleanField(default=False)
    # Daily backups (services.storage.daily_backups). An empty folder means the data folder's "backups".
    backup_enabled = fields.BooleanField(default=False, db_default=False)
    backup_keep = fields.IntField(default=7, db_default=7)
    backup_folder = fields.CharField(max_length=500, default="", db_default="")

    class Meta:
        table = "shop"


class BackupRun(Model):
    """One attempt to back up the database, daily or by hand: the file and its size, or why it
    failed. The newest is what the Settings page shows."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    taken_by = fields.CharField(max_length=120)  # a staff member's name, or "system" for the daily one
    file = fields.CharField(max_length=500)
    size_bytes = fields.BigIntField(null=True)
    error = fields.TextField(null=True)  # empty when the backup was taken

    class Meta:
        table = "backup_run"
