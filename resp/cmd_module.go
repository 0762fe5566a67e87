package resp

// MODULE: Celerity loads no Redis modules, but tools ask which are loaded
// (Redis Commander and RedisInsight send MODULE LIST after connecting and
// lose features when it fails), so LIST answers the empty list Redis 7.0
// gives without modules, and LOAD/LOADEX/UNLOAD are refused as Redis
// refuses them under its default enable-module-command no
// (allowProtected).

func moduleCommands() []*Command {
	const load = Admin | NoScript | NoAsyncLoading | Protected
	return []*Command{
		{Name: "module", Arity: -2, Sub: []*Command{
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: moduleHelpCommand},
			{Name: "list", Arity: 2, Flags: Admin | NoScript, Run: moduleListCommand},
			// Never run: allowProtected refuses them first.
			{Name: "load", Arity: -3, Flags: load, Run: moduleListCommand},
			{Name: "loadex", Arity: -3, Flags: load, Run: moduleListCommand},
			{Name: "unload", Arity: 3, Flags: load, Run: moduleListCommand},
		}},
	}
}

func moduleListCommand(c *Client) { c.Array(0) }

func moduleHelpCommand(c *Client) {
	c.replyHelp([]string{
		"LIST",
		"    Return a list of loaded modules.",
		"LOAD <path> [<arg> ...]",
		"    Load a module library from <path>, passing to it any optional arguments.",
		"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
		"    Load a module library from <path>, while passing it module configurations and optional arguments.",
		"UNLOAD <name>",
		"    Unload a module.",
	})
}
