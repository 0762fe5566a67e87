package integration

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// celerityCommands returns the names of Celerity's top-level commands and,
// per container, its subcommands' full names ("config|get"), from COMMAND.
func celerityCommands(t *testing.T, c *resptest.Conn) (names []string, subs map[string][]string) {
	t.Helper()
	r, err := parseReply(c.DoRaw("COMMAND"))
	require.NoError(t, err)
	require.Equal(t, byte('*'), r.Kind, "COMMAND reply")
	subs = map[string][]string{}
	for _, e := range r.Elems {
		require.GreaterOrEqual(t, len(e.Elems), 10, "COMMAND entry %q", e.Raw)
		name := e.Elems[0].Str
		names = append(names, name)
		for _, s := range e.Elems[9].Elems {
			subs[name] = append(subs[name], s.Elems[0].Str)
		}
	}
	sort.Strings(names)
	return names, subs
}

// TestDiffCommandInfoDocs compares COMMAND INFO and COMMAND DOCS for every
// command and subcommand Celerity declares. Redis lists subcommands (and
// the "subcommands" map of DOCS) in the order of a hash table seeded per
// process, so those parts are compared as sets keyed by name; everything
// else byte for byte. Containers are compared restricted to the
// subcommands Celerity implements; the ones it lacks are logged.
func TestDiffCommandInfoDocs(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	names, subs := celerityCommands(t, resptest.Dial(t, srv.Addr()))
	require.NotEmpty(t, names)
	missing := map[string][]string{}
	for _, proto := range protocols {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			p := openPair(t, srv.Addr(), proto)
			for _, name := range names {
				t.Run(name, func(t *testing.T) {
					miss := p.compareCommandInfo(t, name)
					p.compareCommandDocs(t, name)
					for _, s := range subs[name] {
						p.compareCommandInfo(t, s)
						p.compareCommandDocs(t, s)
					}
					if proto == 2 && len(miss) > 0 {
						missing[name] = miss
					}
				})
			}
		})
	}
	containers := make([]string, 0, len(missing))
	for name := range missing {
		containers = append(containers, name)
	}
	sort.Strings(containers)
	for _, name := range containers {
		t.Logf("%s: subcommands not implemented: %s", name, strings.Join(missing[name], " "))
	}
}

// compareCommandInfo compares COMMAND INFO <name> and returns the oracle's
// subcommands that Celerity lacks.
func (p *pair) compareCommandInfo(t *testing.T, name string) []string {
	t.Helper()
	args := []string{"COMMAND", "INFO", name}
	got, want := p.both(args)
	suiteStats.cmdDoc.Add(1)
	g, err := parseReply(got)
	require.NoError(t, err)
	w, err := parseReply(want)
	require.NoError(t, err)
	if !assert.True(t, g.Kind == '*' && len(g.Elems) == 1 && w.Kind == '*' && len(w.Elems) == 1,
		"%s [RESP%d]: not a one-entry array\n  celerity: %s\n  oracle:   %s", showArgs(args), p.proto, showReply(got), showReply(want)) {
		return nil
	}
	var diffs []string
	missing := compareInfoEntry(g.Elems[0], w.Elems[0], name, &diffs)
	for _, d := range diffs {
		t.Errorf("%s [RESP%d]: %s", showArgs(args), p.proto, d)
	}
	return missing
}

// infoFields names the fields of a COMMAND INFO entry, for messages.
var infoFields = []string{"name", "arity", "flags", "first key", "last key", "step", "acl categories", "tips", "key specs", "subcommands"}

// compareInfoEntry compares one COMMAND INFO entry: fields 0-8 exactly,
// field 9 (subcommands) as a set keyed by name, restricted to the
// subcommands Celerity has. It returns the oracle's subcommands Celerity
// lacks.
func compareInfoEntry(g, w *reply, path string, diffs *[]string) []string {
	if g.Null || w.Null || len(g.Elems) != 10 || len(w.Elems) != 10 {
		if !bytes.Equal(g.Raw, w.Raw) {
			*diffs = append(*diffs, fmt.Sprintf("%s: entry shape differs\n  celerity: %s\n  oracle:   %s", path, showReply(g.Raw), showReply(w.Raw)))
		}
		return nil
	}
	for i := 0; i < 9; i++ {
		if !bytes.Equal(g.Elems[i].Raw, w.Elems[i].Raw) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s differ\n  celerity: %s\n  oracle:   %s",
				path, infoFields[i], showReply(g.Elems[i].Raw), showReply(w.Elems[i].Raw)))
		}
	}
	gs, ws := g.Elems[9], w.Elems[9]
	if gs.Kind != ws.Kind {
		*diffs = append(*diffs, fmt.Sprintf("%s: subcommands type %q, oracle %q", path, gs.Kind, ws.Kind))
		return nil
	}
	oracleSubs := map[string]*reply{}
	for _, s := range ws.Elems {
		if len(s.Elems) > 0 {
			oracleSubs[s.Elems[0].Str] = s
		}
	}
	have := map[string]bool{}
	for _, s := range gs.Elems {
		if len(s.Elems) == 0 {
			*diffs = append(*diffs, fmt.Sprintf("%s: empty subcommand entry", path))
			continue
		}
		name := s.Elems[0].Str
		have[name] = true
		ws, ok := oracleSubs[name]
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: subcommand %q does not exist in Redis", path, name))
			continue
		}
		compareInfoEntry(s, ws, name, diffs)
	}
	var missing []string
	for name := range oracleSubs {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing
}

// compareCommandDocs compares COMMAND DOCS <name>: a one-pair map from the
// name to its doc map.
func (p *pair) compareCommandDocs(t *testing.T, name string) {
	t.Helper()
	args := []string{"COMMAND", "DOCS", name}
	got, want := p.both(args)
	suiteStats.cmdDoc.Add(1)
	g, err := parseReply(got)
	require.NoError(t, err)
	w, err := parseReply(want)
	require.NoError(t, err)
	if g.Kind != w.Kind || g.Head != w.Head || len(w.Elems) != 2 {
		t.Errorf("%s [RESP%d]: reply shape differs\n  celerity: %s\n  oracle:   %s", showArgs(args), p.proto, showReply(got), showReply(want))
		return
	}
	var diffs []string
	if !bytes.Equal(g.Elems[0].Raw, w.Elems[0].Raw) {
		diffs = append(diffs, fmt.Sprintf("name differs: %q vs %q", g.Elems[0].Raw, w.Elems[0].Raw))
	}
	compareDocMap(g.Elems[1], w.Elems[1], name, &diffs)
	for _, d := range diffs {
		t.Errorf("%s [RESP%d]: %s", showArgs(args), p.proto, d)
	}
}

// compareDocMap compares a command's doc map: every field exactly and in
// order, except "subcommands", a map compared by key and restricted to
// the subcommands Celerity has.
func compareDocMap(g, w *reply, path string, diffs *[]string) {
	if g.Kind != w.Kind || g.Head != w.Head {
		*diffs = append(*diffs, fmt.Sprintf("%s: doc map header differs\n  celerity: %s\n  oracle:   %s", path, showReply(g.Raw), showReply(w.Raw)))
		return
	}
	gp, wp := g.mapPairs(), w.mapPairs()
	for i := range wp {
		gk, wk := gp[i][0], wp[i][0]
		if !bytes.Equal(gk.Raw, wk.Raw) {
			*diffs = append(*diffs, fmt.Sprintf("%s: field %d is %q, oracle %q", path, i, gk.Str, wk.Str))
			return
		}
		if wk.Str != "subcommands" {
			if !bytes.Equal(gp[i][1].Raw, wp[i][1].Raw) {
				*diffs = append(*diffs, fmt.Sprintf("%s: %q differs\n  celerity: %s\n  oracle:   %s", path, wk.Str, showReply(gp[i][1].Raw), showReply(wp[i][1].Raw)))
			}
			continue
		}
		gs, ws := gp[i][1], wp[i][1]
		if gs.Kind != ws.Kind {
			*diffs = append(*diffs, fmt.Sprintf("%s: subcommands type %q, oracle %q", path, gs.Kind, ws.Kind))
			continue
		}
		oracleSubs := map[string]*reply{}
		for _, kv := range ws.mapPairs() {
			oracleSubs[kv[0].Str] = kv[1]
		}
		for _, kv := range gs.mapPairs() {
			wdoc, ok := oracleSubs[kv[0].Str]
			if !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s: subcommand %q has no Redis docs", path, kv[0].Str))
				continue
			}
			compareDocMap(kv[1], wdoc, kv[0].Str, diffs)
		}
	}
}

// TestDiffCommandCount checks COMMAND COUNT. Celerity implements a subset
// of Redis's commands, so the numbers differ by design: the reply type is
// compared with the oracle's, and the value with Celerity's own COMMAND.
func TestDiffCommandCount(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	for _, proto := range protocols {
		p := openPair(t, srv.Addr(), proto)
		got, want := p.both([]string{"COMMAND", "COUNT"})
		assert.Equal(t, want[0], got[0], "RESP%d: COMMAND COUNT type: %q vs %q", proto, got, want)
		names, _ := celerityCommands(t, p.cel)
		assert.Equal(t, fmt.Sprintf(":%d\r\n", len(names)), string(got), "RESP%d: COMMAND COUNT vs COMMAND", proto)
		t.Logf("RESP%d: COMMAND COUNT celerity %q, redis %q", proto, bytes.TrimSpace(got), bytes.TrimSpace(want))
	}
}

// TestDiffCommandList compares COMMAND LIST [FILTERBY ...] as sets,
// restricted to the names Celerity implements (its unfiltered list).
// Errors are compared exactly.
func TestDiffCommandList(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	filters := [][]string{
		{}, {"FILTERBY", "ACLCAT", "keyspace"}, {"FILTERBY", "ACLCAT", "string"}, {"FILTERBY", "ACLCAT", "write"},
		{"FILTERBY", "ACLCAT", "read"}, {"FILTERBY", "ACLCAT", "fast"}, {"FILTERBY", "ACLCAT", "slow"},
		{"FILTERBY", "ACLCAT", "dangerous"}, {"FILTERBY", "ACLCAT", "connection"}, {"FILTERBY", "ACLCAT", "admin"},
		{"FILTERBY", "ACLCAT", "KEYSPACE"}, {"FILTERBY", "ACLCAT", "nosuchcat"}, {"FILTERBY", "ACLCAT", "list"},
		{"FILTERBY", "PATTERN", "*"}, {"FILTERBY", "PATTERN", "get*"}, {"FILTERBY", "PATTERN", "*ex*"},
		{"FILTERBY", "PATTERN", "config|*"}, {"FILTERBY", "PATTERN", "CLIENT*"}, {"FILTERBY", "PATTERN", "?et"},
		{"FILTERBY", "PATTERN", "[a-c]*"}, {"filterby", "pattern", "object|enc*"}, {"FILTERBY", "MODULE", "foo"},
		{"FILTERBY", "FOO", "bar"}, {"FILTERBY", "ACLCAT"}, {"FILTERBY"}, {"FOO"}, {"FILTERBY", "PATTERN", "*", "x"},
	}
	for _, proto := range protocols {
		p := openPair(t, srv.Addr(), proto)
		all := p.cel.DoRaw("COMMAND", "LIST")
		r, err := parseReply(all)
		require.NoError(t, err)
		implemented := map[string]bool{}
		for _, e := range r.Elems {
			implemented[e.Str] = true
		}
		for _, f := range filters {
			args := append([]string{"COMMAND", "LIST"}, f...)
			got, want := p.both(args)
			suiteStats.steps[proto].Add(1)
			g, gerr := parseReply(got)
			w, werr := parseReply(want)
			require.NoError(t, gerr)
			require.NoError(t, werr)
			if g.Kind == '-' || w.Kind == '-' || g.Kind != w.Kind {
				assert.Equal(t, string(want), string(got), "%s [RESP%d]", showArgs(args), proto)
				continue
			}
			var gs, ws []string
			for _, e := range g.Elems {
				gs = append(gs, e.Str)
			}
			for _, e := range w.Elems {
				if implemented[e.Str] {
					ws = append(ws, e.Str)
				}
			}
			slices.Sort(gs)
			slices.Sort(ws)
			assert.Equal(t, ws, gs, "%s [RESP%d]: names (restricted to implemented commands)", showArgs(args), proto)
		}
	}
}

func TestDiffCommandMisc(t *testing.T) {
	runCases(t, []diffCase{
		{name: "command/info-several", steps: []step{do("COMMAND", "INFO", "get", "set"), do("COMMAND", "INFO", "GET", "nosuch", "Del")}},
		{name: "command/info-unknown", steps: []step{do("COMMAND", "INFO", "nosuch"), do("COMMAND", "INFO", "object|nosuch"), do("COMMAND", "INFO", "get|x"), do("COMMAND", "INFO", "")}},
		{name: "command/info-subcommand", steps: []step{do("COMMAND", "INFO", "object|encoding"), do("COMMAND", "INFO", "OBJECT|Help")}},
		{name: "command/docs-several", steps: []step{do("COMMAND", "DOCS", "get", "nosuch", "set"), do("COMMAND", "DOCS", "nosuch"), do("COMMAND", "DOCS", "object|freq")}},
		{name: "command/help", steps: []step{do("COMMAND", "HELP"), do("COMMAND", "help"), do("COMMAND", "HELP", "x")}},
		{name: "command/unknown-subcommand", steps: []step{do("COMMAND", "FOO"), do("COMMAND", "FOO", "bar"), do("COMMAND", "COUNT", "x")}},
	})
}
