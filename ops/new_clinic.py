"""Create an empty production database with its first administrator.

    python -m ops.new_clinic PATH USERNAME "Full Name"

PATH is a new DuckDB file, or in server mode the postgresql:// URL of an existing, empty database
(the app's role owns it); the migrations are applied there, and an administrator is refused once
the clinic has one.

The password is asked for at the prompt (or read from $HOMEWORK_ADMIN_PASSWORD).
"""

import argparse
import getpass
import sys
from pathlib import Path

from data_layer import users
from data_layer.core import db, settings
from data_layer.core.postgres import is_postgres_url
from data_layer.core.validation import InvalidInput


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("username")
    parser.add_argument("display_name")
    args = parser.parse_args(argv)
    new_file = None if is_postgres_url(args.path) else Path(args.path)
    if new_file is not None and new_file.exists():
        sys.exit(f"{args.path} already exists; choose a new path for an empty clinic.")
    password = settings.admin_password() or getpass.getpass("Admin password: ")
    conn = db.connect(args.path)
    try:
        users.create_first_admin(
            conn.cursor(), username=args.username, display_name=args.display_name, password=password
        )
    except InvalidInput as error:
        conn.close()
        if new_file is not None:
            new_file.unlink()
        sys.exit(f"Not created: {error}")
    conn.close()
    print(f"Created {'the clinic' if new_file is None else new_file} with administrator {args.username}.")


if __name__ == "__main__":
    main()
