"""A stand-in for one WebSocket backend process: it subscribes to channels
on REDIS_URL (a redis-py PubSub, RESP2 or RESP3 per the installed redis-py)
and relays. Protocol on stdio, one line each:

  stdout  READY                      all subscriptions confirmed
  stdout  MSG <channel> <data>       a message arrived
  stdin   PUB <channel> <data>       publish; answers  PUBLISHED <receivers>
  stdin   QUIT

Usage: python -m celery_app.ws_backend CHANNEL [CHANNEL...]
"""
import os
import sys
import threading

import redis


def main(channels):
    r = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=30)
    ps = r.pubsub()
    ps.subscribe(*channels)
    confirmed = 0
    while confirmed < len(channels):
        m = ps.get_message(timeout=10)
        if m is None:
            print("ERROR subscribe not confirmed", flush=True)
            return 1
        if m["type"] == "subscribe":
            confirmed += 1
    print("READY", flush=True)
    lock = threading.Lock()

    def stdin_loop():
        for line in sys.stdin:
            parts = line.rstrip("\n").split(" ", 2)
            if parts[0] == "PUB":
                n = r.publish(parts[1], parts[2])
                with lock:
                    print(f"PUBLISHED {n}", flush=True)
            elif parts[0] == "QUIT":
                break
        os._exit(0)

    threading.Thread(target=stdin_loop, daemon=True).start()
    while True:
        m = ps.get_message(timeout=1.0)
        if m and m["type"] == "message":
            ch = m["channel"].decode()
            with lock:
                print(f"MSG {ch} {m['data'].decode()}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
