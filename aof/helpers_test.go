package aof_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
)

// enc encodes one command.
func enc(args ...string) []byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return aof.AppendCommand(nil, argv...)
}

// encAll concatenates encoded commands.
func encAll(cmds ...[]string) []byte {
	var b []byte
	for _, c := range cmds {
		b = append(b, enc(c...)...)
	}
	return b
}

func argvStrings(argv [][]byte) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = string(a)
	}
	return out
}

// drain replays a plan into a list of commands.
func drain(t *testing.T, plan *aof.LoadPlan) [][]string {
	t.Helper()
	var out [][]string
	for plan.Next() {
		out = append(out, argvStrings(plan.Command().Argv))
	}
	return out
}

// memDir returns a MemFS with a durable /data directory.
func memDir(t *testing.T) *vfs.MemFS {
	t.Helper()
	m := vfs.NewMemFS()
	require.NoError(t, m.MkdirAll("/data", 0o755))
	m.SyncAll()
	return m
}

// fastOpts shortens the writer's timings for tests.
func fastOpts(fs vfs.FS, policy aof.FsyncPolicy) aof.Options {
	return aof.Options{
		FS:            fs,
		Fsync:         policy,
		FsyncInterval: 20 * time.Millisecond,
		PostponeLimit: 100 * time.Millisecond,
		RetryInterval: 20 * time.Millisecond,
		Pid:           4242,
	}
}

// openStart opens dir, replays the plan and starts the AOF.
func openStart(t *testing.T, dir string, opts aof.Options) (*aof.AOF, [][]string) {
	t.Helper()
	a, plan, err := aof.Open(dir, opts)
	require.NoError(t, err)
	cmds := drain(t, plan)
	require.NoError(t, plan.Err())
	require.NoError(t, a.Start())
	return a, cmds
}

// load opens dir and replays it without starting (read-only check).
func load(t *testing.T, dir string, opts aof.Options) ([][]string, *aof.LoadPlan, error) {
	t.Helper()
	a, plan, err := aof.Open(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	cmds := drain(t, plan)
	_ = a.Close()
	return cmds, plan, plan.Err()
}

// model applies AOF commands the way a server would, for the few commands
// the tests use; it is the oracle for "dataset after reload".
type model struct {
	db   int
	dbs  map[int]map[string]any
	ttls map[string]int64
}

func newModel() *model { return &model{dbs: map[int]map[string]any{}, ttls: map[string]int64{}} }

func (m *model) cur() map[string]any {
	if m.dbs[m.db] == nil {
		m.dbs[m.db] = map[string]any{}
	}
	return m.dbs[m.db]
}

func (m *model) apply(t *testing.T, argv []string) {
	t.Helper()
	d := m.cur()
	switch strings.ToUpper(argv[0]) {
	case "SELECT":
		n, err := strconv.Atoi(argv[1])
		require.NoError(t, err)
		m.db = n
	case "SET":
		d[argv[1]] = argv[2]
		for i := 3; i+1 < len(argv); i++ {
			if strings.EqualFold(argv[i], "PXAT") {
				v, _ := strconv.ParseInt(argv[i+1], 10, 64)
				m.ttls[fmt.Sprint(m.db, ":", argv[1])] = v
			}
		}
	case "INCR":
		n, _ := strconv.Atoi(fmt.Sprint(d[argv[1]]))
		if d[argv[1]] == nil {
			n = 0
		}
		d[argv[1]] = strconv.Itoa(n + 1)
	case "DEL":
		for _, k := range argv[1:] {
			delete(d, k)
		}
	case "RPUSH":
		l, _ := d[argv[1]].([]string)
		d[argv[1]] = append(l, argv[2:]...)
	case "LPUSH":
		l, _ := d[argv[1]].([]string)
		for _, v := range argv[2:] {
			l = append([]string{v}, l...)
		}
		d[argv[1]] = l
	case "RPOP":
		l, _ := d[argv[1]].([]string)
		if len(l) > 0 {
			l = l[:len(l)-1]
		}
		if len(l) == 0 {
			delete(d, argv[1])
		} else {
			d[argv[1]] = l
		}
	case "HSET", "HMSET":
		h, _ := d[argv[1]].(map[string]string)
		if h == nil {
			h = map[string]string{}
		}
		for i := 2; i+1 < len(argv); i += 2 {
			h[argv[i]] = argv[i+1]
		}
		d[argv[1]] = h
	case "PEXPIREAT":
		v, _ := strconv.ParseInt(argv[2], 10, 64)
		m.ttls[fmt.Sprint(m.db, ":", argv[1])] = v
	case "MULTI", "EXEC", "PING":
	default:
		t.Fatalf("model: unknown command %q", argv[0])
	}
}

func (m *model) applyAll(t *testing.T, cmds [][]string) *model {
	for _, c := range cmds {
		m.apply(t, c)
	}
	return m
}

// dump renders the dataset canonically (empty databases left out).
func (m *model) dump() string {
	var dbs []int
	for n, d := range m.dbs {
		if len(d) > 0 {
			dbs = append(dbs, n)
		}
	}
	sort.Ints(dbs)
	var b strings.Builder
	for _, n := range dbs {
		d := m.dbs[n]
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%d %s=%v\n", n, k, d[k])
		}
	}
	return b.String()
}

// osDir makes a temporary server directory on the real file system.
func osDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	return d
}

func readOS(t *testing.T, path ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(path...))
	require.NoError(t, err)
	return string(b)
}
