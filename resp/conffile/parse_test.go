package conffile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memFS is an in-memory FS keyed by path; Glob uses path.Match.
type memFS map[string]string

func (m memFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

func (m memFS) Glob(pattern string) ([]string, error) {
	var out []string
	for name := range m {
		ok, err := path.Match(pattern, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// short renders directives compactly for table comparisons.
func short(ds []Directive) []string {
	if len(ds) == 0 {
		return nil
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = fmt.Sprintf("%s:%d %s %q", d.File, d.Line, d.Name, d.Args)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		fs      memFS
		want    []string
		wantErr string // Error() of the returned error, "" for none
	}{
		{
			name: "comments blanks and trimming",
			text: "# comment\n\n  \t\r\nPort 6379\r\n   # indented comment\n\tSAVE \"900 1\"  \n\v\nbind a b",
			want: []string{
				`main.conf:4 port ["6379"]`,
				`main.conf:6 save ["900 1"]`,
				`main.conf:8 bind ["a" "b"]`,
			},
		},
		{
			name: "only the first token is lower-cased, ASCII only",
			text: "MaxMemory-POLICY AllKeys-LRU\nÀB x",
			want: []string{`main.conf:1 maxmemory-policy ["AllKeys-LRU"]`, `main.conf:2 Àb ["x"]`},
		},
		{
			name:    "unbalanced quotes stop with the directives before them",
			text:    "port 1\n  save \"a b  \nport 2",
			want:    []string{`main.conf:1 port ["1"]`},
			wantErr: "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'save \"a b'\nUnbalanced quotes in configuration line\n",
		},
		{
			name: "include numbers lines within the included file",
			text: "port 1\ninclude /etc/inc.conf\nport 3",
			fs:   memFS{"/etc/inc.conf": "\n\nbind x\n"},
			want: []string{`main.conf:1 port ["1"]`, `/etc/inc.conf:3 bind ["x"]`, `main.conf:3 port ["3"]`},
		},
		{
			name: "include keyword is case-insensitive and nests",
			text: "INCLUDE /a.conf",
			fs:   memFS{"/a.conf": "x 1\nInclude /b.conf\nx 3", "/b.conf": "y"},
			want: []string{`/a.conf:1 x ["1"]`, `/b.conf:1 y []`, `/a.conf:3 x ["3"]`},
		},
		{
			name: "glob matches are concatenated and numbered as one text",
			text: "include /d/*.conf\nz",
			fs: memFS{
				"/d/a.conf": "loglevel warning\nport",
				"/d/b.conf": " 0\nbar\n",
				"/d/c.txt":  "ignored",
			},
			// Verified: redis-server reported 'bar' at line 3 for this.
			want: []string{`/d/a.conf:1 loglevel ["warning"]`, `/d/a.conf:2 port ["0"]`, `/d/b.conf:3 bar []`, `main.conf:2 z []`},
		},
		{
			name: "glob matching nothing is ignored",
			text: "include /nothing/*.conf\nfoo",
			fs:   memFS{},
			want: []string{`main.conf:2 foo []`},
		},
		{
			name: "glob error is ignored like a glob failure in Redis",
			text: "include /x/[\nfoo",
			fs:   memFS{},
			want: []string{`main.conf:2 foo []`},
		},
		{
			name:    "missing plain include is an open error",
			text:    "port 1\ninclude /missing.conf\nport 3",
			fs:      memFS{},
			want:    []string{`main.conf:1 port ["1"]`},
			wantErr: "Fatal error, can't open config file '/missing.conf': No such file or directory",
		},
		{
			name:    "include without argument",
			text:    "include",
			wantErr: "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 1\n>>> 'include'\nBad directive or wrong number of arguments\n",
		},
		{
			name:    "include with two arguments",
			text:    "\ninclude a b",
			wantErr: "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'include a b'\nBad directive or wrong number of arguments\n",
		},
		{
			name:    "error inside an include reports the included line",
			text:    "port 1\ninclude /i.conf",
			fs:      memFS{"/i.conf": "a\nb \"x"},
			want:    []string{`main.conf:1 port ["1"]`, `/i.conf:1 a []`},
			wantErr: "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'b \"x'\nUnbalanced quotes in configuration line\n",
		},
		{
			// Verified: "foo a\0bcd\nbar\n" is echoed by redis-server as 'foo abar'.
			name: "NUL drops the rest of its line",
			text: "port 0\nfoo a\x00bcd\nbar\n",
			want: []string{`main.conf:1 port ["0"]`, `main.conf:2 foo ["abar"]`},
		},
		{
			name: "NUL in an included file too",
			text: "include /n.conf",
			fs:   memFS{"/n.conf": "a\x00\nb"},
			want: []string{`/n.conf:1 ab []`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.text, "main.conf", tt.fs)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, err.Error())
			}
			assert.Equal(t, tt.want, short(got))
		})
	}
}

func TestParseKeepsText(t *testing.T) {
	got, err := Parse("  Save  \"3600 1\"\t\r\n", "", memFS{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, Directive{Name: "save", Args: []string{"3600 1"}, File: "", Line: 1, Text: `Save  "3600 1"`}, got[0])
}

func TestReadTextLongLineWithNUL(t *testing.T) {
	// Verified: redis-server kept 82 of the 1100 b's after the NUL, the
	// ones past the 1024-byte fgets chunk that started at "foo".
	text := "port 0\nfoo a\x00" + strings.Repeat("b", 1100) + "\n"
	got, err := Parse(text, "", memFS{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"a" + strings.Repeat("b", 82)}, got[1].Args)

	long := "foo " + strings.Repeat("c", 3000)
	got, err = Parse(long, "", memFS{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, long, got[0].Text, "long lines without NUL are kept whole")
}

func TestIncludeCycleIsBounded(t *testing.T) {
	fsys := memFS{"/self.conf": "port 0\ninclude /self.conf\n"}
	got, err := Parse("include /self.conf", "", fsys)
	require.Error(t, err)
	var fe *FatalError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 2, fe.Line)
	assert.Equal(t, "include /self.conf", fe.Text)
	assert.Contains(t, fe.Reason, "include nested more than 32 levels deep in '/self.conf'")
	assert.Len(t, got, MaxIncludeDepth, "one port directive per level read before the limit")
}

func TestWalkApplyErrors(t *testing.T) {
	text := "port 1\nbogus x\nport 3"
	t.Run("plain error becomes a fatal error at the line", func(t *testing.T) {
		var seen []string
		err := Walk(text, "", memFS{}, func(d Directive) error {
			seen = append(seen, d.Name)
			if d.Name == "bogus" {
				return errors.New(ReasonBadDirective)
			}
			return nil
		})
		assert.Equal(t, []string{"port", "bogus"}, seen)
		assert.Equal(t, &FatalError{Line: 2, Text: "bogus x", Reason: ReasonBadDirective}, err)
	})
	t.Run("fatal and open errors pass through", func(t *testing.T) {
		for _, want := range []error{
			&FatalError{Reason: "checked after loading"},
			&OpenError{Path: "/x", Err: fs.ErrNotExist},
		} {
			err := Walk(text, "", memFS{}, func(Directive) error { return fmt.Errorf("wrapped: %w", want) })
			assert.ErrorIs(t, err, want)
		}
	})
	t.Run("a line that fails to split is reported only when reached", func(t *testing.T) {
		err := Walk("bogus\nsave \"x", "", memFS{}, func(d Directive) error {
			return errors.New("argument couldn't be parsed")
		})
		assert.Equal(t, &FatalError{Line: 1, Text: "bogus", Reason: "argument couldn't be parsed"}, err)
	})
}

// chdirFS resolves relative names against a directory that the apply
// function changes, as the dir directive changes Redis's working directory.
type chdirFS struct {
	memFS
	cwd *string
}

func (c chdirFS) ReadFile(name string) ([]byte, error) {
	if !path.IsAbs(name) {
		name = path.Join(*c.cwd, name)
	}
	return c.memFS.ReadFile(name)
}

func TestWalkIncludeAfterDir(t *testing.T) {
	// Verified: with "dir /tmp/rt/sub" before "include rel.conf",
	// redis-server read /tmp/rt/sub/rel.conf.
	cwd := "/start"
	fsys := chdirFS{memFS: memFS{"/start/rel.conf": "a", "/other/rel.conf": "b"}, cwd: &cwd}
	var names []string
	err := Walk("dir /other\ninclude rel.conf", "", fsys, func(d Directive) error {
		if d.Name == "dir" {
			cwd = d.Args[0]
		}
		names = append(names, d.Name)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"dir", "b"}, names)
}

func TestFatalErrorFormat(t *testing.T) {
	tests := []struct {
		err  FatalError
		want string
	}{
		{
			// Byte for byte what redis-server 7.0.15 wrote to stderr.
			FatalError{Line: 4, Text: "foo bar", Reason: ReasonBadDirective},
			"\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 4\n>>> 'foo bar'\nBad directive or wrong number of arguments\n",
		},
		{
			FatalError{Reason: "replicaof directive not allowed in cluster mode"},
			"\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode\n",
		},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

func TestOpenErrorFormat(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, "No such file or directory"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, "Permission denied"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOTDIR}, "Not a directory"},
		{fs.ErrNotExist, "No such file or directory"},
		{fs.ErrPermission, "Permission denied"},
		{errors.New("custom failure"), "custom failure"},
	}
	for _, tt := range tests {
		e := &OpenError{Path: "/etc/redis.conf", Err: tt.err}
		assert.Equal(t, "Fatal error, can't open config file '/etc/redis.conf': "+tt.want, e.Error())
		assert.ErrorIs(t, e, tt.err)
	}
}
