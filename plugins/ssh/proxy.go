package ssh

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// jumpClient returns the connection to the last of jumps, making the chain
// hop by hop: hop i is dialled through hop i-1 ("direct-tcpip"), as ssh -J
// does. Each hop is one connection shared by every host behind it, keyed
// by the chain that leads to it, so 200 hosts behind one bastion make one
// connection to it.
func (t *Transport) jumpClient(ctx context.Context, st *settings, jumps []jumpSpec) (*ssh.Client, error) {
	var via *ssh.Client
	var chain []string
	for _, j := range jumps {
		chain = append(chain, j.String())
		key := "jump:" + strings.Join(chain, ",")
		prev := via
		hc, err := t.shared(ctx, key, func(ctx context.Context) (*hostConn, error) {
			tg, err := st.resolver.jump(j)
			if err != nil {
				return nil, err
			}
			creds, err := t.agents.credentialsFor(tg, t.answersSnapshot())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tg.name, err)
			}
			client, err := t.handshake(ctx, st, tg, creds, prev)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tg.name, err)
			}
			// A jump host runs no sessions; keepalives tell when it dies,
			// which ends every connection tunnelled through it.
			return newHostConn(tg, client, 0, t.logger), nil
		})
		if err != nil {
			return nil, err
		}
		via = hc.client
	}
	return via, nil
}
