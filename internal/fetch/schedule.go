package fetch

import (
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Scheduling constants. The interval is the source's (or the default) from
// sources.yaml; everything here stretches it.
const (
	// A failing source waits interval·2^(failures-1), up to this (or the
	// interval itself, if longer).
	maxFailureBackoff = 12 * time.Hour
	// After quietAfter polls in a row with nothing new, each further quiet
	// poll stretches the interval by quietStep, up to quietMaxFactor times
	// the interval (and never past maxQuietDelay unless the interval is).
	quietAfter     = 3
	quietStep      = 0.25
	quietMaxFactor = 4.0
	maxQuietDelay  = 24 * time.Hour
	// Retry-After beyond a week is treated as a week.
	maxRetryAfter = 7 * 24 * time.Hour
	// Jitter spreads polls by ±jitterFrac so sources configured together do
	// not stay in lock step.
	jitterFrac = 0.1
)

// nextDelay computes how long to wait before polling a source again, from
// its state after the poll (ConsecutiveFailures and Unchanged already
// updated). retryAfter is the server's Retry-After, if it sent one. r is a
// random number in [0,1) for the jitter.
func nextDelay(st *model.SourceState, interval time.Duration, failed bool, retryAfter time.Duration, r float64) time.Duration {
	if interval <= 0 {
		interval = time.Minute
	}
	var d time.Duration
	if failed {
		n := max(st.ConsecutiveFailures, 1)
		limit := max(interval, maxFailureBackoff)
		d = interval
		for i := 1; i < n && d < limit; i++ {
			d *= 2
		}
		d = min(d, limit)
	} else {
		factor := 1.0
		if q := st.Unchanged - quietAfter; q > 0 {
			factor = min(1+quietStep*float64(q), quietMaxFactor)
		}
		d = time.Duration(float64(interval) * factor)
		d = min(d, max(interval, maxQuietDelay))
	}
	d = time.Duration(float64(d) * (1 + jitterFrac*(2*r-1)))
	// The server's explicit wish wins over our own guess, jitter included:
	// polling before Retry-After would only earn another 429.
	if retryAfter > 0 {
		d = max(d, min(retryAfter, maxRetryAfter))
	}
	return d
}
