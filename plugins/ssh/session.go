package ssh

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/sdk"
)

// session is one SSH "session" channel running one command, driven by hand
// rather than through x/crypto's ssh.Session, whose Wait returns only once
// the server has closed the channel. OpenSSH closes it at the end of the
// command's output, which a child the command left in the background
// (`sleep 30 & echo x`, a daemon a task starts) holds open for as long as
// it runs. The exit status comes before that, when the server reaps the
// command's process: a session says so at once (exited), and Exec then
// gives the output outputGrace to end before it closes the channel itself.
//
// The messages are the ones ssh.Session exchanges and one more: opening
// the channel, the exec request, the command's stdin, a second exec request
// that tells whether the first was refused (see start), then what the
// server sends.
type session struct {
	ch ssh.Channel

	// refused is closed when the server refused the exec request.
	refused chan struct{}
	// unsignalled is closed when the server refused a signal request
	// (a raw command's: see rawSignal), which it will not deliver.
	unsignalled     chan struct{}
	unsignalledOnce sync.Once
	// progress, when not nil, reads a command list's markers out of the
	// stdout (see listScript). It is the stdout copier's until copying is
	// over.
	progress *progress

	// exited is closed when the exit status or signal has arrived.
	exited   chan struct{}
	exitOnce sync.Once
	// closed is closed when the channel has ended: the server's close
	// arrived (x/crypto answers it), or the connection ended. Until then
	// the server counts the session against its limit.
	closed chan struct{}

	mu     sync.Mutex // guards the fields below
	status int        // exit-status, -1 until it arrives
	signal string     // exit-signal's name, "" until it arrives
	// failed is closed, and failErr set, when a write of the command's
	// output failed; the rest of the output is then discarded, still
	// read so that the server's window keeps moving.
	failed   chan struct{}
	failErr  error
	failOnce sync.Once

	copying sync.WaitGroup // the output copiers
}

// openSession opens a session channel on client. The session's requests
// are read from the start: the server may send some (keepalives) before
// the command runs, and an unread one holds up the whole connection.
func openSession(client *ssh.Client) (*session, error) {
	ch, reqs, err := client.OpenChannel("session", nil)
	if err != nil {
		return nil, err
	}
	s := &session{
		ch:          ch,
		refused:     make(chan struct{}),
		unsignalled: make(chan struct{}),
		exited:      make(chan struct{}),
		closed:      make(chan struct{}),
		failed:      make(chan struct{}),
		status:      -1,
	}
	// Ends when the channel does; end waits for it.
	go s.requests(reqs)
	return s, nil
}

// requests reads the channel's requests until the channel ends, recording
// the exit status or signal (RFC 4254 section 6.10).
func (s *session) requests(reqs <-chan *ssh.Request) {
	defer close(s.closed)
	for req := range reqs {
		switch req.Type {
		case "exit-status":
			// A malformed one is ignored: the status stays unknown, as
			// when none is sent.
			if len(req.Payload) >= 4 {
				s.exit(int(binary.BigEndian.Uint32(req.Payload)), "")
			}
		case "exit-signal":
			var msg struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}
			if ssh.Unmarshal(req.Payload, &msg) == nil && msg.Signal != "" {
				s.exit(-1, msg.Signal)
			}
		default:
			// As OpenSSH answers what it does not know (keepalives).
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
}

// exit records how the command ended; a signal wins over a status.
func (s *session) exit(status int, signal string) {
	s.mu.Lock()
	if signal != "" {
		s.signal = signal
	} else if s.signal == "" {
		s.status = status
	}
	s.mu.Unlock()
	s.exitOnce.Do(func() { close(s.exited) })
}

// result returns how the command ended, and false when the server has not
// said (yet).
func (s *session) result() (status int, signal string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.signal, s.status != -1 || s.signal != ""
}

// start runs command, writes input on its stdin, then calls written (if
// not nil), and copies the output to out until the channel ends. The rest
// of the channel's stdin is left to the caller (the watcher's control
// line: see watchScript), once written has been called. start does not
// wait for the input to be written: see below.
//
// The exec request goes without asking for a reply, and input right
// behind it, so that no wait of ours delays the command. The data must
// follow the request, not precede it: OpenSSH and dropbear drop data that
// arrives on a session before its command runs; a server handles a
// channel's messages in order. OpenSSH opens a session with a zero window
// and grants one once the command runs (session.c: a larval session has
// nowhere to write input), so the Write waits a round trip there, as long
// as waiting for the exec reply would; dropbear grants its window when
// the session opens. A refused request leaves the window shut for good:
// the Write runs in a goroutine, ended by the session's end, so that
// nothing waits on it but the command.
// Whether the request was refused (the server could not start the shell)
// is asked by a second exec request, with a reply, sent right after the
// input: a server accepts one exec per session, so it refuses the second
// when the first ran (OpenSSH: a session is no longer larval; dropbear:
// "only one command can succeed"), and runs it when the first was
// refused, which closes refused. The command does not wait for that
// reply, nor does Exec, unless nothing else ends the session.
func (s *session) start(command string, input []byte, out sdk.ExecOutput, written func()) error {
	if _, err := s.ch.SendRequest("exec", false, ssh.Marshal(struct{ Command string }{command})); err != nil {
		return err
	}
	s.copying.Go(func() {
		if len(input) > 0 {
			if _, err := s.ch.Write(input); err != nil {
				return // the session ended
			}
		}
		if written != nil {
			written()
		}
	})
	s.copying.Go(func() {
		// Harmless when it runs: the first request ran nothing.
		ok, err := s.ch.SendRequest("exec", true, ssh.Marshal(struct{ Command string }{"exit 126"}))
		if err == nil && ok {
			close(s.refused)
		}
	})
	stdout := failWriter{out.Stdout, s}
	if p := s.progress; p != nil {
		p.w = stdout
		s.copying.Go(func() {
			if p.plain {
				// Past the wrapper's mark, the writer reads the rest
				// itself (see failWriter.ReadFrom).
				if untilThrough(p, s.ch) {
					_, _ = stdout.ReadFrom(s.ch)
				}
			} else {
				_ = copyBuffered(p, s.ch)
			}
			p.flush()
		})
	} else {
		s.copying.Go(func() { _, _ = stdout.ReadFrom(s.ch) })
	}
	s.copying.Go(func() { _, _ = failWriter{out.Stderr, s}.ReadFrom(s.ch.Stderr()) })
	return nil
}

// untilThrough feeds p from r, a small read at a time, until p passes the
// rest through unread (its "w" mark has come) or r ends; it reports
// whether p did. The mark is the script's first output, after what the
// login shell may print.
func untilThrough(p *progress, r io.Reader) bool {
	var buf [512]byte
	for !p.passing() {
		n, err := r.Read(buf[:])
		if n > 0 {
			_, _ = p.Write(buf[:n])
		}
		if err != nil {
			return p.passing()
		}
	}
	return true
}

// copyBuffered copies r to w until r sends EOF or ends, or a write fails,
// through pooled buffers: 32 KiB, then 256 KiB from the first read that
// fills it, a stream with output waiting, which then drains in large
// reads, as the SDK's writers read (see failWriter.ReadFrom).
func copyBuffered(w io.Writer, r io.Reader) (written int64) {
	pool := &copyBuffers
	buf := pool.Get().(*[]byte)
	defer func() { pool.Put(buf) }()
	for {
		n, err := r.Read(*buf)
		if n > 0 {
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return written
			}
			written += int64(n)
		}
		if err != nil {
			return written
		}
		if n == len(*buf) && pool == &copyBuffers {
			pool.Put(buf)
			pool = &bulkBuffers
			buf = pool.Get().(*[]byte)
		}
	}
}

// copyBuffers are the first buffers of the output copiers that cannot
// hand the reading to the writer (see failWriter.ReadFrom), reused: two
// per command, most of which print little or nothing, would otherwise
// cost the garbage collector 64 KiB a command. bulkBuffers are those of
// the streams that fill them.
var (
	copyBuffers = sync.Pool{New: func() any {
		b := make([]byte, 32<<10)
		return &b
	}}
	bulkBuffers = sync.Pool{New: func() any {
		b := make([]byte, 256<<10)
		return &b
	}}
)

// writeFailure returns the error of a failed output write, or nil.
func (s *session) writeFailure() error {
	select {
	case <-s.failed:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.failErr
	default:
		return nil
	}
}

// waitExit waits up to d for the command to end, and reports whether it
// did (or its channel ended). It stops waiting when the server refused a
// signal: the command is not going to end by it.
func (s *session) waitExit(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-s.exited:
		return true
	case <-s.closed:
		return true
	case <-s.unsignalled:
		return false
	case <-timer.C:
		return false
	}
}

// end closes the channel, if the server has not, and waits for its close
// (only then is the server's session slot free), for the requests reader
// and for the output copiers, which deliver what arrived before the close.
func (s *session) end() {
	_ = s.ch.Close()
	<-s.closed
	s.copying.Wait()
}

// failWriter writes to w until a write fails; it then records the error
// once and discards the rest.
type failWriter struct {
	w io.Writer
	s *session
}

func (f failWriter) Write(p []byte) (int, error) {
	select {
	case <-f.s.failed:
		return len(p), nil
	default:
	}
	if _, err := f.w.Write(p); err != nil {
		f.fail(err)
	}
	return len(p), nil
}

// fail records err, the first failed write of the session's output.
func (f failWriter) fail(err error) {
	f.s.failOnce.Do(func() {
		f.s.mu.Lock()
		f.s.failErr = err
		f.s.mu.Unlock()
		close(f.s.failed)
	})
}

// ReadFrom copies r to w until r sends EOF or ends, with Write's rule: once
// a write has failed, the rest is read and discarded.
//
// The reading is w's own when w is an io.ReaderFrom, as the SDK's output
// writers are: they read a stream that keeps them busy in pieces of up to
// 256 KiB, where a copy buffer reads 32 KiB at a time. Streaming a large
// output, that is what keeps the plugin's cost per byte down (W5 in
// docs/performance.md): a read of the channel is what sends the server
// more window (an SSH packet and a write), and each read becomes events of
// up to 32 KiB for fanout to receive, where 32 KiB reads became two of 16
// KiB each.
func (f failWriter) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := f.w.(io.ReaderFrom)
	if !ok {
		return copyBuffered(f, r), nil // which calls Write only
	}
	g := &guardedReader{r: r, failed: f.s.failed}
	n, err := rf.ReadFrom(g)
	switch {
	case g.err != nil:
		return n, g.err // r failed: the channel ended
	case err == nil:
		return n, nil
	case !g.stopped:
		f.fail(err) // a write failed
	}
	m, _ := io.Copy(io.Discard, r)
	return n + m, nil
}

// guardedReader reads r for a ReaderFrom, until the session's output has
// failed (its other stream's write, say): it then stops with errFailed,
// and the rest is discarded. It records an error of r's own, which is not
// the writer's.
type guardedReader struct {
	r       io.Reader
	failed  <-chan struct{}
	stopped bool  // a read was refused: the output had failed
	err     error // r's error, other than EOF
}

// errFailed is what guardedReader's Read returns once the output has failed.
var errFailed = errors.New("output failed")

func (g *guardedReader) Read(p []byte) (int, error) {
	select {
	case <-g.failed:
		g.stopped = true
		return 0, errFailed
	default:
	}
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		g.err = err
	}
	return n, err
}
