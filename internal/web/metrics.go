package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"

	"github.com/clipsheet/clipsheet/internal/metrics"
	"github.com/clipsheet/clipsheet/internal/model"
)

// storeFigures gives the metrics the store's figures. The bbolt store has
// them all; a store without the queue age or the file size reports them
// as unavailable.
type storeFigures struct{ st Store }

func (f storeFigures) ItemCounts(ctx context.Context) (map[string]int, error) {
	counts, err := f.st.CountItems(ctx)
	out := map[string]int{}
	for k, v := range counts {
		out[string(k)] = v
	}
	return out, err
}

func (f storeFigures) OldestQueued(ctx context.Context) (time.Time, error) {
	if o, ok := f.st.(interface {
		OldestQueued(context.Context) (time.Time, error)
	}); ok {
		return o.OldestQueued(ctx)
	}
	return time.Time{}, errors.ErrUnsupported
}

func (f storeFigures) FileSize() (int64, error) {
	if o, ok := f.st.(interface{ FileSize() (int64, error) }); ok {
		return o.FileSize()
	}
	return 0, errors.ErrUnsupported
}

// Metrics is the server's registry: serve feeds it the fetcher's polls.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// observe counts every answered request by its route pattern.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.metrics.ObserveHTTP(c.FullPath(), requestMethod(c.Request), c.Writer.Status(), time.Since(start))
}

func (s *Server) metricsHandler(c *gin.Context) {
	s.metrics.Handler().ServeHTTP(c.Writer, c.Request)
}

// readyz says whether this instance can do its work: the store takes a
// write and the sources file is loaded. /healthz only says it runs.
func (s *Server) readyz(c *gin.Context) {
	var problems []string
	if w, ok := s.store.(interface{ Writable(context.Context) error }); ok {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
		defer cancel()
		if err := w.Writable(ctx); err != nil {
			problems = append(problems, "store: "+err.Error())
		}
	}
	if s.cfg.Sources() == nil {
		problems = append(problems, "sources: the sources file is not loaded")
	}
	if len(problems) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "problems": problems})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// statusView is the admin status page: the figures /metrics serves, read
// from the same registry.
type statusView struct {
	Version     string
	Items       []figureRow
	QueueAge    string
	StoreSize   string
	Memory      string
	Goroutines  string
	Sources     []pollRow
	Routes      []requestRow
	StoreUp     bool
	GatherError string
}

type figureRow struct {
	Name  string
	Value string
}

type pollRow struct {
	Name                   string
	OK, NotModified, Error int
	NewItems               int
	MeanSeconds            string
}

type requestRow struct {
	Route               string
	Requests, Errors5xx int
	MeanMillis          string
}

func (s *Server) statusPage(c *gin.Context) {
	fams, err := s.metrics.Gather()
	v := statusView{}
	if err != nil {
		v.GatherError = err.Error()
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	if f := byName["clipsheet_build_info"]; f != nil && len(f.Metric) > 0 {
		v.Version = label(f.Metric[0], "version")
	}
	if f := byName["clipsheet_items"]; f != nil {
		for _, st := range []model.Status{model.StatusQueued, model.StatusApproved, model.StatusRejected} {
			for _, m := range f.Metric {
				if label(m, "status") == string(st) {
					n := int64(m.GetGauge().GetValue())
					v.Items = append(v.Items, figureRow{strings.ToUpper(string(st)[:1]) + string(st)[1:], fmt.Sprintf("%d %s", n, plural(n, "item", "items"))})
				}
			}
		}
	}
	gauge := func(name string) (float64, bool) {
		if f := byName[name]; f != nil && len(f.Metric) > 0 {
			if g := f.Metric[0].GetGauge(); g != nil {
				return g.GetValue(), true
			}
		}
		return 0, false
	}
	if age, ok := gauge("clipsheet_queue_oldest_age_seconds"); ok {
		v.QueueAge = "queue empty"
		if age > 0 {
			v.QueueAge = time.Duration(age * float64(time.Second)).Round(time.Minute).String()
		}
	}
	if n, ok := gauge("clipsheet_store_size_bytes"); ok {
		v.StoreSize = fmt.Sprintf("%.1f MiB", n/(1<<20))
	}
	if n, ok := gauge("process_resident_memory_bytes"); ok {
		v.Memory = fmt.Sprintf("%.0f MiB resident", n/(1<<20))
	}
	if n, ok := gauge("go_goroutines"); ok {
		v.Goroutines = fmt.Sprint(int(n))
	}
	if up, ok := gauge("clipsheet_store_up"); ok {
		v.StoreUp = up == 1
	}
	sources := map[string]*pollRow{}
	src := func(name string) *pollRow {
		if sources[name] == nil {
			sources[name] = &pollRow{Name: name}
		}
		return sources[name]
	}
	if f := byName["clipsheet_polls_total"]; f != nil {
		for _, m := range f.Metric {
			r, n := src(label(m, "source")), int(m.GetCounter().GetValue())
			switch label(m, "result") {
			case "ok":
				r.OK += n
			case "not_modified":
				r.NotModified += n
			default:
				r.Error += n
			}
		}
	}
	if f := byName["clipsheet_items_fetched_total"]; f != nil {
		for _, m := range f.Metric {
			src(label(m, "source")).NewItems = int(m.GetCounter().GetValue())
		}
	}
	if f := byName["clipsheet_poll_duration_seconds"]; f != nil {
		for _, m := range f.Metric {
			if h := m.GetHistogram(); h.GetSampleCount() > 0 {
				src(label(m, "source")).MeanSeconds = fmt.Sprintf("%.2f", h.GetSampleSum()/float64(h.GetSampleCount()))
			}
		}
	}
	for _, r := range sources {
		v.Sources = append(v.Sources, *r)
	}
	sort.Slice(v.Sources, func(i, j int) bool { return v.Sources[i].Name < v.Sources[j].Name })
	routes := map[string]*requestRow{}
	if f := byName["clipsheet_http_requests_total"]; f != nil {
		for _, m := range f.Metric {
			name := label(m, "route")
			if routes[name] == nil {
				routes[name] = &requestRow{Route: name}
			}
			n := int(m.GetCounter().GetValue())
			routes[name].Requests += n
			if label(m, "code")[0] == '5' {
				routes[name].Errors5xx += n
			}
		}
	}
	if f := byName["clipsheet_http_request_duration_seconds"]; f != nil {
		for _, m := range f.Metric {
			if r := routes[label(m, "route")]; r != nil && m.GetHistogram().GetSampleCount() > 0 {
				h := m.GetHistogram()
				r.MeanMillis = fmt.Sprintf("%.1f", 1000*h.GetSampleSum()/float64(h.GetSampleCount()))
			}
		}
	}
	for _, r := range routes {
		v.Routes = append(v.Routes, *r)
	}
	sort.Slice(v.Routes, func(i, j int) bool {
		if v.Routes[i].Requests != v.Routes[j].Requests {
			return v.Routes[i].Requests > v.Routes[j].Requests
		}
		return v.Routes[i].Route < v.Routes[j].Route
	})
	var compacted string
	var before, after, millis int64
	if _, err := fmt.Sscanf(c.Query("compacted"), "%d-%d-%d", &before, &after, &millis); err == nil {
		compacted = fmt.Sprintf("Compacted in %s: %.1f MiB before, %.1f MiB after.",
			time.Duration(millis)*time.Millisecond, float64(before)/(1<<20), float64(after)/(1<<20))
	}
	s.render(c, http.StatusOK, "admin_status", gin.H{"Title": "Status", "Status": v, "Compacted": compacted})
}

// compactStore rewrites the database file without its free pages, after a
// confirmation; the desk waits meanwhile (store.CompactInPlace).
func (s *Server) compactStore(c *gin.Context) {
	cs, ok := s.store.(interface {
		CompactInPlace(context.Context) (int64, int64, error)
	})
	if !ok {
		s.fail(c, errors.New("this store cannot be compacted while serving"))
		return
	}
	if !s.confirmed(c, confirmStep{
		Title:       "Compact the database now?",
		Consequence: "The file is written anew without its free space, then replaces the old one. Every request waits until it is done: seconds for each hundred megabytes. Nothing is deleted.",
		Button:      "Compact now",
		Back:        "/admin/status",
	}) {
		return
	}
	start := time.Now()
	before, after, err := cs.CompactInPlace(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	took := time.Since(start).Round(time.Millisecond)
	s.audit(c, "store.compact", "", fmt.Sprintf("%d -> %d bytes in %s", before, after, took))
	// Numbers only in the link: the page words them, so a crafted link
	// cannot put a sentence of its own on an admin's page.
	q := url.Values{"compacted": {fmt.Sprintf("%d-%d-%d", before, after, took.Milliseconds())}}
	c.Redirect(http.StatusSeeOther, "/admin/status?"+q.Encode())
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
