package conffile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redisServer returns the path of redis-server, skipping the test when it
// is not installed unless REQUIRE_REDIS=1 demands it.
func redisServer(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found on PATH and REQUIRE_REDIS=1: %v", err)
		}
		t.Skip("redis-server not on PATH")
	}
	out, err := exec.Command(p, "--version").Output()
	require.NoError(t, err)
	if !strings.Contains(string(out), "v="+RedisVersion+" ") {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatalf("need redis-server %s, have %s", RedisVersion, out)
		}
		t.Skipf("redis-server is not %s: %s", RedisVersion, out)
	}
	return p
}

// fakeRegistry applies directives the way Redis 7.0.15 treats the few
// configs the comparison cases use, and rejects everything else as Redis
// rejects an unknown directive.
func fakeRegistry(d Directive) error {
	switch d.Name {
	case "port", "loglevel":
		if len(d.Args) != 1 {
			return errors.New(ReasonWrongArgs)
		}
		return nil
	case "save":
		args := ExpandMultiArg(d.Args)
		if len(args) == 1 && args[0] == "" {
			return nil
		}
		if len(args)%2 != 0 {
			return errors.New("Invalid save parameters")
		}
		for _, a := range args {
			if _, err := strconv.Atoi(a); err != nil {
				return errors.New("Invalid save parameters")
			}
		}
		return nil
	case "sentinel":
		return nil // a bare "sentinel" line is handled by main() in Redis
	case "user":
		// The cases use `user alice >TOKEN on Z`: ">TOKEN" is a valid
		// password rule, "Z" is not, and Redis 7.0.15 then names argv[2]
		// (an indexing quirk) in its message, which makes it echo a token
		// exactly as its tokeniser produced it.
		if len(d.Args) == 4 && strings.HasPrefix(d.Args[1], ">") && d.Args[2] == "on" && d.Args[3] == "Z" {
			return fmt.Errorf("Error in user declaration '%s': Syntax error", d.Args[1])
		}
	}
	return errors.New(ReasonBadDirective)
}

// TestAgainstRedisServer runs redis-server and this package on the same
// files and arguments and compares what each reports. Every case must make
// redis-server fail while loading its configuration.
func TestAgainstRedisServer(t *testing.T) {
	bin := redisServer(t)
	type testCase struct {
		name  string
		files map[string]string // relative to the case directory; "{{dir}}" is replaced by it
		args  []string          // "{{dir}}" is replaced too; run in the case directory
		stdin string
	}
	token := func(name, raw string) testCase {
		return testCase{name: "token " + name, files: map[string]string{"u.conf": "user alice >" + raw + " on Z\n"}, args: []string{"u.conf"}}
	}
	cases := []testCase{
		{name: "bad directive after comments", files: map[string]string{"a.conf": "port 0\n# c\n\nfoo bar\n"}, args: []string{"a.conf"}},
		{name: "unbalanced quotes", files: map[string]string{"q.conf": "port 0\n  save \"a b  \n"}, args: []string{"q.conf"}},
		{name: "closing quote followed by text", files: map[string]string{"q.conf": "port 0\nfoo \"a\"b\n"}, args: []string{"q.conf"}},
		{name: "blanks trimmed", files: map[string]string{"t.conf": "port 0\n\t  foo   \"x\"  \t\r\n"}, args: []string{"t.conf"}},
		{name: "vertical tab lines", files: map[string]string{"v.conf": "port 0\n\v\n#x\n  # y\nfoo\vx \"a\"\vb\n"}, args: []string{"v.conf"}},
		{name: "wrong arity", files: map[string]string{"w.conf": "port 0 1\n"}, args: []string{"w.conf"}},
		{name: "NUL byte", files: map[string]string{"n.conf": "port 0\nfoo a\x00bcd\nbar\n"}, args: []string{"n.conf"}},
		{name: "NUL in a long line", files: map[string]string{"n.conf": "port 0\nfoo a\x00" + strings.Repeat("b", 1100) + "\n"}, args: []string{"n.conf"}},
		{name: "include numbers lines within the file", files: map[string]string{
			"i.conf": "port 0\ninclude {{dir}}/inc.conf\n", "inc.conf": "\n\nbar 1 2\n"}, args: []string{"i.conf"}},
		{name: "include glob concatenates", files: map[string]string{
			"g.conf": "port 0\ninclude {{dir}}/gl/*.conf\n", "gl/a.conf": "loglevel warning\nport", "gl/b.conf": " 0\nbar\n"}, args: []string{"g.conf"}},
		{name: "include glob without match", files: map[string]string{"g.conf": "port 0\ninclude {{dir}}/nomatch*.conf\nfoo\n"}, args: []string{"g.conf"}},
		{name: "include glob skips hidden files", files: map[string]string{
			"g.conf": "port 0\ninclude {{dir}}/dot/*\nfoo\n", "dot/.hidden.conf": "bar\n"}, args: []string{"g.conf"}},
		{name: "include unterminated bracket is literal", files: map[string]string{
			"g.conf": "port 0\ninclude {{dir}}/lit[.conf\n", "lit[.conf": "bar\n"}, args: []string{"g.conf"}},
		{name: "include unterminated bracket without file", files: map[string]string{"g.conf": "port 0\ninclude {{dir}}/nomatch[\nfoo\n"}, args: []string{"g.conf"}},
		{name: "include directory reads empty", files: map[string]string{"d.conf": "port 0\ninclude {{dir}}/sub\nfoo\n", "sub/x": ""}, args: []string{"d.conf"}},
		{name: "include missing file", files: map[string]string{"m.conf": "port 0\ninclude {{dir}}/missing.conf\n"}, args: []string{"m.conf"}},
		{name: "include arity", files: map[string]string{"ia.conf": "port 0\ninclude\ninclude a b\n"}, args: []string{"ia.conf"}},
		{name: "missing config file", args: []string{"nonexist.conf"}},
		{name: "option without config file", args: []string{"--foo", "bar"}},
		{name: "option after config file", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--foo", "bar"}},
		{name: "option after file without newline", files: map[string]string{"nonl.conf": "port 0\nloglevel warning"}, args: []string{"nonl.conf", "--foo", "bar"}},
		{name: "quoted option values", args: []string{"--port", "0", "--loglevel", "warning", "--foo", `a b"c\\d`, "\n\t\x01\xff"}},
		{name: "extra option values", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--port", "1", "2", "--foo"}},
		{name: "name and value in one argument", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--foo  bar baz", "x"}},
		{name: "save before an option", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--save", "--foo", "1"}},
		{name: "valueless option takes --save", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--foo", "--save"}},
		{name: "sentinel before an option", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--sentinel", "--foo", "1"}},
		{name: "dash in the middle", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--foo", "-x", "-", "y"}},
		{name: "stdin first", args: []string{"-", "--foo", "1"}, stdin: "port 0\n"},
		{name: "stdin joins a file without newline", files: map[string]string{"nonl.conf": "port 0\nloglevel warning"}, args: []string{"nonl.conf", "-"}, stdin: "loglevel warning"},
		{name: "bare value first", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "x", "--port", "1"}},
		{name: "version flag later", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--version"}},
		{name: "double dash", files: map[string]string{"ok.conf": "port 0\n"}, args: []string{"ok.conf", "--", "foo"}},
		{name: "empty config file name", args: []string{"", "--foo"}},
		{name: "save values in one argument", args: []string{"--save", "10 1", "20 2"}},
		{name: "save with unbalanced inner quotes clears", files: map[string]string{"s.conf": "save \"1 \\\"2\"\nfoo\n"}, args: []string{"s.conf"}},
		{name: "save single argument odd", files: map[string]string{"s.conf": "save \"100 200 300\"\n"}, args: []string{"s.conf"}},
		token("escapes", `"a\x41\x4g\q\n b"`),
		token("single quotes", `'a\'b\c'`),
		token("utf8 hex", `"\xe2\x82\xac"`),
		token("mid token quote", `x"y z"`),
		token("vertical tab", ">a\vb"),
		token("unbalanced", `a\"b`),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "{{dir}}", dir) }
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(expand(content)), 0o644))
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = expand(a)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			var exitErr *exec.ExitError
			require.ErrorAs(t, runErr, &exitErr, "redis-server should fail; stdout: %s", stdout.String())
			assert.Equal(t, 1, exitErr.ExitCode())

			cl := CommandLine(args)
			if cl.HasConfigFile {
				cl.ConfigFile = AbsolutePath(dir, cl.ConfigFile)
			}
			err := LoadStartup(OSFS(), cl, strings.NewReader(tc.stdin), fakeRegistry)
			require.Error(t, err)
			var oe *OpenError
			if errors.As(err, &oe) {
				// Logged, not printed as a banner: "<pid>:C <time> # <message>".
				assert.Empty(t, stderr.String())
				assert.True(t, strings.HasSuffix(stdout.String(), " # "+err.Error()+"\n"),
					"redis-server logged %q, we say %q", stdout.String(), err.Error())
				return
			}
			var fe *FatalError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, stderr.String(), err.Error())
		})
	}
}
