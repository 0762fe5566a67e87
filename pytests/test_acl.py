"""Celery stacks logging in as an ACL user: redis://celery:<pw>@host:port/0
for Kombu (broker), the result backend and RedBeat, on a server hardened
like the seeds (requirepass for the default user) with one ACL user holding
the permissions Celery needs and no dangerous commands. Every test runs
against Celerity and redis-server 7.0.15."""
import datetime
import uuid

import kombu
import pytest
import redis
from celery.schedules import schedule
from redbeat import RedBeatSchedulerEntry

from celery_app import tasks
from celery_app.config import REDBEAT_LOCK_KEY, deployment_a
from conftest import KINDS, PASSWORD, Stack, client_app, start_beat, start_server, start_worker, wait_until

USER, USER_PW = "celery", "celery-pw"
# What a Celery deployment needs: every key and channel, every command but
# the dangerous ones (FLUSHALL, KEYS, CONFIG, DEBUG...).
USER_RULES = ["on", ">" + USER_PW, "~*", "&*", "+@all", "-@dangerous"]
TIMEOUT = 30


def with_user(url):
    """redis://:<default pw>@... becomes redis://celery:<user pw>@..."""
    return url.replace(f"://:{PASSWORD}@", f"://{USER}:{USER_PW}@")


@pytest.fixture(scope="module", params=KINDS)
def acl_stack(request, tmp_path_factory):
    """Deployment A whose every URL logs in as the ACL user, one worker."""
    tmp = tmp_path_factory.mktemp(f"acl-{request.param}")
    srv = start_server(request.param, tmp, password=PASSWORD)
    admin = srv.client()
    assert admin.execute_command("ACL", "SETUSER", USER, *USER_RULES) == b"OK"
    admin.close()
    dep = deployment_a("127.0.0.1", srv.port, PASSWORD)
    for k in ("broker_url", "result_backend", "redbeat_redis_url"):
        dep.conf[k] = with_user(dep.conf[k])
    dep.env = {k: with_user(v) for k, v in dep.env.items()}
    assert dep.conf["broker_url"] == f"redis://{USER}:{USER_PW}@127.0.0.1:{srv.port}/0"
    stack = Stack(srv, dep)  # side client: the default user, with requirepass
    try:
        stack.worker = start_worker(dep, tmp, "acl", concurrency=1)
        yield stack
    finally:
        stack.close()


def test_user_url_logs_in_as_the_user(acl_stack):
    r = redis.Redis.from_url(acl_stack.dep.conf["broker_url"])
    assert r.execute_command("ACL", "WHOAMI") == USER.encode()
    with pytest.raises(redis.exceptions.NoPermissionError):
        r.flushall()
    bad = redis.Redis.from_url(acl_stack.dep.conf["broker_url"].replace(USER_PW, "wrong"))
    with pytest.raises(redis.exceptions.AuthenticationError):
        bad.ping()
    # The worker's connections are the ACL user's.
    admin = acl_stack.server.client()
    assert any(c["user"] == USER for c in admin.client_list()), admin.client_list()
    admin.close()


def test_kombu_queue_round_trip(acl_stack):
    name = f"acl-kombu-{uuid.uuid4().hex[:6]}"
    with kombu.Connection(acl_stack.dep.conf["broker_url"]) as conn:
        q = conn.SimpleQueue(name)
        q.put({"hello": "acl"})
        msg = q.get(timeout=10)
        assert msg.payload == {"hello": "acl"}
        msg.ack()
        q.close()


def test_celery_task_round_trip(acl_stack):
    with client_app(acl_stack.dep):
        assert tasks.add.delay(20, 22).get(timeout=TIMEOUT) == 42


def test_redbeat_as_the_user(acl_stack, tmp_path):
    key = f"e2e:acl:beat:{uuid.uuid4().hex[:6]}"
    with client_app(acl_stack.dep) as app:
        RedBeatSchedulerEntry("acl-interval", "celery_app.tasks.mark",
                              schedule(datetime.timedelta(seconds=1)), args=[key, "x"], app=app).save()
        beat = start_beat(acl_stack.dep, tmp_path, "acl")
        try:
            db0 = acl_stack.server.client(db=0)
            wait_until(lambda: db0.get(REDBEAT_LOCK_KEY), TIMEOUT, "beat to take its lock")
            wait_until(lambda: acl_stack.side.llen(key) >= 1, TIMEOUT, "the entry to run")
        finally:
            beat.stop()
        assert beat.proc.returncode == 0, beat.log()[-3000:]
