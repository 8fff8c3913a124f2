package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
)

// ClipSource is the source name of items a curator clipped by URL.
const ClipSource = "Clipped"

// ErrBadClipURL marks a clip of something that is not a web address.
var ErrBadClipURL = errors.New("not an http or https address")

// Clip fetches one article page with the guarded client, as a poll would
// fetch a feed's story, and builds its item (filed under section) without
// storing it. A page that cannot be fetched or read is an error: a clip
// has no feed entry to fall back on.
func (f *Fetcher) Clip(ctx context.Context, link, section string) (*model.Item, error) {
	link = strings.TrimSpace(link)
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("clip %q: %w", link, ErrBadClipURL)
	}
	src := config.Source{Name: ClipSource, URL: link, Section: section}
	it, err := f.buildItem(ctx, src, feedEntry{Link: link}, "", f.now())
	if err != nil {
		return nil, fmt.Errorf("clip %s: %w", link, err)
	}
	if it.Title == "" && it.Lead == "" {
		return nil, fmt.Errorf("clip %s: the page has no headline or text to clip", link)
	}
	return it, nil
}
