package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/clipsheet/clipsheet/internal/model"
)

// benchRecordItem is an item as the store-scale benchmark makes them: a
// 600-character lead, a 2 KB body, tags, decided.
func benchRecordItem() *model.Item {
	lead := strings.Repeat("Crews from three stations worked through the night to contain the blaze. ", 9)[:600]
	body := strings.Repeat("Officials said further details would follow later in the week, and residents were asked to avoid the area. ", 20)[:2048]
	at := time.Date(2026, 11, 30, 6, 7, 8, 123456789, time.UTC)
	it := model.NewItem(model.Extraction{URL: "https://news.example/2026/11/30/fire-on-route-9", Title: "Crews contain brush fire on Route 9 after overnight evacuations",
		Byline: "Ana Reporter", Published: at.Add(-time.Hour).Truncate(time.Second), SiteName: "County Herald", Lead: lead, Body: body, Language: "en"}, "County Herald", "Fire", at)
	it.Status, it.DecidedAt, it.DecidedBy, it.Tags = model.StatusApproved, at.Add(time.Hour).Truncate(time.Second), "ana", []string{"wildfire", "evacuation"}
	return it
}

// plainItem is model.Item without its JSON methods: what one decode per
// record looks like with encoding/json (times in time.Time's own form).
type plainItem struct {
	ID, URL, CanonicalURL, Title, Byline string
	Published                            time.Time
	SiteName, Lead, Body, Language       string
	Image, Source, Section               string
	Status                               model.Status
	FetchedAt, UpdatedAt, DecidedAt      time.Time
	DecidedBy, EditedBy                  string
	Tags                                 []string
	Note                                 string
	Original                             struct {
		URL, CanonicalURL, Title, Byline, SiteName, Lead, Body, Language, Image string
		Published                                                               time.Time
	}
	FetchError string
	Version    int64
}

// BenchmarkRecordDecode compares ways to read one stored item back, for
// a list (no body) and for the item view (with the body):
//
//	json-v1-item    schema 3: encoding/json into model.Item, whose
//	                UnmarshalJSON decodes again (the record, body and all)
//	json-v1-plain   encoding/json, one decode, no custom methods
//	json-v2-plain   github.com/go-json-experiment/json (encoding/json/v2)
//	binary-head     this store's head record (lists)
//	binary-full     head and text records, body inflated (item view)
func BenchmarkRecordDecode(b *testing.B) {
	it := benchRecordItem()
	schema3 := *it
	schema3.Original.Body = ""
	v3, err := json.Marshal(&schema3)
	if err != nil {
		b.Fatal(err)
	}
	var p plainItem
	if err := json.Unmarshal(v3, &p); err != nil {
		b.Fatal(err)
	}
	plain, _ := json.Marshal(&p)
	var c codec
	head := c.encodeHead(it)
	text, err := c.encodeText(it)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("bytes: schema-3 JSON %d, plain JSON %d, head %d + text %d (body %d)", len(v3), len(plain), len(head), len(text), len(it.Body))
	b.Run("json-v1-item", func(b *testing.B) {
		for b.Loop() {
			var got model.Item
			if err := json.Unmarshal(v3, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-v1-plain", func(b *testing.B) {
		for b.Loop() {
			var got plainItem
			if err := json.Unmarshal(plain, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-v2-plain", func(b *testing.B) {
		for b.Loop() {
			var got plainItem
			if err := jsonv2.Unmarshal(plain, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary-head", func(b *testing.B) {
		for b.Loop() {
			var got model.Item
			if err := c.decodeHead(head, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary-full", func(b *testing.B) {
		for b.Loop() {
			var got model.Item
			if err := c.decodeHead(head, &got); err != nil {
				b.Fatal(err)
			}
			if err := c.decodeText(text, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
