package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/gin-gonic/gin"
)

const (
	// minCompressSize is the smallest body worth encoding: below about a
	// kilobyte the coding's framing and the CPU cost outweigh the bytes
	// saved (a JSON error, /healthz, a redirect).
	minCompressSize = 1024
	// brotliDynamicLevel is brotli's level for answers built per request:
	// about as fast as gzip's default and smaller. Static assets, encoded
	// once at start, use the best level.
	brotliDynamicLevel = 5

	// skipCompressKey marks an answer whose handler chose the coding
	// itself (the static assets, encoded once at start).
	skipCompressKey = "clipsheet.identity"
)

// headRequest marks a HEAD request that is routed as GET (ServeHTTP).
type headRequest struct{}

// asGet routes a HEAD request as the GET it mirrors: gin has no implicit
// HEAD, and registering it route by route would miss future routes. The
// server's ResponseWriter still knows the request is HEAD and sends no
// body, so status and headers are exactly GET's.
func asGet(r *http.Request) *http.Request {
	if r.Method != http.MethodHead {
		return r
	}
	r = r.WithContext(context.WithValue(r.Context(), headRequest{}, true))
	r.Method = http.MethodGet
	return r
}

func isHead(r *http.Request) bool { return r.Context().Value(headRequest{}) != nil }

// requestMethod is the method the client sent (HEAD stays HEAD).
func requestMethod(r *http.Request) string {
	if isHead(r) {
		return http.MethodHead
	}
	return r.Method
}

// negotiateEncoding picks the content coding for Accept-Encoding among
// offers, given in our order of preference (brotli first: it is smaller) (RFC 9110 §12.5.3): the highest q-value wins, "*" stands for any
// coding not named, q=0 refuses, and among equals the first offer wins.
// "" means identity: no header, nothing acceptable, or identity named
// with a higher q-value than any coding we have.
func negotiateEncoding(header string, offers []string) string {
	if strings.TrimSpace(header) == "" {
		return ""
	}
	q := map[string]float64{}
	star := -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			weight = f
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		if name == "*" {
			star = weight
			continue
		}
		q[name] = weight
	}
	best, bestQ := "", 0.0
	for _, enc := range offers {
		w, ok := q[enc]
		if !ok {
			w = star
		}
		if w > bestQ {
			best, bestQ = enc, w
		}
	}
	if id, ok := q["identity"]; ok && id > bestQ {
		return ""
	}
	return best
}

// compressible reports whether a media type is text-like and worth
// encoding; images, fonts and archives are compressed already.
func compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/javascript", mt == "application/xml", mt == "image/svg+xml":
		return true
	case strings.HasPrefix(mt, "application/") && (strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")):
		return true
	}
	return false
}

// addVary adds a field name to Vary unless it is there already.
func addVary(h http.Header, field string) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return
			}
		}
	}
	h.Add("Vary", field)
}

// encoders pools the gzip and brotli writers: each holds tens of
// kilobytes of state that need not be allocated per answer.
type encoders struct {
	gzip, br sync.Pool
}

func newEncoders() *encoders {
	e := &encoders{}
	e.gzip.New = func() any { return gzip.NewWriter(io.Discard) }
	e.br.New = func() any { return brotli.NewWriterLevel(io.Discard, brotliDynamicLevel) }
	return e
}

// encode returns body in the content coding enc.
func (e *encoders) encode(enc string, body []byte) ([]byte, error) {
	switch enc {
	case "gzip":
		zw := e.gzip.Get().(*gzip.Writer)
		defer e.gzip.Put(zw)
		return encodeWith(zw, body)
	case "br":
		bw := e.br.Get().(*brotli.Writer)
		defer e.br.Put(bw)
		return encodeWith(bw, body)
	}
	return body, nil
}

// resettableWriter is a gzip or brotli writer, which can be pointed at a
// new destination and reused.
type resettableWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// encodeWith runs body through zw into a fresh buffer.
func encodeWith(zw resettableWriter, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body) / 3)
	zw.Reset(&buf)
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compress encodes text answers (pages, JSON, feeds, CSS, JS) in the
// coding the client prefers. It holds the body until the handler is done,
// which every handler here does anyway (pages render into a buffer, JSON
// and feeds marshal in memory), and so can also set an exact
// Content-Length. Answers without a body (204, 304), partial content,
// other media types and already-encoded answers pass straight through.
func (s *Server) compress(c *gin.Context) {
	w := &compressWriter{ResponseWriter: c.Writer, c: c, enc: s.encoders}
	c.Writer = w
	// A panicking handler leaves its partial answer in the buffer; the
	// recovery then writes its 500 to the real writer.
	defer func() { c.Writer = w.ResponseWriter }()
	c.Next()
	if err := w.finish(); err != nil {
		s.log.Warn("write response", "path", c.Request.URL.Path, "err", err)
	}
}

const (
	modeUndecided = iota
	modeBuffer
	modePass
)

type compressWriter struct {
	gin.ResponseWriter
	c      *gin.Context
	enc    *encoders
	status int
	mode   int
	buf    bytes.Buffer
}

func (w *compressWriter) WriteHeader(code int) {
	switch w.mode {
	case modePass:
		w.ResponseWriter.WriteHeader(code)
	case modeUndecided:
		if code > 0 {
			w.status = code
		}
	}
}

func (w *compressWriter) Status() int {
	if w.mode == modePass || w.status == 0 {
		return w.ResponseWriter.Status()
	}
	return w.status
}

// decide chooses, once the headers are final (at the first write),
// between holding the body for encoding and passing it through.
func (w *compressWriter) decide() {
	if w.mode != modeUndecided {
		return
	}
	status, h := w.Status(), w.Header()
	if w.c.GetBool(skipCompressKey) || !bodyAllowed(status) || status == http.StatusPartialContent ||
		h.Get("Content-Encoding") != "" || !compressible(h.Get("Content-Type")) {
		w.mode = modePass
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.mode = modeBuffer
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func (w *compressWriter) Write(p []byte) (int, error) {
	w.decide()
	if w.mode == modePass {
		return w.ResponseWriter.Write(p)
	}
	return w.buf.Write(p)
}

func (w *compressWriter) WriteString(s string) (int, error) {
	w.decide()
	if w.mode == modePass {
		return w.ResponseWriter.WriteString(s)
	}
	return w.buf.WriteString(s)
}

func (w *compressWriter) WriteHeaderNow() {
	w.decide()
	if w.mode == modePass {
		w.ResponseWriter.WriteHeaderNow()
	}
}

func (w *compressWriter) Written() bool {
	if w.mode == modePass {
		return w.ResponseWriter.Written()
	}
	return w.mode == modeBuffer
}

func (w *compressWriter) Size() int {
	switch w.mode {
	case modePass:
		return w.ResponseWriter.Size()
	case modeBuffer:
		return w.buf.Len()
	}
	return -1
}

// Unwrap gives http.ResponseController the server's writer, for a
// handler that sets its own write deadlines (the backup download).
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush is a no-op while the body is held: it goes out whole at the end.
func (w *compressWriter) Flush() {
	if w.mode == modePass {
		w.ResponseWriter.Flush()
	}
}

// finish sends a held body, encoded when that pays, with its length. A
// HEAD answer gets the same headers, Content-Length of the encoded body
// included, and no body.
func (w *compressWriter) finish() error {
	if w.mode == modeUndecided {
		if w.status == 0 {
			return nil // nothing written: gin writes its default header
		}
		w.decide()
	}
	if w.mode != modeBuffer {
		return nil
	}
	body, h := w.buf.Bytes(), w.Header()
	addVary(h, "Accept-Encoding")
	if len(body) >= minCompressSize {
		if enc := negotiateEncoding(w.c.Request.Header.Get("Accept-Encoding"), []string{"br", "gzip"}); enc != "" {
			out, err := w.enc.encode(enc, body)
			if err != nil {
				return err
			}
			if len(out) < len(body) {
				body = out
				// An ETag stays as the handler set it: those here name the
				// content (the sources API's If-Match compares it), and no
				// ranges are served on encoded answers.
				h.Set("Content-Encoding", enc)
			}
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(w.Status())
	w.ResponseWriter.WriteHeaderNow()
	if isHead(w.c.Request) {
		return nil
	}
	_, err := w.ResponseWriter.Write(body)
	return err
}
