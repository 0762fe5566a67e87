package resp

import (
	"fmt"
	"math/bits"
	"runtime"
	"runtime/debug"
	"strings"
)

// MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, with Redis
// 7.0's reply shapes and texts. The figures are Celerity's: the keyspace's
// model of what Redis would allocate for the same data (keyspace/memory.go),
// client memory (clientevict.go), and the Go runtime where Redis reports
// jemalloc's.

func memoryCommands() []*Command {
	const f = CommandFlag(0)
	return []*Command{
		{Name: "memory", Arity: -2, Sub: []*Command{
			{Name: "doctor", Arity: 2, Flags: f, Run: memoryDoctorCommand},
			{Name: "malloc-stats", Arity: 2, Flags: f, Run: memoryMallocStatsCommand},
			{Name: "purge", Arity: 2, Flags: f, Run: memoryPurgeCommand},
			{Name: "stats", Arity: 2, Flags: f, Run: memoryStatsCommand},
			{Name: "usage", Arity: -3, Flags: Readonly, Keys: KeyPos{2, 2, 1}, Run: memoryUsageCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: memoryHelpCommand},
		}},
	}
}

// memoryUsageCommand is MEMORY USAGE key [SAMPLES count]. As in Redis the
// key is looked up without expiring or touching it, so a key past its TTL
// that nothing reclaimed yet is still measured. Celerity's estimate is
// exact for the whole value, so SAMPLES is checked and otherwise unused.
func memoryUsageCommand(c *Client) {
	for j := 3; j < len(c.argv); j++ {
		if !optIs(c.argv[j], "samples") || j+1 >= len(c.argv) {
			c.SyntaxError()
			return
		}
		n, ok := parseStrictInt(c.argv[j+1])
		if !ok {
			c.Error(errNotInteger)
			return
		}
		if n < 0 {
			c.SyntaxError()
			return
		}
		j++
	}
	e := c.db.Peek(c.argv[2])
	if e == nil {
		c.Null()
		return
	}
	c.Int(e.MemoryUsage())
}

// memOverview is getMemoryOverheadData: the figures INFO memory, MEMORY
// STATS and MEMORY DOCTOR share.
type memOverview struct {
	used, peak, startup         int64
	clients, scripts            int64
	dbs                         []dbOverhead
	overhead, dataset           int64
	keys                        int64
	rss                         int64
	allocated, active, resident int64 // the Go heap, for jemalloc's figures
}

// dbOverhead is a database's dict overhead as Redis estimates it.
type dbOverhead struct {
	id            int
	main, expires int64
}

// dictSlots is a Redis dict's bucket count for n entries.
func dictSlots(n int) int64 {
	if n == 0 {
		return 0
	}
	return int64(max(4, 1<<bits.Len(uint(n-1))))
}

// memoryOverview gathers the memory figures. Engine lock. It reads the Go
// runtime's statistics, which stops the world briefly: for INFO and
// MEMORY, not for the hot path.
func (s *Server) memoryOverview() memOverview {
	var m memOverview
	m.clients = s.clientsMemory()
	_, m.scripts = s.scriptCacheStats()
	m.startup = usedMemoryStartup
	m.used = usedMemoryStartup + s.ks.Memory() + m.clients + m.scripts
	s.stats.peakMemory = max(s.stats.peakMemory, m.used)
	m.peak = s.stats.peakMemory
	m.overhead = m.startup + m.clients + m.scripts
	for i := 0; i < s.ks.NumDBs(); i++ {
		db := s.ks.DB(i)
		n, e := db.Len(), db.Expires()
		if n == 0 {
			continue
		}
		// objectComputeSize's accounting: entries, buckets and robj
		// headers of the main dict; entries and buckets of expires.
		d := dbOverhead{id: i, main: int64(n)*24 + dictSlots(n)*8 + int64(n)*16, expires: int64(e)*24 + dictSlots(e)*8}
		m.dbs = append(m.dbs, d)
		m.overhead += d.main + d.expires
		m.keys += int64(n)
	}
	m.dataset = m.used - m.overhead
	m.rss = rssBytes()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.allocated, m.active, m.resident = int64(ms.HeapAlloc), int64(ms.HeapInuse), int64(ms.HeapSys-ms.HeapReleased)
	return m
}

// ratio is a/b as Redis computes its float ratios (0 for an empty b).
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(float32(float64(a) / float64(b)))
}

// memoryStatsCommand is MEMORY STATS: Redis 7.0's fields in its order, a
// map in RESP3 and a flat array in RESP2.
func memoryStatsCommand(c *Client) {
	m := c.srv.memoryOverview()
	c.Map(27 + len(m.dbs))
	kv := func(k string, v int64) {
		c.BulkString(k)
		c.Int(v)
	}
	kd := func(k string, v float64) {
		c.BulkString(k)
		c.Double(v)
	}
	kv("peak.allocated", m.peak)
	kv("total.allocated", m.used)
	kv("startup.allocated", m.startup)
	kv("replication.backlog", 0)
	kv("clients.slaves", 0)
	kv("clients.normal", m.clients)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", m.scripts)
	kv("functions.caches", 0)
	for _, d := range m.dbs {
		c.BulkString(fmt.Sprintf("db.%d", d.id))
		c.Map(3)
		kv("overhead.hashtable.main", d.main)
		kv("overhead.hashtable.expires", d.expires)
		kv("overhead.hashtable.slot-to-keys", 0)
	}
	kv("overhead.total", m.overhead)
	kv("keys.count", m.keys)
	net := m.used - m.startup
	perKey := int64(0)
	if m.keys > 0 {
		perKey = net / m.keys
	}
	kv("keys.bytes-per-key", perKey)
	kv("dataset.bytes", m.dataset)
	kd("dataset.percentage", ratio(m.dataset*100, net))
	kd("peak.percentage", ratio(m.used*100, m.peak))
	kv("allocator.allocated", m.allocated)
	kv("allocator.active", m.active)
	kv("allocator.resident", m.resident)
	kd("allocator-fragmentation.ratio", ratio(m.active, m.allocated))
	kv("allocator-fragmentation.bytes", m.active-m.allocated)
	kd("allocator-rss.ratio", ratio(m.resident, m.active))
	kv("allocator-rss.bytes", m.resident-m.active)
	kd("rss-overhead.ratio", ratio(m.rss, m.resident))
	kv("rss-overhead.bytes", m.rss-m.resident)
	kd("fragmentation", ratio(m.rss, m.used))
	kv("fragmentation.bytes", m.rss-m.used)
}

// MEMORY DOCTOR's texts, as Redis 7.0.15 words them.
const (
	doctorHealthy   = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	doctorEmpty     = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	doctorIntro     = "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
	doctorOutro     = "I'm here to keep you safe, Sam. I want to help you.\n"
	doctorPeak      = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n"
	doctorFrag      = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"%s\".\n\n"
	doctorAllocFrag = " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n"
	doctorAllocRSS  = " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n"
	doctorProcRSS   = " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n"
	doctorClients   = " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n"
	doctorScripts   = " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n"
)

// memoryDoctorCommand is MEMORY DOCTOR: Redis's getMemoryDoctorReport
// rules applied to Celerity's figures.
func memoryDoctorCommand(c *Client) {
	s := c.srv
	m := s.memoryOverview()
	if m.used < 5<<20 {
		c.Verbatim(doctorEmpty)
		return
	}
	var b strings.Builder
	if float64(float32(float64(m.peak)/float64(m.used))) > 1.5 {
		b.WriteString(doctorPeak)
	}
	if ratio(m.rss, m.used) > 1.4 && m.rss-m.used > 10<<20 {
		fmt.Fprintf(&b, doctorFrag, "go-"+runtime.Version())
	}
	if ratio(m.active, m.allocated) > 1.1 && m.active-m.allocated > 10<<20 {
		b.WriteString(doctorAllocFrag)
	}
	if ratio(m.resident, m.active) > 1.1 && m.resident-m.active > 10<<20 {
		b.WriteString(doctorAllocRSS)
	}
	if ratio(m.rss, m.resident) > 1.1 && m.rss-m.resident > 10<<20 {
		b.WriteString(doctorProcRSS)
	}
	if n := int64(len(s.clients)); n > 0 && m.clients/n > 200<<10 {
		b.WriteString(doctorClients)
	}
	if n, _ := s.scriptCacheStats(); n > 1000 {
		b.WriteString(doctorScripts)
	}
	if b.Len() == 0 {
		c.Verbatim(doctorHealthy)
		return
	}
	c.Verbatim(doctorIntro + b.String() + doctorOutro)
}

// memoryMallocStatsCommand is MEMORY MALLOC-STATS: Redis prints
// jemalloc's statistics; Celerity prints the Go runtime's.
func memoryMallocStatsCommand(c *Client) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	fmt.Fprintf(&b, "___ Begin Go runtime memory statistics (%s) ___\n", runtime.Version())
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"heap_alloc", ms.HeapAlloc}, {"heap_inuse", ms.HeapInuse}, {"heap_idle", ms.HeapIdle},
		{"heap_released", ms.HeapReleased}, {"heap_sys", ms.HeapSys}, {"heap_objects", ms.HeapObjects},
		{"stack_inuse", ms.StackInuse}, {"sys", ms.Sys}, {"total_alloc", ms.TotalAlloc},
		{"mallocs", ms.Mallocs}, {"frees", ms.Frees}, {"num_gc", uint64(ms.NumGC)},
		{"next_gc", ms.NextGC}, {"pause_total_ns", ms.PauseTotalNs},
	} {
		fmt.Fprintf(&b, "%s: %d\n", f.name, f.v)
	}
	b.WriteString("--- End Go runtime memory statistics ---\n")
	c.Verbatim(b.String())
}

// memoryPurgeCommand is MEMORY PURGE: where Redis asks jemalloc to purge
// dirty pages, Celerity runs a garbage collection and returns free memory
// to the operating system.
func memoryPurgeCommand(c *Client) {
	debug.FreeOSMemory()
	c.OK()
}

func memoryHelpCommand(c *Client) {
	c.replyHelp([]string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}
