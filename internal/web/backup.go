package web

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/backup"
)

// backupSource is the store's hot copy (*store.Bolt has it).
type backupSource interface {
	Backup(ctx context.Context, w io.Writer, begin func(size int64)) (int64, error)
}

func (s *Server) backupPage(c *gin.Context) {
	data := gin.H{"Title": "Backup", "Schedule": s.cfg.Settings.Backup, "Dir": s.cfg.Settings.BackupDir()}
	if every := s.cfg.Settings.Backup.Every; every > 0 {
		data["Every"], data["First"] = period(every)
		copies, err := backup.List(s.cfg.Settings.BackupDir())
		if err != nil {
			data["ListError"] = err.Error()
		}
		type row struct {
			Name, Size string
			Time       time.Time
		}
		rows := make([]row, len(copies))
		for i, c := range copies {
			rows[i] = row{c.Name, humanBytes(c.Size), c.Time}
		}
		data["Copies"] = rows
	}
	if s.cfg.Health != nil {
		if err := s.cfg.Health(); err != nil {
			data["Damage"] = err.Error()
		}
	}
	s.render(c, http.StatusOK, "admin_backup", data)
}

// backupDownload streams a consistent copy of the database. It is a GET
// that changes nothing but the audit log: who took a copy of every
// account's password hash is worth knowing.
func (s *Server) backupDownload(c *gin.Context) {
	src, ok := s.store.(backupSource)
	if !ok {
		s.errorPage(c, http.StatusNotFound, "Not available", "This store cannot be copied while running.")
		return
	}
	name := backup.Name(s.cfg.Now())
	s.audit(c, "backup.download", name, "")
	// A copy of a big file takes longer than the server's write timeout
	// allows one answer; each write gets its own minute instead, so a
	// reader that stops reading still ends the copy (and its read
	// transaction, which holds freed pages from reuse).
	rc := http.NewResponseController(c.Writer)
	begun := false
	_, err := src.Backup(c.Request.Context(), deadlineWriter{rc, c.Writer}, func(size int64) {
		begun = true
		h := c.Writer.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Cache-Control", "no-store")
		c.Status(http.StatusOK)
	})
	if err != nil {
		if !begun {
			s.fail(c, err)
			return
		}
		// Headers are gone; the short body tells the client.
		s.log.Warn("backup download cut short", "err", err)
		c.Abort()
	}
}

type deadlineWriter struct {
	rc *http.ResponseController
	w  io.Writer
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(time.Minute))
	return d.w.Write(p)
}

// period words a backup interval for "Every …" and "when it has run
// for …": 24h gives "day" and "a day", 6h "6 hours" twice, 90m
// "90 minutes" twice.
func period(d time.Duration) (every, first string) {
	for _, u := range []struct {
		d        time.Duration
		name, an string
	}{{24 * time.Hour, "day", "a day"}, {time.Hour, "hour", "an hour"}, {time.Minute, "minute", "a minute"}} {
		if d%u.d != 0 {
			continue
		}
		if n := int(d / u.d); n != 1 {
			s := strconv.Itoa(n) + " " + u.name + "s"
			return s, s
		}
		return u.name, u.an
	}
	return d.String(), d.String()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "B"
}
