"""The seed's backup runbook with real Celery: tasks published to one server
(no worker yet), `redis-cli BGSAVE`, INFO persistence polled until the save
is over, dump.rdb copied into an empty directory of a new server (appendonly
no), and a worker started against that server runs every task. Each
direction between Celerity and redis-server 7.0.15, so a backup taken from
either restores into either. Also redis-py's own calls (bgsave sends
BGSAVE SCHEDULE, lastsave, dump/restore) against both servers."""
import shutil
import subprocess

import pytest

from celery_app import tasks
from celery_app.config import deployment_a
from conftest import (CELERITY, KINDS, _launch, client_app, free_port, start_server, start_worker,
                      wait_until)


def bgsave_with_redis_cli(srv):
    out = subprocess.run(["redis-cli", "-p", str(srv.port), "BGSAVE"],
                         capture_output=True, text=True, check=True).stdout
    assert out == "Background saving started\n"
    c = srv.client()
    wait_until(lambda: c.info("persistence")["rdb_bgsave_in_progress"] == 0, 10,
               "the background save to finish")
    assert c.info("persistence")["rdb_last_bgsave_status"] == "ok"
    c.close()


@pytest.mark.parametrize("target", KINDS)
@pytest.mark.parametrize("source", KINDS)
def test_backup_restores_queued_tasks(source, target, tmp_path):
    (tmp_path / "src").mkdir()
    src = start_server(source, tmp_path / "src")
    try:
        dep = deployment_a("127.0.0.1", src.port)
        with client_app(dep):
            ids = [tasks.add.delay(i, 1000).id for i in range(20)]
        assert src.client().llen("celery") == 20
        bgsave_with_redis_cli(src)
        backup = tmp_path / "backup.rdb"
        shutil.copy(src.dir / "dump.rdb", backup)
    finally:
        src.stop()

    restored = tmp_path / "restored"
    restored.mkdir()
    dst = start_server_with_dump(target, restored, backup)
    try:
        c = dst.client()
        assert c.llen("celery") == 20
        assert c.exists("_kombu.binding.celery")
        dep = deployment_a("127.0.0.1", dst.port)
        w = start_worker(dep, tmp_path, "restored", pool="solo", concurrency=1)
        try:
            with client_app(dep) as app:
                assert [app.AsyncResult(i).get(timeout=30) for i in ids] == [i + 1000 for i in range(20)]
        finally:
            w.stop()
    finally:
        dst.stop()


def start_server_with_dump(kind, parent, dump):
    """start_server's command line, with dump copied in as dump.rdb before
    the start, as an operator drops the file into /data."""
    port = free_port()
    workdir = parent / f"{kind}-{port}"
    workdir.mkdir()
    shutil.copy(dump, workdir / "dump.rdb")
    binary = CELERITY if kind == "celerity" else shutil.which("redis-server")
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
            "--save", "", "--appendonly", "no"]
    return _launch(kind, binary, port, workdir, argv, None)


def test_redis_py_persistence_calls(server):
    r = server.client()
    before = r.lastsave()
    r.rpush("celery", "m1", "m2")
    assert r.bgsave() is True  # BGSAVE SCHEDULE
    wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, 10, "bgsave")
    assert r.lastsave() >= before
    assert r.save() is True
    payload = r.dump("celery")
    assert r.restore("copy", 0, payload) in (True, b"OK")  # redis-py decodes no callback for it
    assert r.lrange("copy", 0, -1) == [b"m1", b"m2"]
    with pytest.raises(Exception, match="BUSYKEY"):
        r.restore("copy", 0, payload)
    assert r.restore("copy", 5000, payload, replace=True) in (True, b"OK")
    assert 0 < r.pttl("copy") <= 5000
    r.close()
