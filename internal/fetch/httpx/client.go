// Package httpx is the fetcher's guarded HTTP client: every connection is
// checked against the SSRF guard in the dialer, bodies are capped while they
// are read (after decompression), and every exchange is bounded by connect,
// read-silence and total timeouts.
package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults used when a Config field is zero.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxBodyBytes   = 10 << 20
	DefaultMaxRedirects   = 5
)

// Accept headers for the two kinds of documents the fetcher asks for.
const (
	AcceptFeed = "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.3"
	AcceptHTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
)

// Config tunes a Client. Zero values take the defaults above.
type Config struct {
	AllowPrivate bool
	// Timeout bounds a whole exchange: connect, redirects, headers and body.
	Timeout time.Duration
	// ConnectTimeout bounds TCP connect and the TLS handshake.
	ConnectTimeout time.Duration
	// ReadTimeout is the longest silence tolerated while waiting for headers
	// or between body reads. Defaults to ConnectTimeout (bounded by Timeout).
	ReadTimeout  time.Duration
	MaxBodyBytes int64
	MaxRedirects int
	UserAgent    string
	// IdleConnsPerHost is how many keep-alive connections to keep per host
	// (the fetcher passes its per-host limit, so none are wasted).
	IdleConnsPerHost int
	// LookupHost replaces DNS resolution. Tests and benchmarks use it to map
	// many host names onto loopback addresses; the dial guard still checks
	// whatever it returns.
	LookupHost func(ctx context.Context, host string) ([]netip.Addr, error)
	// Exempt lists exact address:port pairs the guard lets through while
	// AllowPrivate is off. Tests name their one loopback publisher here so
	// that everything else a fetch reaches (redirect targets, article
	// links, discovered feeds) is still judged by the guard.
	Exempt []netip.AddrPort
	// TLSConfig overrides the TLS settings (tests use it to trust their CA).
	TLSConfig *tls.Config
	// AllowRedirect, if set, is asked before each redirect is followed
	// (the fetcher checks robots.txt of the target there).
	AllowRedirect func(ctx context.Context, target *url.URL) error
}

func (c *Config) fill() {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = min(DefaultConnectTimeout, c.Timeout)
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = min(c.ConnectTimeout, c.Timeout)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.IdleConnsPerHost <= 0 {
		c.IdleConnsPerHost = 2
	}
}

// Client is safe for concurrent use.
type Client struct {
	cfg    Config
	hc     *http.Client
	tr     *http.Transport
	dialer *net.Dialer
}

// New builds a client. Environment proxies are deliberately ignored: a proxy
// would make the dial guard check the proxy's address instead of the
// publisher's.
func New(cfg Config) *Client {
	cfg.fill()
	c := &Client{cfg: cfg}
	c.dialer = &net.Dialer{
		Timeout:   cfg.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Control:   control(cfg.AllowPrivate, cfg.Exempt),
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	}
	c.tr = &http.Transport{
		Proxy:                  nil,
		DialContext:            c.dial,
		TLSClientConfig:        tlsCfg,
		TLSHandshakeTimeout:    cfg.ConnectTimeout,
		ResponseHeaderTimeout:  cfg.ReadTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    cfg.IdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true, // we decode ourselves so the cap applies to decoded bytes
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 256 << 10,
	}
	c.hc = &http.Client{Transport: c.tr, CheckRedirect: c.checkRedirect}
	return c
}

// Close drops idle keep-alive connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Config returns the effective configuration (defaults filled in).
func (c *Client) Config() Config { return c.cfg }

func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.cfg.LookupHost == nil {
		return c.dialer.DialContext(ctx, network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return c.dialer.DialContext(ctx, network, addr)
	}
	ips, err := c.cfg.LookupHost(ctx, host)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: host, IsNotFound: true}
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	var first error
	for _, ip := range ips {
		conn, err := c.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// Request describes one GET.
type Request struct {
	URL    string
	Accept string
	// Conditional GET validators from the previous response.
	ETag         string
	LastModified string
	// MaxBytes overrides Config.MaxBodyBytes when positive and smaller.
	MaxBytes int64
	// Truncate returns the first MaxBytes (or MaxBodyBytes) of a longer
	// body instead of failing with a TooLargeError.
	Truncate bool
}

// Response is a fully read response.
type Response struct {
	URL         string // final URL after redirects
	Status      int
	Header      http.Header
	Body        []byte // decoded (gzip/br/deflate removed)
	NotModified bool
	// MovedTo is where the requested URL permanently lives now: the target
	// of the leading run of 301/308 redirects, "" if the first hop was not
	// permanent.
	MovedTo string
}

// ContentType returns the Content-Type header.
func (r *Response) ContentType() string { return r.Header.Get("Content-Type") }

// StatusError is a non-2xx, non-304 answer.
type StatusError struct {
	Code       int
	Status     string
	RetryAfter time.Duration // from Retry-After, 0 if absent
}

func (e *StatusError) Error() string {
	msg := "HTTP " + e.Status
	if e.Status == "" || !strings.HasPrefix(e.Status, strconv.Itoa(e.Code)) {
		msg = fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter.Round(time.Second))
	}
	return msg
}

// TimeoutError reports which limit ended an exchange.
type TimeoutError struct {
	What  string // "total", "read"
	Limit time.Duration
}

func (e *TimeoutError) Error() string {
	if e.What == "read" {
		return fmt.Sprintf("timed out: no data from server for %s", e.Limit)
	}
	return fmt.Sprintf("timed out after %s (fetch.timeout)", e.Limit)
}

// Timeout makes TimeoutError a net.Error-style timeout.
func (e *TimeoutError) Timeout() bool { return true }

// TooLargeError is returned when a body exceeds the cap.
type TooLargeError struct {
	Limit         int64
	ContentLength int64 // declared length, when that alone was over the cap
	Encoded       bool  // the cap was hit while decompressing
}

func (e *TooLargeError) Error() string {
	switch {
	case e.ContentLength > 0:
		return fmt.Sprintf("response of %d bytes exceeds the limit of %d bytes (fetch.max_body_bytes)", e.ContentLength, e.Limit)
	case e.Encoded:
		return fmt.Sprintf("decompressed response exceeds the limit of %d bytes (fetch.max_body_bytes; compression bomb?)", e.Limit)
	}
	return fmt.Sprintf("response exceeds the limit of %d bytes (fetch.max_body_bytes)", e.Limit)
}

type redirectState struct {
	permanent bool   // every hop so far was 301/308
	movedTo   string // last permanent target
}

type redirectKey struct{}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing redirect to non-http URL %s", req.URL.Redacted())
	}
	if len(via) > c.cfg.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects (redirect loop?), last to %s", c.cfg.MaxRedirects, req.URL.Redacted())
	}
	if c.cfg.AllowRedirect != nil {
		if err := c.cfg.AllowRedirect(req.Context(), req.URL); err != nil {
			return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
		}
	}
	if st, ok := req.Context().Value(redirectKey{}).(*redirectState); ok && req.Response != nil {
		code := req.Response.StatusCode
		if st.permanent && (code == http.StatusMovedPermanently || code == http.StatusPermanentRedirect) {
			st.movedTo = req.URL.String()
		} else {
			st.permanent = false
		}
	}
	return nil
}

// Get performs a GET and reads the whole (decoded, capped) body. On a
// non-2xx/304 status it returns the response (headers, no body) together
// with a *StatusError.
func (c *Client) Get(ctx context.Context, r Request) (*Response, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", r.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("refusing non-http URL %q (only http and https are fetched)", r.URL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host", r.URL)
	}
	limit := c.cfg.MaxBodyBytes
	if r.MaxBytes > 0 && r.MaxBytes < limit {
		limit = r.MaxBytes
	}
	total := &TimeoutError{What: "total", Limit: c.cfg.Timeout}
	ctx, cancelTotal := context.WithTimeoutCause(ctx, c.cfg.Timeout, total)
	defer cancelTotal()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rs := &redirectState{permanent: true}
	ctx = context.WithValue(ctx, redirectKey{}, rs)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	req.Header.Set("Accept-Encoding", "gzip, br, deflate")
	if r.ETag != "" {
		req.Header.Set("If-None-Match", r.ETag)
	}
	if r.LastModified != "" {
		req.Header.Set("If-Modified-Since", r.LastModified)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.explain(ctx, err)
	}
	defer resp.Body.Close()
	out := &Response{URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header, MovedTo: rs.movedTo}

	if resp.StatusCode == http.StatusNotModified {
		out.NotModified = true
		return out, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Drain a little so the connection can be reused; never much.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return out, &StatusError{Code: resp.StatusCode, Status: resp.Status, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}

	// The silence timer cancels the exchange when the server stops sending;
	// the total timeout alone would let a 1-byte-per-second drip hold a
	// worker for the whole fetch.timeout.
	silence := &TimeoutError{What: "read", Limit: c.cfg.ReadTimeout}
	timer := time.AfterFunc(c.cfg.ReadTimeout, func() { cancel(silence) })
	defer timer.Stop()
	body := &watchdogReader{r: resp.Body, timer: timer, d: c.cfg.ReadTimeout}
	out.Body, err = readBody(body, resp.Header.Get("Content-Encoding"), resp.ContentLength, limit, r.Truncate)
	if err != nil {
		return out, c.explain(ctx, err)
	}
	return out, nil
}

// watchdogReader pushes the silence deadline back whenever bytes arrive.
type watchdogReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (w *watchdogReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.d)
	}
	return n, err
}

// explain turns transport errors into short, actionable messages, keeping
// the original error in the chain for errors.Is/As.
func (c *Client) explain(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		var te *TimeoutError
		if errors.As(cause, &te) {
			return te
		}
		return cause
	}
	var blocked *BlockedAddressError
	if errors.As(err, &blocked) {
		return blocked
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var tooLarge *TooLargeError
	var certErr *tls.CertificateVerificationError
	var dnsErr *net.DNSError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &tooLarge):
		return tooLarge
	case errors.As(err, &certErr):
		return fmt.Errorf("TLS certificate not accepted: %w", certErr.Err)
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("TLS handshake failed (server does not speak TLS?): %w", err)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot resolve host %s: %w", dnsErr.Name, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("server closed the connection unexpectedly: %w", err)
	case isConnReset(err):
		return fmt.Errorf("connection reset by server: %w", err)
	case isConnRefused(err):
		return fmt.Errorf("connection refused: %w", err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// Name the limit that was hit, so the stored error says which
		// setting to look at.
		var op *net.OpError
		switch {
		case errors.As(err, &op) && op.Op == "dial":
			return fmt.Errorf("timed out connecting: no answer within %s (fetch.connect_timeout): %w", c.cfg.ConnectTimeout, err)
		case strings.Contains(err.Error(), "TLS handshake timeout"):
			return fmt.Errorf("timed out in the TLS handshake after %s (fetch.connect_timeout): %w", c.cfg.ConnectTimeout, err)
		case strings.Contains(err.Error(), "awaiting response headers"):
			return fmt.Errorf("timed out: no response headers within %s: %w", c.cfg.ReadTimeout, err)
		}
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

// ParseRetryAfter reads a Retry-After value (seconds or an HTTP date).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
