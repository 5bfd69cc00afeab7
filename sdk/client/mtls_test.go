package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// The channel to a plugin is authenticated both ways: the client New
// starts answers, and a stranger who reaches the plugin's socket, with
// or without TLS, gets no answer.
func TestClientChannelIsMutualTLS(t *testing.T) {
	dir := t.TempDir()
	c, err := start(t, client.Config{Cmd: pluginCmd("serve"), SocketDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transport().Describe(context.Background(), &sdk.DescribeRequest{}); err != nil {
		t.Fatalf("Describe through the client: %v", err)
	}
	socks, _ := filepath.Glob(filepath.Join(dir, "plugin*"))
	if len(socks) != 1 {
		t.Fatalf("sockets in SocketDir %s: %v, want the plugin's one", dir, socks)
	}
	strangers := map[string]credentials.TransportCredentials{
		"plaintext": insecure.NewCredentials(),
		// Trusting any server, but with no client certificate to show.
		"TLS without the client certificate": credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}),
	}
	for name, creds := range strangers {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient("unix://"+socks[0], grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }() // the answer, or its absence, is what counts
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := pb.NewTransportClient(conn).Describe(ctx, &pb.Describe_Request{})
			if err == nil {
				t.Fatalf("a stranger's Describe was answered: %v", resp)
			}
		})
	}
}

// A plugin that cannot do mutual TLS is refused before it is called, with
// an error that says why and what to do.
func TestClientRefusesPluginWithoutMutualTLS(t *testing.T) {
	cmd := pluginCmd("nomtls")
	_, err := start(t, client.Config{Cmd: cmd, SocketDir: t.TempDir()})
	if !errors.Is(err, client.ErrNoMutualTLS) {
		t.Fatalf("err = %v, want ErrNoMutualTLS", err)
	}
	for _, want := range []string{cmd.Path, "no server certificate", "PLUGIN_CLIENT_CERT", "sdk.Serve"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	assertGone(t, cmd)
}

// SocketDir is where the plugin's socket goes, and nothing is left there
// once the plugin is killed.
func TestClientSocketDir(t *testing.T) {
	dir := t.TempDir()
	c, err := client.New(client.Config{Cmd: pluginCmd("serve"), SocketDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	socks, _ := filepath.Glob(filepath.Join(dir, "plugin*"))
	fi, statErr := os.Lstat(filepath.Join(dir, filepath.Base(firstOr(socks))))
	if len(socks) != 1 || statErr != nil || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("SocketDir holds %v (%v), want one socket", socks, statErr)
	}
	c.Kill()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("SocketDir holds %v after Kill", left)
	}
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// A plugin's socket goes in SocketDir even when the host's own
// environment names another directory, as a fanout run by a command of
// another fanout inherits that one's.
func TestClientSocketDirWinsOverInherited(t *testing.T) {
	inherited := t.TempDir()
	t.Setenv("PLUGIN_UNIX_SOCKET_DIR", inherited)
	dir := t.TempDir()
	if _, err := start(t, client.Config{Cmd: pluginCmd("serve"), SocketDir: dir}); err != nil {
		t.Fatal(err)
	}
	if socks, _ := filepath.Glob(filepath.Join(dir, "plugin*")); len(socks) != 1 {
		t.Errorf("sockets in SocketDir: %v, want one", socks)
	}
	if left, _ := os.ReadDir(inherited); len(left) != 0 {
		t.Errorf("the inherited directory holds %v", left)
	}
}
