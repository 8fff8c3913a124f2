package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// SourceTester fetches a source or a site on demand, for "test before
// save" and "add by URL". *fetch.Fetcher implements it.
type SourceTester interface {
	// Preview returns what the next poll of src would store for its
	// first n entries, storing nothing.
	Preview(ctx context.Context, src config.Source, n int) ([]*model.Item, error)
	// Discover finds the feeds a page offers, or proposes a page source.
	Discover(ctx context.Context, pageURL string) (*fetch.Discovery, error)
}

// SourcePoller asks the running fetcher to poll a source now, for the
// sources page's "Poll now". *fetch.Fetcher implements it.
type SourcePoller interface {
	// PollNow polls the named source at once and returns that poll's
	// result; fetch.ErrNotRunning and fetch.ErrNotPolled say why not.
	PollNow(ctx context.Context, name string) (fetch.Result, error)
}

// SourceAdmin is what the source administration pages and API need. With
// File nil they answer 503: the service runs without an editable file.
type SourceAdmin struct {
	File   *sourcesfile.File
	Tester SourceTester
	// Poller is nil when nothing polls (then "Poll now" says so).
	Poller SourcePoller
}

// Optional store abilities the source pages use; *store.Bolt has both.
type (
	sectionRenamer interface {
		RenameSection(ctx context.Context, old, name string) (int, error)
	}
	sourceRenamer interface {
		RenameSource(ctx context.Context, old, name string) (int, error)
	}
	arrivalReader interface {
		ItemArrivals(ctx context.Context, since time.Time) (map[string][]time.Time, error)
	}
)

// Limits on waiting for publishers from a request handler.
const (
	previewTimeout  = 45 * time.Second
	discoverTimeout = 45 * time.Second
	previewItems    = 5
)

// sourceRoutes registers the source administration pages on admin (the
// admin-only page group, mounted at /admin) and the JSON API on api
// (admin-only, mounted at /api/v1).
func (s *Server) sourceRoutes(admin, api *gin.RouterGroup) {
	admin.GET("/sources", s.sourcesPage)
	admin.GET("/sources.opml", s.sourcesOPML)
	admin.GET("/sources/new", s.sourceNewPage)
	admin.POST("/sources/new", s.sourceNewPost)
	admin.GET("/sources/edit", s.sourceEditPage)
	admin.POST("/sources/edit", s.sourceEditPost)
	admin.POST("/sources/delete", s.sourceDeletePost)
	admin.POST("/sources/toggle", s.sourceTogglePost)
	admin.POST("/sources/moved", s.sourceMovedPost)
	admin.POST("/sources/poll", s.sourcePollPost)
	admin.GET("/sources/sections", s.sectionsPage)
	admin.POST("/sources/sections", s.sectionsPost)
	admin.GET("/sources/import", s.importPage)
	admin.POST("/sources/import", s.importPreviewPost)
	admin.POST("/sources/import/confirm", s.importConfirmPost)

	if f := s.cfg.SourceAdmin.File; f != nil {
		f.OnHandEdit(s.auditHandEdit)
	}

	api.GET("/sources", s.apiSourcesList)
	api.POST("/sources", s.apiSourceCreate)
	api.GET("/sources/*name", s.apiSourceGet)
	api.PUT("/sources/*name", s.apiSourceUpdate)
	api.DELETE("/sources/*name", s.apiSourceDelete)
	api.GET("/sections", s.apiSections)
	api.POST("/sections", s.apiSectionCreate)
	api.GET("/sections/*name", s.apiSectionGet)
	api.PUT("/sections/*name", s.apiSectionUpdate)
	api.DELETE("/sections/*name", s.apiSectionDelete)
}

// sourcesFile returns the editable file, or answers 503 and returns nil.
func (s *Server) sourcesFile(c *gin.Context) *sourcesfile.File {
	f := s.cfg.SourceAdmin.File
	if f == nil {
		c.String(http.StatusServiceUnavailable, "Source administration is not available: the service was started without an editable sources file.")
		c.Abort()
	}
	return f
}

// readSourcesFile returns the editable file and its current content, or
// answers the request itself and reports false.
func (s *Server) readSourcesFile(c *gin.Context) (*sourcesfile.File, *sourcesfile.Snapshot, bool) {
	file := s.sourcesFile(c)
	if file == nil {
		return nil, nil, false
	}
	snap, err := file.Read()
	if err != nil {
		s.fail(c, err)
		return nil, nil, false
	}
	return file, snap, true
}

// fileErrorText is the reason the last hand edit of sources.yaml was
// refused, for the banner on admin pages; "" when all is well.
func (s *Server) fileErrorText() string {
	if f := s.cfg.SourceAdmin.File; f != nil {
		if err := f.LastError(); err != nil {
			return err.Error()
		}
	}
	return ""
}

// sourcesPage lists every source with its health.
func (s *Server) sourcesPage(c *gin.Context) {
	// The table shows the list in force; the one-click buttons edit the
	// file as it is now, so they carry its version.
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.cfg.Sources()
	rows, err := s.sourceRows(c.Request.Context(), list)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := rowFilter{Query: c.Query("q"), Section: c.Query("section"), Health: c.Query("health"), Sort: c.DefaultQuery("sort", "health")}
	counts := map[string]int{}
	moved := 0
	shown := rows[:0:0]
	for _, r := range rows {
		counts[r.Health]++
		if r.MovedTo() != "" {
			moved++
		}
		if f.keep(r) {
			shown = append(shown, r)
		}
	}
	sortRows(shown, f.Sort, list.Sections)
	s.render(c, http.StatusOK, "sources", gin.H{
		"Title":    "Sources",
		"Rows":     shown,
		"Total":    len(rows),
		"Counts":   counts,
		"Moved":    moved,
		"Healths":  []string{healthFailing, healthSilent, healthPending, healthOK, healthDisabled},
		"Filter":   f,
		"Sections": list.Sections,
		"Version":  snap.Hash,
		"Done":     doneMessage(c),
	})
}

// sourceRows joins the list with stored state and item arrivals.
func (s *Server) sourceRows(ctx context.Context, list *config.SourcesFile) ([]*sourceRow, error) {
	now := s.cfg.Now()
	states, err := s.store.ListSourceStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("source states: %w", err)
	}
	byName := make(map[string]*model.SourceState, len(states))
	for _, st := range states {
		byName[st.Name] = st
	}
	var arrivals map[string][]time.Time
	if ar, ok := s.store.(arrivalReader); ok {
		if arrivals, err = ar.ItemArrivals(ctx, now.Add(-healthWindow)); err != nil {
			return nil, err
		}
	}
	rows := make([]*sourceRow, 0, len(list.Sources))
	for _, src := range list.Sources {
		r := &sourceRow{Source: src, Interval: list.EffectiveInterval(src), State: byName[src.Name]}
		assess(r, arrivals[src.Name], now)
		rows = append(rows, r)
	}
	return rows, nil
}

// doneMessage turns the redirect after a successful change into a line
// of text. Only known verbs are shown, so a crafted link cannot put
// arbitrary sentences on the page.
func doneMessage(c *gin.Context) string {
	what := c.Query("name")
	switch c.Query("done") {
	case "added":
		return fmt.Sprintf("Added %q. It is polled shortly.", what)
	case "saved":
		return fmt.Sprintf("Saved %q.", what)
	case "deleted":
		return fmt.Sprintf("Deleted %q. Its stored items are kept.", what)
	case "enabled":
		return fmt.Sprintf("Enabled %q.", what)
	case "disabled":
		return fmt.Sprintf("Disabled %q. It is no longer polled.", what)
	case "moved":
		return fmt.Sprintf("Updated the URL of %q to its new address.", what)
	case "imported":
		if n, err := strconv.Atoi(what); err == nil {
			return fmt.Sprintf("Imported %d source(s).", n)
		}
	case "sections":
		return "Sections saved."
	case "polled":
		if n, err := strconv.Atoi(c.Query("new")); err == nil {
			return fmt.Sprintf("Polled %q just now: %s.", what, countNew(n))
		}
	case "pollfailed":
		return fmt.Sprintf("Polled %q just now: the poll failed; its row below says why.", what)
	case "pollslow":
		return fmt.Sprintf("Asked to poll %q now; the poll is taking a while. Reload this page in a minute to see how it went.", what)
	}
	return ""
}

// doneURL is where a page goes after a change.
func doneURL(path, done, name string) string {
	return path + "?" + url.Values{"done": {done}, "name": {name}}.Encode()
}

// Audit actions of source administration besides model's source.* ones.
const (
	auditSourcePoll    = "source.poll"
	auditSourceImport  = "source.import"
	auditFileReload    = "source.file_reload"  // a hand edit put in force, by auditFileActor
	auditFileRefused   = "source.file_refused" // a hand edit refused, by auditFileActor
	auditSectionAdd    = "section.add"
	auditSectionRename = "section.rename"
	auditSectionMove   = "section.move"
	auditSectionRemove = "section.remove"
)

// auditFileActor is who a hand edit of sources.yaml is recorded as: the
// service only sees the file change, not the person.
const auditFileActor = "sources.yaml (edited on disk)"

// auditHandEdit records a hand edit of sources.yaml that the watcher put
// in force or refused, so the audit log holds every change of the list,
// not only those made through the UI and API.
func (s *Server) auditHandEdit(ev sourcesfile.HandEdit) {
	action, detail := auditFileReload, sourcesfile.Describe(ev.Before, ev.After)
	if ev.Err != nil {
		action, detail = auditFileRefused, "refused, the previous list stays in force: "+ev.Err.Error()
	}
	target := s.cfg.SourceAdmin.File.Path()
	if err := s.auth.Record(context.Background(), auth.Actor{Name: auditFileActor}, action, target, detail); err != nil {
		s.log.Error("audit", "action", action, "err", err)
	}
}

// moveSourceState carries a renamed source's fetch state (validators,
// health counters) and its stored items over to its new name, so the
// rename neither loses its history nor makes the next poll look like a
// first one. It returns how many items moved.
func (s *Server) moveSourceState(ctx context.Context, old, name string) int {
	if sameText(old, name) {
		return 0
	}
	st, err := s.store.SourceState(ctx, old)
	if err == nil && !st.LastAttempt.IsZero() {
		st.Name = name
		err = s.store.PutSourceState(ctx, st)
		if err == nil {
			err = s.store.DeleteSourceState(ctx, old)
		}
	}
	if err != nil {
		s.log.Warn("move fetch state of renamed source", "from", old, "to", name, "err", err)
	}
	rn, ok := s.store.(sourceRenamer)
	if !ok {
		return 0
	}
	moved, err := rn.RenameSource(ctx, old, name)
	if err != nil {
		s.log.Warn("re-file items of renamed source", "from", old, "to", name, "err", err)
	}
	return moved
}

// applyStatus sorts the errors of a file edit into HTTP statuses.
func applyStatus(err error) int {
	var ce *sourcesfile.ConflictError
	var ve *config.ValidationError
	var ie *sourcesfile.InvalidFileError
	switch {
	case errors.As(err, &ce), errors.Is(err, sourcesfile.ErrExists), errors.Is(err, sourcesfile.ErrInUse):
		return http.StatusConflict
	case errors.As(err, &ie):
		// The file on disk is broken (a hand edit); the request is fine
		// but cannot apply until someone fixes the file.
		return http.StatusConflict
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity
	case errors.Is(err, sourcesfile.ErrNotFound):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// countNew says how many new items a poll stored.
func countNew(n int) string {
	switch n {
	case 0:
		return "nothing new"
	case 1:
		return "1 new item"
	}
	return fmt.Sprintf("%d new items", n)
}

// sourcePollPost asks the running fetcher to poll one source now ("Poll
// now" on the sources page), waits for the poll, and goes back to the list
// with its outcome; the source's row shows the details.
func (s *Server) sourcePollPost(c *gin.Context) {
	name := c.PostForm("name")
	src, ok := s.cfg.Sources().Find(name)
	if !ok {
		s.errorPage(c, http.StatusNotFound, "No such source", "There is no source named "+quote(name)+" in force; it may have been deleted meanwhile.")
		return
	}
	poller := s.cfg.SourceAdmin.Poller
	if poller == nil {
		s.errorPage(c, http.StatusServiceUnavailable, "Not polled", "This server does not poll sources, so it cannot poll "+quote(src.Name)+" now.")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), previewTimeout)
	defer cancel()
	res, err := poller.PollNow(ctx, src.Name)
	switch {
	case errors.Is(err, fetch.ErrNotRunning):
		s.errorPage(c, http.StatusServiceUnavailable, "Not polled", "The fetcher is not running in this server (it was started with --no-fetch), so "+quote(src.Name)+" cannot be polled now.")
		return
	case errors.Is(err, fetch.ErrNotPolled):
		s.errorPage(c, http.StatusConflict, "Not polled", quote(src.Name)+" is not being polled: it is disabled, or the change that added it is not in force yet.")
		return
	case errors.Is(err, context.DeadlineExceeded):
		s.audit(c, auditSourcePoll, src.Name, "asked to poll now; still running after "+previewTimeout.String())
		c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "pollslow", src.Name))
		return
	case err != nil:
		s.fail(c, fmt.Errorf("poll %s now: %w", src.Name, err))
		return
	}
	if res.Err != nil {
		s.audit(c, auditSourcePoll, src.Name, "polled now: failed: "+fetch.Explain(res.Err))
		c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "pollfailed", src.Name))
		return
	}
	s.audit(c, auditSourcePoll, src.Name, "polled now: "+countNew(res.NewItems))
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "polled", src.Name)+"&new="+strconv.Itoa(res.NewItems))
}
