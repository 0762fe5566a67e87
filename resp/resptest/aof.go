package resptest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
)

// IncrCommands returns the commands of the newest incr file of the AOF in
// fs under /data (a server started with Dir "/data" and Options.AOFFS fs),
// each as its arguments joined by spaces. The file must end on a complete
// command.
func IncrCommands(tb testing.TB, fs *vfs.MemFS) []string {
	tb.Helper()
	m, err := fs.ReadFile("/data/appendonlydir/appendonly.aof.manifest")
	if err != nil {
		tb.Fatal(err)
	}
	man, err := aof.ParseManifest(m)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := fs.ReadFile("/data/appendonlydir/" + man.Incr[len(man.Incr)-1].Name)
	if err != nil {
		tb.Fatal(err)
	}
	r := aof.NewFileReader(bytes.NewReader(data), "incr", int64(len(data)))
	var out []string
	for r.Next() {
		var args []string
		for _, a := range r.Command().Argv {
			args = append(args, string(a))
		}
		out = append(out, strings.Join(args, " "))
	}
	if d := r.Report().Damage; d != nil {
		tb.Fatalf("the incr file must end on a complete command: %+v", d)
	}
	return out
}
