package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
)

const (
	csrfCookie    = "clipsheet_csrf"
	sessionCookie = "clipsheet_session"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"

	// Context keys.
	csrfKey    = "clipsheet.csrf"
	userKey    = "clipsheet.user"
	sessionKey = "clipsheet.session"
	kindKey    = "clipsheet.kind" // kindPage, kindAPI or kindFeed

	kindPage = "page"
	kindAPI  = "api"
	kindFeed = "feed"

	// maxBody caps request bodies: forms and API edits are small.
	maxBody = 1 << 20
)

// contentSecurityPolicy allows only this origin's scripts and styles: no
// inline script, no framing, no plugins, forms only to ourselves.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if s.isTLS(c) {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	// Pages, feeds and API answers may be private to the signed-in user;
	// no shared or browser cache may keep them. Static files may be cached.
	if !strings.HasPrefix(c.Request.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	if c.Request.ContentLength > maxBody {
		s.tooLarge(c)
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	}
	c.Next()
}

// fromTrustedProxy reports whether the TCP peer is one of trusted_proxies.
func (s *Server) fromTrustedProxy(c *gin.Context) bool {
	if len(s.proxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(c.Request.RemoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// isTLS reports whether the client reached us over HTTPS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto. The header
// from anyone else is ignored, as it is trivial to forge.
func (s *Server) isTLS(c *gin.Context) bool {
	if c.Request.TLS != nil {
		return true
	}
	if !s.fromTrustedProxy(c) {
		return false
	}
	// A proxy that appends rather than replaces leaves a list; the last
	// entry is the one our trusted proxy wrote, earlier ones may be the
	// client's own.
	proto := c.GetHeader("X-Forwarded-Proto")
	if i := strings.LastIndexByte(proto, ','); i >= 0 {
		proto = proto[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// clientIP is the address used for rate limits and the audit log: gin
// reads X-Forwarded-For only when the peer is a trusted proxy (the engine
// is given trusted_proxies), walking from the right past trusted hops.
func (s *Server) clientIP(c *gin.Context) string { return c.ClientIP() }

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookieName uses the __Host- prefix over HTTPS: browsers then refuse the
// cookie unless it is Secure, host-only and Path=/, so a sibling subdomain
// cannot plant or overwrite it.
func (s *Server) cookieName(c *gin.Context, base string) string {
	if s.isTLS(c) {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(c *gin.Context, base, value string, maxAge time.Duration, mode http.SameSite) {
	ck := &http.Cookie{
		Name: s.cookieName(c, base), Value: value, Path: "/", HttpOnly: true,
		Secure: s.isTLS(c), SameSite: mode, MaxAge: int(maxAge.Seconds()),
	}
	if value == "" {
		ck.MaxAge = -1
	}
	http.SetCookie(c.Writer, ck)
}

// identify resolves the session cookie, if any, into the signed-in user.
// A stale cookie is cleared so the browser stops sending it.
func (s *Server) identify(c *gin.Context) {
	c.Set(kindKey, kindPage)
	tok, err := c.Cookie(s.cookieName(c, sessionCookie))
	if err != nil || tok == "" {
		c.Next()
		return
	}
	u, ss, err := s.auth.Session(c.Request.Context(), tok)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		s.setCookie(c, sessionCookie, "", 0, http.SameSiteLaxMode)
	case err != nil:
		s.fail(c, err)
		return
	default:
		c.Set(userKey, u)
		c.Set(sessionKey, ss)
	}
	c.Next()
}

func currentUser(c *gin.Context) *model.User {
	v, _ := c.Get(userKey)
	u, _ := v.(*model.User)
	return u
}

func currentSession(c *gin.Context) *model.Session {
	v, _ := c.Get(sessionKey)
	ss, _ := v.(*model.Session)
	return ss
}

// actor names who made a change, for the audit log and the items'
// decided_by / edited_by.
func (s *Server) actor(c *gin.Context) auth.Actor {
	a := auth.Actor{Name: "anonymous", IP: s.clientIP(c)}
	if u := currentUser(c); u != nil {
		a.Name = u.Name
	}
	return a
}

// requireRole lets the request through only for a signed-in user with at
// least role min. Anonymous page requests are sent to the login page; API
// and feed requests get 401. Works on page and API groups alike.
func (s *Server) requireRole(min model.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		if u == nil {
			s.unauthenticated(c)
			return
		}
		if !u.Role.AtLeast(min) {
			s.denied(c, "your role ("+string(u.Role)+") cannot do this; it needs "+string(min))
			return
		}
		c.Next()
	}
}

// briefingAccess guards what readers read: open to all when
// briefing.public is true, else for signed-in readers and up.
func (s *Server) briefingAccess(c *gin.Context) {
	if s.cfg.Settings.Briefing.Public {
		c.Next()
		return
	}
	s.requireRole(model.RoleReader)(c)
}

func (s *Server) unauthenticated(c *gin.Context) {
	switch c.GetString(kindKey) {
	case kindAPI:
		c.Header("WWW-Authenticate", `Bearer realm="clipsheet"`)
		s.apiError(c, http.StatusUnauthorized, "unauthenticated", "sign in or send Authorization: Bearer <token>")
	case kindFeed:
		c.Header("WWW-Authenticate", feedChallenge)
		c.String(http.StatusUnauthorized, "This feed needs a feed token: copy the feed URL from your account page.")
		c.Abort()
	default:
		// The queue script asks for JSON; a redirect would be followed to
		// the login page and look like success.
		if strings.Contains(c.GetHeader("Accept"), "application/json") {
			c.Header("WWW-Authenticate", sessionChallenge)
			s.apiError(c, http.StatusUnauthorized, "unauthenticated", "your session ended; sign in again")
			return
		}
		next := "/"
		if c.Request.Method == http.MethodGet {
			next = c.Request.URL.RequestURI()
		}
		c.Redirect(http.StatusFound, "/login?next="+url.QueryEscape(next))
		c.Abort()
	}
}

func (s *Server) denied(c *gin.Context, msg string) {
	if c.GetString(kindKey) == kindAPI {
		s.apiError(c, http.StatusForbidden, "forbidden", msg)
		return
	}
	s.forbidden(c, msg)
}

// csrfExpected is the token a state-changing request must carry: the
// session's own token when signed in (bound to the session, so it dies with
// it), else the pre-session double-submit cookie (login and setup forms).
func csrfExpected(c *gin.Context) string {
	if ss := currentSession(c); ss != nil {
		return ss.CSRF
	}
	return c.GetString(csrfKey)
}

// csrfToken is what templates put into forms.
func csrfToken(c *gin.Context) string { return csrfExpected(c) }

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin checks the Origin header, when the browser sends one, against
// our host. It is a second line behind the token. Behind a reverse proxy
// the Host we see may be the proxy's upstream name, so the public host
// also counts: base_url's, and X-Forwarded-Host from a trusted proxy.
func (s *Server) sameOrigin(c *gin.Context) bool {
	origin := c.GetHeader("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	ours := []string{c.Request.Host}
	if b, err := url.Parse(s.cfg.Settings.BaseURL); err == nil && b.Host != "" {
		ours = append(ours, b.Host)
	}
	if fh := c.GetHeader("X-Forwarded-Host"); fh != "" && s.fromTrustedProxy(c) {
		first, _, _ := strings.Cut(fh, ",")
		ours = append(ours, strings.TrimSpace(first))
	}
	for _, h := range ours {
		if strings.EqualFold(u.Host, h) {
			return true
		}
	}
	return false
}

// csrf guards page forms. Signed-in users must echo their session's token;
// before sign-in a random token in a SameSite=Strict cookie must come back
// in the form (double submit). Cross-site pages can neither read the
// cookie nor the page holding the token.
func (s *Server) csrf(c *gin.Context) {
	if currentSession(c) == nil {
		token, err := c.Cookie(s.cookieName(c, csrfCookie))
		if err != nil || len(token) < 32 {
			token = randomToken(32)
			s.setCookie(c, csrfCookie, token, 30*24*time.Hour, http.SameSiteStrictMode)
		}
		c.Set(csrfKey, token)
	}
	if !unsafeMethod(c.Request.Method) {
		c.Next()
		return
	}
	if !s.checkCSRF(c) {
		return
	}
	c.Next()
}

// checkCSRF verifies origin and token of an unsafe request, answering 403
// itself when they fail.
func (s *Server) checkCSRF(c *gin.Context) bool {
	if !s.sameOrigin(c) {
		s.denied(c, "cross-origin request refused")
		return false
	}
	// A form (say an OPML upload) over maxBody, sent without a length,
	// loses its token with the rest of the body: say so rather than blame
	// the token, or let the handler see empty fields.
	if c.GetString(kindKey) != kindAPI && formTooLarge(c.Request) {
		s.tooLarge(c)
		return false
	}
	want := csrfExpected(c)
	sent := c.GetHeader(csrfHeader)
	if sent == "" && c.GetString(kindKey) != kindAPI {
		sent = c.PostForm(csrfField)
	}
	if want == "" || sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		s.denied(c, "missing or wrong CSRF token; reload the page and try again")
		return false
	}
	return true
}

func (s *Server) forbidden(c *gin.Context, msg string) {
	s.errorPage(c, http.StatusForbidden, "Forbidden", msg)
}

func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	// Path only: query strings carry feed and setup tokens.
	s.log.Debug("http", "method", requestMethod(c.Request), "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "dur", time.Since(start))
}
