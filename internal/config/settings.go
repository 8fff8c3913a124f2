package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Settings configure the service. They come from an optional clipsheet.yaml,
// then CLIPSHEET_* environment variables, then command-line flags, each
// overriding the one before. Keys nest: fetch.allow_private is
// CLIPSHEET_FETCH_ALLOW_PRIVATE.
type Settings struct {
	Addr           string   `yaml:"addr"`
	DataDir        string   `yaml:"data_dir"`
	Sources        string   `yaml:"sources"`
	BaseURL        string   `yaml:"base_url"`
	Timezone       string   `yaml:"timezone"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	TLS            TLS      `yaml:"tls"`
	Fetch          Fetch    `yaml:"fetch"`
	Excerpt        Excerpt  `yaml:"excerpt"`
	Briefing       Briefing `yaml:"briefing"`
	Editions       Editions `yaml:"editions"`
	Log            Log      `yaml:"log"`
	Retention      Keep     `yaml:"retention"`
	Metrics        Metrics  `yaml:"metrics"`
	Backup         Backup   `yaml:"backup"`
}

// Metrics says where Prometheus reads /metrics without a token.
type Metrics struct {
	// Addr, when set, serves /metrics (and only it) there without
	// authentication, e.g. 127.0.0.1:9090 for a local Prometheus. On the
	// main address /metrics always needs an admin's API token.
	Addr string `yaml:"addr"`
}

// Keep is how long items that were never approved are kept; approved ones
// are kept whole. 0 keeps for ever.
type Keep struct {
	// DropBodiesAfter drops the article text of queued and rejected items
	// fetched longer ago (headline, lead and link stay).
	DropBodiesAfter time.Duration `yaml:"drop_bodies_after"`
	// PruneAfter deletes queued and rejected items fetched longer ago.
	PruneAfter time.Duration `yaml:"prune_after"`
}

// Backup schedules the copies serve makes of the database while running.
type Backup struct {
	// Dir holds them; empty means a "backups" directory in data_dir.
	Dir string `yaml:"dir"`
	// Every is the time between two copies; 0 turns them off.
	Every time.Duration `yaml:"every"`
	// Keep is how many copies are kept; older ones are deleted.
	Keep int `yaml:"keep"`
}

// TLS serves HTTPS directly when both files are set.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Fetch limits how the fetcher talks to publishers.
type Fetch struct {
	AllowPrivate   bool          `yaml:"allow_private"`
	Timeout        time.Duration `yaml:"timeout"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	MaxBodyBytes   Size          `yaml:"max_body_bytes"`
	Workers        int           `yaml:"workers"`
	PerHost        int           `yaml:"per_host"`
	UserAgent      string        `yaml:"user_agent"`
	MaxArticles    int           `yaml:"max_articles"`
	IgnoreRobots   bool          `yaml:"ignore_robots"`
}

// Excerpt shapes the lead taken from each story.
type Excerpt struct {
	MaxChars int `yaml:"max_chars"`
}

// Briefing controls who may read the briefing page and feeds.
type Briefing struct {
	Public bool   `yaml:"public"`
	Title  string `yaml:"title"`
	// Canonical is where an item page's rel=canonical points: "self" (the
	// item page) or "original" (the publisher's story), for desks whose
	// policy is to leave search credit with the publisher.
	Canonical string `yaml:"canonical"`
}

// Editions is when the briefing is published as an edition.
type Editions struct {
	// Schedule lists the times of day (HH:MM, in the desk's timezone) at
	// which the next edition is published; empty means manual only.
	Schedule []string `yaml:"schedule"`
	// WeekdaysOnly skips Saturdays and Sundays (in the desk's timezone).
	WeekdaysOnly bool `yaml:"weekdays_only"`
}

// Log selects the log format and level.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// BackupDir is where serve writes its scheduled backups.
func (s Settings) BackupDir() string {
	if s.Backup.Dir != "" {
		return s.Backup.Dir
	}
	return filepath.Join(s.DataDir, "backups")
}

// UserAgent names the program so publishers can tell who polls them.
const UserAgent = "Clipsheet/0.1 (+https://github.com/clipsheet/clipsheet; news excerpt curator)"

// DefaultSettings are what `make run` uses on a fresh machine.
func DefaultSettings() Settings {
	return Settings{
		Addr:    "127.0.0.1:8080",
		DataDir: "./data",
		Sources: "sources.yaml",
		Fetch: Fetch{
			Timeout:        30 * time.Second,
			ConnectTimeout: 10 * time.Second,
			MaxBodyBytes:   10 << 20,
			Workers:        16,
			PerHost:        2,
			UserAgent:      UserAgent,
			MaxArticles:    50,
		},
		Excerpt:  Excerpt{MaxChars: 600},
		Briefing: Briefing{Public: true, Title: "Clipsheet briefing", Canonical: "self"},
		Timezone: "Local",
		Log:      Log{Level: "info", Format: "text"},
		// A year of a desk taking 5,000 candidates a day stays near 1 GB:
		// bodies are what is large, and no one reads the text of a
		// month-old story that was never approved.
		Retention: Keep{DropBodiesAfter: 30 * 24 * time.Hour, PruneAfter: 180 * 24 * time.Hour},
		Backup:    Backup{Every: 24 * time.Hour, Keep: 7},
	}
}

// LoadSettings builds settings from defaults, the YAML file at path (missing
// is fine unless required), and the environment (as from os.Environ).
func LoadSettings(path string, required bool, environ []string) (Settings, error) {
	s := DefaultSettings()
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !required:
		case err != nil:
			return s, fmt.Errorf("read settings: %w", err)
		default:
			if err := s.applyFile(data); err != nil {
				return s, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "CLIPSHEET_") {
			continue
		}
		key, known := envKey(k)
		if !known {
			return s, fmt.Errorf("environment: unknown setting %s (known: %s)", k, strings.Join(EnvNames(), ", "))
		}
		if err := s.Set(key, v); err != nil {
			return s, fmt.Errorf("environment %s: %w", k, err)
		}
	}
	return s, s.Check()
}

// Check rejects settings that cannot work.
func (s Settings) Check() error {
	var errs []string
	if s.Fetch.Timeout <= 0 {
		errs = append(errs, "fetch.timeout must be positive")
	}
	if s.Fetch.MaxBodyBytes <= 0 {
		errs = append(errs, "fetch.max_body_bytes must be positive")
	}
	if s.Fetch.Workers <= 0 || s.Fetch.PerHost <= 0 {
		errs = append(errs, "fetch.workers and fetch.per_host must be positive")
	}
	if s.Excerpt.MaxChars < 50 {
		errs = append(errs, "excerpt.max_chars must be at least 50")
	}
	switch strings.ToLower(s.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log.level %q: use debug, info, warn or error", s.Log.Level))
	}
	if s.Log.Format != "text" && s.Log.Format != "json" {
		errs = append(errs, fmt.Sprintf("log.format %q: use text or json", s.Log.Format))
	}
	if strings.TrimSpace(s.Addr) == "" {
		errs = append(errs, "addr must not be empty")
	}
	if s.Retention.DropBodiesAfter < 0 || s.Retention.PruneAfter < 0 {
		errs = append(errs, "retention.drop_bodies_after and retention.prune_after must not be negative (0 keeps for ever)")
	}
	if s.Backup.Every < 0 || (s.Backup.Every > 0 && s.Backup.Every < time.Minute) {
		errs = append(errs, "backup.every must be 0 (off) or at least 1m")
	}
	if s.Backup.Keep < 1 {
		errs = append(errs, "backup.keep must be at least 1")
	}
	if (s.TLS.Cert == "") != (s.TLS.Key == "") {
		errs = append(errs, "tls.cert and tls.key must be given together")
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" {
		errs = append(errs, fmt.Sprintf("timezone %q: use an IANA name such as Europe/Berlin or America/New_York, UTC, or Local", s.Timezone))
	}
	for _, t := range s.Editions.Schedule {
		if _, _, ok := ParseClock(t); !ok {
			errs = append(errs, fmt.Sprintf("editions.schedule: %q is not a time of day (use HH:MM, e.g. 06:00)", t))
		}
	}
	if s.Briefing.Canonical != "self" && s.Briefing.Canonical != "original" {
		errs = append(errs, fmt.Sprintf("briefing.canonical %q: use self or original", s.Briefing.Canonical))
	}
	if b := s.BaseURL; b != "" {
		if u, err := url.Parse(b); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("base_url %q: use an absolute http(s) address such as https://desk.example.org", b))
		}
	}
	if len(errs) > 0 {
		return errors.New("settings: " + strings.Join(errs, "; "))
	}
	return nil
}

// ParseClock reads a time of day written HH:MM (24-hour clock).
func ParseClock(v string) (hour, minute int, ok bool) {
	h, m, found := strings.Cut(strings.TrimSpace(v), ":")
	if !found || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, 0, false
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return 0, 0, false
	}
	return hour, minute, true
}

// applyFile sets every key of a clipsheet.yaml through Set, so the file
// takes the same value forms as the environment and flags (2d, 10MB) and
// each problem is named by dotted key and line ("line 2: unknown setting
// fetch.alow_private") rather than by Go type.
func (s *Settings) applyFile(data []byte) error {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("invalid YAML: %w", err)
	}
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k] = true
		for p := k; strings.Contains(p, "."); {
			p = p[:strings.LastIndex(p, ".")]
			known[p+"."] = true // a group such as "fetch."
		}
	}
	var problems []string
	var walk func(m *yaml.Node, prefix string)
	walk = func(m *yaml.Node, prefix string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, val := m.Content[i], m.Content[i+1]
			key := prefix + k.Value
			switch {
			case strings.Contains(k.Value, ".") && known[key]:
				group, leaf := key[:strings.LastIndex(key, ".")], key[strings.LastIndex(key, ".")+1:]
				problems = append(problems, fmt.Sprintf("line %d: write %s nested, as %q and under it %q", k.Line, key,
					strings.ReplaceAll(group, ".", ":\n  ")+":", leaf+": "+val.Value))
			case known[key+"."]:
				if val.Kind != yaml.MappingNode {
					problems = append(problems, fmt.Sprintf("line %d: %s holds keys (e.g. %s:\n  key: value)", val.Line, key, key))
					continue
				}
				walk(val, key+".")
			case !known[key]:
				problems = append(problems, fmt.Sprintf("line %d: unknown setting %s", k.Line, key))
			case val.Kind == yaml.ScalarNode && val.Tag == "!!null":
				// "key:" with nothing after it keeps the default
			case val.Kind == yaml.SequenceNode && isListSetting(key):
				parts := make([]string, 0, len(val.Content))
				for _, c := range val.Content {
					parts = append(parts, c.Value)
				}
				if err := s.Set(key, strings.Join(parts, ",")); err != nil {
					problems = append(problems, fmt.Sprintf("line %d: %v", val.Line, err))
				}
			case val.Kind != yaml.ScalarNode:
				problems = append(problems, fmt.Sprintf("line %d: %s takes a single value", val.Line, key))
			default:
				if err := s.Set(key, val.Value); err != nil {
					problems = append(problems, fmt.Sprintf("line %d: %v", val.Line, err))
				}
			}
		}
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: settings must be a mapping of keys, e.g. \"addr: 127.0.0.1:8080\"", top.Line)
	}
	walk(top, "")
	if len(problems) == 0 {
		return nil
	}
	msg := strings.Join(problems, "; ")
	if strings.Contains(msg, "unknown setting") {
		msg += " (known settings: " + strings.Join(Keys(), ", ") + ")"
	}
	return errors.New(msg)
}

func isListSetting(key string) bool {
	list := false
	t := reflect.TypeOf(Settings{})
	walkFields(t, "", func(k string, idx []int) {
		if k == key {
			list = t.FieldByIndex(idx).Type.Kind() == reflect.Slice
		}
	})
	return list
}

// Keys lists every dotted setting key, e.g. "fetch.allow_private".
func Keys() []string {
	var keys []string
	walkFields(reflect.TypeOf(Settings{}), "", func(key string, _ []int) { keys = append(keys, key) })
	sort.Strings(keys)
	return keys
}

// EnvNames lists the environment variable of every setting.
func EnvNames() []string {
	keys := Keys()
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = EnvName(k)
	}
	return out
}

// EnvName maps "fetch.allow_private" to CLIPSHEET_FETCH_ALLOW_PRIVATE.
func EnvName(key string) string {
	return "CLIPSHEET_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func envKey(env string) (string, bool) {
	for _, k := range Keys() {
		if EnvName(k) == env {
			return k, true
		}
	}
	return "", false
}

func walkFields(t reflect.Type, prefix string, fn func(key string, index []int)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			walkFields(f.Type, key+".", func(k string, idx []int) {
				fn(k, append([]int{i}, idx...))
			})
			continue
		}
		fn(key, []int{i})
	}
}

// Set assigns one setting by its dotted key from its text form.
func (s *Settings) Set(key, value string) error {
	var index []int
	walkFields(reflect.TypeOf(*s), "", func(k string, idx []int) {
		if k == key {
			index = idx
		}
	})
	if index == nil {
		return fmt.Errorf("unknown setting %q", key)
	}
	f := reflect.ValueOf(s).Elem().FieldByIndex(index)
	value = strings.TrimSpace(value)
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", key, value)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := parseSize(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		f.SetInt(n)
	case f.Kind() == reflect.String:
		f.SetString(value)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var parts []string
		for _, p := range strings.Split(value, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("%s: unsupported setting type %s", key, f.Type())
	}
	return nil
}

// Size is a byte count written as 10485760 or 10MB.
type Size int64

// UnmarshalYAML accepts a plain number or one with a KB/MB/GB suffix.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Size(v)
	return nil
}

// parseSize reads integers with optional KB/MB/GB suffixes (powers of 1024).
func parseSize(v string) (int64, error) {
	mult := int64(1)
	upper := strings.ToUpper(v)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if strings.HasSuffix(upper, u.suffix) {
			mult = u.mult
			v = strings.TrimSpace(v[:len(v)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	return n * mult, nil
}
