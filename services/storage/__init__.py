"""Not the shop's domain but where it is kept: opening the database (`database`), SQLite writers
taking turns (`sqlite_writers`), PostgreSQL conflicts run again (`conflicts`), our own SQL (`sql`),
and backups (`backup`, `daily_backups`)."""
