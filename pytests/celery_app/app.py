"""The app `celery -A celery_app.app worker|beat|inspect` runs. Settings come
from CELERITY_E2E_CONF (JSON written by the test from celery_app.config).

Readiness without pub/sub: when a worker is ready it sets
e2e:ready:<hostname> in the side DB, so fixtures can poll a key instead of
depending on remote control."""
import json
import os

import redis
from celery import Celery
from celery.signals import worker_ready

app = Celery("celerity_e2e")
app.conf.update(json.loads(os.environ.get("CELERITY_E2E_CONF", "{}")))

import celery_app.tasks  # noqa: E402,F401  (registers the shared tasks)


@worker_ready.connect
def _announce_ready(sender=None, **_):
    hostname = getattr(sender, "hostname", None) or os.environ.get("E2E_WORKER_NAME", "?")
    url = os.environ.get("E2E_SIDE_URL")
    if url:
        r = redis.Redis.from_url(url, socket_timeout=10)
        r.set(f"e2e:ready:{hostname}", os.getpid())
        r.close()
