"""The real server accepts the app's WebSocket only for the host names in server.allowedHosts
(issue #10, defect 10): a handshake with a foreign Host and Origin pair, as a DNS-rebinding
page would send, is refused; a deployment names its host with a setting."""

import base64
import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ROOT, serve


def handshake_status(url, host):
    """Open the app's WebSocket (/_stcore/stream) with Host and Origin `host`; return the HTTP status."""
    address = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{address.port}\r\n"
        f"Origin: http://{host}:{address.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request.encode())
        status_line = connection.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_a_foreign_host_and_origin_pair_is_refused_the_local_names_are_accepted(app_url):
    assert handshake_status(app_url, "rebound.attacker.example") == 403
    assert handshake_status(app_url, "localhost") == 101
    assert handshake_status(app_url, "127.0.0.1") == 101


@pytest.fixture(scope="module")
def deployed_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("hosts") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "ops.demo", str(path)], cwd=ROOT, check=True, capture_output=True)
    yield from serve(path, STREAMLIT_SERVER_ALLOWED_HOSTS="homework.example.org")


def test_a_deployment_names_its_host_in_a_setting_which_replaces_the_local_names(deployed_url):
    assert handshake_status(deployed_url, "homework.example.org") == 101
    assert handshake_status(deployed_url, "rebound.attacker.example") == 403
    assert handshake_status(deployed_url, "localhost") == 403
