"""redis-py's Lock against Celerity and redis-server, in RESP2 and RESP3.

Kombu's unacked-restore mutex and celery-redbeat's scheduler lock are this
Lock: SET NX PX to acquire, then Lua scripts (release, extend, reacquire,
and RedBeat's extend-to) sent with EVALSHA, falling back to SCRIPT LOAD on
NOSCRIPT. Every test runs against both servers (the `server` fixture), so
the expectations are proved on the oracle too.
"""
import time

import pytest
import redis
from redis.exceptions import LockError, LockNotOwnedError

PROTOCOLS = [2, 3]


def wait_gone(r, key, limit=5.0):
    """Poll until key has expired (bounded), instead of sleeping a guess."""
    deadline = time.monotonic() + limit
    while r.pttl(key) != -2:
        assert time.monotonic() < deadline, f"{key} did not expire within {limit}s"
        time.sleep(0.01)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_acquire_extend_reacquire_release(server, protocol):
    r = server.client(protocol=protocol)
    other = server.client(protocol=protocol)
    lock = r.lock("unacked_mutex", timeout=10)
    assert lock.acquire(blocking=False) is True
    assert lock.locked() is True
    assert lock.owned() is True
    assert 9000 < r.pttl("unacked_mutex") <= 10000

    # Another client cannot take it, with or without waiting.
    thief = other.lock("unacked_mutex", timeout=10, sleep=0.05)
    assert thief.acquire(blocking=False) is False
    assert thief.acquire(blocking=True, blocking_timeout=0.2) is False
    assert thief.owned() is False

    # extend adds to the remaining TTL; replace_ttl sets it.
    assert lock.extend(5) is True
    assert 14000 < r.pttl("unacked_mutex") <= 15000
    assert lock.extend(30, replace_ttl=True) is True
    assert 29000 < r.pttl("unacked_mutex") <= 30000
    # reacquire resets the TTL to the lock's timeout.
    assert lock.reacquire() is True
    assert 9000 < r.pttl("unacked_mutex") <= 10000

    # A client holding the wrong token is refused by the scripts
    # themselves (they compare the token server-side).
    # (release forgets the token before asking, so it goes last.)
    thief.local.token = b"forged-token"
    with pytest.raises(LockNotOwnedError):
        thief.extend(5)
    with pytest.raises(LockNotOwnedError):
        thief.reacquire()
    with pytest.raises(LockNotOwnedError):
        thief.release()
    assert lock.owned() is True

    lock.release()
    assert r.exists("unacked_mutex") == 0
    assert lock.locked() is False
    with pytest.raises(LockError):
        lock.release()  # no token any more: refused client-side
    # Now the other client gets it.
    fresh = other.lock("unacked_mutex", timeout=10)
    assert fresh.acquire(blocking=False) is True
    fresh.release()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_release_after_expiry_raises_not_owned(server, protocol):
    r = server.client(protocol=protocol)
    lock = r.lock("beat:lock", timeout=0.2)
    assert lock.acquire(blocking=False) is True
    wait_gone(r, "beat:lock")
    token = lock.local.token
    with pytest.raises(LockNotOwnedError):
        lock.extend(1)
    with pytest.raises(LockNotOwnedError):
        lock.reacquire()
    with pytest.raises(LockNotOwnedError):
        lock.release()
    # Someone else took it meanwhile: the old token does not own it.
    assert server.client(protocol=protocol).set("beat:lock", "someone-else", nx=True, px=10000) is True
    lock.local.token = token
    with pytest.raises(LockNotOwnedError):
        lock.extend(1)
    with pytest.raises(LockNotOwnedError):
        lock.release()
    assert r.get("beat:lock") == b"someone-else"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_scripts_reload_after_script_flush(server, protocol):
    """The client computes each script's SHA1 and sends EVALSHA; after the
    cache is emptied (a server restart does the same) the NOSCRIPT reply
    makes it SCRIPT LOAD and retry, transparently."""
    r = server.client(protocol=protocol)
    lock = r.lock("mutex", timeout=10)
    assert lock.acquire(blocking=False) is True
    assert lock.extend(1) is True
    shas = [redis.lock.Lock.lua_extend.sha]
    assert r.script_exists(*shas) == [True]
    r.script_flush()
    assert r.script_exists(*shas) == [False]
    assert lock.extend(1) is True
    assert r.script_exists(*shas) == [True]
    lock.release()
    assert r.exists("mutex") == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_redbeat_extend_to(server, protocol):
    """RedBeat swaps the lock's extend script for its own, which sets the
    TTL to exactly the given time on every beat tick."""
    from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT

    r = server.client(protocol=protocol)
    lock = r.lock("redbeat::lock", timeout=25, sleep=0.05)
    lock.lua_extend = r.register_script(LUA_EXTEND_TO_SCRIPT)
    assert lock.acquire(blocking=False) is True
    assert lock.extend(40) is True
    assert 39000 < r.pttl("redbeat::lock") <= 40000
    assert lock.extend(5) is True  # sets, does not add
    assert 4000 < r.pttl("redbeat::lock") <= 5000
    # A lock without a TTL is not extended (PTTL -1 < 0).
    r.persist("redbeat::lock")
    with pytest.raises(LockNotOwnedError):
        lock.extend(40)
    assert r.pttl("redbeat::lock") == -1
    lock.release()
    assert r.exists("redbeat::lock") == 0
