// Package metrics keeps the figures an operator watches (polls, items,
// queue age, HTTP traffic, store size) in a Prometheus registry of its own,
// served on /metrics and shown on the admin status page.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Store is what the metrics read from the store at each scrape; every call
// must be cheap (counters, one index seek, a stat).
type Store interface {
	// ItemCounts is the number of items per status.
	ItemCounts(ctx context.Context) (map[string]int, error)
	// OldestQueued is when the oldest queued item arrived; zero when the
	// queue is empty.
	OldestQueued(ctx context.Context) (time.Time, error)
	// FileSize is the size of the database file in bytes.
	FileSize() (int64, error)
}

// Metrics is the registry and the instruments the program feeds.
type Metrics struct {
	reg         *prometheus.Registry
	polls       *prometheus.CounterVec
	pollSeconds *prometheus.HistogramVec
	newItems    *prometheus.CounterVec
	requests    *prometheus.CounterVec
	reqSeconds  *prometheus.HistogramVec
}

// New builds the registry: the program's instruments, the store's figures
// read at scrape time, build information, and the Go runtime's and the
// process's own collectors. now is the clock for the queue's age.
func New(st Store, version string, now func() time.Time) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clipsheet_polls_total", Help: "Polls of each source by result: ok, not_modified or error.",
		}, []string{"source", "result"}),
		pollSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clipsheet_poll_duration_seconds", Help: "Time to poll a source: the feed or page and its new articles.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"source"}),
		newItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clipsheet_items_fetched_total", Help: "New items stored from each source.",
		}, []string{"source"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clipsheet_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		reqSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clipsheet_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"route"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "clipsheet_build_info", Help: "Always 1; the version is in its label.", ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.reg.MustRegister(m.polls, m.pollSeconds, m.newItems, m.requests, m.reqSeconds, build,
		newStoreCollector(st, now),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObservePoll counts one poll of a source.
func (m *Metrics) ObservePoll(source string, err error, notModified bool, newItems int, d time.Duration) {
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case notModified:
		result = "not_modified"
	}
	m.polls.WithLabelValues(source, result).Inc()
	m.pollSeconds.WithLabelValues(source).Observe(d.Seconds())
	if newItems > 0 {
		m.newItems.WithLabelValues(source).Add(float64(newItems))
	}
}

// ObserveHTTP counts one answered request. route is the route pattern
// (/api/v1/items/:id), never the path, so the label set stays small;
// unmatched paths share one value.
func (m *Metrics) ObserveHTTP(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, statusText(code)).Inc()
	m.reqSeconds.WithLabelValues(route).Observe(d.Seconds())
}

func statusText(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gather returns the current figures, for the admin status page.
func (m *Metrics) Gather() ([]*dto.MetricFamily, error) { return m.reg.Gather() }

// storeCollector reads the store's figures when scraped.
type storeCollector struct {
	st                       Store
	now                      func() time.Time
	items, age, size, stupOK *prometheus.Desc
}

func newStoreCollector(st Store, now func() time.Time) *storeCollector {
	return &storeCollector{st: st, now: now,
		items:  prometheus.NewDesc("clipsheet_items", "Stored items by status.", []string{"status"}, nil),
		age:    prometheus.NewDesc("clipsheet_queue_oldest_age_seconds", "Age of the oldest queued item (0 when the queue is empty).", nil, nil),
		size:   prometheus.NewDesc("clipsheet_store_size_bytes", "Size of the database file.", nil, nil),
		stupOK: prometheus.NewDesc("clipsheet_store_up", "1 when the store answered this scrape, else 0.", nil, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.items
	ch <- c.age
	ch <- c.size
	ch <- c.stupOK
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	if counts, err := c.st.ItemCounts(ctx); err != nil {
		up = 0
	} else {
		for _, st := range []string{"queued", "approved", "rejected"} {
			ch <- prometheus.MustNewConstMetric(c.items, prometheus.GaugeValue, float64(counts[st]), st)
		}
	}
	if oldest, err := c.st.OldestQueued(ctx); err != nil {
		up = 0
	} else {
		age := 0.0
		if !oldest.IsZero() {
			age = max(0, c.now().Sub(oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
	}
	if size, err := c.st.FileSize(); err == nil {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(size))
	}
	ch <- prometheus.MustNewConstMetric(c.stupOK, prometheus.GaugeValue, up)
}
