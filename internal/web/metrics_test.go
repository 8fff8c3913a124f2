package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	clipmodel "github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// scrape reads /metrics with token and parses the text format.
func (h *harness) scrape(token string) (int, map[string]*dto.MetricFamily) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		h.t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	return res.StatusCode, fams
}

func value(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics: /metrics needs an admin (401 with a challenge, 403 for a
// curator) and serves, in the Prometheus text format, items per status,
// the queue's age, the store's size, polls per source and requests per
// route pattern.
func TestMetrics(t *testing.T) {
	h := newHarness(t)
	old := h.add("https://example.com/m1", "Old", "Lead.", "Top stories")
	h.add("https://example.com/m2", "New", "Lead.", "Top stories")
	if _, err := h.store.UpdateItem(t.Context(), old.ID, func(it *clipmodel.Item) error { it.Status = clipmodel.StatusApproved; return nil }); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", h.srv.URL+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("anonymous /metrics: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	if code, _ := h.scrape(h.token(clipmodel.RoleCurator)); code != 403 {
		t.Errorf("curator /metrics: %d", code)
	}
	h.server.Metrics().ObservePoll("Wire A", nil, false, 3, 1200*time.Millisecond)
	h.server.Metrics().ObservePoll("Wire A", errors.New("HTTP 503"), false, 0, time.Second)
	h.server.Metrics().ObservePoll("Wire B", nil, true, 0, 100*time.Millisecond)
	for range 3 {
		h.get("/healthz")
	}
	h.get("/no/such/page")
	code, fams := h.scrape(h.token(clipmodel.RoleAdmin))
	if code != 200 {
		t.Fatalf("admin /metrics: %d", code)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"clipsheet_items", map[string]string{"status": "queued"}, 1},
		{"clipsheet_items", map[string]string{"status": "approved"}, 1},
		{"clipsheet_items", map[string]string{"status": "rejected"}, 0},
		{"clipsheet_polls_total", map[string]string{"source": "Wire A", "result": "ok"}, 1},
		{"clipsheet_polls_total", map[string]string{"source": "Wire A", "result": "error"}, 1},
		{"clipsheet_polls_total", map[string]string{"source": "Wire B", "result": "not_modified"}, 1},
		{"clipsheet_items_fetched_total", map[string]string{"source": "Wire A"}, 3},
		{"clipsheet_poll_duration_seconds", map[string]string{"source": "Wire A"}, 2},
		{"clipsheet_http_requests_total", map[string]string{"route": "/healthz", "method": "GET", "code": "200"}, 3},
		{"clipsheet_http_requests_total", map[string]string{"route": "unmatched", "code": "404"}, 1},
		{"clipsheet_store_up", nil, 1},
		{"clipsheet_build_info", nil, 1},
	} {
		if got, ok := value(fams[c.name], c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if size, ok := value(fams["clipsheet_store_size_bytes"], nil); !ok || size <= 0 {
		t.Errorf("store size %v %v", size, ok)
	}
	if age, ok := value(fams["clipsheet_queue_oldest_age_seconds"], nil); !ok || age < 0 {
		t.Errorf("queue age %v %v", age, ok)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	// Item pages are counted under their pattern, not their path.
	for name := range fams {
		if strings.Contains(name, "m1") {
			t.Errorf("a path leaked into a metric name: %s", name)
		}
	}
}

// TestReadyz: ready while the store takes writes; not once it is closed.
func TestReadyz(t *testing.T) {
	h := newHarness(t)
	code, body, _ := h.get("/readyz")
	if code != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	h.store.Close()
	code, body, _ = h.getWith(h.newClient(), "/readyz")
	if code != 503 || !strings.Contains(body, "store") {
		t.Errorf("readyz with the store closed: %d %s", code, body)
	}
}

// TestStatusPageAndCompact: admins see the figures and can compact the
// database after a confirmation; curators cannot.
func TestStatusPageAndCompact(t *testing.T) {
	h := newHarness(t)
	h.add("https://example.com/s1", "One", "Lead.", "Top stories")
	h.server.Metrics().ObservePoll("County Herald", nil, false, 2, time.Second)
	admin := h.as(clipmodel.RoleAdmin)
	code, body, _ := h.getWith(admin, "/admin/status")
	if code != 200 {
		t.Fatalf("status page: %d", code)
	}
	for _, want := range []string{"1 item", "County Herald", "Database file", "MiB", "Compact now"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if code, _, _ := h.getWith(h.as(clipmodel.RoleCurator), "/admin/status"); code != 403 {
		t.Errorf("curator on the status page: %d", code)
	}
	csrf := h.csrfOf(admin, "/admin/status")
	code, body = h.postWith(admin, "/admin/status/compact", url.Values{"csrf_token": {csrf}}, nil)
	if code != 200 || !strings.Contains(body, "Compact the database now?") {
		t.Fatalf("unconfirmed compact: %d", code)
	}
	code, _ = h.postWith(admin, "/admin/status/compact", url.Values{"csrf_token": {csrf}, "confirm": {"yes"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("confirmed compact: %d", code)
	}
	if _, body, _ := h.getWith(admin, "/admin/status?compacted=2097152-1048576-1500"); !strings.Contains(body, "Compacted in 1.5s: 2.0 MiB before, 1.0 MiB after.") {
		t.Error("the status page does not say what the compaction did")
	}
	if got, err := h.store.ListItems(t.Context(), store.ItemFilter{}); err != nil || len(got) != 1 {
		t.Errorf("items after compacting: %d %v", len(got), err)
	}
	events, _ := h.store.ListAudit(t.Context(), store.AuditFilter{Action: "store.compact"})
	if len(events) != 1 || events[0].Actor != testUsers[clipmodel.RoleAdmin] {
		t.Errorf("audit of the compaction: %+v", events)
	}
}
