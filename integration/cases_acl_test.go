package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/resptest"
)

// ACL cases: users and rules (ACL SETUSER/GETUSER/LIST/DELUSER...), the
// NOPERM refusals of commands, keys and channels at top level, in MULTI
// and in scripts, AUTH and HELLO AUTH with users, the clients a user change
// disconnects, CLIENT KILL USER, requirepass, the ACL LOG.
//
// They run against their own redis-server (ACL changes would leak into the
// shared oracle's other tests), with a cleanup that restores the users.
//
// Two things legitimately differ and are compared loosely: Redis lists the
// single-command rules of ACL LIST/GETUSER (and the commands of ACL CAT
// <category>) in the order of its command dictionary, which is seeded at
// random at every start, so only their set is compared (the categories'
// order is exact); and ACL LOG's age and client-info, compared as
// CLIENT LIST lines are.

// aclTarget is a fresh Celerity and a fresh redis-server.
func aclTarget(t *testing.T) target {
	t.Helper()
	needOracle(t)
	return target{cel: resptest.NewServer(t).Addr(), ora: startRedis(t)}
}

// aclCleanup restores the ACL state the cases start from: only the
// default user (any password works for it when it is nopass, and "pw" when
// a case left it with requirepass pw), an empty log, the ACL configs.
var aclCleanup = [][]string{
	{"AUTH", "default", "pw"},
	{"CONFIG", "SET", "requirepass", "", "acl-pubsub-default", "resetchannels", "acllog-max-len", "128"},
	{"ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all", "clearselectors"},
	{"ACL", "DELUSER", "alice", "bob", "carol", "dave", "erin"},
	{"ACL", "LOG", "RESET"},
}

// normRules makes rule text comparable: runs of single-command rules
// ("+get", "-client|kill") are sorted, everything else keeps its place.
func normRules(s string) string {
	words := strings.Split(s, " ")
	single := func(w string) bool {
		return len(w) > 1 && (w[0] == '+' || w[0] == '-') && w[1] != '@'
	}
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && single(words[j]) {
			j++
		}
		if j > i {
			slices.Sort(words[i:j])
			i = j
		} else {
			i++
		}
	}
	return strings.Join(words, " ")
}

// cmpRules compares replies carrying ACL rule text (ACL LIST, GETUSER)
// with normRules applied to every string; structure and everything else
// exactly.
func cmpRules(g, w *reply) string {
	if g.Kind != w.Kind || g.Null != w.Null || g.Head != w.Head && g.isAggregate() {
		return fmt.Sprintf("type/size %q %q, oracle %q %q", g.Kind, g.Head, w.Kind, w.Head)
	}
	if g.isAggregate() {
		for i := range w.Elems {
			if why := cmpRules(g.Elems[i], w.Elems[i]); why != "" {
				return fmt.Sprintf("element %d: %s", i, why)
			}
		}
		return ""
	}
	if g.Kind == '$' {
		if a, b := normRules(g.Str), normRules(w.Str); a != b {
			return fmt.Sprintf("rules %q, oracle %q", a, b)
		}
		return ""
	}
	if string(g.Raw) != string(w.Raw) {
		return "bytes differ"
	}
	return ""
}

// cmpUnorderedX is modeUnordered for the extended runner (ACL CAT <cat>).
func cmpUnorderedX(g, w *reply) string { return compareReplies(modeUnordered, g.Raw, w.Raw) }

// cmpACLLog compares ACL LOG replies: each entry's keys, count, reason,
// context, object and username exactly; age-seconds by type; client-info
// as a CLIENT LIST line (cmpClients' fields).
func cmpACLLog(g, w *reply) string {
	if g.Kind != w.Kind || g.Head != w.Head || !w.isAggregate() {
		if string(g.Raw) == string(w.Raw) {
			return ""
		}
		return "bytes differ"
	}
	for i := range w.Elems {
		ge, we := g.Elems[i], w.Elems[i]
		if ge.Kind != we.Kind || len(ge.Elems) != len(we.Elems) {
			return fmt.Sprintf("entry %d: shape differs", i)
		}
		for j := 0; j+1 < len(we.Elems); j += 2 {
			key := we.Elems[j].Str
			if ge.Elems[j].Str != key {
				return fmt.Sprintf("entry %d: key %q, oracle %q", i, ge.Elems[j].Str, key)
			}
			gv, wv := ge.Elems[j+1], we.Elems[j+1]
			switch key {
			case "age-seconds":
				if gv.Kind != wv.Kind {
					return fmt.Sprintf("entry %d: age-seconds type %q, oracle %q", i, gv.Kind, wv.Kind)
				}
			case "client-info":
				gl := &reply{Kind: '$', Str: gv.Str + "\n"}
				wl := &reply{Kind: '$', Str: wv.Str + "\n"}
				if why := compareClients(gl, wl, false); why != "" {
					return fmt.Sprintf("entry %d: client-info: %s", i, why)
				}
			default:
				if string(gv.Raw) != string(wv.Raw) {
					return fmt.Sprintf("entry %d: %s %q, oracle %q", i, key, gv.Raw, wv.Raw)
				}
			}
		}
	}
	return ""
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestDiffACL(t *testing.T) {
	cases := aclCases()
	for i := range cases {
		cases[i].cleanup = aclCleanup
	}
	runX(t, aclTarget(t), cases)
}

func aclCases() []xcase {
	rules := func(args ...string) xstep { return x(args...).with(cmpRules) }
	list := rules("ACL", "LIST")
	logx := func(args ...string) xstep { return x(append([]string{"ACL", "LOG"}, args...)...).with(cmpACLLog) }
	cats := []xstep{x("ACL", "CAT")}
	for _, c := range []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
		"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
		"transaction", "scripting", "READ"} {
		cats = append(cats, x("ACL", "CAT", c).with(cmpUnorderedX))
	}
	cats = append(cats, x("ACL", "CAT", "nosuch"), x("ACL", "CAT", "all"), x("ACL", "CAT", "read", "x"),
		x("ACL", "GENPASS").with(shapeOnly), x("ACL", "GENPASS", "1").with(shapeOnly), x("ACL", "GENPASS", "5").with(shapeOnly),
		x("ACL", "GENPASS", "4096").with(shapeOnly), x("ACL", "GENPASS", "0"), x("ACL", "GENPASS", "4097"), x("ACL", "GENPASS", "-1"),
		x("ACL", "GENPASS", "abc"), x("ACL", "GENPASS", "1", "2"), x("ACL", "HELP"), x("ACL", "help", "x"), x("ACL", "WHOAMI"),
		x("ACL", "LOAD"), x("ACL", "SAVE"), x("ACL"), x("ACL", "FOO"), x("ACL", "GETUSER"), x("ACL", "GETUSER", "a", "b"),
		x("ACL", "LIST", "x"), x("ACL", "SETUSER"), x("ACL", "DELUSER"), x("ACL", "DRYRUN", "default"), x("ACL", "LOG", "1", "2"))
	return []xcase{
		{name: "acl/setuser-describe", steps: []xstep{
			list, rules("ACL", "GETUSER", "default"),
			x("ACL", "SETUSER", "alice", "on", ">p1", ">p2", "~cache:*", "%R~ro:*", "%W~wo:*", "&news:*", "+@read", "+@write", "-@dangerous", "+info"),
			list, rules("ACL", "GETUSER", "alice"),
			x("ACL", "SETUSER", "alice", "<p1", "resetchannels", "&a", "&b", "&a", "-@all", "+get", "+client|id", "+select|0", "+select|1", "~cache:*", "%RW~rw"),
			list, rules("ACL", "GETUSER", "alice"),
			x("ACL", "SETUSER", "bob", "#"+sha256Hex("x"), "!"+sha256Hex("x"), "#"+sha256Hex("y"), "nopass", "off", "allkeys", "allchannels", "allcommands", "-@dangerous", "+flushdb"),
			list,
			x("ACL", "SETUSER", "carol", "on", "+get", "~x", "(+set ~y)", "(", "-@all", "+hset", "%W~h*", "&ch", ")", "()"),
			rules("ACL", "GETUSER", "carol"), list,
			x("ACL", "SETUSER", "carol", "clearselectors"), rules("ACL", "GETUSER", "carol"),
			x("ACL", "SETUSER", "carol", "reset"), list,
			x("ACL", "SETUSER", "dave", "+@all", "-@slow", "+@hash", "-hgetall", "+client", "-client|kill", "nocommands", "+@pubsub", "-publish"),
			list, x("ACL", "USERS"), x("ACL", "WHOAMI"),
			x("ACL", "DELUSER", "alice", "nosuch", "bob"), x("ACL", "DELUSER", "default"), x("ACL", "DELUSER", "carol", "default"),
			x("ACL", "USERS"), x("ACL", "GETUSER", "nosuch"), x("acl", "getuser", "DEFAULT"),
		}},
		{name: "acl/setuser-errors", steps: []xstep{
			x("ACL", "SETUSER", "a b"), x("ACL", "SETUSER", "a\x00b"), x("ACL", "SETUSER", "erin", "on", "badrule"),
			x("ACL", "SETUSER", "erin", "+nosuchcmd"), x("ACL", "SETUSER", "erin", "+@nosuch"), x("ACL", "SETUSER", "erin", "-@nosuch"),
			x("ACL", "SETUSER", "erin", "allkeys", "~b"), x("ACL", "SETUSER", "erin", "allchannels", "&b"),
			x("ACL", "SETUSER", "erin", "<nosuchpw"), x("ACL", "SETUSER", "erin", "#zz"), x("ACL", "SETUSER", "erin", "!"+strings.Repeat("A", 64)),
			x("ACL", "SETUSER", "erin", "+config|get|x"), x("ACL", "SETUSER", "erin", "+select|"), x("ACL", "SETUSER", "erin", "+config|"),
			x("ACL", "SETUSER", "erin", "+config|nosuch"), x("ACL", "SETUSER", "erin", "-config|get|x"), x("ACL", "SETUSER", "erin", "%~x"),
			x("ACL", "SETUSER", "erin", "%RR~x"), x("ACL", "SETUSER", "erin", "%X~x"), x("ACL", "SETUSER", "erin", "~a b"),
			x("ACL", "SETUSER", "erin", "(+get"), x("ACL", "SETUSER", "erin", "on", "(~a", "+get)", "(", "x"),
			x("ACL", "SETUSER", "erin", "(badrule)"), x("ACL", "SETUSER", "erin", "+get", "fail"), x("ACL", "GETUSER", "erin"),
			x("ACL", "SETUSER", "erin", "%RW", "%R", ""), list,
		}},
		{name: "acl/cat-genpass-help-arity", steps: cats},
		{name: "acl/dryrun", steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", "nopass", "%R~r*", "%W~w*", "~both", "&ch*", "+@all", "-flushdb"),
			x("ACL", "DRYRUN", "alice", "get", "r1"), x("ACL", "DRYRUN", "alice", "get", "w1"), x("ACL", "DRYRUN", "alice", "set", "w1", "v"),
			x("ACL", "DRYRUN", "alice", "set", "r1", "v"), x("ACL", "DRYRUN", "alice", "set", "w1", "v", "get"), x("ACL", "DRYRUN", "alice", "set", "both", "v", "GET"),
			x("ACL", "DRYRUN", "alice", "lmove", "r1", "w1", "left", "left"), x("ACL", "DRYRUN", "alice", "lmove", "w1", "r1", "left", "left"),
			x("ACL", "DRYRUN", "alice", "mget", "r1", "both", "w1"), x("ACL", "DRYRUN", "alice", "eval", "return 1", "2", "r1", "both"),
			x("ACL", "DRYRUN", "alice", "zunionstore", "w1", "2", "r1", "both"), x("ACL", "DRYRUN", "alice", "zunionstore", "r1", "1", "r1"),
			x("ACL", "DRYRUN", "alice", "publish", "ch1", "x"), x("ACL", "DRYRUN", "alice", "publish", "zz", "x"),
			x("ACL", "DRYRUN", "alice", "subscribe", "ch1", "zz"), x("ACL", "DRYRUN", "alice", "psubscribe", "ch*"),
			x("ACL", "DRYRUN", "alice", "psubscribe", "ch1"), x("ACL", "DRYRUN", "alice", "flushdb"), x("ACL", "DRYRUN", "alice", "get"),
			x("ACL", "DRYRUN", "alice", "foo"), x("ACL", "DRYRUN", "alice", "config", "foo"), x("ACL", "DRYRUN", "alice", "client", "kill"),
			x("ACL", "DRYRUN", "nosuch", "get", "x"), x("ACL", "DRYRUN", "alice", "ping"), x("ACL", "DRYRUN", "default", "flushdb"),
			x("ACL", "DRYRUN", "alice", "watch", "r1", "zzz"), x("ACL", "DRYRUN", "alice", "object", "encoding", "w1"),
			x("ACL", "SETUSER", "bob", "on", "-@all", "+select|0", "+client|id", "+config|get"),
			x("ACL", "DRYRUN", "bob", "select", "0"), x("ACL", "DRYRUN", "bob", "select", "1"), x("ACL", "DRYRUN", "bob", "client", "id"),
			x("ACL", "DRYRUN", "bob", "client", "kill", "1.2.3.4:5"), x("ACL", "DRYRUN", "bob", "config", "get", "hz"),
			x("ACL", "DRYRUN", "bob", "config", "set", "hz", "10"), x("ACL", "DRYRUN", "bob", "auth", "x"), x("ACL", "LOG"),
		}},
		{name: "acl/noperm", conns: 2, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", ">pw", "~app:*", "%R~ro:*", "%W~wo:*", "&news.*", "-@all", "+get", "+set", "+lmove",
				"+mget", "+publish", "+subscribe", "+psubscribe", "+client|id", "+select|0", "+acl|whoami", "+ping", "+del"),
			on(1, "AUTH", "alice", "pw"), on(1, "ACL", "WHOAMI"), on(1, "GET", "app:1"), on(1, "GET", "other"), on(1, "SET", "app:1", "v"),
			on(1, "SET", "ro:1", "v"), on(1, "GET", "ro:1"), on(1, "SET", "wo:1", "v"), on(1, "GET", "wo:1"), on(1, "SET", "wo:1", "v", "GET"),
			on(1, "LMOVE", "ro:1", "wo:1", "LEFT", "LEFT"), on(1, "LMOVE", "wo:1", "ro:1", "LEFT", "LEFT"), on(1, "MGET", "app:1", "x", "y"),
			on(1, "DEL", "app:1", "wo:1", "ro:1"), on(1, "INCR", "app:1"), on(1, "CLIENT", "ID").with(shapeOnly), on(1, "CLIENT", "GETNAME"),
			on(1, "SELECT", "0"), on(1, "SELECT", "1"), on(1, "select", "00"), on(1, "PUBLISH", "news.x", "m"), on(1, "PUBLISH", "sport", "m"),
			on(1, "CONFIG", "GET", "hz"), on(1, "ACL", "LIST"), on(1, "FOO"), on(1, "GET"), on(1, "SUBSCRIBE", "news.a", "sport"),
			on(1, "PSUBSCRIBE", "news.x"), logx(), on(1, "PSUBSCRIBE", "news.*"),
		}},
		{name: "acl/multi", conns: 2, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", ">pw", "~app:*", "&*", "+@all", "-@dangerous"),
			on(1, "AUTH", "alice", "pw"), on(1, "MULTI"), on(1, "GET", "app:1"), on(1, "GET", "x"), on(1, "FLUSHALL"), on(1, "EXEC"),
			on(1, "MULTI"), on(1, "GET", "app:1"), on(1, "SET", "app:2", "v"), on(1, "PUBLISH", "c", "m"), on(1, "INCR", "app:3"),
			x("ACL", "SETUSER", "alice", "-get", "resetkeys", "~app:1", "~app:3", "resetchannels"), on(1, "EXEC"), logx("4"),
			x("ACL", "SETUSER", "alice", "-exec"), on(1, "MULTI"), on(1, "GET", "app:1"), on(1, "EXEC"), on(1, "DISCARD"),
			on(1, "MULTI"), on(1, "AUTH", "alice", "nope"), on(1, "DISCARD"), logx("2"),
		}},
		{name: "acl/scripts", conns: 2, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", ">pw", "-@all", "+eval", "+get", "~app:*", "&x*", "+publish"),
			on(1, "AUTH", "alice", "pw"),
			on(1, "EVAL", "return redis.call('get','app:1')", "0"), on(1, "EVAL", "return redis.call('get','zzz')", "0"),
			on(1, "EVAL", "return redis.pcall('set','app:1','v')", "0"), on(1, "EVAL", "return redis.call('publish','y','m')", "0"),
			on(1, "EVAL", "return redis.pcall('publish','y','m')", "0"), on(1, "EVAL", "return redis.pcall('publish','xy','m')", "0"),
			on(1, "EVAL", "return redis.acl_check_cmd('get','app:1')", "0"), on(1, "EVAL", "return redis.acl_check_cmd('get','zzz')", "0"),
			on(1, "EVAL", "return redis.acl_check_cmd('set','app:1','v')", "0"), on(1, "EVAL", "return redis.acl_check_cmd('nosuch')", "0"),
			on(1, "EVAL", "return redis.call('get',KEYS[1])", "1", "zzz"), logx("3"),
			x("EVAL", "return redis.acl_check_cmd('flushall')", "0"),
		}},
		{name: "acl/auth", conns: 2, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*"), x("ACL", "SETUSER", "bob", "off", ">pw", "+@all"),
			on(1, "AUTH", "alice", "wrong"), on(1, "AUTH", "bob", "pw"), on(1, "AUTH", "nosuch", "pw"), on(1, "AUTH", "x"),
			on(1, "ACL", "WHOAMI"), on(1, "AUTH", "alice", "pw"), on(1, "ACL", "WHOAMI"), on(1, "CLIENT", "INFO").with(cmpClients),
			on(1, "HELLO", "3", "AUTH", "alice", "bad").with(cmpHello), on(1, "HELLO", "2", "AUTH", "bob", "pw"), on(1, "ACL", "WHOAMI"),
			on(1, "hello", "2", "auth", "default", "zz").with(cmpHello), on(1, "ACL", "WHOAMI"),
			on(1, "MULTI"), on(1, "AUTH", "alice", "pw"), on(1, "AUTH", "alice", "no"), on(1, "EXEC"), on(1, "ACL", "WHOAMI"),
			logx(), x("ACL", "SETUSER", "alice", "nopass"), on(1, "AUTH", "alice", "anything"), on(1, "RESET"), on(1, "ACL", "WHOAMI"),
			x("ACL", "SETUSER", "alice", "resetpass"), on(1, "AUTH", "alice", "anything"), x("ACL", "SETUSER", "alice", "off", "nopass"),
			on(1, "AUTH", "alice", "anything"), logx("1"),
		}},
		{name: "acl/requirepass", conns: 2, steps: []xstep{
			x("CONFIG", "SET", "requirepass", "pw"), list, rules("ACL", "GETUSER", "default"), x("CONFIG", "GET", "requirepass"),
			on(1, "PING"), on(1, "RESET"), on(1, "PING"), on(1, "AUTH", "pw"), on(1, "PING"), on(1, "AUTH", "default", "pw"),
			x("ACL", "SETUSER", "default", ">second"), list, x("CONFIG", "SET", "requirepass", "pw"), list, x("CONFIG", "GET", "requirepass"),
			on(1, "RESET"), x("CONFIG", "SET", "requirepass", ""), list, on(1, "PING"),
			on(1, "HELLO", "2").with(cmpHello), on(1, "HELLO", "2", "AUTH", "default", "x").with(cmpHello), on(1, "AUTH", "x"),
			x("ACL", "SETUSER", "default", "off"), on(1, "RESET"), on(1, "PING"), on(1, "AUTH", "default", "x"),
			x("PING"), x("ACL", "SETUSER", "default", "on"), on(1, "PING"), list,
		}},
		{name: "acl/deluser-disconnects", conns: 3, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", "nopass", "+@all", "~*"), x("ACL", "SETUSER", "bob", "on", "nopass", "+@all", "~*"),
			on(1, "AUTH", "alice", "x"), on(2, "AUTH", "bob", "x"), x("ACL", "DELUSER", "alice"), closedOn(1),
			on(2, "PING"), on(2, "ACL", "DELUSER", "bob").closing(), x("ACL", "USERS"),
		}},
		{name: "acl/client-kill-user", conns: 3, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", "nopass", "+@all", "~*"),
			on(1, "AUTH", "alice", "x"), on(2, "AUTH", "alice", "x"), on(1, "CLIENT", "INFO").with(cmpClients),
			x("CLIENT", "KILL", "USER", "nosuch"), x("CLIENT", "KILL", "USER", "alice", "ID", "99999999"),
			x("CLIENT", "KILL", "USER", "alice"), closedOn(1), closedOn(2), x("CLIENT", "KILL", "USER", "alice"),
		}},
		{name: "acl/pubsub-disconnects", conns: 3, steps: []xstep{
			x("ACL", "SETUSER", "carol", "on", "nopass", "~*", "&news.*", "&sport", "+@all"),
			on(1, "AUTH", "carol", "x"), on(1, "SUBSCRIBE", "news.a"), on(2, "AUTH", "carol", "x"), on(2, "PSUBSCRIBE", "sport"),
			x("ACL", "SETUSER", "carol", "&extra"), on(1, "PING"), on(2, "PING"),
			x("ACL", "SETUSER", "carol", "resetchannels", "&news.*"), closedOn(2), on(1, "PING"),
			x("ACL", "SETUSER", "carol", "allchannels"), on(1, "PING"),
			x("ACL", "SETUSER", "carol", "resetchannels"), closedOn(1), list,
		}},
		{name: "acl/configs", steps: []xstep{
			x("CONFIG", "GET", "acl*").with(cmpUnorderedX), x("CONFIG", "SET", "acl-pubsub-default", "allchannels"),
			x("ACL", "SETUSER", "dave"), list, x("ACL", "SETUSER", "dave", "reset"), list, x("ACL", "SETUSER", "dave", "(+get)"),
			rules("ACL", "GETUSER", "dave"), x("CONFIG", "SET", "acl-pubsub-default", "RESETCHANNELS"), x("ACL", "SETUSER", "erin", "(+get)"),
			list, x("CONFIG", "GET", "acl-pubsub-default"), x("CONFIG", "SET", "acl-pubsub-default", "foo"),
			x("CONFIG", "SET", "acllog-max-len", "-1"), x("CONFIG", "SET", "acllog-max-len", "abc"), x("CONFIG", "SET", "aclfile", "x"),
			x("CONFIG", "GET", "aclfile"),
		}},
		{name: "acl/log", conns: 2, steps: []xstep{
			x("ACL", "SETUSER", "alice", "on", ">pw", "-@all", "+get", "~a"), on(1, "AUTH", "alice", "pw"),
			on(1, "SET", "a", "1"), on(1, "SET", "a", "1"), on(1, "SET", "a", "2"), on(1, "GET", "b"), on(1, "GET", "a"), logx(),
			logx("1"), logx("0"), logx("-5"), logx("abc"), logx("reset", "x"), x("CONFIG", "SET", "acllog-max-len", "1"),
			logx(), on(1, "GET", "c"), logx(), x("CONFIG", "SET", "acllog-max-len", "0"), on(1, "GET", "d"), logx(),
			x("ACL", "LOG", "RESET"), logx(),
		}},
		{name: "acl/slowlog-redacts-setuser", steps: []xstep{
			x("CONFIG", "SET", "slowlog-log-slower-than", "0"), x("SLOWLOG", "RESET"),
			x("ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all"), x("AUTH", "alice", "secret"), x("ACL", "SETUSER", "alice", "bad rule"),
			x("SLOWLOG", "GET", "3").with(cmpSlowlog), x("CONFIG", "SET", "slowlog-log-slower-than", "10000"), x("SLOWLOG", "RESET"),
		}},
	}
}

// cmpPaths compares replies exactly once each server's aclfile path is
// replaced by a placeholder (ACL LOAD's errors name the file).
func cmpPaths(cel, ora string) comparator {
	return func(g, w *reply) string {
		// Bulk headers carry the path's length: compare the text.
		a := strings.ReplaceAll(string(g.Kind)+g.Head+g.Str+flat(g), cel, "<aclfile>")
		b := strings.ReplaceAll(string(w.Kind)+w.Head+w.Str+flat(w), ora, "<aclfile>")
		if g.Kind == '$' {
			a = strings.ReplaceAll(g.Str, cel, "<aclfile>")
			b = strings.ReplaceAll(w.Str, ora, "<aclfile>")
		}
		if a != b {
			return fmt.Sprintf("%q, oracle %q", a, b)
		}
		return ""
	}
}

// flat renders an aggregate's elements' text (CONFIG GET aclfile).
func flat(r *reply) string {
	var b strings.Builder
	for _, e := range r.Elems {
		b.WriteString("|" + string(e.Kind) + e.Str)
	}
	return b.String()
}

// TestDiffACLFile runs ACL LOAD and ACL SAVE against an aclfile on both
// servers, with the file's contents set between the cases.
func TestDiffACLFile(t *testing.T) {
	needOracle(t)
	dir := t.TempDir()
	celFile, oraFile := dir+"/cel.acl", dir+"/ora.acl"
	write := func(text string) {
		require.NoError(t, os.WriteFile(celFile, []byte(text), 0o644))
		require.NoError(t, os.WriteFile(oraFile, []byte(text), 0o644))
	}
	good := "user default on nopass ~* &* +@all\nuser alice on #" + sha256Hex("pw") + " ~app:* resetchannels &c -@all +get +acl|whoami\n\n  user bob off  nopass\n"
	write(good)
	tg := target{
		cel: resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
			require.NoError(t, cfg.Apply(conffile.Directive{Name: "aclfile", Args: []string{celFile}}))
		})).Addr(),
		ora: startRedis(t, "--aclfile", oraFile),
	}
	rules := func(args ...string) xstep { return x(args...).with(cmpRules) }
	paths := cmpPaths(celFile, oraFile)
	runX(t, tg, []xcase{{name: "aclfile/load", conns: 2, steps: []xstep{
		x("ACL", "LOAD"), rules("ACL", "LIST"), x("CONFIG", "GET", "aclfile").with(paths),
		on(1, "AUTH", "alice", "pw"), on(1, "ACL", "WHOAMI"), on(1, "GET", "app:1"), on(1, "GET", "x"),
		x("ACL", "SETUSER", "carol", "on", ">x", "+@all"), rules("ACL", "LIST"), x("ACL", "LOAD"), closedOn(1), rules("ACL", "LIST"),
	}}})
	write("user alice on >pw\nuser alice off\nnotuser x\nuser\nuser bad\tname on\nuser carol on +nosuch\nuser erin %~x +@nosuch\n")
	runX(t, tg, []xcase{{name: "aclfile/errors", steps: []xstep{
		x("ACL", "LOAD").with(paths), rules("ACL", "LIST"),
	}}})
	write("user alice on nopass +@all ~*\n")
	runX(t, tg, []xcase{{name: "aclfile/no-default-user", steps: []xstep{
		x("ACL", "SETUSER", "default", ">pw"), x("ACL", "LOAD"), rules("ACL", "LIST"),
		x("ACL", "SETUSER", "erin", "on", ">x", "~k*", "&ch", "+@read", "-get", "(+set ~s*)"), x("ACL", "SAVE"), x("ACL", "LOAD"), rules("ACL", "LIST"),
	}}})
	celSaved, err := os.ReadFile(celFile)
	require.NoError(t, err)
	oraSaved, err := os.ReadFile(oraFile)
	require.NoError(t, err)
	assert.Equal(t, normRules(string(oraSaved)), normRules(string(celSaved)), "ACL SAVE files")
	require.NoError(t, os.Remove(celFile))
	require.NoError(t, os.Remove(oraFile))
	runX(t, tg, []xcase{{name: "aclfile/missing", steps: []xstep{x("ACL", "LOAD").with(paths), x("ACL", "SAVE"), rules("ACL", "LIST")}}})
}

// TestDiffACLUserDirectives starts both servers with user directives (and
// a requirepass they override for the default user).
func TestDiffACLUserDirectives(t *testing.T) {
	needOracle(t)
	users := [][]string{
		{"alice", "on", ">pw", "~app:*", "+@read", "-@dangerous", "(+set ~w*)"},
		{"default", "on", "nopass", "~*", "&*", "+@all", "-flushdb"},
		{"bob"},
	}
	var args []string
	for _, u := range users {
		args = append(append(args, "--user"), u...)
	}
	ora := startRedis(t, append(args, "--requirepass", "ignored")...)
	cel := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		require.NoError(t, cfg.Apply(conffile.Directive{Name: "requirepass", Args: []string{"ignored"}}))
		for _, u := range users {
			require.NoError(t, cfg.Apply(conffile.Directive{Name: "user", Args: u}))
		}
	})).Addr()
	runX(t, target{cel: cel, ora: ora}, []xcase{{name: "user-directives", steps: []xstep{
		x("ACL", "LIST").with(cmpRules), x("FLUSHDB"), x("AUTH", "alice", "pw"), x("SET", "w1", "v"), x("GET", "w1"), x("SET", "x", "v"),
		x("AUTH", "bob", "x"), x("CONFIG", "GET", "requirepass"),
	}}})
}
