"""Maintenance the admin starts from the app: a backup taken while the app runs."""

from datetime import datetime
from pathlib import Path

from data_layer.core import audit, settings
from data_layer.core.access import allowed_roles
from ops import backup


@allowed_roles("admin")
def back_up_now(cur, principal, *, target_dir=None):
    """Write a consistent backup of the whole database (Parquet per table and a manifest) while
    the app keeps running; return (the backup's folder, row counts per table).

    Admin only, audited. The folder defaults to $HOMEWORK_BACKUP_DIR/<timestamp> (default
    backups/); a `target_dir` outside that directory is refused (backup.BackupError). It holds
    clinical data, so it is created readable by its owner only.
    """
    target = Path(target_dir) if target_dir else settings.backup_directory() / f"{datetime.now():%Y%m%d-%H%M%S}"
    manifest = backup.backup_connection(cur, target)
    audit.record_event(cur, principal, "back_up_database", detail=target.name)
    return target, manifest["row_counts"]
