package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Editions for readers: "/" (the latest edition), /editions/{id}, the
// archive at /editions and one page per published story at /items/{id}.
// Their content is made from the editions alone, so it is rendered once
// per change to the editions (pagecache.go): for visitors who are not
// signed in the whole page is kept as bytes; signed-in users get the kept
// content in a layout of their own (their name, their CSRF token).

// pageParts is a page made from editions, before the layout.
type pageParts struct {
	Title   string
	Head    template.HTML
	Content template.HTML
}

// relatedCount is how many related stories an item page lists (3 to 5
// when there are that many).
const relatedCount, minRelated = 5, 3

// archivePageSize is how many editions one archive page lists.
const archivePageSize = 30

// servePublished answers with the page that build makes, rendered once
// per change to the editions and per kind of visitor (curators see
// correction links).
func (s *Server) servePublished(c *gin.Context, key string, build func(curator bool) (*pageParts, error)) {
	ctx := c.Request.Context()
	rev, changed, err := s.store.EditionsRev(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	u := currentUser(c)
	curator := u != nil && u.Role.AtLeast(model.RoleCurator)
	kind := "visitor"
	switch {
	case curator:
		kind = "curator"
	case u != nil:
		kind = "reader"
	}
	a, err := s.renders.get(rev, "page "+kind+" "+key, func() (*cachedAnswer, error) {
		parts, err := build(curator)
		if err != nil {
			return nil, err
		}
		if u != nil {
			return &cachedAnswer{fragment: parts}, nil
		}
		body, err := s.renderPage(c, "published", gin.H{"Title": parts.Title, "Head": parts.Head, "Content": parts.Content})
		if err != nil {
			return nil, err
		}
		a, err := s.newCachedAnswer("text/html; charset=utf-8", body, changed)
		if err != nil {
			return nil, err
		}
		a.fragment = parts
		return a, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.notFound(c)
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	if u == nil {
		s.serveCached(c, a)
		return
	}
	p := a.fragment
	body, err := s.renderPage(c, "published", gin.H{"Title": p.Title, "Head": p.Head, "Content": p.Content})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.sendValidated(c, "text/html; charset=utf-8", body, u.Name, false)
}

// fragment executes one of the shared templates into HTML.
func (s *Server) fragment(name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := s.pages["published"].ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	// #nosec: the output of html/template.
	return template.HTML(buf.String()), nil
}

// frontPage is "/": the latest edition, or before the first one the
// approved stories waiting for it.
func (s *Server) frontPage(c *gin.Context) {
	rev, _, err := s.store.EditionsRev(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if rev == 0 {
		s.briefingPage(c)
		return
	}
	s.servePublished(c, "/", func(curator bool) (*pageParts, error) {
		e, err := s.store.LatestEdition(c.Request.Context())
		if err != nil {
			return nil, err
		}
		return s.editionParts(e, curator, true)
	})
}

func (s *Server) editionPage(c *gin.Context) {
	id := c.Param("id")
	s.servePublished(c, "/editions/"+id, func(curator bool) (*pageParts, error) {
		e, err := s.store.GetEdition(c.Request.Context(), id)
		if err != nil {
			return nil, err
		}
		return s.editionParts(e, curator, false)
	})
}

// feedLink is one alternate feed of a page.
type feedLink struct {
	Title, Href, Label string
}

// feedLinks are the three formats of the feed with query q.
func (s *Server) feedLinks(title string, q url.Values) []feedLink {
	qs := ""
	if len(q) > 0 {
		qs = "?" + q.Encode()
	}
	return []feedLink{
		{title + " (RSS)", "/feed.rss" + qs, "RSS"},
		{title + " (Atom)", "/feed.atom" + qs, "Atom"},
		{title + " (JSON Feed)", "/feed.json" + qs, "JSON Feed"},
	}
}

// clipView is one story of an edition as the page shows it.
type clipView struct {
	Item        model.EditionItem
	Page        string // the story's page, absolute (base_url), for sharing
	Edition     string
	Corrections []model.Correction
	Curator     bool
	Lead        bool
}

type editionView struct {
	Edition     *model.Edition
	TextURL     string // the edition as plain text, absolute
	Heading     string
	Dateline    string
	Front       bool
	Count       int
	Lead        *clipView
	Sections    []sectionView
	Corrections []correctionView
	Feeds       []feedLink
}

type sectionView struct {
	Name   string
	Anchor string
	Clips  []clipView
}

type correctionView struct {
	At    time.Time
	Note  string
	Title string // the story's headline
	Item  string
}

// editionTitle names an edition: "Morning edition, Wednesday 2 December 2026".
func (s *Server) editionTitle(e *model.Edition) string {
	return slotHeading(e.Slot) + ", " + s.deskDate(e.PublishedAt)
}

func slotHeading(slot string) string {
	if slot == "" {
		return "Edition"
	}
	return strings.ToUpper(slot[:1]) + slot[1:] + " edition"
}

func (s *Server) deskDate(t time.Time) string {
	return t.In(s.press.Schedule().Location()).Format("Monday 2 January 2006")
}

func (s *Server) deskClock(t time.Time) string {
	return t.In(s.press.Schedule().Location()).Format("15:04")
}

func (s *Server) deskTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.press.Schedule().Location()).Format("Mon 2 Jan 2006, 15:04 MST")
}

func (s *Server) editionParts(e *model.Edition, curator, front bool) (*pageParts, error) {
	v := editionView{Edition: e, TextURL: s.feedBase() + "/editions/" + e.ID + "/text", Heading: slotHeading(e.Slot), Dateline: s.deskDate(e.PublishedAt), Front: front, Count: len(e.Items),
		Feeds: s.feedLinks(s.editionTitle(e), url.Values{"edition": {e.ID}})}
	byItem := map[string][]model.Correction{}
	titles := map[string]string{}
	for _, it := range e.Items {
		titles[it.ID] = it.Title
	}
	for _, c := range e.Corrections {
		byItem[c.ItemID] = append(byItem[c.ItemID], c)
		v.Corrections = append(v.Corrections, correctionView{At: c.At, Note: c.Note, Title: titles[c.ItemID], Item: c.ItemID})
	}
	clip := func(it model.EditionItem) clipView {
		return clipView{Item: it, Page: s.feedBase() + "/items/" + it.ID, Edition: e.ID, Corrections: byItem[it.ID], Curator: curator}
	}
	if lead, ok := e.Item(e.Lead); ok {
		cv := clip(*lead)
		cv.Lead = true
		v.Lead = &cv
	}
	secs := curate.Sectioned(e.Items, e.Lead)
	names := make([]curate.Section, len(secs))
	for i, sec := range secs {
		names[i] = curate.Section{Name: sec.Name}
	}
	ids := anchorIDs(names)
	for _, sec := range secs {
		sv := sectionView{Name: sec.Name, Anchor: ids[sec.Name]}
		for _, it := range sec.Items {
			sv.Clips = append(sv.Clips, clip(it))
		}
		v.Sections = append(v.Sections, sv)
	}
	title := v.Heading + ", " + v.Dateline
	head, err := s.fragment("feed-alternates", s.alternates(v.Feeds))
	if err != nil {
		return nil, err
	}
	content, err := s.fragment("edition-body", v)
	if err != nil {
		return nil, err
	}
	return &pageParts{Title: title, Head: head, Content: content}, nil
}

// alternates are the site's feeds followed by the page's own.
func (s *Server) alternates(own []feedLink) []feedLink {
	return append(s.feedLinks(s.cfg.Settings.Briefing.Title, nil), own...)
}

// itemView is a published story's page.
type itemView struct {
	Item         model.EditionItem
	Page         string // absolute, for sharing
	Edition      *model.Edition
	EditionTitle string
	Corrections  []model.Correction
	Related      []model.EditionItem
	More         []model.EditionItem // others of the edition, when few are related
	Curator      bool
}

// itemHead is what an item page puts in <head>: the canonical address,
// OpenGraph and Twitter card tags, and its feeds.
type itemHead struct {
	Canonical   string
	URL         string
	Title       string
	Description string
	SiteName    string
	Image       string
	Published   string
	Section     string
	Feeds       []feedLink
}

func (s *Server) itemPage(c *gin.Context) {
	id := c.Param("id")
	s.servePublished(c, "/items/"+id, func(curator bool) (*pageParts, error) {
		ctx := c.Request.Context()
		it, e, err := s.press.FindItem(ctx, id)
		if err != nil {
			return nil, err
		}
		related, err := s.press.Related(ctx, *it, relatedCount)
		if err != nil {
			return nil, err
		}
		v := itemView{Item: *it, Page: s.feedBase() + "/items/" + it.ID, Edition: e, EditionTitle: s.editionTitle(e), Related: related, Curator: curator}
		// Fewer than three related stories: the page still offers the
		// reader somewhere to go, named for what it is.
		for _, o := range e.Items {
			if len(v.Related)+len(v.More) >= minRelated {
				break
			}
			if o.ID != it.ID && !slices.ContainsFunc(related, func(r model.EditionItem) bool { return r.ID == o.ID }) {
				v.More = append(v.More, o)
			}
		}
		for _, c := range e.Corrections {
			if c.ItemID == it.ID {
				v.Corrections = append(v.Corrections, c)
			}
		}
		page := s.feedBase() + "/items/" + it.ID
		h := itemHead{URL: page, Canonical: page, Title: it.Title, Description: ogDescription(s.plainText(it.Lead)),
			SiteName: s.cfg.Settings.Briefing.Title, Section: it.Section}
		if s.cfg.Settings.Briefing.Canonical == "original" {
			if link := safeURL(it.URL); link != "#" {
				h.Canonical = link
			}
		}
		if img := safeURL(it.Image); img != "#" {
			h.Image = img
		}
		if !it.Published.IsZero() {
			h.Published = it.Published.UTC().Format(time.RFC3339)
		}
		h.Feeds = s.alternates(s.feedLinks(s.cfg.Settings.Briefing.Title+": "+it.Section, url.Values{"section": {slug(it.Section)}}))
		head, err := s.fragment("item-head", h)
		if err != nil {
			return nil, err
		}
		content, err := s.fragment("item-body", v)
		if err != nil {
			return nil, err
		}
		return &pageParts{Title: it.Title, Head: head, Content: content}, nil
	})
}

// ogDescription shortens a lead for link previews, at a word.
func ogDescription(lead string) string {
	lead = strings.Join(strings.Fields(lead), " ")
	const max = 200
	if len([]rune(lead)) <= max {
		return lead
	}
	r := []rune(lead)[:max]
	cut := string(r)
	if i := strings.LastIndex(cut, " "); i > max/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// archiveDay is one date of the archive with its editions.
type archiveDay struct {
	Date     string
	Editions []archiveEdition
}

type archiveEdition struct {
	ID, Heading, Time string
	Count, Fixes      int
}

// searchHit is an approved story found by the archive's search.
type searchHit struct {
	Item *model.Item
	Page string // "" when not published yet
}

type archiveView struct {
	Days       []archiveDay
	Page       int
	Prev, Next string
	Query      string
	Searched   bool
	Hits       []searchHit
	Feeds      []feedLink
}

// archivePage is /editions: every edition by date, newest first, and a
// search over the published stories.
func (s *Server) archivePage(c *gin.Context) {
	page, _ := strconv.Atoi(c.Query("page"))
	page = max(page, 1)
	q := strings.TrimSpace(c.Query("q"))
	build := func(bool) (*pageParts, error) { return s.archiveParts(c.Request.Context(), page, q) }
	if q != "" {
		// One page per query: made for each request, not kept.
		parts, err := build(false)
		if err != nil {
			s.fail(c, err)
			return
		}
		body, err := s.renderPage(c, "published", gin.H{"Title": parts.Title, "Head": parts.Head, "Content": parts.Content})
		if err != nil {
			s.fail(c, err)
			return
		}
		who := ""
		if u := currentUser(c); u != nil {
			who = u.Name
		}
		s.sendValidated(c, "text/html; charset=utf-8", body, who, false)
		return
	}
	s.servePublished(c, "/editions?page="+strconv.Itoa(page), build)
}

func (s *Server) archiveParts(ctx context.Context, page int, q string) (*pageParts, error) {
	v := archiveView{Page: page, Query: q, Searched: q != "", Feeds: s.feedLinks(s.cfg.Settings.Briefing.Title, nil)}
	eds, err := s.store.ListEditions(ctx, archivePageSize+1, (page-1)*archivePageSize)
	if err != nil {
		return nil, err
	}
	if len(eds) > archivePageSize {
		eds = eds[:archivePageSize]
		v.Next = "/editions?page=" + strconv.Itoa(page+1)
	}
	if page > 1 {
		v.Prev = "/editions?page=" + strconv.Itoa(page-1)
	}
	for _, e := range eds {
		date := s.deskDate(e.PublishedAt)
		if len(v.Days) == 0 || v.Days[len(v.Days)-1].Date != date {
			v.Days = append(v.Days, archiveDay{Date: date})
		}
		day := &v.Days[len(v.Days)-1]
		day.Editions = append(day.Editions, archiveEdition{ID: e.ID, Heading: slotHeading(e.Slot), Time: s.deskClock(e.PublishedAt),
			Count: len(e.Items), Fixes: len(e.Corrections)})
	}
	if q != "" {
		items, err := s.desk.Items(ctx, store.ItemFilter{Status: model.StatusApproved, Query: q, Limit: 50})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.ID
		}
		where, err := s.store.ItemEditions(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			// Stories not yet published stay off the public archive.
			if where[i] != "" {
				v.Hits = append(v.Hits, searchHit{Item: it, Page: "/items/" + it.ID})
			}
		}
	}
	head, err := s.fragment("feed-alternates", v.Feeds)
	if err != nil {
		return nil, err
	}
	content, err := s.fragment("archive-body", v)
	if err != nil {
		return nil, err
	}
	title := "Editions"
	if q != "" {
		title = "Search: " + q
	}
	return &pageParts{Title: title, Head: head, Content: content}, nil
}

// runSchedule publishes the editions the schedule owes, checking every
// half minute, until ctx is done.
func (s *Server) runSchedule(ctx context.Context) {
	if s.press.Schedule().Manual() {
		return
	}
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		e, err := s.press.PublishDue(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("scheduled edition", "err", err)
		case e != nil:
			s.log.Info("published edition", "id", e.ID, "stories", len(e.Items))
			if err := s.auth.Record(ctx, auth.Actor{Name: "schedule"}, model.AuditEditionPublish, e.ID, fmt.Sprintf("%d stories, on schedule", len(e.Items))); err != nil {
				s.log.Error("audit", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// nextPage is the curators' preview of the next edition, where they
// arrange and publish it.
func (s *Server) nextPage(c *gin.Context) {
	s.renderNext(c, http.StatusOK, "")
}

func (s *Server) renderNext(c *gin.Context, code int, problem string) {
	next, err := s.press.Next(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	sched := s.press.Schedule()
	groups := curate.Sectioned(next.Items, next.Lead)
	if lead, ok := findEditionItem(next.Items, next.Lead); ok {
		groups = append([]curate.EditionSection{{Name: "Lead story", Items: []model.EditionItem{lead}}}, groups...)
	}
	data := gin.H{"Title": "Next edition", "Next": next, "Problem": problem, "Schedule": sched.Describe(), "Groups": groups}
	if t, ok := sched.Next(s.cfg.Now()); ok {
		data["NextAt"] = s.deskTime(t)
	}
	if next.After != "" {
		data["LastID"] = next.After
		data["LastAt"] = s.deskTime(next.Since)
	}
	s.render(c, code, "edition_next", data)
}

func findEditionItem(items []model.EditionItem, id string) (model.EditionItem, bool) {
	for _, it := range items {
		if it.ID == id && id != "" {
			return it, true
		}
	}
	return model.EditionItem{}, false
}

// nextAction runs one arrangement of the next edition from a form, then
// returns to the preview with the story in view.
func (s *Server) nextAction(fn func(c *gin.Context, id string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.PostForm("item")
		err := fn(c, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.renderNext(c, http.StatusNotFound, "That story is not in the next edition any more (it was published, or taken off the briefing).")
			return
		case errors.Is(err, curate.ErrInvalid):
			s.renderNext(c, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "invalid: "))
			return
		case err != nil:
			s.fail(c, err)
			return
		}
		if strings.Contains(c.GetHeader("Accept"), "application/json") {
			c.JSON(http.StatusOK, gin.H{"ok": true})
			return
		}
		c.Redirect(http.StatusSeeOther, "/editions/next#n-"+url.PathEscape(id))
	}
}

func (s *Server) nextMove(c *gin.Context, id string) error {
	delta := 1
	if c.PostForm("dir") == "up" {
		delta = -1
	}
	_, err := s.press.Move(c.Request.Context(), id, delta)
	return err
}

func (s *Server) nextSection(c *gin.Context, id string) error {
	_, err := s.press.MoveToSection(c.Request.Context(), id, c.PostForm("section"))
	return err
}

func (s *Server) nextPin(c *gin.Context, id string) error {
	_, err := s.press.Pin(c.Request.Context(), id)
	return err
}

func (s *Server) nextPlace(c *gin.Context, id string) error {
	_, err := s.press.Place(c.Request.Context(), id, c.PostForm("before"))
	return err
}

// publishNow publishes the next edition from the preview's form.
func (s *Server) publishNow(c *gin.Context) {
	e, err := s.publish(c)
	switch {
	case errors.Is(err, curate.ErrNothingToPublish):
		s.renderNext(c, http.StatusConflict, "There is nothing new to publish: approve stories on the queue first.")
		return
	case errors.Is(err, store.ErrEditionRace):
		s.renderNext(c, http.StatusConflict, "Another edition was published meanwhile; check the preview and publish again.")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/editions/"+url.PathEscape(e.ID))
}

// publish publishes the next edition as the signed-in curator and
// records it in the audit log.
func (s *Server) publish(c *gin.Context) (*model.Edition, error) {
	a := s.actor(c)
	e, err := s.press.Publish(c.Request.Context(), a.Name)
	if err != nil {
		return nil, err
	}
	return e, s.auth.Record(c.Request.Context(), a, model.AuditEditionPublish, e.ID, fmt.Sprintf("%d stories", len(e.Items)))
}

// correctPage is the form for a correction of one story of a published
// edition.
func (s *Server) correctPage(c *gin.Context) {
	s.renderCorrect(c, http.StatusOK, "")
}

func (s *Server) renderCorrect(c *gin.Context, code int, problem string) {
	e, err := s.store.GetEdition(c.Request.Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(c)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	itemID := c.Query("item")
	if itemID == "" {
		itemID = c.PostForm("item")
	}
	it, ok := e.Item(itemID)
	if !ok {
		s.notFound(c)
		return
	}
	data := gin.H{"Title": "Correct a story", "Edition": e, "EditionTitle": s.editionTitle(e), "Item": it, "Problem": problem,
		"TitleValue": it.Title, "LeadValue": it.Lead, "Note": c.PostForm("note")}
	if code != http.StatusOK {
		data["TitleValue"], data["LeadValue"] = c.PostForm("title"), c.PostForm("lead")
	}
	s.render(c, code, "edition_correct", data)
}

func (s *Server) correctSubmit(c *gin.Context) {
	corr := curate.Correction{ItemID: c.PostForm("item"), Note: c.PostForm("note")}
	if v, ok := c.GetPostForm("title"); ok {
		corr.Title = &v
	}
	if v, ok := c.GetPostForm("lead"); ok {
		corr.Lead = &v
	}
	a := s.actor(c)
	e, err := s.press.Correct(c.Request.Context(), c.Param("id"), corr, a.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.notFound(c)
		return
	case errors.Is(err, curate.ErrInvalid):
		s.renderCorrect(c, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "invalid: "))
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.audit(c, model.AuditEditionCorrect, e.ID, e.Corrections[len(e.Corrections)-1].Note)
	c.Redirect(http.StatusSeeOther, "/editions/"+url.PathEscape(e.ID)+"#item-"+url.PathEscape(corr.ItemID))
}

// editionText is /editions/{id}/text: the edition as plain text to paste
// into a radio log, a chat or an e-mail: per story the headline, the
// outlet, the lead in one line and the link to the full story.
func (s *Server) editionText(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	rev, changed, err := s.store.EditionsRev(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.renders.get(rev, "text "+id, func() (*cachedAnswer, error) {
		e, err := s.store.GetEdition(ctx, id)
		if err != nil {
			return nil, err
		}
		return s.newCachedAnswer("text/plain; charset=utf-8", []byte(s.plainEdition(e)), changed)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.notFound(c)
	case err != nil:
		s.fail(c, err)
	default:
		s.serveCached(c, a)
	}
}

// plainEdition writes an edition as plain text.
func (s *Server) plainEdition(e *model.Edition) string {
	var b strings.Builder
	title := s.cfg.Settings.Briefing.Title + " — " + s.editionTitle(e)
	b.WriteString(title + "\n")
	b.WriteString(strings.Repeat("=", len([]rune(title))) + "\n")
	b.WriteString("Published " + s.deskTime(e.PublishedAt) + " · " + s.feedBase() + "/editions/" + e.ID + "\n")
	for _, c := range e.Corrections {
		b.WriteString("Updated " + s.deskClock(c.At) + ": " + c.Note + "\n")
	}
	section := "\x00"
	for _, it := range e.Items {
		name := it.Section
		if it.ID == e.Lead {
			name = "Lead story"
		}
		if name != section {
			section = name
			b.WriteString("\n" + strings.ToUpper(name) + "\n")
		}
		pub := it.Publisher
		if pub == "" {
			pub = hostOf(it.URL)
		}
		b.WriteString("\n" + it.Title + "\n" + pub)
		if it.Byline != "" {
			b.WriteString(" · " + it.Byline)
		}
		b.WriteString("\n")
		if line := oneLine(s.plainText(it.Lead)); line != "" {
			b.WriteString(line + "\n")
		}
		if link := safeURL(it.URL); link != "#" {
			b.WriteString(link + "\n")
		}
	}
	return b.String()
}

// oneLine is the first paragraph of a lead on one line, cut at a word
// near 200 characters.
func oneLine(lead string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(lead), "\n\n")
	return ogDescription(first)
}
