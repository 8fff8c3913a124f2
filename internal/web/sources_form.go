package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
	"github.com/clipsheet/clipsheet/internal/store"
)

// sourceForm is the add/edit form: what the person typed, kept verbatim
// when it is shown again with errors, the version of sources.yaml it was
// loaded from, and the results of preview and discovery.
type sourceForm struct {
	New      bool
	OldName  string
	Name     string
	URL      string
	Type     string
	Section  string
	Interval string
	Enabled  bool
	Links    string
	Include  string // one pattern per line
	Exclude  string
	Extract  config.Selectors
	Remove   string // one selector per line
	Version  string

	// Errors are problems by field; "" holds those of the whole file.
	Errors   map[string][]string
	Conflict *sourcesfile.Snapshot
	// ConflictDiff is what changed on disk between the version the form
	// was loaded from and Conflict, when that version is still known.
	ConflictDiff []sourcesfile.DiffLine
	Preview      *previewResult

	DiscoverURL string
	Discovery   *fetch.Discovery
	DiscoverErr string
	// DiscoverDetail is the error behind DiscoverErr, shown on demand.
	DiscoverDetail string
	// DiscoverNote says why discovery filled nothing in, when that is no
	// error.
	DiscoverNote string
	// Polled maps discovered feed URLs that are already sources to the
	// source's name.
	Polled map[string]string
}

// previewResult is what "Preview" shows: the first items the source
// lists, each marked when it is stored already, or why the fetch failed.
type previewResult struct {
	Items []previewItem
	New   int // how many of Items are not stored yet
	// Err says in a sentence why the preview failed; Detail is the error.
	Err    string
	Detail string
	Took   time.Duration
}

// previewItem is one previewed item and, when it is stored already, where
// it is ("already in the queue"); "" for a new one.
type previewItem struct {
	*model.Item
	Stored string
}

// Summary says how many of the previewed items the next poll would store.
func (p *previewResult) Summary() string {
	n, fresh := len(p.Items), p.New
	switch {
	case fresh == n && n == 1:
		return "1 new item: the next poll would store it."
	case fresh == n:
		return fmt.Sprintf("%d new items: the next poll would store all of them.", n)
	case fresh == 0 && n == 1:
		return "Nothing new: this item is already stored, so the next poll would store nothing from it."
	case fresh == 0:
		return fmt.Sprintf("Nothing new: all %d items are already stored, so the next poll would store none of them.", n)
	case fresh == 1:
		return fmt.Sprintf("1 of these %d items is new: the next poll would store it; the others are already stored.", n)
	}
	return fmt.Sprintf("%d of these %d items are new: the next poll would store those %d; the others are already stored.", fresh, n, fresh)
}

// storedMark says where an already stored item is.
func storedMark(st model.Status) string {
	if st == model.StatusQueued {
		return "already in the queue"
	}
	return "already stored (" + string(st) + ")"
}

func formFromSource(src config.Source) sourceForm {
	f := sourceForm{
		OldName: src.Name, Name: src.Name, URL: src.URL, Type: src.KindOrDefault(), Section: src.Section,
		Interval: src.Interval.String(), Enabled: src.IsEnabled(), Links: src.Links,
		Include: strings.Join(src.Include, "\n"), Exclude: strings.Join(src.Exclude, "\n"),
	}
	if src.Extract != nil {
		f.Extract = *src.Extract
		f.Remove = strings.Join(src.Extract.Remove, "\n")
	}
	return f
}

// formFromRequest reads the posted form.
func formFromRequest(c *gin.Context) sourceForm {
	return sourceForm{
		OldName:  c.PostForm("old_name"),
		Name:     c.PostForm("name"),
		URL:      c.PostForm("url"),
		Type:     c.PostForm("type"),
		Section:  c.PostForm("section"),
		Interval: strings.TrimSpace(c.PostForm("interval")),
		Enabled:  c.PostForm("enabled") != "",
		Links:    c.PostForm("links"),
		Include:  c.PostForm("include"),
		Exclude:  c.PostForm("exclude"),
		Extract: config.Selectors{
			Title: c.PostForm("extract_title"), Byline: c.PostForm("extract_byline"), Body: c.PostForm("extract_body"),
			Lead: c.PostForm("extract_lead"), Published: c.PostForm("extract_published"),
		},
		Remove:  c.PostForm("extract_remove"),
		Version: c.PostForm("version"),
	}
}

// source builds the source the form describes. old is the source as it is
// in the file (nil for a new one): an explicit "enabled: true" there is
// kept rather than dropped, so saving an unchanged form changes nothing.
func (f *sourceForm) source(old *config.Source) (config.Source, []config.Problem) {
	var ps []config.Problem
	src := config.Source{
		Name: f.Name, URL: f.URL, Type: f.Type, Section: f.Section, Links: f.Links,
		Include: lines(f.Include), Exclude: lines(f.Exclude),
	}
	if f.Interval != "" {
		d, err := config.ParseDuration(f.Interval)
		if err != nil {
			ps = append(ps, config.Problem{Field: "interval", Message: err.Error()})
		}
		src.Interval = config.Duration(d)
	}
	switch {
	case !f.Enabled:
		src.Enabled = new(false)
	case old != nil && old.Enabled != nil:
		src.Enabled = new(true)
	}
	x := f.Extract
	x.Remove = lines(f.Remove)
	src.Extract = &x
	return sourcesfile.CleanSource(src), ps
}

func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// snapshotList is the list a form edits: the file as on disk, or, when a
// hand edit left it invalid, the list still in force.
func (s *Server) snapshotList(snap *sourcesfile.Snapshot) *config.SourcesFile {
	if snap.Sources != nil {
		return snap.Sources
	}
	return s.cfg.Sources()
}

func (s *Server) renderSourceForm(c *gin.Context, status int, f *sourceForm, list *config.SourcesFile) {
	title := "Edit source"
	if f.New {
		title = "Add a source"
	}
	def := config.DefaultInterval
	if list.Defaults.Interval > 0 {
		def = time.Duration(list.Defaults.Interval)
	}
	s.render(c, status, "sources_form", gin.H{
		"Title":           title,
		"Form":            f,
		"Sections":        list.Sections,
		"DefaultInterval": config.Duration(def).String(),
	})
}

// sourceNewPage shows an empty form, or one filled from query parameters
// (the "use this feed" links of discovery).
func (s *Server) sourceNewPage(c *gin.Context) {
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	f := &sourceForm{New: true, Enabled: true, Version: snap.Hash, Type: config.TypeFeed,
		Name: c.Query("name"), URL: c.Query("url"), Section: c.Query("section"), Links: c.Query("links")}
	if t := c.Query("type"); t != "" {
		f.Type = t
	}
	s.renderSourceForm(c, http.StatusOK, f, s.snapshotList(snap))
}

// sourceDiscover answers "Add by URL": it looks for feeds at the pasted
// address and shows the form filled with the best find. It is a POST (with
// the CSRF check) because it makes the server fetch a URL.
func (s *Server) sourceDiscover(c *gin.Context, file *sourcesfile.File) {
	snap, err := file.Read()
	if err != nil {
		s.fail(c, err)
		return
	}
	f := &sourceForm{New: true, Enabled: true, Version: snap.Hash, Type: config.TypeFeed}
	list := s.snapshotList(snap)
	if raw := strings.TrimSpace(c.PostForm("discover")); raw != "" {
		s.discover(c.Request.Context(), f, raw, list)
	} else {
		f.DiscoverErr = "Enter a site address such as https://example.com/news."
	}
	status := http.StatusOK
	if f.DiscoverErr != "" {
		status = http.StatusUnprocessableEntity
	}
	s.renderSourceForm(c, status, f, list)
}

// discover looks for feeds at the address and fills the form with the
// best find: the first working feed not polled yet, else the first
// working one (saving it then says which source polls it), else the
// proposed page source.
func (s *Server) discover(ctx context.Context, f *sourceForm, raw string, list *config.SourcesFile) {
	bare := !strings.Contains(raw, "://")
	if bare {
		raw = "https://" + raw
	}
	f.DiscoverURL = raw
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		f.DiscoverErr = "Enter a site address such as https://example.com/news."
		return
	}
	tester := s.cfg.SourceAdmin.Tester
	if tester == nil {
		f.DiscoverErr = "Discovery is not available: this server has no fetcher."
		return
	}
	ctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	d, err := tester.Discover(ctx, raw)
	if err != nil && bare && ctx.Err() == nil {
		// "example.com" may be a site without TLS; try plain HTTP too.
		plain := "http://" + strings.TrimPrefix(raw, "https://")
		if d2, err2 := tester.Discover(ctx, plain); err2 == nil {
			d, err, raw = d2, nil, plain
			f.DiscoverURL = raw
		}
	}
	if err != nil {
		f.DiscoverErr, f.DiscoverDetail = "Could not read "+raw+": "+fetch.Explain(err), err.Error()
		return
	}
	f.Discovery = d
	name := d.Title
	if name == "" {
		name = strings.TrimPrefix(u.Hostname(), "www.")
	}
	known := map[string]string{}
	for _, src := range list.Sources {
		known[config.NormalizeSourceURL(src.URL)] = src.Name
	}
	f.Polled = map[string]string{}
	// A feed already polled is never filled in or offered again: adding
	// it would only be refused as a duplicate.
	var pick *fetch.FoundFeed
	working := 0
	for i := range d.Feeds {
		feed := &d.Feeds[i]
		other, polled := known[config.NormalizeSourceURL(feed.URL)]
		if polled {
			f.Polled[feed.URL] = other
		}
		if feed.Error == "" {
			working++
			if pick == nil && !polled {
				pick = feed
			}
		}
	}
	if pick != nil {
		f.Type, f.URL, f.Links = config.TypeFeed, pick.URL, ""
		f.Name = name
		if pick.Title != "" {
			f.Name = pick.Title
		}
		return
	}
	if working > 0 {
		f.DiscoverNote = "Every working feed found on " + raw + " is polled already, so nothing was filled in."
		return
	}
	if d.Page != nil {
		src := d.Page.Source(name, d.URL)
		f.Type, f.URL, f.Links, f.Name = src.Type, src.URL, src.Links, src.Name
		return
	}
	f.DiscoverErr = "No feed found and no list of article links recognised on " + raw + "."
}

func (s *Server) sourceNewPost(c *gin.Context) {
	if c.PostForm("action") == "discover" {
		if file := s.sourcesFile(c); file != nil {
			s.sourceDiscover(c, file)
		}
		return
	}
	f := formFromRequest(c)
	f.New, f.OldName = true, ""
	s.handleSourceForm(c, &f)
}

func (s *Server) sourceEditPage(c *gin.Context) {
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.snapshotList(snap)
	src, ok := list.Find(c.Query("name"))
	if !ok {
		s.errorPage(c, http.StatusNotFound, "No such source", "There is no source named "+quote(c.Query("name"))+" in sources.yaml.")
		return
	}
	f := formFromSource(*src)
	f.Version = snap.Hash
	s.renderSourceForm(c, http.StatusOK, &f, list)
}

func (s *Server) sourceEditPost(c *gin.Context) {
	f := formFromRequest(c)
	if f.OldName == "" {
		f.OldName = c.Query("name")
	}
	s.handleSourceForm(c, &f)
}

// handleSourceForm runs Preview or Save for a posted form.
func (s *Server) handleSourceForm(c *gin.Context, f *sourceForm) {
	file, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.snapshotList(snap)
	var old *config.Source
	if !f.New {
		if old, _ = list.Find(f.OldName); old == nil {
			s.errorPage(c, http.StatusNotFound, "No such source", "There is no source named "+quote(f.OldName)+" in sources.yaml; it may have been deleted meanwhile.")
			return
		}
	}
	src, ps := f.source(old)
	if c.PostForm("action") == "preview" {
		s.previewSource(c, f, src, ps, list)
		return
	}
	ps = append(ps, sourcesfile.CheckSource(list, f.OldName, src)...)
	if len(ps) > 0 {
		f.Errors = sourcesfile.ProblemsByField(ps)
		s.renderSourceForm(c, http.StatusUnprocessableEntity, f, list)
		return
	}
	edit := func(d *sourcesfile.Doc) error { return d.AddSource(src) }
	if !f.New {
		edit = func(d *sourcesfile.Doc) error { return d.UpdateSource(f.OldName, src) }
	}
	if _, err := file.Apply(f.Version, edit); err != nil {
		s.sourceFormFailed(c, f, list, err)
		return
	}
	if f.New {
		s.audit(c, model.AuditSourceAdd, src.Name, src.URL)
		c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "added", src.Name))
		return
	}
	detail := src.URL
	if !sameText(f.OldName, src.Name) {
		moved := s.moveSourceState(c.Request.Context(), f.OldName, src.Name)
		detail = fmt.Sprintf("renamed from %s (%d stored item(s) moved); %s", quote(f.OldName), moved, detail)
	}
	s.audit(c, model.AuditSourceChange, src.Name, detail)
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "saved", src.Name))
}

// sourceFormFailed shows the form again after a refused write, keeping
// what was typed. On a conflict the form carries the version now on disk,
// so saving again applies the change on top of the other edit.
func (s *Server) sourceFormFailed(c *gin.Context, f *sourceForm, list *config.SourcesFile, err error) {
	status := applyStatus(err)
	if status == http.StatusInternalServerError {
		s.fail(c, err)
		return
	}
	var ce *sourcesfile.ConflictError
	var ve *config.ValidationError
	switch {
	case errors.As(err, &ce):
		f.Conflict = ce.Current
		if loaded, ok := s.cfg.SourceAdmin.File.Version(f.Version); ok {
			f.ConflictDiff = sourcesfile.LineDiff(loaded, ce.Current.Data)
		}
		f.Version = ce.Current.Hash
		if ce.Current.Sources != nil {
			list = ce.Current.Sources
		}
	case errors.As(err, &ve):
		f.Errors = map[string][]string{"": problemLines(ve.Problems)}
	default:
		f.Errors = map[string][]string{"": {err.Error()}}
	}
	s.renderSourceForm(c, status, f, list)
}

func problemLines(ps []config.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// previewSource fetches the source as the form describes it, selectors
// and all, and shows what the next poll would store.
func (s *Server) previewSource(c *gin.Context, f *sourceForm, src config.Source, ps []config.Problem, list *config.SourcesFile) {
	// Only what the fetch needs must be right; a missing name or section
	// does not stop a preview.
	for _, p := range config.CheckSource(src, nil) {
		if p.Field != "name" {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		f.Errors = sourcesfile.ProblemsByField(ps)
		s.renderSourceForm(c, http.StatusUnprocessableEntity, f, list)
		return
	}
	f.Preview = s.runPreview(c.Request.Context(), src)
	s.renderSourceForm(c, http.StatusOK, f, list)
}

func (s *Server) runPreview(ctx context.Context, src config.Source) *previewResult {
	tester := s.cfg.SourceAdmin.Tester
	if tester == nil {
		return &previewResult{Err: "Preview is not available: this server has no fetcher."}
	}
	ctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	start := time.Now()
	items, err := tester.Preview(ctx, src, previewItems)
	res := &previewResult{Took: time.Since(start).Round(10 * time.Millisecond)}
	switch {
	case err != nil:
		res.Err, res.Detail = fetch.Explain(err), err.Error()
	case len(items) == 0:
		res.Err = "The source answered but yielded no items: check the URL, the type and, for a page, the links selector."
	}
	for _, it := range items {
		row := previewItem{Item: it}
		if have, err := s.store.GetItem(ctx, it.ID); err == nil {
			row.Stored = storedMark(have.Status)
		} else if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("preview: look up stored item", "id", it.ID, "err", err)
		}
		if row.Stored == "" {
			res.New++
		}
		res.Items = append(res.Items, row)
	}
	return res
}

// sourceDeletePost removes a source from the file. Its stored items stay;
// its fetch state goes, so a source added later under the name starts
// afresh.
func (s *Server) sourceDeletePost(c *gin.Context) {
	name := c.PostForm("name")
	if s.sourceExists(name) && !s.confirmed(c, confirmStep{
		Title:       "Delete the source " + quote(name) + "?",
		Consequence: "It is removed from sources.yaml and no longer polled. Items already stored stay in the queue and briefing. To stop polling for a while, disable it instead.",
		Button:      "Delete the source",
		Back:        "/admin/sources/edit?" + url.Values{"name": {name}}.Encode(),
	}) {
		return
	}
	err := s.editFromList(c, name, func(d *sourcesfile.Doc, _ config.Source) error { return d.DeleteSource(name) })
	if err != nil {
		return
	}
	if err := s.store.DeleteSourceState(c.Request.Context(), name); err != nil {
		s.log.Warn("delete source state", "source", name, "err", err)
	}
	s.audit(c, model.AuditSourceRemove, name, "")
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "deleted", name))
}

// sourceTogglePost enables or disables a source from the list.
func (s *Server) sourceTogglePost(c *gin.Context) {
	name := c.PostForm("name")
	enable := c.PostForm("enabled") == "true"
	err := s.editFromList(c, name, func(d *sourcesfile.Doc, src config.Source) error {
		src.Enabled = new(false)
		if enable {
			src.Enabled = nil
		}
		return d.UpdateSource(name, src)
	})
	if err != nil {
		return
	}
	done := "disabled"
	if enable {
		done = "enabled"
	}
	s.audit(c, model.AuditSourceChange, name, done)
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", done, name))
}

// sourceMovedPost writes the address a source moved to permanently into
// sources.yaml, as the edit form would: the same checks, the same
// comment-keeping write with the version check, the same audit action.
// The posted moved_to must be the move the page showed, so a click on a
// page that is out of date cannot write an address nobody saw.
func (s *Server) sourceMovedPost(c *gin.Context) {
	name, to := c.PostForm("name"), strings.TrimSpace(c.PostForm("moved_to"))
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.snapshotList(snap)
	src, found := list.Find(name)
	if !found {
		s.errorPage(c, http.StatusNotFound, "No such source", "There is no source named "+quote(name)+" in sources.yaml; it may have been deleted meanwhile.")
		return
	}
	st, err := s.store.SourceState(c.Request.Context(), src.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	moved := pendingMove(*src, st)
	switch {
	case moved == "":
		s.errorPage(c, http.StatusConflict, "Not changed", "No permanent move is recorded for "+quote(src.Name)+" any more (its URL may have been updated already). Nothing was changed.")
		return
	case moved != to:
		s.errorPage(c, http.StatusConflict, "Not changed", "The address "+quote(src.Name)+" moved to is now "+moved+", not the one the page showed. Nothing was changed: reload the sources page and check the new address.")
		return
	}
	next := *src
	next.URL = moved
	if ps := sourcesfile.CheckSource(list, src.Name, next); len(ps) > 0 {
		s.errorPage(c, http.StatusUnprocessableEntity, "Not changed", "The new address cannot be saved: "+strings.Join(problemLines(ps), "; ")+". Nothing was changed.")
		return
	}
	err = s.editFromList(c, src.Name, func(d *sourcesfile.Doc, cur config.Source) error {
		cur.URL = moved
		return d.UpdateSource(src.Name, cur)
	})
	if err != nil {
		return
	}
	s.audit(c, model.AuditSourceChange, src.Name, fmt.Sprintf("url %s → %s (moved permanently)", src.URL, moved))
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "moved", src.Name))
}

// editFromList applies a one-click change from the sources list to the
// named source as it is in the file version the list was loaded with. On
// failure it has answered (with the list and the reason) and returns the
// error.
func (s *Server) editFromList(c *gin.Context, name string, edit func(*sourcesfile.Doc, config.Source) error) error {
	file := s.sourcesFile(c)
	if file == nil {
		return errors.New("no sources file")
	}
	snap, err := file.Read()
	if err != nil {
		s.fail(c, err)
		return err
	}
	version := c.PostForm("version")
	if version == "" {
		version = snap.Hash
	}
	var src config.Source
	if found, ok := s.snapshotList(snap).Find(name); ok {
		src = *found
	}
	_, err = file.Apply(version, func(d *sourcesfile.Doc) error { return edit(d, src) })
	if err == nil {
		return nil
	}
	status := applyStatus(err)
	if status == http.StatusInternalServerError {
		s.fail(c, err)
		return err
	}
	msg := err.Error()
	var ce *sourcesfile.ConflictError
	if errors.As(err, &ce) {
		msg = "sources.yaml changed since the page was loaded (someone else edited it). Nothing was changed: reload the sources page and try again."
	}
	s.errorPage(c, status, "Not changed", msg)
	return err
}

func quote(s string) string { return "“" + s + "”" }

func sameText(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }

// sourceExists reports whether sources.yaml as on disk has a source of
// this name, so deleting one that is not there, or while the file cannot
// be edited, is refused at once instead of after a confirmation.
func (s *Server) sourceExists(name string) bool {
	f := s.cfg.SourceAdmin.File
	if f == nil {
		return false
	}
	snap, err := f.Read()
	if err != nil || snap.Sources == nil {
		return false
	}
	_, ok := snap.Sources.Find(name)
	return ok
}
