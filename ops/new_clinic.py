"""Create an empty production database with its first administrator.

    python -m ops.new_clinic PATH USERNAME "Full Name"

The password is asked for at the prompt (or read from $HOMEWORK_ADMIN_PASSWORD).
"""

import argparse
import getpass
import sys
from pathlib import Path

from data_layer import users
from data_layer.core import db, settings
from data_layer.core.validation import InvalidInput


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("username")
    parser.add_argument("display_name")
    args = parser.parse_args(argv)
    if args.path.exists():
        sys.exit(f"{args.path} already exists; choose a new path for an empty clinic.")
    password = settings.admin_password() or getpass.getpass("Admin password: ")
    conn = db.connect(args.path)
    try:
        users.create_first_admin(
            conn.cursor(), username=args.username, display_name=args.display_name, password=password
        )
    except InvalidInput as error:
        conn.close()
        args.path.unlink()
        sys.exit(f"Not created: {error}")
    conn.close()
    print(f"Created {args.path} with administrator {args.username}.")


if __name__ == "__main__":
    main()
