// Command latency puts a fleet behind a latency proxy, for bench/run's W10
// (issue 16): real fleets are not on loopback. For each of the first N
// hosts of a hosts file it starts a toxiproxy proxy on 127.0.0.1 that
// delays every byte by -delay each way, then writes the proxies' hosts
// file and a known_hosts file that lists each host's key under its proxy's
// address, and serves until SIGINT or SIGTERM.
//
//	latency -hosts HOSTS -known-hosts KNOWN_HOSTS -n 50 -delay 25ms -out DIR [-listen 127.0.250.1:22]
//
// With -listen, proxy i listens on the address's IP plus i, at its port:
// tools that take a list of addresses and one port for them all (pssh,
// pdsh, clush through the fleet's ssh_config) can then reach the proxies.
//
// It prints "ready" on stdout once DIR/hosts and DIR/known_hosts are
// written. Only 127.0.0.0/8 is proxied; toxiproxy is used as a library,
// so this module, not fanout's, carries its dependencies.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

func main() {
	hostsFile := flag.String("hosts", "", "hosts file: one ADDRESS or ADDRESS:PORT a line")
	knownHosts := flag.String("known-hosts", "", "known_hosts file listing the hosts' keys")
	n := flag.Int("n", 50, "how many hosts, from the top of the file")
	delay := flag.Duration("delay", 25*time.Millisecond, "latency added in each direction")
	out := flag.String("out", "", "directory for the proxies' hosts and known_hosts files")
	listen := flag.String("listen", "", "IP:PORT of the first proxy, the next ones on the following IPs (default: 127.0.0.1, a free port each)")
	flag.Parse()
	if err := run(*hostsFile, *knownHosts, *n, *delay, *out, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

func run(hostsFile, knownHosts string, n int, delay time.Duration, out, listen string) error {
	if hostsFile == "" || knownHosts == "" || out == "" {
		return fmt.Errorf("-hosts, -known-hosts and -out are required")
	}
	addrs, err := listenAddrs(listen, n)
	if err != nil {
		return err
	}
	hosts, err := readHosts(hostsFile, n)
	if err != nil {
		return err
	}
	keys, err := readKnownHosts(knownHosts)
	if err != nil {
		return err
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	var hostLines, keyLines bytes.Buffer
	var proxies []*toxiproxy.Proxy
	defer func() {
		for _, p := range proxies {
			p.Stop()
		}
	}()
	for i, upstream := range hosts {
		key, ok := keys[knownHostsName(upstream)]
		if !ok {
			return fmt.Errorf("%s: no key in %s", upstream, knownHosts)
		}
		p := toxiproxy.NewProxy(srv, fmt.Sprintf("h%d", i+1), addrs[i], upstream)
		if err := p.Start(); err != nil {
			return fmt.Errorf("proxy for %s: %w", upstream, err)
		}
		proxies = append(proxies, p)
		for _, stream := range []string{"upstream", "downstream"} {
			toxic := fmt.Sprintf(`{"type":"latency","stream":%q,"attributes":{"latency":%d}}`, stream, delay.Milliseconds())
			if _, err := p.Toxics.AddToxicJson(strings.NewReader(toxic)); err != nil {
				return fmt.Errorf("latency toxic for %s: %w", upstream, err)
			}
		}
		fmt.Fprintln(&hostLines, p.Listen)
		fmt.Fprintf(&keyLines, "%s %s\n", knownHostsName(p.Listen), key)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "hosts"), hostLines.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "known_hosts"), keyLines.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

// listenAddrs returns where the n proxies listen: from listen (IP:PORT)
// on, one IP each, or 127.0.0.1 with a free port each.
func listenAddrs(listen string, n int) ([]string, error) {
	addrs := make([]string, n)
	if listen == "" {
		for i := range addrs {
			addrs[i] = "127.0.0.1:0"
		}
		return addrs, nil
	}
	host, port, err := net.SplitHostPort(listen)
	ip := net.ParseIP(host).To4()
	if err != nil || ip == nil || ip[0] != 127 {
		return nil, fmt.Errorf("-listen %q: want a 127.x.y.z:PORT address", listen)
	}
	base := uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
	for i := range addrs {
		a := base + uint32(i)
		if a>>24 != 127 {
			return nil, fmt.Errorf("-listen %q: %d proxies leave 127.0.0.0/8", listen, n)
		}
		addrs[i] = net.JoinHostPort(net.IPv4(byte(a>>24), byte(a>>16), byte(a>>8), byte(a)).String(), port)
	}
	return addrs, nil
}

// readHosts returns the first n hosts of a hosts file as HOST:PORT, port
// 22 unless given; each must be on loopback.
func readHosts(name string, n int) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hosts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(hosts) < n {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		host, port, err := net.SplitHostPort(line)
		if err != nil {
			host, port = line, "22"
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("refusing non-loopback host %q", line)
		}
		hosts = append(hosts, net.JoinHostPort(host, port))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(hosts) < n {
		return nil, fmt.Errorf("%s lists %d hosts, want %d", name, len(hosts), n)
	}
	return hosts, nil
}

// readKnownHosts maps each host name of a known_hosts file (plain, not
// hashed) to its "TYPE KEY" part.
func readKnownHosts(name string) (map[string]string, error) {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for line := range strings.SplitSeq(string(src), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], "@") {
			continue
		}
		for _, h := range strings.Split(fields[0], ",") {
			keys[h] = fields[1] + " " + fields[2]
		}
	}
	return keys, nil
}

// knownHostsName is how known_hosts writes HOST:PORT: the bare host for
// port 22, else [HOST]:PORT.
func knownHostsName(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "22" {
		return host
	}
	return "[" + host + "]:" + port
}
