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
PYTESTS = os.path.dirname(os.path.abspath(__file__))
KINDS = ["celerity", "redis"]

# Every server, worker and beat process started by a fixture, so that a
# failing test's report carries the tail of their logs (see
# pytest_runtest_makereport below). Logs stay in the test's tmp dir.
LOGGED_PROCESSES = []
CELERITY = os.path.join(ROOT, "bin", "celerity-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, kind, binary, port, workdir, proc, password=None, argv=None):
        self.kind = kind
        self.binary = binary
        self.port = port
        self.dir = workdir
        self.proc = proc
        self.password = password
        self.argv = argv
        self.label = f"{kind} server :{port}"
        self.log_path = workdir / "server.log"
        self.started = time.monotonic()

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

    def restart(self):
        """Stop (SIGTERM) and start the same binary with the same arguments,
        port and directory, e.g. to check what survives a restart."""
        self.stop()
        srv = _launch(self.kind, self.binary, self.port, self.dir, self.argv, self.password)
        self.proc = srv.proc
        self.started = srv.started

    def alive(self):
        return self.proc.poll() is None


def start_server(kind, tmp_path, *args, password=None, conf=None):
    """Start a server; conf is a redis.conf path, given first as both
    servers require (the options that follow override it)."""
    binary = CELERITY if kind == "celerity" else shutil.which("redis-server")
    if binary is None or not os.path.exists(binary):
        if kind == "redis" and os.environ.get("REQUIRE_REDIS") != "1":
            pytest.skip("redis-server is not installed")
        raise RuntimeError(f"{kind} server binary not found")
    port = free_port()
    workdir = tmp_path / f"{kind}-{port}"
    workdir.mkdir()
    argv = [binary, *([str(conf)] if conf else []), "--port", str(port), "--bind", "127.0.0.1",
            "--dir", str(workdir), "--save", "", "--appendonly", "no", *args]
    if password:
        argv += ["--requirepass", password]
    return _launch(kind, binary, port, workdir, argv, password)


def _launch(kind, binary, port, workdir, argv, password):
    log = open(workdir / "server.log", "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    srv = ServerProcess(kind, binary, port, workdir, proc, password, argv)
    LOGGED_PROCESSES.append(srv)
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


# ---------------------------------------------------------------------------
# Real Celery processes: `python -m celery worker|beat` from this venv.
# ---------------------------------------------------------------------------
import contextlib  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402

from celery_app.config import SIDE_DB, deployment_a, deployment_b  # noqa: E402

PASSWORD = "s3cret"


def wait_until(predicate, timeout, what, interval=0.05):
    """Poll predicate() until it returns something truthy (returned) or
    `timeout` seconds pass (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)  # poll interval, not a readiness delay


class CeleryProcess:
    """A `celery worker` or `celery beat` subprocess in its own session (so a
    SIGKILL reaches prefork children too), with its own dir and log."""

    def __init__(self, role, name, argv, env, workdir):
        self.role = role
        self.name = name
        self.argv = argv
        self.env = env
        self.dir = workdir
        self.log_path = workdir / f"{role}-{name.split('@')[0]}.log"
        self.label = f"celery {role} {name}"
        self.proc = None
        self.started = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.dir, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        self.started = time.monotonic()
        LOGGED_PROCESSES.append(self)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self, sig=signal.SIGKILL):
        """Signal the whole process group (main process and pool children)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            self.proc.wait(10)

    def stop(self, timeout=20):
        """Warm shutdown (SIGTERM to the main process), SIGKILL of the group
        if it does not exit within `timeout` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # leftover pool children, if any


def celery_env(dep, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERY_", "REDIS_URL", "E2E_", "PERMISSION_"))}
    env.update(dep.env)
    env.update(extra)
    env["CELERITY_E2E_CONF"] = json.dumps(dep.conf)
    env["PYTHONPATH"] = PYTESTS + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def celery_cmd(*args):
    return [sys.executable, "-m", "celery", "-A", "celery_app.app", *args]


def side_client(dep):
    return redis.Redis(host=dep.host, port=dep.port, password=dep.password, db=SIDE_DB,
                       socket_timeout=30)


def start_worker(dep, tmp_path, name="w", pool="prefork", concurrency=2, queues=None,
                 events=False, extra=(), wait=True, timeout=60, loglevel="INFO"):
    hostname = f"{name}-{uuid.uuid4().hex[:6]}@e2e"
    workdir = tmp_path / f"worker-{hostname.split('@')[0]}"
    workdir.mkdir()
    argv = celery_cmd("worker", "-l", loglevel, "-n", hostname, "-P", pool,
                      "-c", str(concurrency), *extra)
    if events:
        argv.append("-E")
    if queues:
        argv += ["-Q", ",".join(queues)]
    w = CeleryProcess("worker", hostname, argv,
                      celery_env(dep, E2E_WORKER_NAME=hostname), workdir).start()
    if wait:
        wait_worker_ready(dep, w, timeout)
    return w


def wait_worker_ready(dep, w, timeout=60):
    """Ready = the worker_ready signal set e2e:ready:<hostname> (no fixed sleep)."""
    side = side_client(dep)
    try:
        def ready():
            if not w.alive():
                raise AssertionError(f"worker {w.name} exited ({w.proc.returncode}):\n"
                                     + w.log()[-4000:])
            return side.exists(f"e2e:ready:{w.name}")
        wait_until(ready, timeout, f"worker {w.name} ready")
    finally:
        side.close()


def start_beat(dep, tmp_path, name="beat", extra=()):
    workdir = tmp_path / f"beat-{name}-{uuid.uuid4().hex[:6]}"
    workdir.mkdir()
    argv = celery_cmd("beat", "-l", "DEBUG", "-S", "redbeat.RedBeatScheduler",
                      "--max-interval", str(dep.conf.get("beat_max_loop_interval", 5)),
                      "-s", str(workdir / "celerybeat-schedule"),
                      "--pidfile", str(workdir / "beat.pid"), *extra)
    return CeleryProcess("beat", name, argv, celery_env(dep), workdir).start()


@contextlib.contextmanager
def client_app(dep):
    """The web/producer side: a Celery app with the deployment's settings,
    made current so the shared tasks' .delay() use it."""
    from celery import Celery
    import celery_app.tasks  # noqa: F401
    app = Celery("e2e-client")
    app.conf.update(copy.deepcopy(dep.conf))
    app.set_current()
    try:
        yield app
    finally:
        # Forget result subscriptions before closing: AsyncResults that are
        # garbage-collected later (after the test stopped its server) would
        # otherwise UNSUBSCRIBE from __del__ and retry a dead server.
        consumer = getattr(app.backend, "result_consumer", None)
        if consumer is not None and hasattr(consumer, "subscribed_to"):
            consumer.subscribed_to.clear()
            consumer.stop()
        app.close()


class Stack:
    """A server, a deployment on it and (usually) one worker."""

    def __init__(self, server, dep, worker=None):
        self.server = server
        self.dep = dep
        self.worker = worker
        self.side = side_client(dep)

    def celery_db(self):
        return self.server.client(db=self.dep.celery_db)

    def close(self):
        if self.worker:
            self.worker.stop()
        self.side.close()
        self.server.stop()


@pytest.fixture(scope="module", params=KINDS)
def stack_a(request, tmp_path_factory):
    """Deployment A on a fresh server without a password, one prefork
    worker (concurrency 2, task events on). Shared by a module's tests."""
    tmp = tmp_path_factory.mktemp(f"stack-a-{request.param}")
    srv = start_server(request.param, tmp)
    dep = deployment_a("127.0.0.1", srv.port)
    stack = Stack(srv, dep)
    try:
        stack.worker = start_worker(dep, tmp, "a", concurrency=2, events=True)
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module", params=KINDS)
def stack_b(request, tmp_path_factory):
    """Deployment B: requirepass, cache/notifications on /0, Celery on /1,
    one worker with concurrency 1 consuming `celery` and `media`."""
    tmp = tmp_path_factory.mktemp(f"stack-b-{request.param}")
    srv = start_server(request.param, tmp, password=PASSWORD)
    dep = deployment_b("127.0.0.1", srv.port, PASSWORD)
    stack = Stack(srv, dep)
    try:
        stack.worker = start_worker(dep, tmp, "b", concurrency=1, queues=["celery", "media"])
        yield stack
    finally:
        stack.close()


@pytest.fixture
def app_a(stack_a):
    with client_app(stack_a.dep) as app:
        yield app


@pytest.fixture
def app_b(stack_b):
    with client_app(stack_b.dep) as app:
        yield app


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._e2e_started = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the last lines of every server/worker/beat log that
    was alive during the test."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    since = getattr(item, "_e2e_started", 0)
    for p in LOGGED_PROCESSES:
        if p.alive() or p.started >= since:
            try:
                text = p.log_path.read_text(errors="replace")
            except OSError:
                continue
            tail = "\n".join(text.splitlines()[-60:])
            rep.sections.append((f"{p.label} ({p.log_path})", tail))
    for p in LOGGED_PROCESSES:
        if isinstance(p, ServerProcess) and p.alive():
            rep.sections.append((f"{p.label} state at failure", _server_state(p)))


def _server_state(srv):
    """Keys (type, length, TTL) of DBs 0-2 and CLIENT LIST, for triage."""
    out = []
    try:
        for db in range(3):
            c = srv.client(db=db)
            for k in sorted(c.scan_iter(count=1000))[:60]:
                t = c.type(k).decode()
                n = {"list": c.llen, "hash": c.hlen, "set": c.scard, "zset": c.zcard}.get(t)
                out.append(f"db{db} {k!r} {t} len={n(k) if n else '-'} pttl={c.pttl(k)}")
        c = srv.client()
        out += [" ".join(f"{k}={v}" for k, v in cl.items()
                         if k in ("id", "name", "age", "idle", "flags", "db", "sub", "psub",
                                  "cmd", "resp")) for cl in c.client_list()]
        c.close()
    except Exception as e:  # noqa: BLE001  (best effort: the server may be wedged)
        out.append(f"state unavailable: {e!r}")
    return "\n".join(out)


class WsBackend:
    """One `python -m celery_app.ws_backend` process (a WebSocket backend's
    Redis side): subscribes to channels, relays what it gets, publishes on
    request. Output is read by a thread into a queue, every read bounded."""

    def __init__(self, redis_url, channels, workdir, name):
        import queue
        import threading
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(REDIS_URL=redis_url, PYTHONPATH=PYTESTS, PYTHONUNBUFFERED="1")
        self.name = name
        self.log_path = workdir / f"ws-{name}.log"
        self.label = f"ws backend {name}"
        self.proc = subprocess.Popen([sys.executable, "-m", "celery_app.ws_backend", *channels],
                                     cwd=workdir, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(self.log_path, "ab"),
                                     text=True, bufsize=1)
        self.started = time.monotonic()
        LOGGED_PROCESSES.append(self)
        self.lines = queue.Queue()
        self.seen = []  # lines read but not yet claimed by expect()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with open(self.log_path, "a") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def alive(self):
        return self.proc.poll() is None

    def expect(self, prefix, timeout=15):
        """The next line starting with `prefix` (other lines are kept in
        self.seen); AssertionError after `timeout` seconds."""
        import queue
        for i, line in enumerate(self.seen):
            if line.startswith(prefix):
                return self.seen.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"{self.name}: no '{prefix}' line within {timeout}s")
            if line is None:
                raise AssertionError(f"{self.name} exited waiting for '{prefix}'")
            if line.startswith(prefix):
                return line
            self.seen.append(line)

    def publish(self, channel, data):
        self.proc.stdin.write(f"PUB {channel} {data}\n")
        self.proc.stdin.flush()
        return int(self.expect("PUBLISHED").split()[1])

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("QUIT\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
