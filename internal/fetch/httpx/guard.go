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

// Special-purpose ranges that netip's predicates do not cover.
var (
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	ietfProtocol = netip.MustParsePrefix("192.0.0.0/24")
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")
	reserved4    = netip.MustParsePrefix("240.0.0.0/4")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	awsMetadata4 = netip.MustParseAddr("169.254.169.254")
	awsMetadata6 = netip.MustParseAddr("fd00:ec2::254")
)

// Classify reports why addr must not be fetched, or "" if it is a public
// address. IPv4-mapped, NAT64 and 6to4 IPv6 forms are judged by the IPv4
// address they embed, since a gateway would route them there.
func Classify(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			if k := Classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); k != "" {
				return k + " (via NAT64)"
			}
		case sixToFour.Contains(addr):
			if k := Classify(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); k != "" {
				return k + " (via 6to4)"
			}
		}
	}
	switch {
	case !addr.IsValid():
		return "invalid"
	case addr == awsMetadata4 || addr == awsMetadata6:
		return "cloud metadata"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsMulticast(), addr.IsLinkLocalMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(addr):
		return "carrier-grade NAT"
	case thisNetwork.Contains(addr), ietfProtocol.Contains(addr), benchmarking.Contains(addr), reserved4.Contains(addr):
		return "reserved"
	}
	return ""
}

// control is the net.Dialer.Control hook. It runs after name resolution and
// just before connect(2), on the exact address being dialled, so neither DNS
// rebinding nor a redirect to a private host can slip past it.
func control(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("refusing to dial unparseable address %q", address)
		}
		if allowPrivate {
			return nil
		}
		if kind := Classify(ap.Addr()); kind != "" {
			return &BlockedAddressError{Addr: ap.Addr().Unmap(), Kind: kind}
		}
		return nil
	}
}
