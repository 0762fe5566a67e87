"""result_expires with a real worker: result keys get the TTL and really
disappear. Results go to DB 3 here (broker stays on DB 0) so the test can
poll DBSIZE, which never expires a key itself: the keys must be reclaimed by
the server's own expiry, not by the test's reads. Runs against Celerity and
redis-server 7.0.15."""
import pytest

from celery import group

from celery_app import tasks
from celery_app.config import deployment_a, redis_url, RESP3
from conftest import KINDS, client_app, start_server, start_worker, wait_until

EXPIRES = 2


@pytest.mark.parametrize("kind", KINDS)
def test_result_expires(kind, tmp_path):
    srv = start_server(kind, tmp_path)
    try:
        dep = deployment_a("127.0.0.1", srv.port, result_expires=EXPIRES).with_conf(
            result_backend=redis_url("127.0.0.1", srv.port, 3, None,
                                     {"protocol": 3} if RESP3 else None))
        w = start_worker(dep, tmp_path, "exp", pool="solo", concurrency=1)
        try:
            with client_app(dep) as app:
                results = [tasks.add.delay(i, 1) for i in range(5)]
                assert [r.get(timeout=30) for r in results] == [1, 2, 3, 4, 5]
                g = group(tasks.add.s(1, 1), tasks.add.s(2, 2))()
                assert g.get(timeout=30) == [2, 4]
                g.save()
                db3 = srv.client(db=3)
                for r in results:
                    assert 0 < db3.ttl(f"celery-task-meta-{r.id}") <= EXPIRES
                assert 0 < db3.ttl(f"celery-taskset-meta-{g.id}") <= EXPIRES
                assert db3.dbsize() == 8  # 5 + 2 task results + the saved group
                wait_until(lambda: db3.dbsize() == 0, EXPIRES + 10,
                           "expired results reclaimed without being read")
                assert app.AsyncResult(results[0].id).state == "PENDING"
        finally:
            w.stop()
    finally:
        srv.stop()
