package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
)

func enc(args ...string) []byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return aof.AppendCommand(nil, argv...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func check(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out)
	return code, out.String()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

var (
	setB  = enc("set", "b", "1")
	valid = cat(enc("SELECT", "0"), setB, enc("MULTI"), enc("SET", "c", "1"), enc("EXEC"))
	// torn: a SET cut inside its second argument's payload.
	torn = cat(setB, []byte("*3\r\n$3\r\nse"))
)

func TestCheckValidFile(t *testing.T) {
	p := writeFile(t, t.TempDir(), "ok.aof", valid)
	code, out := check(t, "", p)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Start checking Old-Style AOF\n")
	assert.Contains(t, out, "size=106, ok_up_to=106, ok_up_to_line=26, diff=0")
	assert.Contains(t, out, "AOF "+p+" is valid\n")
}

func TestCheckTornFileReportsOffset(t *testing.T) {
	p := writeFile(t, t.TempDir(), "torn.aof", torn)
	code, out := check(t, "", p)
	assert.Equal(t, 1, code)
	// Same lines as redis-check-aof 7.0.15 on this file.
	assert.Contains(t, out, "0x              23: Expected to read 5 bytes, got 2 bytes\n")
	assert.Contains(t, out, "AOF analyzed: filename="+p+", size=37, ok_up_to=27, ok_up_to_line=10, diff=10\n")
	assert.Contains(t, out, "is not valid. Use the --fix option to try fixing it.")
	got, _ := os.ReadFile(p)
	assert.Equal(t, torn, got)
}

func TestCheckFix(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		fixed       bool
	}{
		{"confirmed on stdin", "y\n", []string{"--fix"}, 0, true},
		{"declined", "n\n", []string{"--fix"}, 1, false},
		{"no answer", "", []string{"--fix"}, 1, false},
		{"--yes", "", []string{"--fix", "--yes"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "torn.aof", torn)
			code, out := check(t, tc.stdin, append(tc.args, p)...)
			assert.Equal(t, tc.code, code, out)
			assert.Contains(t, out, "This will shrink the AOF "+p+" from 37 bytes, with 10 bytes, to 27 bytes\n")
			got, _ := os.ReadFile(p)
			if tc.fixed {
				assert.Contains(t, out, "Successfully truncated AOF "+p)
				assert.Equal(t, setB, got)
				code, _ = check(t, "", p)
				assert.Equal(t, 0, code)
			} else {
				assert.Equal(t, torn, got)
			}
			assert.Equal(t, tc.stdin == "" && tc.code == 0, !strings.Contains(out, "Continue? [y/N]: "))
		})
	}
}

func TestCheckFixWarnsAboutMidFileDamage(t *testing.T) {
	p := writeFile(t, t.TempDir(), "bad.aof", cat(setB, []byte("xxxxx\r\n"), setB))
	code, out := check(t, "", "--fix", "--yes", p)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "damaged before its end")
	got, _ := os.ReadFile(p)
	assert.Equal(t, setB, got)
}

// A directory written by package aof, with a rewrite and a MULTI block.
func writeDir(t *testing.T, dir string) string {
	t.Helper()
	a, plan, err := aof.Open(dir, aof.Options{Fsync: aof.FsyncNo})
	require.NoError(t, err)
	for plan.Next() {
	}
	require.NoError(t, a.Start())
	a.Append(cat(enc("SELECT", "0"), enc("SET", "a", "1")))
	rw, err := a.StartRewrite()
	require.NoError(t, err)
	a.Append(cat(enc("MULTI"), enc("SET", "b", "1"), enc("INCR", "c"), enc("EXEC")))
	require.NoError(t, rw.WriteBase([][]byte{[]byte("SELECT"), []byte("0")}, [][]byte{[]byte("SET"), []byte("a"), []byte("1")}))
	require.NoError(t, rw.Finish())
	require.NoError(t, a.Close())
	return filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")
}

func TestCheckManifest(t *testing.T) {
	dir := t.TempDir()
	man := writeDir(t, dir)
	code, out := check(t, "", man)
	assert.Equal(t, 0, code, out)
	assert.Equal(t, "Start checking Multi Part AOF\n"+
		"Start to check BASE AOF (RESP format).\n"+
		"AOF analyzed: filename=appendonly.aof.2.base.aof, size=50, ok_up_to=50, ok_up_to_line=13, diff=0\n"+
		"BASE AOF appendonly.aof.2.base.aof is valid\n"+
		"Start to check INCR files.\n"+
		"AOF analyzed: filename=appendonly.aof.2.incr.aof, size=77, ok_up_to=77, ok_up_to_line=31, diff=0\n"+
		"INCR AOF appendonly.aof.2.incr.aof is valid\n"+
		"All AOF files and manifest are valid\n", out)

	// Torn last incr: reported, then fixed.
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.2.incr.aof")
	require.NoError(t, os.Truncate(incr, 60))
	code, out = check(t, "", man)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "ok_up_to=0,")
	code, out = check(t, "y\n", "--fix", man)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "All AOF files and manifest are valid\n")
	fi, err := os.Stat(incr)
	require.NoError(t, err)
	assert.EqualValues(t, 0, fi.Size())

	// A torn base is not the last file: not fixable.
	base := filepath.Join(dir, "appendonlydir", "appendonly.aof.2.base.aof")
	require.NoError(t, os.Truncate(base, 30))
	code, out = check(t, "y\n", "--fix", man)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Failed to truncate AOF appendonly.aof.2.base.aof because it is not the last file\n")
}

func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	code, out := check(t, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Usage:")
	code, _ = check(t, "", "--bogus", "x")
	assert.Equal(t, 1, code)
	code, _ = check(t, "", "a", "b")
	assert.Equal(t, 1, code)
	code, out = check(t, "", filepath.Join(dir, "missing.aof"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Cannot open file "+filepath.Join(dir, "missing.aof")+": No such file or directory")

	man := writeFile(t, dir, "x.manifest", []byte("file a seq 1 type b\nfile b seq 1 type i\n"))
	writeFile(t, dir, "a", enc("PING"))
	code, out = check(t, "", man)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Cannot open file "+filepath.Join(dir, "b")+": No such file or directory, aborting...")

	bad := writeFile(t, dir, "y.manifest", []byte("file a seq 2 type i\nfile b seq 1 type i\n"))
	code, out = check(t, "", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Reading the manifest file, at line 2")
	assert.Contains(t, out, "non-monotonic")

	empty := writeFile(t, dir, "empty.aof", nil)
	code, out = check(t, "", empty)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "is empty")

	rdb := writeFile(t, dir, "r.aof", []byte("REDIS0010"))
	code, out = check(t, "", rdb)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "RDB preamble")
}

// Differential: the same files through redis-check-aof 7.0.15, same exit
// code, same ok_up_to and, where Redis prints one, the same damage offset.
func TestCheckAgreesWithRedisCheckAOF(t *testing.T) {
	bin, err := exec.LookPath("redis-check-aof")
	if err != nil {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatal("redis-check-aof not found and REQUIRE_REDIS=1")
		}
		t.Skip("redis-check-aof not installed")
	}
	cases := map[string][]byte{
		"valid":           valid,
		"torn payload":    torn,
		"torn header":     cat(setB, []byte("*3\r\n$3")),
		"torn count":      cat(setB, []byte("*")),
		"open multi":      cat(setB, enc("MULTI"), enc("SET", "c", "1")),
		"nested multi":    cat(setB, enc("MULTI"), enc("MULTI")),
		"exec alone":      cat(setB, enc("EXEC")),
		"garbage":         cat(setB, []byte("xxxxx\r\n"), setB),
		"bad crlf":        cat(setB, []byte("*3X\n$3\r\nset\r\n")),
		"annotations":     cat([]byte("#TS:123\r\n"), setB, []byte("#TS:124\r\n")),
		"zero tail":       cat(setB, make([]byte, 64)),
		"binary payloads": cat(enc("SET", "k\r\n", "*1\r\n$4\r\nPING\r\n"), setB),
	}
	analyzed := regexp.MustCompile(`AOF analyzed: filename=\S+, size=(\d+), ok_up_to=(\d+), ok_up_to_line=(\d+), diff=(\d+)`)
	offset := regexp.MustCompile(`(?m)^0x\s*([0-9a-f]+):`)
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "f.aof", data)
			redisOut, err := exec.Command(bin, p).CombinedOutput()
			redisCode := 0
			if ee, ok := err.(*exec.ExitError); ok {
				redisCode = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			code, out := check(t, "", p)
			assert.Equal(t, redisCode, code, "redis:\n%s\nours:\n%s", redisOut, out)
			rm, om := analyzed.FindStringSubmatch(string(redisOut)), analyzed.FindStringSubmatch(out)
			require.Equal(t, rm == nil, om == nil, "redis:\n%s\nours:\n%s", redisOut, out)
			if rm != nil {
				assert.Equal(t, rm[1:], om[1:], "size, ok_up_to, ok_up_to_line, diff\nredis:\n%s\nours:\n%s", redisOut, out)
			}
			if ro := offset.FindStringSubmatch(string(redisOut)); ro != nil {
				oo := offset.FindStringSubmatch(out)
				require.NotNil(t, oo, out)
				assert.Equal(t, ro[1], oo[1], "damage offset\nredis:\n%s\nours:\n%s", redisOut, out)
			}
		})
	}
}
