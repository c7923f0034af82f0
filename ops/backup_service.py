"""Backups of a running app. DuckDB lets one process open the database file, so while the app
runs, `make backup` asks the app itself: the app answers on a local socket beside the file
(readable by its owner only) and writes the snapshot through its own connection, only into a
new folder inside the backup directory (settings.backup_directory())."""

import atexit
import json
import os
import socket
import threading
from pathlib import Path

from data_layer.core import audit
from data_layer.core.access import Principal
from ops import backup

SERVICE = Principal(user_id=None, role="system", display_name="backup service")
# The listening sockets of this process, with their paths: stop() closes and removes them.
_listening = []
_listening_lock = threading.Lock()


def socket_path(database_path):
    """Return the path of the socket the app holding `database_path` answers backups on."""
    return Path(f"{database_path}.backup.sock")


def serve(conn, database_path):
    """Answer backup requests for the database behind `conn` on a daemon thread; return the thread.

    The thread ends, and the socket file goes, on stop() (also called when the process exits).
    """
    path = socket_path(database_path)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen()
    with _listening_lock:
        _listening.append((server, path))
    thread = threading.Thread(target=_answer_forever, args=(server, conn), daemon=True, name="backup-service")
    thread.start()
    return thread


def stop():
    """Stop answering backup requests: close every listening socket of this process and remove
    its file, so no stale socket is left for `make backup` to find."""
    with _listening_lock:
        stopping = _listening[:]
        _listening.clear()
    for server, path in stopping:
        # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        path.unlink(missing_ok=True)


atexit.register(stop)


def _answer_forever(server, conn):
    while True:
        try:
            client, _ = server.accept()
        except OSError:
            return  # stop() closed the socket
        with client:
            try:
                target = json.loads(client.makefile().readline())["target"]
                manifest = backup.backup_connection(conn, target)
                audit.record_event(conn.cursor(), SERVICE, "back_up_database", detail=Path(target).name)
                reply = {"ok": True, "row_counts": manifest["row_counts"]}
            except Exception as error:  # the caller is told; the service keeps serving
                reply = {"ok": False, "error": str(error)}
            client.sendall((json.dumps(reply) + "\n").encode())


def request_backup(database_path, target_dir):
    """Ask the app holding `database_path` for a backup into `target_dir` (a new directory inside
    the app's backup directory; the app refuses any other target).

    Returns the row counts per table, or None when no running app answers (then back up
    the file directly). Raises backup.BackupError when the app could not write the backup.
    """
    path = socket_path(database_path)
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        try:
            client.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return None  # a socket left behind by an app that has stopped
        request = {"target": str(Path(target_dir).resolve())}
        client.sendall((json.dumps(request) + "\n").encode())
        reply = json.loads(client.makefile().readline())
    if not reply["ok"]:
        raise backup.BackupError(f"The running app could not write the backup: {reply['error']}")
    return reply["row_counts"]
