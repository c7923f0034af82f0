"""The backup command line: `python -m ops.backup` (usage in ops/backup/__init__.py).

It sits above both the snapshot code (ops.backup) and the running app's socket
(ops.backup_service), which itself uses the snapshot code: so the imports run one way.
"""

import argparse
import sys
from urllib.parse import urlsplit, urlunsplit

from data_layer.core import db
from data_layer.core.postgres import is_postgres_url
from ops import backup_service
from ops.backup import BackupError, backup_database, restore_database
from ops.backup.postgres import backup_postgres, restore_postgres


def main(argv=None):
    """Back up or restore as `argv` says; return the exit status (1 with a message on failure)."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.backup",
        description="Back up the homework database to Parquet files, or restore such a backup.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="back up a database file (through the app when it runs)")
    backup.add_argument("source", help="the database file, or in server mode its postgresql:// URL")
    backup.add_argument("target", help="a new (or empty) directory inside $HOMEWORK_BACKUP_DIR (default backups/)")
    restore = commands.add_parser("restore", help="restore a backup into a new database file")
    restore.add_argument("backup", help="the backup directory")
    restore.add_argument(
        "target", help="the database file to create, or in server mode the postgresql:// URL of a new, empty database"
    )
    restore.add_argument("--overwrite", action="store_true", help="replace the target file if it exists")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            counts = _back_up(args.source, args.target)
            done = f"Backed up {_shown(args.source)} to {args.target}"
        elif is_postgres_url(args.target):
            counts = restore_postgres(args.backup, args.target)
            done = f"Restored {args.backup} into {_shown(args.target)}"
        else:
            counts = restore_database(args.backup, args.target, overwrite=args.overwrite)
            done = f"Restored {args.backup} into {args.target}"
        print(f"{done}: " + ", ".join(f"{rows} {table}" for table, rows in counts.items()))
    except (BackupError, FileExistsError, db.DatabaseLocked) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _back_up(source, target):
    if is_postgres_url(source):
        return backup_postgres(source, target)["row_counts"]
    # While the app runs it holds the file: ask it for the snapshot.
    counts = backup_service.request_backup(source, target)
    return backup_database(source, target)["row_counts"] if counts is None else counts


def _shown(target):
    """`target` as fit for the terminal: a server-mode URL without its password."""
    if not is_postgres_url(target):
        return target
    parts = urlsplit(target)
    if parts.password is None:
        return target
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


if __name__ == "__main__":
    sys.exit(main())
