// Command cmdgen regenerates resp/commandmeta.json from a running
// redis-server 7.0.15: the key specs, tips and documentation that COMMAND
// INFO and COMMAND DOCS return. These are reference data of the oracle, not
// behaviour; the arity, flags, key positions and categories of each command
// are declared by hand in resp/cmd_*.go and checked against the same server
// by the golden test.
//
//	go run ./resp/internal/cmdgen -addr 127.0.0.1:6379 -out resp/commandmeta.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"

	"github.com/celerity/celerity/resp"
)

type meta struct {
	Tips     resp.Value `json:"tips"`
	KeySpecs resp.Value `json:"keyspecs"`
	Docs     resp.Value `json:"docs"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "redis-server 7.0.15 address")
	out := flag.String("out", "resp/commandmeta.json", "output file")
	flag.Parse()
	if err := run(*addr, *out); err != nil {
		fmt.Fprintln(os.Stderr, "cmdgen:", err)
		os.Exit(1)
	}
}

func command(conn net.Conn, r *bufio.Reader, args ...string) (resp.Value, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return resp.Value{}, err
	}
	return resp.ReadValue(r)
}

func run(addr, out string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if _, err := command(conn, r, "HELLO", "3"); err != nil {
		return err
	}
	info, err := command(conn, r, "COMMAND", "INFO")
	if err != nil {
		return err
	}
	docs, err := command(conn, r, "COMMAND", "DOCS")
	if err != nil {
		return err
	}
	all := map[string]*meta{}
	var walkInfo func(v resp.Value)
	walkInfo = func(v resp.Value) {
		name := v.Elems[0].Str
		all[name] = &meta{Tips: v.Elems[7], KeySpecs: v.Elems[8]}
		for _, sub := range v.Elems[9].Elems {
			walkInfo(sub)
		}
	}
	for _, v := range info.Elems {
		walkInfo(v)
	}
	var walkDocs func(m resp.Value)
	walkDocs = func(m resp.Value) {
		for i := 0; i+1 < len(m.Elems); i += 2 {
			name, doc := m.Elems[i].Str, m.Elems[i+1]
			stripped := resp.Value{Kind: doc.Kind}
			for j := 0; j+1 < len(doc.Elems); j += 2 {
				if doc.Elems[j].Str == "subcommands" {
					walkDocs(doc.Elems[j+1])
					continue
				}
				stripped.Elems = append(stripped.Elems, doc.Elems[j], doc.Elems[j+1])
			}
			if all[name] == nil {
				all[name] = &meta{}
			}
			all[name].Docs = stripped
		}
	}
	walkDocs(docs)
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "{")
	for i, n := range names {
		b, err := json.Marshal(all[n])
		if err != nil {
			return err
		}
		k, _ := json.Marshal(n)
		sep := ","
		if i == len(names)-1 {
			sep = ""
		}
		fmt.Fprintf(w, "%s: %s%s\n", k, b, sep)
	}
	fmt.Fprintln(w, "}")
	return w.Flush()
}
