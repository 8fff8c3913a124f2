package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
)

func TestNextDelay(t *testing.T) {
	const iv = 30 * time.Minute
	mid := 0.5 // no jitter
	cases := []struct {
		name       string
		st         model.SourceState
		interval   time.Duration
		failed     bool
		retryAfter time.Duration
		r          float64
		want       time.Duration
	}{
		{"healthy", model.SourceState{}, iv, false, 0, mid, iv},
		{"quiet but not yet stretched", model.SourceState{Unchanged: 3}, iv, false, 0, mid, iv},
		{"quiet 5 polls", model.SourceState{Unchanged: 5}, iv, false, 0, mid, iv * 3 / 2},
		{"quiet for ages, capped at 4x", model.SourceState{Unchanged: 500}, iv, false, 0, mid, 4 * iv},
		{"quiet daily source capped at a day", model.SourceState{Unchanged: 500}, 12 * time.Hour, false, 0, mid, 24 * time.Hour},
		{"first failure", model.SourceState{ConsecutiveFailures: 1}, iv, true, 0, mid, iv},
		{"third failure", model.SourceState{ConsecutiveFailures: 3}, iv, true, 0, mid, 4 * iv},
		{"many failures, capped", model.SourceState{ConsecutiveFailures: 40}, iv, true, 0, mid, 12 * time.Hour},
		{"weekly source fails: cap is its interval", model.SourceState{ConsecutiveFailures: 5}, 7 * 24 * time.Hour, true, 0, mid, 7 * 24 * time.Hour},
		{"retry-after longer than back-off", model.SourceState{ConsecutiveFailures: 1}, iv, true, 3 * time.Hour, mid, 3 * time.Hour},
		{"retry-after shorter than back-off", model.SourceState{ConsecutiveFailures: 4}, iv, true, time.Minute, mid, 8 * iv},
		{"absurd retry-after capped at a week", model.SourceState{ConsecutiveFailures: 1}, iv, true, 90 * 24 * time.Hour, mid, 7 * 24 * time.Hour},
		{"jitter low", model.SourceState{}, iv, false, 0, 0, iv * 9 / 10},
		{"jitter high", model.SourceState{}, iv, false, 0, 0.999999999, iv * 11 / 10},
		{"retry-after beats jitter", model.SourceState{ConsecutiveFailures: 1}, iv, true, iv, 0, iv},
	}
	for _, c := range cases {
		got := nextDelay(&c.st, c.interval, c.failed, c.retryAfter, c.r)
		if d := got - c.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// TestBackoffInPolls drives failures, Retry-After and recovery through
// PollOnce with a fixed clock and no jitter, and checks the stored NextPoll.
func TestBackoffInPolls(t *testing.T) {
	var mode atomic.Value
	mode.Store("500")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case mode.Load() == "500":
			http.Error(w, "oops", http.StatusInternalServerError)
		case mode.Load() == "503":
			w.Header().Set("Retry-After", "7200")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, rssFeed("OK", "http://"+r.Host, nil))
		}
	}))
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	f.jitter = func() float64 { return 0.5 }
	file := sourcesFile(config.Source{Name: "s", URL: srv.URL + "/feed", Interval: config.Duration(10 * time.Minute)})
	for i, want := range []time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute} {
		f.PollOnce(context.Background(), file)
		s := sourceState(t, st, "s")
		if s.ConsecutiveFailures != i+1 || !s.NextPoll.Equal(now.Add(want)) {
			t.Fatalf("failure %d: failures %d next %s, want +%s", i+1, s.ConsecutiveFailures, s.NextPoll.Sub(now), want)
		}
	}
	mode.Store("ok")
	f.PollOnce(context.Background(), file)
	if s := sourceState(t, st, "s"); s.ConsecutiveFailures != 0 || s.LastError != "" || !s.NextPoll.Equal(now.Add(10*time.Minute)) || !s.LastSuccess.Equal(now) {
		t.Fatalf("recovery: %+v", s)
	}
	mode.Store("503")
	f.PollOnce(context.Background(), file)
	s := sourceState(t, st, "s")
	if !s.NextPoll.Equal(now.Add(2*time.Hour)) || !s.RetryAfter.Equal(now.Add(2*time.Hour)) || s.HTTPStatus != 503 {
		t.Fatalf("503 Retry-After: %+v", s)
	}
	// Quiet polls stretch the interval once it has been quiet a while.
	mode.Store("ok")
	now = now.Add(3 * time.Hour) // past the Retry-After host cool-down
	for i := 0; i < 6; i++ {
		f.PollOnce(context.Background(), file)
	}
	if s := sourceState(t, st, "s"); s.Unchanged != 7 || !s.NextPoll.Equal(now.Add(20*time.Minute)) {
		t.Fatalf("quiet: unchanged %d next +%s", s.Unchanged, s.NextPoll.Sub(now))
	}
}

// TestRun checks the scheduler: sources are polled on their intervals, an
// edited list takes effect (removed sources stop, new ones start), stored
// back-off is respected at start, and Run returns promptly when cancelled.
func TestRun(t *testing.T) {
	var hits hitCounter
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, rssFeed("F", "http://"+r.Host, nil))
	}))
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	f.jitter = func() float64 { return 0.5 }
	// "later" backed off an hour ago: Run must not poll it now.
	st.PutSourceState(context.Background(), &model.SourceState{Name: "later", URL: srv.URL + "/later", NextPoll: time.Now().Add(time.Hour)})
	fast := config.Duration(150 * time.Millisecond)
	var cur atomic.Pointer[config.SourcesFile]
	cur.Store(sourcesFile(
		config.Source{Name: "a", URL: srv.URL + "/a", Interval: fast},
		config.Source{Name: "later", URL: srv.URL + "/later", Interval: fast},
		config.Source{Name: "off", URL: srv.URL + "/off", Interval: fast, Enabled: new(false)},
	))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, cur.Load) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (hits %v)", what, hits.hits)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("a polled 3 times", func() bool { return hits.get("/a") >= 3 })
	if hits.get("/later") != 0 || hits.get("/off") != 0 {
		t.Errorf("polled a backed-off or disabled source: %v", hits.hits)
	}
	cur.Store(sourcesFile(config.Source{Name: "b", URL: srv.URL + "/b", Interval: fast}))
	waitFor("b polled twice", func() bool { return hits.get("/b") >= 2 })
	aAfter := hits.get("/a")
	waitFor("b polled twice more", func() bool { return hits.get("/b") >= 4 })
	if hits.get("/a") > aAfter+1 { // at most one poll already in flight
		t.Errorf("removed source a still polled: %d → %d", aAfter, hits.get("/a"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if s := sourceState(t, st, "b"); s.LastSuccess.IsZero() || s.NextPoll.IsZero() {
		t.Errorf("b state %+v", s)
	}
	if err := f.Run(context.Background(), nil); err == nil {
		t.Error("nil provider accepted")
	}
}

// TestTooManyRequestsWithoutRetryAfter: a 429 that names no Retry-After
// still pauses the whole host for a while (other sources on it are not
// asked), the source backs off like any failure, and the host is asked
// again once the pause is over.
func TestTooManyRequestsWithoutRetryAfter(t *testing.T) {
	var hits hitCounter
	var busy atomic.Bool
	busy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case busy.Load():
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		default:
			fmt.Fprint(w, rssFeed("OK", "http://"+r.Host, nil))
		}
	}))
	defer srv.Close()
	f, st := newTestFetcher(t, testConfig())
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	f.jitter = func() float64 { return 0.5 }
	iv := config.Duration(10 * time.Minute)
	a := sourcesFile(config.Source{Name: "a", URL: srv.URL + "/a", Interval: iv})
	b := sourcesFile(config.Source{Name: "b", URL: srv.URL + "/b", Interval: iv})
	if r := f.PollOnce(context.Background(), a)[0]; r.Err == nil || !strings.Contains(r.Err.Error(), "HTTP 429") {
		t.Fatalf("a: %+v", r)
	}
	if s := sourceState(t, st, "a"); s.HTTPStatus != 429 || s.ConsecutiveFailures != 1 || !s.NextPoll.Equal(now.Add(10*time.Minute)) {
		t.Errorf("a state %+v", s)
	}
	busy.Store(false)
	r := f.PollOnce(context.Background(), b)[0]
	var hc *HostCooldownError
	if !errors.As(r.Err, &hc) || hits.get("/b") != 0 {
		t.Fatalf("b during the pause: %v, %d requests", r.Err, hits.get("/b"))
	}
	if !hc.Until.Equal(now.Add(defaultHostCooldown)) {
		t.Errorf("host paused until %s, want %s", hc.Until, now.Add(defaultHostCooldown))
	}
	if s := sourceState(t, st, "b"); s.NextPoll.Before(hc.Until) {
		t.Errorf("b next poll %s is before the end of the pause %s", s.NextPoll, hc.Until)
	}
	now = now.Add(defaultHostCooldown + time.Second)
	if r := f.PollOnce(context.Background(), b)[0]; r.Err != nil || hits.get("/b") != 1 {
		t.Errorf("b after the pause: %+v", r)
	}
}

// TestRunKeepsPollingWhileASourceHangs: with the scheduler running, a
// source whose server never answers occupies one worker until the timeout,
// while a healthy source keeps being polled on its interval by the others.
func TestRunKeepsPollingWhileASourceHangs(t *testing.T) {
	var hits hitCounter
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			fmt.Fprint(w, rssFeed("F", "http://"+r.Host, nil))
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := testConfig()
	cfg.Workers = 2
	cfg.Timeout, cfg.ConnectTimeout = 5*time.Second, 5*time.Second // the hang lasts 5 s
	f, st := newTestFetcher(t, cfg)
	fast := config.Duration(100 * time.Millisecond)
	file := sourcesFile(config.Source{Name: "hang", URL: srv.URL + "/hang", Interval: fast},
		config.Source{Name: "ok", URL: srv.URL + "/ok", Interval: fast})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, func() *config.SourcesFile { return file }) }()
	deadline := time.Now().Add(10 * time.Second)
	for (hits.get("/hang") == 0 || hits.get("/ok") < 5) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	hangs := hits.get("/hang")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if hits.get("/ok") < 5 || hangs != 1 {
		t.Fatalf("ok polled %d times, hang %d times, while the hanging poll was in flight", hits.get("/ok"), hangs)
	}
	if s := sourceState(t, st, "ok"); s.LastSuccess.IsZero() || s.LastError != "" {
		t.Errorf("ok state %+v", s)
	}
}

// TestStoryHostPauseLeavesTheRestForNextPoll: when a story page answers 429
// with a short Retry-After, that story is stored from the feed (it was
// tried), the stories after it are not fetched against the pause nor
// stored without their pages, and the next poll after the pause takes them
// up with their pages. A pause longer than the source's interval stores them
// from the feed, so a fast feed cannot rotate them out unseen.
func TestStoryHostPauseLeavesTheRestForNextPoll(t *testing.T) {
	var hits hitCounter
	var limited atomic.Bool
	limited.Store(true)
	var retryAfter atomic.Value
	retryAfter.Store("120")
	var entries []testEntry
	for i := 0; i < 4; i++ {
		entries = append(entries, testEntry{Path: fmt.Sprintf("/story/%d", i), Title: fmt.Sprint("Feed title ", i), Desc: "Feed summary."})
	}
	var feed atomic.Pointer[[]testEntry]
	feed.Store(&entries)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, "/feed"):
			fmt.Fprint(w, rssFeed("F", "http://"+r.Host, *feed.Load()))
		case limited.CompareAndSwap(true, false): // the first story page asks for a pause
			w.Header().Set("Retry-After", retryAfter.Load().(string))
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, articleHTML("Page "+r.URL.Path, ""))
		}
	}))
	defer srv.Close()
	cfg := testConfig()
	cfg.Workers = 1 // stories in feed order
	f, st := newTestFetcher(t, cfg)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	file := sourcesFile(config.Source{Name: "s", URL: srv.URL + "/feed", Interval: config.Duration(10 * time.Minute)})
	r := f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || r.NewItems != 1 {
		t.Fatalf("first poll %+v", r)
	}
	items := listItems(t, st, "s")
	if len(items) != 1 || !strings.Contains(items[0].FetchError, "HTTP 429") || items[0].Lead != "Feed summary." {
		t.Fatalf("the story that got the 429 must be stored from the feed: %+v", items)
	}
	if n := hits.total("/story/"); n != 1 {
		t.Errorf("%d story requests during the pause, want 1", n)
	}
	if s := sourceState(t, st, "s"); s.ETag != "" || s.LastError != "" {
		t.Errorf("state %+v", s)
	}
	now = now.Add(3 * time.Minute) // past the pause
	r = f.PollOnce(context.Background(), file)[0]
	if r.Err != nil || r.NewItems != 3 {
		t.Fatalf("second poll %+v", r)
	}
	for _, it := range listItems(t, st, "s") {
		if it.URL != srv.URL+"/story/0" && (it.FetchError != "" || !strings.HasPrefix(it.Title, "Page /story/")) {
			t.Errorf("story %s not fetched after the pause: %q %q", it.URL, it.Title, it.FetchError)
		}
	}

	// A pause longer than the interval: the rest is stored from the feed.
	more := append(slices.Clone(entries), testEntry{Path: "/story/4", Title: "Feed title 4"}, testEntry{Path: "/story/5", Title: "Feed title 5"})
	feed.Store(&more)
	limited.Store(true)
	retryAfter.Store("3600")
	now = now.Add(time.Hour)
	if r := f.PollOnce(context.Background(), file)[0]; r.Err != nil || r.NewItems != 2 {
		t.Fatalf("long pause %+v", r)
	}
	for _, it := range listItems(t, st, "s") {
		if it.URL == srv.URL+"/story/5" && !strings.Contains(it.FetchError, "asked to wait") {
			t.Errorf("story behind a long pause: %q", it.FetchError)
		}
	}
}

// TestPollNow: a source backed off for an hour is polled at once when
// PollNow asks the running loop, and the caller gets that poll's result;
// without a running loop, or for a source the loop does not poll, PollNow
// says so instead of waiting.
func TestPollNow(t *testing.T) {
	site := newNewsSite(t, []testEntry{{Path: "/news/one", Title: "One"}, {Path: "/news/two", Title: "Two"}})
	f, st := newTestFetcher(t, testConfig())
	ctx := context.Background()
	if _, err := f.PollNow(ctx, "later"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("PollNow without Run: %v", err)
	}
	url := site.URL + "/feed.xml"
	st.PutSourceState(ctx, &model.SourceState{Name: "later", URL: url, NextPoll: time.Now().Add(time.Hour), LastError: "HTTP 500 Internal Server Error", ConsecutiveFailures: 3})
	file := sourcesFile(feedSource("later", url), config.Source{Name: "off", URL: url, Section: "Top", Enabled: new(false)})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(runCtx, func() *config.SourcesFile { return file }) }()
	defer func() { cancel(); <-done }()

	waitCtx, stop := context.WithTimeout(ctx, 15*time.Second)
	defer stop()
	var r Result
	var err error
	for {
		// Run may not have started reading requests yet.
		if r, err = f.PollNow(waitCtx, "later"); !errors.Is(err, ErrNotRunning) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || r.Err != nil || r.NewItems != 2 {
		t.Fatalf("PollNow: %+v, %v", r, err)
	}
	if s := sourceState(t, st, "later"); s.LastError != "" || s.ConsecutiveFailures != 0 || s.LastSuccess.IsZero() {
		t.Errorf("state after the poll: %+v", s)
	}
	if _, err := f.PollNow(waitCtx, "off"); !errors.Is(err, ErrNotPolled) {
		t.Errorf("disabled source: %v", err)
	}
	if _, err := f.PollNow(waitCtx, "nobody"); !errors.Is(err, ErrNotPolled) {
		t.Errorf("unknown source: %v", err)
	}
}
