package local

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// supervisor is the plugin's side of the supervisor process (see
// supervisorArg0): it starts commands so that the process can kill them,
// and keeps it told of their process groups. One serves a Transport; it
// starts its process at the first command, and again should it die.
type supervisor struct {
	logger hclog.Logger
	path   string // the binary to re-execute

	// starts carries commands to the starter goroutine, which starts each
	// on the one OS thread it holds for its whole life: the shell is
	// killed when the thread that started it dies (killOnParentDeath), and
	// a Go thread may die before its process does.
	starts      chan startRequest
	startOnce   sync.Once
	starterDone chan struct{} // closed when the starter goroutine has returned

	// waiters counts the goroutines that wait for supervisor processes.
	waiters sync.WaitGroup

	mu sync.Mutex
	// guarded by mu
	groups map[int]bool // registered, as the supervisor process knows them
	link   *supervisorLink
	closed bool
	// replaced is set when wait starts a process in place of one that
	// died, and cleared by the next registration: a process that cannot
	// run is started again once per command, not in a loop.
	replaced bool
}

// supervisorLink is one supervisor process and the write end of its
// control pipe.
type supervisorLink struct {
	cmd     *exec.Cmd
	control *os.File
}

// startRequest asks the starter goroutine to start cmd and register its
// group.
type startRequest struct {
	cmd  *exec.Cmd
	done chan<- startResult
}

// startResult is cmd.Start's error, and whether the group is registered.
type startResult struct {
	err        error
	supervised bool
}

func newSupervisor(logger hclog.Logger, path string) *supervisor {
	return &supervisor{
		logger:      logger,
		path:        path,
		starts:      make(chan startRequest),
		starterDone: make(chan struct{}),
		groups:      map[int]bool{},
	}
}

// start starts cmd, whose SysProcAttr must put it in a process group of its
// own, and registers that group with the supervisor process. It returns
// cmd.Start's error, and whether the group is registered: when the
// supervisor process cannot be started, the command runs all the same, and
// the caller says that it would outlive a crash. It must not be called
// after close.
func (s *supervisor) start(cmd *exec.Cmd) (supervised bool, err error) {
	s.startOnce.Do(func() { go s.starter() })
	killOnParentDeath(cmd.SysProcAttr)
	done := make(chan startResult, 1)
	s.starts <- startRequest{cmd: cmd, done: done}
	r := <-done
	return r.supervised, r.err
}

// starter starts the commands sent on s.starts, on a thread of its own
// until close (see s.starts), and registers each one's group.
//
// Between a shell's start and its registration the plugin may die unseen
// by the supervisor process. The system then kills the shell
// (killOnParentDeath), but not a child the shell has forked already. That
// window is kept as short as it can be: the supervisor process runs before
// the shell starts, and the registration is the next system call on this
// thread once the shell has been exec'd, while a shell takes hundreds of
// microseconds to start and fork. Closing it for good would take holding
// the shell stopped until registered, which only ptrace can do from here:
// a tracer of its own would fail under strace or gdb, and is refused by
// some sandboxes; or a wrapper process per command, the cost this design
// removes.
func (s *supervisor) starter() {
	defer close(s.starterDone)
	// Never unlocked: the thread ends with the goroutine, once close has
	// made sure that no command it started is still waited for.
	runtime.LockOSThread()
	for req := range s.starts {
		s.prepare()
		var r startResult
		if r.err = req.cmd.Start(); r.err == nil {
			r.supervised = s.register(req.cmd.Process.Pid)
		}
		req.done <- r
	}
}

// prepare starts the supervisor process if none runs, so that a command's
// registration does not wait for it. A failure is left for register to
// report.
func (s *supervisor) prepare() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.link == nil {
		_ = s.launch()
	}
}

// register tells the supervisor process about the group pgid, starting the
// process if none runs. It reports whether the process knows the group.
func (s *supervisor) register(pgid int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[pgid] = true
	s.replaced = false
	if s.link != nil {
		if err := s.send(fmt.Sprintf("+%d\n", pgid)); err == nil {
			return true
		}
	}
	// A new process learns of every group, this one included.
	if err := s.launch(); err != nil {
		s.logger.Warn("cannot start the commands' supervisor", "error", err)
		// The caller runs it unsupervised and will not unregister it; the
		// other groups stay, for the next process to learn of.
		delete(s.groups, pgid)
		return false
	}
	return true
}

// unregister tells the supervisor process to leave the group pgid alone.
// The caller has seen the group's leader exit and reaps it only once this
// has returned, so that its pid cannot name another group while registered.
func (s *supervisor) unregister(pgid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, pgid)
	if s.link != nil {
		_ = s.send(fmt.Sprintf("-%d\n", pgid))
	}
}

// send writes msg to the supervisor process. If it cannot, the process is
// gone: it is dropped, and the next register starts another.
func (s *supervisor) send(msg string) error {
	_, err := io.WriteString(s.link.control, msg)
	if err != nil {
		s.logger.Warn("the commands' supervisor is gone; starting another", "error", err)
		_ = s.link.control.Close()
		s.link = nil
	}
	return err
}

// launch starts a supervisor process and registers every group with it.
// Called with s.mu held and no process running.
func (s *supervisor) launch() error {
	if s.closed {
		return errClosed
	}
	// os.Pipe sets close-on-exec, so that no command inherits the write
	// end: only this process's death, or close, closes it.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("control pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path:       s.path,
		Args:       []string{supervisorArg0},
		ExtraFiles: []*os.File{controlFD - 3: r},
		// A group of its own, apart from the plugin's: a signal for the
		// plugin's group, such as a terminal's Ctrl-C, must not reach it.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	// The supervisor has its copy of the read end; neither end was
	// written to yet, so closing loses nothing.
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("start %s: %w", s.path, err)
	}
	link := &supervisorLink{cmd: cmd, control: w}
	s.waiters.Go(func() { s.wait(link) })
	s.link = link
	var all strings.Builder
	for pgid := range s.groups {
		fmt.Fprintf(&all, "+%d\n", pgid)
	}
	if err := s.send(all.String()); err != nil {
		return fmt.Errorf("register with the supervisor: %w", err)
	}
	s.logger.Debug("commands' supervisor started", "pid", cmd.Process.Pid)
	return nil
}

// wait reaps the supervisor process of link when it exits, which before
// close means that something killed it: another then takes its place at
// once, if commands run that it must learn of.
func (s *supervisor) wait(link *supervisorLink) {
	err := link.cmd.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	current := s.link == link // else send has seen it gone, and said so
	if current {
		_ = link.control.Close()
		s.link = nil
	}
	if s.closed {
		return
	}
	if current {
		s.logger.Warn("the commands' supervisor exited; starting another", "error", err)
	}
	if s.link == nil && len(s.groups) > 0 && !s.replaced {
		s.replaced = true
		if err := s.launch(); err != nil {
			s.logger.Warn("cannot start the commands' supervisor", "error", err)
		}
	}
}

// close ends the supervisor process, which kills any group still
// registered, and waits for it and for the starter goroutine. The caller
// calls it once, when no command is starting or running any more.
func (s *supervisor) close() {
	s.mu.Lock()
	s.closed = true
	if s.link != nil {
		_ = s.link.control.Close()
		s.link = nil
	}
	s.mu.Unlock()
	s.waiters.Wait()

	running := true
	s.startOnce.Do(func() { running = false }) // and none starts from now on
	if running {
		close(s.starts)
		<-s.starterDone
	}
}
