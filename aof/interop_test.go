package aof_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/internal/oracle"
)

// The oracle for file formats is Debian's redis-server 7.0.15. These tests
// skip when it is missing, unless REQUIRE_REDIS=1.

// startRedis runs redis-server on dir with the AOF enabled, RESP bases.
func startRedis(t *testing.T, dir string, extra ...string) *oracle.Proc {
	t.Helper()
	return oracle.Start(t, dir, append([]string{"--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--save", ""}, extra...)...)
}

// dumpRedis reads the whole dataset into a model (strings, lists, hashes).
func dumpRedis(t *testing.T, p *oracle.Proc) string {
	t.Helper()
	m := newModel()
	for db := 0; db < 16; db++ {
		p.Must(t, "SELECT", strconv.Itoa(db))
		keys := p.Must(t, "KEYS", "*").([]any)
		m.db = db
		d := m.cur()
		for _, k := range keys {
			key := k.(string)
			switch p.Must(t, "TYPE", key) {
			case "string":
				d[key] = p.Must(t, "GET", key)
			case "list":
				var l []string
				for _, v := range p.Must(t, "LRANGE", key, "0", "-1").([]any) {
					l = append(l, v.(string))
				}
				d[key] = l
			case "hash":
				h := map[string]string{}
				kv := p.Must(t, "HGETALL", key).([]any)
				for i := 0; i+1 < len(kv); i += 2 {
					h[kv[i].(string)] = kv[i+1].(string)
				}
				d[key] = h
			default:
				t.Fatalf("unexpected type for %s", key)
			}
		}
	}
	return m.dump()
}

// writeOurAOF builds an AOF directory with Celerity's writer: SELECTs, SET
// with PXAT, lists, hashes, MULTI/EXEC blocks, timestamp annotations, a
// rewrite, and writes after it. It returns the commands as applied.
func writeOurAOF(t *testing.T, dir string) ([][]string, int64) {
	t.Helper()
	opts := aof.Options{Fsync: aof.FsyncAlways, Timestamps: true}
	a, _ := openStart(t, dir, opts)
	pxat := time.Now().Add(time.Hour).UnixMilli()
	var applied [][]string
	add := func(cmds ...[]string) {
		applied = append(applied, cmds...)
		require.NoError(t, a.WaitWritten(a.Append(encAll(cmds...))))
	}
	add([]string{"SELECT", "0"}, []string{"SET", "a", "1"})
	add([]string{"SET", "k", "v", "PXAT", strconv.FormatInt(pxat, 10)})
	add([]string{"RPUSH", "l", "x", "y", "z\r\n*1\r\n"})
	add([]string{"MULTI"}, []string{"SET", "b", "2"}, []string{"INCR", "c"}, []string{"EXEC"})
	add([]string{"SELECT", "3"}, []string{"HSET", "h", "f", "v", "g", "w"})

	// Rewrite: the base is the dataset at the cut, as the engine would emit.
	rw, err := a.StartRewrite()
	require.NoError(t, err)
	add([]string{"SELECT", "3"}, []string{"RPUSH", "l3", "during"})
	base := [][]string{
		{"SELECT", "0"}, {"SET", "a", "1"}, {"SET", "k", "v"}, {"PEXPIREAT", "k", strconv.FormatInt(pxat, 10)},
		{"RPUSH", "l", "x", "y", "z\r\n*1\r\n"}, {"SET", "b", "2"}, {"SET", "c", "1"},
		{"SELECT", "3"}, {"HMSET", "h", "f", "v", "g", "w"},
	}
	for _, c := range base {
		argv := make([][]byte, len(c))
		for i, s := range c {
			argv[i] = []byte(s)
		}
		require.NoError(t, rw.WriteBase(argv))
	}
	require.NoError(t, rw.Finish())
	add([]string{"SELECT", "0"}, []string{"RPUSH", "l", "w"}, []string{"DEL", "a"})
	add([]string{"MULTI"}, []string{"LPUSH", "l2", "p"}, []string{"SET", "d", "4"}, []string{"EXEC"})
	require.NoError(t, a.Close())
	return applied, pxat
}

func TestInteropRedisCheckAOFAcceptsOurDirectory(t *testing.T) {
	bin := oracle.Need(t, "redis-check-aof")
	dir := osDir(t)
	writeOurAOF(t, dir)
	man := filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")
	assert.Equal(t, "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n", readOS(t, man))
	out, err := exec.Command(bin, man).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "All AOF files and manifest are valid")
}

func TestInteropRedisLoadsOurDirectory(t *testing.T) {
	dir := osDir(t)
	applied, pxat := writeOurAOF(t, dir)
	r := startRedis(t, dir)
	want := newModel().applyAll(t, applied).dump()
	assert.Equal(t, want, dumpRedis(t, r))
	r.Must(t, "SELECT", "0")
	assert.EqualValues(t, 6, r.Must(t, "DBSIZE")) // k l b c l2 d (a was deleted)
	pttl := r.Must(t, "PTTL", "k").(int64)
	assert.InDelta(t, float64(time.Until(time.UnixMilli(pxat)).Milliseconds()), float64(pttl), 60_000)
	log := r.Shutdown(t)
	assert.NotContains(t, log, "Truncating")
	assert.Contains(t, log, "DB loaded from append only file")
	// Redis opened our last incr file for appending, and left the files
	// readable by us.
	cmds, _, err := load(t, dir, aof.Options{})
	require.NoError(t, err)
	assert.Equal(t, want, newModel().applyAll(t, cmds).dump())
}

func TestInteropWeLoadRedisDirectory(t *testing.T) {
	dir := osDir(t)
	r := startRedis(t, dir)
	before := [][]string{
		{"SET", "a", "1"}, {"SET", "e", "v", "EX", "1000"}, {"RPUSH", "l", "x", "y", "z"},
		{"SELECT", "2"}, {"HSET", "h", "f", "v"}, {"MULTI"}, {"INCR", "n"}, {"INCR", "n"}, {"EXEC"},
	}
	for _, c := range before {
		r.Must(t, c...)
	}
	r.Must(t, "BGREWRITEAOF")
	require.Eventually(t, func() bool {
		info := r.Must(t, "INFO", "persistence").(string)
		return strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") &&
			strings.Contains(info, "aof_rewrites:1")
	}, 10*time.Second, 20*time.Millisecond)
	after := [][]string{{"SET", "after", "1"}, {"SELECT", "0"}, {"RPUSH", "l", "w"}, {"LPUSH", "l2", "a"}, {"DEL", "a"}}
	for _, c := range after {
		r.Must(t, c...)
	}
	want := dumpRedis(t, r)
	r.Shutdown(t)

	a, plan, err := aof.Open(dir, aof.Options{})
	require.NoError(t, err)
	files := plan.Files()
	require.Len(t, files, 2)
	assert.Equal(t, aof.PlanFile{Name: "appendonly.aof.2.base.aof", Seq: 2, Type: aof.TypeBase, Size: files[0].Size}, files[0])
	assert.Equal(t, "appendonly.aof.2.incr.aof", files[1].Name)
	m := newModel()
	var incr [][]string
	for plan.Next() {
		c := plan.Command()
		argv := argvStrings(c.Argv)
		m.apply(t, argv)
		if c.File == files[1].Name {
			incr = append(incr, argv)
		}
	}
	require.NoError(t, plan.Err())
	assert.Nil(t, plan.Truncation())
	assert.Equal(t, want, m.dump())
	// The incr file holds exactly what was sent after the rewrite, with a
	// SELECT wherever the database changed (SELECT itself is not logged).
	assert.Equal(t, [][]string{{"SELECT", "2"}, {"SET", "after", "1"}, {"SELECT", "0"}, {"RPUSH", "l", "w"},
		{"LPUSH", "l2", "a"}, {"DEL", "a"}}, incr)
	// And we keep appending to Redis's last incr file.
	require.NoError(t, a.Start())
	require.NoError(t, a.WaitWritten(a.Append(encAll([]string{"SELECT", "0"}, []string{"SET", "ours", "1"}))))
	require.NoError(t, a.Close())
	r = startRedis(t, dir)
	r.Must(t, "SELECT", "0")
	assert.Equal(t, "1", r.Must(t, "GET", "ours"))
	r.Shutdown(t)
}

// Redis 7.0.15 upgrades a pre-7.0 appendonly.aof; we read its result, and
// Redis reads ours.
func TestInteropUpgradeMatchesRedis(t *testing.T) {
	old := encAll([]string{"SELECT", "0"}, []string{"SET", "k", "v"})
	theirs, ours := osDir(t), osDir(t)
	for _, d := range []string{theirs, ours} {
		require.NoError(t, os.WriteFile(filepath.Join(d, "appendonly.aof"), old, 0o644))
	}
	r := startRedis(t, theirs)
	r.Shutdown(t)
	a, cmds := openStart(t, ours, aof.Options{})
	require.NoError(t, a.Close())
	assert.Equal(t, [][]string{{"SELECT", "0"}, {"SET", "k", "v"}}, cmds)
	for _, f := range []string{"appendonly.aof.manifest", "appendonly.aof", "appendonly.aof.1.incr.aof"} {
		assert.Equal(t, readOS(t, theirs, "appendonlydir", f), readOS(t, ours, "appendonlydir", f), f)
	}
	_, err := os.Stat(filepath.Join(ours, "appendonly.aof"))
	assert.True(t, os.IsNotExist(err))
	r = startRedis(t, ours)
	assert.Equal(t, "v", r.Must(t, "GET", "k"))
	r.Shutdown(t)
}

// A torn tail Redis would truncate, we truncate at the same offset.
func TestInteropTornTailSameOffsetAsRedis(t *testing.T) {
	data := encAll([]string{"SET", "b", "1"}, []string{"MULTI"}, []string{"SET", "c", "1"}, []string{"EXEC"}, []string{"SET", "d", "1"})
	cut := data[:len(data)-9]
	theirs, ours := osDir(t), osDir(t)
	for _, d := range []string{theirs, ours} {
		require.NoError(t, os.MkdirAll(filepath.Join(d, "appendonlydir"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "appendonlydir", "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(d, "appendonlydir", "appendonly.aof.1.incr.aof"), cut, 0o644))
	}
	r := startRedis(t, theirs)
	r.Shutdown(t)
	a, _ := openStart(t, ours, aof.Options{})
	require.NoError(t, a.Close())
	got := readOS(t, ours, "appendonlydir", "appendonly.aof.1.incr.aof")
	assert.Equal(t, readOS(t, theirs, "appendonlydir", "appendonly.aof.1.incr.aof"), got)
	assert.True(t, bytes.HasSuffix([]byte(got), []byte("EXEC\r\n")))
}
