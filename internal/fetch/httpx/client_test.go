package httpx

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestClassify(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1":              "loopback",
		"127.9.9.9":              "loopback",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "loopback",
		"10.1.2.3":               "private",
		"172.16.0.1":             "private",
		"192.168.1.1":            "private",
		"fd12::1":                "private",
		"169.254.169.254":        "cloud metadata",
		"fd00:ec2::254":          "cloud metadata",
		"169.254.1.1":            "link-local",
		"fe80::1":                "link-local",
		"224.0.0.1":              "multicast",
		"ff02::1":                "multicast",
		"0.0.0.0":                "unspecified",
		"::":                     "unspecified",
		"100.64.0.1":             "carrier-grade NAT",
		"100.127.255.255":        "carrier-grade NAT",
		"0.1.2.3":                "reserved",
		"198.18.0.1":             "reserved",
		"255.255.255.255":        "reserved",
		"64:ff9b::7f00:1":        "loopback (via NAT64)",
		"2002:a00:1::":           "private (via 6to4)",
		"93.184.216.34":          "",
		"100.128.0.1":            "",
		"2606:4700:4700::1111":   "",
		"64:ff9b::5db8:d822":     "",
		"::ffff:93.184.216.34":   "",
		"2001:4860:4860::8888":   "",
		"172.32.0.1":             "",
		"192.169.0.1":            "",
		"11.0.0.1":               "",
		"2002:5db8:d822::1":      "",
		"::ffff:169.254.169.254": "cloud metadata",
	}
	for addr, want := range cases {
		if got := Classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", addr, got, want)
		}
	}
}

// testClient has roomy limits: tests of the limits themselves build their
// own client, and a loaded CI core under -race can stall a loopback dial
// past one second (TestRedirects once failed so).
func testClient(allowPrivate bool) *Client {
	return New(Config{AllowPrivate: allowPrivate, Timeout: 15 * time.Second, ConnectTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20, UserAgent: "ClipsheetTest/1"})
}

func TestGuardRefusesLoopbackUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	// "localhost" resolves to loopback: the refusal must come from the dialer,
	// after resolution.
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err := testClient(false).Get(context.Background(), Request{URL: u})
	var blocked *BlockedAddressError
	if !errors.As(err, &blocked) {
		t.Fatalf("want BlockedAddressError, got %v", err)
	}
	if !strings.Contains(err.Error(), "refusing to fetch private address") || !strings.Contains(err.Error(), "fetch.allow_private") {
		t.Errorf("unclear error: %v", err)
	}
	// A custom resolver pointing a public-looking name at loopback (DNS
	// rebinding) is refused the same way.
	c := New(Config{Timeout: 2 * time.Second, LookupHost: func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}})
	_, err = c.Get(context.Background(), Request{URL: strings.Replace(srv.URL, "127.0.0.1", "news.example.com", 1)})
	if !errors.As(err, &blocked) || blocked.Addr.String() != "127.0.0.1" {
		t.Fatalf("rebinding: want BlockedAddressError for 127.0.0.1, got %v", err)
	}
	resp, err := testClient(true).Get(context.Background(), Request{URL: u})
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("allowed: %v %+v", err, resp)
	}
}

func TestSchemes(t *testing.T) {
	c := testClient(true)
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/", "gopher://x/"} {
		if _, err := c.Get(context.Background(), Request{URL: u}); err == nil || !strings.Contains(err.Error(), "non-http") {
			t.Errorf("%s: want non-http refusal, got %v", u, err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}))
	defer srv.Close()
	if _, err := c.Get(context.Background(), Request{URL: srv.URL}); err == nil || !strings.Contains(err.Error(), "refusing redirect to non-http") {
		t.Errorf("redirect to file: want refusal, got %v", err)
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/newer", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/newer", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/final", http.StatusFound) })
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "final") })
	mux.HandleFunc("/temp", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/old", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	n := 0
	mux.HandleFunc("/chain/", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n > 5 {
			fmt.Fprint(w, "end")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := testClient(true)
	resp, err := c.Get(context.Background(), Request{URL: srv.URL + "/old"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.URL != srv.URL+"/final" || resp.MovedTo != srv.URL+"/new" {
		t.Errorf("final %s moved %s", resp.URL, resp.MovedTo)
	}
	resp, err = c.Get(context.Background(), Request{URL: srv.URL + "/temp"})
	if err != nil || resp.MovedTo != "" {
		t.Errorf("temporary first hop must not record a move: %v %q", err, resp.MovedTo)
	}
	if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/loop"}); err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
		t.Errorf("loop: %v", err)
	}
	// Exactly five redirects are followed.
	if resp, err := c.Get(context.Background(), Request{URL: srv.URL + "/chain/0"}); err != nil || string(resp.Body) != "end" {
		t.Errorf("5 redirects: %v", err)
	}
}

func TestBodyLimitsAndEncodings(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 3<<20)
	var gz, br bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	bw := brotli.NewWriter(&br)
	bw.Write(big)
	bw.Close()
	var smallGz bytes.Buffer
	zw = gzip.NewWriter(&smallGz)
	zw.Write([]byte("hello gzip"))
	zw.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/gzbomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	})
	mux.HandleFunc("/brbomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "br")
		w.Write(br.Bytes())
	})
	mux.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "br") {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(smallGz.Bytes())
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for i := 0; i < 1000; i++ { // bounded: 64 MB at most
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10737418240")
		w.Write([]byte("start"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := testClient(true)
	var tl *TooLargeError
	for _, p := range []string{"/gzbomb", "/brbomb"} {
		_, err := c.Get(context.Background(), Request{URL: srv.URL + p})
		if !errors.As(err, &tl) || !tl.Encoded {
			t.Errorf("%s: want decoded TooLargeError, got %v", p, err)
		}
	}
	resp, err := c.Get(context.Background(), Request{URL: srv.URL + "/gz"})
	if err != nil || string(resp.Body) != "hello gzip" {
		t.Errorf("gzip: %v %+v", err, resp)
	}
	start := time.Now()
	if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/endless"}); !errors.As(err, &tl) {
		t.Errorf("endless: %v", err)
	}
	if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/huge"}); !errors.As(err, &tl) || tl.ContentLength != 10737418240 {
		t.Errorf("huge: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("limits took %s", time.Since(start))
	}
}

func TestTimeouts(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		for i := 0; i < 30; i++ {
			w.Write([]byte("<"))
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second / 2):
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	defer close(stop)
	// Drip faster than the silence timeout: the total timeout ends it. (The
	// silence limit is far longer than the total so that a loaded machine
	// cannot turn a late byte into a silence.)
	c := New(Config{AllowPrivate: true, Timeout: 1500 * time.Millisecond, ReadTimeout: 10 * time.Second})
	start := time.Now()
	_, err := c.Get(context.Background(), Request{URL: srv.URL})
	var te *TimeoutError
	if !errors.As(err, &te) || te.What != "total" {
		t.Errorf("want total timeout, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	// Silence longer than ReadTimeout ends it sooner.
	c = New(Config{AllowPrivate: true, Timeout: 5 * time.Second, ReadTimeout: 200 * time.Millisecond})
	start = time.Now()
	_, err = c.Get(context.Background(), Request{URL: srv.URL})
	if !errors.As(err, &te) || te.What != "read" {
		t.Errorf("want read timeout, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestStatusAndRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	_, err := testClient(true).Get(context.Background(), Request{URL: srv.URL})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 429 || se.RetryAfter != 120*time.Second {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "retry after 2m0s") {
		t.Errorf("message %q", err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if d := ParseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); d != 90*time.Second {
		t.Errorf("date form: %s", d)
	}
	if d := ParseRetryAfter("soon", now); d != 0 {
		t.Errorf("junk: %s", d)
	}
}

func TestConditionalHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, "body")
	}))
	defer srv.Close()
	c := testClient(true)
	resp, err := c.Get(context.Background(), Request{URL: srv.URL})
	if err != nil || resp.NotModified {
		t.Fatal(err)
	}
	resp, err = c.Get(context.Background(), Request{URL: srv.URL, ETag: resp.Header.Get("ETag"), LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"})
	if err != nil || !resp.NotModified {
		t.Fatalf("want 304: %v %+v", err, resp)
	}
}

// fullListener returns the address of a loopback listener created with a
// backlog of 0 whose accept queue is already filled, so further SYNs are
// dropped and connecting hangs until the dialer gives up.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue; stop once a dial no longer completes. On loopback a
	// dial that is answered completes at once, so a second without an
	// answer means the SYN was dropped, even on a loaded machine.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("kernel accepted every connection; cannot provoke a connect timeout here")
	return ""
}

// TestConnectAndHandshakeTimeouts: a host that never completes the TCP
// handshake, one that accepts but never speaks TLS, and one that never sends
// response headers are each cut off by their own limit, named in the error.
func TestConnectAndHandshakeTimeouts(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, write nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	c := New(Config{AllowPrivate: true, Timeout: 10 * time.Second, ConnectTimeout: 500 * time.Millisecond, ReadTimeout: 700 * time.Millisecond})
	cases := []struct{ name, url, want string }{
		{"connect", "http://" + fullListener(t) + "/feed", "timed out connecting: no answer within 500ms (fetch.connect_timeout)"},
		{"tls handshake", "https://" + silent.Addr().String() + "/feed", "timed out in the TLS handshake after 500ms (fetch.connect_timeout)"},
		{"headers", "http://" + silent.Addr().String() + "/feed", "timed out: no response headers within 700ms"},
	}
	for _, tc := range cases {
		start := time.Now()
		_, err := c.Get(context.Background(), Request{URL: tc.url})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want %q, got %v", tc.name, tc.want, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %s despite the limits", tc.name, d)
		}
	}
}

func TestBrotliAndGzipBodies(t *testing.T) {
	text := strings.Repeat("Brotli-compressed feed text. ", 200)
	var br, gz bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write([]byte(text))
	bw.Close()
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ae := r.Header.Get("Accept-Encoding")
		switch {
		case r.URL.Path == "/br" && strings.Contains(ae, "br"):
			w.Header().Set("Content-Encoding", "br")
			w.Write(br.Bytes())
		case r.URL.Path == "/gz" && strings.Contains(ae, "gzip"):
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		default:
			http.Error(w, "encoding not offered: "+ae, http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	c := testClient(true)
	for _, p := range []string{"/br", "/gz"} {
		resp, err := c.Get(context.Background(), Request{URL: srv.URL + p})
		if err != nil || string(resp.Body) != text {
			t.Errorf("%s: %v, %d bytes", p, err, len(resp.Body))
		}
	}
}
