package integration

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportRules checks ARCHITECTURE.md's dependency rules on the real
// module graph (go list): dependencies point down, the wire knows nothing
// of Celery, and the Celery-aware packages know the engine only.
func TestImportRules(t *testing.T) {
	const mod = "github.com/celerity/celerity/"
	// From the module root, named by this file's path: the working
	// directory cannot be trusted, as the in-process servers of other tests
	// in this package run CONFIG SET dir (a chdir) into directories that
	// are gone by now.
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...")
	cmd.Dir = filepath.Dir(filepath.Dir(file))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	direct := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, mod) {
				direct[pkg] = append(direct[pkg], strings.TrimPrefix(imp, mod))
			}
		}
		if _, ok := direct[pkg]; !ok {
			direct[pkg] = nil
		}
	}
	// deps returns every package of ours pkg imports, transitively.
	deps := func(pkg string) []string {
		seen := map[string]bool{}
		var walk func(p string)
		walk = func(p string) {
			for _, d := range direct[p] {
				if !seen[d] {
					seen[d] = true
					walk(d)
				}
			}
		}
		walk(pkg)
		var list []string
		for d := range seen {
			list = append(list, d)
		}
		sort.Strings(list)
		return list
	}
	under := func(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }

	require.Contains(t, direct, "keyspace", "go list saw the module")
	for pkg := range direct {
		for _, d := range deps(pkg) {
			switch {
			case under(pkg, "keyspace"):
				assert.True(t, under(d, "keyspace"), "keyspace imports nothing of ours: %s imports %s", pkg, d)
			case under(pkg, "aof"):
				assert.False(t, under(d, "keyspace") || under(d, "resp"), "aof knows argv, not commands: %s imports %s", pkg, d)
			case under(pkg, "resp"):
				for _, celery := range []string{"kombu", "redbeat", "results"} {
					assert.False(t, under(d, celery), "the engine knows nothing of Celery: %s imports %s", pkg, d)
				}
			case under(pkg, "kombu") || under(pkg, "redbeat") || under(pkg, "results"):
				assert.True(t, under(d, "resp") || under(d, "keyspace") || under(d, "aof"),
					"a Celery-aware package imports the engine only, never another: %s imports %s", pkg, d)
			}
			if !under(pkg, "cmd") {
				assert.False(t, under(d, "cmd"), "nothing imports cmd/: %s imports %s", pkg, d)
			}
		}
	}
}
