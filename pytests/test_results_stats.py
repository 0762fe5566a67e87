"""RESULTS.STATS and results-default-ttl with a real Celery worker writing
its results (DB 3) with result_expires=None, i.e. plain SET without a TTL
(celery#7801). Celerity-only: the command and the directive are Celerity's.

- RESULTS.STATS counts the stored results by state (SUCCESS, FAILURE) and
  the keys left without a TTL;
- once results-default-ttl is set, every result Celery writes gets that
  TTL, and so does the pidbox reply queue of a remote-control ping."""
import pytest

from celery_app import tasks
from celery_app.config import RESP3, deployment_a, redis_url
from conftest import client_app, start_server, start_worker, wait_until

DEFAULT_TTL = 120


def as_map(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, dict):
        return {as_map(k): as_map(x) for k, x in v.items()}
    if isinstance(v, list) and v and isinstance(v[0], (bytes, str)) and len(v) % 2 == 0:
        return {as_map(v[i]): as_map(v[i + 1]) for i in range(0, len(v), 2)}
    return v


def stats(r, db):
    return as_map(r.execute_command("RESULTS.STATS", "DB", db))


@pytest.fixture
def stack(tmp_path):
    srv = start_server("celerity", tmp_path)
    dep = deployment_a("127.0.0.1", srv.port, result_expires=None).with_conf(
        result_backend=redis_url("127.0.0.1", srv.port, 3, None, {"protocol": 3} if RESP3 else None))
    w = start_worker(dep, tmp_path, "res", pool="solo", concurrency=1)
    try:
        yield srv, dep
    finally:
        w.stop()
        srv.stop()


def test_stats_by_state_and_default_ttl(stack):
    srv, dep = stack
    r = srv.client()
    db3 = srv.client(db=3)
    with client_app(dep) as app:
        ok = [tasks.add.delay(i, 1) for i in range(3)]
        bad = tasks.add.delay(1, None)  # TypeError in the worker: FAILURE
        assert [x.get(timeout=30) for x in ok] == [1, 2, 3]
        assert isinstance(bad.get(timeout=30, propagate=False), TypeError)
        keys = [f"celery-task-meta-{x.id}" for x in ok + [bad]]
        assert all(db3.ttl(k) == -1 for k in keys), "result_expires=None: no TTL"

        s = stats(r, 3)
        assert s["db"] == 3 and s["source"] == "walk"
        assert s["task_results"] == 4
        assert s["states"] == {"SUCCESS": 3, "FAILURE": 1}
        assert s["without_ttl"] == 4
        assert sum(s["ttl"].values()) == 0
        assert s["bytes"] > 0
        assert s["default_ttl"] == 0

        assert r.config_set("results-default-ttl", DEFAULT_TTL)
        more = [tasks.add.delay(10, i) for i in range(2)]
        bad2 = tasks.add.delay(None, 1)
        assert [x.get(timeout=30) for x in more] == [10, 11]
        bad2.get(timeout=30, propagate=False)
        for x in more + [bad2]:
            ttl = db3.ttl(f"celery-task-meta-{x.id}")
            assert 0 < ttl <= DEFAULT_TTL, (x.id, ttl)
        s = stats(r, 3)
        assert s["states"] == {"SUCCESS": 5, "FAILURE": 2}
        assert s["without_ttl"] == 4, "keys written before the directive keep no TTL"
        assert s["ttl"]["<10m"] == 3
        assert s["default_ttl"] == DEFAULT_TTL

        # A remote-control ping: the worker LPUSHes its reply into
        # <oid>.reply.celery.pidbox (DB 0), which gets the TTL too.
        before = r.info("results")["results_default_ttl_applied_pidbox"]
        assert app.control.ping(timeout=5)
        wait_until(lambda: r.info("results")["results_default_ttl_applied_pidbox"] > before, 5,
                   "the reply queue to get the default TTL")
        assert r.info("results")["results_default_ttl_applied"] >= 3
