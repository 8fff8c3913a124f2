package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// maxValidators bounds the first-seen log; when full it starts afresh,
// which only makes some Last-Modified dates newer (never a false 304).
const maxValidators = 4096

// validatorLog remembers when each answer body was first sent, per path
// and audience. That time is the answer's Last-Modified: it is exact for
// every kind of change (an item approved, edited, rejected or aged out of
// the 48 hours, a section renamed), where a date taken from the items
// would miss those that leave the list.
type validatorLog struct {
	mu   sync.Mutex
	seen map[string]firstSeen
}

type firstSeen struct {
	etag string
	at   time.Time
}

func newValidatorLog() *validatorLog { return &validatorLog{seen: map[string]firstSeen{}} }

// lastModified returns when the body with etag was first seen under key.
// Dates have one-second resolution (HTTP's), so two changes within one
// second look alike to a client that sends only If-Modified-Since; the
// ETag tells them apart.
func (v *validatorLog) lastModified(key, etag string, now time.Time) time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.seen[key]; ok && e.etag == etag {
		return e.at
	}
	if len(v.seen) >= maxValidators {
		clear(v.seen)
	}
	at := now.UTC().Truncate(time.Second)
	v.seen[key] = firstSeen{etag: etag, at: at}
	return at
}

// sendValidated answers 200 with body, or 304 when the client's copy is
// current, with ETag and Last-Modified. The ETag is a hash of the body,
// so answers that differ per user (a CSRF token, a name, a feed token in
// a self link) never share one. It is weak: the same content goes out
// in several content codings. audience names whose copy this is (a user
// name, or "" for an answer that is the same for everyone) and public
// says whether shared caches may keep it; either way a cache must
// revalidate before reuse (no-cache), which costs a 304.
func (s *Server) sendValidated(c *gin.Context, contentType string, body []byte, audience string, public bool) {
	sum := sha256.Sum256(body)
	etag := `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	lm := s.validators.lastModified(c.Request.URL.Path+"\x00"+audience, etag, s.cfg.Now())
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", lm.Format(http.TimeFormat))
	// A cookie being set (say clearing a stale session) is for this
	// client alone: a shared cache must not hand it to others.
	if public && len(h.Values("Set-Cookie")) == 0 {
		h.Set("Cache-Control", "public, no-cache")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	addVary(h, "Accept-Encoding")
	if notModified(c.Request, etag, lm) {
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		c.Abort()
		return
	}
	c.Data(http.StatusOK, contentType, body)
}

// notModified evaluates If-None-Match and If-Modified-Since for a GET or
// HEAD. If-None-Match, when sent, decides alone (RFC 9110 §13.2.2).
func notModified(r *http.Request, etag string, lastMod time.Time) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		return etagListMatches(strings.Join(inm, ","), etag)
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !lastMod.After(t)
	}
	return false
}

// etagListMatches is the weak comparison of RFC 9110 §8.8.3.2 of etag
// against an If-None-Match list ("*" matches anything).
func etagListMatches(list, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for list != "" {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			break
		}
		if list[0] == '*' {
			return true
		}
		list = strings.TrimPrefix(list, "W/")
		if list == "" || list[0] != '"' {
			return false // malformed: no match rather than a guess
		}
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		if list[:end+2] == want {
			return true
		}
		list = list[end+2:]
	}
	return false
}
