package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
)

// How long robots.txt answers are trusted.
const (
	robotsTTL          = 24 * time.Hour   // a file (or a 4xx: no rules)
	robotsServerTTL    = 30 * time.Minute // 5xx: disallowed for now (RFC 9309 §2.3.1.4)
	robotsNetErrTTL    = time.Minute      // unreachable: the source fails, retried soon
	robotsMaxBytes     = 512 << 10        // RFC 9309 asks parsers to read at least 500 KiB; the rest is ignored
	robotsCacheSoftCap = 10000
)

// RobotsError is returned for URLs robots.txt does not let Clipsheet fetch.
type RobotsError struct {
	URL    string
	Agent  string
	Reason string
}

func (e *RobotsError) Error() string {
	return fmt.Sprintf("robots.txt %s (user agent %s; set fetch.ignore_robots to override)", e.Reason, e.Agent)
}

type robotsCache struct {
	mu      sync.Mutex
	entries map[string]*robotsEntry // scheme://host:port
}

type robotsEntry struct {
	ready   chan struct{} // closed once the fields below are set
	data    *robotstxt.RobotsData
	status  int
	err     error
	expires time.Time
}

func newRobotsCache() *robotsCache { return &robotsCache{entries: map[string]*robotsEntry{}} }

// robotsAgent is the product token of the User-Agent ("Clipsheet"), which
// is what robots.txt groups name.
func (f *Fetcher) robotsAgent() string {
	ua := f.cfg.UserAgent
	if i := strings.IndexAny(ua, "/ ("); i > 0 {
		ua = ua[:i]
	}
	return ua
}

// maxCrawlDelay bounds what a robots.txt Crawl-delay can impose: beyond it
// a poll of one source would take longer than its interval.
const maxCrawlDelay = 30 * time.Second

// robotsCheck returns nil if robots.txt lets us fetch u, with the
// Crawl-delay the host asks of us (0 if none). One fetch per host is shared
// by all concurrent callers; answers are cached per host. limited says
// whether fetching robots.txt waits for the per-host limit: not when the
// check is for a redirect target, since the caller then holds a slot of
// the redirecting host, and two hosts redirecting to each other must not
// wait on each other.
func (f *Fetcher) robotsCheck(ctx context.Context, u *url.URL, limited bool) (time.Duration, error) {
	if u.Path == "/robots.txt" {
		return 0, nil
	}
	key := u.Scheme + "://" + strings.ToLower(u.Host)
	now := f.now()
	c := f.robots
	c.mu.Lock()
	e := c.entries[key]
	if e != nil {
		select {
		case <-e.ready:
			if now.After(e.expires) {
				e = nil
			}
		default: // being fetched by someone else: wait for it
		}
	}
	owner := false
	if e == nil {
		if len(c.entries) > robotsCacheSoftCap {
			c.pruneLocked(now)
		}
		e = &robotsEntry{ready: make(chan struct{})}
		c.entries[key] = e
		owner = true
	}
	c.mu.Unlock()

	if owner {
		f.loadRobots(ctx, key, e, limited)
		close(e.ready)
	} else {
		select {
		case <-e.ready:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	agent := f.robotsAgent()
	switch {
	case e.err != nil:
		return 0, fmt.Errorf("robots.txt: %w", e.err)
	case e.data == nil:
		return 0, &RobotsError{URL: u.String(), Agent: agent, Reason: fmt.Sprintf("unavailable (HTTP %d); treating the site as disallowed for now", e.status)}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	group := e.data.FindGroup(agent)
	if !group.Test(path) {
		return 0, &RobotsError{URL: u.String(), Agent: agent, Reason: "disallows " + path}
	}
	return min(max(group.CrawlDelay, 0), maxCrawlDelay), nil
}

func (f *Fetcher) loadRobots(ctx context.Context, key string, e *robotsEntry, limited bool) {
	ru, _ := url.Parse(key + "/robots.txt")
	req := httpx.Request{URL: ru.String(), Accept: "text/plain", MaxBytes: robotsMaxBytes, Truncate: true}
	var resp *httpx.Response
	var err error
	if limited {
		resp, err = f.rawGet(ctx, ru, req, 0)
	} else {
		resp, err = f.client.Get(ctx, req)
	}
	now := f.now()
	var se *httpx.StatusError
	switch {
	case errors.As(err, &se):
		e.status = se.Code
		if se.Code >= 500 || se.Code == 429 {
			e.expires = now.Add(robotsServerTTL)
			return
		}
		// 4xx: no usable robots.txt, so no restrictions.
		e.data, _ = robotstxt.FromStatusAndBytes(404, nil)
		e.expires = now.Add(robotsTTL)
	case err != nil:
		e.err = err
		e.expires = now.Add(robotsNetErrTTL)
		if ctx.Err() != nil {
			e.expires = now // a cancelled caller's failure says nothing about the host
		}
	default:
		e.status = resp.Status
		data, perr := robotstxt.FromBytes(resp.Body)
		if perr != nil {
			// An unparseable file is treated as no rules, as crawlers do.
			data, _ = robotstxt.FromStatusAndBytes(404, nil)
		}
		e.data = data
		e.expires = now.Add(robotsTTL)
	}
}

func (c *robotsCache) pruneLocked(now time.Time) {
	for k, e := range c.entries {
		select {
		case <-e.ready:
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		default:
		}
	}
}
