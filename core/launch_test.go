package core

import (
	"context"
	"testing"

	"github.com/fanout/fanout/sdk"
)

// noSignal is the fake transport without the Signal capability.
type noSignal struct{ *fakeTransport }

func (noSignal) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "fake"}, nil
}

// signalCounter counts the Signals that reach it.
type signalCounter struct {
	noSignal
	n int
}

func (s *signalCounter) Signal(context.Context, *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	s.n++
	return &sdk.SignalResponse{}, nil
}

// TestSignalOnlyWhenDeclared: the core never sends Signal to a transport
// that did not declare the capability.
func TestSignalOnlyWhenDeclared(t *testing.T) {
	impl := &signalCounter{noSignal: noSignal{newFake()}}
	ts := NewTransports(launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) {
		return impl, func() {}, nil
	}), nil)
	closeTransports(t, ts)
	tr, _, err := ts.get(context.Background(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: "1", Signal: "INT"}); err != nil {
		t.Fatal(err)
	}
	if impl.n != 0 {
		t.Errorf("a transport without the Signal capability got %d signals", impl.n)
	}
}
