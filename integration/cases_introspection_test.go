package integration

import "testing"

// Introspection the operator tools rely on besides INFO and CLIENT:
// MODULE (Redis Commander and RedisInsight ask which modules are loaded),
// and SHUTDOWN's refusals (the forms that stop the server are compared
// end to end by e2e/shutdown_test.go: this oracle is shared).

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

func TestDiffShutdownRefusals(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "shutdown/syntax-and-abort", steps: []xstep{
			x("SHUTDOWN", "FOO"), x("SHUTDOWN", "SAVE", "NOSAVE"), x("SHUTDOWN", "nosave", "save"), x("SHUTDOWN", "ABORT"),
			x("shutdown", "abort"), x("SHUTDOWN", "ABORT", "NOW"), x("SHUTDOWN", "NOSAVE", "ABORT"), x("SHUTDOWN", "abort", "force"),
			x("SHUTDOWN", "NOW", "FOO"), x("PING")}},
		{name: "shutdown/in-multi-and-script", steps: []xstep{
			x("MULTI"), x("SHUTDOWN"), x("SHUTDOWN", "NOSAVE"), x("EXEC"),
			x("EVAL", "redis.call('shutdown')", "0"), x("EVAL", "return redis.pcall('shutdown', 'nosave')", "0"), x("PING")}},
	})
}
