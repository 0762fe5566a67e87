"""Message priorities and queue order with real workers. Messages are
published while no worker runs, then one worker (prefetch 1) drains them and
the tasks record their execution order. On Redis, priority 0 is consumed
first; Kombu maps priorities onto `priority_steps` lists
(`<queue><sep><step>`) and BRPOPs them step by step. Every test runs against
Celerity and redis-server 7.0.15."""
import bisect
import uuid

import pytest

from celery_app import tasks
from celery_app.config import deployment_a, deployment_b
from conftest import KINDS, PASSWORD, client_app, start_server, start_worker, wait_until

PRIORITIES = [9, 0, 5, 3, 7, 1, 8, 2, 6, 4, 0, 9, 5, 1]

VARIANTS = {
    # Kombu's defaults: steps [0, 3, 6, 9], separator \x06\x16.
    "default-steps": ({}, [0, 3, 6, 9], "\x06\x16"),
    # Celery's documented "true priorities" setup: 10 lists, ':' separator.
    "steps-0-9": ({"priority_steps": list(range(10)), "sep": ":",
                   "queue_order_strategy": "priority"}, list(range(10)), ":"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", KINDS)
def test_priority_order(kind, variant, tmp_path):
    options, steps, sep = VARIANTS[variant]
    srv = start_server(kind, tmp_path)
    try:
        dep = deployment_a("127.0.0.1", srv.port).with_conf(
            broker_transport_options=options, worker_prefetch_multiplier=1)
        key = f"e2e:prio:{uuid.uuid4().hex[:8]}"
        with client_app(dep):
            for i, p in enumerate(PRIORITIES):
                tasks.mark.apply_async((key, f"{i}:{p}"), priority=p, ignore_result=True)
        db0 = srv.client(db=0)
        # The lists Kombu filled, one per step that got messages.
        for step in sorted({steps[bisect.bisect(steps, p) - 1] for p in PRIORITIES}):
            name = "celery" if step == 0 else f"celery{sep}{step}"
            assert db0.llen(name) > 0, name
        w = start_worker(dep, tmp_path, "prio", pool="solo", concurrency=1)
        try:
            wait_until(lambda: srv.client(db=2).llen(key) == len(PRIORITIES), 30,
                       "all priority tasks ran")
        finally:
            w.stop()
        ran = [v.decode() for v in srv.client(db=2).lrange(key, 0, -1)]
        bucket = {p: bisect.bisect(steps, p) - 1 for p in range(10)}
        expected = sorted((f"{i}:{p}" for i, p in enumerate(PRIORITIES)),
                          key=lambda s: (bucket[int(s.split(":")[1])], int(s.split(":")[0])))
        assert ran == expected
    finally:
        srv.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_queue_order_strategy_priority(kind, tmp_path):
    """Deployment B: one worker on `celery,media` with
    queue_order_strategy='priority' drains `celery` before `media`
    (round-robin would alternate)."""
    srv = start_server(kind, tmp_path, password=PASSWORD)
    try:
        dep = deployment_b("127.0.0.1", srv.port, PASSWORD).with_conf(worker_prefetch_multiplier=1)
        key = f"e2e:qorder:{uuid.uuid4().hex[:8]}"
        with client_app(dep):
            for i in range(3):
                tasks.media_transcode.apply_async((key, f"m{i}"), ignore_result=True)
            for i in range(3):
                tasks.default_job.apply_async((key, f"c{i}"), ignore_result=True)
        db1 = srv.client(db=1)
        assert db1.llen("media") == 3 and db1.llen("celery") == 3
        w = start_worker(dep, tmp_path, "qorder", concurrency=1, queues=["celery", "media"])
        try:
            wait_until(lambda: srv.client(db=2).llen(key) == 6, 30, "all six tasks ran")
        finally:
            w.stop()
        ran = [v.decode() for v in srv.client(db=2).lrange(key, 0, -1)]
        assert ran == ["celery:c0", "celery:c1", "celery:c2", "media:m0", "media:m1", "media:m2"]
    finally:
        srv.stop()
