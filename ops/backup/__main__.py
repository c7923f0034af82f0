"""The backup command line: `python -m ops.backup` (usage in ops/backup/__init__.py).

It sits above both the snapshot code (ops.backup) and the running app's socket
(ops.backup_service), which itself uses the snapshot code: so the imports run one way.
"""

import argparse
import sys

from data_layer.core import db
from ops import backup_service
from ops.backup import BackupError, backup_database, restore_database


def main(argv=None):
    """Back up or restore as `argv` says; return the exit status (1 with a message on failure)."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.backup",
        description="Back up the homework database to Parquet files, or restore such a backup.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="back up a database file (through the app when it runs)")
    backup.add_argument("source", help="the database file")
    backup.add_argument("target", help="a new (or empty) directory inside $HOMEWORK_BACKUP_DIR (default backups/)")
    restore = commands.add_parser("restore", help="restore a backup into a new database file")
    restore.add_argument("backup", help="the backup directory")
    restore.add_argument("target", help="the database file to create")
    restore.add_argument("--overwrite", action="store_true", help="replace the target if it exists")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            # While the app runs it holds the file: ask it for the snapshot.
            counts = backup_service.request_backup(args.source, args.target)
            if counts is None:
                counts = backup_database(args.source, args.target)["row_counts"]
            print(
                f"Backed up {args.source} to {args.target}: "
                + ", ".join(f"{rows} {table}" for table, rows in counts.items())
            )
        else:
            counts = restore_database(args.backup, args.target, overwrite=args.overwrite)
            print(
                f"Restored {args.backup} into {args.target}: "
                + ", ".join(f"{rows} {table}" for table, rows in counts.items())
            )
    except (BackupError, FileExistsError, db.DatabaseLocked) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
