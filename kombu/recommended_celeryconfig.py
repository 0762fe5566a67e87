"""Celery settings recommended with a Celerity broker that runs with the
visibility lease on. Use it as a config module
(app.config_from_object("recommended_celeryconfig")) or copy what you need.

Server side (redis.conf or command line):

    kombu-visibility-lease yes   # keep held messages' unacked_index score fresh
    kombu-lease-max 21600        # 6 h (the default): longest one message is held
                                 # by a worker that is alive but hung
    appendonly yes               # queued and unacked messages survive a restart
    maxmemory-policy noeviction  # the default: never evict bindings or messages

What changes with the lease: without it, Kombu re-queues any message held
unacked for visibility_timeout, whether or not its worker is alive, so
visibility_timeout has to exceed the longest ETA/countdown and (with
acks_late) the longest task, or tasks run twice (Celery's "Caveats ->
Visibility timeout"; kombu#337). With it, a message held by a connected
worker is never re-queued, so visibility_timeout only sets how soon the
messages of a worker that died (or lost its connection) come back. Pick it
for that: minutes, not the longest ETA. pytests/test_kombu_introspection.py
runs real workers with these settings.
"""

broker_url = "redis://127.0.0.1:6379/0"
result_backend = "redis://127.0.0.1:6379/0"

# Ack when the task has run, not when it starts: a worker killed mid-task
# gives the message back (after visibility_timeout) instead of losing it.
task_acks_late = True
# With acks_late, a prefork child killed (OOM killer, SIGKILL) also gives
# the message back rather than failing the task with WorkerLostError.
task_reject_on_worker_lost = True
# One message reserved per process beyond the running one: fewer messages
# stranded in a worker that dies, and priorities closer to exact.
worker_prefetch_multiplier = 1

broker_transport_options = {
    # Delay before a dead worker's messages are re-queued. The lease covers
    # live workers whatever their ETAs and run times; this only has to
    # cover a worker whose connection to the server broke and was replaced
    # (the lease ends with the old connection) and is comfortably above the
    # lease's one-second refresh.
    "visibility_timeout": 600,
    # kombu >= 5.7: look for expired deliveries every 30 s (the released
    # default is about every 100 s).
    "unacked_restore_interval": 30,
    "unacked_restore_throttle": 1,
    "socket_keepalive": True,
    "socket_connect_timeout": 30,
    "retry_on_timeout": True,
}

# Result keys expire after a day; keep a TTL on them (celery#7801).
result_expires = 86400
broker_connection_retry_on_startup = True
