package aof_test

import (
	"bytes"
	"testing"

	"github.com/celerity/celerity/aof"
)

// FuzzFileReader checks the reader's invariants on arbitrary bytes:
//   - it never panics and the valid prefix is within the file;
//   - the valid prefix re-read alone is clean and yields the same commands;
//   - cutting a file at any point never turns into corruption: the damage
//     is a torn tail (or none), and the commands are a prefix of the
//     uncut file's.
func FuzzFileReader(f *testing.F) {
	data, _, _ := build(sample)
	f.Add(data, uint16(len(data)/2))
	f.Add(data[:len(data)-3], uint16(10))
	f.Add(encAll([]string{"MULTI"}, []string{"SET", "a", "1"}), uint16(5))
	f.Add([]byte("#TS:1\r\n*1\r\n$4\r\nPING\r\n"), uint16(3))
	f.Add([]byte("*1\r\n$1099511627775\r\nab"), uint16(8))
	f.Add(append(enc("SET", "a", "1"), 0, 0, 0), uint16(20))
	f.Add([]byte("REDIS0010"), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		cmds, rep := readAll(data, int64(len(data)))
		if rep.ValidEnd < 0 || rep.ValidEnd > int64(len(data)) {
			t.Fatalf("ValidEnd %d out of [0,%d]", rep.ValidEnd, len(data))
		}
		if rep.RDBPreamble {
			return
		}
		again, rep2 := readAll(data[:rep.ValidEnd], rep.ValidEnd)
		if rep2.Damage != nil {
			t.Fatalf("valid prefix is damaged: %+v", rep2.Damage)
		}
		if len(again) != len(cmds) {
			t.Fatalf("valid prefix yields %d commands, want %d", len(again), len(cmds))
		}
		for i := range cmds {
			if !sameArgv(cmds[i].Argv, again[i].Argv) || cmds[i].Offset != again[i].Offset {
				t.Fatalf("command %d differs", i)
			}
		}
		if rep.Damage != nil {
			return
		}
		k := int(cut) % (len(data) + 1)
		part, rep3 := readAll(data[:k], int64(k))
		if rep3.Damage != nil && !rep3.Damage.Kind.Tail() {
			t.Fatalf("cut at %d of a valid file reads as %v", k, rep3.Damage)
		}
		if len(part) > len(cmds) {
			t.Fatalf("cut file has more commands")
		}
		for i := range part {
			if !sameArgv(part[i].Argv, cmds[i].Argv) {
				t.Fatalf("cut file command %d differs", i)
			}
		}
		if rep3.ValidEnd > int64(k) {
			t.Fatalf("ValidEnd past the cut")
		}
		_ = aof.DamageTorn
	})
}

func sameArgv(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
