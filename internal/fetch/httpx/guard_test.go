package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestClassifyIANARegistries walks the IANA IPv4 and IPv6 Special-Purpose
// Address Registries: for every block that is not globally reachable, one
// address inside must be refused and one just outside must not be (unless
// it falls into a neighbouring refused block, which the row says).
func TestClassifyIANARegistries(t *testing.T) {
	cases := []struct {
		block   string
		inside  string
		outside string // "" when the neighbour is itself refused
		kind    string // what inside is called
	}{
		// IPv4
		{"0.0.0.0/8", "0.255.255.255", "1.0.0.0", "reserved"},
		{"10.0.0.0/8", "10.255.255.255", "11.0.0.0", "private"},
		{"100.64.0.0/10", "100.127.255.255", "100.128.0.0", "carrier-grade NAT"},
		{"100.64.0.0/10 (low end)", "100.64.0.0", "100.63.255.255", "carrier-grade NAT"},
		{"127.0.0.0/8", "127.255.255.254", "128.0.0.1", "loopback"},
		{"169.254.0.0/16", "169.254.255.255", "169.255.0.0", "link-local"},
		{"172.16.0.0/12", "172.31.255.255", "172.32.0.0", "private"},
		{"172.16.0.0/12 (low end)", "172.16.0.0", "172.15.255.255", "private"},
		{"192.0.0.0/24", "192.0.0.8", "192.0.1.0", "reserved"},
		{"192.0.0.0/24 (low end)", "192.0.0.0", "191.255.255.255", "reserved"},
		{"192.0.2.0/24", "192.0.2.1", "192.0.3.0", "reserved"},
		{"192.88.99.0/24", "192.88.99.1", "192.88.100.0", "reserved"},
		{"192.168.0.0/16", "192.168.255.255", "192.169.0.0", "private"},
		{"198.18.0.0/15", "198.19.255.255", "198.20.0.0", "reserved"},
		{"198.18.0.0/15 (low end)", "198.18.0.0", "198.17.255.255", "reserved"},
		{"198.51.100.0/24", "198.51.100.7", "198.51.101.0", "reserved"},
		{"203.0.113.0/24", "203.0.113.255", "203.0.114.0", "reserved"},
		{"224.0.0.0/4 multicast", "239.255.255.255", "223.255.255.255", "multicast"},
		{"240.0.0.0/4", "240.0.0.1", "", "reserved"},
		{"255.255.255.255/32", "255.255.255.255", "", "reserved"},
		// IPv6
		{"::/128", "::", "", "unspecified"},
		{"::1/128", "::1", "", "loopback"},
		{"::ffff:0:0/96 mapped private", "::ffff:10.0.0.1", "::ffff:8.8.8.8", "private"},
		{"64:ff9b::/96 NAT64 of loopback", "64:ff9b::127.0.0.1", "64:ff9b::8.8.8.8", "loopback (via NAT64)"},
		{"64:ff9b:1::/48 local-use NAT64", "64:ff9b:1::808:808", "", "reserved (local-use NAT64)"},
		{"100::/64 discard-only", "100::ffff:ffff:ffff:ffff", "", "reserved"},
		{"2001::/23 IETF protocol assignments", "2001:1ff:ffff::1", "2001:200::1", "reserved"},
		{"2001::/32 Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "", "reserved"},
		{"2001:2::/48 benchmarking", "2001:2::1", "", "reserved"},
		{"2001:10::/28 ORCHID (deprecated)", "2001:10::1", "", "reserved"},
		{"2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1", "reserved"},
		{"2002::/16 6to4 of private", "2002:c0a8:101::1", "2002:808:808::1", "private (via 6to4)"},
		{"2002::/16 6to4 of metadata", "2002:a9fe:a9fe::1", "2003::1", "cloud metadata (via 6to4)"},
		{"3fff::/20", "3fff:fff::1", "3fff:1000::1", "reserved"},
		{"5f00::/16 SRv6 SIDs", "5f00::1", "", "reserved"},
		{"fc00::/7 unique local", "fdff:ffff::1", "", "private"},
		{"fc00::/7 (low end)", "fc00::1", "", "private"},
		{"fe80::/10 link-local (high end)", "febf:ffff::1", "", "link-local"},
		{"fe80::/10 link-local", "fe80::1", "", "link-local"},
		{"fec0::/10 site-local", "fec0::1", "", "site-local"},
		{"fec0::/10 site-local (high end)", "feff:ffff::1", "", "site-local"},
		{"ff00::/8 multicast", "ff02::1", "", "multicast"},
		{"::/8 IPv4-compatible (deprecated)", "::10.0.0.1", "", "reserved"},
		{"::/8 IPv4-compatible of a public address", "::8.8.8.8", "", "reserved"},
		{"outside 2000::/3", "4000::1", "", "reserved"},
		{"2000::/3 upper edge", "1fff:ffff::1", "2000::1", "reserved"},
		{"cloud metadata", "169.254.169.254", "", "cloud metadata"},
		{"cloud metadata v6", "fd00:ec2::254", "", "cloud metadata"},
	}
	for _, c := range cases {
		if got := Classify(netip.MustParseAddr(c.inside)); got != c.kind {
			t.Errorf("%s: Classify(%s) = %q, want %q", c.block, c.inside, got, c.kind)
		}
		if c.outside == "" {
			continue
		}
		if got := Classify(netip.MustParseAddr(c.outside)); got != "" {
			t.Errorf("%s: Classify(%s) just outside = %q, want public", c.block, c.outside, got)
		}
	}

	// Globally reachable: public controls, and the registry entries marked
	// "Globally Reachable: True" (anycast services such as AS112, AMT, PCP),
	// some of which sit inside refused blocks.
	public := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1", "2606:4700:4700::1111",
		"2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
		"192.31.196.1",    // AS112-v4
		"192.52.193.1",    // AMT
		"192.175.48.1",    // AS112 direct delegation
		"192.0.0.9",       // PCP anycast
		"192.0.0.10",      // TURN anycast
		"2001:1::1",       // PCP anycast
		"2001:1::3",       // DNS-SD SRP anycast
		"2001:3::1",       // AMT
		"2001:4:112::1",   // AS112-v6
		"2620:4f:8000::1", // AS112 direct delegation v6
	}
	for _, a := range public {
		if got := Classify(netip.MustParseAddr(a)); got != "" {
			t.Errorf("Classify(%s) = %q, want public", a, got)
		}
	}
	if got := Classify(netip.Addr{}); got != "invalid" {
		t.Errorf("Classify(zero) = %q, want invalid", got)
	}
	if got := Classify(netip.MustParseAddr("fec0::1%eth0")); got != "site-local" {
		t.Errorf("zoned site-local: %q", got)
	}
}

// TestDialGuardOnResolvedAddress needs no server and no address on any
// interface: the guard runs in the dialer on whatever the name resolved to,
// before connect(2), for the first hop and for a redirect alike.
func TestDialGuardOnResolvedAddress(t *testing.T) {
	for _, target := range []string{"fec0::1", "feed:1::1", "64:ff9b:1::a00:1", "fd00::2", "100::1", "2001:db8::1", "192.0.2.1", "::10.0.0.1"} {
		c := New(Config{Timeout: 5 * time.Second, LookupHost: func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr(target)}, nil
		}})
		for _, u := range []string{"http://news.example.com/feed.xml", "http://" + net.JoinHostPort(target, "80") + "/"} {
			_, err := c.Get(context.Background(), Request{URL: u})
			var blocked *BlockedAddressError
			if !errors.As(err, &blocked) || blocked.Addr != netip.MustParseAddr(target) {
				t.Errorf("%s via %s: want BlockedAddressError, got %v", target, u, err)
			}
		}
		c.Close()
	}

	// A redirect from the one exempt publisher to a site-local host is
	// refused in the dialer too; the exemption covers that address:port only.
	var hops int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops++
		http.Redirect(w, r, "http://intranet.example/secret", http.StatusFound)
	}))
	defer srv.Close()
	exempt := netip.MustParseAddrPort(srv.Listener.Addr().String())
	c := New(Config{Timeout: 5 * time.Second, Exempt: []netip.AddrPort{exempt}, LookupHost: func(_ context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("fec0::5")}, nil
	}})
	defer c.Close()
	_, err := c.Get(context.Background(), Request{URL: srv.URL + "/"})
	var blocked *BlockedAddressError
	if !errors.As(err, &blocked) || blocked.Kind != "site-local" || hops != 1 {
		t.Fatalf("redirect to site-local: want refusal after one hop, got %v (%d hops)", err, hops)
	}
	// Another port on the same loopback address is not exempt.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hops++ }))
	defer other.Close()
	if _, err := c.Get(context.Background(), Request{URL: other.URL}); !errors.As(err, &blocked) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("unexempt loopback port: want refusal, got %v", err)
	}
}
