package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Pages and feeds made from published editions change only when an
// edition is published or corrected, which the store counts
// (EditionsRev). They are rendered once per count and kept as bytes,
// already compressed, with their validators: a request costs one read of
// the counter and a map lookup, like a static file.

// maxCachedAnswers bounds the cache; when full it starts afresh, which
// only costs renders.
const maxCachedAnswers = 2048

// publishedCacheControl lets browsers and CDNs reuse an answer for a
// minute without asking: a correction reaches everyone within that.
// Vary: Cookie keeps the copy for visitors who are not signed in from
// being shown to a signed-in curator, whose pages carry their own menu.
const publishedCacheControl = "public, max-age=60"

// cachedAnswer is one rendered answer in every coding worth having.
type cachedAnswer struct {
	contentType string
	etag        string
	lastMod     time.Time
	bodies      map[string][]byte
	codings     []string // besides identity, ours first
	// fragment is a page's content, for signed-in users' pages (which
	// wrap it in their own layout); nil for feeds.
	fragment *pageParts
}

// renderCache holds the answers of one edition count.
type renderCache struct {
	mu      sync.Mutex
	rev     uint64
	answers map[string]*cachedAnswer
	// renders counts builds, so tests can tell a render from a cache hit.
	renders atomic.Int64
}

func newRenderCache() *renderCache { return &renderCache{answers: map[string]*cachedAnswer{}} }

// get returns the answer under key at rev, building and keeping it when
// missing. Concurrent misses may both build; the answers are equal.
func (rc *renderCache) get(rev uint64, key string, build func() (*cachedAnswer, error)) (*cachedAnswer, error) {
	rc.mu.Lock()
	if rc.rev != rev {
		rc.rev = rev
		clear(rc.answers)
	}
	a, ok := rc.answers[key]
	rc.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := build()
	if err != nil {
		return nil, err
	}
	rc.renders.Add(1)
	rc.mu.Lock()
	if rc.rev == rev {
		if len(rc.answers) >= maxCachedAnswers {
			clear(rc.answers)
		}
		rc.answers[key] = a
	}
	rc.mu.Unlock()
	return a, nil
}

// newCachedAnswer hashes and encodes body once.
func (s *Server) newCachedAnswer(contentType string, body []byte, lastMod time.Time) (*cachedAnswer, error) {
	sum := sha256.Sum256(body)
	a := &cachedAnswer{contentType: contentType, etag: `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		lastMod: lastMod.UTC().Truncate(time.Second), bodies: map[string][]byte{"": body}}
	if len(body) >= minCompressSize {
		for _, enc := range []string{"br", "gzip"} {
			out, err := s.encoders.encode(enc, body)
			if err != nil {
				return nil, err
			}
			if len(out) < len(body) {
				a.bodies[enc] = append([]byte(nil), out...)
				a.codings = append(a.codings, enc)
			}
		}
	}
	return a, nil
}

// serveCached answers with a kept answer: 304 when the client's copy is
// current, else the bytes in the coding it prefers.
func (s *Server) serveCached(c *gin.Context, a *cachedAnswer) {
	h := c.Writer.Header()
	h.Set("ETag", a.etag)
	h.Set("Last-Modified", a.lastMod.Format(http.TimeFormat))
	// A cookie being set (clearing a stale session) is for this client
	// alone: then no shared cache may keep the answer.
	if len(h.Values("Set-Cookie")) == 0 {
		h.Set("Cache-Control", publishedCacheControl)
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	addVary(h, "Accept-Encoding")
	addVary(h, "Cookie")
	c.Set(skipCompressKey, true)
	if notModified(c.Request, a.etag, a.lastMod) {
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		c.Abort()
		return
	}
	enc := negotiateEncoding(c.GetHeader("Accept-Encoding"), a.codings)
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	body := a.bodies[enc]
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Data(http.StatusOK, a.contentType, body)
}
