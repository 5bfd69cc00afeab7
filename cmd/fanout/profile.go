package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
)

// Hidden profiling hooks, for performance work (docs/performance.md):
//
//	FANOUT_CPUPROFILE=PATH         CPU profile of the fanout process
//	FANOUT_MEMPROFILE=PATH         heap (allocation) profile, written at exit
//	FANOUT_PLUGIN_CPUPROFILE=PATH  CPU profile of each built-in plugin process
//	FANOUT_PLUGIN_MEMPROFILE=PATH  heap profile of each built-in plugin process
//
// A plugin inherits fanout's environment, so it reads only the PLUGIN
// variables; "%s" in their PATH is replaced by the transport's name (ssh,
// local), so that two plugins of one run do not write the same file. A
// plugin writes its profiles when it ends normally (fanout closes it at the
// end of the run), not when it is killed.

// startProfiling starts what the environment asks for, for the command
// about to run (args as given to run), and returns what stops it and
// writes the profiles. Problems are reported on stderr and never stop the
// command.
func startProfiling(args []string) (stop func()) {
	cpuVar, memVar, name := "FANOUT_CPUPROFILE", "FANOUT_MEMPROFILE", ""
	if len(args) == 2 && args[0] == "internal-plugin" {
		cpuVar, memVar, name = "FANOUT_PLUGIN_CPUPROFILE", "FANOUT_PLUGIN_MEMPROFILE", args[1]
	}
	path := func(v string) string {
		p := os.Getenv(v)
		if name != "" && strings.Contains(p, "%s") {
			p = strings.ReplaceAll(p, "%s", name)
		}
		return p
	}
	cpuPath, memPath := path(cpuVar), path(memVar)
	if cpuPath == "" && memPath == "" {
		return func() {}
	}
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err == nil {
			err = pprof.StartCPUProfile(f)
			if err != nil {
				_ = f.Close() // empty: the error to report is StartCPUProfile's
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "fanout: %s: %v\n", cpuVar, err)
		} else {
			cpu = f
		}
	}
	if memPath != "" {
		runtime.MemProfileRate = 64 << 10
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "fanout: %s: %v\n", cpuVar, err)
			}
		}
		if memPath != "" {
			if err := writeHeapProfile(memPath); err != nil {
				fmt.Fprintf(os.Stderr, "fanout: %s: %v\n", memVar, err)
			}
		}
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close() // the write's error is the one to report
		return err
	}
	return f.Close()
}
