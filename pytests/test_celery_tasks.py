"""Deployment A end to end: broker, result backend and RedBeat on DB 0,
permission cache on DB 1, one real prefork worker (`celery worker -c 2 -E`)
per server kind, shared by this module's tests. Every test runs against
Celerity and against redis-server 7.0.15."""
import datetime
import json
import uuid

import pytest
from celery import chain, chord, group

from celery_app import tasks
from celery_app.config import PROTOCOL
from celery_app.config import deployment_a
from conftest import KINDS, PASSWORD, client_app, start_server, start_worker, wait_until

TIMEOUT = 30


def uid():
    return uuid.uuid4().hex[:10]


def test_delay_get(stack_a, app_a):
    assert tasks.add.delay(2, 3).get(timeout=TIMEOUT) == 5
    r = tasks.add.apply_async((20, 22))
    assert r.get(timeout=TIMEOUT) == 42
    assert r.state == "SUCCESS"
    # The result lives in DB 0 as JSON with a TTL of result_expires.
    db0 = stack_a.server.client(db=0)
    meta = json.loads(db0.get(f"celery-task-meta-{r.id}"))
    assert meta["status"] == "SUCCESS" and meta["result"] == 42
    assert 0 < db0.ttl(f"celery-task-meta-{r.id}") <= 3600
    # Kombu's bookkeeping lives in DB 0 too.
    assert db0.exists("_kombu.binding.celery")


def test_connections_use_the_stack_protocol(stack_a, app_a):
    """RESP3 stack: redis-py 8 negotiates RESP3 (HELLO 3) for Kombu, the
    result backend and RedBeat; RESP2 stack: redis-py 7 never sends HELLO."""
    assert tasks.add.delay(1, 1).get(timeout=TIMEOUT) == 2
    clients = stack_a.server.client().client_list()
    # Worker (Kombu consumer, producer, pidbox, events, result backend) and
    # this client app: every connection speaks the stack's protocol.
    assert len(clients) >= 5, clients
    assert {c.get("resp") for c in clients} == {str(PROTOCOL)}, clients
    assert any(c.get("psub") == "1" for c in clients)   # Kombu fan-out (PSUBSCRIBE)
    assert any(c.get("cmd") == "brpop" for c in clients)  # Kombu consumer


def test_countdown_and_eta(stack_a, app_a):
    key = f"e2e:stamp:{uid()}"
    sent = datetime.datetime.now(datetime.timezone.utc).timestamp()
    r = tasks.stamp.apply_async((key,), countdown=2)
    ran_at = r.get(timeout=TIMEOUT)
    assert ran_at >= sent + 1.9
    eta = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
    r2 = tasks.stamp.apply_async((key + ":eta",), eta=eta)
    assert r2.get(timeout=TIMEOUT) >= eta.timestamp() - 0.1
    # While the ETA task waited in the worker it was delivered but unacked;
    # now everything is acked.
    db0 = stack_a.server.client(db=0)
    wait_until(lambda: db0.hlen("unacked") == 0, 10, "unacked hash to drain")


def test_retries(stack_a, app_a):
    key = f"e2e:flaky:{uid()}"
    r = tasks.flaky.delay(key, 2)
    assert r.get(timeout=TIMEOUT) == {"attempt": 3, "retries": 2}
    assert int(stack_a.side.get(key)) == 3


def test_retries_exhausted(stack_a, app_a):
    key = f"e2e:flaky:{uid()}"
    r = tasks.flaky.apply_async((key, 10))
    with pytest.raises(RuntimeError, match="attempt 6"):
        r.get(timeout=TIMEOUT)
    assert r.state == "FAILURE"
    assert int(stack_a.side.get(key)) == 6  # first run + max_retries=5


def test_group(stack_a, app_a):
    res = group(tasks.add.s(i, i) for i in range(10))()
    assert res.get(timeout=TIMEOUT) == [2 * i for i in range(10)]


def test_saved_group_result(stack_a, app_a):
    res = group(tasks.add.s(i, 1) for i in range(3))()
    res.save()
    db0 = stack_a.server.client(db=0)
    key = f"celery-taskset-meta-{res.id}"
    assert db0.exists(key)
    assert 0 < db0.ttl(key) <= 3600
    restored = app_a.GroupResult.restore(res.id)
    assert restored.get(timeout=TIMEOUT) == [1, 2, 3]
    restored.delete()
    assert not db0.exists(key)


def test_chain(stack_a, app_a):
    res = chain(tasks.add.s(1, 2), tasks.add.s(3), tasks.add.s(4))()
    assert res.get(timeout=TIMEOUT) == 10
    assert res.parent.get(timeout=TIMEOUT) == 6


def test_chord_counters_and_expiry(stack_a, app_a):
    """Redis-native chord: the join ZSET .j and size key .s carry the result
    TTL while the header runs, and are deleted when the body is sent."""
    gate = f"e2e:gate:{uid()}"
    res = chord([tasks.add.s(1, 1), tasks.add.s(2, 2), tasks.wait_for.s(gate)])(tasks.tsum.s())
    gid = res.parent.id
    db0 = stack_a.server.client(db=0)
    j, s, t = (f"celery-taskset-meta-{gid}{x}" for x in (".j", ".s", ".t"))
    wait_until(lambda: db0.zcard(j) == 2, TIMEOUT, "two chord parts joined")
    assert db0.get(s) == b"3"
    assert 0 < db0.ttl(j) <= 3600
    assert 0 < db0.ttl(s) <= 3600
    assert db0.type(j) == b"zset"
    parts = [json.loads(m) for m in db0.zrange(j, 0, -1)]
    assert sorted(p[3] for p in parts) == [2, 4]
    assert all(p[2] == "SUCCESS" for p in parts)
    assert not res.ready()
    stack_a.side.rpush(gate, 100)
    assert res.get(timeout=TIMEOUT) == 106
    wait_until(lambda: db0.exists(j, s, t) == 0, 10, "chord counters deleted")


def test_revoke(stack_a, app_a):
    key = f"e2e:revoked:{uid()}"
    r = tasks.mark.apply_async((key,), countdown=3)
    r.revoke()
    wait_until(lambda: r.state == "REVOKED", TIMEOUT, "state REVOKED")
    # Bounded check that it never runs: a task sent after the countdown
    # target completes first, and the mark list stays empty.
    later = tasks.stamp.apply_async((key + ":later",), countdown=4)
    later.get(timeout=TIMEOUT)
    assert stack_a.side.llen(key) == 0


def test_forget(stack_a, app_a):
    r = tasks.add.delay(5, 5)
    assert r.get(timeout=TIMEOUT) == 10
    db0 = stack_a.server.client(db=0)
    assert db0.exists(f"celery-task-meta-{r.id}")
    r.forget()
    assert not db0.exists(f"celery-task-meta-{r.id}")
    assert r.state == "PENDING"


def test_permission_cache_in_db1(stack_a, app_a):
    """A worker fills the permission cache (SETEX 300 on DB 1); the web side
    reads it with GET/TTL."""
    perms = {"can_edit": True, "teams": [3, 7]}
    ttl = tasks.cache_permissions.delay(42, perms).get(timeout=TIMEOUT)
    assert 299 <= ttl <= 300
    db1 = stack_a.server.client(db=1)
    assert json.loads(db1.get("perm:user:42")) == perms
    assert 298 <= db1.ttl("perm:user:42") <= 300
    assert not stack_a.server.client(db=0).exists("perm:user:42")


@pytest.mark.parametrize("kind", KINDS)
def test_password_urls(kind, tmp_path):
    """Deployment A with requirepass: every URL carries the password."""
    srv = start_server(kind, tmp_path, password=PASSWORD)
    try:
        dep = deployment_a("127.0.0.1", srv.port, password=PASSWORD)
        assert dep.conf["broker_url"] == f"redis://:{PASSWORD}@127.0.0.1:{srv.port}/0"
        assert dep.conf["result_backend"].startswith(f"redis://:{PASSWORD}@127.0.0.1:{srv.port}/0")
        w = start_worker(dep, tmp_path, "apw", pool="solo", concurrency=1)
        try:
            with client_app(dep):
                assert tasks.add.delay(4, 4).get(timeout=TIMEOUT) == 8
        finally:
            w.stop()
    finally:
        srv.stop()
