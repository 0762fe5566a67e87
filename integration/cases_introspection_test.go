package integration

import "testing"

// Introspection the operator tools rely on besides INFO and CLIENT:
// MODULE (Redis Commander and RedisInsight ask which modules are loaded).

func TestDiffModule(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "module/list-and-errors", steps: []xstep{
			x("MODULE", "LIST"), x("module", "list"), x("MODULE", "HELP"), x("MODULE"), x("MODULE", "FOO"), x("MODULE", "LIST", "x"),
			x("MODULE", "LOAD"), x("MODULE", "LOAD", "/nosuch.so"), x("MODULE", "LOADEX", "/nosuch.so", "ARGS", "a"),
			x("MODULE", "UNLOAD", "x"), x("MODULE", "UNLOAD"), x("MODULE", "UNLOAD", "a", "b"),
			x("CONFIG", "RESETSTAT"), x("MODULE", "LOAD", "/x.so"), x("MODULE", "LIST"),
			x("INFO", "commandstats").with(cmpInfo), x("INFO", "errorstats").with(cmpInfo)}},
	})
}
