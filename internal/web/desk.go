package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
	"github.com/clipsheet/clipsheet/internal/story"
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
	s.renderQueue(c, http.StatusOK, c.Request.URL.Query(), c.Request.URL.RequestURI(), nil)
}

// renderQueue renders the queue tab and filter that q selects; ret is
// where its forms return to, and notice, when set, says that a form was
// refused because someone else changed the item first.
func (s *Server) renderQueue(c *gin.Context, code int, q url.Values, ret string, notice *staleNotice) {
	status := model.Status(q.Get("status"))
	if !status.Valid() {
		status = model.StatusQueued
	}
	f := store.ItemFilter{
		Status:  status,
		Section: q.Get("section"),
		Source:  q.Get("source"),
		Query:   q.Get("q"),
		Limit:   queuePageSize,
		After:   q.Get("after"),
	}
	page, err := s.desk.Page(c.Request.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		// A mangled "Older items" link: start from the newest.
		f.After = ""
		page, err = s.desk.Page(c.Request.Context(), f)
	}
	if errors.Is(err, store.ErrBadQuery) {
		// Punctuation alone, or a prefix of every word: nothing matches.
		page, err = &store.Page{}, nil
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	items, versions, err := s.storyCards(c, page.Items, status)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.statusCounts(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var sources []string
	for _, src := range s.cfg.Sources().Sources {
		sources = append(sources, src.Name)
	}
	s.render(c, code, "queue", gin.H{
		"Title":    "Queue",
		"Items":    items,
		"Counts":   counts,
		"Status":   string(status),
		"Filter":   f,
		"Filtered": f.Query != "" || f.Section != "" || f.Source != "",
		"Sections": s.sections(),
		"Sources":  sources,
		"Next":     page.Next,
		"Versions": versions,
		"Deeper":   f.After != "",
		"Return":   ret,
		"Notice":   notice,
	})
}

// statusCounts is the number of items on each queue tab, by status name.
func (s *Server) statusCounts(c *gin.Context) (map[string]int, error) {
	byStatus, err := s.desk.Counts(c.Request.Context())
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, st := range []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected} {
		counts[string(st)] = byStatus[st]
	}
	return counts, nil
}

// decideHandler approves, rejects or re-queues an item. Script-driven
// requests (Accept: application/json) get JSON; plain forms are redirected
// back to the page they came from.
func (s *Server) decideHandler(status model.Status) gin.HandlerFunc {
	return func(c *gin.Context) {
		version, err := formVersion(c)
		var it *model.Item
		if err == nil {
			it, err = s.decide(c, c.Param("id"), status, version)
		}
		s.afterChange(c, it, err)
	}
}

// decideAudit maps decisions to audit actions.
var decideAudit = map[model.Status]string{
	model.StatusApproved: model.AuditItemApprove,
	model.StatusRejected: model.AuditItemReject,
	model.StatusQueued:   model.AuditItemRequeue,
}

// decide records a decision on the item and in the audit log. version is
// the item's version the curator decided on (0: any).
func (s *Server) decide(c *gin.Context, id string, status model.Status, version int64) (*model.Item, error) {
	a := s.actor(c)
	ctx := c.Request.Context()
	if status == model.StatusApproved {
		// The story's other queued versions go with it, as duplicates.
		it, dups, err := s.desk.ApproveVersion(ctx, id, a.Name, version)
		if err != nil {
			return nil, err
		}
		if err := s.auth.Record(ctx, a, decideAudit[status], it.ID, it.Title); err != nil {
			return it, err
		}
		for _, d := range dups {
			if err := s.auth.Record(ctx, a, model.AuditItemDuplicate, d.ID, "duplicate of "+it.ID); err != nil {
				return it, err
			}
		}
		return it, nil
	}
	it, err := s.desk.DecideIf(ctx, id, status, a.Name, version)
	if err != nil {
		return nil, err
	}
	return it, s.auth.Record(ctx, a, decideAudit[status], it.ID, it.Title)
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
	var it *model.Item
	var err error
	if e.Version, err = formVersion(c); err == nil {
		it, err = s.apply(c, c.Param("id"), e)
	}
	if err == nil && c.PostForm("then") != "" {
		it, err = s.decide(c, it.ID, model.Status(c.PostForm("then")), it.Version)
	}
	s.afterChange(c, it, err)
}

func (s *Server) afterChange(c *gin.Context, it *model.Item, err error) {
	wantsJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	var stale *curate.StaleError
	switch {
	case errors.Is(err, store.ErrNotFound):
		if wantsJSON {
			c.JSON(http.StatusNotFound, gin.H{"error": gin.H{"code": "not_found", "message": "no such item"}})
			return
		}
		c.String(http.StatusNotFound, "No such item")
		return
	case errors.As(err, &stale):
		if wantsJSON {
			s.staleJSON(c, stale.Current)
			return
		}
		s.staleForm(c, stale.Current)
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
		// The tab counts come along so the page can show them without a reload.
		c.JSON(http.StatusOK, gin.H{"id": it.ID, "status": it.Status, "title": it.Title, "lead": it.Lead,
			"version": it.Version, "counts": s.countsOrNil(c)})
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

// versionView is one other version of a story, as its card lists it.
type versionView struct {
	*model.Item
	Differs int // per cent of the text that differs from the card's item
}

// storyCards makes one card per story of a page: the first item listed of
// each story stands for it, and the story's other versions are listed in
// its card (by the item's ID), however they are filed; on the queue's
// tab, versions of the same story further down the page are dropped.
func (s *Server) storyCards(c *gin.Context, page []*model.Item, status model.Status) ([]*model.Item, map[string][]versionView, error) {
	seen := map[string]bool{}
	var items []*model.Item
	for _, it := range page {
		if status == model.StatusQueued && seen[it.StoryID()] {
			continue
		}
		seen[it.StoryID()] = true
		items = append(items, it)
	}
	others, err := s.desk.Versions(c.Request.Context(), items)
	if err != nil {
		return nil, nil, err
	}
	views := map[string][]versionView{}
	for _, it := range items {
		if len(others[it.ID]) == 0 {
			continue
		}
		p := story.Fingerprint(it)
		for _, v := range others[it.ID] {
			m := story.Compare(p, story.Fingerprint(v))
			views[it.ID] = append(views[it.ID], versionView{Item: v, Differs: int(m.Differs*100 + 0.5)})
		}
	}
	return items, views, nil
}
