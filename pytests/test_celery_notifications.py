"""WebSocket-style notifications: two backend processes (real redis-py
subscribers in their own processes) share one server; a message published by
either reaches the subscribers of both. Deployment A's REDIS_URL (DB 0, no
password) and deployment B's (DB 0, requirepass). Pub/sub channels are global
across DBs, as in Redis."""
import pytest

from celery_app.config import redis_url
from conftest import PASSWORD, KINDS, WsBackend, start_server


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["nopass", "requirepass"])
@pytest.mark.parametrize("kind", KINDS)
def test_websocket_fanout_across_backends(kind, password, tmp_path):
    srv = start_server(kind, tmp_path, password=password)
    backends = []
    try:
        url = redis_url("127.0.0.1", srv.port, 0, password)
        b1 = WsBackend(url, ["ws:broadcast", "ws:room:1"], tmp_path, "b1")
        backends.append(b1)
        b2 = WsBackend(url, ["ws:broadcast"], tmp_path, "b2")
        backends.append(b2)
        b1.expect("READY")
        b2.expect("READY")

        assert b1.publish("ws:broadcast", "hello-from-1") == 2
        assert b1.expect("MSG ws:broadcast") == "MSG ws:broadcast hello-from-1"
        assert b2.expect("MSG ws:broadcast") == "MSG ws:broadcast hello-from-1"

        assert b2.publish("ws:broadcast", "hello-from-2") == 2
        assert b1.expect("MSG ws:broadcast") == "MSG ws:broadcast hello-from-2"
        assert b2.expect("MSG ws:broadcast") == "MSG ws:broadcast hello-from-2"

        # A room only b1 joined: exactly one receiver, b2 sees nothing (its
        # next message is the following broadcast).
        assert b2.publish("ws:room:1", "room-msg") == 1
        assert b1.expect("MSG ws:room:1") == "MSG ws:room:1 room-msg"
        assert b2.publish("ws:broadcast", "after-room") == 2
        assert b2.expect("MSG") == "MSG ws:broadcast after-room"
        assert b1.expect("MSG ws:broadcast") == "MSG ws:broadcast after-room"

        # Channels are global: a publisher selected on DB 5 reaches them too.
        other_db = srv.client(db=5)
        assert other_db.publish("ws:broadcast", "from-db5") == 2
        assert b1.expect("MSG ws:broadcast") == "MSG ws:broadcast from-db5"
        assert b2.expect("MSG ws:broadcast") == "MSG ws:broadcast from-db5"
    finally:
        for b in backends:
            b.stop()
        srv.stop()
