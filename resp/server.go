package resp

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
	"github.com/celerity/celerity/keyspace"
)

// Version is the Redis version Celerity reports (INFO, HELLO): clients gate
// features on it.
const Version = "7.0.15"

// CelerityVersion is Celerity's own version.
const CelerityVersion = "0.1.0"

// Options configure a Server beyond its redis.conf directives.
type Options struct {
	// Logger receives the server log; zero value discards.
	Logger zerolog.Logger
	// Clock drives expiry; nil means the system clock.
	Clock keyspace.Clock
	// Extensions are the Celery-aware packages (kombu, redbeat, results):
	// their commands and hooks (extension.go).
	Extensions []*Extension
	// Executable is reported by INFO server.
	Executable string
	// Reactors is the number of event-loop goroutines serving connections
	// (default 1, like Redis's single thread; commands are serialized by
	// the engine lock whatever the number).
	Reactors int
	// AOFFS is the file system of the append-only file; nil means the
	// operating system's (tests inject short writes, ENOSPC, fsync errors).
	AOFFS vfs.FS
	// Exit ends the process when the AOF cannot keep a promise (appendfsync
	// always and a failed write); nil means os.Exit.
	Exit func(code int)
}

// Server is the engine: the keyspace, the command table, the clients and
// the single engine lock that makes every command a unit.
type Server struct {
	mu sync.Mutex // the engine lock; see doc.go for what it guards

	cfg    *Config
	params map[string]*configParam
	log    zerolog.Logger
	ks     *keyspace.Keyspace
	table  *Table

	clients      map[int64]*Client
	nextID       atomic.Int64
	listeners    []net.Listener // TCP, TLS and unix listeners (listen.go)
	tlsConfig    atomic.Pointer[tls.Config]
	reloadTLS    string // the first tls-* directive CONFIG SET named: rebuild TLS (tls.go)
	reactors     []*reactor
	nextReactor  reactorCounter
	curReactor   *reactor // the reactor running units now (engine lock)
	startOnce    sync.Once
	shutdownOnce sync.Once
	closing      atomic.Bool
	done         chan struct{}

	startTime  time.Time
	runID      string
	executable string

	dirty int64 // changes since start (rdb_changes_since_last_save)

	manualClock bool // Options.Clock is not the system clock (tests)

	// Persistence (persist.go): the AOF when appendonly is on, the unit
	// being propagated, and the AOF offset after the last appended unit,
	// which replies wait on before they are written.
	aof     *aof.AOF
	aofFS   vfs.FS // nil: the operating system's (tests inject faults)
	prop    propagator
	aofOff  uint64
	loading bool         // LoadData is replaying the AOF: -LOADING
	load    loadProgress // INFO's loading_* fields
	rewrite *rewriteJob  // BGREWRITEAOF in progress
	rdb     rdbState     // RDB snapshots (rdb.go)
	// finalSave is what shutdown does about an RDB snapshot: save when
	// save points are set (SIGTERM), save again only what changed since
	// SHUTDOWN saved, or nothing (NOSAVE).
	finalSave finalSaveMode
	exit      func(code int)
	// unitStart is when the next unit starts: set when the engine lock is
	// taken for a batch and advanced by each command's end time.
	unitStart time.Time
	unitMs    int64      // unitStart in Unix ms, the time units see
	batch     []*Command // commands run since unitStart, for settleBatch
	stats     serverStats

	// batchTimedNs is the time of the batch's commands timed alone
	// (slowlog.go), which settleBatch does not share out again.
	batchTimedNs int64
	slowlog      slowlog        // SLOWLOG (slowlog.go)
	latency      latencyMonitor // LATENCY (cmd_latency.go)
	aofWaitMaxMs atomic.Int64   // longest reply wait for the AOF since the last cron tick
	lastBatched  batchedCmd     // the last top-level command timed per batch
	monitors     []*Client      // MONITOR clients (monitor.go)
	pause        clientPause    // CLIENT PAUSE (pause.go)
	tracking     trackingState  // CLIENT TRACKING (tracking.go)

	blocking map[blockKey][]*Client // FIFO of waiters per (db, key)
	watching map[blockKey][]*Client // WATCHers per (db, key)
	pubsub   pubsubState            // channels and patterns (pubsub.go)

	busyClient *Client    // running a script past busy-reply-threshold
	readyKeys  []blockKey // keys made ready in this unit, in order
	readySet   map[blockKey]bool
	qbufLimit  atomic.Int64 // client-query-buffer-limit, for reads outside the lock

	acl     aclState      // users, rules, ACL LOG (acl.go)
	ext     extensions    // Celery-aware packages (extension.go)
	scripts *scriptEngine // Lua interpreter and script cache; nil until the first script

	// Eviction (evict.go): scriptOOM is whether memory was over maxmemory
	// when the running script started; evictPending, whether the last
	// eviction stopped at its time limit with memory still over it.
	scriptOOM    bool
	evictPending bool

	cmem clientMemoryState // client memory and maxmemory-clients (clientevict.go)
}

// serverStats are INFO counters. Fields updated outside the engine lock
// are atomic.
type serverStats struct {
	connections      int64 // total_connections_received
	rejectedConns    int64
	commands         int64 // total_commands_processed
	errorReplies     int64
	errorCodes       map[string]int64
	netInput         atomic.Int64
	netOutput        atomic.Int64
	opsSamples       [16]int64 // instantaneous_ops_per_sec ring
	inSamples        [16]int64
	outSamples       [16]int64
	sampleIdx        int
	lastSampleTime   time.Time
	lastSampleOps    int64
	lastSampleIn     int64
	lastSampleOut    int64
	maxInputBuffer   int64
	maxOutputBuffer  int64
	expireCycleCPUMs int64
	blockedClients   int64
	peakMemory       int64
	overLimitSince   time.Time     // when memory went over maxmemory; zero when under
	overLimitTotal   time.Duration // time over maxmemory before overLimitSince
	reads            atomic.Int64
	writes           atomic.Int64
}

// NewServer builds a server from a loaded configuration.
func NewServer(cfg *Config, opts Options) (*Server, error) {
	clock := opts.Clock
	_, sysClock := clock.(keyspace.SystemClock)
	if clock == nil {
		clock, sysClock = keyspace.SystemClock{}, true
	}
	groups := append(builtinCommands(), extensionCommands(opts.Extensions)...)
	table, err := NewTable(groups...)
	if err != nil {
		return nil, err
	}
	for _, r := range cfg.Renames {
		if err := table.Rename(r[0], r[1]); err != nil {
			return nil, err
		}
	}
	var id [20]byte
	_, _ = rand.Read(id[:])
	s := &Server{
		cfg:         cfg,
		params:      configParams(),
		log:         opts.Logger,
		table:       table,
		clients:     make(map[int64]*Client),
		blocking:    make(map[blockKey][]*Client),
		watching:    make(map[blockKey][]*Client),
		readySet:    make(map[blockKey]bool),
		done:        make(chan struct{}),
		startTime:   time.Now(),
		runID:       hex.EncodeToString(id[:]),
		executable:  opts.Executable,
		aofFS:       opts.AOFFS,
		exit:        opts.Exit,
		manualClock: !sysClock,
	}
	s.rdb.lastSave, s.rdb.lastBgsaveOK, s.rdb.lastBgsaveSec = s.startTime, true, -1
	if s.exit == nil {
		s.exit = os.Exit
	}
	if err := s.initACL(); err != nil {
		return nil, err
	}
	// A server that will replay an AOF is loading from the start: a client
	// accepted before LoadData gets -LOADING, never a glimpse of the empty
	// dataset (a worker would see empty queues).
	s.loading = cfg.AppendOnly
	n := opts.Reactors
	if n <= 0 {
		n = cfg.IOThreads
	}
	if n <= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		r, err := newReactor(s)
		if err != nil {
			return nil, err
		}
		s.reactors = append(s.reactors, r)
	}
	s.ext.init(opts.Extensions)
	s.stats.errorCodes = make(map[string]int64)
	s.qbufLimit.Store(cfg.ClientQueryBufLimit)
	s.ks = keyspace.New(cfg.Databases, clock, s)
	s.ks.SetLimits(cfg.Limits)
	s.applyEviction()
	s.attachExtensions()
	return s, nil
}

// Config returns the server's configuration. Read it under the engine lock
// once the server runs.
func (s *Server) Config() *Config { return s.cfg }

// ServeListener accepts connections on an already open listener (tests).
// It starts the reactors and the cron if they are not running yet.
func (s *Server) ServeListener(ln net.Listener) {
	s.start()
	s.mu.Lock()
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	s.acceptLoop(ln)
}

// Serve starts the reactors and the cron and accepts connections on every
// listener until Shutdown begins. Listeners come and go while it runs
// (CONFIG SET port, bind, tls-port): it does not wait for them.
func (s *Server) Serve() {
	s.start()
	s.mu.Lock()
	lns := s.listeners
	s.mu.Unlock()
	for _, ln := range lns {
		go s.acceptLoop(ln)
	}
	<-s.done
}

// StartCron starts the reactors and the background cron (for servers
// driven by ServeListener).
func (s *Server) StartCron() { s.start() }

// start launches the reactors and the cron once.
func (s *Server) start() {
	s.startOnce.Do(func() {
		s.mu.Lock()
		s.warnEvictablePolicy() // the dataset is loaded by now
		s.mu.Unlock()
		for _, r := range s.reactors {
			go r.run()
		}
		go s.cronLoop()
	})
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Shutdown stops accepting, lets in-flight units finish, closes every
// client, waits for the reactors to stop, then flushes and fsyncs the AOF.
// Every caller returns only once all of that is done: the process may exit
// right after (SHUTDOWN runs it in a goroutine while main also calls it).
func (s *Server) Shutdown() { s.shutdownOnce.Do(s.shutdown) }

func (s *Server) shutdown() {
	s.closing.Store(true)
	close(s.done)
	s.mu.Lock()
	if s.cfg.UnixSocket != "" && len(s.listeners) > 0 {
		s.log.Info().Msg("Removing the unix socket file.") // closing its listener does
	}
	s.closeListeners()
	s.mu.Unlock()
	s.start() // reactors must run to close their connections
	for _, r := range s.reactors {
		r.wakeup()
		<-r.done
	}
	s.mu.Lock()
	s.closeAOF()
	s.finalRDBSave()
	s.mu.Unlock()
}

// Done is closed when shutdown begins.
func (s *Server) Done() <-chan struct{} { return s.done }

// KeyExpired implements keyspace.Hooks: an expired key was deleted.
func (s *Server) KeyExpired(db *keyspace.DB, key string) {
	s.alsoPropagate(db.ID(), argDEL, []byte(key))
	if len(s.watching) > 0 {
		s.touchWatchedKey(db.ID(), key)
	}
	if s.tracking.active() {
		s.trackingInvalidateKey(nil, key)
	}
}

func (s *Server) countError(msg string) {
	s.stats.errorReplies++
	s.stats.errorCodes[errorCode(msg)]++
}

// sortedClients returns the clients by id. Called with the engine lock held.
func (s *Server) sortedClients() []*Client {
	cs := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].id < cs[j].id })
	return cs
}

// Lock takes the engine lock, for extension packages running background
// work as units.
func (s *Server) Lock() { s.lock() }

// lock takes the engine lock and starts the unit clock.
func (s *Server) lock() {
	s.mu.Lock()
	s.unitStart = time.Now()
	s.unitMs = s.unitTime(s.unitStart)
}

// unitTime is the Unix ms a unit starting at t sees: t itself with the
// system clock (read once, see call), the injected clock's reading
// otherwise, so a test's manual clock governs expiry inside commands too.
func (s *Server) unitTime(t time.Time) int64 {
	if s.manualClock {
		return s.ks.ClockNow()
	}
	return t.UnixMilli()
}

// Unlock releases the engine lock.
func (s *Server) Unlock() { s.mu.Unlock() }

// Keyspace returns the keyspace; use it only under the engine lock.
func (s *Server) Keyspace() *keyspace.Keyspace { return s.ks }

// Logger returns the server's logger.
func (s *Server) Logger() zerolog.Logger { return s.log }
