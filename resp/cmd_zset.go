package resp

func zsetCommands() []*Command { return nil }
