package ssh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// How long to wait before opening a session again after the server refused
// one: the first pause, doubled each time up to maxRefusalPause, at most
// maxRefusals times in a row while no other session is open.
const (
	refusalPause    = 20 * time.Millisecond
	maxRefusalPause = 320 * time.Millisecond
	maxRefusals     = 10
	// refusalsToLower refusals in a row with other sessions open are the
	// server's limit, not a session it has not freed yet.
	refusalsToLower = 3
)

// acquire takes a session slot, waiting while max_sessions are in use.
// abort (Close) ends the wait as ErrClosed.
func (c *hostConn) acquire(ctx context.Context, abort <-chan struct{}) error {
	select {
	case c.sessions <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-abort:
		return ErrClosed
	case <-c.gone:
		return c.lost()
	}
}

func (c *hostConn) release() { <-c.sessions }

// newSession opens a session for a caller holding a slot. On success the
// caller keeps the slot until endSession; on error the slot is released.
//
// A server allowing fewer sessions per connection than max_sessions
// (OpenSSH's MaxSessions) refuses the extra ones: OpenSSH with
// CONNECT_FAILED ("open failed"), others with PROHIBITED. A refusal while
// other sessions are open, said refusalsToLower times in a row (with
// pauses), is the server's limit:
// the caller's slot is given up for the connection's life (its session
// limit drops to the sessions open), and the caller waits for another
// slot. A refusal with no other session open is a server still tearing
// down the session that just ended (OpenSSH frees a session's slot in its
// main loop after the channel's close, so a session opened right after
// another one on a MaxSessions 1 server is refused now and then): the
// open is tried again after a pause, a bounded number of times.
func (c *hostConn) newSession(ctx context.Context, abort <-chan struct{}) (*session, error) {
	refusals := 0
	for {
		sess, err := openSession(c.client)
		if err == nil {
			c.open.Add(1)
			return sess, nil
		}
		var oce *ssh.OpenChannelError
		switch {
		case c.endedBy(err):
			c.release()
			return nil, c.lost()
		case !errors.As(err, &oce) || (oce.Reason != ssh.ConnectionFailed && oce.Reason != ssh.Prohibited && oce.Reason != ssh.ResourceShortage):
			c.release()
			return nil, fmt.Errorf("open session on %s: %w", c.addr, err)
		}
		refusals++
		others := int(c.open.Load())
		if others > 0 && refusals >= refusalsToLower {
			c.lower(others, oce)
			refusals = 0
			if err := c.acquire(ctx, abort); err != nil {
				return nil, err
			}
			continue
		}
		if refusals > maxRefusals {
			c.release()
			return nil, fmt.Errorf("the server at %s refused a new session %d times in a row (%s) with %d other session(s) of fanout open: is its sshd MaxSessions 0, or are sessions limited otherwise?", c.addr, refusals, oce.Message, others)
		}
		pause := min(refusalPause<<(refusals-1), maxRefusalPause)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			c.release()
			return nil, ctx.Err()
		case <-abort:
			c.release()
			return nil, ErrClosed
		case <-c.gone:
			c.release()
			return nil, c.lost()
		}
	}
}

// lower gives up the caller's slot for good: the server refused a session
// with open others open, so the connection's session limit drops by one,
// towards open. It is said once per connection in the debug log.
func (c *hostConn) lower(open int, refusal *ssh.OpenChannelError) {
	if c.lowered.CompareAndSwap(false, true) {
		c.logger.Debug("the server refuses more sessions on one connection than max_sessions: lowering this connection's limit to the sessions it allowed; the other commands wait their turn",
			"max_sessions", cap(c.sessions), "limit", open, "refusal", refusal.Error())
	}
}

// endSession closes a session newSession opened, once its command is over,
// and releases its slot once the server's close has arrived: a slot is
// free only when the server's session is (see newSession).
func (c *hostConn) endSession(sess *session) {
	sess.end()
	c.open.Add(-1)
	c.release()
}
