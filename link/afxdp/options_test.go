//go:build linux

package afxdp

import (
	"errors"
	"strings"
	"testing"
)

// TestOptionsValidation needs no root: bad values fail before any socket,
// with an error naming the field.
func TestOptionsValidation(t *testing.T) {
	for _, c := range []struct {
		o     UMEMOptions
		field string
	}{
		{UMEMOptions{FrameSize: 3000}, "FrameSize"},
		{UMEMOptions{FrameSize: 8192}, "FrameSize"},
		{UMEMOptions{NumFrames: 1000}, "NumFrames"},
		{UMEMOptions{NumFrames: -4}, "NumFrames"},
		{UMEMOptions{Worker: -1}, "Worker"},
		{UMEMOptions{Worker: 1 << 20}, "Worker"},
	} {
		_, err := NewUMEM(c.o)
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("NewUMEM(%+v) = %v, want ErrOptions naming %s", c.o, err, c.field)
		}
	}
	u1, err := NewUMEM(UMEMOptions{NumFrames: 16, Worker: 1})
	if err != nil {
		t.Fatalf("NewUMEM: %v", err)
	}
	defer u1.Close()
	u2, err := NewUMEM(UMEMOptions{NumFrames: 16, Worker: 1})
	if err != nil {
		t.Fatalf("NewUMEM: %v", err)
	}
	defer u2.Close()
	if a := u1.Accounting(); a.Free != 16 || a.Sum() != 16 {
		t.Errorf("new UMEM accounting = %+v, want 16 free", a)
	}
	for _, c := range []struct {
		o     Options
		field string
	}{
		{Options{}, "Interface"},
		{Options{Interface: "x"}, "Queues"},
		{Options{Interface: "x", Queues: 2, UMEMs: []*UMEM{u1}}, "UMEMs"},
		{Options{Interface: "x", UMEMs: []*UMEM{nil}}, "UMEMs[0]"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1, u2}}, "UMEMs[1]"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1}, RXSize: 1000}, "RXSize"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1}, TXSize: 3}, "TXSize"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1}, FillSize: 1 << 20}, "FillSize"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1}, TXSize: 1024, CompletionSize: 512}, "CompletionSize"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1}, Mode: Mode(7)}, "Mode"},
		{Options{Interface: "x", UMEMs: []*UMEM{u1}, BindTimeout: -1}, "BindTimeout"},
	} {
		_, err := New(c.o)
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("New(%+v) = %v, want ErrOptions naming %s", c.o, err, c.field)
		}
	}
	if _, err := New(DefaultOpts("nh-no-such-if", u1)); err == nil || errors.Is(err, ErrOptions) {
		t.Errorf("New on a missing interface = %v, want a not-found error", err)
	}
	if err := u1.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}
