package httpx

import (
	"fmt"
	"net/netip"
	"syscall"
)

// BlockedAddressError is returned when a connection would reach an address
// the SSRF guard refuses.
type BlockedAddressError struct {
	Addr netip.Addr
	Kind string // loopback, private, link-local, ...
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refusing to fetch private address %s (%s; set fetch.allow_private to allow)", e.Addr, e.Kind)
}

// block is one entry of the guard's table. Kind "" marks a block the IANA
// registries call globally reachable inside a larger refused one (anycast
// services such as AS112 or PCP): the longest matching prefix decides.
type block struct {
	prefix netip.Prefix
	kind   string
}

// blocks follows the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (every entry whose "Globally Reachable" is False or N/A, which includes
// documentation and benchmarking ranges a publisher can never live in),
// plus multicast and the deprecated site-local fec0::/10. IPv6 outside
// 2000::/3 is refused in Classify as a whole, so the v6 entries there only
// give a refusal its name.
var blocks = func() []block {
	table := []struct{ prefix, kind string }{
		// IPv4
		{"0.0.0.0/8", "reserved"}, // "this network"; 0.0.0.0 itself is unspecified
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"169.254.169.254/32", "cloud metadata"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "reserved"},   // IETF protocol assignments
		{"192.0.0.9/32", ""},           // PCP anycast: globally reachable
		{"192.0.0.10/32", ""},          // TURN anycast: globally reachable
		{"192.0.2.0/24", "reserved"},   // TEST-NET-1
		{"192.88.99.0/24", "reserved"}, // deprecated 6to4 relay anycast (RFC 7526)
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "reserved"},      // benchmarking
		{"198.51.100.0/24", "reserved"},    // TEST-NET-2
		{"203.0.113.0/24", "reserved"},     // TEST-NET-3
		{"224.0.0.0/4", "multicast"},       // not special-purpose, but never a web server
		{"240.0.0.0/4", "reserved"},        // future use
		{"255.255.255.255/32", "reserved"}, // limited broadcast
		// IPv6 outside 2000::/3
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"64:ff9b:1::/48", "reserved (local-use NAT64)"}, // the embedded IPv4 is the local translator's business
		{"100::/64", "reserved"},                         // discard-only
		{"100:0:0:1::/64", "reserved"},                   // dummy prefix (RFC 9780)
		{"5f00::/16", "reserved"},                        // SRv6 SIDs
		{"fc00::/7", "private"},                          // unique local
		{"fd00:ec2::254/128", "cloud metadata"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"}, // deprecated (RFC 3879) but still routed inside some networks
		{"ff00::/8", "multicast"},
		// IPv6 inside 2000::/3
		{"2001::/23", "reserved"},     // IETF protocol assignments, Teredo 2001::/32 and benchmarking 2001:2::/48 among them
		{"2001:1::1/128", ""},         // PCP anycast
		{"2001:1::2/128", ""},         // TURN anycast
		{"2001:1::3/128", ""},         // DNS-SD SRP anycast
		{"2001:3::/32", ""},           // AMT
		{"2001:4:112::/48", ""},       // AS112-v6
		{"2001:20::/28", ""},          // ORCHIDv2
		{"2001:30::/28", ""},          // DRIP DETs
		{"2001:db8::/32", "reserved"}, // documentation
		{"3fff::/20", "reserved"},     // documentation (RFC 9637)
	}
	out := make([]block, len(table))
	for i, e := range table {
		out[i] = block{netip.MustParsePrefix(e.prefix), e.kind}
	}
	return out
}()

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// Classify reports why addr must not be fetched, or "" if it is a public
// address. IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 IPv6 forms are judged
// by the IPv4 address they embed, since a gateway would route them there.
func Classify(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid"
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			if k := Classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); k != "" {
				return k + " (via NAT64)"
			}
			return ""
		case sixToFour.Contains(addr):
			if k := Classify(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); k != "" {
				return k + " (via 6to4)"
			}
			return ""
		}
	}
	if addr == netip.IPv4Unspecified() {
		return "unspecified"
	}
	best := -1
	kind := ""
	for _, b := range blocks {
		if b.prefix.Bits() > best && b.prefix.Contains(addr) {
			best, kind = b.prefix.Bits(), b.kind
		}
	}
	if best >= 0 {
		return kind
	}
	// IANA has assigned only 2000::/3 as global unicast; everything else
	// left in IPv6 (IPv4-compatible and translated forms, reserved space)
	// is refused rather than guessed at.
	if addr.Is6() && !globalUnicast6.Contains(addr) {
		return "reserved"
	}
	return ""
}

// control is the net.Dialer.Control hook. It runs after name resolution and
// just before connect(2), on the exact address being dialled, so neither DNS
// rebinding nor a redirect to a private host can slip past it.
func control(allowPrivate bool, exempt []netip.AddrPort) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("refusing to dial unparseable address %q", address)
		}
		if allowPrivate {
			return nil
		}
		for _, e := range exempt {
			if e.Addr().Unmap() == ap.Addr().Unmap() && e.Port() == ap.Port() {
				return nil
			}
		}
		if kind := Classify(ap.Addr()); kind != "" {
			return &BlockedAddressError{Addr: ap.Addr().Unmap(), Kind: kind}
		}
		return nil
	}
}
