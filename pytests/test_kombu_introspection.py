"""Celerity's kombu extension with real Celery: KOMBU.QUEUES / KOMBU.UNACKED
against what producers and workers did, and the visibility lease
(kombu-visibility-lease) against Kombu's visibility-timeout restore.

The countdown test runs on both servers: on redis-server 7.0.15 it records
the hazard the lease removes (kombu#337, celery#4400: a message held by a
live worker past visibility_timeout is restored and runs again); on Celerity
with the lease on the task runs once. The other tests use KOMBU.* commands,
which only Celerity has."""
import os
import runpy
import signal
import uuid

import pytest

from celery_app import tasks
from celery_app.config import deployment_a
from conftest import client_app, start_server, start_worker, wait_until

VT = 3  # visibility_timeout, seconds: small to keep the tests short
SEP = b"\x06\x16"
# Sweep for expired deliveries every second (kombu >= 5.7 transport options).
FAST_RESTORE = {"visibility_timeout": VT, "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1}


RECOMMENDED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "kombu", "recommended_celeryconfig.py")


def recommended():
    """The shipped recommended settings, minus the URLs (the test's server)."""
    conf = runpy.run_path(RECOMMENDED)
    return {k: v for k, v in conf.items()
            if k.islower() and not k.startswith("_") and k not in ("broker_url", "result_backend")}


def as_dict(row):
    """A KOMBU.* row: a dict on RESP3, a flat [field, value, ...] list on RESP2."""
    if isinstance(row, dict):
        items = row.items()
    else:
        items = zip(row[::2], row[1::2])
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in items}


def queues(client, db=0):
    return {as_dict(r)["name"].decode(): as_dict(r)
            for r in client.execute_command("KOMBU.QUEUES", "DB", db)}


def unacked(client, db=0):
    return [as_dict(r) for r in client.execute_command("KOMBU.UNACKED", "DB", db, "COUNT", 0)]


def priorities(row):
    p = row["priorities"]
    pairs = p.items() if isinstance(p, dict) else zip(p[::2], p[1::2])
    return {int(k): v for k, v in pairs}


def test_queues_unacked_and_sigkill_redelivery(tmp_path):
    """Celerity, lease on, the shipped recommended Celery settings with a
    short visibility_timeout. (1) Messages published to a queue no worker
    consumes are counted per priority step exactly as Kombu spread them. (2)
    During a long acks_late task KOMBU.QUEUES shows it unacked and KOMBU.UNACKED
    names the task, its owner (one of the worker's pooled connections, not
    its BRPOP connection) and the lease. (3) The worker is SIGKILLed: the
    lease ends with its connections and a second worker gets the task after
    visibility_timeout."""
    srv = start_server("celerity", tmp_path, "--kombu-visibility-lease", "yes")
    workers = []
    try:
        dep = deployment_a("127.0.0.1", srv.port).with_conf(**recommended()).with_conf(
            broker_transport_options=FAST_RESTORE)
        assert dep.conf["task_acks_late"] and dep.conf["worker_prefetch_multiplier"] == 1
        db0 = srv.client(db=0)
        side = srv.client(db=2)
        parked = f"parked-{uuid.uuid4().hex[:6]}"
        sent = [0, 1, 2, 4, 5, 7, 9, 9]  # steps 0,0,0,3,3,6,9,9
        key = f"e2e:kombu:{uuid.uuid4().hex[:8]}"
        with client_app(dep):
            for i, p in enumerate(sent):
                tasks.mark.apply_async((key + ":parked", str(i)), queue=parked, priority=p,
                                       ignore_result=True)
            q = queues(db0)[parked]
            assert q["messages"] == len(sent) == sum(
                db0.llen(parked if s == 0 else parked.encode() + SEP + str(s).encode())
                for s in (0, 3, 6, 9))
            assert priorities(q) == {0: 3, 3: 2, 6: 1, 9: 2}
            assert q["unacked"] == 0 and q["consumers"] == 0

            w1 = start_worker(dep, tmp_path, "doomed", concurrency=1)
            workers.append(w1)
            wait_until(lambda: queues(db0)["celery"]["consumers"] == 1, 10,
                       "the idle worker's BRPOP on celery")
            brpop = {c["id"] for c in db0.client_list() if c["cmd"] == "brpop"}
            assert brpop
            crash = tasks.crashable.delay(key)
            wait_until(lambda: side.llen(key + ":started") == 1, 30, "crashable started")
            q = queues(db0)["celery"]
            assert q["unacked"] == 1 and q["messages"] == 0
            assert q["oldest_unacked_age_ms"] >= 0
            rows = unacked(db0)
            assert len(rows) == 1
            u = rows[0]
            assert u["task"] == b"celery_app.tasks.crashable"
            assert u["task_id"].decode() == crash.id
            assert u["queue"] == b"celery" and u["routing_key"] == b"celery"
            assert u["leased"] in (1, True) and u["restored"] == 0
            # The ZADD comes from one of the worker's pooled connections,
            # open as long as the worker, not from its BRPOP connection.
            assert str(u["owner"]) in {c["id"] for c in db0.client_list()}
            assert str(u["owner"]) not in brpop

            # Held past visibility_timeout while the worker lives: the
            # lease keeps the score fresh, nothing is restored.
            wait_until(lambda: unacked(db0)[0]["age_ms"] > (VT + 2) * 1000, VT + 10,
                       "the delivery outlives visibility_timeout")
            assert unacked(db0)[0]["index_age_ms"] < VT * 1000
            assert side.llen(key + ":started") == 1
            assert db0.info("kombu")["kombu_leases"] == 1

            w1.kill(signal.SIGKILL)
            wait_until(lambda: unacked(db0)[0]["owner"] is None, 10, "the lease ended")
            assert unacked(db0)[0]["leased"] in (0, False)
            w2 = start_worker(dep, tmp_path, "rescuer", concurrency=1)
            workers.append(w2)
            wait_until(lambda: side.llen(key + ":started") == 2, VT + 30,
                       "crashable restarted after visibility_timeout")
            assert queues(db0)["celery"]["restored"] >= 1
            side.rpush(key + ":release", 1)
            assert crash.get(timeout=30) == "finished"
        wait_until(lambda: db0.hlen("unacked") == 0, 20, "acked")
        assert queues(db0)["celery"]["unacked"] == 0
        assert queues(db0)[parked]["messages"] == len(sent)
    finally:
        for w in workers:
            w.stop()
        srv.stop()


COUNTDOWN = 8  # > VT + the 1 s restore sweep, with margin


@pytest.mark.parametrize("kind", ["celerity", "celerity-no-lease", "redis"])
def test_countdown_beyond_visibility_timeout(kind, tmp_path):
    """A countdown task held by a live worker for longer than
    visibility_timeout. On redis-server Kombu's restore_visible re-queues it
    (every ~VT seconds) while the worker waits for the ETA, the worker
    receives the copies too and the task runs more than once. On Celerity
    with the lease on, the held message's score stays fresh and the task
    runs exactly once; without the lease Celerity behaves as Redis (the
    control that shows the lease is what changed).

    A sentinel task due one second later on the same solo worker marks the
    end: timers fire in ETA order, so once it ran every copy of the first
    task has run."""
    extra = ("--kombu-visibility-lease", "yes") if kind == "celerity" else ()
    srv = start_server(kind.split("-")[0], tmp_path, *extra)
    w = None
    try:
        dep = deployment_a("127.0.0.1", srv.port).with_conf(
            broker_transport_options=FAST_RESTORE)
        key = f"e2e:eta:{uuid.uuid4().hex[:8]}"
        side = srv.client(db=2)
        w = start_worker(dep, tmp_path, "eta", pool="solo", concurrency=1)
        with client_app(dep):
            tasks.mark.apply_async((key, "task"), countdown=COUNTDOWN, ignore_result=True)
            tasks.mark.apply_async((key, "sentinel"), countdown=COUNTDOWN + 1, ignore_result=True)
            wait_until(lambda: b"sentinel" in side.lrange(key, 0, -1), COUNTDOWN + 20,
                       "the sentinel ran")
        runs = side.lrange(key, 0, -1).count(b"task")
        print(f"{kind}: the countdown task ran {runs} time(s)")
        if kind == "celerity":
            assert runs == 1
        else:
            assert runs > 1, "restored while its worker held it, the task ran again"
    finally:
        if w:
            w.stop()
        srv.stop()
