// Command floor is the reference that fanout's W1 and W4 are measured
// against: a bare golang.org/x/crypto/ssh loop that, for every host, dials,
// authenticates through the ssh-agent, checks the host key against
// known_hosts, runs one command in one session and closes; N hosts at once.
// Nothing else: no plugin, no configuration language, no output handling.
//
//	go run ./bench/floor -hosts HOSTS_FILE -c 10 -n 50 -user root \
//	    -known-hosts KNOWN_HOSTS [-cmd true]
//
// HOSTS_FILE has one address per line (port 22 unless host:port). The agent
// is $SSH_AUTH_SOCK. It prints one line, "floor hosts=50 c=10 ok=50
// failed=0 wall=1.234s", and exits 1 if any host failed. Only loopback
// addresses (127.0.0.0/8) are accepted: it is a benchmark tool.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

func main() {
	hostsFile := flag.String("hosts", "", "file with one host address per line")
	n := flag.Int("n", 0, "use the first n hosts (0: all)")
	conc := flag.Int("c", 10, "hosts at once")
	user := flag.String("user", "root", "user to log in as")
	khFile := flag.String("known-hosts", "", "known_hosts file")
	cmd := flag.String("cmd", "true", "command to run on every host (empty: connect, authenticate and close only)")
	timeout := flag.Duration("timeout", 10*time.Second, "connect timeout per host")
	flag.Parse()
	if err := run(*hostsFile, *n, *conc, *user, *khFile, *cmd, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(hostsFile string, n, conc int, user, khFile, cmd string, timeout time.Duration) error {
	hosts, err := readHosts(hostsFile, n)
	if err != nil {
		return err
	}
	if conc < 1 {
		conc = 1
	}
	hkcb, err := knownhosts.New(khFile)
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return errors.New("SSH_AUTH_SOCK is not set")
	}
	ac, err := net.Dial("unix", sock)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer func() { _ = ac.Close() }() // the agent was only asked to sign
	ag := agent.NewClient(ac)

	start := time.Now()
	var ok, failed atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for h := range work {
				if err := one(h, user, cmd, timeout, ag, hkcb); err != nil {
					failed.Add(1)
					fmt.Fprintf(os.Stderr, "floor: %s: %v\n", h, err)
				} else {
					ok.Add(1)
				}
			}
		})
	}
	for _, h := range hosts {
		work <- h
	}
	close(work)
	wg.Wait()
	wall := time.Since(start)
	fmt.Printf("floor hosts=%d c=%d ok=%d failed=%d wall=%.3fs\n", len(hosts), conc, ok.Load(), failed.Load(), wall.Seconds())
	if failed.Load() > 0 {
		return fmt.Errorf("%d hosts failed", failed.Load())
	}
	return nil
}

// one dials addr, authenticates, runs cmd in one session and closes.
func one(addr, user, cmd string, timeout time.Duration, ag agent.ExtendedAgent, hkcb ssh.HostKeyCallback) error {
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeysCallback(ag.Signers)},
		HostKeyCallback: hkcb,
		Timeout:         timeout,
	}
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }() // the measured work is done by then
	if cmd == "" {
		return nil // handshake only: how much of the floor the connection is
	}
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }() // Run has ended the session (EOF)
	s.Stdout, s.Stderr = io.Discard, io.Discard
	return s.Run(cmd)
}

func readHosts(path string, n int) ([]string, error) {
	if path == "" {
		return nil, errors.New("-hosts is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		h := strings.TrimSpace(sc.Text())
		if h == "" || strings.HasPrefix(h, "#") {
			continue
		}
		host := h
		if hh, _, err := net.SplitHostPort(h); err == nil {
			host = hh
		} else {
			h = net.JoinHostPort(h, "22")
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
			return nil, fmt.Errorf("refusing %q: only 127.0.0.0/8 addresses", host)
		}
		out = append(out, h)
		if n > 0 && len(out) == n {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if n > 0 && len(out) < n {
		return nil, fmt.Errorf("%s has %d hosts, %d wanted", path, len(out), n)
	}
	return out, nil
}
