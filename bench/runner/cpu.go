package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The wall-clock figures of a shared 2-core machine move with its other
// work; CPU time per job moves much less, and it is what bounds the jobs/s
// of a machine: cores ÷ CPU per job.

// selfCPU is this process's user + system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procsCPU is the user + system time of exited processes.
func procsCPU(procs []*exec.Cmd) time.Duration {
	var d time.Duration
	for _, p := range procs {
		if p.ProcessState != nil {
			d += p.ProcessState.UserTime() + p.ProcessState.SystemTime()
		}
	}
	return d
}

// servicesCPU is the user + system time so far of every process whose
// name is one of names (the services of the real path), from /proc; 0
// where there is none. Whoever else uses those services meanwhile is
// counted too.
func servicesCPU(names ...string) time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		comm := s[open+1 : end]
		match := false
		for _, n := range names {
			match = match || comm == n
		}
		if !match {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 { // state is field 3; utime and stime are 14 and 15
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}
