package resp

import "sort"

// builtinCommands returns the declarations of every Redis command group
// Celerity implements, one group per cmd_*.go file.
func builtinCommands() [][]*Command {
	return [][]*Command{
		stringCommands(),
		genericCommands(),
		connectionCommands(),
		serverCommands(),
		listCommands(),
		hashCommands(),
		setCommands(),
		zsetCommands(),
		transactionCommands(),
		scriptingCommands(),
		pubsubCommands(),
		slowlogCommands(),
		latencyCommands(),
		moduleCommands(),
		monitorCommands(),
		adminCommands(),
		aclCommands(),
		memoryCommands(),
		snapshotCommands(),
		dumpCommands(),
	}
}

func sortStrings(s []string) { sort.Strings(s) }
