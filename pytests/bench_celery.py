"""Real-Celery throughput, Celerity vs redis-server 7.0.15 (`make bench-celery`).

For each server and worker pool: a fresh server, N no-op tasks published by
one producer while no worker runs (publish rate), then one `celery worker`
(-P solo, or prefork with 2 processes) drains them (consume rate, measured
inside the worker between a first and a last marker task). Deployment A's
settings; worker log level WARNING so logging does not dominate. Runs are
interleaved (celerity, redis, celerity, redis...) so drift hits both.

  python bench_celery.py [--tasks 5000] [--rounds 1] [--servers celerity,redis]
                         [--pools solo,prefork2]
"""
import argparse
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

from celery_app import tasks
from celery_app.config import PROTOCOL, deployment_a
from conftest import client_app, start_server, start_worker, wait_until

POOLS = {"solo": ("solo", 1), "prefork2": ("prefork", 2)}


def run_once(kind, pool_name, n, tmp):
    pool, conc = POOLS[pool_name]
    srv = start_server(kind, tmp)
    try:
        dep = deployment_a("127.0.0.1", srv.port)
        side = srv.client(db=2)
        with client_app(dep):
            tasks.stamp.apply_async(("bench:start",), ignore_result=True)
            t0 = time.perf_counter()
            for _ in range(n):
                tasks.noop.apply_async(ignore_result=True)
            publish = time.perf_counter() - t0
            tasks.stamp.apply_async(("bench:done",), ignore_result=True)
        assert srv.client(db=0).llen("celery") == n + 2
        w = start_worker(dep, tmp, f"bench-{pool_name}", pool=pool, concurrency=conc,
                         loglevel="WARNING")
        try:
            wait_until(lambda: side.exists("bench:done"), 600, "the last task")
        finally:
            w.stop()
        consume = float(side.get("bench:done")) - float(side.get("bench:start"))
        return n / publish, n / consume
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--servers", default="celerity,redis")
    ap.add_argument("--pools", default="solo,prefork2")
    args = ap.parse_args()
    servers = args.servers.split(",")
    pools = args.pools.split(",")
    if "redis" in servers and shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-celery-"))
    results = {}
    ok = False
    try:
        for _ in range(args.rounds):
            for pool in pools:
                for kind in servers:
                    run_dir = tmp / f"{kind}-{pool}-{len(results.get((kind, pool), []))}"
                    run_dir.mkdir()
                    print(f"  {kind:8} {pool:8} ...", end="", flush=True)
                    pub, con = run_once(kind, pool, args.tasks, run_dir)
                    print(f" publish {pub:8.0f}/s  consume {con:8.0f}/s", flush=True)
                    results.setdefault((kind, pool), []).append((pub, con))
        ok = True
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs kept in {tmp}", file=sys.stderr)

    def med(kind, pool, i):
        return statistics.median(r[i] for r in results[(kind, pool)])

    print(f"\n{args.tasks} no-op tasks, one worker, RESP{PROTOCOL} clients, "
          f"median of {args.rounds} round(s)\n")
    head = f"| {'pool':9} | {'server':9} | {'publish tasks/s':>15} | {'consume tasks/s':>15} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for pool in pools:
        for kind in servers:
            print(f"| {pool:9} | {kind:9} | {med(kind, pool, 0):15.0f} | {med(kind, pool, 1):15.0f} |")
        if {"celerity", "redis"} <= set(servers):
            print(f"| {pool:9} | {'ratio':9} | {med('celerity', pool, 0) / med('redis', pool, 0):15.2f} "
                  f"| {med('celerity', pool, 1) / med('redis', pool, 1):15.2f} |")


if __name__ == "__main__":
    main()
