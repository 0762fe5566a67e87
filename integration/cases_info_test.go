package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/resptest"
)

// INFO cannot be compared byte for byte: most values are process
// measurements (memory, CPU, uptime, ids, ports, buffer sizes). cmpInfo
// compares what must match: the reply type (bulk in RESP2, verbatim txt in
// RESP3), the framing (CRLF lines, one blank line between sections, none
// at the end), the sequence of section headers, per section the sequence
// of field names, the values of the fields that are equal in equal states
// (infoExactFields, and the counters of Keyspace, Errorstats and
// Commandstats), and the format of every other value. Every case starts
// with CONFIG RESETSTAT so the counters start alike on both servers.

// infoSection is one "# Name" section: its fields in order.
type infoSection struct {
	name   string
	fields [][2]string
}

// parseInfo checks INFO's framing and splits it into sections.
func parseInfo(r *reply) ([]infoSection, string) {
	text := r.Str
	switch r.Kind {
	case '$':
	case '=':
		if !strings.HasPrefix(text, "txt:") {
			return nil, "verbatim string without txt: format"
		}
		text = text[4:]
	default:
		return nil, fmt.Sprintf("type %q is neither bulk nor verbatim", r.Kind)
	}
	if text == "" {
		return nil, ""
	}
	if strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\r") {
		return nil, "a line does not end in CRLF"
	}
	if !strings.HasSuffix(text, "\r\n") || strings.HasSuffix(text, "\r\n\r\n") {
		return nil, "text must end in exactly one CRLF (no blank line at the end)"
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	var secs []infoSection
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, "# "):
			if i > 0 && lines[i-1] != "" {
				return nil, fmt.Sprintf("header %q not preceded by a blank line", line)
			}
			secs = append(secs, infoSection{name: line[2:]})
		case line == "":
			if i == 0 || lines[i-1] == "" || i+1 == len(lines) || !strings.HasPrefix(lines[i+1], "# ") {
				return nil, fmt.Sprintf("blank line %d not between two sections", i)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || k == "" || len(secs) == 0 {
				return nil, fmt.Sprintf("line %q is not field:value inside a section", line)
			}
			secs[len(secs)-1].fields = append(secs[len(secs)-1].fields, [2]string{k, v})
		}
	}
	return secs, ""
}

// infoExactFields are equal on both servers when both ran the same
// commands since CONFIG RESETSTAT (counters), or are constants of a
// standalone 7.0 server without persistence on this machine. (The
// *_eviction_exceeded_time fields are milliseconds spent over maxmemory:
// timings, compared by format only. mem_not_counted_for_evict is 0 on a
// Redis without replicas or AOF, and client memory on Celerity, whose
// eviction leaves client buffers out: compared by format.)
var infoExactFields = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`
		redis_version redis_git_dirty redis_mode os arch_bits monotonic_clock multiplexing_api
		atomicvar_api process_supervised hz configured_hz config_file io_threads_active
		cluster_connections maxclients blocked_clients tracking_clients clients_in_timeout_table
		number_of_cached_scripts number_of_functions number_of_libraries maxmemory maxmemory_human
		maxmemory_policy mem_replication_backlog mem_total_replication_buffers
		mem_clients_slaves mem_cluster_links mem_aof_buffer active_defrag_running lazyfree_pending_objects
		lazyfreed_objects
		loading async_loading current_cow_peak current_cow_size current_cow_size_age current_fork_perc
		current_save_keys_processed current_save_keys_total rdb_bgsave_in_progress rdb_last_bgsave_status
		rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec rdb_saves rdb_last_cow_size
		rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled aof_rewrite_in_progress
		aof_rewrite_scheduled aof_last_rewrite_time_sec aof_current_rewrite_time_sec
		aof_last_bgrewrite_status aof_rewrites aof_rewrites_consecutive_failures aof_last_write_status
		aof_last_cow_size module_fork_in_progress module_fork_last_cow_size
		total_connections_received total_commands_processed total_net_repl_input_bytes
		total_net_repl_output_bytes instantaneous_input_repl_kbps instantaneous_output_repl_kbps
		rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys evicted_keys
		evicted_clients keyspace_hits
		keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels latest_fork_usec total_forks
		migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits active_defrag_misses
		active_defrag_key_hits active_defrag_key_misses total_active_defrag_time
		current_active_defrag_time tracking_total_keys tracking_total_items tracking_total_prefixes
		unexpected_error_replies total_error_replies dump_payload_sanitizations
		io_threaded_reads_processed io_threaded_writes_processed
		role connected_slaves master_failover_state master_replid2 master_repl_offset second_repl_offset
		repl_backlog_active repl_backlog_size repl_backlog_first_byte_offset repl_backlog_histlen
		cluster_enabled`) {
		infoExactFields[f] = true
	}
}

// infoHexFields hold hexadecimal ids and hashes (run_id, build id...).
var infoHexFields = map[string]bool{
	"redis_git_sha1": true, "redis_build_id": true, "run_id": true, "master_replid": true, "master_replid2": true,
}

var (
	reInt   = regexp.MustCompile(`^-?[0-9]+$`)
	reFloat = regexp.MustCompile(`^-?[0-9]+\.([0-9]+)$`)
	reHuman = regexp.MustCompile(`^[0-9]+(B|\.[0-9]{2}[KMGTP])$`)
	rePerc  = regexp.MustCompile(`^[0-9]+\.[0-9]{2}%$`)
	reHex   = regexp.MustCompile(`^[0-9a-f]+$`)
)

// valueFormat classifies an INFO value: integer, float with N decimals,
// *_human size, percentage, ok/err status, empty, or other text.
func valueFormat(field, v string) string {
	switch {
	case infoHexFields[field]:
		if reHex.MatchString(v) {
			return "hex"
		}
	case v == "":
		return "empty"
	case reInt.MatchString(v):
		return "integer"
	case reFloat.MatchString(v):
		return fmt.Sprintf("float with %d decimals", len(reFloat.FindStringSubmatch(v)[1]))
	case strings.HasSuffix(field, "_human") && reHuman.MatchString(v):
		return "human size"
	case rePerc.MatchString(v):
		return "percentage"
	case v == "ok" || v == "err":
		return "status"
	}
	return "text"
}

// cmpInfo compares INFO replies (see the top of the file). The
// Latencystats section is compared by cmpInfoLatency only, so that its one
// known gap is reported once, not by every INFO ALL.
func cmpInfo(g, w *reply) string { return compareInfo(g, w, false) }

// cmpInfoLatency is cmpInfo that also compares the Latencystats section:
// the same commands listed (as sets: Redis lists them in hash order), each
// with p50, p99 and p99.9 in Redis's format.
func cmpInfoLatency(g, w *reply) string { return compareInfo(g, w, true) }

func compareInfo(g, w *reply, latency bool) string {
	if g.Kind != w.Kind {
		return fmt.Sprintf("type %q, oracle %q", g.Kind, w.Kind)
	}
	if w.Kind == '-' {
		if string(g.Raw) != string(w.Raw) {
			return "errors differ"
		}
		return ""
	}
	ws, why := parseInfo(w)
	if why != "" {
		return "oracle: " + why
	}
	gs, why := parseInfo(g)
	if why != "" {
		return "celerity: " + why
	}
	if a, b := sectionNames(gs), sectionNames(ws); !slices.Equal(a, b) {
		return fmt.Sprintf("sections %q, oracle %q", a, b)
	}
	for i := range ws {
		if why := compareSection(gs[i], ws[i], latency); why != "" {
			return "# " + ws[i].name + ": " + why
		}
	}
	return ""
}

func sectionNames(secs []infoSection) []string {
	out := make([]string, len(secs))
	for i, s := range secs {
		out[i] = s.name
	}
	return out
}

// infoUnchecked are fields whose value says nothing here: the in-process
// Celerity under test has no executable of its own (cmd/celerity-server
// reports os.Executable()).
var infoUnchecked = map[string]bool{"executable": true}

func compareSection(g, w infoSection, latency bool) string {
	switch w.name {
	case "Server":
		// Celerity adds exactly one field, its own version, at the end.
		n := len(g.fields)
		if n == 0 || g.fields[n-1][0] != "celerity_version" {
			return "celerity_version is not the last field"
		}
		g.fields = g.fields[:n-1]
	case "Commandstats":
		return compareStatLines(g.fields, w.fields, "calls", "rejected_calls", "failed_calls")
	case "Latencystats":
		if !latency {
			return ""
		}
		return compareStatLines(g.fields, w.fields)
	case "Keyspace":
		// avg_ttl is an estimate Redis refreshes from samples of its
		// active expiry cycle, so only its format is compared.
		return compareStatLines(g.fields, w.fields, "keys", "expires")
	case "Errorstats":
		if a, b := fmt.Sprint(g.fields), fmt.Sprint(w.fields); a != b {
			return fmt.Sprintf("fields %s, oracle %s", a, b)
		}
		return ""
	}
	gn, wn := fieldKeys(g.fields), fieldKeys(w.fields)
	if !slices.Equal(gn, wn) {
		return fmt.Sprintf("field names differ\n    celerity: %q\n    oracle:   %q", gn, wn)
	}
	for i, kv := range w.fields {
		k, gv, wv := kv[0], g.fields[i][1], kv[1]
		if infoUnchecked[k] {
			continue
		}
		if infoExactFields[k] {
			if gv != wv {
				return fmt.Sprintf("%s is %q, oracle %q", k, gv, wv)
			}
			continue
		}
		if a, b := valueFormat(k, gv), valueFormat(k, wv); a != b {
			return fmt.Sprintf("%s:%s is %s, oracle's %s is %s", k, gv, a, wv, b)
		}
	}
	return ""
}

func fieldKeys(fields [][2]string) []string {
	out := make([]string, len(fields))
	for i, kv := range fields {
		out[i] = kv[0]
	}
	return out
}

// compareStatLines compares "name:k=v,k=v" lines as a set of names (Redis
// lists commands in hash-table order); per name the keys in order, the
// values of exact keys, and the format of the others.
func compareStatLines(g, w [][2]string, exact ...string) string {
	gm, wm := map[string]string{}, map[string]string{}
	for _, kv := range g {
		gm[kv[0]] = kv[1]
	}
	for _, kv := range w {
		wm[kv[0]] = kv[1]
	}
	gn, wn := fieldKeys(g), fieldKeys(w)
	slices.Sort(gn)
	slices.Sort(wn)
	if !slices.Equal(gn, wn) {
		return fmt.Sprintf("names differ\n    celerity: %q\n    oracle:   %q", gn, wn)
	}
	for _, name := range wn {
		gp, wp := strings.Split(gm[name], ","), strings.Split(wm[name], ",")
		if len(gp) != len(wp) {
			return fmt.Sprintf("%s:%s, oracle %s", name, gm[name], wm[name])
		}
		for i := range wp {
			gk, gv, _ := strings.Cut(gp[i], "=")
			wk, wv, _ := strings.Cut(wp[i], "=")
			if gk != wk {
				return fmt.Sprintf("%s:%s, oracle %s", name, gm[name], wm[name])
			}
			if slices.Contains(exact, wk) {
				if gv != wv {
					return fmt.Sprintf("%s: %s=%s, oracle %s", name, wk, gv, wv)
				}
			} else if a, b := valueFormat(wk, gv), valueFormat(wk, wv); a != b {
				return fmt.Sprintf("%s: %s=%s is %s, oracle's %s is %s", name, wk, gv, a, wv, b)
			}
		}
	}
	return ""
}

func TestDiffInfo(t *testing.T) {
	reset := x("CONFIG", "RESETSTAT")
	info := func(args ...string) xstep { return x(append([]string{"INFO"}, args...)...).with(cmpInfo) }
	var sections []xstep
	for _, s := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
		"commandstats", "errorstats", "cluster", "keyspace"} {
		sections = append(sections, info(s))
	}
	// A little of everything, so counters, keyspace lines and stats lines
	// have something to show.
	workload := []xstep{
		x("SET", "a", "1"), x("SET", "b", "2", "EX", "1000"), x("GET", "a"), x("GET", "nokey"), x("MGET", "a", "b", "c"),
		x("INCR", "a"), x("INCR", "b"), x("GET"), x("FOO"), x("LPUSH", "a", "x"), x("SELECT", "3"), x("SET", "c", "3"),
		x("EXPIRE", "c", "2000"), x("SELECT", "0"), x("CLIENT", "SETNAME", "a b"), x("OBJECT", "ENCODING", "nokey"),
		x("CONFIG", "SET", "nosuch", "1"), x("EXISTS", "a", "nokey"),
	}
	cases := []xcase{
		{name: "info/default", steps: []xstep{reset, info(), info("default"), info("DEFAULT")}},
		{name: "info/each-section", steps: append([]xstep{reset}, sections...)},
		{name: "info/all", steps: []xstep{reset, info("all"), info("everything"), info("ALL"), info("Everything")}},
		{name: "info/several-sections", steps: []xstep{
			reset, info("server", "clients"), info("clients", "server"), info("default", "commandstats"), info("server", "server"),
			info("cpu", "keyspace", "cluster"), info("all", "server"), info("everything", "default"), info("commandstats", "all")}},
		{name: "info/mixed-case", steps: []xstep{reset, info("SeRvEr"), info("CPU"), info("Keyspace"), info("ERRORSTATS", "Stats")}},
		{name: "info/unknown-section", steps: []xstep{
			reset, x("INFO", "nosuch"), x("INFO", ""), info("server", "nosuch"), info("nosuch", "cpu"), x("INFO", "latency"),
			x("INFO", "cpu|x")}},
		{name: "info/after-workload", steps: append(append([]xstep{reset}, workload...),
			info("stats"), info("keyspace"), info("errorstats"), info("commandstats"), info("everything"))},
		{name: "info/keyspace", steps: []xstep{
			reset, info("keyspace"), x("SET", "a", "1"), info("keyspace"), x("SET", "b", "1", "EX", "1000"),
			x("SET", "c", "1", "PX", "5000000"), info("keyspace"), x("SELECT", "15"), x("SET", "z", "1"), info("keyspace"),
			x("DEL", "z"), info("keyspace"), x("SELECT", "0"), x("FLUSHALL"), info("keyspace")}},
		{name: "info/errorstats", steps: []xstep{
			reset, info("errorstats"), x("GET"), info("errorstats"), x("SET", "s", "v"), x("LPUSH", "s", "x"), x("INCR", "s"),
			x("FOO"), x("SELECT", "99"), x("HELLO", "4"), x("AUTH", "bob", "x"), x("CLIENT", "FOO"), info("errorstats"),
			info("stats"), info("commandstats"), reset, info("errorstats")}},
		{name: "info/commandstats", steps: []xstep{
			reset, info("commandstats"), x("PING"), x("PING"), x("ECHO", "x"), x("GET", "k"), x("GET"), x("SET", "k", "v", "NX", "XX"),
			x("CLIENT", "GETNAME"), x("CLIENT", "SETNAME", "a b"), x("CONFIG", "GET", "hz"), x("CLIENT", "SETNAME"), x("OBJECT", "HELP"),
			info("commandstats"), info("stats")}},
		{name: "info/config-hz", cleanup: [][]string{{"CONFIG", "SET", "hz", "10"}}, steps: []xstep{
			reset, x("CONFIG", "SET", "hz", "1000"), info("server"), x("CONFIG", "SET", "hz", "0"), info("server"),
			x("CONFIG", "SET", "hz", "37"), info("server"), x("CONFIG", "SET", "hz", "10")}},
		{name: "info/maxclients", cleanup: [][]string{{"CONFIG", "SET", "maxclients", "10000"}}, steps: []xstep{
			reset, x("CONFIG", "SET", "maxclients", "1234"), info("clients"), x("CONFIG", "SET", "maxclients", "10000"), info("clients")}},
	}
	runX(t, defaultTarget(t), cases)
}

// TestDiffInfoLatencystats compares the Latencystats section on its own:
// the commands listed and the format of their percentiles.
func TestDiffInfoLatencystats(t *testing.T) {
	lat := x("INFO", "latencystats").with(cmpInfoLatency)
	runX(t, defaultTarget(t), []xcase{
		{name: "info/latencystats", steps: []xstep{
			x("CONFIG", "RESETSTAT"), lat, x("PING"), x("SET", "k", "v"), x("GET", "k"), x("GET"), x("FOO"), lat}},
	})
}

// TestDiffInfoAuth checks what unauthenticated clients leave in the
// statistics (NOAUTH and WRONGPASS errors, rejected and failed calls).
func TestDiffInfoAuth(t *testing.T) {
	info := func(args ...string) xstep { return x(append([]string{"INFO"}, args...)...).with(cmpInfo) }
	runX(t, authTarget(t), []xcase{
		{name: "info/unauthenticated-errors", conns: 2, steps: []xstep{
			login(0), x("CONFIG", "RESETSTAT"), on(1, "PING"), on(1, "GET", "k"), on(1, "AUTH", "wrong"), on(1, "HELLO", "3"),
			on(1, "AUTH", "bob", testPassword), on(1, "FOO"), on(1, "GET"), info("errorstats"), info("commandstats"), info("stats"),
			login(1), on(1, "PING"), info("commandstats"), info("clients")}},
	})
}

// TestDiffInfoAOF compares the Persistence section of servers that have
// an append-only file: the aof_* fields Redis adds when AOF is on.
func TestDiffInfoAOF(t *testing.T) {
	needOracle(t)
	dir := t.TempDir()
	ora := startRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
	srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		for _, d := range [][]string{{"dir", dir}, {"appendonly", "yes"}, {"aof-use-rdb-preamble", "no"}} {
			require.NoError(t, cfg.Apply(conffile.Directive{Name: d[0], Args: d[1:]}))
		}
	}))
	info := func(args ...string) xstep { return x(append([]string{"INFO"}, args...)...).with(cmpInfo) }
	runX(t, target{cel: srv.Addr(), ora: ora}, []xcase{
		{name: "info/aof-persistence", steps: []xstep{
			// (Not INFO default: Memory's mem_not_counted_for_evict counts
			// Redis's AOF buffer, which Celerity does not have.)
			x("CONFIG", "RESETSTAT"), info("persistence"), x("SET", "k", "v"), x("INCR", "n"), info("persistence"),
			info("persistence", "stats", "keyspace")}},
	})
}

// TestDiffInfoClientStates compares Clients and Stats while clients are
// blocked, subscribed and in a transaction.
func TestDiffInfoClientStates(t *testing.T) {
	info := func(args ...string) xstep { return x(append([]string{"INFO"}, args...)...).with(cmpInfo) }
	runX(t, defaultTarget(t), []xcase{
		{name: "info/blocked-and-pubsub", conns: 4, steps: []xstep{
			// RESETSTAT after the wait: awaitBlocked polls CLIENT LIST
			// until the client is blocked, as often as each server needs.
			sendOn(1, "BLPOP", "q", "0"), awaitBlocked(1), x("CONFIG", "RESETSTAT"), on(2, "SUBSCRIBE", "ch1", "ch2"),
			on(3, "PSUBSCRIBE", "p*"), on(0, "MULTI"), on(0, "PING"), on(0, "DISCARD"),
			info("clients"), info("stats"), x("RPUSH", "q", "a"), recvOn(1), info("clients"), info("stats")}},
	})
}
