package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

const queuePageSize = 100

func (s *Server) briefingPage(c *gin.Context) {
	b, err := s.desk.Briefing(c.Request.Context(), s.sections(), 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := s.renderPage(c, "briefing", gin.H{"Title": s.cfg.Settings.Briefing.Title, "Briefing": b})
	if err != nil {
		s.fail(c, err)
		return
	}
	// The page names the signed-in user and carries their CSRF token: it
	// is theirs alone, for their browser to revalidate.
	who := ""
	if u := currentUser(c); u != nil {
		who = u.Name
	}
	s.sendValidated(c, "text/html; charset=utf-8", body, who, false)
}

func (s *Server) queuePage(c *gin.Context) {
	status := model.Status(c.DefaultQuery("status", string(model.StatusQueued)))
	if !status.Valid() {
		status = model.StatusQueued
	}
	page, _ := strconv.Atoi(c.Query("page"))
	if page < 1 {
		page = 1
	}
	f := store.ItemFilter{
		Status:  status,
		Section: c.Query("section"),
		Source:  c.Query("source"),
		Query:   c.Query("q"),
		Limit:   queuePageSize + 1,
		Offset:  (page - 1) * queuePageSize,
	}
	items, err := s.desk.Items(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	more := len(items) > queuePageSize
	if more {
		items = items[:queuePageSize]
	}
	byStatus, err := s.desk.Counts(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	counts := map[string]int{}
	for k, v := range byStatus {
		counts[string(k)] = v
	}
	var sources []string
	for _, src := range s.cfg.Sources().Sources {
		sources = append(sources, src.Name)
	}
	s.render(c, http.StatusOK, "queue", gin.H{
		"Title":    "Queue",
		"Items":    items,
		"Counts":   counts,
		"Status":   string(status),
		"Filter":   f,
		"Sections": s.sections(),
		"Sources":  sources,
		"Page":     page,
		"More":     more,
		"Return":   c.Request.URL.RequestURI(),
	})
}

// decideHandler approves, rejects or re-queues an item. Script-driven
// requests (Accept: application/json) get JSON; plain forms are redirected
// back to the page they came from.
func (s *Server) decideHandler(status model.Status) gin.HandlerFunc {
	return func(c *gin.Context) {
		it, err := s.decide(c, c.Param("id"), status)
		s.afterChange(c, it, err)
	}
}

// decideAudit maps decisions to audit actions.
var decideAudit = map[model.Status]string{
	model.StatusApproved: model.AuditItemApprove,
	model.StatusRejected: model.AuditItemReject,
	model.StatusQueued:   model.AuditItemRequeue,
}

// decide records a decision on the item and in the audit log.
func (s *Server) decide(c *gin.Context, id string, status model.Status) (*model.Item, error) {
	a := s.actor(c)
	it, err := s.desk.Decide(c.Request.Context(), id, status, a.Name)
	if err != nil {
		return nil, err
	}
	return it, s.auth.Record(c.Request.Context(), a, decideAudit[status], it.ID, it.Title)
}

// apply records an edit on the item and in the audit log, naming the
// fields that changed.
func (s *Server) apply(c *gin.Context, id string, e curate.Edit) (*model.Item, error) {
	a := s.actor(c)
	it, err := s.desk.Apply(c.Request.Context(), id, e, a.Name, s.sections())
	if err != nil {
		return nil, err
	}
	return it, s.auth.Record(c.Request.Context(), a, model.AuditItemEdit, it.ID, strings.Join(editFields(e), ","))
}

func (s *Server) editHandler(c *gin.Context) {
	var e curate.Edit
	for _, field := range []struct {
		name string
		dst  **string
	}{{"title", &e.Title}, {"lead", &e.Lead}, {"byline", &e.Byline}, {"section", &e.Section}, {"note", &e.Note}} {
		if v, ok := c.GetPostForm(field.name); ok {
			*field.dst = &v
		}
	}
	if v, ok := c.GetPostForm("tags"); ok {
		tags := strings.Split(v, ",")
		e.Tags = &tags
	}
	it, err := s.apply(c, c.Param("id"), e)
	if err == nil && c.PostForm("then") != "" {
		it, err = s.decide(c, it.ID, model.Status(c.PostForm("then")))
	}
	s.afterChange(c, it, err)
}

func (s *Server) afterChange(c *gin.Context, it *model.Item, err error) {
	wantsJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	switch {
	case errors.Is(err, store.ErrNotFound):
		if wantsJSON {
			c.JSON(http.StatusNotFound, gin.H{"error": gin.H{"code": "not_found", "message": "no such item"}})
			return
		}
		c.String(http.StatusNotFound, "No such item")
		return
	case errors.Is(err, curate.ErrInvalid):
		if wantsJSON {
			c.JSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{"code": "invalid", "message": err.Error()}})
			return
		}
		c.String(http.StatusUnprocessableEntity, "%s", err.Error())
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	if wantsJSON {
		c.JSON(http.StatusOK, gin.H{"id": it.ID, "status": it.Status, "title": it.Title, "lead": it.Lead})
		return
	}
	c.Redirect(http.StatusSeeOther, safeReturn(c.PostForm("return"), "/queue"))
}

// safeReturn only follows local paths, so a crafted form cannot bounce the
// curator to another site.
func safeReturn(raw, fallback string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(raw, "//") {
		return fallback
	}
	return u.RequestURI()
}

// editFields names the fields an edit sets, for the audit log.
func editFields(e curate.Edit) []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"title", e.Title != nil}, {"lead", e.Lead != nil}, {"byline", e.Byline != nil}, {"section", e.Section != nil}, {"tags", e.Tags != nil}, {"note", e.Note != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}
