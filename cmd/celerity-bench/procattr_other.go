//go:build !linux

package main

import "syscall"

// childProcAttr: see procattr_linux.go. Without Pdeathsig, children can
// outlive a SIGKILLed tool on non-Linux systems; the memory phase needs
// /proc anyway, so Linux is the supported platform.
func childProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: ownGroup}
}
