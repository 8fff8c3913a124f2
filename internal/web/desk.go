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
	s.render(c, http.StatusOK, "briefing", gin.H{"Title": s.cfg.Settings.Briefing.Title, "Briefing": b})
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
		it, err := s.desk.Decide(c.Request.Context(), c.Param("id"), status, s.actor(c))
		s.afterChange(c, it, err)
	}
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
	it, err := s.desk.Apply(c.Request.Context(), c.Param("id"), e, s.actor(c), s.sections())
	if err == nil && c.PostForm("then") != "" {
		it, err = s.desk.Decide(c.Request.Context(), it.ID, model.Status(c.PostForm("then")), s.actor(c))
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

// actor names who made a change; accounts replace this later.
func (s *Server) actor(c *gin.Context) string {
	if v := c.GetString("user"); v != "" {
		return v
	}
	return "anonymous"
}
