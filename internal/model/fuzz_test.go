package model

import "testing"

// FuzzCanonicalURL checks that canonicalisation never panics and is
// idempotent, so an item's ID is the same whether it is computed from the
// link in the feed or from the canonical URL stored with the item.
func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://Example.com:443/a/b?utm_source=x&b=2&a=1#frag",
		"http://example.com",
		"HTTP://EXAMPLE.COM:80/?",
		"https://example.com/%7Efoo?q=a+b&q=%20c",
		"//example.com/path",
		"not a url",
		"https://[::1]:8080/x?fbclid=1",
		"https://example.com/a?=&&=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		once := CanonicalURL(raw)
		if twice := CanonicalURL(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, once, twice)
		}
		if ItemID(raw) != ItemID(once) {
			t.Fatalf("ItemID differs between %q and its canonical form %q", raw, once)
		}
	})
}
