package auth

import (
	"sync"
	"time"
)

// Limiter counts failures per key (an account name or a client IP) in a
// sliding window and blocks the key once it reached the limit, until the
// oldest failure leaves the window. It lives in memory: a restart forgives
// everyone, which is acceptable for throttling online guessing.
type Limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time
	// maxKeys bounds memory when an attacker sprays many names or IPs;
	// past it, expired entries are dropped, then the oldest-failing ones.
	maxKeys int
}

// NewLimiter allows max failures per key within window.
func NewLimiter(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, fails: map[string][]time.Time{}, maxKeys: 100000}
}

// Blocked reports how long key must wait before its next attempt (0: may
// try now).
func (l *Limiter) Blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait(l.live(key))
}

func (l *Limiter) wait(f []time.Time) time.Duration {
	if len(f) < l.max {
		return 0
	}
	wait := f[len(f)-l.max].Add(l.window).Sub(l.now())
	if wait < time.Second {
		wait = time.Second
	}
	return wait
}

// Fail records a failed attempt.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record(key, l.live(key))
}

func (l *Limiter) record(key string, f []time.Time) {
	f = append(f, l.now())
	if len(f) > l.max {
		f = f[len(f)-l.max:]
	}
	if _, ok := l.fails[key]; !ok && len(l.fails) >= l.maxKeys {
		l.evict()
	}
	l.fails[key] = f
}

// Reserve is Blocked and Fail in one step: unless key is blocked (then it
// returns the wait), the attempt is recorded as a failure before it is
// checked, so many attempts sent at once cannot all pass the check while
// the first ones are still being verified. A success gives it back with
// Release.
func (l *Limiter) Reserve(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.live(key)
	if wait := l.wait(f); wait > 0 {
		return wait
	}
	l.record(key, f)
	return 0
}

// Release forgets one reserved attempt of key (the newest).
func (l *Limiter) Release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[key]
	switch len(f) {
	case 0:
	case 1:
		delete(l.fails, key)
	default:
		l.fails[key] = f[:len(f)-1]
	}
}

// Reset forgets key's failures (after a successful login).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// live drops failures older than the window and returns the rest.
func (l *Limiter) live(key string) []time.Time {
	f := l.fails[key]
	cut := l.now().Add(-l.window)
	i := 0
	for i < len(f) && !f[i].After(cut) {
		i++
	}
	if i == len(f) {
		delete(l.fails, key)
		return nil
	}
	f = f[i:]
	l.fails[key] = f
	return f
}

func (l *Limiter) evict() {
	cut := l.now().Add(-l.window)
	var oldestKey string
	var oldest time.Time
	for k, f := range l.fails {
		last := f[len(f)-1]
		if !last.After(cut) {
			delete(l.fails, k)
			continue
		}
		if oldestKey == "" || last.Before(oldest) {
			oldestKey, oldest = k, last
		}
	}
	if len(l.fails) >= l.maxKeys && oldestKey != "" {
		delete(l.fails, oldestKey)
	}
}
