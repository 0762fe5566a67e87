package conffile

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommandLine(t *testing.T) {
	// Every Options value below was checked against the line redis-server
	// 7.0.15 echoes in its fatal error for the same arguments (or, for
	// --save, against CONFIG GET save), unless marked otherwise.
	tests := []struct {
		name string
		args []string
		want CommandLineResult
	}{
		{name: "nothing", args: nil, want: CommandLineResult{}},
		{name: "config file only", args: []string{"redis.conf"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "redis.conf"}},
		{name: "empty first argument is a config file", args: []string{"", "--foo"},
			want: CommandLineResult{HasConfigFile: true, Options: "foo "}},
		{name: "option values are quoted", args: []string{"--port", "0", "--loglevel", "warning", "--foo", `a b"c\\d`, "\n\t\x01\xff"},
			want: CommandLineResult{Options: "port \"0\" \nloglevel \"warning\" \nfoo \"a b\\\"c\\\\\\\\d\" \"\\n\\t\\x01\\xff\" "}},
		{name: "extra values join the option", args: []string{"ok.conf", "--port", "1", "2", "--foo"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", Options: "port \"1\" \"2\" \nfoo "}},
		{name: "name and value in one argument", args: []string{"--foo  bar baz", "x"},
			want: CommandLineResult{Options: `foo  bar baz "x" `}},
		{name: "save followed by an option gets an empty value", args: []string{"--save", "--foo", "1"},
			want: CommandLineResult{Options: "save \"\"\nfoo \"1\" "}},
		{name: "save last gets an empty value", args: []string{"--foo", "1", "--SAVE"},
			want: CommandLineResult{Options: "foo \"1\" \nSAVE \"\""}},
		{name: "save with values", args: []string{"--save", "60", "1", "30", "2"},
			want: CommandLineResult{Options: `save "60" "1" "30" "2" `}},
		{name: "valueless option swallows the next option", args: []string{"--foo", "--save"},
			want: CommandLineResult{Options: `foo "--save" `}},
		{name: "valueless option swallows option and value", args: []string{"--foo", "--bar", "1"},
			want: CommandLineResult{Options: `foo "--bar" "1" `}},
		{name: "sentinel followed by an option stays valueless", args: []string{"--sentinel", "--foo", "1"},
			want: CommandLineResult{Options: "sentinel \nfoo \"1\" ", Sentinel: true}},
		{name: "sentinel last", args: []string{"--port", "1", "--sentinel"},
			want: CommandLineResult{Options: "port \"1\" \nsentinel ", Sentinel: true}},
		{name: "dash in the middle is a value", args: []string{"--foo", "-x", "-", "y"},
			want: CommandLineResult{Options: `foo "-x" "-" "y" `}},
		{name: "dash first reads stdin", args: []string{"-", "--foo", "1"},
			want: CommandLineResult{ReadStdin: true, Options: `foo "1" `}},
		{name: "dash last reads stdin", args: []string{"ok.conf", "--foo", "-"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", ReadStdin: true, Options: "foo "}},
		{name: "dash after a config file", args: []string{"ok.conf", "-"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", ReadStdin: true}},
		{name: "bare value before any option", args: []string{"ok.conf", "x", "--port", "1"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", Options: "\"x\" \nport \"1\" "}},
		{name: "version flag only counts first", args: []string{"ok.conf", "--version"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", Options: "version "}},
		{name: "-v later is a value", args: []string{"ok.conf", "-v"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", Options: `"-v" `}},
		{name: "double dash alone", args: []string{"ok.conf", "--", "foo"},
			want: CommandLineResult{HasConfigFile: true, ConfigFile: "ok.conf", Options: ` "foo" `}},
		// Not checked against redis-server: follows main()'s reading that an
		// unbalanced name argument counts as carrying its value.
		{name: "unbalanced option argument", args: []string{`--foo"`, "--bar"},
			want: CommandLineResult{Options: "foo\" \nbar "}},
		{name: "version", args: []string{"-v"}, want: CommandLineResult{Mode: ModeVersion, ModeArgs: []string{}}},
		{name: "long version", args: []string{"--version", "x"}, want: CommandLineResult{Mode: ModeVersion, ModeArgs: []string{"x"}}},
		{name: "help", args: []string{"-h"}, want: CommandLineResult{Mode: ModeHelp, ModeArgs: []string{}}},
		{name: "long help", args: []string{"--help"}, want: CommandLineResult{Mode: ModeHelp, ModeArgs: []string{}}},
		{name: "test memory", args: []string{"--test-memory", "4096"}, want: CommandLineResult{Mode: ModeTestMemory, ModeArgs: []string{"4096"}}},
		{name: "check system", args: []string{"--check-system"}, want: CommandLineResult{Mode: ModeCheckSystem, ModeArgs: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, CommandLine(tt.args))
		})
	}
}

func TestAbsolutePath(t *testing.T) {
	tests := []struct {
		cwd, name, want string
	}{
		{"/tmp/rt", "/etc/redis.conf", "/etc/redis.conf"},
		{"/tmp/rt", "a.conf", "/tmp/rt/a.conf"},
		{"/tmp/rt/", "a.conf", "/tmp/rt/a.conf"},
		// Verified: from /tmp/rt/sub/deeper, "../../nonexist.conf" was
		// reported as '/tmp/rt/nonexist.conf' and " ./x/../nonexist.conf"
		// as '/tmp/rt/sub/deeper/./x/../nonexist.conf'.
		{"/tmp/rt/sub/deeper", "../../nonexist.conf", "/tmp/rt/nonexist.conf"},
		{"/tmp/rt/sub/deeper", " ./x/../nonexist.conf", "/tmp/rt/sub/deeper/./x/../nonexist.conf"},
		{"/a", "../../../b.conf", "/b.conf"},
		{"/", "../b.conf", "/b.conf"},
		{"/tmp", "\t/abs.conf\n", "/abs.conf"},
		{"/tmp", "", "/tmp/"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, AbsolutePath(tt.cwd, tt.name), "AbsolutePath(%q, %q)", tt.cwd, tt.name)
	}
}

func TestLoadStartup(t *testing.T) {
	fsys := memFS{
		"/ok.conf":   "port 0\n",
		"/nonl.conf": "port 0\nloglevel warning",
		"/inc.conf":  "include /part.conf\n",
		"/part.conf": "x\ny\n",
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    []string
		wantErr string
	}{
		// Verified line numbers: `--foo bar` alone is line 2, after a file
		// ending in a newline it is N+2, after one that does not, N+1.
		{name: "options only", args: []string{"--foo", "bar"},
			want: []string{`:2 foo ["bar"]`}},
		{name: "file then options", args: []string{"/ok.conf", "--foo", "bar", "--port", "1"},
			want: []string{`/ok.conf:1 port ["0"]`, `:3 foo ["bar"]`, `:4 port ["1"]`}},
		{name: "file without final newline", args: []string{"/nonl.conf", "--foo", "bar"},
			want: []string{`/nonl.conf:1 port ["0"]`, `/nonl.conf:2 loglevel ["warning"]`, `:3 foo ["bar"]`}},
		{name: "file and stdin run together", args: []string{"/nonl.conf", "-"}, stdin: "loglevel warning",
			want: []string{`/nonl.conf:1 port ["0"]`, `/nonl.conf:2 loglevel ["warningloglevel" "warning"]`}},
		{name: "stdin then options", args: []string{"-", "--foo", "1"}, stdin: "a\nb\n",
			want: []string{`:1 a []`, `:2 b []`, `:4 foo ["1"]`}},
		{name: "include from the file", args: []string{"/inc.conf", "--z", "1"},
			want: []string{`/part.conf:1 x []`, `/part.conf:2 y []`, `:3 z ["1"]`}},
		{name: "missing config file", args: []string{"/nope.conf", "--port", "1"},
			wantErr: "Fatal error, can't open config file '/nope.conf': No such file or directory"},
		{name: "no arguments", args: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Directive
			err := LoadStartup(fsys, CommandLine(tt.args), strings.NewReader(tt.stdin), func(d Directive) error {
				got = append(got, d)
				return nil
			})
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, err.Error())
				var oe *OpenError
				assert.True(t, errors.As(err, &oe))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, short(got))
		})
	}
}
