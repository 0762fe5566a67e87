"""Fixtures that start real servers: the built bin/celerity-server and, for
tests that prove themselves against the oracle, Debian's redis-server 7.0.15.

Every server gets a free loopback port and its own temporary directory, is
polled until it answers PING (bounded), and is stopped with SIGTERM (then
SIGKILL) when the test ends. No fixed sleeps.
"""
import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CELERITY = os.path.join(ROOT, "bin", "celerity-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, kind, binary, port, workdir, proc, password=None):
        self.kind = kind
        self.binary = binary
        self.port = port
        self.dir = workdir
        self.proc = proc
        self.password = password

    def url(self, db=0):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def client(self, **kw):
        kw.setdefault("password", self.password)
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_server(kind, tmp_path, *args, password=None):
    binary = CELERITY if kind == "celerity" else shutil.which("redis-server")
    if binary is None or not os.path.exists(binary):
        if kind == "redis" and os.environ.get("REQUIRE_REDIS") != "1":
            pytest.skip("redis-server is not installed")
        raise RuntimeError(f"{kind} server binary not found")
    port = free_port()
    workdir = tmp_path / f"{kind}-{port}"
    workdir.mkdir()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
            "--save", "", "--appendonly", "no", *args]
    if password:
        argv += ["--requirepass", password]
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    srv = ServerProcess(kind, binary, port, workdir, proc, password)
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited: {(workdir / 'server.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    break
        except OSError:
            if time.monotonic() > deadline:
                srv.stop()
                raise
            time.sleep(0.02)  # polling a socket that is not listening yet
    return srv


@pytest.fixture(params=["celerity", "redis"])
def server(request, tmp_path):
    """A fresh server of each kind: every test using it runs against
    Celerity and against the redis-server oracle."""
    srv = start_server(request.param, tmp_path)
    yield srv
    srv.stop()


@pytest.fixture(params=["celerity", "redis"])
def auth_server(request, tmp_path):
    srv = start_server(request.param, tmp_path, password="s3cret")
    yield srv
    srv.stop()


@pytest.fixture
def celerity(tmp_path):
    srv = start_server("celerity", tmp_path)
    yield srv
    srv.stop()
