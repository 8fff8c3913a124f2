// Package fetch polls the configured sources (feeds and section fronts),
// fetches and extracts each new story, and stores the items and each
// source's health.
//
// Politeness and safety are enforced here for every request the fetcher
// makes, whichever entry point made it: a global worker pool, a per-host
// concurrency limit, per-host Retry-After cool-downs, robots.txt, and the
// guarded HTTP client in package httpx (SSRF dial guard, body caps,
// timeouts).
package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
	"github.com/clipsheet/clipsheet/internal/rules"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Defaults for zero fields of config.Fetch.
const (
	defaultWorkers     = 16
	defaultPerHost     = 2
	defaultMaxArticles = 50
)

// Fetcher polls sources. It is safe for concurrent use; PollOnce, Run and
// Preview share its per-host limits and caches.
type Fetcher struct {
	st      store.Store
	cfg     config.Fetch
	maxLead int
	log     *slog.Logger
	client  *httpx.Client
	hosts   *hostLimiter
	robots  *robotsCache
	// pollNow carries PollNow requests to the Run loop, which sets
	// running while it reads them.
	pollNow chan pollRequest
	running atomic.Bool

	// onPoll, when set, hears every poll's result (metrics).
	onPoll func(Result)
	// rules, when set, gives the desk's current rules, applied to new
	// items before they are stored.
	rules func(context.Context) ([]rules.Rule, error)

	// Seams for tests; production uses the clock and math/rand.
	now    func() time.Time
	jitter func() float64 // in [0,1)
}

// Result is the outcome of polling one source once.
type Result struct {
	Source      string
	NewItems    int // items actually stored by this poll
	Entries     int // entries in the feed, or article links found on the page, that include/exclude keep
	Excluded    int // entries or links the source's include/exclude patterns dropped
	Status      int // HTTP status of the feed/page request, 0 if none
	NotModified bool
	Err         error
	Duration    time.Duration
	MovedTo     string // permanent redirect target of the source URL
}

// New builds a fetcher. Zero fields of cfg take the defaults of
// config.DefaultSettings. st may be nil for a fetcher used only for
// Discover and Preview, which store nothing.
func New(st store.Store, cfg config.Fetch, excerptMaxChars int, logger *slog.Logger) *Fetcher {
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers
	}
	if cfg.PerHost <= 0 {
		cfg.PerHost = defaultPerHost
	}
	if cfg.MaxArticles <= 0 {
		cfg.MaxArticles = defaultMaxArticles
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = config.UserAgent
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Fetcher{
		st:      st,
		cfg:     cfg,
		maxLead: excerptMaxChars,
		log:     logger,
		hosts:   newHostLimiter(cfg.PerHost),
		robots:  newRobotsCache(),
		pollNow: make(chan pollRequest),
		now:     time.Now,
		jitter:  rand.Float64,
	}
	f.configureHTTP(nil)
	return f
}

// OnPoll registers fn to hear the result of every poll once it is stored
// (serve feeds its metrics with it). Call it before Run or PollOnce.
func (f *Fetcher) OnPoll(fn func(Result)) { f.onPoll = fn }

// UseRules makes the fetcher apply the rules fn returns to every new item
// before it is stored, so a rule's section, tags, priority or decision
// hold from the item's first moment (serve passes the store's ListRules).
// fn is called once per batch of polls, so an edited rule applies from the
// next batch. Call it before Run or PollOnce.
func (f *Fetcher) UseRules(fn func(context.Context) ([]rules.Rule, error)) { f.rules = fn }

// HTTPConfig is the guarded client's configuration for the fetch settings:
// the SSRF guard, timeouts, body cap and User-Agent. Other one-off fetches
// (clipsheet extract URL) use it so they obey the same limits.
func HTTPConfig(cfg config.Fetch) httpx.Config {
	return httpx.Config{
		AllowPrivate:     cfg.AllowPrivate,
		Timeout:          cfg.Timeout,
		ConnectTimeout:   cfg.ConnectTimeout,
		MaxBodyBytes:     int64(cfg.MaxBodyBytes),
		UserAgent:        cfg.UserAgent,
		IdleConnsPerHost: cfg.PerHost,
	}
}

// configureHTTP (re)builds the HTTP client from the fetch settings; tweak,
// if set, adjusts the client config (tests and benchmarks map host names to
// loopback addresses or trust a test CA with it).
func (f *Fetcher) configureHTTP(tweak func(*httpx.Config)) {
	hc := HTTPConfig(f.cfg)
	if !f.cfg.IgnoreRobots {
		// A redirect must not lead into what the target's robots.txt
		// disallows.
		hc.AllowRedirect = func(ctx context.Context, u *url.URL) error {
			_, err := f.robotsCheck(ctx, u, false)
			return err
		}
	}
	if tweak != nil {
		tweak(&hc)
	}
	if f.client != nil {
		f.client.Close()
	}
	f.client = httpx.New(hc)
}

// Close releases idle connections. The fetcher must not be used after.
func (f *Fetcher) Close() { f.client.Close() }

// get performs one polite GET: robots.txt, the per-host limit and host
// cool-downs are applied here so no code path can skip them.
func (f *Fetcher) get(ctx context.Context, req httpx.Request) (*httpx.Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fetch %q: not an absolute http(s) URL", req.URL)
	}
	var crawlDelay time.Duration
	if !f.cfg.IgnoreRobots {
		if crawlDelay, err = f.robotsCheck(ctx, u, true); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
		}
	}
	resp, err := f.rawGet(ctx, u, req, crawlDelay)
	if err != nil {
		return resp, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	return resp, nil
}

// rawGet is get without robots.txt (used to fetch robots.txt itself).
// Requests to a host that set a Crawl-delay start at least that far apart.
func (f *Fetcher) rawGet(ctx context.Context, u *url.URL, req httpx.Request, crawlDelay time.Duration) (*httpx.Response, error) {
	host := hostKey(u)
	release, err := f.hosts.acquire(ctx, host, f.now(), crawlDelay)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Get(ctx, req)
	release()
	var se *httpx.StatusError
	if errors.As(err, &se) && (se.Code == 429 || se.Code == 503) {
		// The whole host asked us to slow down, not just this URL; without
		// a Retry-After we still pause it briefly rather than keep asking.
		wait := se.RetryAfter
		if wait <= 0 {
			wait = defaultHostCooldown
		}
		f.hosts.coolDown(host, f.now().Add(min(wait, maxHostCooldown)))
	}
	return resp, err
}

// hostKey is what the per-host limit counts: host and port, lower case,
// without the scheme's default port.
func hostKey(u *url.URL) string {
	h := strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(h, ":80")) || (u.Scheme == "https" && strings.HasSuffix(h, ":443")) {
		h = h[:strings.LastIndexByte(h, ':')]
	}
	return h
}

// maxHostCooldown bounds how long one Retry-After can block a whole host in
// memory; the source itself still waits the full Retry-After.
// defaultHostCooldown is the pause after a 429 or 503 that names no
// Retry-After.
const (
	maxHostCooldown     = time.Hour
	defaultHostCooldown = time.Minute
)

// HostCooldownError is returned for requests to a host that asked us (429
// or 503, with or without Retry-After) to wait.
type HostCooldownError struct {
	Host  string
	Until time.Time
}

func (e *HostCooldownError) Error() string {
	return fmt.Sprintf("host %s asked to wait (HTTP 429/503) until %s; not contacted before", e.Host, e.Until.UTC().Format(time.RFC3339))
}

// hostLimiter caps concurrent requests per host and remembers cool-downs.
type hostLimiter struct {
	mu    sync.Mutex
	per   int
	hosts map[string]*hostSlot
}

type hostSlot struct {
	sem   chan struct{}
	refs  int // holders and waiters; the slot is dropped at zero
	until time.Time
	next  time.Time // earliest start of the next request (Crawl-delay)
}

func newHostLimiter(per int) *hostLimiter {
	return &hostLimiter{per: per, hosts: map[string]*hostSlot{}}
}

func (h *hostLimiter) slot(host string) *hostSlot {
	s := h.hosts[host]
	if s == nil {
		s = &hostSlot{sem: make(chan struct{}, h.per)}
		h.hosts[host] = s
	}
	return s
}

func (h *hostLimiter) unref(host string, s *hostSlot, now time.Time) {
	s.refs--
	if s.refs == 0 && !now.Before(s.until) && !now.Before(s.next) {
		delete(h.hosts, host)
	}
}

func (h *hostLimiter) acquire(ctx context.Context, host string, now time.Time, spacing time.Duration) (func(), error) {
	h.mu.Lock()
	s := h.slot(host)
	if now.Before(s.until) {
		// The slot stays in the map while it carries a cool-down.
		until := s.until
		h.mu.Unlock()
		return nil, &HostCooldownError{Host: host, Until: until}
	}
	s.refs++
	h.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		h.mu.Lock()
		h.unref(host, s, time.Now())
		h.mu.Unlock()
		return nil, ctx.Err()
	}
	if spacing > 0 {
		// Reserve a start time in turn, then wait for it holding the slot.
		h.mu.Lock()
		start := time.Now()
		if s.next.After(start) {
			start = s.next
		}
		s.next = start.Add(spacing)
		h.mu.Unlock()
		if wait := time.Until(start); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				<-s.sem
				h.mu.Lock()
				h.unref(host, s, time.Now())
				h.mu.Unlock()
				return nil, ctx.Err()
			}
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.sem
			h.mu.Lock()
			h.unref(host, s, time.Now())
			h.mu.Unlock()
		})
	}, nil
}

func (h *hostLimiter) coolDown(host string, until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slot(host)
	if until.After(s.until) {
		s.until = until
	}
}
