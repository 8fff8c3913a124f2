package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// dur prints a duration with three significant digits.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// cellText says how a cell went, for the log and the notes column.
func cellText(c cell, capDur time.Duration, planned int) string {
	s := fmt.Sprintf("p50 %s p99 %s max %s, %d/%d ok", q(c.p50), q(c.p99), q(c.max), c.ok, planned)
	return s + problems(c, capDur, planned)
}

func problems(c cell, capDur time.Duration, planned int) string {
	var p []string
	if c.killed {
		p = append(p, "server killed by the memory guard")
	}
	if c.timedOut > 0 {
		p = append(p, fmt.Sprintf("%d cut off at the %s cap", c.timedOut, capDur))
	}
	if c.failed > 0 {
		var st []string
		keys := make([]int, 0, len(c.statuses))
		for k := range c.statuses {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		for _, k := range keys {
			name := fmt.Sprint(k)
			if k < 0 {
				name = "connection error"
			}
			st = append(st, fmt.Sprintf("%d× %s", c.statuses[k], name))
		}
		p = append(p, "failed: "+strings.Join(st, ", "))
	}
	if notSent := planned - c.asked; notSent > 0 {
		p = append(p, fmt.Sprintf("%d not sent in time", notSent))
	}
	if len(p) == 0 {
		return ""
	}
	return " (" + strings.Join(p, "; ") + ")"
}

// q shows a quantile: "≥ t*" when it fell on a request cut off at the cap.
func q(s sample) string {
	switch {
	case s.d <= 0:
		return "none*"
	case s.cut:
		return "≥ " + dur(s.d) + "*"
	}
	return dur(s.d)
}

func sizeName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func commit() string {
	out, err := exec.Command("git", "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "unknown commit"
	}
	s := strings.TrimSpace(string(out))
	if dirty, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(dirty) > 0 {
		s += " (with uncommitted changes)"
	}
	return s
}

func loadAvg() string {
	out, err := exec.Command("cat", "/proc/loadavg").Output()
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// report writes the markdown: one table per size, then the ratios of every
// size to the smallest.
func report(o options, rs []*sizeResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Run of %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Commit `%s`, store schema %d, %d CPUs, load average at the end %s; %d requests per cell, cap %s per cell, clients %v.\n",
		commit(), storeSchema(), runtime.NumCPU(), loadAvg(), o.requests, o.cellCap, o.clients)
	for _, r := range rs {
		sizeTable(&b, o, r)
	}
	if len(rs) > 1 {
		ratioTables(&b, o, rs)
	}
	return b.String()
}

func sizeTable(b *strings.Builder, o options, r *sizeResult) {
	fmt.Fprintf(b, "\n#### %s items\n\n", sizeName(r.n))
	if r.err != nil {
		fmt.Fprintf(b, "Not measured to the end: %v\n\n", r.err)
	}
	if len(r.rows) > 0 {
		b.WriteString("| request |")
		for _, c := range o.clients {
			fmt.Fprintf(b, " p50, %d cl. | p99, %d cl. |", c, c)
		}
		b.WriteString(" notes |\n|---|")
		for range o.clients {
			b.WriteString("---|---|")
		}
		b.WriteString("---|\n")
		for _, row := range r.rows {
			cs := r.cells[row]
			fmt.Fprintf(b, "| %s |", row)
			var notes []string
			for i, c := range cs {
				fmt.Fprintf(b, " %s | %s |", q(c.p50), q(c.p99))
				if pr := problems(c, o.cellCap, o.requests); pr != "" {
					notes = append(notes, fmt.Sprintf("%d cl.:%s", o.clients[i], pr))
				}
			}
			if len(cs) > 0 && cs[0].bytes > 0 {
				notes = append([]string{bytesText(cs[0].bytes) + " sent"}, notes...)
			}
			fmt.Fprintf(b, " %s |\n", strings.Join(notes, "; "))
		}
		b.WriteString("\n")
	}
	m := r.meta
	if m == nil {
		return
	}
	b.WriteString("| figure | value |\n|---|---|\n")
	how := "cached, built " + m.BuiltAt.Format("2006-01-02 15:04 UTC")
	if r.built {
		how = "built in this run"
	}
	fmt.Fprintf(b, "| items: queued / approved / rejected | %d / %d / %d (%s, %.1f h old) |\n",
		m.Counts["queued"], m.Counts["approved"], m.Counts["rejected"], how, time.Since(m.BuiltAt).Hours())
	fmt.Fprintf(b, "| insert rate, WritePolls (%d items a transaction) | **%.0f items/s** (%.1f s in WritePolls; build %.1f s in all) |\n",
		o.batch, m.InsertPerSec, m.InsertSeconds, m.BuildSeconds)
	fmt.Fprintf(b, "| UpdateItem (recent approvals and edits) | %d at %.0f/s |\n", m.Updates, m.UpdatePerSec)
	fmt.Fprintf(b, "| planned approvals in the briefing's 48 h | %d |\n", m.BriefingPlanned)
	fmt.Fprintf(b, "| items with the common / rare word | %.1f%% / %.2f%% |\n", 100*m.CommonShare, 100*m.RareShare)
	if r.fileBytes > 0 {
		fmt.Fprintf(b, "| file size | **%s** (%s when built) |\n", bytesText(r.fileBytes), bytesText(m.FileBytes))
	}
	if r.startup > 0 {
		fmt.Fprintf(b, "| start: process start to first 200 on `/healthz` | **%s** |\n", dur(r.startup))
	}
	if r.after.vmRSS > 0 {
		fmt.Fprintf(b, "| serve's memory after the load: RssAnon / VmRSS | **%s** / %s |\n", bytesText(r.after.rssAnon), bytesText(r.after.vmRSS))
	}
	if r.peak.vmRSS > 0 {
		fmt.Fprintf(b, "| peak during the load (50 ms samples): RssAnon / VmRSS / VmHWM | %s / %s / %s |\n",
			bytesText(r.peak.rssAnon), bytesText(r.peak.vmRSS), bytesText(r.peak.vmHWM))
	}
	if r.restarts > 0 {
		fmt.Fprintf(b, "| server | killed %d times when its anonymous memory passed %s (started again for the next cell) |\n", r.restarts, bytesText(o.maxRSS))
	}
	if r.staticRatio > 0 {
		bound := ""
		if r.staticCut {
			bound = "at most "
		}
		fmt.Fprintf(b, "| `/` against the static server (p50, 1 client) | %s1/%.0f of its speed; body %s as sent |\n",
			bound, 1/r.staticRatio, bytesText(r.briefingBytes))
	}
	b.WriteString("\n")
}

func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// sampleRatio is a/b, bounded when either is a lower bound.
func sampleRatio(a, b sample) string {
	r := ratio(a.d, b.d)
	switch {
	case r == "—":
		return r
	case a.cut && b.cut:
		return "?*"
	case a.cut:
		return "≥ " + r + "*"
	case b.cut:
		return "≤ " + r + "*"
	}
	return r
}

func ratioTables(b *strings.Builder, o options, rs []*sizeResult) {
	base := rs[0]
	for _, r := range rs[1:] {
		if len(r.rows) == 0 {
			continue // not measured (interrupted or failed to build)
		}
		fmt.Fprintf(b, "#### Ratios %s / %s\n\n", sizeName(r.n), sizeName(base.n))
		b.WriteString("| request |")
		for _, c := range o.clients {
			fmt.Fprintf(b, " p50, %d cl. | p99, %d cl. |", c, c)
		}
		b.WriteString("\n|---|")
		for range o.clients {
			b.WriteString("---|---|")
		}
		b.WriteString("\n")
		for _, row := range base.rows {
			cb, cr := base.cells[row], r.cells[row]
			if len(cr) == 0 {
				continue
			}
			fmt.Fprintf(b, "| %s |", row)
			for i := range o.clients {
				if i >= len(cb) || i >= len(cr) {
					b.WriteString(" — | — |")
					continue
				}
				fmt.Fprintf(b, " %s | %s |", sampleRatio(cr[i].p50, cb[i].p50), sampleRatio(cr[i].p99, cb[i].p99))
			}
			b.WriteString("\n")
		}
		cols := 2 * len(o.clients)
		fig := func(name, v string) {
			fmt.Fprintf(b, "| %s | %s |%s\n", name, v, strings.Repeat(" |", cols-1))
		}
		if base.fileBytes > 0 && r.fileBytes > 0 {
			fig("file size", fmt.Sprintf("%.2f", float64(r.fileBytes)/float64(base.fileBytes)))
		}
		if base.startup > 0 && r.startup > 0 {
			fig("start time", ratio(r.startup, base.startup))
		}
		if base.after.rssAnon > 0 && r.after.rssAnon > 0 {
			fig("RssAnon after the load", fmt.Sprintf("%.2f", float64(r.after.rssAnon)/float64(base.after.rssAnon)))
		}
		if base.meta != nil && r.meta != nil && base.meta.InsertPerSec > 0 {
			fig("insert rate (items/s)", fmt.Sprintf("%.2f", r.meta.InsertPerSec/base.meta.InsertPerSec))
		}
		b.WriteString("\n")
	}
	b.WriteString("\\* the quantile fell on a request cut off at the cell's cap: the time shown is how long it had run, a lower bound.\n")
}
