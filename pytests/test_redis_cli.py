"""redis-cli 7.0.15 against Celerity, as operators and healthchecks use it:
non-interactive commands, -a with requirepass, -n, --scan, and the
interactive mode whose start-up sends COMMAND DOCS and asserts on its shape
(it crashes on a malformed reply). Every test also runs against the
redis-server oracle to prove the expectation."""
import shutil
import subprocess

import pexpect
import pytest

REDIS_CLI = shutil.which("redis-cli")
pytestmark = pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli is not installed")


def cli(server, *args, input=None):
    return subprocess.run([REDIS_CLI, "-p", str(server.port), *args], input=input,
                          capture_output=True, text=True, timeout=30)


def test_ping(server):
    r = cli(server, "ping")
    assert r.returncode == 0
    assert r.stdout == "PONG\n"


def test_password_and_noauth(auth_server):
    ok = cli(auth_server, "-a", "s3cret", "ping")
    assert ok.stdout == "PONG\n"
    assert "Using a password" in ok.stderr
    noauth = cli(auth_server, "ping")
    assert noauth.returncode == 0  # redis-cli exits 0 on any reply
    assert noauth.stdout.strip() == "NOAUTH Authentication required."
    wrong = cli(auth_server, "-a", "nope", "--no-auth-warning", "ping")
    assert "AUTH failed: WRONGPASS" in wrong.stdout + wrong.stderr


def test_select_db_with_n(server):
    assert cli(server, "-n", "1", "set", "perm:7", "x").stdout == "OK\n"
    assert cli(server, "-n", "1", "get", "perm:7").stdout == "x\n"
    assert cli(server, "get", "perm:7").stdout == "\n"
    assert cli(server, "-n", "1", "dbsize").stdout == "1\n"


def test_scan_mode(server):
    for i in range(120):
        cli(server, "set", f"celery-task-meta-{i}", "v")
    cli(server, "set", "unrelated", "v")
    r = cli(server, "--scan", "--pattern", "celery-task-meta-*")
    keys = r.stdout.split()
    assert len(keys) == 120
    assert len(set(keys)) == 120


def test_pipe_mode(server):
    data = "".join(f"SET k{i} {i}\r\n" for i in range(100))
    r = cli(server, "--pipe", input=data)
    assert "errors: 0, replies: 100" in r.stdout
    assert cli(server, "get", "k99").stdout == "99\n"


def test_interactive_mode_with_command_docs_hints(server):
    # A pseudo-terminal makes redis-cli interactive: it sends COMMAND DOCS at
    # start-up to build its help and inline hints.
    child = pexpect.spawn(REDIS_CLI, ["-p", str(server.port)], encoding="utf-8", timeout=10,
                          dimensions=(40, 200))
    try:
        prompt = f"127.0.0.1:{server.port}> "
        child.expect_exact(prompt)
        # Typing a command name shows its argument hints (from COMMAND DOCS).
        child.send("set ")
        child.expect("key value")
        # linenoise runs the terminal raw: Enter is a carriage return.
        child.send("mykey hello\r")
        child.expect_exact("OK")
        child.expect_exact(prompt)
        child.send("get mykey\r")
        child.expect_exact('"hello"')
        child.send("help get\r")
        child.expect("Get the value of a key")
        child.send("quit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, "redis-cli must exit cleanly (no assertion failure)"


def test_seed_hardening_config_loads_unchanged(tmp_path):
    """The seed deployments' production redis.conf, as written: it loads on
    both servers, redis-cli -a PASS ping answers PONG, without the password
    NOAUTH, and the renamed commands are unknown. (The fixture's command
    line binds 127.0.0.1 and a free port over the file's bind 0.0.0.0.)"""
    from conftest import start_server
    for kind in ("celerity", "redis"):
        d = tmp_path / kind
        d.mkdir()
        conf = d / "redis.conf"
        conf.write_text(
            "requirepass s3cret-Pass\n"
            "maxmemory 256mb\n"
            'rename-command FLUSHALL ""\n'
            'rename-command FLUSHDB ""\n'
            'rename-command DEBUG ""\n'
            "loglevel notice\n"
            f"logfile {d / 'redis.log'}\n"
            "bind 0.0.0.0\n"
            "protected-mode yes\n"
            "tcp-keepalive 300\n"
            "timeout 0\n")
        srv = start_server(kind, d, conf=conf)
        try:
            ok = cli(srv, "-a", "s3cret-Pass", "--no-auth-warning", "ping")
            assert ok.stdout == "PONG\n", kind
            noauth = cli(srv, "ping")
            assert noauth.stdout.strip() == "NOAUTH Authentication required.", kind
            for cmd in ("FLUSHALL", "FLUSHDB", "DEBUG"):
                r = cli(srv, "-a", "s3cret-Pass", "--no-auth-warning", cmd)
                assert r.stdout.startswith(f"ERR unknown command '{cmd}'"), (kind, r.stdout)
            info = cli(srv, "-a", "s3cret-Pass", "--no-auth-warning", "config", "get", "tcp-keepalive")
            assert info.stdout == "tcp-keepalive\n300\n", kind
        finally:
            srv.stop()
