"""redis-py against Celerity and redis-server, in RESP2 and RESP3: the
handshake every Celery component performs and the string/key commands the
result backend and the permission cache use."""
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

PROTOCOLS = [2, 3]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_handshake_and_basic_commands(server, protocol):
    r = server.client(protocol=protocol, client_name="celery-worker-1")
    assert r.ping() is True
    assert r.client_getname() in (b"celery-worker-1", "celery-worker-1")
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "w", nx=True) is None
    assert r.set("lock", "token", nx=True, px=25000) is True
    assert 0 < r.pttl("lock") <= 25000
    assert r.incrby("counter", 5) == 5
    assert r.incrbyfloat("f", "1.5") == 1.5
    assert r.mget("k", "missing", "counter") == [b"v", None, b"5"]
    assert r.exists("k", "missing") == 1
    assert r.delete("k", "missing") == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_permission_cache_in_db1(server, protocol):
    r = server.client(protocol=protocol, db=1)
    r.set("perm:user:42", ex=300, value='{"can_edit": true}')
    assert r.get("perm:user:42") == b'{"can_edit": true}'
    assert 299 <= r.ttl("perm:user:42") <= 300
    # Database isolation: DB 0 does not see DB 1's keys.
    assert server.client(protocol=protocol, db=0).get("perm:user:42") is None
    assert r.dbsize() == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_requirepass_via_url(auth_server, protocol):
    good = redis.Redis.from_url(auth_server.url(db=1), protocol=protocol)
    assert good.ping() is True
    assert good.set("x", "1") is True
    bad = redis.Redis(host="127.0.0.1", port=auth_server.port, password="wrong", protocol=protocol,
                      retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.AuthenticationError):
        bad.ping()
    anon = redis.Redis(host="127.0.0.1", port=auth_server.port, protocol=protocol,
                       retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.AuthenticationError):
        anon.get("x")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_config_get_and_info(server, protocol):
    r = server.client(protocol=protocol)
    cfg = r.config_get("port")
    assert cfg == {"port": str(server.port)}
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["tcp_port"] == server.port
    r.set("a", 1)
    assert r.info("keyspace") == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_scan_iter_and_keys(server, protocol):
    r = server.client(protocol=protocol)
    for i in range(250):
        r.set(f"celery-task-meta-{i}", "x")
    r.set("other", "y")
    found = set(r.scan_iter(match="celery-task-meta-*", count=50))
    assert len(found) == 250
    assert sorted(r.keys("oth*")) == [b"other"]
