"""Memory limits with real Celery (issue 8): a 10,000-task queue, a worker
consuming it, and permission-cache plus result writes pushing the dataset past
maxmemory.

Under Celerity's `maxmemory-policy broker-safe` every task runs (0 lost) and
the cache is what gets evicted. The same scenario on redis-server 7.0.15 with
`allkeys-lru` (the seeds' policy) is recorded, not asserted: the number of
tasks lost there is printed as the hazard it is (ops-surface.md §7.3).
Executed tasks are counted in a file, outside the server, so no eviction can
hide them."""
import redis
import pytest

from celery_app import tasks
from celery_app.config import deployment_a
from conftest import client_app, start_server, start_worker, wait_until

TASKS = 10_000
POLICY = {"celerity": "broker-safe", "redis": "allkeys-lru"}


def used_memory(r):
    info = r.info("memory")
    return info["used_memory"]


@pytest.mark.parametrize("kind", ["celerity", "redis"])
def test_queue_survives_memory_pressure(kind, tmp_path):
    srv = start_server(kind, tmp_path)
    try:
        dep = deployment_a("127.0.0.1", srv.port)
        done = tmp_path / "executed.txt"
        done.touch()
        db0, cache = srv.client(db=0), srv.client(db=1)
        with client_app(dep):
            for i in range(TASKS):
                tasks.record.delay(str(done), i)
        assert db0.llen("celery") == TASKS
        # The limit: what the queue takes now plus 4 MB, so the cache and
        # the results must push past it.
        limit = used_memory(db0) + (4 << 20)
        db0.config_set("maxmemory-policy", POLICY[kind])
        db0.config_set("maxmemory", limit)

        w = start_worker(dep, tmp_path, "mm", pool="solo", concurrency=1)
        refused = 0
        try:
            value = "p" * 2048
            for i in range(8000):  # 16 MB of permission cache, 300 s TTL
                try:
                    cache.set(f"perm:{i}", value, ex=300)
                except redis.exceptions.OutOfMemoryError:
                    refused += 1

            def drained():
                return db0.llen("celery") == 0 and db0.hlen("unacked") == 0
            wait_until(drained, 300, "the queue to drain")
            executed = {int(x) for x in done.read_text().split()}
        finally:
            w.stop()
        stats, mem = db0.info("stats"), db0.info("memory")
        lost = TASKS - len(executed)
        print(f"\n{kind} maxmemory-policy {POLICY[kind]}: {len(executed)} of {TASKS} tasks ran, "
              f"{lost} lost; evicted_keys={stats['evicted_keys']}, cache writes refused={refused}, "
              f"cache keys left={cache.dbsize()}, used_memory={mem['used_memory']}, maxmemory={limit}, "
              f"binding present={bool(db0.exists('_kombu.binding.celery'))}")
        if kind == "celerity":
            assert lost == 0
            assert stats["evicted_keys"] > 0
            assert cache.dbsize() < 8000, "the cache is what gets evicted"
            assert db0.exists("_kombu.binding.celery")
            assert mem["maxmemory_policy"] == "broker-safe"
    finally:
        srv.stop()
