"""The shop's settings page and its backups section."""
