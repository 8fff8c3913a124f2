package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is one row of the table: a request the load repeats.
type target struct {
	name string
	who  who
	// path gives the path of request i (approvals take a new item each),
	// or a whole URL (the static server).
	path   func(i int) string
	method string
	header http.Header
	want   int
}

// who sends a request: an anonymous reader, the signed-in curator or an
// API client with the curator's token.
type who int

const (
	anonymous who = iota
	curator
	apiClient
)

// conn is the running server as the load reaches it; a restart (after the
// memory guard killed the server) replaces it.
type conn struct {
	base            string
	anon, desk, api *http.Client
	bearer          http.Header
}

func (c *conn) client(w who) *http.Client {
	switch w {
	case curator:
		return c.desk
	case apiClient:
		return c.api
	}
	return c.anon
}

// cell is a target measured with some number of clients.
type cell struct {
	asked, ok, failed, timedOut int
	statuses                    map[int]int
	p50, p99, max               sample
	bytes                       int64  // body bytes of the last good answer, as sent (compressed if it was)
	body                        []byte // that answer
	wall                        time.Duration
	killed                      bool // the memory guard killed the server during the cell
}

// newClient is the load's client: keep-alive connections for 16 clients,
// a browser's Accept-Encoding set by hand so that bodies are counted and
// compared as sent (Transport's transparent gzip is off).
func newClient(jar http.CookieJar) *http.Client {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, DisableCompression: true,
		IdleConnTimeout: 90 * time.Second}
	return &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var browserHeader = http.Header{"Accept-Encoding": {"gzip, deflate, br"}, "Accept": {"text/html,application/xhtml+xml,*/*"}}

// do sends one request and reads the whole answer.
func do(ctx context.Context, c *conn, t *target, i int) (status int, n int64, body []byte, err error) {
	u := t.path(i)
	if !strings.HasPrefix(u, "http") {
		u = c.base + u
	}
	req, err := http.NewRequestWithContext(ctx, t.method, u, nil)
	if err != nil {
		return 0, 0, nil, err
	}
	for k, v := range browserHeader {
		req.Header[k] = v
	}
	if t.who == apiClient {
		for k, v := range c.bearer {
			req.Header[k] = v
		}
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	resp, err := c.client(t.who).Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, int64(len(body)), body, err
}

// runCell sends n requests of t from `clients` goroutines, numbering them
// from first, and stops at capDur: requests still running then are
// cancelled and counted as timed out, requests not yet sent are not
// counted at all (asked says how many were sent).
func runCell(ctx context.Context, cn *conn, t *target, clients, n, first int, capDur time.Duration) cell {
	ctx, cancel := context.WithTimeout(ctx, capDur)
	defer cancel()
	var (
		next atomic.Int64
		mu   sync.Mutex
		c    = cell{statuses: map[int]int{}}
		durs []sample
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				status, size, body, err := do(ctx, cn, t, first+i)
				d := time.Since(t0)
				mu.Lock()
				c.asked++
				switch {
				case err != nil && (errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil):
					c.timedOut++
					durs = append(durs, sample{d, true})
				case err != nil:
					c.failed++
					c.statuses[-1]++
				case status != t.want:
					c.failed++
					c.statuses[status]++
				default:
					c.ok++
					c.bytes, c.body = size, body
					durs = append(durs, sample{d, false})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.wall = time.Since(start)
	slices.SortFunc(durs, func(a, b sample) int { return cmp.Compare(a.d, b.d) })
	if len(durs) > 0 {
		c.p50, c.p99, c.max = quantile(durs, 0.50), quantile(durs, 0.99), durs[len(durs)-1]
	}
	return c
}

// sample is one request's time; cut marks a request cut off at the cap,
// whose time is only a lower bound of what it would have taken.
type sample struct {
	d   time.Duration
	cut bool
}

// quantile is the nearest-rank quantile of sorted samples. Requests cut
// off count with the time they had run, so a quantile that falls on one of
// them is a lower bound (and marked so), while one that falls below them
// is exact: the cut-off requests would only have been slower. Requests
// never sent before the cap are no sample at all.
func quantile(sorted []sample, q float64) sample {
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login signs the curator in through the real form: the sign-in page sets
// the pre-session CSRF cookie and carries its token; the POST must echo it
// and come from our origin. The returned client carries the session cookie.
func login(ctx context.Context, base string, a *account) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := newClient(jar)
	// Asked for uncompressed, so that the token can be read; the answer
	// also sets the pre-session CSRF cookie the token is bound to.
	plain, err := fetchPlain(ctx, c, base+"/login")
	if err != nil {
		return nil, err
	}
	m := csrfRe.FindSubmatch(plain)
	if m == nil {
		return nil, errors.New("no CSRF token on /login")
	}
	form := url.Values{"name": {a.name}, "password": {a.password}, "csrf_token": {string(m[1])}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST /login: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("POST /login: %d, want 303", resp.StatusCode)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if strings.Contains(ck.Name, "session") {
			return c, nil
		}
	}
	return nil, errors.New("POST /login set no session cookie")
}

// fetchPlain GETs u asking for no compression.
func fetchPlain(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}
