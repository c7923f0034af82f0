"""The demo command line: `python -m ops.demo PATH [--seed N]`."""

import argparse

from ops.demo.build import DEFAULT_SEED
from ops.demo.load import create_demo_database
from ops.demo.people import DEMO_LOGINS, DEMO_PASSWORD


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m ops.demo", description="Create a new DuckDB file holding the demo clinic and print its logins."
    )
    parser.add_argument("path", help="where to create the database (must not exist)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        counts = create_demo_database(args.path, seed=args.seed)
    except FileExistsError as error:
        parser.error(str(error))
    print(
        f"Demo clinic written to {args.path} (seed {args.seed}): "
        + ", ".join(f"{rows} {table}" for table, rows in counts.items())
    )
    print(f"Demo logins (password for every account: {DEMO_PASSWORD}):")
    for role, username in DEMO_LOGINS:
        print(f"  {role:<11} {username}")


if __name__ == "__main__":
    main()
