package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CONFIG REWRITE of the built binary, compared with redis-server 7.0.15
// started from the same file (resp/config_rewrite.go): directives, ACL
// users (from user lines, and none with an aclfile), requirepass, the
// latency directives; and Celerity's own directives, which have no Redis
// counterpart and are checked for a faithful round trip instead.

// rewriteConf is the config file both servers start from: comments
// (indented too), blank lines, directives changed later, a duplicate, an
// alias, a directive back at its default, rename-command and include
// (left alone by CONFIG REWRITE), save "", a user (its line reused for
// the first user in name order), latency directives.
const rewriteConf = `# Celerity CONFIG REWRITE test
port PORT
bind 127.0.0.1
   # an indented comment

dir DIR
logfile DIR/server.log
timeout 0
tcp-keepalive 300
rename-command FLUSHALL ""
include DIR/included.conf
hz 10
hz 11
maxmemory 100mb
save ""
appendonly no
loglevel notice
requirepass s3cret
user bob on >bobpw ~a* +get
Slowlog-Max-Len 128
hash-max-ziplist-entries 100
client-output-buffer-limit pubsub 32mb 8mb 60
unixsocketperm 700
unixsocket DIR/server.sock
tls-session-cache-size 100
databases 20
enable-debug-command local
daemonize no
appendfilename "x.aof"
syslog-ident celerity
lua-time-limit 4000
latency-tracking yes
latency-monitor-threshold 0
`

// rewriteRounds are the commands run before each CONFIG REWRITE of
// TestConfigRewriteMatchesRedis.
var rewriteRounds = [][][]string{
	{
		{"CONFIG", "SET", "maxmemory", "200mb", "timeout", "30", "hz", "12", "maxmemory-policy", "allkeys-lru",
			"slowlog-max-len", "129", "loglevel", "warning", "client-output-buffer-limit", "pubsub 64mb 16mb 90",
			"maxmemory-clients", "10%", "proto-max-bulk-len", "1gb", "list-max-listpack-size", "-3",
			"hash-max-listpack-value", "100", "tls-auth-clients", "optional", "appendfsync", "always",
			"busy-reply-threshold", "6000", "auto-aof-rewrite-min-size", "128mb", "no-appendfsync-on-rewrite", "yes",
			"set-max-intset-entries", "1000", "zset-max-listpack-value", "1kb", "slowlog-log-slower-than", "5000",
			"tls-protocols", "TLSv1.2 TLSv1.3", "maxmemory-eviction-tenacity", "20", "maxclients", "500",
			"protected-mode", "no", "tls-session-caching", "no"},
		{"CONFIG", "SET", "latency-monitor-threshold", "100", "latency-tracking", "no",
			"latency-tracking-info-percentiles", "50 99.99 0.5", "tracking-table-max-keys", "500"},
		// A user sorted before bob takes bob's line; bob and default
		// are appended.
		{"ACL", "SETUSER", "alice", "on", ">alicepw", "~k*", "&ch", "+@read", "(~z* +set)"},
	},
	{
		// Back to defaults: existing lines stay, with the default value.
		{"CONFIG", "SET", "maxmemory", "0", "timeout", "0", "loglevel", "notice", "slowlog-max-len", "128",
			"maxmemory-samples", "5", "tcp-keepalive", "301", "maxmemory-clients", "1mb", "tls-session-cache-size", "20480"},
		// An empty percentile list is written as "".
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "", "latency-monitor-threshold", "0", "latency-tracking", "yes"},
		// A deleted user's line goes; the default user's extra password
		// is written (requirepass stays as set).
		{"ACL", "DELUSER", "alice"},
		{"ACL", "SETUSER", "default", ">extra"},
		{"ACL", "SETUSER", "bob", "off", "resetkeys", "allchannels", "-@all", "+ping"},
	},
	{
		// A new requirepass is the default user's only password; the
		// default percentiles are still written (7.0.15 always does).
		{"CONFIG", "SET", "requirepass", "newpw", "latency-tracking-info-percentiles", "50 99 99.9"},
	},
	{
		// No requirepass: its line goes, the default user is nopass.
		{"CONFIG", "SET", "requirepass", ""},
	},
}

// TestConfigRewriteMatchesRedis runs the same commands and CONFIG REWRITE
// on both servers started from the same file and compares the files.
// Lines appended after the signature are compared as sets: Redis appends
// them in a random order (its users always last, as Celerity's). The
// rewritten file starts each server again with the same users.
func TestConfigRewriteMatchesRedis(t *testing.T) {
	files := map[string][]string{}
	acls := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		port := freePort(t)
		conf := strings.NewReplacer("PORT", strconv.Itoa(port), "DIR", dir).Replace(rewriteConf)
		path := filepath.Join(dir, "redis.conf")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "included.conf"), []byte("maxmemory-samples 7\n"), 0o644))
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
		p := launchNet(t, kind, path)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p.waitUp("tcp", addr)
		c := dial(t, addr)
		require.Equal(t, "OK", c.do("AUTH", "s3cret"))
		for _, round := range rewriteRounds {
			for _, cmd := range round {
				r := c.do(cmd...)
				require.Contains(t, []string{"OK", "1"}, r, "%q", cmd)
			}
			require.Equal(t, "OK", c.do("CONFIG", "REWRITE"))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			text := strings.NewReplacer(strconv.Itoa(port), "PORT", dir, "DIR").Replace(string(data))
			files[kind] = append(files[kind], text)
		}
		st, err := os.Stat(path)
		require.NoError(t, err)
		files[kind] = append(files[kind], st.Mode().String())
		users := c.do("ACL", "USERS")
		acls[kind] = append(acls[kind], c.do("ACL", "LIST"))
		// The rewritten file starts the server again: no password now.
		p.stop()
		p2 := launchNet(t, kind, path)
		p2.waitUp("tcp", addr)
		c2 := dial(t, addr)
		assert.Equal(t, users, c2.do("ACL", "USERS"), "users after the restart")
		assert.Equal(t, "[maxmemory-clients 1048576]", c2.do("CONFIG", "GET", "maxmemory-clients"))
		assert.Equal(t, "[latency-tracking-info-percentiles 50 99 99.9]", c2.do("CONFIG", "GET", "latency-tracking-info-percentiles"))
		// Not quite the same rules: a "user default" line resets the
		// default user first, which adds sanitize-payload (both servers).
		acls[kind] = append(acls[kind], c2.do("ACL", "LIST"), c2.do("CONFIG", "GET", "requirepass"))
	})
	if len(files) != 2 {
		return
	}
	assert.Equal(t, acls[kindRedis], acls[kindCelerity], "ACL LIST and requirepass")
	for i := range files[kindRedis] {
		wantHead, wantTail, _ := strings.Cut(files[kindRedis][i], "# Generated by CONFIG REWRITE\n")
		gotHead, gotTail, _ := strings.Cut(files[kindCelerity][i], "# Generated by CONFIG REWRITE\n")
		assert.Equal(t, wantHead, gotHead, "round %d: the file up to the signature", i)
		assert.Equal(t, sortedLines(wantTail), sortedLines(gotTail), "round %d: appended lines", i)
	}
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return lines
}

// TestConfigRewriteACLFileMatchesRedis: with an aclfile, CONFIG REWRITE
// writes no user line (ACL SETUSER changes stay out of both files until
// ACL SAVE), while requirepass is written as set; the restarted servers
// take their users from the aclfile again.
func TestConfigRewriteACLFileMatchesRedis(t *testing.T) {
	const conf = "port PORT\nbind 127.0.0.1\ndir DIR\nsave \"\"\nrequirepass fromconf\naclfile DIR/users.acl\n" +
		"latency-tracking-info-percentiles 90\n"
	const users = "user default on >admin ~* &* +@all\nuser carol on >c ~c* +get\n"
	got := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		port := freePort(t)
		path := filepath.Join(dir, "redis.conf")
		require.NoError(t, os.WriteFile(path, []byte(strings.NewReplacer("PORT", strconv.Itoa(port), "DIR", dir).Replace(conf)), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "users.acl"), []byte(users), 0o644))
		p := launchNet(t, kind, path)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p.waitUp("tcp", addr)
		c := dial(t, addr)
		// The aclfile's default user, not requirepass.
		require.Equal(t, "OK", c.do("AUTH", "admin"))
		require.Equal(t, "OK", c.do("ACL", "SETUSER", "dave", "on", ">d", "+ping"))
		require.Equal(t, "OK", c.do("CONFIG", "SET", "requirepass", "other"))
		require.Equal(t, "OK", c.do("CONFIG", "REWRITE"))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		acl, err := os.ReadFile(filepath.Join(dir, "users.acl"))
		require.NoError(t, err)
		assert.Equal(t, users, string(acl), "CONFIG REWRITE leaves the aclfile alone")
		got[kind] = append(got[kind], strings.NewReplacer(strconv.Itoa(port), "PORT", dir, "DIR").Replace(string(data)))
		p.stop()
		p2 := launchNet(t, kind, path)
		p2.waitUp("tcp", addr)
		c2 := dial(t, addr)
		got[kind] = append(got[kind], c2.do("AUTH", "other"), c2.do("AUTH", "admin"), c2.do("ACL", "LIST"), c2.do("CONFIG", "GET", "requirepass"))
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}

// TestConfigRewriteErrors: without a config file; with a file that cannot
// be replaced.
func TestConfigRewriteErrors(t *testing.T) {
	got := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		port := freePort(t)
		p := launchNet(t, kind, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "")
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p.waitUp("tcp", addr)
		got[kind] = append(got[kind], dial(t, addr).do("CONFIG", "REWRITE"))

		dir := t.TempDir()
		path := filepath.Join(dir, "ro", "redis.conf")
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		port = freePort(t)
		require.NoError(t, os.WriteFile(path, []byte("port "+strconv.Itoa(port)+"\nbind 127.0.0.1\nsave \"\"\n"), 0o644))
		p = launchNet(t, kind, path)
		addr = "127.0.0.1:" + strconv.Itoa(port)
		p.waitUp("tcp", addr)
		// A directory replaced by a file: the temporary file cannot be
		// created next to the config file.
		require.NoError(t, os.RemoveAll(filepath.Dir(path)))
		require.NoError(t, os.WriteFile(filepath.Dir(path), nil, 0o644))
		got[kind] = append(got[kind], dial(t, addr).do("CONFIG", "REWRITE"))
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}

// celerityConf starts TestConfigRewriteCelerityDirectives: Celerity's own
// directives, some of them immutable (metrics-*), one to be set back to
// its default.
const celerityConf = `port PORT
bind 127.0.0.1
dir DIR
save ""
kombu-lease-max 600
metrics-port MPORT
metrics-bind 127.0.0.1
metrics-auth no
broker-protected-prefixes redbeat: celery
`

// celerityParams are the directives TestConfigRewriteCelerityDirectives
// reads back after each restart.
var celerityParams = []string{"kombu-visibility-lease", "kombu-lease-max", "kombu-global-keyprefix", "redbeat-prefixes",
	"results-default-ttl", "metrics-port", "metrics-bind", "metrics-auth", "broker-protected-prefixes"}

// TestConfigRewriteCelerityDirectives: Celerity's own directives, which
// Redis does not have (so no oracle), are left out of CONFIG GET globs but
// rewritten like Redis's: in place, appended when not at their default,
// kept at the default when the file had them, and quoted so that the file
// reads back the same values (a restart shows them, and a second rewrite
// changes nothing).
func TestConfigRewriteCelerityDirectives(t *testing.T) {
	dir := t.TempDir()
	port, mport := freePort(t), freePort(t)
	path := filepath.Join(dir, "celerity.conf")
	subst := strings.NewReplacer("MPORT", strconv.Itoa(mport), "PORT", strconv.Itoa(port), "DIR", dir)
	require.NoError(t, os.WriteFile(path, []byte(subst.Replace(celerityConf)), 0o644))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var p *netProc
	start := func() *conn {
		p = launchNet(t, kindCelerity, path)
		p.waitUp("tcp", addr)
		return dial(t, addr)
	}
	values := func(c *conn) []string {
		var vs []string
		for _, name := range celerityParams {
			vs = append(vs, c.do("CONFIG", "GET", name))
		}
		return vs
	}
	// rewriteAndRestart rewrites, checks the file, restarts from it and
	// checks the values read back and that a second rewrite is a no-op.
	rewriteAndRestart := func(c *conn, want string) *conn {
		t.Helper()
		before := values(c)
		require.Equal(t, "OK", c.do("CONFIG", "REWRITE"))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, subst.Replace(want), string(data))
		p.stop()
		c = start()
		assert.Equal(t, before, values(c), "values after a restart from the rewritten file")
		require.Equal(t, "OK", c.do("CONFIG", "REWRITE"))
		again, err := os.ReadFile(path)
		require.NoError(t, err)
		// Not the whole file: as Redis, a rewrite of a file ending in a
		// newline adds an empty line at its end, and the default user
		// now has sanitize-payload (a user line resets the user first).
		assert.Equal(t, celerityLines(string(data)), celerityLines(string(again)), "a second rewrite")
		return c
	}

	c := start()
	all := c.do("CONFIG", "GET", "*")
	for _, name := range celerityParams {
		assert.NotContains(t, all, name, "CONFIG GET * lists Redis's directives only")
	}
	assert.Equal(t, "[kombu-lease-max 600]", c.do("CONFIG", "GET", "kombu-lease-*"))
	for _, set := range [][]string{
		{"kombu-visibility-lease", "yes"}, {"kombu-visibility-lease", "no"}, // back to the default: no line
		{"kombu-lease-max", "21600"}, // the default, on an existing line: kept
		{"kombu-global-keyprefix", `pre "q'x`},
		{"redbeat-prefixes", `a: b"c:`},
		{"broker-protected-prefixes", `x'y`}, // one word: quoted twice
		{"results-default-ttl", "3600"},
	} {
		require.Equal(t, "OK", c.do("CONFIG", "SET", set[0], set[1]), "%q", set)
	}
	c = rewriteAndRestart(c, `port PORT
bind 127.0.0.1
dir "DIR"
save ""
kombu-lease-max 21600
metrics-port MPORT
metrics-bind 127.0.0.1
metrics-auth no
broker-protected-prefixes "\"x'y\""

# Generated by CONFIG REWRITE
kombu-global-keyprefix "pre \"q'x"
latency-tracking-info-percentiles 50 99 99.9
redbeat-prefixes a: "b\"c:"
results-default-ttl 3600
user default on nopass ~* &* +@all
`)
	assert.Equal(t, `[broker-protected-prefixes x'y]`, c.do("CONFIG", "GET", "broker-protected-prefixes"))

	// Empty lists and strings, and plain words (on a server started from
	// the file written above: its default user line added
	// sanitize-payload, and its final newline is kept as an empty line).
	for _, set := range [][]string{
		{"redbeat-prefixes", ""}, {"kombu-global-keyprefix", ""}, {"broker-protected-prefixes", "p: q:"}, {"results-default-ttl", "0"},
	} {
		require.Equal(t, "OK", c.do("CONFIG", "SET", set[0], set[1]), "%q", set)
	}
	rewriteAndRestart(c, `port PORT
bind 127.0.0.1
dir "DIR"
save ""
kombu-lease-max 21600
metrics-port MPORT
metrics-bind 127.0.0.1
metrics-auth no
broker-protected-prefixes p: q:

# Generated by CONFIG REWRITE
kombu-global-keyprefix ""
latency-tracking-info-percentiles 50 99 99.9
redbeat-prefixes ""
results-default-ttl 0
user default on nopass sanitize-payload ~* &* +@all

`)
}

// celerityLines are the lines of Celerity's own directives in a file.
func celerityLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		name, _, _ := strings.Cut(l, " ")
		for _, p := range celerityParams {
			if name == p {
				out = append(out, l)
			}
		}
	}
	return out
}
