package pluginhost

import (
	"context"
	"errors"
	"fmt"

	"github.com/fanout/fanout/internal/reaper"
)

// ErrOrphansUnknown is wrapped by KillOrphans's error when fanout cannot
// know whether what a crashed plugin started has ended: the commands may
// still run.
var ErrOrphansUnknown = errors.New("cannot tell whether the commands the plugin started have ended")

// KillOrphans ends everything the plugin process left running when it
// died (a panic, SIGKILL): the processes still in its session, whole
// process groups, which the kernel gave to fanout once their parent was
// gone. It returns once they are gone, so that a rollback of what the
// plugin was doing cannot run beside it; or an error wrapping
// ErrOrphansUnknown, saying why fanout cannot know: this system has no
// child subreapers, this process did not call reaper.Enable, the plugin
// still runs, or ctx ended first. A command that left the plugin's session
// on purpose (a daemon, setsid) is spared, like one whose plugin did not
// crash.
//
// Call it once the plugin's calls fail with client.ErrPluginExited: the
// process has then exited and been waited for, so that nothing of its
// session is fanout's to wait for any more.
func (p *Plugin) KillOrphans(ctx context.Context) error {
	switch {
	case p.pid == 0:
		return fmt.Errorf("%w: the plugin's process is not known", ErrOrphansUnknown)
	case !p.Client.Exited():
		return fmt.Errorf("%w: the plugin process %d still runs", ErrOrphansUnknown, p.pid)
	case !reaper.Enabled():
		// Then the orphans went to init, out of reach; on systems other
		// than Linux there are no subreapers at all.
		return fmt.Errorf("%w: fanout is not a child subreaper (Linux only), so they did not become its children", ErrOrphansUnknown)
	}
	killed, err := reaper.KillOrphans(ctx, func(proc reaper.Process) bool { return proc.SID != p.pid })
	if len(killed) > 0 && p.logger != nil {
		p.logger.Warn("killed what the crashed plugin left running", "pids", killed)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOrphansUnknown, err)
	}
	return nil
}
