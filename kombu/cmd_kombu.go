package kombu

import (
	"math"
	"sort"
	"strings"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/keyindex"
)

// defaultUnackedCount is KOMBU.UNACKED's COUNT when none is given, as
// SLOWLOG GET shows 10 entries.
const defaultUnackedCount = 10

// defaultSteps are Kombu's default priority_steps [0, 3, 6, 9]: KOMBU.QUEUES
// always shows them, plus any other step whose list exists.
var defaultSteps = [maxPriority + 1]bool{0: true, 3: true, 6: true, 9: true}

func (k *Kombu) commands() []*resp.Command {
	const flags = resp.Readonly | resp.Module | resp.NoScript
	return []*resp.Command{
		{Name: "kombu.queues", Arity: -1, Flags: flags, Run: k.queuesCommand},
		{Name: "kombu.unacked", Arity: -1, Flags: flags, Run: k.unackedCommand},
	}
}

// parseArgs reads "[DB n]" and, when withCount, "[COUNT c]" (0 = all). On
// error it has replied and ok is false.
func parseArgs(c *resp.Client, withCount bool) (db *keyspace.DB, count int, ok bool) {
	argv := c.Argv()
	db, count = c.DB(), defaultUnackedCount
	for i := 1; i < len(argv); i += 2 {
		opt := strings.ToLower(string(argv[i]))
		if i+1 >= len(argv) || (opt != "db" && (opt != "count" || !withCount)) {
			c.SyntaxError()
			return nil, 0, false
		}
		switch opt {
		case "db":
			if db, ok = c.DBArg(i + 1); !ok { // SELECT's rules
				return nil, 0, false
			}
		case "count":
			n, isInt := keyspace.ParseInt(argv[i+1])
			if !isInt {
				c.Error(errNotInteger)
				return nil, 0, false
			}
			if n < 0 {
				c.Error(errPositive)
				return nil, 0, false
			}
			count = int(min(n, math.MaxInt32))
		}
	}
	return db, count, true
}

// queuesCommand is KOMBU.QUEUES [DB n]: one map per queue (README "Kombu
// introspection"), sorted by prefix then name.
func (k *Kombu) queuesCommand(c *resp.Client) {
	db, _, ok := parseArgs(c, false)
	if !ok {
		return
	}
	now := k.nowMs()
	type row struct {
		prefix string
		q      *queueStats
	}
	var rows []row
	namespaces, complete := k.discover(db, now)
	for _, ns := range namespaces {
		for _, q := range ns.queues {
			rows = append(rows, row{ns.prefix, q})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].prefix != rows[j].prefix {
			return rows[i].prefix < rows[j].prefix
		}
		return rows[i].q.name < rows[j].q.name
	})
	c.Array(len(rows))
	for _, r := range rows {
		q := r.q
		c.Map(10 + keyindex.IncompleteFields(complete))
		c.BulkString("name")
		c.BulkString(q.name)
		c.BulkString("prefix")
		c.BulkString(r.prefix)
		c.BulkString("exchanges")
		c.Array(len(q.exchanges))
		for _, ex := range q.exchanges {
			c.BulkString(ex)
		}
		c.BulkString("messages")
		c.Int(q.messages)
		c.BulkString("priorities")
		n := 0
		for step := range q.present {
			if q.present[step] || defaultSteps[step] {
				n++
			}
		}
		c.Map(n)
		for step := range q.present {
			if q.present[step] || defaultSteps[step] {
				c.Int(int64(step))
				c.Int(q.priorities[step])
			}
		}
		c.BulkString("consumers")
		c.Int(int64(q.consumers))
		c.BulkString("unacked")
		c.Int(int64(q.unacked))
		c.BulkString("oldest_unacked_age_ms")
		if q.oldest >= 0 {
			c.Int(max(now-q.oldest, 0))
		} else {
			c.Null()
		}
		c.BulkString("unacked_redelivered")
		c.Int(int64(q.redeliv))
		c.BulkString("restored")
		c.Int(q.restored)
		keyindex.WriteIncomplete(c, complete)
	}
}

// unackedCommand is KOMBU.UNACKED [DB n] [COUNT c]: the oldest c unacked
// deliveries of the database, one map each (README "Kombu introspection").
func (k *Kombu) unackedCommand(c *resp.Client) {
	db, count, ok := parseArgs(c, true)
	if !ok {
		return
	}
	now := k.nowMs()
	type row struct {
		prefix string
		u      *unackedEntry
	}
	var rows []row
	namespaces, complete := k.discover(db, now)
	for _, ns := range namespaces {
		for _, u := range ns.unacked {
			rows = append(rows, row{ns.prefix, u})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].u.delivered < rows[j].u.delivered })
	if count > 0 && len(rows) > count {
		rows = rows[:count]
	}
	bulkOrNull := func(s string) {
		if s == "" {
			c.Null()
		} else {
			c.BulkString(s)
		}
	}
	c.Array(len(rows))
	for _, r := range rows {
		u := r.u
		c.Map(16 + keyindex.IncompleteFields(complete))
		c.BulkString("tag")
		c.BulkString(u.tag)
		c.BulkString("queue")
		bulkOrNull(u.queue)
		c.BulkString("prefix")
		c.BulkString(r.prefix)
		c.BulkString("exchange")
		c.BulkString(u.exchange)
		c.BulkString("routing_key")
		c.BulkString(u.routingKey)
		c.BulkString("priority")
		c.Int(int64(u.priority))
		c.BulkString("task")
		bulkOrNull(u.task)
		c.BulkString("task_id")
		bulkOrNull(u.taskID)
		c.BulkString("age_ms")
		if u.delivered >= 0 {
			c.Int(max(now-u.delivered, 0))
		} else {
			c.Null()
		}
		c.BulkString("index_age_ms")
		if u.score >= 0 {
			c.Int(max(now-u.score, 0))
		} else {
			c.Null()
		}
		c.BulkString("owner")
		var owner *resp.Client
		if u.owner != 0 {
			owner = c.Server().Client(u.owner)
		}
		if owner != nil {
			c.Int(owner.ID())
		} else {
			c.Null()
		}
		c.BulkString("owner_addr")
		if owner != nil {
			c.BulkString(owner.RemoteAddr())
		} else {
			c.Null()
		}
		c.BulkString("owner_name")
		if owner != nil {
			c.BulkString(owner.Name())
		} else {
			c.Null()
		}
		c.BulkString("leased")
		c.Bool(u.leased && owner != nil)
		c.BulkString("restored")
		c.Int(int64(u.restored))
		c.BulkString("redelivered")
		c.Bool(u.redelivered)
		keyindex.WriteIncomplete(c, complete)
	}
}
