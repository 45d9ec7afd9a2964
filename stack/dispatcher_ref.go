package stack

import "sync/atomic"

// DispatcherRef holds a link's NetworkDispatcher for links whose RX is
// polled: Poll reads it on every call, so it is an atomic pointer rather
// than a field under a lock. The zero value is detached.
type DispatcherRef struct {
	p atomic.Pointer[NetworkDispatcher]
}

// Store attaches d, or detaches when d is nil (LinkEndpoint.Attach).
func (r *DispatcherRef) Store(d NetworkDispatcher) {
	if d == nil {
		r.p.Store(nil)
		return
	}
	r.p.Store(&d)
}

// Load returns the attached dispatcher, or nil.
func (r *DispatcherRef) Load() NetworkDispatcher {
	if d := r.p.Load(); d != nil {
		return *d
	}
	return nil
}
