package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof/rdb"
)

// RDB snapshots end to end, on Celerity and redis-server 7.0.15 with the
// same command lines: the seed's backup runbook (redis-cli BGSAVE, wait,
// copy dump.rdb, restore by dropping it into another server's directory)
// in all four directions, AOF directories whose base is an RDB preamble
// (Redis's default) moved between the servers, save points, SHUTDOWN and
// SIGTERM saves, and what a failed save does to writes.

// snapshotDataset writes a Celery-shaped dataset in several encodings:
// a Kombu queue long enough for several quicklist nodes, the unacked hash
// and index, bindings, result keys with TTLs (compressible JSON), a RedBeat
// schedule, intsets of each width, a big hash and zset, binary values and
// a second database (the permission cache).
func snapshotDataset(t testing.TB, c *rclient) {
	t.Helper()
	body := strings.Repeat(`{"task":"app.tasks.add","args":[1,2],"kwargs":{}}`, 20)
	var cmds [][]string
	for i := 0; i < 600; i++ {
		cmds = append(cmds, []string{"LPUSH", "celery", fmt.Sprintf(`{"body":"%s","id":"%d"}`, body, i)})
	}
	cmds = append(cmds,
		[]string{"RPUSH", "celery\x06\x163", "a", "b", "-12", "4294967296"},
		[]string{"HSET", "unacked", "tag-1", body, "tag-2", "[]"},
		[]string{"ZADD", "unacked_index", "1700000000.25", "tag-1", "1700000001", "tag-2"},
		[]string{"SADD", "_kombu.binding.celery", "celery\x06\x16\x06\x16celery"},
		[]string{"SADD", "ints16", "1", "2", "300"},
		[]string{"SADD", "ints32", "1", "70000"},
		[]string{"SADD", "ints64", "-5", "5000000000"},
		[]string{"SET", "celery-task-meta-1", `{"status":"SUCCESS","result":` + body + `}`, "EX", "86400"},
		[]string{"SET", "counter", "12345"},
		[]string{"SET", "negative", "-7"},
		[]string{"SET", "binary", "a\x00b\r\nc\xff"},
		[]string{"HSET", "nadoo:redbeat:every-minute", "definition", `{"name":"every-minute","task":"t","schedule":{"__type__":"interval","every":60}}`, "meta", `{"last_run_at":null,"total_run_count":0}`},
		[]string{"ZADD", "nadoo:redbeat::schedule", "1795520000.5", "nadoo:redbeat:every-minute"},
		[]string{"ZADD", "scores", "-inf", "low", "0", "zero", "inf", "high", "3.14159", "pi"},
		[]string{"SELECT", "1"},
		[]string{"SET", "perm:user:42", `["read","write"]`, "EX", "300"},
		[]string{"SELECT", "0"},
	)
	for i := 0; i < 200; i++ {
		cmds = append(cmds, []string{"HSET", "bighash", "field:" + strconv.Itoa(i), strings.Repeat("v", i)})
		cmds = append(cmds, []string{"ZADD", "bigzset", strconv.Itoa(i*7%199) + ".5", "member:" + strconv.Itoa(i)})
		cmds = append(cmds, []string{"SADD", "bigset", "m" + strconv.Itoa(i)})
	}
	require.NoError(t, c.send(cmds...))
	for range cmds {
		r, err := c.read()
		require.NoError(t, err)
		require.False(t, r.isErr(), "%s", r)
	}
}

// waitBgsave waits until no background save runs and returns INFO
// persistence, the runbook's own check.
func waitBgsave(t testing.TB, c *rclient) map[string]string {
	t.Helper()
	var info map[string]string
	waitFor(t, "the background save to finish", func() bool {
		info = infoFields(t, c, "persistence")
		return info["rdb_bgsave_in_progress"] == "0"
	})
	return info
}

// rdbServer is a server with appendonly no and no save points unless
// extra says otherwise.
func rdbServer(t testing.TB, kind, dir string, extra ...string) *aofServer {
	return newAOFServer(t, kind, dir, "everysec", append([]string{"--appendonly", "no"}, extra...)...)
}

// TestBgsaveBackupRestoreAcrossServers follows the seed's runbook: each
// server writes the dataset, redis-cli BGSAVE, INFO persistence until the
// save is over, redis-check-rdb on the copy, then the copy dropped into an
// empty directory of each server, which must start with the same dataset.
func TestBgsaveBackupRestoreAcrossServers(t *testing.T) {
	cli := redisTool(t, "redis-cli")
	check := redisTool(t, "redis-check-rdb")
	for _, producer := range serverKinds {
		t.Run("from-"+producer, func(t *testing.T) {
			src := rdbServer(t, producer, t.TempDir())
			src.start()
			c := dialT(t, src.addr())
			snapshotDataset(t, c)
			want := dumpDataset(t, c)
			before := c.must(t, "LASTSAVE").num

			out, err := exec.Command(cli, "-p", strconv.Itoa(src.port), "BGSAVE").CombinedOutput()
			require.NoError(t, err)
			assert.Equal(t, "Background saving started\n", string(out))
			info := waitBgsave(t, c)
			assert.Equal(t, "ok", info["rdb_last_bgsave_status"])
			assert.Equal(t, "0", info["rdb_changes_since_last_save"])
			assert.GreaterOrEqual(t, c.must(t, "LASTSAVE").num, before)
			dump := filepath.Join(src.dir, "dump.rdb")
			out, err = exec.Command(check, dump).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "\\o/ RDB looks OK! \\o/")

			for _, consumer := range serverKinds {
				dir := t.TempDir()
				b, err := os.ReadFile(dump)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.rdb"), b, 0o644))
				dst := rdbServer(t, consumer, dir)
				dst.start()
				dc := dialT(t, dst.addr())
				got := dumpDataset(t, dc)
				compareDatasets(t, want, got, 5*time.Second)
				persist := infoFields(t, dc, "persistence")
				assert.Equal(t, "0", persist["rdb_last_load_keys_expired"], consumer)
				assert.NotEqual(t, "0", persist["rdb_last_load_keys_loaded"], consumer)
				dst.term()
			}
			src.term()
		})
	}
}

// TestAOFWithRDBPreambleAcrossServers: Redis's default AOF (a base.rdb
// and an incr file) loads in Celerity; Celerity's rewrite writes a
// base.rdb that Redis loads; each time with writes after the rewrite in
// the incr file.
func TestAOFWithRDBPreambleAcrossServers(t *testing.T) {
	dir := t.TempDir()
	preamble := []string{"--aof-use-rdb-preamble", "yes"}
	r := newAOFServer(t, kindRedis, dir, "everysec", preamble...)
	r.start()
	c := dialT(t, r.addr())
	snapshotDataset(t, c)
	c.must(t, "BGREWRITEAOF")
	waitRewrite(t, c, r.aofDir(), 2)
	c.must(t, "SET", "after-redis-rewrite", "1")
	c.must(t, "RPUSH", "celery", "appended")
	want := dumpDataset(t, c)
	r.term()
	assert.Contains(t, dirNames(t, r.aofDir()), "appendonly.aof.2.base.rdb")

	cel := newAOFServer(t, kindCelerity, dir, "everysec", preamble...)
	cel.start()
	cc := dialT(t, cel.addr())
	compareDatasets(t, want, dumpDataset(t, cc), 5*time.Second)
	cc.must(t, "BGREWRITEAOF")
	waitRewrite(t, cc, cel.aofDir(), 3)
	assert.Contains(t, dirNames(t, cel.aofDir()), "appendonly.aof.3.base.rdb")
	cc.must(t, "SET", "after-celerity-rewrite", "2")
	cc.must(t, "LPOP", "celery")
	want = dumpDataset(t, cc)
	cel.term()

	r2 := newAOFServer(t, kindRedis, dir, "everysec", preamble...)
	r2.start()
	compareDatasets(t, want, dumpDataset(t, dialT(t, r2.addr())), 5*time.Second)
	r2.term()
}

// TestSavePointsShutdownAndSigterm: with save 1 1 a write is saved by the
// cron within about a second; SHUTDOWN saves the final snapshot, and so
// does SIGTERM; each restart finds every write.
func TestSavePointsShutdownAndSigterm(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := rdbServer(t, kind, t.TempDir(), "--save", "1 1")
		s.start()
		c := dialT(t, s.addr())
		assert.Equal(t, "1 1", c.must(t, "CONFIG", "GET", "save").arr[1].str)
		c.must(t, "SET", "a", "1")
		waitFor(t, "the save point's background save", func() bool {
			info := infoFields(t, c, "persistence")
			return info["rdb_changes_since_last_save"] == "0" && info["rdb_bgsave_in_progress"] == "0"
		})
		assert.Contains(t, s.logText(), "1 changes in 1 seconds. Saving...")
		c.must(t, "SET", "b", "2")
		_, err := c.do("SHUTDOWN")
		require.Error(t, err, "SHUTDOWN closes the connection")
		code, ok := s.waitExit(15 * time.Second)
		require.True(t, ok)
		assert.Equal(t, 0, code)
		assert.Contains(t, s.logText(), "Saving the final RDB snapshot before exiting.")

		s.start()
		c = dialT(t, s.addr())
		assert.Equal(t, []string{"1", "2"}, c.must(t, "MGET", "a", "b").strs())
		c.must(t, "SET", "c", "3")
		s.term() // SIGTERM saves too
		s.start()
		assert.Equal(t, "3", dialT(t, s.addr()).must(t, "GET", "c").str)
		s.term()
	})
}

// TestShutdownSaveAndNosave: SHUTDOWN SAVE writes dump.rdb without save
// points; SHUTDOWN NOSAVE with save points writes nothing.
func TestShutdownSaveAndNosave(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := newAOFServer(t, kind, t.TempDir(), "everysec")
		s.start()
		c := dialT(t, s.addr())
		c.must(t, "SET", "k", "v")
		_, err := c.do("SHUTDOWN", "SAVE")
		require.Error(t, err)
		code, ok := s.waitExit(15 * time.Second)
		require.True(t, ok)
		assert.Equal(t, 0, code)
		_, err = os.Stat(filepath.Join(s.dir, "dump.rdb"))
		assert.NoError(t, err, "SHUTDOWN SAVE wrote dump.rdb")

		n := rdbServer(t, kind, t.TempDir(), "--save", "3600 1")
		n.start()
		nc := dialT(t, n.addr())
		nc.must(t, "SET", "k", "v")
		_, err = nc.do("SHUTDOWN", "NOSAVE")
		require.Error(t, err)
		_, ok = n.waitExit(15 * time.Second)
		require.True(t, ok)
		_, err = os.Stat(filepath.Join(n.dir, "dump.rdb"))
		assert.True(t, os.IsNotExist(err), "SHUTDOWN NOSAVE wrote nothing: %v", err)
	})
}

// TestFailedBgsaveRefusesWrites: a background save that cannot create its
// file sets rdb_last_bgsave_status:err; with save points and
// stop-writes-on-bgsave-error yes, writes and PING get -MISCONF, SAVE and
// SHUTDOWN fail, reads work; turning the option off lets writes through.
// The replies of both servers are compared.
func TestFailedBgsaveRefusesWrites(t *testing.T) {
	got := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		s := rdbServer(t, kind, t.TempDir(), "--save", "3600 1", "--enable-protected-configs", "yes")
		s.start()
		c := dialT(t, s.addr())
		c.must(t, "SET", "k", "v")
		gone := filepath.Join(t.TempDir(), "gone")
		require.NoError(t, os.Mkdir(gone, 0o755))
		c.must(t, "CONFIG", "SET", "dir", gone)
		require.NoError(t, os.Remove(gone))
		var replies []string
		do := func(args ...string) {
			r, err := c.do(args...)
			require.NoError(t, err)
			replies = append(replies, strings.Join(args, " ")+" -> "+r.String())
		}
		do("BGSAVE")
		waitFor(t, "the failed background save", func() bool {
			info := infoFields(t, c, "persistence")
			return info["rdb_bgsave_in_progress"] == "0" && info["rdb_last_bgsave_status"] == "err"
		})
		do("SET", "k", "w")
		do("PING")
		do("GET", "k")
		do("SAVE")
		do("SHUTDOWN")
		do("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
		do("SET", "k", "x")
		do("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
		do("CONFIG", "SET", "save", "")
		do("SET", "k", "y")
		got[kind] = replies
		_, _ = c.do("SHUTDOWN", "NOSAVE")
		s.waitExit(15 * time.Second)
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}

// TestBgsaveAndRewriteWaitForEachOther: one background job at a time, as
// Redis's one child: BGSAVE during BGSAVE is refused, BGREWRITEAOF is
// scheduled behind it and runs after, SAVE is refused; during a rewrite
// BGSAVE is refused and BGSAVE SCHEDULE accepted; rdb-key-save-delay keeps
// each job running meanwhile.
func TestBgsaveAndRewriteWaitForEachOther(t *testing.T) {
	got := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		s := newAOFServer(t, kind, t.TempDir(), "everysec", "--rdb-key-save-delay", "2000")
		s.start()
		c := dialT(t, s.addr())
		var cmds [][]string
		for i := 0; i < 300; i++ {
			cmds = append(cmds, []string{"SET", "k" + strconv.Itoa(i), "v"})
		}
		require.NoError(t, c.send(cmds...))
		for range cmds {
			_, err := c.read()
			require.NoError(t, err)
		}
		var replies []string
		do := func(args ...string) {
			r, err := c.do(args...)
			require.NoError(t, err)
			replies = append(replies, strings.Join(args, " ")+" -> "+r.String())
		}
		do("BGSAVE")
		do("BGSAVE")
		do("SAVE")
		do("BGREWRITEAOF")
		info := infoFields(t, c, "persistence")
		replies = append(replies, "in progress "+info["rdb_bgsave_in_progress"]+" scheduled "+info["aof_rewrite_scheduled"])
		c.must(t, "CONFIG", "SET", "rdb-key-save-delay", "0")
		waitRewrite(t, c, s.aofDir(), 2)
		info = waitBgsave(t, c)
		replies = append(replies, "status "+info["rdb_last_bgsave_status"])

		// The other order: a rewrite running (rdb-key-save-delay slows
		// rewrites too), BGSAVE is refused unless SCHEDULEd.
		c.must(t, "CONFIG", "SET", "rdb-key-save-delay", "2000")
		do("BGREWRITEAOF")
		do("BGSAVE")
		do("BGSAVE", "SCHEDULE")
		do("BGREWRITEAOF")
		info = infoFields(t, c, "persistence")
		replies = append(replies, "rewriting "+info["aof_rewrite_in_progress"]+" saving "+info["rdb_bgsave_in_progress"])
		c.must(t, "CONFIG", "SET", "rdb-key-save-delay", "0")
		waitRewrite(t, c, s.aofDir(), 3)
		waitFor(t, "the scheduled BGSAVE to run and finish", func() bool {
			info := infoFields(t, c, "persistence")
			return info["rdb_bgsave_in_progress"] == "0" && info["rdb_saves"] == "2"
		})
		got[kind] = replies
		s.term()
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}

// TestFlushallWithSavePointsSaves: FLUSHALL saves the empty dataset at
// once when save points are set, so a restart does not bring keys back.
func TestFlushallWithSavePointsSaves(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := rdbServer(t, kind, t.TempDir(), "--save", "3600 1")
		s.start()
		c := dialT(t, s.addr())
		c.must(t, "SET", "k", "v")
		c.must(t, "SAVE")
		c.must(t, "FLUSHALL")
		assert.Equal(t, "0", infoFields(t, c, "persistence")["rdb_changes_since_last_save"])
		s.kill() // no final save: what is on disk is FLUSHALL's
		s.start()
		assert.Equal(t, int64(0), dialT(t, s.addr()).must(t, "DBSIZE").num)
		s.term()
	})
}

// TestRestoreDumpUnderAppendonly: the seed restores by copying dump.rdb
// into /data, and runs the server with --appendonly yes. With no AOF yet,
// redis-server 7.0.15 ignores the dump and starts empty (recorded here as
// the hazard it is: its next save would overwrite the backup); Celerity
// loads it and writes it as the first AOF base before serving, so the
// keys survive a restart without the dump.
func TestRestoreDumpUnderAppendonly(t *testing.T) {
	src := rdbServer(t, kindRedis, t.TempDir())
	src.start()
	c := dialT(t, src.addr())
	snapshotDataset(t, c)
	want := dumpDataset(t, c)
	c.must(t, "SAVE")
	backup, err := os.ReadFile(filepath.Join(src.dir, "dump.rdb"))
	require.NoError(t, err)
	src.term()

	forEachKind(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.rdb"), backup, 0o644))
		s := newAOFServer(t, kind, dir, "everysec")
		s.start()
		sc := dialT(t, s.addr())
		if kind == kindRedis {
			assert.Equal(t, int64(0), sc.must(t, "DBSIZE").num, "redis-server 7.0.15 ignores dump.rdb under appendonly yes")
			return
		}
		compareDatasets(t, want, dumpDataset(t, sc), 5*time.Second)
		assert.Contains(t, s.logText(), "were loaded and are written as the first AOF base")
		s.term()
		require.NoError(t, os.Remove(filepath.Join(dir, "dump.rdb")))
		s.start()
		compareDatasets(t, want, dumpDataset(t, dialT(t, s.addr())), 5*time.Second)
		s.term()
	})
}

// TestDumpKeepsIdleTime: a dump written under an LRU policy carries each
// key's idle time, and both servers load it back (OBJECT IDLETIME).
func TestDumpKeepsIdleTime(t *testing.T) {
	src := rdbServer(t, kindRedis, t.TempDir(), "--maxmemory-policy", "allkeys-lru")
	src.start()
	c := dialT(t, src.addr())
	c.must(t, "SET", "k", "v")
	payload := c.must(t, "DUMP", "k").str
	c.must(t, "RESTORE", "old", "0", payload, "IDLETIME", "5000")
	c.must(t, "SAVE")
	backup, err := os.ReadFile(filepath.Join(src.dir, "dump.rdb"))
	require.NoError(t, err)
	src.term()
	forEachKind(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.rdb"), backup, 0o644))
		s := rdbServer(t, kind, dir, "--maxmemory-policy", "allkeys-lru")
		s.start()
		idle := dialT(t, s.addr()).must(t, "OBJECT", "IDLETIME", "old").num
		assert.InDelta(t, 5000, idle, 5, "idle seconds after the load")
		s.term()
	})
}

// TestBgsaveIsAPointInTimeImage: a BGSAVE kept running (rdb-key-save-delay)
// while the dataset is overwritten, deleted, added to, SWAPDB'd and
// flushed must still write the dataset exactly as it was when BGSAVE was
// answered: Celerity's copy-before-write snapshot stands in for Redis's
// fork. redis-server 7.0.15 loads the file and is the judge.
func TestBgsaveIsAPointInTimeImage(t *testing.T) {
	s := rdbServer(t, kindCelerity, t.TempDir(), "--rdb-key-save-delay", "500")
	s.start()
	c := dialT(t, s.addr())
	var cmds [][]string
	for i := 0; i < 1000; i++ {
		cmds = append(cmds, []string{"SET", "a" + strconv.Itoa(i), "v0"})
	}
	cmds = append(cmds, []string{"SELECT", "1"})
	for i := 0; i < 1000; i++ {
		cmds = append(cmds, []string{"SET", "b" + strconv.Itoa(i), "v0"})
	}
	cmds = append(cmds, []string{"RPUSH", "queue", "m1", "m2", "m3"}, []string{"SELECT", "0"})
	require.NoError(t, c.send(cmds...))
	for range cmds {
		_, err := c.read()
		require.NoError(t, err)
	}
	want := dumpDataset(t, c)

	assert.Equal(t, "Background saving started", c.must(t, "BGSAVE").str)
	var churn [][]string
	for i := 0; i < 500; i++ {
		churn = append(churn, []string{"SET", "a" + strconv.Itoa(i), "v1"})
	}
	for i := 500; i < 600; i++ {
		churn = append(churn, []string{"DEL", "a" + strconv.Itoa(i)})
	}
	for i := 0; i < 100; i++ {
		churn = append(churn, []string{"SET", "new" + strconv.Itoa(i), "x"})
	}
	churn = append(churn, []string{"SWAPDB", "0", "1"}, []string{"FLUSHDB"}, []string{"SELECT", "1"},
		[]string{"RPUSH", "queue", "m4"}, []string{"LPOP", "queue"}, []string{"RENAME", "a700", "renamed"}, []string{"SELECT", "0"})
	require.NoError(t, c.send(churn...))
	for range churn {
		_, err := c.read()
		require.NoError(t, err)
	}
	assert.Equal(t, "1", infoFields(t, c, "persistence")["rdb_bgsave_in_progress"], "the save was still running during the churn")
	c.must(t, "CONFIG", "SET", "rdb-key-save-delay", "0")
	assert.Equal(t, "ok", waitBgsave(t, c)["rdb_last_bgsave_status"])
	s.term()

	r := rdbServer(t, kindRedis, s.dir)
	r.start()
	compareDatasets(t, want, dumpDataset(t, dialT(t, r.addr())), 0)
	r.term()
}

// TestDamagedDumpStopsStartup: a dump.rdb that cannot be loaded (a flipped
// byte, a truncated file, a key written twice) keeps both servers from
// serving an incomplete dataset: each exits instead of answering PING.
func TestDamagedDumpStopsStartup(t *testing.T) {
	var good strings.Builder
	w := rdb.NewWriter(&good, rdb.WriterOptions{Checksum: true, Limits: rdb.DefaultLimits()})
	require.NoError(t, w.Header([]rdb.Aux{{Key: "redis-ver", Value: "7.0.15"}}))
	require.NoError(t, w.SelectDB(0, 2, 0))
	require.NoError(t, w.Key([]byte("celery"), 0, &rdb.Value{Kind: rdb.KindList, Elems: [][]byte{[]byte("m1"), []byte("m2")}}))
	require.NoError(t, w.Key([]byte("k"), 0, &rdb.Value{Kind: rdb.KindString, Str: []byte("v")}))
	require.NoError(t, w.Finish())
	var dup strings.Builder
	w = rdb.NewWriter(&dup, rdb.WriterOptions{Checksum: true, Limits: rdb.DefaultLimits()})
	require.NoError(t, w.Header(nil))
	require.NoError(t, w.SelectDB(0, 2, 0))
	require.NoError(t, w.Key([]byte("k"), 0, &rdb.Value{Kind: rdb.KindString, Str: []byte("v")}))
	require.NoError(t, w.Key([]byte("k"), 0, &rdb.Value{Kind: rdb.KindString, Str: []byte("w")}))
	require.NoError(t, w.Finish())
	flipped := []byte(good.String())
	flipped[len(flipped)-12] ^= 0x55
	files := map[string][]byte{
		"flipped":   flipped,
		"truncated": []byte(good.String()[:len(good.String())/2]),
		"duplicate": []byte(dup.String()),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			forEachKind(t, func(t *testing.T, kind string) {
				dir := t.TempDir()
				require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.rdb"), data, 0o644))
				p := launchNet(t, kind, "--port", strconv.Itoa(freePort(t)), "--bind", "127.0.0.1", "--dir", dir,
					"--save", "", "--appendonly", "no")
				code, out := p.waitExit()
				assert.NotEqual(t, 0, code, "%s started on a damaged dump:\n%s", kind, out)
			})
		})
	}
}
