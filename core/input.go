package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/fanout/fanout/sdk"
)

// Input asks the operator the questions a transport cannot answer alone,
// such as an encrypted key's passphrase. The CLI implements it on the
// terminal; core never reads one. Ask is called from one goroutine at a
// time.
type Input interface {
	Ask(ctx context.Context, p sdk.Prompt) (string, error)
}

// maxPromptRounds bounds how often one Connect may come back with new
// questions, so a transport that keeps asking cannot loop forever.
const maxPromptRounds = 4

// asker keeps the operator's answers for a run: each prompt ID is asked at
// most once, whatever the answer, however many hosts need it, and the
// answers go with every later Connect.
type asker struct {
	input Input

	// mu serialises questions (one on the terminal at a time) and guards
	// the maps.
	mu      sync.Mutex
	answers map[string]string
	failed  map[string]error
}

// snapshot returns the answers given so far.
func (a *asker) snapshot() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.answers)
}

// answer asks whatever of prompts has not been asked yet and returns all
// answers; a prompt that could not be answered is the host's error.
func (a *asker) answer(ctx context.Context, prompts []sdk.Prompt) (map[string]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.answers == nil {
		a.answers, a.failed = map[string]string{}, map[string]error{}
	}
	for _, p := range prompts {
		if _, ok := a.answers[p.ID]; ok {
			continue
		}
		if err, ok := a.failed[p.ID]; ok {
			return nil, err
		}
		var err error
		if a.input == nil {
			err = errors.New(noAnswer(p, "fanout is not on a terminal"))
		} else {
			var v string
			v, err = a.input.Ask(ctx, p)
			if err == nil {
				a.answers[p.ID] = v
				continue
			}
			err = errors.New(noAnswer(p, err.Error()))
		}
		a.failed[p.ID] = err
		return nil, err
	}
	return maps.Clone(a.answers), nil
}

func noAnswer(p sdk.Prompt, why string) string {
	if p.NoAnswer != "" {
		return fmt.Sprintf("%s (%s)", p.NoAnswer, why)
	}
	return fmt.Sprintf("%q needs an answer and none could be asked for (%s)", p.Text, why)
}

// connectHost connects h through t, answering the transport's prompts.
func (r *run) connectHost(ctx context.Context, t sdk.Transport, h *Host) error {
	answers := r.asker.snapshot()
	for range maxPromptRounds {
		resp, err := bounded(ctx, connectLimit, h.Transport, "Connect", func(ctx context.Context) (*sdk.ConnectResponse, error) {
			return t.Connect(ctx, &sdk.ConnectRequest{
				Host:    sdk.Host{Name: h.Name, Address: h.Address, Config: h.Config},
				Answers: answers,
			})
		})
		if err != nil {
			return err
		}
		if len(resp.Prompts) == 0 {
			return nil
		}
		if answers, err = r.asker.answer(ctx, resp.Prompts); err != nil {
			return err
		}
	}
	return fmt.Errorf("the %s transport kept asking questions after %d rounds of answers", h.Transport, maxPromptRounds)
}
