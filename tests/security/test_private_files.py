"""Every file that holds clients' data is readable by the app's own OS user only: the database,
its .wal, backups and the backup socket (issue #10, defect 4).

"As another user would see them": without ACLs (the app sets none) another local user (not
root) may open a file only through its group and other permission bits, so each path must
have none of them. This holds whichever user runs the tests, so no throwaway OS account is
needed (and none could read pytest's 0700 temporary folders anyway, which would hide a leak).
"""

import os
import stat

import pytest

from data_layer.core import db
from ops import backup, backup_service, demo

OTHERS = stat.S_IRWXG | stat.S_IRWXO


@pytest.fixture
def usual_umask():
    """The process starts with the common umask 022, under which new files are world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def open_to_others(path):
    """The permission bits that let a user other than the owner at `path`, as 'rwx' groups."""
    return stat.filemode(path.stat().st_mode & OTHERS)[4:]


def test_the_database_its_wal_backups_and_socket_are_owner_only(usual_umask, tmp_path, monkeypatch):
    path = tmp_path / "clinic.duckdb"
    demo.create_demo_database(path)
    monkeypatch.setenv("HOMEWORK_BACKUP_DIR", str(tmp_path / "backups"))
    conn = db.connect(path)
    try:
        # An uncommitted-to-the-file write: the row lives in the .wal until a checkpoint.
        conn.execute("UPDATE clinic_settings SET demo = NOT demo")
        wal = path.with_name(path.name + ".wal")
        assert wal.exists()
        backup_service.serve(conn, path)
        taken = backup_service.request_backup(path, tmp_path / "backups" / "by-socket")
        assert taken["users"] > 0
        backup.backup_connection(conn, tmp_path / "backups" / "in-process")

        written = [path, wal, backup_service.socket_path(path), tmp_path / "backups"]
        for folder in ("by-socket", "in-process"):
            written += [tmp_path / "backups" / folder, *(tmp_path / "backups" / folder).iterdir()]
        assert len(written) > 20
        assert {str(file.relative_to(tmp_path)): open_to_others(file) for file in written} == {
            str(file.relative_to(tmp_path)): "------" for file in written
        }
    finally:
        conn.close()
