// Package control is the local control socket of a running clipsheet serve:
// a small, versioned HTTP API on a unix socket in the data directory. The
// server holds bbolt's exclusive lock on the database, so another process
// cannot even open it read-only; the read-only commands (items, audit,
// sources status) ask the running server through this socket instead, and
// open the file themselves only when no server answers.
//
// The socket is mode 0600 and lives beside the database, so it grants no
// one anything the database file does not already give them.
//
// API version 1, all GET, JSON answers (errors are {"error": "..."}):
//
//	/v1                  {"api": 1}: who answers, and which version
//	/v1/items            {"items": [...]}    query: status, section, source, since, q, limit, offset
//	/v1/audit            {"events": [...]}   query: user, action, before, limit
//	/v1/sources/states   {"states": [...]}
//	/v1/backup           the database as of one moment (application/octet-stream)
//	/v1/check            {"report": {...}}   the running database's consistency check
//
// The last two are served when the Reader is also an Operator (the bbolt
// store is). New routes are added to v1; an incompatible change gets /v2,
// since an old client that finds no /v1 falls back to the file.
package control

import (
	"context"
	"io"
	"path/filepath"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// APIVersion is the version this package serves and speaks.
const APIVersion = 1

// SocketPath is where the control socket of the server using dataDir lives.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, "clipsheet.sock") }

// Reader is what the socket serves: the store's read-only queries. The
// bbolt store implements it, and so does Client, so a command reads through
// whichever it has and prints the same.
type Reader interface {
	ListItems(ctx context.Context, f store.ItemFilter) ([]*model.Item, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]model.AuditEvent, error)
	ListSourceStates(ctx context.Context) ([]*model.SourceState, error)
}

// Operator is what the backup and check routes need: the bbolt store.
type Operator interface {
	Backup(ctx context.Context, w io.Writer, begin func(size int64)) (int64, error)
	Check(ctx context.Context) (*store.Report, error)
}

// Answers of the API, one struct per route so each can grow fields.
type (
	versionAnswer struct {
		API int `json:"api"`
	}
	itemsAnswer struct {
		Items []*model.Item `json:"items"`
	}
	auditAnswer struct {
		Events []model.AuditEvent `json:"events"`
	}
	statesAnswer struct {
		States []*model.SourceState `json:"states"`
	}
	checkAnswer struct {
		Report *store.Report `json:"report"`
	}
	errorAnswer struct {
		Error string `json:"error"`
	}
)
