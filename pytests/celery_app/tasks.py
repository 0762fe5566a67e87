"""Tasks the end-to-end tests run. Side effects go to E2E_SIDE_URL (a DB no
deployment uses) so tests can observe what ran, how often and in what order.
Blocking waits inside tasks are BLPOPs with a timeout, never sleeps."""
import json
import os
import time

import redis
from celery import shared_task

_clients = {}


def _client(env_name):
    url = os.environ[env_name]
    c = _clients.get((os.getpid(), url))
    if c is None:
        c = _clients[(os.getpid(), url)] = redis.Redis.from_url(url, socket_timeout=90)
    return c


def side():
    return _client("E2E_SIDE_URL")


@shared_task
def add(x, y):
    return x + y


@shared_task
def tsum(values):
    return sum(values)


@shared_task(ignore_result=True)
def noop():
    return None


@shared_task
def stamp(key):
    """Record that this ran (and when) and return the wall-clock time."""
    now = time.time()
    side().set(key, repr(now))
    return now


@shared_task
def mark(key, value="1"):
    """Append value to the side list `key`: execution order and count."""
    side().rpush(key, value)
    return value


@shared_task(bind=True, max_retries=5)
def flaky(self, key, failures):
    """Fail (and retry) `failures` times, then succeed with the attempt number."""
    attempt = side().incr(key)
    if attempt <= failures:
        raise self.retry(countdown=0.2, exc=RuntimeError(f"attempt {attempt}"))
    return {"attempt": attempt, "retries": self.request.retries}


@shared_task
def wait_for(gate, timeout=60):
    """Block until the test pushes to the side list `gate` (BLPOP, bounded)."""
    got = side().blpop([gate], timeout=timeout)
    if got is None:
        raise TimeoutError(f"gate {gate} was never opened")
    return int(got[1])


@shared_task(acks_late=True)
def crashable(key):
    """acks_late task the tests kill a worker under: records each start,
    waits for release, records completion."""
    side().rpush(key + ":started", os.getpid())
    got = side().blpop([key + ":release"], timeout=60)
    if got is None:
        raise TimeoutError("never released")
    side().rpush(key + ":done", os.getpid())
    return "finished"


@shared_task
def cache_permissions(user_id, perms):
    """Deployment A's permission cache: SETEX perm:user:<id> 300 <json> on DB 1."""
    r = _client("PERMISSION_CACHE_URL")
    r.setex(f"perm:user:{user_id}", 300, json.dumps(perms, sort_keys=True))
    return r.ttl(f"perm:user:{user_id}")


@shared_task
def notify_user(user_id, payload):
    """Per-user notification: PUBLISH <user id> <json> on REDIS_URL."""
    return _client("REDIS_URL").publish(str(user_id), json.dumps(payload, sort_keys=True))


@shared_task(bind=True)
def media_transcode(self, key, name):
    """Routed to the `media` queue by deployment B's task_routes."""
    side().rpush(key, f"media:{name}")
    return {"name": name, "queue": self.request.delivery_info.get("routing_key")}


@shared_task(bind=True)
def default_job(self, key, name):
    side().rpush(key, f"celery:{name}")
    return {"name": name, "queue": self.request.delivery_info.get("routing_key")}


@shared_task
def record(path, i):
    """Append i to a file outside the server: a count of executed tasks that
    no eviction can touch (one short O_APPEND write, atomic)."""
    with open(path, "a") as f:
        f.write(f"{i}\n")
    return i
