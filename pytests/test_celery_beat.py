"""celery beat with redbeat.RedBeatScheduler (deployment A: prefix
`nadoo:redbeat:`, lock `nadoo:redbeat::lock`, redbeat_lock_timeout 25,
beat_max_loop_interval 5) as real `celery beat` processes, with a real worker
running what beat sends. Every test runs against Celerity and redis-server
7.0.15.

The lock-stability test watches one beat for 20 s by default; LONG=1 makes
it the full 2 minutes."""
import datetime
import os
import time
import uuid

import pytest
from celery.schedules import crontab, schedule
from redbeat import RedBeatSchedulerEntry

from celery_app.config import REDBEAT_LOCK_KEY, REDBEAT_PREFIX, REDBEAT_SCHEDULE_KEY
from conftest import client_app, start_beat, wait_until

STABILITY_SECONDS = 120 if os.environ.get("LONG") == "1" else 20
LOCK_MS = 25000


@pytest.fixture
def beat_env(stack_a):
    """A clean RedBeat key space and a client app; every beat started through
    it is stopped (and the lock key removed) at the end."""
    db0 = stack_a.server.client(db=0)

    def wipe():
        for k in db0.scan_iter(match=REDBEAT_PREFIX + "*"):
            db0.delete(k)
    wipe()
    beats = []
    with client_app(stack_a.dep) as app:
        yield app, db0, beats
    for b in beats:
        b.stop()
    wipe()


def launch(stack, beats, tmp_path, name):
    b = start_beat(stack.dep, tmp_path, name)
    beats.append(b)
    return b


def interval_entry(app, name, key, seconds=1):
    return RedBeatSchedulerEntry(name, "celery_app.tasks.mark", schedule(datetime.timedelta(seconds=seconds)),
                                 args=[key, name], app=app)


def crontab_entry_due_now(app, name, key):
    e = RedBeatSchedulerEntry(name, "celery_app.tasks.mark", crontab(), args=[key, name], app=app)
    # Last run two minutes ago: the every-minute crontab is overdue, so beat
    # sends it at once instead of at the next minute boundary.
    e.last_run_at = app.now() - datetime.timedelta(minutes=2)
    return e


def lock_token(db0):
    return db0.get(REDBEAT_LOCK_KEY)


def test_user_entries_survive_beat_restart(stack_a, beat_env, tmp_path):
    app, db0, beats = beat_env
    side = stack_a.side
    ki, kc = f"e2e:beat:i:{uuid.uuid4().hex[:6]}", f"e2e:beat:c:{uuid.uuid4().hex[:6]}"
    ie = interval_entry(app, "user-interval", ki).save()
    ce = crontab_entry_due_now(app, "user-crontab", kc).save()
    assert db0.zscore(REDBEAT_SCHEDULE_KEY, ie.key) is not None
    assert ie.key == "nadoo:redbeat:user-interval"

    b1 = launch(stack_a, beats, tmp_path, "b1")
    wait_until(lambda: lock_token(db0), 30, "beat 1 to take the lock")
    assert 0 < db0.pttl(REDBEAT_LOCK_KEY) <= LOCK_MS
    wait_until(lambda: side.llen(ki) >= 2 and side.llen(kc) >= 1, 30,
               "interval and crontab entries to run")
    b1.stop()
    assert b1.proc.returncode == 0, b1.log()[-3000:]
    assert lock_token(db0) is None  # released on shutdown
    # Both user entries are still stored and scheduled.
    for e in (ie, ce):
        assert db0.hget(e.key, "definition")
        assert db0.zscore(REDBEAT_SCHEDULE_KEY, e.key) is not None
    meta = RedBeatSchedulerEntry.from_key(ie.key, app=app)
    runs_before = meta.total_run_count
    assert runs_before >= 2
    cron_score = db0.zscore(REDBEAT_SCHEDULE_KEY, ce.key)
    # Next run: the next minute boundary (redbeat's score can sit a second
    # before it: due_at = last_run_at + remaining estimate, truncated).
    boundary = round(cron_score / 60) * 60
    assert abs(cron_score - boundary) <= 2 and boundary >= time.time() - 2, cron_score
    ran_i = side.llen(ki)

    launch(stack_a, beats, tmp_path, "b2")
    wait_until(lambda: side.llen(ki) >= ran_i + 2, 30, "interval entry to run after restart")
    wait_until(lambda: RedBeatSchedulerEntry.from_key(ie.key, app=app).total_run_count > runs_before,
               15, "run count to continue from the stored meta")
    assert side.llen(kc) >= 1
    assert db0.hget(ce.key, "definition")


def test_second_beat_waits_then_takes_over(stack_a, beat_env, tmp_path):
    app, db0, beats = beat_env
    side = stack_a.side
    ki = f"e2e:beat:takeover:{uuid.uuid4().hex[:6]}"
    interval_entry(app, "takeover-interval", ki).save()
    b1 = launch(stack_a, beats, tmp_path, "holder")
    token1 = wait_until(lambda: lock_token(db0), 30, "beat 1 to take the lock")
    wait_until(lambda: side.llen(ki) >= 1, 30, "beat 1 to send the entry")

    b2 = launch(stack_a, beats, tmp_path, "waiter")
    wait_until(lambda: "Acquiring lock" in b2.log(), 30, "beat 2 to try the lock")
    # Beat 1 keeps extending; beat 2 waits (does not get or steal the lock).
    extends = b1.log().count("beat: Extending lock")
    wait_until(lambda: b1.log().count("beat: Extending lock") >= extends + 2, 15,
               "beat 1 to extend the lock twice more")
    assert lock_token(db0) == token1
    assert db0.pttl(REDBEAT_LOCK_KEY) > LOCK_MS - 5000
    assert b2.alive() and "Acquired lock" not in b2.log()

    b1.kill()
    killed = time.monotonic()
    token2 = wait_until(lambda: (t := lock_token(db0)) and t != token1 and t, 45,
                        "beat 2 to take over the lock")
    took = time.monotonic() - killed
    assert took <= 25 + 5 + 10
    assert 0 < db0.pttl(REDBEAT_LOCK_KEY) <= LOCK_MS
    wait_until(lambda: "Acquired lock" in b2.log(), 10, "beat 2 to log the lock")
    n = side.llen(ki)
    wait_until(lambda: side.llen(ki) >= n + 2, 20, "beat 2 to send the entry")
    assert lock_token(db0) == token2


def test_lock_is_kept_without_lock_not_owned(stack_a, beat_env, tmp_path):
    """beat_max_loop_interval 5 < redbeat_lock_timeout 25: with nothing due
    for a minute, beat wakes every 5 s and extends the lock; it must never
    lose it (LockNotOwnedError would stop beat)."""
    app, db0, beats = beat_env
    crontab_entry_due_now(app, "quiet-crontab", "e2e:beat:quiet").save()
    b = launch(stack_a, beats, tmp_path, "steady")
    token = wait_until(lambda: lock_token(db0), 30, "beat to take the lock")
    lowest = LOCK_MS
    end = time.monotonic() + STABILITY_SECONDS
    while time.monotonic() < end:
        assert b.alive(), b.log()[-3000:]
        assert lock_token(db0) == token
        pttl = db0.pttl(REDBEAT_LOCK_KEY)
        assert pttl > 0
        lowest = min(lowest, pttl)
        time.sleep(0.25)  # sampling interval of the observation window
    assert lowest > LOCK_MS - 5000 - 3000, lowest  # extended at least every ~5 s
    log = b.log()
    assert "LockNotOwnedError" not in log
    assert log.count("beat: Extending lock") >= STABILITY_SECONDS // 5 - 1
    b.stop()
    assert b.proc.returncode == 0
    assert "LockNotOwnedError" not in b.log()
