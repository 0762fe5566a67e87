"""Deployment B end to end: requirepass on, REDIS_URL (cache and per-user
notifications) on DB 0, CELERY_BROKER_URL and CELERY_RESULT_BACKEND on DB 1,
one real worker with concurrency 1 consuming `celery` and `media`. Every test
runs against Celerity and redis-server 7.0.15."""
import json
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from celery_app import tasks
from conftest import WsBackend, wait_until

TIMEOUT = 30


def uid():
    return uuid.uuid4().hex[:10]


def test_urls_carry_the_password(stack_b):
    env = stack_b.dep.env
    port = stack_b.server.port
    assert env["REDIS_URL"] == f"redis://:s3cret@127.0.0.1:{port}/0"
    assert env["CELERY_BROKER_URL"] == f"redis://:s3cret@127.0.0.1:{port}/1"
    assert env["CELERY_RESULT_BACKEND"].startswith(f"redis://:s3cret@127.0.0.1:{port}/1")
    anon = redis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.AuthenticationError):
        anon.llen("celery")


def test_celery_keys_live_in_db1(stack_b, app_b):
    r = tasks.add.delay(7, 8)
    assert r.get(timeout=TIMEOUT) == 15
    db0, db1 = stack_b.server.client(db=0), stack_b.server.client(db=1)
    assert db1.exists(f"celery-task-meta-{r.id}")
    assert db1.exists("_kombu.binding.celery")
    assert db1.exists("_kombu.binding.media")
    celery_keys_in_db0 = [k for k in db0.scan_iter() if k.startswith((b"_kombu", b"celery", b"unacked"))]
    assert celery_keys_in_db0 == []


def test_media_queue_routing(stack_b, app_b):
    key = f"e2e:routing:{uid()}"
    m = tasks.media_transcode.delay(key, "clip.mp4")
    d = tasks.default_job.delay(key, "thumb")
    assert m.get(timeout=TIMEOUT) == {"name": "clip.mp4", "queue": "media"}
    assert d.get(timeout=TIMEOUT) == {"name": "thumb", "queue": "celery"}
    assert sorted(stack_b.side.lrange(key, 0, -1)) == [b"celery:thumb", b"media:clip.mp4"]


def test_cache_on_db0_beside_celery(stack_b, app_b):
    cache = redis.Redis.from_url(stack_b.dep.env["REDIS_URL"])
    cache.setex("cache:feed:42", 60, "[1,2,3]")
    assert tasks.add.delay(1, 2).get(timeout=TIMEOUT) == 3
    assert cache.get("cache:feed:42") == b"[1,2,3]"
    assert 0 < cache.ttl("cache:feed:42") <= 60


def test_per_user_notification_channels(stack_b, app_b, tmp_path):
    """A task publishes to the user's channel (channel name = user id) on
    REDIS_URL; only that user's backend connection receives it."""
    url = stack_b.dep.env["REDIS_URL"]
    u42 = WsBackend(url, ["42"], tmp_path, "user42")
    u43 = WsBackend(url, ["43"], tmp_path, "user43")
    try:
        u42.expect("READY")
        u43.expect("READY")
        assert tasks.notify_user.delay(42, {"kind": "mention", "post": 9}).get(timeout=TIMEOUT) == 1
        line = u42.expect("MSG 42")
        assert json.loads(line.split(" ", 2)[2]) == {"kind": "mention", "post": 9}
        assert tasks.notify_user.delay(43, {"kind": "like"}).get(timeout=TIMEOUT) == 1
        assert u43.expect("MSG") == 'MSG 43 {"kind": "like"}'  # and not user 42's
        assert tasks.notify_user.delay(44, {"kind": "nobody"}).get(timeout=TIMEOUT) == 0
    finally:
        u42.stop()
        u43.stop()


def test_queues_drained_and_acked(stack_b, app_b):
    results = [tasks.add.delay(i, i) for i in range(20)]
    assert [r.get(timeout=TIMEOUT) for r in results] == [2 * i for i in range(20)]
    db1 = stack_b.server.client(db=1)
    wait_until(lambda: db1.hlen("unacked") == 0 and db1.zcard("unacked_index") == 0, 10,
               "all deliveries acked")
    assert db1.llen("celery") == 0 and db1.llen("media") == 0
