"""redis-py pub/sub against Celerity and redis-server, in RESP2 and RESP3:
per-user WebSocket notification fan-out across processes, the Celery
result backend's subscribe/unsubscribe pattern, Kombu's fanout patterns,
and redis-py's health-check PING on a subscribed connection."""
import json
import multiprocessing
import time

import pytest
import redis

PROTOCOLS = [2, 3]
USERS_PER_BACKEND = 1000
ROUNDS = 5  # messages per user
DEADLINE = 15  # seconds for a whole fan-out run, far above what it needs

# The backends and the publisher are separate OS processes (forked: they
# build their own connections after the fork), as a WebSocket gateway and
# the Celery workers that notify its users would be.
_fork = multiprocessing.get_context("fork")


def _backend(port, protocol, first_user, ready, results):
    """A WebSocket backend: one pub/sub connection subscribed to its users'
    channels (one SUBSCRIBE with all of them, as redis-py re-subscribes
    after a reconnect) and to the broadcast pattern; it reports every
    user's sequence of message numbers and the broadcasts, in arrival
    order."""
    try:
        r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, socket_timeout=10)
        p = r.pubsub()
        users = range(first_user, first_user + USERS_PER_BACKEND)
        p.subscribe(*[f"ws:user:{u}" for u in users])
        p.psubscribe("ws:broadcast:*")
        confirmed = 0
        deadline = time.monotonic() + DEADLINE
        while confirmed < USERS_PER_BACKEND + 1:
            m = p.get_message(timeout=1)
            if m is not None and m["type"] in ("subscribe", "psubscribe"):
                confirmed += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"{confirmed} subscriptions confirmed")
        ready.set()
        seqs = {u: [] for u in users}
        broadcasts = []
        expected = USERS_PER_BACKEND * ROUNDS + ROUNDS
        received = 0
        while received < expected:
            m = p.get_message(timeout=1)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{received} of {expected} messages received")
            if m is None:
                continue
            if m["type"] == "message":
                body = json.loads(m["data"])
                assert m["channel"] == f"ws:user:{body['user']}".encode()
                seqs[body["user"]].append(body["seq"])
            elif m["type"] == "pmessage":
                assert m["pattern"] == b"ws:broadcast:*"
                broadcasts.append(int(m["data"]))
            else:
                raise AssertionError(f"unexpected frame {m!r}")
            received += 1
        # Nothing more may arrive: one frame too many is a bug too.
        extra = p.get_message(timeout=0.2)
        results.put(("ok", first_user, seqs, broadcasts, extra))
        p.close()
    except BaseException as e:  # report everything to the parent
        results.put(("error", first_user, repr(e), None, None))


def _publisher(port, protocol, results):
    """Notifies every user of both backends ROUNDS times, in batches
    pipelined without MULTI, and broadcasts once per round; reports the
    receiver counts PUBLISH answered."""
    try:
        r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, socket_timeout=10)
        counts = []
        for seq in range(ROUNDS):
            pipe = r.pipeline(transaction=False)
            for u in range(2 * USERS_PER_BACKEND):
                pipe.publish(f"ws:user:{u}", json.dumps({"user": u, "seq": seq}))
            pipe.publish("ws:broadcast:all", str(seq))
            counts.extend(pipe.execute())
        results.put(("ok", "publisher", counts, None, None))
    except BaseException as e:
        results.put(("error", "publisher", repr(e), None, None))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_per_user_fanout_across_processes(server, protocol):
    results = _fork.Queue()
    readies = [_fork.Event(), _fork.Event()]
    backends = [
        _fork.Process(target=_backend, args=(server.port, protocol, i * USERS_PER_BACKEND, readies[i], results))
        for i in range(2)
    ]
    for b in backends:
        b.start()
    try:
        for ev in readies:
            assert ev.wait(DEADLINE), "a backend did not finish subscribing"
        admin = server.client(protocol=protocol)
        assert admin.pubsub_numpat() == 1
        assert dict(admin.pubsub_numsub("ws:user:0", "ws:user:1999", "ws:user:2000")) == {
            b"ws:user:0": 1, b"ws:user:1999": 1, b"ws:user:2000": 0}
        assert admin.info("stats")["pubsub_channels"] == 2 * USERS_PER_BACKEND
        publisher = _fork.Process(target=_publisher, args=(server.port, protocol, results))
        publisher.start()
        got = {}
        for _ in range(3):
            status, who, a, b, c = results.get(timeout=DEADLINE)
            assert status == "ok", f"{who}: {a}"
            got[who] = (a, b, c)
        publisher.join(DEADLINE)
    finally:
        for p in backends:
            p.join(DEADLINE)
            if p.is_alive():
                p.kill()
    counts = got["publisher"][0]
    # Each user channel has exactly one subscriber; a broadcast reaches
    # both backends through their pattern.
    per_round = [1] * (2 * USERS_PER_BACKEND) + [2]
    assert counts == per_round * ROUNDS
    for first in (0, USERS_PER_BACKEND):
        seqs, broadcasts, extra = got[first]
        assert extra is None, f"backend {first} got an extra frame {extra!r}"
        assert broadcasts == list(range(ROUNDS))
        assert len(seqs) == USERS_PER_BACKEND
        for user, s in seqs.items():
            assert s == list(range(ROUNDS)), f"user {user}: {s}"
    # The backends closed their connections: the server forgets them.
    deadline = time.monotonic() + DEADLINE
    while admin.info("stats")["pubsub_channels"] != 0:
        assert time.monotonic() < deadline, "channels of closed backends linger"
        time.sleep(0.01)  # polling the server's view of closed sockets


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_result_backend_subscribe_unsubscribe(server, protocol):
    """Celery's ResultConsumer: SUBSCRIBE per task, the READY result
    published, then UNSUBSCRIBE of the key, repeated; and Kombu's fanout
    cancel, an UNSUBSCRIBE of a topic that was PSUBSCRIBEd."""
    r = server.client(protocol=protocol)
    p = r.pubsub()
    p.subscribe("celery-task-meta-a", "celery-task-meta-b")
    p.psubscribe("/0.celeryev/worker.*")
    confirmations = [p.get_message(timeout=5) for _ in range(3)]
    assert [(m["type"], m["channel"], m["data"]) for m in confirmations] == [
        ("subscribe", b"celery-task-meta-a", 1), ("subscribe", b"celery-task-meta-b", 2),
        ("psubscribe", b"/0.celeryev/worker.*", 3)]
    p.ignore_subscribe_messages = True  # as Celery's ResultConsumer
    assert r.publish("celery-task-meta-b", '{"status": "SUCCESS"}') == 1
    assert r.publish("/0.celeryev/worker.heartbeat", "hb") == 1
    assert r.publish("/0.celeryev/task.multi", "ignored") == 0
    msgs = []
    while len(msgs) < 2:
        m = p.get_message(timeout=5)
        assert m is not None, "message not delivered"
        msgs.append(m)
    assert msgs[0]["type"] == "message" and msgs[0]["data"] == b'{"status": "SUCCESS"}'
    assert msgs[1]["type"] == "pmessage" and msgs[1]["channel"] == b"/0.celeryev/worker.heartbeat"
    for _ in range(3):
        p.unsubscribe("celery-task-meta-b")
    p.unsubscribe("/0.celeryev/worker.*")  # Kombu's cancel: the pattern stays
    p.ping("still-alive")
    # Four confirmations (each read as None: ignored), then the PING's
    # answer, and nothing else.
    frames = [p.get_message(timeout=5) for _ in range(5)]
    assert frames[:4] == [None] * 4
    assert frames[4]["type"] == "pong" and frames[4]["data"] == b"still-alive"
    assert p.channels == {b"celery-task-meta-a": None}
    assert p.patterns == {b"/0.celeryev/worker.*": None}
    assert r.pubsub_numsub("celery-task-meta-a", "celery-task-meta-b") == [
        (b"celery-task-meta-a", 1), (b"celery-task-meta-b", 0)]
    assert r.publish("/0.celeryev/worker.heartbeat", "hb2") == 1
    assert p.get_message(timeout=5)["data"] == b"hb2"
    p.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_health_check_ping_while_subscribed(server, protocol):
    """redis-py's health check: PING redis-py-health-check on the
    subscribed connection, whose answer (["pong", arg] in RESP2, the bulk
    arg in RESP3) it recognises and swallows; anything else would raise
    or surface as a message."""
    r = redis.Redis(host="127.0.0.1", port=server.port, protocol=protocol, socket_timeout=10,
                    health_check_interval=0.001)
    p = r.pubsub()
    p.subscribe("ws:user:1")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    for i in range(20):
        time.sleep(0.002)  # let the health-check interval pass
        assert p.get_message(timeout=0.01) is None
        assert p.health_check_response_counter <= 1
    assert r.publish("ws:user:1", "after health checks") == 1
    got = None
    deadline = time.monotonic() + 5
    while got is None and time.monotonic() < deadline:
        got = p.get_message(timeout=0.5)
    assert got is not None and got["data"] == b"after health checks"
    p.close()
