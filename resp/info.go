package resp

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/keyspace"
)

// infoSections lists INFO's sections in Redis 7.0's order. "default"
// selects those marked default; "all" adds commandstats and latencystats;
// "everything" is all plus the modules' sections (extension.go).
var infoSections = []struct {
	name     string
	deflt    bool
	generate func(s *Server, b *infoBuilder)
}{
	{"server", true, (*Server).infoServer},
	{"clients", true, (*Server).infoClients},
	{"memory", true, (*Server).infoMemory},
	{"persistence", true, (*Server).infoPersistence},
	{"stats", true, (*Server).infoStats},
	{"replication", true, (*Server).infoReplication},
	{"cpu", true, (*Server).infoCPU},
	{"modules", true, func(*Server, *infoBuilder) {}},
	{"commandstats", false, (*Server).infoCommandstats},
	{"errorstats", true, (*Server).infoErrorstats},
	{"latencystats", false, (*Server).infoLatencystats},
	{"cluster", true, func(_ *Server, b *infoBuilder) { b.field("cluster_enabled", "0") }},
	{"keyspace", true, (*Server).infoKeyspace},
}

// infoBuilder accumulates INFO text with Redis's framing: "# Name" headers,
// CRLF line ends and one blank line between sections.
type infoBuilder struct{ strings.Builder }

func (b *infoBuilder) field(k, v string) {
	b.WriteString(k)
	b.WriteByte(':')
	b.WriteString(v)
	b.WriteString("\r\n")
}

func (b *infoBuilder) int(k string, v int64) { b.field(k, strconv.FormatInt(v, 10)) }

// genInfo renders the sections selected by INFO's arguments.
func (s *Server) genInfo(args [][]byte) string {
	want := map[string]bool{}
	if len(args) == 0 {
		want["default"] = true
	}
	for _, a := range args {
		want[strings.ToLower(string(a))] = true
	}
	all := want["all"] || want["everything"]
	var b infoBuilder
	for _, sec := range infoSections {
		if !(all || want[sec.name] || want["default"] && sec.deflt) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + sectionTitle(sec.name) + "\r\n")
		sec.generate(s, &b)
	}
	// Module sections: only when asked for by name or by "everything", as
	// Redis shows its modules' sections.
	for _, m := range s.ext.list {
		if !want["everything"] && !want[m.Name] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		s.extensionInfo(m.Name, &b)
	}
	return b.String()
}

// sectionTitle is a section's header name: capitalised, except CPU, which
// Redis spells in capitals (RedisInsight and exporters match headers).
func sectionTitle(name string) string {
	if name == "cpu" {
		return "CPU"
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

func (s *Server) infoServer(b *infoBuilder) {
	now := time.Now()
	uptime := int64(now.Sub(s.startTime).Seconds())
	var uts syscall.Utsname
	osName := runtime.GOOS
	if syscall.Uname(&uts) == nil {
		osName = fmt.Sprintf("%s %s %s", utsString(uts.Sysname[:]), utsString(uts.Release[:]), utsString(uts.Machine[:]))
	}
	b.field("redis_version", Version)
	b.field("redis_git_sha1", "00000000")
	b.field("redis_git_dirty", "0")
	b.field("redis_build_id", "0")
	b.field("redis_mode", "standalone")
	b.field("os", osName)
	b.field("arch_bits", strconv.Itoa(strconv.IntSize))
	b.field("monotonic_clock", "POSIX clock_gettime")
	b.field("multiplexing_api", "epoll")
	b.field("atomicvar_api", "c11-builtin")
	b.field("gcc_version", "0.0.0")
	b.int("process_id", int64(os.Getpid()))
	b.field("process_supervised", "no")
	b.field("run_id", s.runID)
	b.int("tcp_port", int64(s.cfg.Port))
	b.int("server_time_usec", now.UnixMicro())
	b.int("uptime_in_seconds", uptime)
	b.int("uptime_in_days", uptime/86400)
	b.int("hz", int64(clampHZ(s.cfg.HZ)))
	b.int("configured_hz", int64(s.cfg.HZ))
	b.int("lru_clock", (now.Unix())&(1<<24-1))
	b.field("executable", s.executable)
	b.field("config_file", s.cfg.ConfigFile)
	b.field("io_threads_active", "0")
	b.field("celerity_version", CelerityVersion)
}

func utsString(f []int8) string {
	b := make([]byte, 0, len(f))
	for _, c := range f {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func (s *Server) infoClients(b *infoBuilder) {
	b.int("connected_clients", int64(len(s.clients)))
	b.field("cluster_connections", "0")
	b.int("maxclients", int64(s.cfg.MaxClients))
	b.int("client_recent_max_input_buffer", s.stats.maxInputBuffer)
	b.int("client_recent_max_output_buffer", s.stats.maxOutputBuffer)
	b.int("blocked_clients", s.stats.blockedClients)
	b.int("tracking_clients", int64(s.tracking.clients))
	b.field("clients_in_timeout_table", "0")
}

// usedMemoryStartup approximates what an empty Redis 7.0 reports, so that
// used_memory of the same dataset stays comparable.
const usedMemoryStartup = 876192

// humanBytes renders a byte count as Redis's bytesToHuman does.
func humanBytes(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1024*1024:
		return fmt.Sprintf("%.2fK", d/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.2fM", d/(1024*1024))
	case n < 1024*1024*1024*1024:
		return fmt.Sprintf("%.2fG", d/(1024*1024*1024))
	case n < 1024*1024*1024*1024*1024:
		return fmt.Sprintf("%.2fT", d/(1024*1024*1024*1024))
	default:
		return fmt.Sprintf("%.2fP", d/(1024*1024*1024*1024*1024))
	}
}

// rssBytes reads the process's resident set size.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func (s *Server) infoMemory(b *infoBuilder) {
	m := s.memoryOverview()
	used, peak, rss, dataset, overhead := m.used, m.peak, m.rss, m.dataset, m.overhead
	total := totalSystemMemory()
	frag := 0.0
	if used > 0 {
		frag = float64(rss) / float64(used)
	}
	b.int("used_memory", used)
	b.field("used_memory_human", humanBytes(used))
	b.int("used_memory_rss", rss)
	b.field("used_memory_rss_human", humanBytes(rss))
	b.int("used_memory_peak", peak)
	b.field("used_memory_peak_human", humanBytes(peak))
	b.field("used_memory_peak_perc", fmt.Sprintf("%.2f%%", float64(used)*100/float64(peak)))
	b.int("used_memory_overhead", overhead)
	b.int("used_memory_startup", usedMemoryStartup)
	b.int("used_memory_dataset", dataset)
	b.field("used_memory_dataset_perc", fmt.Sprintf("%.2f%%", float64(dataset)*100/float64(max(used-usedMemoryStartup, 1))))
	b.int("allocator_allocated", m.allocated)
	b.int("allocator_active", m.active)
	b.int("allocator_resident", m.resident)
	b.int("total_system_memory", total)
	b.field("total_system_memory_human", humanBytes(total))
	b.field("used_memory_lua", "32768")
	b.field("used_memory_vm_eval", "32768")
	b.field("used_memory_lua_human", "32.00K")
	nScripts, _ := s.scriptCacheStats()
	scriptBytes := m.scripts
	b.int("used_memory_scripts_eval", scriptBytes)
	b.int("number_of_cached_scripts", int64(nScripts))
	b.field("number_of_functions", "0")
	b.field("number_of_libraries", "0")
	b.field("used_memory_vm_functions", "32768")
	b.field("used_memory_vm_total", "65536")
	b.field("used_memory_vm_total_human", "64.00K")
	b.field("used_memory_functions", "0")
	b.int("used_memory_scripts", scriptBytes)
	b.field("used_memory_scripts_human", humanBytes(scriptBytes))
	b.int("maxmemory", s.cfg.MaxMemory)
	b.field("maxmemory_human", humanBytes(s.cfg.MaxMemory))
	b.field("maxmemory_policy", s.cfg.MaxMemoryPolicy.String())
	b.field("allocator_frag_ratio", "1.00")
	b.field("allocator_frag_bytes", "0")
	b.field("allocator_rss_ratio", "1.00")
	b.field("allocator_rss_bytes", "0")
	b.field("rss_overhead_ratio", "1.00")
	b.field("rss_overhead_bytes", "0")
	b.field("mem_fragmentation_ratio", fmt.Sprintf("%.2f", frag))
	b.int("mem_fragmentation_bytes", rss-used)
	// Redis leaves its replica and AOF buffers out of the memory compared
	// with maxmemory; Celerity leaves out client memory and the script
	// cache (evict.go), and says so here: used_memory minus this field is
	// what eviction sees.
	b.int("mem_not_counted_for_evict", used-s.evictionUsedMemory())
	b.field("mem_replication_backlog", "0")
	b.field("mem_total_replication_buffers", "0")
	b.field("mem_clients_slaves", "0")
	b.int("mem_clients_normal", m.clients)
	b.field("mem_cluster_links", "0")
	b.field("mem_aof_buffer", "0")
	b.field("mem_allocator", "go-"+runtime.Version())
	b.field("active_defrag_running", "0")
	b.field("lazyfree_pending_objects", "0")
	b.field("lazyfreed_objects", "0")
	if s.cfg.MaxMemoryPolicy == keyspace.BrokerSafe {
		// Celerity's own fields, only under its own policy (brokersafe.go).
		st := s.ks.Stats()
		var reserve, used int64
		if s.cfg.MaxMemory > 0 {
			reserve = brokerReserve(s.cfg.MaxMemory)
			used = min(max(0, s.evictionUsedMemory()-s.cfg.MaxMemory), reserve)
		}
		b.int("broker_reserve_bytes", reserve)
		b.int("broker_reserve_used", used)
		b.int("broker_evicted_expendable", st.EvictedExpendable)
		b.int("broker_evicted_other", st.EvictedOther)
		cm := s.ks.ClassMemory()
		b.int("broker_protected_bytes", cm[keyspace.ClassProtected])
		b.int("broker_expendable_bytes", cm[keyspace.ClassExpendable])
		b.int("broker_other_bytes", cm[keyspace.ClassOther])
	}
}

func (s *Server) infoPersistence(b *infoBuilder) {
	b.field("loading", boolDigit(s.loading))
	b.field("async_loading", "0")
	b.field("current_cow_peak", "0")
	b.field("current_cow_size", "0")
	b.field("current_cow_size_age", "0")
	b.field("current_fork_perc", "0.00")
	b.field("current_save_keys_processed", "0")
	var saveKeys int64
	curSave := int64(-1)
	if j := s.rdb.bgsave; j != nil {
		for _, sz := range j.enc.sizes {
			saveKeys += int64(sz[0])
		}
		curSave = int64(time.Since(j.start).Seconds())
	}
	b.int("current_save_keys_total", saveKeys)
	b.int("rdb_changes_since_last_save", s.dirty-s.rdb.dirtyAtSave)
	b.field("rdb_bgsave_in_progress", boolDigit(s.rdb.bgsave != nil))
	b.int("rdb_last_save_time", s.rdb.lastSave.Unix())
	b.field("rdb_last_bgsave_status", okErr(s.rdb.lastBgsaveOK))
	b.int("rdb_last_bgsave_time_sec", s.rdb.lastBgsaveSec)
	b.int("rdb_current_bgsave_time_sec", curSave)
	b.int("rdb_saves", s.rdb.saves)
	b.field("rdb_last_cow_size", "0")
	b.int("rdb_last_load_keys_expired", s.rdb.expiredKeys)
	b.int("rdb_last_load_keys_loaded", s.rdb.loadedKeys)
	st := aof.Stats{LastRewriteOK: true, LastRewriteTimeSec: -1, CurrentRewriteTimeSec: -1}
	if s.aof != nil {
		st = s.aof.Stats()
	}
	b.field("aof_enabled", boolDigit(s.aof != nil))
	b.field("aof_rewrite_in_progress", boolDigit(st.RewriteInProgress))
	b.field("aof_rewrite_scheduled", boolDigit(s.rdb.rewriteScheduled))
	b.int("aof_last_rewrite_time_sec", st.LastRewriteTimeSec)
	b.int("aof_current_rewrite_time_sec", st.CurrentRewriteTimeSec)
	b.field("aof_last_bgrewrite_status", okErr(st.LastRewriteOK))
	b.int("aof_rewrites", st.Rewrites)
	b.int("aof_rewrites_consecutive_failures", st.RewritesConsecutiveFailures)
	b.field("aof_last_write_status", okErr(st.LastWriteErr == nil))
	b.field("aof_last_cow_size", "0")
	b.field("module_fork_in_progress", "0")
	b.field("module_fork_last_cow_size", "0")
	if s.aof != nil {
		b.int("aof_current_size", st.CurrentSize)
		b.int("aof_base_size", st.BaseSize)
		b.field("aof_pending_rewrite", "0")
		b.int("aof_buffer_length", st.BufferLength)
		b.int("aof_pending_bio_fsync", int64(st.PendingBioFsync))
		b.int("aof_delayed_fsync", st.DelayedFsync)
	}
	if s.loading {
		ld := s.load
		elapsed := time.Since(ld.start).Seconds()
		perc := 0.0
		if ld.total > 0 {
			perc = float64(ld.done) / float64(ld.total) * 100
		}
		eta := int64(1)
		if ld.done > 0 && elapsed > 0 {
			eta = int64(float64(ld.total-ld.done) / (float64(ld.done) / elapsed))
		}
		b.int("loading_start_time", ld.start.Unix())
		b.int("loading_total_bytes", ld.total)
		b.field("loading_rdb_used_mem", "0")
		b.int("loading_loaded_bytes", ld.done)
		b.field("loading_loaded_perc", fmt.Sprintf("%.2f", perc))
		b.int("loading_eta_seconds", eta)
	}
}

func boolDigit(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func (s *Server) infoStats(b *infoBuilder) {
	st := &s.stats
	ks := s.ks.Stats()
	b.int("total_connections_received", st.connections)
	b.int("total_commands_processed", st.commands)
	b.int("instantaneous_ops_per_sec", sampleMean(&st.opsSamples))
	b.int("total_net_input_bytes", st.netInput.Load())
	b.int("total_net_output_bytes", st.netOutput.Load())
	b.field("total_net_repl_input_bytes", "0")
	b.field("total_net_repl_output_bytes", "0")
	b.field("instantaneous_input_kbps", fmt.Sprintf("%.2f", float64(sampleMean(&st.inSamples))/1024))
	b.field("instantaneous_output_kbps", fmt.Sprintf("%.2f", float64(sampleMean(&st.outSamples))/1024))
	b.field("instantaneous_input_repl_kbps", "0.00")
	b.field("instantaneous_output_repl_kbps", "0.00")
	b.int("rejected_connections", st.rejectedConns)
	b.field("sync_full", "0")
	b.field("sync_partial_ok", "0")
	b.field("sync_partial_err", "0")
	b.int("expired_keys", ks.Expired)
	b.field("expired_stale_perc", fmt.Sprintf("%.2f", ks.ExpiredStalePerc))
	b.int("expired_time_cap_reached_count", ks.ExpireCapReached)
	b.int("expire_cycle_cpu_milliseconds", st.expireCycleCPUMs)
	b.int("evicted_keys", ks.Evicted)
	b.int("evicted_clients", s.cmem.evicted)
	overTotal, overCur := s.overLimitTimes()
	b.int("total_eviction_exceeded_time", overTotal)
	b.int("current_eviction_exceeded_time", overCur)
	b.int("keyspace_hits", ks.Hits)
	b.int("keyspace_misses", ks.Misses)
	b.int("pubsub_channels", int64(len(s.pubsub.channels)))
	b.int("pubsub_patterns", int64(len(s.pubsub.patterns)))
	b.int("pubsubshard_channels", int64(len(s.pubsub.shard)))
	b.field("latest_fork_usec", "0")
	b.field("total_forks", "0")
	b.field("migrate_cached_sockets", "0")
	b.field("slave_expires_tracked_keys", "0")
	b.field("active_defrag_hits", "0")
	b.field("active_defrag_misses", "0")
	b.field("active_defrag_key_hits", "0")
	b.field("active_defrag_key_misses", "0")
	b.field("total_active_defrag_time", "0")
	b.field("current_active_defrag_time", "0")
	keys, items, prefixes := s.trackingInfoStats()
	b.field("tracking_total_keys", keys)
	b.field("tracking_total_items", items)
	b.field("tracking_total_prefixes", prefixes)
	b.field("unexpected_error_replies", "0")
	b.int("total_error_replies", st.errorReplies)
	b.field("dump_payload_sanitizations", "0")
	b.int("total_reads_processed", st.reads.Load())
	b.int("total_writes_processed", st.writes.Load())
	b.field("io_threaded_reads_processed", "0")
	b.field("io_threaded_writes_processed", "0")
	b.field("reply_buffer_shrinks", "0")
	b.field("reply_buffer_expands", "0")
}

func (s *Server) infoReplication(b *infoBuilder) {
	b.field("role", "master")
	b.field("connected_slaves", "0")
	b.field("master_failover_state", "no-failover")
	b.field("master_replid", s.runID)
	b.field("master_replid2", strings.Repeat("0", 40))
	b.field("master_repl_offset", "0")
	b.field("second_repl_offset", "-1")
	b.field("repl_backlog_active", "0")
	b.field("repl_backlog_size", "1048576")
	b.field("repl_backlog_first_byte_offset", "0")
	b.field("repl_backlog_histlen", "0")
}

func (s *Server) infoCPU(b *infoBuilder) {
	var ru, ruc syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ruc)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	b.field("used_cpu_sys", tv(ru.Stime))
	b.field("used_cpu_user", tv(ru.Utime))
	b.field("used_cpu_sys_children", tv(ruc.Stime))
	b.field("used_cpu_user_children", tv(ruc.Utime))
	b.field("used_cpu_sys_main_thread", tv(ru.Stime))
	b.field("used_cpu_user_main_thread", tv(ru.Utime))
}

func (s *Server) infoCommandstats(b *infoBuilder) {
	for _, c := range s.allCommands() {
		st := c.stats
		if st.calls == 0 && st.failed == 0 && st.rejected == 0 {
			continue
		}
		usec := st.nsec / 1000
		per := 0.0
		if st.calls > 0 {
			per = float64(usec) / float64(st.calls)
		}
		b.field("cmdstat_"+c.fullName, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			st.calls, usec, per, st.rejected, st.failed))
	}
}

func (s *Server) infoLatencystats(b *infoBuilder) {
	if !s.cfg.LatencyTracking {
		return // Redis shows the header alone
	}
	for _, c := range s.allCommands() {
		if h := c.stats.latency; h != nil && h.total > 0 {
			b.field("latency_percentiles_usec_"+c.fullName, h.infoLine(s.cfg.LatencyPercentiles))
		}
	}
}

// allCommands lists commands and subcommands in table order.
func (s *Server) allCommands() []*Command {
	var all []*Command
	for _, c := range s.table.sorted {
		all = append(all, c)
		all = append(all, c.Sub...)
	}
	return all
}

func (s *Server) infoErrorstats(b *infoBuilder) {
	codes := make([]string, 0, len(s.stats.errorCodes))
	for k := range s.stats.errorCodes {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		b.field("errorstat_"+k, "count="+strconv.FormatInt(s.stats.errorCodes[k], 10))
	}
}

func (s *Server) infoKeyspace(b *infoBuilder) {
	for i := 0; i < s.ks.NumDBs(); i++ {
		db := s.ks.DB(i)
		if db.Len() == 0 {
			continue
		}
		b.field("db"+strconv.Itoa(i), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=%d", db.Len(), db.Expires(), db.AvgTTL()))
	}
}
