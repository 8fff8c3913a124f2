package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// isAPIPath is where errors are answered in the API's JSON shape: the
// API, its root and anything else under /api.
func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }

// notFound is the site's one 404: JSON under /api, else the page.
func (s *Server) notFound(c *gin.Context) {
	if isAPIPath(c.Request.URL.Path) {
		s.apiError(c, http.StatusNotFound, "not_found", "no such endpoint")
		return
	}
	s.errorPage(c, http.StatusNotFound, "Page not found", "There is no page at this address. The briefing is at the top of the site.")
}

// noRoute answers paths no route has. A page path with a stray trailing
// slash is sent to the page (gin's own redirect is off: under /api it
// sent DELETE /api/v1/sources to /api/v1/sources/ and a 404).
func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if !isAPIPath(p) && c.Request.Method == http.MethodGet && len(p) > 1 && strings.HasSuffix(p, "/") {
		if trimmed := strings.TrimRight(p, "/"); s.pagePaths[trimmed] {
			target := trimmed
			if q := c.Request.URL.RawQuery; q != "" {
				target += "?" + q
			}
			c.Redirect(http.StatusMovedPermanently, target)
			c.Abort()
			return
		}
	}
	s.notFound(c)
}

// noMethod answers 405. gin has set Allow from the routes; a path with
// GET also answers HEAD (ServeHTTP), so Allow says so.
func (s *Server) noMethod(c *gin.Context) {
	h := c.Writer.Header()
	allow := strings.Split(h.Get("Allow"), ", ")
	hasGet, hasHead := false, false
	for _, m := range allow {
		hasGet = hasGet || m == http.MethodGet
		hasHead = hasHead || m == http.MethodHead
	}
	if hasGet && !hasHead {
		h.Set("Allow", strings.Join(append(allow, http.MethodHead), ", "))
	}
	msg := requestMethod(c.Request) + " is not allowed here; allowed: " + h.Get("Allow")
	if isAPIPath(c.Request.URL.Path) {
		s.apiError(c, http.StatusMethodNotAllowed, "method_not_allowed", msg)
		return
	}
	s.errorPage(c, http.StatusMethodNotAllowed, "Method not allowed", msg+".")
}

// tooLarge answers 413 for a body over maxBody.
func (s *Server) tooLarge(c *gin.Context) {
	if isAPIPath(c.Request.URL.Path) {
		s.apiError(c, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is larger than the %d MB this server accepts", maxBody>>20))
		return
	}
	s.errorPage(c, http.StatusRequestEntityTooLarge, "Too large", fmt.Sprintf("The form or file sent is larger than the %d MB this server accepts.", maxBody>>20))
}

// formTooLarge parses a form body (URL-encoded or multipart) and reports
// whether it ran into the maxBody limit. gin's PostForm swallows that
// error and would leave an empty form, which then reads as a missing CSRF
// token or empty fields.
func formTooLarge(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "multipart/form-data":
		err = r.ParseMultipartForm(32 << 20)
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	default:
		return false
	}
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// setupGate makes /setup the ordinary 404 page unless the one-time setup
// link is live (no admin yet, and the right token), before the CSRF check
// so that probing it tells nothing.
func (s *Server) setupGate(c *gin.Context) {
	tok := c.Query("token")
	if c.Request.Method == http.MethodPost {
		tok = c.PostForm("token")
	}
	if !s.auth.SetupOpen(c.Request.Context(), tok) {
		s.notFound(c)
		return
	}
	c.Next()
}
