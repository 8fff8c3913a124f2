package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

const (
	csrfCookie = "clipsheet_csrf"
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	csrfKey    = "csrf"
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
	c.Next()
}

// isTLS reports whether the client reached us over HTTPS, directly or
// through a trusted proxy that says so.
func (s *Server) isTLS(c *gin.Context) bool {
	if c.Request.TLS != nil {
		return true
	}
	return len(s.cfg.Settings.TrustedProxies) > 0 && strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") && c.ClientIP() != remoteIP(c)
}

func remoteIP(c *gin.Context) string {
	ip, _, _ := strings.Cut(c.Request.RemoteAddr, ":")
	if strings.HasPrefix(c.Request.RemoteAddr, "[") {
		ip = strings.TrimPrefix(strings.SplitN(c.Request.RemoteAddr, "]", 2)[0], "[")
	}
	return ip
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrf implements the double-submit pattern: a random per-browser token in
// a SameSite=Strict cookie must come back in the form field or header of
// every state-changing request. Cross-site pages can neither read the
// cookie nor set the field. The Origin header, when sent, must be ours.
func (s *Server) csrf(c *gin.Context) {
	token, err := c.Cookie(csrfCookie)
	if err != nil || len(token) < 32 {
		token = randomToken(32)
		http.SetCookie(c.Writer, &http.Cookie{
			Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
			Secure: s.isTLS(c), SameSite: http.SameSiteStrictMode, MaxAge: int((30 * 24 * time.Hour).Seconds()),
		})
	}
	c.Set(csrfKey, token)
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, c.Request.Host) {
			s.forbidden(c, "cross-origin request refused")
			return
		}
	}
	sent := c.GetHeader(csrfHeader)
	if sent == "" {
		sent = c.PostForm(csrfField)
	}
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		s.forbidden(c, "missing or wrong CSRF token; reload the page and try again")
		return
	}
	c.Next()
}

func csrfToken(c *gin.Context) string {
	return c.GetString(csrfKey)
}

func (s *Server) forbidden(c *gin.Context, msg string) {
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.String(http.StatusForbidden, "Forbidden: %s", msg)
	c.Abort()
}

func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.Debug("http", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "dur", time.Since(start))
}
