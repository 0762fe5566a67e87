"""Configuration builders for the two seed deployments.

A deployment is the Celery settings (a JSON-able dict, handed to worker and
beat subprocesses through the CELERITY_E2E_CONF environment variable and
loaded by celery_app.app) plus the environment variables the deployment's
own code reads (REDIS_URL, ...). Test code builds its client-side app from
the same dict, so producer and worker always agree.

Deployment A ("one server, DB 0 + DB 1"): broker, result backend and RedBeat
on /0, permission cache on /1, WebSocket pub/sub fan-out between backends.
Deployment B ("cache + notifications on /0, Celery on /1"): requirepass
everywhere, per-user notification channels, one worker consuming `celery`
and `media` with concurrency 1.
"""
import redis

# The RESP3 stack (redis-py >= 8) also asks for RESP3 explicitly wherever
# Celery or RedBeat take connection options: the result backend URL's
# ?protocol=3 and redbeat_redis_options. Kombu has no pass-through for it and
# relies on redis-py's default (RESP3 from 8.0).
REDIS_PY_MAJOR = int(redis.__version__.split(".")[0])
RESP3 = REDIS_PY_MAJOR >= 8
PROTOCOL = 3 if RESP3 else 2

REDBEAT_PREFIX = "nadoo:redbeat:"
REDBEAT_LOCK_KEY = REDBEAT_PREFIX + ":lock"          # nadoo:redbeat::lock
REDBEAT_SCHEDULE_KEY = REDBEAT_PREFIX + ":schedule"  # nadoo:redbeat::schedule

# Side-effect store the test tasks write to (never a deployment's own DB).
SIDE_DB = 2


def redis_url(host, port, db, password=None, query=None):
    """redis://[:password@]host:port/db[?query], built from parts the way the
    deployments build theirs from settings."""
    auth = f":{password}@" if password else ""
    url = f"redis://{auth}{host}:{port}/{db}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


class Deployment:
    def __init__(self, name, conf, env, host, port, password, celery_db):
        self.name = name
        self.conf = conf          # Celery settings
        self.env = env            # extra environment for worker/beat processes
        self.host = host
        self.port = port
        self.password = password
        self.celery_db = celery_db

    def url(self, db, **query):
        return redis_url(self.host, self.port, db, self.password, query or None)

    def with_conf(self, **overrides):
        """A copy with some Celery settings replaced (dicts are merged one level
        deep, so broker_transport_options={'visibility_timeout': 3} keeps the
        other transport options)."""
        conf = dict(self.conf)
        for k, v in overrides.items():
            if isinstance(v, dict) and isinstance(conf.get(k), dict):
                conf[k] = {**conf[k], **v}
            else:
                conf[k] = v
        return Deployment(self.name, conf, dict(self.env), self.host, self.port,
                          self.password, self.celery_db)


def _backend_url(host, port, db, password):
    return redis_url(host, port, db, password, {"protocol": 3} if RESP3 else None)


def _common():
    return {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "broker_connection_retry_on_startup": True,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "worker_redirect_stdouts_level": "INFO",
    }


def deployment_a(host, port, password=None, result_expires=3600):
    """Broker, results, scheduler and notifications on one server (DB 0),
    permission cache on DB 1."""
    broker = redis_url(host, port, 0, password)
    conf = _common()
    conf.update({
        "broker_url": broker,
        "result_backend": _backend_url(host, port, 0, password),
        "broker_transport_options": {
            "visibility_timeout": 3600,
            "socket_keepalive": True,
            "socket_connect_timeout": 30,
            "retry_on_timeout": True,
        },
        "result_expires": result_expires,
        "beat_scheduler": "redbeat.RedBeatScheduler",
        "redbeat_redis_url": broker,
        "redbeat_key_prefix": REDBEAT_PREFIX,
        "redbeat_lock_timeout": 25,
        "beat_max_loop_interval": 5,
    })
    # RedBeat >= 2.4.2 no longer inherits broker_transport_options: give its
    # client the same socket settings explicitly (and RESP3 on that stack).
    conf["redbeat_redis_options"] = {
        "socket_keepalive": True,
        "socket_connect_timeout": 30,
        "retry_on_timeout": True,
    }
    if RESP3:
        conf["redbeat_redis_options"]["protocol"] = 3
    env = {
        "REDIS_URL": redis_url(host, port, 0, password),              # notifications
        "PERMISSION_CACHE_URL": redis_url(host, port, 1, password),   # SETEX 300
        "E2E_SIDE_URL": redis_url(host, port, SIDE_DB, password),
    }
    return Deployment("A", conf, env, host, port, password, 0)


def deployment_b(host, port, password, result_expires=3600):
    """Cache + notifications on DB 0, Celery broker and results on DB 1,
    requirepass on and in every URL; one worker, concurrency 1, queues
    `celery` and `media`."""
    assert password, "deployment B always runs with requirepass"
    conf = _common()
    conf.update({
        "broker_url": redis_url(host, port, 1, password),
        "result_backend": _backend_url(host, port, 1, password),
        "result_expires": result_expires,
        "task_default_queue": "celery",
        "task_routes": {"celery_app.tasks.media_*": {"queue": "media"}},
        "broker_transport_options": {"queue_order_strategy": "priority"},
        "worker_concurrency": 1,
    })
    env = {
        "REDIS_URL": redis_url(host, port, 0, password),
        "CELERY_BROKER_URL": conf["broker_url"],
        "CELERY_RESULT_BACKEND": conf["result_backend"],
        "E2E_SIDE_URL": redis_url(host, port, SIDE_DB, password),
    }
    return Deployment("B", conf, env, host, port, password, 1)
