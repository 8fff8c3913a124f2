package model

import "time"

// SourceState is what the fetcher remembers about a source between polls,
// and what the health views show.
type SourceState struct {
	Name                string    `json:"name"`
	URL                 string    `json:"url"`
	ETag                string    `json:"etag,omitempty"`
	LastModified        string    `json:"last_modified,omitempty"`
	LastAttempt         time.Time `json:"last_attempt,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	HTTPStatus          int       `json:"http_status,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	ItemsFound          int       `json:"items_found"`
	LastNewItems        int       `json:"last_new_items"`
	LastNewItemAt       time.Time `json:"last_new_item_at,omitzero"`
	Unchanged           int       `json:"unchanged_polls"`
	NextPoll            time.Time `json:"next_poll,omitzero"`
	RetryAfter          time.Time `json:"retry_after,omitzero"`
	MovedTo             string    `json:"moved_to,omitempty"`
	FinalURL            string    `json:"final_url,omitempty"` // where the last fetch ended after redirects, if not URL
	FeedTitle           string    `json:"feed_title,omitempty"`
}

// Healthy reports whether the last attempt succeeded.
func (s *SourceState) Healthy() bool { return s.LastError == "" }
