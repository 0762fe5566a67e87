"""acks_late + visibility timeout with real processes: a worker is killed by
SIGKILL in the middle of an acks_late task while it also holds prefetched
messages; a new worker restores every unacked delivery after the (short)
visibility timeout and runs them. Nothing is lost. Runs against Celerity and
redis-server 7.0.15."""
import uuid

import pytest

from celery_app import tasks
from celery_app.config import deployment_a
from conftest import KINDS, client_app, start_server, start_worker, wait_until

VT = 3


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_mid_task_is_redelivered(kind, tmp_path):
    srv = start_server(kind, tmp_path)
    workers = []
    try:
        dep = deployment_a("127.0.0.1", srv.port).with_conf(broker_transport_options={
            "visibility_timeout": VT,
            # Sweep for expired deliveries every second (kombu >= 5.7).
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        })
        key = f"e2e:crash:{uuid.uuid4().hex[:8]}"
        side = srv.client(db=2)
        db0 = srv.client(db=0)
        w1 = start_worker(dep, tmp_path, "doomed", concurrency=1)
        workers.append(w1)
        with client_app(dep):
            crash = tasks.crashable.delay(key)
            marks = [tasks.mark.delay(key + ":marks", str(i)) for i in range(3)]
            wait_until(lambda: side.llen(key + ":started") == 1, 30, "crashable started")
            # w1 holds the running task and its prefetched messages, unacked.
            wait_until(lambda: db0.hlen("unacked") == 4, 10, "4 deliveries held by w1")
            assert db0.zcard("unacked_index") == 4
            w1.kill()
            assert db0.hlen("unacked") == 4  # a dead worker acks nothing

            w2 = start_worker(dep, tmp_path, "rescuer", concurrency=1)
            workers.append(w2)
            wait_until(lambda: side.llen(key + ":started") == 2, VT + 30,
                       "crashable started again after the visibility timeout")
            side.rpush(key + ":release", 1)
            assert crash.get(timeout=30) == "finished"
            assert [m.get(timeout=30) for m in marks] == ["0", "1", "2"]
        assert side.llen(key + ":done") >= 1
        assert sorted(set(side.lrange(key + ":marks", 0, -1))) == [b"0", b"1", b"2"]
        wait_until(lambda: db0.hlen("unacked") == 0 and db0.zcard("unacked_index") == 0, 20,
                   "every delivery acked")
        assert db0.llen("celery") == 0
    finally:
        for w in workers:
            w.stop()
        srv.stop()
