"""Remote control (pidbox fan-out over PSUBSCRIBE/PUBLISH, replies through a
direct-exchange reply queue) and events (`-E`, fan-out `celeryev`) with real
`celery inspect` / `celery control` commands and an event receiver.
Deployment A; every test runs against Celerity and redis-server 7.0.15."""
import subprocess
import threading

from celery_app import tasks
from conftest import celery_cmd, celery_env, start_worker, wait_until

TIMEOUT = 30


def cli(stack, *args, timeout=60):
    return subprocess.run(celery_cmd(*args), env=celery_env(stack.dep), capture_output=True,
                          text=True, timeout=timeout, cwd=stack.worker.dir)


def test_inspect_ping_cli(stack_a):
    r = cli(stack_a, "inspect", "ping", "-d", stack_a.worker.name, "--timeout", "5")
    assert r.returncode == 0, r.stdout + r.stderr
    assert stack_a.worker.name in r.stdout and "pong" in r.stdout


def test_control_cli(stack_a):
    r = cli(stack_a, "control", "rate_limit", "celery_app.tasks.add", "600/m",
            "-d", stack_a.worker.name, "--timeout", "5")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "new rate limit set successfully" in r.stdout


def test_broadcast_reaches_every_worker(stack_a, app_a, tmp_path):
    """pidbox is a fan-out exchange: one PUBLISH, every worker replies."""
    w2 = start_worker(stack_a.dep, tmp_path, "a2", pool="solo", concurrency=1)
    try:
        names = {stack_a.worker.name, w2.name}
        db0 = stack_a.server.client(db=0)
        members = db0.smembers("_kombu.binding.celery.pidbox")
        assert {m.split(b"\x06\x16")[-1].decode() for m in members} >= \
            {f"{n}.celery.pidbox" for n in names}

        # worker_ready can fire before the new worker's pidbox consumer has
        # sent its PSUBSCRIBE (Celery sets it up in the event loop), and a
        # fan-out message published before that is not for it: ping until
        # one PUBLISH reaches both (missed once in CI against Celerity; the
        # race is the worker's, so both servers get the same wait).
        replies = []

        def both_reply():
            nonlocal replies
            replies = app_a.control.ping(timeout=2, limit=2)
            return {h for r in replies for h in r} == names
        wait_until(both_reply, TIMEOUT, "one ping answered by both workers")
        assert all(v == {"ok": "pong"} for r in replies for v in r.values())

        replies = app_a.control.rate_limit("celery_app.tasks.add", "1000/m", reply=True,
                                           timeout=5, limit=2)
        assert {h for r in replies for h in r} == names

        active = app_a.control.inspect(timeout=5, limit=2).active_queues()
        assert set(active) == names
        assert all("celery" in [q["name"] for q in qs] for qs in active.values())
        # Both workers still consume: a group spreads over them and completes.
        from celery import group
        assert group(tasks.add.s(i, 0) for i in range(8))().get(timeout=TIMEOUT) == list(range(8))
    finally:
        w2.stop()


def test_event_receiver(stack_a, app_a):
    """An event receiver (what Flower and `celery events` run) sees worker
    heartbeats and the task-received/started/succeeded events of a task."""
    seen = []
    lock = threading.Lock()
    state = {"task_id": None}

    def on_event(event):
        with lock:
            seen.append(event)
        tid = state["task_id"]
        if tid and event.get("uuid") == tid and event["type"] == "task-succeeded":
            recv.should_stop = True

    errors = []
    with app_a.connection_for_read() as conn:
        recv = app_a.events.Receiver(conn, handlers={"*": on_event})

        def run():
            try:
                recv.capture(limit=None, timeout=None, wakeup=True)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        try:
            def heartbeat():
                with lock:
                    return any(e["type"] == "worker-heartbeat" for e in seen)
            wait_until(heartbeat, 15, "a worker-heartbeat event")
            r = tasks.add.delay(3, 4)
            state["task_id"] = r.id
            assert r.get(timeout=TIMEOUT) == 7

            def task_events():
                with lock:
                    return {e["type"] for e in seen if e.get("uuid") == r.id}
            wait_until(lambda: {"task-received", "task-started", "task-succeeded"} <= task_events(),
                       15, "task events")
            with lock:
                ok = [e for e in seen if e.get("uuid") == r.id and e["type"] == "task-succeeded"]
            assert ok[0]["result"] == "7"
            assert ok[0]["hostname"] == stack_a.worker.name
        finally:
            recv.should_stop = True
            t.join(10)
    assert not t.is_alive()
    assert not errors, errors
