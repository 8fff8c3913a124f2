package curate

import (
	"context"
	"log/slog"
	"time"

	"github.com/clipsheet/clipsheet/internal/store"
)

// Pruner is the store's retention.
type Pruner interface {
	Prune(ctx context.Context, now time.Time, r store.Retention) (store.PruneReport, error)
}

// KeepTidy applies the retention r (and the store's own expiry of story
// prints) now and then every interval until ctx ends. Each run costs what came of age since the last (see store.Prune),
// so running it often is cheap; hourly keeps a busy desk's file from
// growing between runs.
func KeepTidy(ctx context.Context, p Pruner, r store.Retention, every time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := p.Prune(ctx, now(), r)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("retention", "err", err)
		case rep != (store.PruneReport{}):
			log.Info("retention", "items_deleted", rep.Items, "bodies_dropped", rep.Bodies)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
