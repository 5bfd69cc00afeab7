package main

import (
	"os"
	"runtime"
)

// limitProcs runs fanout, and the ssh transport it serves, on half the
// CPUs Go would use (at least one), unless GOMAXPROCS is set.
//
// Both processes mostly wait: on hosts, and on each other. Their work
// comes in small pieces (a gRPC message, an SSH packet), each handed from
// one goroutine to another, and every hand-off to an idle P wakes a
// thread that spins looking for more, then sleeps again. Where the CPUs
// are busy with other work (a shared jump host, a CI runner, the bench's
// fleet of sshd on the same machine) those wake-ups take CPU from it and
// from the hosts' side: on 2 CPUs, one P per process cut fanout's and the
// ssh plugin's CPU by 12% at 500 hosts (docs/performance.md, "Fleets,
// session 4"). Half the CPUs is still far more than a fleet's handshakes
// need: 2,000 hosts take the two processes 0.2 CPU on average. The local
// transport keeps all of them (see builtin.limitProcs).
func limitProcs() {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return
	}
	runtime.GOMAXPROCS(procsFor(runtime.GOMAXPROCS(0)))
}

// procsFor is the number of Ps limitProcs sets when Go would use n.
func procsFor(n int) int {
	return max(1, n/2)
}
