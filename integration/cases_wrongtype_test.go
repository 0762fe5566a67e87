package integration

import (
	"strings"
	"testing"
)

func TestDiffWrongType(t *testing.T) { runCases(t, wrongTypeCases()) }

// typedKeys create a key "k" holding a non-string value. Each row runs
// every string and generic command below against such a key; when hashes,
// sets and sorted sets land, their rows go here:
//
//	{"hash", []string{"HSET", "k", "f", "v"}},
//	{"set", []string{"SADD", "k", "m"}},
//	{"zset", []string{"ZADD", "k", "1", "m"}},
var typedKeys = []struct {
	name   string
	create []string
}{
	{"list", []string{"RPUSH", "k", "a", "1"}},
}

// onTypedKey are commands whose reply on a non-string key is compared
// (WRONGTYPE for the string family, real results for the generic one).
// Each is followed by TYPE k, so a command that wrongly modified the key
// shows up.
var onTypedKey = [][]string{
	{"GET", "k"}, {"SET", "k", "v", "GET"}, {"SET", "k", "v", "NX", "GET"}, {"SET", "k", "v", "XX", "GET", "EX", "100"},
	{"GETSET", "k", "v"}, {"GETDEL", "k"}, {"GETEX", "k"}, {"GETEX", "k", "EX", "100"}, {"GETEX", "k", "PERSIST"},
	{"GETEX", "k", "EX", "0"}, {"MGET", "k", "x"}, {"APPEND", "k", "x"}, {"APPEND", "k", ""}, {"STRLEN", "k"},
	{"GETRANGE", "k", "0", "-1"}, {"GETRANGE", "k", "x", "1"}, {"SUBSTR", "k", "0", "1"}, {"SETRANGE", "k", "0", "x"},
	{"SETRANGE", "k", "0", ""}, {"SETRANGE", "k", "-1", "x"}, {"INCR", "k"}, {"DECR", "k"}, {"INCRBY", "k", "1"},
	{"INCRBY", "k", "x"}, {"DECRBY", "k", "1"}, {"INCRBYFLOAT", "k", "1"}, {"INCRBYFLOAT", "k", "x"},
	{"SETNX", "k", "v"}, {"MSETNX", "k", "v", "x", "y"}, {"TYPE", "k"}, {"EXISTS", "k"}, {"TOUCH", "k"},
	{"OBJECT", "ENCODING", "k"}, {"OBJECT", "REFCOUNT", "k"}, {"EXPIRE", "k", "100"}, {"PERSIST", "k"},
	{"RENAME", "k", "k2"}, {"COPY", "k", "k2"}, {"MOVE", "k", "1"}, {"DEL", "k"},
	{"SET", "k", "v"}, {"MSET", "k", "v"}, {"SETEX", "k", "100", "v"}, {"SET", "k", "v", "KEEPTTL"},
}

func wrongTypeCases() []diffCase {
	var cases []diffCase
	for _, tk := range typedKeys {
		for i, cmd := range onTypedKey {
			steps := []step{do(tk.create...), do("EXPIRE", "k", "1000"), do(cmd...), do("TYPE", "k"), ttl("TTL", "k"), do("DBSIZE")}
			cases = append(cases, diffCase{name: label("wrongtype/"+tk.name, i, strings.Join(cmd, " ")), steps: steps})
		}
		cases = append(cases, diffCase{name: "wrongtype/" + tk.name + "-keys-scan", steps: []step{
			do(tk.create...), do("SET", "s", "v"), unordered("KEYS", "*"), scanAll("SCAN", "0", "TYPE", tk.name),
			scanAll("SCAN", "0", "TYPE", "string"), shape("RANDOMKEY"), do("DEL", "s"), do("RANDOMKEY")}})
		cases = append(cases, diffCase{name: "wrongtype/" + tk.name + "-copy-rename", steps: []step{
			do(tk.create...), do("COPY", "k", "c"), do("TYPE", "c"), do("RENAME", "c", "r"), do("TYPE", "r"),
			do("OBJECT", "ENCODING", "r"), do("COPY", "k", "r", "DB", "1"), do("SELECT", "1"), do("TYPE", "r"),
			do("SET", "k", "v"), do("SELECT", "0"), do("MOVE", "k", "1"), do("RENAMENX", "k", "r")}})
	}
	return cases
}
