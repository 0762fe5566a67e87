"""TLS and the unix socket with real clients: redis-py over rediss:// and
unix://, and a Celery worker whose broker and result backend are rediss://.
Every test runs against Celerity and against redis-server 7.0.15 (built with
TLS in Debian).

The certificates (a CA, a server certificate for 127.0.0.1, a client
certificate) are made by the openssl command line in a temporary directory
(the venvs do not ship `cryptography`). The servers keep their plain port
for the fixtures' PING and side client and add `tls-port`; tls-auth-clients
keeps Redis's default, yes (mutual TLS)."""
import ssl
import subprocess

import pytest
import redis

from celery_app import tasks
from celery_app.config import RESP3
from celery_app.config import deployment_a
from conftest import KINDS, client_app, free_port, start_server, start_worker

TIMEOUT = 30


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=Celerity test CA", cwd=d)
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "server.ext"]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *ext, cwd=d)
    return {k: str(d / f) for k, f in (("ca", "ca.crt"), ("cert", "server.crt"), ("key", "server.key"),
                                        ("client_cert", "client.crt"), ("client_key", "client.key"))}


def _ssl_options(pki):
    return {"ssl_cert_reqs": "required", "ssl_ca_certs": pki["ca"],
            "ssl_certfile": pki["client_cert"], "ssl_keyfile": pki["client_key"]}


@pytest.fixture(params=KINDS)
def tls_server(request, tmp_path, pki):
    tls_port = free_port()
    srv = start_server(request.param, tmp_path, "--tls-port", str(tls_port),
                       "--tls-cert-file", pki["cert"], "--tls-key-file", pki["key"],
                       "--tls-ca-cert-file", pki["ca"])
    srv.tls_port = tls_port
    yield srv
    srv.stop()


def test_redis_py_rediss_roundtrip(tls_server, pki):
    r = redis.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True, socket_timeout=10,
                    **_ssl_options(pki))
    assert r.ping()
    assert r.set("k", "v") and r.get("k") == b"v"
    # The peer address is the TLS client's own.
    info = r.client_info()
    assert info["addr"].startswith("127.0.0.1:")
    assert info["laddr"] == f"127.0.0.1:{tls_server.tls_port}"
    r.close()
    # The same through a rediss:// URL with ssl_cert_reqs, as Celery writes it.
    url = (f"rediss://127.0.0.1:{tls_server.tls_port}/0?ssl_cert_reqs=required"
           f"&ssl_ca_certs={pki['ca']}&ssl_certfile={pki['client_cert']}&ssl_keyfile={pki['client_key']}")
    u = redis.Redis.from_url(url, socket_timeout=10)
    assert u.get("k") == b"v"
    u.close()


def test_client_certificate_required_by_default(tls_server, pki):
    r = redis.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True, socket_timeout=10,
                    ssl_cert_reqs="required", ssl_ca_certs=pki["ca"])
    with pytest.raises((redis.ConnectionError, ssl.SSLError, OSError)):
        r.ping()
    r.close()
    # tls-auth-clients optional (set over the plain port) lets it in.
    plain = tls_server.client()
    assert plain.config_set("tls-auth-clients", "optional")
    r = redis.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True, socket_timeout=10,
                    ssl_cert_reqs="required", ssl_ca_certs=pki["ca"])
    assert r.ping()
    r.close()
    plain.close()


def test_celery_worker_over_rediss(tls_server, pki, tmp_path):
    """Broker and result backend over rediss:// with mutual TLS: a task goes
    through a real prefork worker and its result comes back."""
    srv = tls_server
    base = deployment_a("127.0.0.1", srv.port)
    url = f"rediss://127.0.0.1:{srv.tls_port}/0"
    opts = dict(_ssl_options(pki), ssl_cert_reqs=ssl.CERT_REQUIRED)
    backend = url + "?ssl_cert_reqs=required" + ("&protocol=3" if RESP3 else "")
    dep = base.with_conf(broker_url=url, result_backend=backend, broker_use_ssl=opts,
                         redis_backend_use_ssl=opts)
    worker = start_worker(dep, tmp_path, "tls", concurrency=1)
    try:
        with client_app(dep):
            assert tasks.add.delay(20, 22).get(timeout=TIMEOUT) == 42
        # The worker's connections are TLS ones: every client on the TLS
        # port shows it as its local address.
        plain = srv.client()
        tls_clients = [c for c in plain.client_list() if c["laddr"].endswith(f":{srv.tls_port}")]
        assert tls_clients, plain.client_list()
        plain.close()
    finally:
        worker.stop()


@pytest.fixture(params=KINDS)
def unix_server(request, tmp_path):
    sock = tmp_path / f"{request.param}.sock"
    srv = start_server(request.param, tmp_path, "--unixsocket", str(sock), "--unixsocketperm", "700")
    srv.sock = str(sock)
    yield srv
    srv.stop()


def test_redis_py_unix_socket(unix_server):
    r = redis.Redis.from_url(f"unix://{unix_server.sock}?db=3", socket_timeout=10)
    assert r.set("k", "v") and r.get("k") == b"v"
    info = r.client_info()
    # Both servers format "<path>:0" into a 78-byte buffer (NET_ADDR_STR_LEN),
    # so a long temporary path shows cut to 77 bytes; CI's paths are that long.
    addr = f"{unix_server.sock}:0"[:77]
    assert info["addr"] == addr and info["laddr"] == addr
    assert str(info["db"]) == "3"
    r.close()
    out = subprocess.run(["redis-cli", "-s", unix_server.sock, "-n", "3", "get", "k"],
                         capture_output=True, text=True, check=True).stdout
    assert out == "v\n"
