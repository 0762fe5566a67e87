"""The metrics port with a real Celery stack: a worker holds one task
(unacked), a producer queues tasks at several priorities, then /metrics and
the status page (headless Chromium) must show what the queue lists hold and
what KOMBU.QUEUES answers. Celerity only: redis-server has no metrics port.

The queue checks need the kombu extension (KOMBU.QUEUES); on a build without
it the page must say so instead, and only the server-level numbers are
compared."""
import bisect
import html
import os
import re
import shutil
import subprocess
import urllib.request
import uuid

import pytest
import redis

from celery_app import tasks
from celery_app.config import SIDE_DB, deployment_a
from conftest import client_app, free_port, start_server, start_worker, wait_until

PRIORITIES = [9, 0, 5, 3, 7, 1, 8, 2, 6, 4, 0, 9]
STEPS = [0, 3, 6, 9]
SEP = "\x06\x16"


def chromium_dom(url, tmp_path):
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("chromium is not installed and REQUIRE_REDIS=1")
        pytest.skip("chromium is not installed")
    out = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", url],
        capture_output=True, timeout=60, check=True)
    return out.stdout.decode()


def metrics(url):
    """celerity_* samples as {(name, frozenset(labels)): value}."""
    body = urllib.request.urlopen(url, timeout=10).read().decode()
    out = {}
    for line in body.splitlines():
        m = re.match(r'^(celerity_\w+)(?:\{(.*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def as_map(v):
    """A map reply as a dict with str keys: RESP3 gives dicts, RESP2 flat
    lists of names and values."""
    items = v.items() if isinstance(v, dict) else zip(v[::2], v[1::2])
    return {k.decode() if isinstance(k, bytes) else k: x for k, x in items}


def sample(ms, name, **labels):
    for (n, ls), v in ms.items():
        if n == name and set(labels.items()) <= ls:
            return v
    return None


def test_metrics_and_page_with_real_celery(tmp_path):
    mport = free_port()
    srv = start_server("celerity", tmp_path, "--metrics-port", str(mport))
    base = f"http://127.0.0.1:{mport}"
    dep = deployment_a("127.0.0.1", srv.port).with_conf(worker_prefetch_multiplier=1)
    gate = f"e2e:gate:{uuid.uuid4().hex[:8]}"
    w = start_worker(dep, tmp_path, "metrics", pool="solo", concurrency=1)
    db0 = srv.client(db=0)
    try:
        with client_app(dep):
            held = tasks.wait_for.delay(gate)
            wait_until(lambda: db0.hlen("unacked") == 1, 30, "the worker to hold its task")
            for p in PRIORITIES:
                tasks.noop.apply_async(priority=p)
        lists = {step: db0.llen("celery" if step == 0 else f"celery{SEP}{step}") for step in STEPS}
        want = {s: sum(1 for p in PRIORITIES if STEPS[bisect.bisect(STEPS, p) - 1] == s) for s in STEPS}
        assert lists == want, "what Kombu wrote"

        ms = metrics(base + "/metrics")
        assert sample(ms, "celerity_up") == 1
        dom = chromium_dom(base + "/", tmp_path)
        try:
            queues = db0.execute_command("KOMBU.QUEUES")
            has_kombu = True
        except redis.ResponseError as e:
            assert "unknown command" in str(e)
            has_kombu = False
        if has_kombu:
            q = next(q for q in map(as_map, queues) if q["name"] in (b"celery", "celery"))
            assert {int(k): v for k, v in as_map(q["priorities"]).items()} == lists, "KOMBU.QUEUES"
            for step, n in lists.items():
                assert sample(ms, "celerity_queue_messages", db="0", queue="celery", priority=str(step)) == n
            assert sample(ms, "celerity_queue_unacked", db="0", queue="celery") == 1
            assert sample(ms, "celerity_queue_oldest_unacked_age_seconds", db="0", queue="celery") >= 0
            row = re.search(r'<tr data-db="0" data-prefix="" data-queue="celery">(.*?)</tr>', dom)
            assert row, "the celery queue on the page"
            cells = dict(re.findall(r'data-col="([^"]+)"[^>]*>([^<]*)<', row.group(1)))
            assert cells["messages"] == str(sum(lists.values()))
            assert cells["unacked"] == "1"
            for step, n in lists.items():
                assert f'data-priority="{step}">p{step}: <b>{n}</b>' in row.group(1)
        else:
            assert "KOMBU.QUEUES is not available on this server" in dom
        channels = db0.pubsub_channels()
        count = re.search(r'id="channels-count">(\d+)<', dom).group(1)
        assert int(count) == len(channels)
        for ch in channels:
            assert f"<span>{html.escape(ch.decode(), quote=False)}</span>" in dom, ch
    finally:
        srv.client(db=SIDE_DB).rpush(gate, 1)
        w.stop()
        srv.stop()
    assert held.id
