package web

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
)

// feedSize is how many approved items the outgoing feeds carry.
const feedSize = 100

// feedTokenKey holds the feed token that identified the reader.
const feedTokenKey = "clipsheet.feedtoken"

// feedChallenge is WWW-Authenticate on a feed's 401: feeds take no
// Authorization header but a per-user token in ?token= (on /account).
const feedChallenge = `FeedToken realm="clipsheet", param="token"`

// sessionChallenge is WWW-Authenticate on the 401s of the pages (a wrong
// password, a page script whose session ended): they sign in with the
// form at /login, which sets the session cookie. RFC 9110 requires a
// challenge on every 401; this one names the form.
const sessionChallenge = `Cookie realm="clipsheet", form-action="/login"`

// feedAuth lets feed readers, which cannot sign in, identify with the
// per-user token in ?token=. A bad token is refused only when the briefing
// is private; on a public briefing it changes nothing.
func (s *Server) feedAuth(c *gin.Context) {
	c.Set(kindKey, kindFeed)
	tok := c.Query("token")
	if tok == "" {
		c.Next()
		return
	}
	u, err := s.auth.FeedUser(c.Request.Context(), tok)
	switch {
	case err == nil:
		c.Set(userKey, u)
		c.Set(feedTokenKey, tok)
	case errors.Is(err, auth.ErrNoSession):
		if !s.cfg.Settings.Briefing.Public {
			c.Header("WWW-Authenticate", feedChallenge+`, error="invalid_token"`)
			c.String(http.StatusUnauthorized, "This feed token is not valid any more: copy the feed URL from your account page again.")
			c.Abort()
			return
		}
	default:
		s.fail(c, err)
		return
	}
	c.Next()
}

// feedBase is the root of feed ids and links: base_url, else the
// configured listen address. Never the request's Host or
// X-Forwarded-Host: an atom:id must not change (RFC 4287 §4.2.6), and
// whoever sends the request must not choose where readers are sent.
func (s *Server) feedBase() string {
	if b := strings.TrimRight(s.cfg.Settings.BaseURL, "/"); b != "" {
		return b
	}
	scheme, defaultPort := "http", "80"
	if s.cfg.Settings.TLS.Cert != "" {
		scheme, defaultPort = "https", "443"
	}
	host, port, err := net.SplitHostPort(s.cfg.Settings.Addr)
	if err != nil {
		return scheme + "://" + s.cfg.Settings.Addr
	}
	// Listening on every interface names no host; localhost is the one
	// that certainly reaches it (base_url is the fix for other readers).
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if port != defaultPort {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

// feedAudience is whose copy a feed document is: everyone's on a public
// briefing, else the token holder's (the self link carries the token).
func (s *Server) feedAudience(c *gin.Context) (string, bool) {
	if s.cfg.Settings.Briefing.Public {
		return "", true
	}
	if u := currentUser(c); u != nil {
		return u.Name, false
	}
	return "", false
}

// baseURL is the public root of the site as the account page shows it:
// base_url when configured, else the address the user reached.
func (s *Server) baseURL(c *gin.Context) string {
	if b := strings.TrimRight(s.cfg.Settings.BaseURL, "/"); b != "" {
		return b
	}
	scheme := "http"
	if s.isTLS(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}
