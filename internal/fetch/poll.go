package fetch

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/extract"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// outcome is one finished poll, waiting to be committed.
type outcome struct {
	src      config.Source
	interval time.Duration
	start    time.Time
	res      *Result
	state    *model.SourceState
	items    []*model.Item
	seen     []string // link IDs handled by this poll
	failed   bool
	retry    time.Duration // Retry-After asked by the server
	// done, if set, is called after the outcome is committed.
	done func(*outcome)
}

// entry is one candidate story: a feed item or a link on a section front.
type entry struct {
	feedEntry
	id string // ItemID of the link, checked before anything is fetched
}

// poll fetches one source and builds (but does not store) its new items and
// state. It never panics on bad input and never returns without a state.
func (f *Fetcher) poll(ctx context.Context, src config.Source, interval time.Duration) *outcome {
	start := f.now()
	o := &outcome{src: src, interval: interval, start: start, res: &Result{Source: src.Name}}
	st, err := f.st.SourceState(ctx, src.Name)
	if err != nil || st == nil {
		f.log.Warn("read source state", "source", src.Name, "err", err)
		st = &model.SourceState{Name: src.Name}
	}
	if st.URL != src.URL {
		// A different URL is a different document: old validators and a
		// recorded move no longer apply.
		st.ETag, st.LastModified, st.MovedTo, st.FeedTitle = "", "", "", ""
	}
	st.Name, st.URL = src.Name, src.URL
	st.LastAttempt = start
	o.state = st

	err = f.safePollInto(ctx, o)
	o.res.Duration = f.now().Sub(start)
	if err != nil {
		o.failed = true
		o.res.Err = err
		st.LastError = err.Error()
		st.ConsecutiveFailures++
		var se *httpx.StatusError
		if errors.As(err, &se) {
			o.retry = se.RetryAfter
		}
		var hc *HostCooldownError
		if errors.As(err, &hc) {
			o.retry = hc.Until.Sub(start)
		}
		return o
	}
	st.LastError = ""
	st.ConsecutiveFailures = 0
	st.LastSuccess = start
	return o
}

// safePollInto turns a panic in a parser fed a hostile document into this
// source's error, so one bad feed cannot take the service down.
func (f *Fetcher) safePollInto(ctx context.Context, o *outcome) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f.log.Error("panic while polling", "source", o.src.Name, "panic", r, "stack", string(debug.Stack()))
			o.items, o.seen = nil, nil
			err = fmt.Errorf("internal error while polling %s: %v", o.src.URL, r)
		}
	}()
	return f.pollInto(ctx, o)
}

func (f *Fetcher) pollInto(ctx context.Context, o *outcome) error {
	st := o.state
	// A source that moved permanently is polled at its new address (one
	// request instead of a redirect chain each time, and validators that
	// belong to it), and reported on every poll until sources.yaml says so.
	docURL := o.src.URL
	if st.MovedTo != "" {
		docURL = st.MovedTo
	}
	doc, resp, err := f.listEntries(ctx, o.src, docURL, st.ETag, st.LastModified, o.res)
	if resp != nil {
		st.HTTPStatus = resp.Status
		st.FinalURL = ""
		if resp.URL != o.src.URL {
			st.FinalURL = resp.URL
		}
		if resp.MovedTo != "" {
			st.MovedTo = resp.MovedTo
		}
	}
	var se *httpx.StatusError
	if docURL != o.src.URL && errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone) {
		// The new address is gone again: go back to the configured one.
		st.MovedTo, st.ETag, st.LastModified = "", "", ""
	}
	o.res.MovedTo = st.MovedTo
	if err != nil {
		return err
	}
	if resp.NotModified {
		return nil
	}
	// What the document offered, patterns aside: a source whose patterns
	// drop every entry is not one whose feed or links selector is empty.
	st.ItemsFound = len(doc.entries) + doc.excluded
	if doc.title != "" {
		st.FeedTitle = doc.title
	}
	fresh, err := f.newEntries(ctx, doc.entries)
	if err != nil {
		return err
	}
	truncated := false
	if len(fresh) > f.cfg.MaxArticles {
		fresh, truncated = fresh[:f.cfg.MaxArticles], true
	}
	// Article pages that each take up to fetch.timeout must not hold a
	// worker for fifty timeouts: past the budget, the rest waits for the
	// next poll.
	budgetEnd := time.Now().Add(pollBudgetFactor * f.client.Config().Timeout)
	overBudget, paused := false, false
	for i, e := range fresh {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i > 0 && time.Now().After(budgetEnd) {
			overBudget = true
			f.log.Warn("article pages too slow; rest left for next poll", "source", o.src.Name,
				"fetched", i, "left", len(fresh)-i, "budget", pollBudgetFactor*f.client.Config().Timeout)
			break
		}
		it, aerr := f.buildItem(ctx, o.src, e.feedEntry, doc.siteName, o.start)
		var hc *HostCooldownError
		if errors.As(aerr, &hc) && hc.Until.Before(o.start.Add(time.Duration(float64(o.interval)*(1-jitterFrac)))) {
			// The story's host asked for a pause that ends before the next
			// poll: fetch the page then rather than store the story without
			// it. (A longer pause stores it from the feed, so a fast feed
			// cannot rotate it out unseen.)
			paused = true
			f.log.Info("story host paused; rest left for next poll", "source", o.src.Name, "host", hc.Host, "left", len(fresh)-i)
			break
		}
		o.items = append(o.items, it)
		o.seen = append(o.seen, e.id)
	}
	if truncated || overBudget || paused {
		// Leave the rest for the next poll, and make sure that poll gets the
		// full document rather than a 304.
		st.ETag, st.LastModified = "", ""
		if truncated && !overBudget && !paused {
			f.log.Info("article cap reached; rest left for next poll", "source", o.src.Name, "cap", f.cfg.MaxArticles)
		}
	} else {
		st.ETag, st.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	}
	return nil
}

// pollBudgetFactor times fetch.timeout is how long one poll may spend on
// article pages before leaving the rest for the next poll.
const pollBudgetFactor = 3

// listing is what a source document offers.
type listing struct {
	entries  []feedEntry // those the source's include/exclude patterns keep
	excluded int         // entries or links those patterns dropped
	title    string      // feed title, or the page's <title>
	siteName string      // fallback site name for items (feeds only)
}

// listEntries fetches the source document from docURL (the source's URL,
// or where it moved) conditionally when validators are given, and returns
// its entries, with the source's include/exclude patterns applied. res gets
// Status, Entries, Excluded and NotModified.
func (f *Fetcher) listEntries(ctx context.Context, src config.Source, docURL, etag, lastMod string, res *Result) (*listing, *httpx.Response, error) {
	accept := httpx.AcceptFeed
	if src.KindOrDefault() == config.TypePage {
		accept = httpx.AcceptHTML
	}
	resp, err := f.get(ctx, httpx.Request{URL: docURL, Accept: accept, ETag: etag, LastModified: lastMod})
	if resp != nil {
		res.Status = resp.Status
	}
	if err != nil {
		return nil, resp, err
	}
	if resp.NotModified {
		res.NotModified = true
		return nil, resp, nil
	}
	var doc *listing
	if src.KindOrDefault() == config.TypePage {
		doc, err = pageLinks(resp.Body, resp.ContentType(), resp.URL, src)
		if err != nil {
			return nil, resp, fmt.Errorf("page %s: %w", docURL, err)
		}
	} else {
		feed, err := parseFeed(resp.Body, resp.ContentType(), resp.URL)
		if err != nil {
			return nil, resp, fmt.Errorf("feed %s: %w", docURL, err)
		}
		filter, err := newLinkFilter(src)
		if err != nil {
			return nil, resp, fmt.Errorf("feed %s: %w", docURL, err)
		}
		doc = &listing{title: feed.Title, siteName: feed.Title}
		doc.entries, doc.excluded = filter.entries(feed.Entries)
	}
	res.Entries, res.Excluded = len(doc.entries), doc.excluded
	return doc, resp, nil
}

// newEntries drops entries without a usable link, duplicates within the
// document, and links already stored or handled by an earlier poll.
func (f *Fetcher) newEntries(ctx context.Context, entries []feedEntry) ([]entry, error) {
	cands := make([]entry, 0, len(entries))
	ids := make([]string, 0, len(entries))
	dup := make(map[string]bool, len(entries))
	for _, e := range entries {
		if e.Link == "" {
			continue
		}
		id := model.ItemID(e.Link)
		if dup[id] {
			continue
		}
		dup[id] = true
		cands = append(cands, entry{feedEntry: e, id: id})
		ids = append(ids, id)
	}
	known, err := f.knownIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := cands[:0]
	for i, c := range cands {
		if !known[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// knownIDs uses the store's bulk lookup (items and seen links) when it has
// one, else HasItem per ID.
func (f *Fetcher) knownIDs(ctx context.Context, ids []string) ([]bool, error) {
	if k, ok := f.st.(interface {
		KnownIDs(context.Context, []string) ([]bool, error)
	}); ok {
		return k.KnownIDs(ctx, ids)
	}
	out := make([]bool, len(ids))
	for i, id := range ids {
		has, err := f.st.HasItem(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("check item %s: %w", id, err)
		}
		out[i] = has
	}
	return out, nil
}

// dateOnly reports a time that carries no time of day (midnight UTC), as
// dates taken from URLs or date-only metadata do.
func dateOnly(t time.Time) bool {
	return !t.IsZero() && t.Location() == time.UTC && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0
}

// sameStory reports whether a feed timestamp can refine a page date: it is
// known and within a day and a half of it (time zones shift the date).
func sameStory(pageDate, feedTime time.Time) bool {
	if feedTime.IsZero() {
		return false
	}
	d := feedTime.Sub(pageDate)
	return d > -36*time.Hour && d < 36*time.Hour
}

func bareHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

// buildItem fetches and extracts the story page and fills the item from it,
// falling back to the feed's fields wherever the page has none. A page that
// cannot be fetched still yields an item from the feed, with FetchError set
// (and the error returned).
func (f *Fetcher) buildItem(ctx context.Context, src config.Source, e feedEntry, siteName string, now time.Time) (*model.Item, error) {
	ext := model.Extraction{URL: e.Link}
	art, err := f.fetchArticle(ctx, src, e.Link)
	if art != nil {
		if art.URL != "" {
			ext.URL = art.URL
		}
		ext.CanonicalURL = art.CanonicalURL
		ext.Title, ext.Byline, ext.Published = art.Title, art.Byline, art.Published
		ext.SiteName, ext.Lead, ext.Body = art.SiteName, art.Lead, art.Body
		ext.Language, ext.Image = art.Language, art.Image
	}
	if ext.Title == "" {
		ext.Title = e.Title
	}
	if ext.Byline == "" {
		ext.Byline = e.Byline
	}
	if ext.Published.IsZero() || (dateOnly(ext.Published) && sameStory(ext.Published, e.Published)) {
		// A page dated only by its URL or a bare date says less than the
		// feed's timestamp for the same day.
		ext.Published = e.Published
	}
	if ext.Lead == "" && e.Summary != "" {
		ext.Lead = extract.LeadFromHTML(e.Summary, f.maxLead)
	}
	if siteName != "" && (ext.SiteName == "" || ext.SiteName == bareHost(ext.URL)) {
		// The extractor's last resort is the host name; the feed's own
		// title names the publisher better.
		ext.SiteName = siteName
	}
	if ext.Image == "" {
		ext.Image = e.Image
	}
	// A hostile feed or page may send a byline or headline of any size;
	// cut it to the desk's limits (the edit form would refuse it) rather
	// than drop the story.
	ext.Title = model.ClampLine(ext.Title, model.MaxTitleChars)
	ext.Byline = model.ClampLine(ext.Byline, model.MaxBylineChars)
	it := model.NewItem(ext, src.Name, src.Section, now.UTC())
	if err != nil {
		it.FetchError = err.Error()
	}
	return it, err
}

// fetchArticle fetches one story page and extracts it.
func (f *Fetcher) fetchArticle(ctx context.Context, src config.Source, link string) (*extract.Article, error) {
	resp, err := f.get(ctx, httpx.Request{URL: link, Accept: httpx.AcceptHTML})
	if err != nil {
		return nil, err
	}
	ct := resp.ContentType()
	if mt, _, _ := mime.ParseMediaType(ct); mt != "" && mt != "text/html" && mt != "application/xhtml+xml" && !looksLikeHTML(resp.Body) {
		return &extract.Article{URL: resp.URL}, fmt.Errorf("article %s is %s, not an HTML page", link, mt)
	}
	opts := extract.Options{URL: resp.URL, ContentType: ct, MaxLeadChars: f.maxLead}
	if x := src.Extract; x != nil {
		opts.Selectors = &extract.Selectors{Title: x.Title, Byline: x.Byline, Body: x.Body, Lead: x.Lead, Published: x.Published, Remove: x.Remove}
	}
	art, err := extract.Extract(resp.Body, opts)
	if err != nil {
		return art, fmt.Errorf("extract %s: %w", resp.URL, err)
	}
	return art, nil
}

// pollWriter is the bulk write the bbolt store offers (one transaction for
// many polls).
type pollWriter interface {
	WritePolls(ctx context.Context, ws []store.PollWrite) error
}
