package core

// The journal's records of a rollout. A run writes them besides the unit
// records, which are all `fanout rollback` needs: a dropped host's
// rollbacks are unit records of the rollback phase, so a rollback of the
// journal skips those that succeeded and undoes, once, every other pair
// that started. These records tell what happened: waves, drops, retries.
const (
	// RecordWaveStarted is a wave of Task starting on Hosts; Wave counts
	// from 1.
	RecordWaveStarted RecordType = "wave_started"
	// RecordWaveFinished is that wave ending, every host of it having had
	// its turn; Failed lists the hosts that failed in it. A wave the run
	// stopped in has none.
	RecordWaveFinished RecordType = "wave_finished"
	// RecordHostDropped is Host dropped within a failure budget after Task
	// failed there (Reason); its rollbacks follow as unit records.
	RecordHostDropped RecordType = "host_dropped"
	// RecordAttempt is an attempt of Task's run on Host that failed and
	// will be tried again: Attempt counts from 1, Result is its outcome.
	RecordAttempt RecordType = "attempt_failed"
)
