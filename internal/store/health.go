package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Monitor keeps what a running server knows of its database's soundness:
// Open checks a file for a bounded time only, so serve runs the whole
// check once started, and again when a request panics (a damaged page
// reached by a read), and reports damage on /healthz and in its log
// rather than answering 500 without saying why.
type Monitor struct {
	s      *Bolt
	log    *slog.Logger
	gap    time.Duration
	wake   chan struct{}
	mu     sync.Mutex
	err    error
	report *Report
}

// NewMonitor watches s. gap is the least time between two checks, so a
// burst of failing requests does not read the file over and over.
func NewMonitor(s *Bolt, log *slog.Logger, gap time.Duration) *Monitor {
	return &Monitor{s: s, log: log, gap: gap, wake: make(chan struct{}, 1)}
}

// Err is the damage found, or nil.
func (m *Monitor) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Report is the last complete check's report, or nil.
func (m *Monitor) Report() *Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.report
}

// Recheck asks for another check; it never waits.
func (m *Monitor) Recheck() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run checks at once and then on every Recheck until ctx ends; it
// returns when its check has stopped, so the store may then be closed.
// checked, when set, learns of each finished check.
func (m *Monitor) Run(ctx context.Context, checked func(*Report)) {
	for {
		m.checkOnce(ctx, checked)
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.gap):
		}
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		}
	}
}

func (m *Monitor) checkOnce(ctx context.Context, checked func(*Report)) {
	start := time.Now()
	rep, err := m.s.Check(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		m.log.Warn("database check could not run", "err", err)
		return
	}
	m.mu.Lock()
	m.report = rep
	if !rep.OK() {
		m.err = rep.Err()
	}
	m.mu.Unlock()
	if rep.OK() {
		m.log.Info("database checked: sound", "file", rep.Path, "pages", rep.Pages, "took", time.Since(start).Round(time.Millisecond))
	} else {
		m.log.Error("database damaged: /healthz now fails; stop this server, run `clipsheet check`, then restore a backup (`clipsheet restore FILE`) or salvage what is readable (`clipsheet salvage OUT`)",
			"file", rep.Path, "problems", len(rep.Problems), "first", rep.Problems[0])
	}
	if checked != nil {
		checked(rep)
	}
}
