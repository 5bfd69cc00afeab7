package ssh

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestProxyJump reaches 3 targets through one bastion, and one target
// through two: each bastion is logged into once, and stopping the bastion
// breaks the targets' connections, which only tunnelled ones would do.
func TestProxyJump(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 5})
	b1, b2, targets := f.Hosts[0], f.Hosts[1], f.Hosts[2:]
	// One connect at a time: a target waiting for its bastion must not
	// hold the only slot the bastion's dial needs.
	s := newTransport(t, f, setupOpts{settings: map[string]cty.Value{"max_connects": cty.NumberIntVal(1)}})
	jump1 := fmt.Sprintf("%s@%s:%d", f.User, b1.Addr, b1.Port)
	jump2 := fmt.Sprintf("%s:%d", b2.Addr, b2.Port)

	var wg sync.WaitGroup
	errs := make(chan error, len(targets))
	for i, h := range targets {
		jumps := jump1
		if i == 0 {
			jumps = jump1 + "," + jump2
		}
		wg.Go(func() {
			if err := s.connect(s.host(h, map[string]cty.Value{"proxy_jump": cty.StringVal(jumps)})); err != nil {
				errs <- err
				return
			}
			if out := s.exec(context.Background(), h.Name, "echo $FANOUT_HOST", func(r *execRequest) {
				r.Env = map[string]string{"FANOUT_HOST": h.Name}
			}); out.err != nil || out.stdout != h.Name+"\n" {
				errs <- fmt.Errorf("%s: %v %q", h.Name, out.err, out.stdout)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := b1.AcceptedPublickey(t); n != 1 {
		t.Errorf("bastion 1: %d logins for 3 targets, want 1", n)
	}
	if n := b2.AcceptedPublickey(t); n != 1 {
		t.Errorf("bastion 2: %d logins, want 1", n)
	}
	for _, h := range targets {
		if n := h.AcceptedPublickey(t); n != 1 {
			t.Errorf("%s: %d logins, want 1", h.Name, n)
		}
	}
	if n := b1.CountLog(t, "Starting session"); n != 0 {
		t.Errorf("bastion 1 ran %d sessions, want none", n)
	}

	b1.Stop(t)
	for _, h := range targets {
		r := s.exec(context.Background(), h.Name, "echo still", nil)
		if r.err == nil {
			t.Errorf("%s: Exec after the bastion died: %+v, want an error", h.Name, *r.resp)
		}
	}
}

// TestSSHConfig takes HostName, User, Port and IdentityFile from an
// ssh_config file, and lets HCL settings win over it.
func TestSSHConfig(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	h, bastion := f.Hosts[0], f.Hosts[1]
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	content := fmt.Sprintf(`Host web
  HostName %s
  Port %d
  User %s
  IdentityFile %s

Host wrong-port
  HostName %s
  Port 1
  User nobody-here

Host via-bastion
  HostName %s
  Port %d
  ProxyJump %s:%d

Host *
  IdentityFile /nonexistent/default
`, h.Addr, h.Port, f.User, f.ClientKey, h.Addr, h.Addr, h.Port, bastion.Addr, bastion.Port)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTransport(t, f, setupOpts{noAgent: true, settings: map[string]cty.Value{"ssh_config": cty.StringVal(cfg)}})

	web := s.host(h, nil)
	web.Name, web.Address, web.Config = "web", "web", object(t, hostSchema(), nil)
	if err := s.connect(web); err != nil {
		t.Fatalf("web from ssh_config: %v", err)
	}
	if out := s.mustExec("web", "id -un"); strings.TrimSpace(out) != f.User {
		t.Errorf("user %q, want %q", out, f.User)
	}

	over := s.host(h, map[string]cty.Value{
		"user":          cty.StringVal(f.User),
		"identity_file": cty.StringVal(f.ClientKey),
	})
	over.Name, over.Address = "overridden", "wrong-port"
	if err := s.connect(over); err != nil {
		t.Fatalf("HCL port and user over ssh_config: %v", err)
	}

	via := s.host(h, map[string]cty.Value{"identity_file": cty.StringVal(f.ClientKey)})
	via.Name, via.Address = "via", "via-bastion"
	err := s.connect(via)
	// the bastion's own identity comes from ssh_config's Host *: a file
	// that does not exist, and there is no agent
	if err == nil || !strings.Contains(err.Error(), "no usable ssh credentials") || !strings.Contains(err.Error(), "jump host "+bastion.Addr+":"+strconv.Itoa(bastion.Port)) {
		t.Errorf("via-bastion: %v, want the jump host's missing credentials", err)
	}
}

// TestOutput streams large output intact and apart, and passes awkward
// environment values verbatim.
func TestOutput(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	s, h := newConnected(t, f, setupOpts{})

	r := s.exec(context.Background(), h.Name, "seq 1 700000; seq 1 200000 >&2", nil)
	if r.err != nil || r.resp.ExitCode != 0 {
		t.Fatalf("%+v %v", r.resp, r.err)
	}
	if want := seq(700000); r.stdout != want {
		t.Errorf("stdout: %d bytes, want %d (%d MB)", len(r.stdout), len(want), len(want)>>20)
	}
	if want := seq(200000); r.stderr != want {
		t.Errorf("stderr: %d bytes, want %d", len(r.stderr), len(want))
	}

	env := map[string]string{
		"FANOUT_RUN_ID": "r-1",
		"QUOTES":        `it's "q" $HOME ` + "`x`",
		"MULTI":         "line1\nline2",
		"EMPTY":         "",
	}
	r = s.exec(context.Background(), h.Name, `printf '%s|%s|%s|%s' "$FANOUT_RUN_ID" "$QUOTES" "$MULTI" "${EMPTY-unset}"`, func(r *execRequest) { r.Env = env })
	if want := "r-1|" + env["QUOTES"] + "|" + env["MULTI"] + "|"; r.err != nil || r.stdout != want {
		t.Errorf("env: %q, %v; want %q", r.stdout, r.err, want)
	}
	r = s.exec(context.Background(), h.Name, "true", func(r *execRequest) { r.Env = map[string]string{"BAD-NAME": "x"} })
	if r.err == nil {
		t.Error("invalid env name accepted")
	}
}

func seq(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestConnectionLoss: a host that dies fails its running command with
// ErrConnectionLost, the next Exec dials again, and a command whose
// connection broke is killed on the host by its watcher.
func TestConnectionLoss(t *testing.T) {
	t.Parallel()
	f, s, h := connectedWithKeepalive(t)

	// The client side drops the connection: sshd ends the session, the
	// watcher sees its control line close and kills the command.
	m := marker()
	done := s.execRunning(h.Name, "sleep "+m)
	s.impl.mu.Lock()
	hc := s.impl.conns["host:"+h.Name].conn
	s.impl.mu.Unlock()
	if err := hc.client.Close(); err != nil {
		t.Fatal(err)
	}
	r := receive(t, done)
	if !errors.Is(r.err, ErrConnectionLost) {
		t.Errorf("Exec on a dropped connection: %+v, %v; want ErrConnectionLost", r.resp, r.err)
	}
	assertGone(t, f, "sleep "+m)

	// The next Exec dials again.
	if out := s.mustExec(h.Name, "echo again"); out != "again\n" {
		t.Errorf("after reconnect: %q", out)
	}
	if n := h.AcceptedPublickey(t); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}

	// The host dies under a running command.
	done = s.execRunning(h.Name, "sleep 30")
	h.Stop(t)
	r = receive(t, done)
	if !errors.Is(r.err, ErrConnectionLost) || !strings.Contains(r.err.Error(), "host "+h.Name) {
		t.Errorf("Exec on a dead host: %v; want host %s: ErrConnectionLost", r.err, h.Name)
	}
	r = s.exec(context.Background(), h.Name, "true", nil)
	if !errors.Is(r.err, ErrUnreachable) {
		t.Errorf("Exec on a stopped host: %v, want ErrUnreachable", r.err)
	}
	h.Restart(t)
	if out := s.mustExec(h.Name, "echo back"); out != "back\n" {
		t.Errorf("after restart: %q", out)
	}
}

// TestKeepalive: a host that stops answering (its sshd frozen) fails the
// running command within about two keepalive intervals.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	f, s, h := connectedWithKeepalive(t)
	wantFreezeNoticed(t, f, s, h)
}

// TestKeepaliveKeepsGoing: keepalives go on for as long as the connection
// lives, not only the first: an idle connection is still answered after
// several intervals, and a host that stops answering later is still
// noticed.
func TestKeepaliveKeepsGoing(t *testing.T) {
	t.Parallel()
	f, s, h := connectedWithKeepalive(t)
	time.Sleep(1500 * time.Millisecond) // five intervals, idle
	if out := s.mustExec(h.Name, "echo alive"); out != "alive\n" {
		t.Fatalf("after five idle intervals: %q", out)
	}
	time.Sleep(1500 * time.Millisecond)
	wantFreezeNoticed(t, f, s, h)
}

// wantFreezeNoticed freezes h's sshd under a running command and fails t
// unless the keepalives end the command with ErrConnectionLost in time,
// and the command is gone from the host once thawed.
func wantFreezeNoticed(t *testing.T, f *sshtest.Fleet, s *testSetup, h *sshtest.Host) {
	t.Helper()
	m := marker()
	done := s.execRunning(h.Name, "sleep "+m)
	h.Freeze(t)
	start := time.Now()
	r := receive(t, done)
	took := time.Since(start)
	h.Thaw(t)
	if !errors.Is(r.err, ErrConnectionLost) || !strings.Contains(r.err.Error(), "keepalive") {
		t.Errorf("Exec on a frozen host: %v, want ErrConnectionLost by keepalive", r.err)
	}
	// Without keepalives nothing would notice for minutes (TCP).
	if took > loadedMargin {
		t.Errorf("took %s to notice", took)
	}
	// Thawed, sshd finds its connection closed; the watcher kills the
	// command it left.
	assertGone(t, f, "sleep "+m)
}

// connectedWithKeepalive starts one host and a transport, called directly,
// with 300 ms keepalives, connected to it.
func connectedWithKeepalive(t *testing.T) (*sshtest.Fleet, *testSetup, *sshtest.Host) {
	t.Helper()
	f := sshtest.Start(t, sshtest.Options{})
	s, h := newConnected(t, f, setupOpts{direct: true, settings: map[string]cty.Value{"keepalive_interval": cty.StringVal("300ms")}})
	return f, s, h
}

// TestKeepaliveToleratesStall: a host that stops answering for less than
// keepalive_count_max intervals (a network that stalls, a busy server)
// keeps its connection, and the command on it, which a dropped
// connection would have stopped, runs to its end, as with ssh's
// ServerAliveCountMax.
func TestKeepaliveToleratesStall(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	s, h := newConnected(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
		"keepalive_interval": cty.StringVal("200ms"), "keepalive_count_max": cty.NumberIntVal(15),
	}})
	m := fmt.Sprintf("1.%06d", time.Now().UnixNano()%1000000)
	done := s.execRunning(h.Name, "sleep "+m)
	h.Freeze(t)
	time.Sleep(time.Second) // five intervals unanswered
	h.Thaw(t)
	if r := receive(t, done); r.err != nil || r.resp.ExitCode != 0 {
		t.Errorf("after a stall of five keepalive intervals: %+v, %v; want the command's own end", r.resp, r.err)
	}
}

// TestProxyJumpForbidden: a jump host whose sshd forbids forwarding is
// named in the error, with the setting to look at: the error named only
// the target and "administratively prohibited".
func TestProxyJumpForbidden(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 2, SSHDConfig: "DisableForwarding yes\n"})
	jump, target := f.Hosts[0], f.Hosts[1]
	s := newTransport(t, f, setupOpts{})
	err := s.connect(s.host(target, map[string]cty.Value{"proxy_jump": cty.StringVal(fmt.Sprintf("%s:%d", jump.Addr, jump.Port))}))
	want := fmt.Sprintf("the jump host %s:%d did not open a connection to it", jump.Addr, jump.Port)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "DisableForwarding") {
		t.Errorf("error %v, want %q and the settings that forbid it", err, want)
	}
}
