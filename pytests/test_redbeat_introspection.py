"""REDBEAT.SCHEDULE and REDBEAT.LOCK against real `celery beat` processes
running redbeat.RedBeatScheduler (deployment A: prefix `nadoo:redbeat:`),
with short lock timeouts. Celerity-only: the commands are Celerity's.

- the schedule lists beat's entries (a static one from beat_schedule, a
  dynamic interval and a dynamic crontab) with the next runs Celery itself
  computes for them;
- the lock shows beat's token, timeout and extensions;
- the lock watch warns when beat_max_loop_interval >= redbeat_lock_timeout
  (the lock lapses between ticks: sibson/redbeat#230), and not when the
  loop interval is well below the timeout."""
import datetime
import uuid

import pytest
from celery.schedules import crontab, schedule
from redbeat import RedBeatSchedulerEntry

from celery_app.config import REDBEAT_LOCK_KEY, REDBEAT_PREFIX, REDBEAT_SCHEDULE_KEY, deployment_a
from conftest import client_app, start_beat, start_server, wait_until


def plain(v):
    """A reply as plain Python: RESP2 flat [name, value, ...] maps and RESP3
    dicts both become dicts with str keys; bytes become str."""
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def as_map(v):
    v = plain(v)
    if isinstance(v, dict):
        return v
    return {v[i]: v[i + 1] for i in range(0, len(v), 2)}


def schedule_rows(r, prefix=REDBEAT_PREFIX):
    rows = [as_map(x) for x in r.execute_command("REDBEAT.SCHEDULE", "PREFIX", prefix)]
    for row in rows:
        if row["schedule"] is not None:
            row["schedule"] = as_map(row["schedule"])
    return {row["name"]: row for row in rows}


def lock_rows(r, prefix=REDBEAT_PREFIX):
    rows = [as_map(x) for x in r.execute_command("REDBEAT.LOCK", "PREFIX", prefix)]
    for row in rows:
        row["events"] = [as_map(e) for e in row["events"]]
    return rows


def info_redbeat(r):
    return r.info("redbeat")


@pytest.fixture
def server(tmp_path):
    srv = start_server("celerity", tmp_path)
    yield srv
    srv.stop()


def deployment(srv, lock_timeout, loop):
    return deployment_a("127.0.0.1", srv.port).with_conf(
        redbeat_lock_timeout=lock_timeout, beat_max_loop_interval=loop)


def test_schedule_and_lock_show_beats_entries(server, tmp_path):
    dep = deployment(server, 4, 1).with_conf(beat_schedule={
        "static-every-3": {"task": "celery_app.tasks.mark", "schedule": 3.0, "args": ["e2e:static"]}})
    r = server.client()
    with client_app(dep) as app:
        iv = RedBeatSchedulerEntry("dyn-interval", "celery_app.tasks.mark",
                                   schedule(datetime.timedelta(seconds=2)), args=["e2e:iv"], app=app).save()
        cr = RedBeatSchedulerEntry("dyn-crontab", "celery_app.tasks.mark", crontab(minute="*/5"),
                                   args=["e2e:cr"], app=app)
        cr.last_run_at = app.now() - datetime.timedelta(minutes=20)  # overdue: beat runs it at once
        cr.save()
        beat = start_beat(dep, tmp_path, "introspect")
        try:
            def ran():
                return all(RedBeatSchedulerEntry.from_key(REDBEAT_PREFIX + n, app=app).total_run_count >= 1
                           for n in ("dyn-interval", "dyn-crontab", "static-every-3"))
            wait_until(ran, 30, "beat to run every entry once")

            # The lock while beat holds it.
            token = wait_until(lambda: r.get(REDBEAT_LOCK_KEY), 10, "the lock").decode()
            wait_until(lambda: len(lock_rows(r)[0]["events"]) >= 3, 15, "two extensions")
            lock = lock_rows(r)[0]
            assert lock["key"] == REDBEAT_LOCK_KEY
            assert lock["holder"] == token
            assert 0 < lock["ttl_ms"] <= 4000
            assert lock["timeout_ms"] == 4000
            assert lock["events"][0]["type"] in ("acquire", "extend")
            assert all(e["ttl_ms"] == 4000 for e in lock["events"])
            assert lock["warnings"] == 0
        finally:
            beat.stop()
        assert beat.proc.returncode == 0, beat.log()[-3000:]

        # Beat is stopped: nothing moves. Compare every entry with what
        # Celery computes from the same stored definition and meta.
        rows = schedule_rows(r)
        assert set(rows) == {"dyn-interval", "dyn-crontab", "static-every-3"}
        for name, row in rows.items():
            e = RedBeatSchedulerEntry.from_key(REDBEAT_PREFIX + name, app=app)
            assert row["key"] == REDBEAT_PREFIX + name
            assert row["task"] == "celery_app.tasks.mark"
            assert row["enabled"] in (1, True)
            assert row["total_run_count"] == e.total_run_count >= 1
            assert row["last_run_at_ms"] == int(e.last_run_at.timestamp() * 1000)
            assert row["due_at_ms"] == int(r.zscore(REDBEAT_SCHEDULE_KEY, e.key)) * 1000
            celery_next = app.now() + e.schedule.remaining_estimate(e.last_run_at)
            assert abs(row["next_run_at_ms"] - celery_next.timestamp() * 1000) < 1000, (name, row)
            assert "missing_hash" not in row["flags"] and "not_scheduled" not in row["flags"], row
            assert row["static"] in ((1, True) if name == "static-every-3" else (0, False))
        assert rows["dyn-interval"]["schedule"]["type"] == "interval"
        assert float(rows["dyn-interval"]["schedule"]["every"]) == 2.0
        assert rows["static-every-3"]["schedule"]["type"] == "interval"
        c = rows["dyn-crontab"]["schedule"]
        assert (c["type"], c["minute"], c["hour"], c["day_of_week"], c["timezone"]) == \
            ("crontab", "*/5", "*", "*", "UTC")
        assert rows["dyn-crontab"]["next_run_at_ms"] % 300_000 == 0

        # An inconsistency: the hash of a scheduled entry disappears.
        r.delete(iv.key)
        row = schedule_rows(r)["dyn-interval"]
        assert row["flags"] == ["missing_hash"] and row["consistent"] in (0, False)


def test_lock_warning_when_loop_interval_reaches_lock_timeout(server, tmp_path):
    """beat_max_loop_interval 3 >= redbeat_lock_timeout 2: beat extends
    the lock, sleeps 3 s, and the lock lapses after 2 s."""
    dep = deployment(server, 2, 3)
    r = server.client()
    with client_app(dep) as app:
        # An entry that is not due for a long time: beat sleeps the full
        # loop interval.
        e = RedBeatSchedulerEntry("yearly", "celery_app.tasks.mark", crontab(minute=0, hour=0, day_of_month=1,
                                  month_of_year=1), args=["e2e:yearly"], app=app)
        e.last_run_at = app.now()
        e.save()
    beat = start_beat(dep, tmp_path, "trap")
    try:
        wait_until(lambda: info_redbeat(r).get("redbeat_lock_expirations", 0) >= 1, 20,
                   "the lock watch to notice the lapsed lock")
        info = info_redbeat(r)
        assert info["redbeat_last_warning"] == "expired"
        assert info["redbeat_last_warning_lock"] == REDBEAT_LOCK_KEY
        assert info["redbeat_last_warning_lock_timeout_ms"] == 2000
        assert info["redbeat_last_warning_extension_interval_ms"] >= 2000
        lock = lock_rows(r)[0]
        assert lock["warnings"] >= 1 and lock["last_warning"] == "expired"
        wait_until(lambda: "RedBeat lock expired" in server.log_path.read_text(), 5, "the server's warning")
        line = [ln for ln in server.log_path.read_text().splitlines() if "RedBeat lock expired" in ln][0]
        assert "lock=" + REDBEAT_LOCK_KEY in line and "lock_timeout_ms=2000" in line
        # What the trap does to beat itself.
        wait_until(lambda: "LockNotOwnedError" in beat.log(), 15, "beat to lose its lock")
    finally:
        beat.stop()


def test_no_lock_warning_when_loop_interval_is_well_below(server, tmp_path):
    dep = deployment(server, 4, 1)
    r = server.client()
    with client_app(dep) as app:
        e = RedBeatSchedulerEntry("yearly", "celery_app.tasks.mark", crontab(minute=0, hour=0, day_of_month=1,
                                  month_of_year=1), args=["e2e:yearly"], app=app)
        e.last_run_at = app.now()
        e.save()
    beat = start_beat(dep, tmp_path, "steady-" + uuid.uuid4().hex[:4])
    try:
        wait_until(lambda: len(lock_rows(r)[0]["events"]) >= 5, 20, "four extensions")
        lock = lock_rows(r)[0]
        extends = [ev for ev in lock["events"] if ev["type"] == "extend"]
        assert all(ev["ttl_left_ms"] > 4000 // 5 for ev in extends), extends
        assert 500 <= lock["extension_interval_ms"] <= 2000
        assert lock["warnings"] == 0
        assert info_redbeat(r)["redbeat_lock_warnings"] == 0
        assert beat.alive()
    finally:
        beat.stop()
    assert "RedBeat lock" not in server.log_path.read_text()
