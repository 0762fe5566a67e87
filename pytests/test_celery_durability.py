"""A server restart between publish and consume: tasks published, the
server restarted with `appendonly yes`, then a worker consumes them and the
results arrive. Needs the append-only file: while Celerity refuses
`--appendonly yes` at start-up the Celerity case is skipped ("durability
issue not landed"); against redis-server it always runs."""
import pytest

from celery_app import tasks
from celery_app.config import deployment_a
from conftest import KINDS, client_app, start_server, start_worker


def start_aof_server(kind, tmp_path):
    try:
        return start_server(kind, tmp_path, "--appendonly", "yes", "--appendfsync", "always")
    except RuntimeError as e:
        if kind == "celerity":
            pytest.skip(f"durability issue not landed: celerity refuses --appendonly yes ({e})")
        raise


@pytest.mark.parametrize("kind", KINDS)
def test_restart_between_publish_and_consume(kind, tmp_path):
    srv = start_aof_server(kind, tmp_path)
    try:
        dep = deployment_a("127.0.0.1", srv.port)
        with client_app(dep):
            ids = [tasks.add.delay(i, 100).id for i in range(5)]
        db0 = srv.client(db=0)
        assert db0.llen("celery") == 5
        srv.restart()
        db0 = srv.client(db=0)
        assert db0.llen("celery") == 5
        assert db0.exists("_kombu.binding.celery")
        w = start_worker(dep, tmp_path, "after-restart", pool="solo", concurrency=1)
        try:
            with client_app(dep) as app:
                assert [app.AsyncResult(i).get(timeout=30) for i in ids] == \
                    [i + 100 for i in range(5)]
        finally:
            w.stop()
    finally:
        srv.stop()
