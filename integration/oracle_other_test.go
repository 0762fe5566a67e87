//go:build !linux

package integration

import "os/exec"

// dieWithParent has no portable equivalent outside Linux; TestMain's
// normal exit still stops the oracle.
func dieWithParent(*exec.Cmd) {}
