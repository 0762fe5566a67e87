package resptest

import (
	"testing"

	"github.com/celerity/celerity/resp"
)

// Written is one call of an extension's Written hook, captured from a
// real command.
type Written struct {
	Client *resp.Client
	Cmd    *resp.Command
	Argv   [][]byte
}

// CaptureWrites runs each command on a fresh server and returns the
// Written calls they made, one per command, so that a benchmark can replay
// real calls into a hook without a server around it. Each command must
// succeed and change the dataset.
func CaptureWrites(tb testing.TB, cmds ...[]string) []Written {
	tb.Helper()
	var got []Written
	capture := &resp.Extension{Name: "capture", Written: func(c *resp.Client, cmd *resp.Command, argv [][]byte) {
		cp := make([][]byte, len(argv))
		for i, a := range argv {
			cp[i] = append([]byte(nil), a...)
		}
		got = append(got, Written{c, cmd, cp})
	}}
	srv := NewServer(tb, WithExtensions(capture))
	c := Dial(tb, srv.Addr())
	for _, argv := range cmds {
		if v := c.Do(argv...); v.Kind == '-' {
			tb.Fatalf("%q: %s", argv, v.Str)
		}
	}
	srv.Lock()
	defer srv.Unlock()
	if len(got) != len(cmds) {
		tb.Fatalf("%d commands made %d Written calls", len(cmds), len(got))
	}
	return got
}
