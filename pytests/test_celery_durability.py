"""A server crash between publish and consume: tasks published (every
publish acknowledged by the server), the server killed with SIGKILL (no
shutdown code runs, so no final AOF flush or fsync: only what reached the
kernel survives) and started again on the same directory and port with
`appendonly yes`; then a worker consumes the tasks and the results arrive.

Run for appendfsync everysec (the seed deployments' setting) and always:
the AOF is written before the reply, so a process crash loses no
acknowledged write under either policy (aof/doc.go)."""
import signal

import pytest

from celery_app import tasks
from celery_app.config import deployment_a
from conftest import KINDS, _launch, client_app, start_server, start_worker


def kill9_restart(srv):
    """Crash the server with SIGKILL, then start the same command line on the
    same port and directory (conftest's restart() stops it cleanly, which
    would flush and fsync the AOF and prove nothing about a crash)."""
    srv.proc.kill()
    srv.proc.wait(10)
    assert srv.proc.returncode == -signal.SIGKILL, "the server exited before the kill"
    new = _launch(srv.kind, srv.binary, srv.port, srv.dir, srv.argv, srv.password)
    srv.proc, srv.started = new.proc, new.started


@pytest.mark.parametrize("fsync", ["everysec", "always"])
@pytest.mark.parametrize("kind", KINDS)
def test_kill9_between_publish_and_consume(kind, fsync, tmp_path):
    srv = start_server(kind, tmp_path, "--appendonly", "yes", "--appendfsync", fsync)
    try:
        dep = deployment_a("127.0.0.1", srv.port)
        with client_app(dep):
            ids = [tasks.add.delay(i, 100).id for i in range(5)]
        db0 = srv.client(db=0)
        assert db0.llen("celery") == 5
        db0.close()
        kill9_restart(srv)
        db0 = srv.client(db=0)
        assert db0.llen("celery") == 5
        assert db0.exists("_kombu.binding.celery")
        w = start_worker(dep, tmp_path, "after-kill9", pool="solo", concurrency=1)
        try:
            with client_app(dep) as app:
                assert [app.AsyncResult(i).get(timeout=30) for i in ids] == \
                    [i + 100 for i in range(5)]
        finally:
            w.stop()
    finally:
        srv.stop()
