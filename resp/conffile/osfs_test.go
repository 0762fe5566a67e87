package conffile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			require.NoError(t, os.MkdirAll(p, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func TestOSFSReadFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.conf": "port 1\n", "empty.d/": ""})
	fsys := OSFS()

	data, err := fsys.ReadFile(filepath.Join(dir, "a.conf"))
	require.NoError(t, err)
	assert.Equal(t, "port 1\n", string(data))

	// fopen succeeds on a directory and fgets then reads nothing, so Redis
	// includes a directory as an empty file (verified with include /tmp/rt/sub).
	data, err = fsys.ReadFile(filepath.Join(dir, "empty.d"))
	require.NoError(t, err)
	assert.Empty(t, data)

	_, err = fsys.ReadFile(filepath.Join(dir, "missing.conf"))
	require.Error(t, err)
	assert.Equal(t, "Fatal error, can't open config file 'm': No such file or directory",
		(&OpenError{Path: "m", Err: err}).Error())
}

func TestOSFSGlob(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"conf.d/b.conf":       "",
		"conf.d/a.conf":       "",
		"conf.d/.hidden.conf": "",
		"conf.d/lit[.conf":    "",
		"conf.d/x1.conf":      "",
		"conf.d/x2.conf":      "",
		"conf.d/xa.conf":      "",
		"conf.d/]x.conf":      "",
		"conf.d/*.conf":       "",
		"conf.d/sub/c.conf":   "",
		"a-b/z.conf":          "",
		"a/z.conf":            "",
		"a/y/":                "",
	})
	fsys := OSFS()
	tests := []struct {
		pattern string
		want    []string
	}{
		// Verified with redis-server: conf.d/* did not include .hidden.conf.
		{"conf.d/*.conf", []string{"conf.d/*.conf", "conf.d/]x.conf", "conf.d/a.conf", "conf.d/b.conf", "conf.d/lit[.conf", "conf.d/x1.conf", "conf.d/x2.conf", "conf.d/xa.conf"}},
		{"conf.d/.*.conf", []string{"conf.d/.hidden.conf"}},
		{"conf.d/?hidden.conf", nil},
		{"conf.d/[.]hidden.conf", nil},
		{"conf.d/x[0-9].conf", []string{"conf.d/x1.conf", "conf.d/x2.conf"}},
		{"conf.d/x[!0-9].conf", []string{"conf.d/xa.conf"}},
		{"conf.d/x[^0-9].conf", []string{"conf.d/xa.conf"}},
		{"conf.d/x[[:alpha:]].conf", []string{"conf.d/xa.conf"}},
		{"conf.d/x[[:digit:]a].conf", []string{"conf.d/x1.conf", "conf.d/x2.conf", "conf.d/xa.conf"}},
		{"conf.d/[]]x.conf", []string{"conf.d/]x.conf"}},
		{`conf.d/\*.conf`, []string{"conf.d/*.conf"}},
		{`conf.d/\x1.conf`, []string{"conf.d/x1.conf"}},
		// Verified with redis-server: an unterminated "[" is a literal
		// character, so include .../lit[.conf read that file.
		{"conf.d/lit[.conf", []string{"conf.d/lit[.conf"}},
		{"conf.d/nomatch[", nil},
		{"conf.d/*/c.conf", []string{"conf.d/sub/c.conf"}},
		{"conf.d/s*/*", []string{"conf.d/sub/c.conf"}},
		{"conf.d/*/", []string{"conf.d/sub/"}},
		{"*/z.conf", []string{"a-b/z.conf", "a/z.conf"}},
		{"a/*", []string{"a/y", "a/z.conf"}},
		{"a/.*", []string{"a/.", "a/.."}},
		{"missing/*", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := fsys.Glob(dir + "/" + tt.pattern) // not Join, which drops a trailing slash
			require.NoError(t, err)
			var rel []string
			for _, g := range got {
				rel = append(rel, strings.TrimPrefix(g, dir+"/"))
			}
			assert.Equal(t, tt.want, rel)
		})
	}
}

func TestOSFSGlobRelative(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"r1.conf": "", "r2.conf": ""})
	t.Chdir(dir)
	got, err := OSFS().Glob("r*.conf")
	require.NoError(t, err)
	assert.Equal(t, []string{"r1.conf", "r2.conf"}, got)
}

func TestFnmatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "abc", true},
		{"*", ".abc", false},
		{".*", ".abc", true},
		{"a*", "a.b", true},
		{"*.conf", ".conf", false},
		{"?", "", false},
		{"a?c", "abc", true},
		{"a**c", "abbbc", true},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[a-]", "-", true},
		{"[\\]]", "]", true},
		{"[[:upper:][:digit:]]", "Q", true},
		{"[[:upper:][:digit:]]", "q", false},
		{"[[:space:]]", "\v", true},
		{"[[:punct:]]", "!", true},
		{"[[.a.]]", "a", true},
		{"[[=b=]]", "b", true},
		{"[[:bogus:]]", "a", false},
		{"a[", "a[", true},
		{"\\", "\\", false},
		{"\\a", "a", true},
		{"x\\*", "x*", true},
		{"x\\*", "xy", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, fnmatch(tt.pattern, tt.name), "fnmatch(%q, %q)", tt.pattern, tt.name)
	}
}
