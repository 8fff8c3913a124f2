package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
)

// loadTemplates parses each page template together with the shared layout
// and partials, so every page can fill the same blocks.
func loadTemplates(fsys fs.FS, fm template.FuncMap) (map[string]*template.Template, error) {
	shared, err := fs.Glob(fsys, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	all, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, p := range all {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		files := append(append([]string{}, shared...), p)
		t, err := template.New(name).Funcs(fm).ParseFS(fsys, files...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"safeURL":    safeURL,
		"host":       hostOf,
		"timeISO":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"timeHuman":  humanTime,
		"paragraphs": paragraphs,
		"leadHTML":   s.leadHTML,
		"join":       strings.Join,
		"add":        func(a, b int) int { return a + b },
		"roles":      model.Roles,
		"asset":      s.assets.url,
		"anchorIDs":  anchorIDs,
		"deskTime":   s.deskTime,
		"deskClock":  s.deskClock,
		"slug":       slug,
	}
}

// anchorIDs gives each section an id for in-page links: valid HTML (no
// spaces), readable in the address bar ("s-terrorism-security") and unique
// on the page even when two names slug alike ("Cyber" and "cyber!").
func anchorIDs(sections []curate.Section) map[string]string {
	ids := make(map[string]string, len(sections))
	used := map[string]bool{}
	for _, sec := range sections {
		base := "s-" + slug(sec.Name)
		id := base
		for n := 2; used[id]; n++ {
			id = base + "-" + strconv.Itoa(n)
		}
		used[id] = true
		ids[sec.Name] = id
	}
	return ids
}

// slug lowercases s and joins its runs of letters and digits with "-";
// "section" stands in when nothing is left.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "section"
	}
	return b.String()
}

// safeURL lets only absolute http(s) links through; anything else (such as
// javascript: from a hostile feed) becomes an inert "#".
func safeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "#"
	}
	return u.String()
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

func humanTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("Mon 2 Jan 2006, 15:04 MST")
}

// paragraphs splits stored plain text into paragraphs for <p> elements.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// render executes a page into a buffer first so a template error becomes a
// clean 500 rather than half a page.
func (s *Server) render(c *gin.Context, status int, page string, data gin.H) {
	body, err := s.renderPage(c, page, data)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", body)
}

// renderPage executes a page with the data every page gets.
func (s *Server) renderPage(c *gin.Context, page string, data gin.H) ([]byte, error) {
	t, ok := s.pages[page]
	if !ok {
		return nil, fmt.Errorf("no template %q", page)
	}
	if data == nil {
		data = gin.H{}
	}
	data["CSRF"] = csrfToken(c)
	data["Path"] = c.Request.URL.Path
	data["SiteTitle"] = s.cfg.Settings.Briefing.Title
	data["Public"] = s.cfg.Settings.Briefing.Public
	// Nav links follow the role; the routes enforce it regardless.
	if u := currentUser(c); u != nil {
		data["Me"] = u
		data["IsCurator"] = u.Role.AtLeast(model.RoleCurator)
		data["IsAdmin"] = u.Role.AtLeast(model.RoleAdmin)
		if u.Role.AtLeast(model.RoleAdmin) {
			// Admins see on every page that a hand edit of sources.yaml was refused.
			data["SourcesFileError"] = s.fileErrorText()
		}
		if u.Role.AtLeast(model.RoleCurator) {
			s.addFailingSources(c, data)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

// errorPage answers with a short page in the site layout and stops the
// handler chain.
func (s *Server) errorPage(c *gin.Context, status int, title, msg string) {
	s.render(c, status, "error", gin.H{"Title": title, "Message": msg, "Status": status})
	c.Abort()
}

func (s *Server) fail(c *gin.Context, err error) {
	s.log.Error("request failed", "path", c.Request.URL.Path, "err", err)
	if c.GetString(kindKey) == kindAPI {
		s.apiError(c, http.StatusInternalServerError, "internal", "internal error; it has been logged")
		return
	}
	c.String(http.StatusInternalServerError, "Internal error. It has been logged.")
	c.Abort()
}
