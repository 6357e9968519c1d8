package webhook

import (
	"fmt"
	"net/netip"
	"strings"
)

// Proxies are the addresses of the proxies in front of the listener
// (Config.TrustedProxies, parsed). A request's client is its peer, or,
// when the peer is one of them, the last address of X-Forwarded-For that is
// not: each proxy appends the address it received the request from, so the
// entries left of the first untrusted one may be forged.
type Proxies []netip.Prefix

// ParseProxies parses addresses and CIDR prefixes, such as "10.0.0.0/8" or
// "192.0.2.7".
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client returns the key a request's budget and the rejection summary
// count under: its client's address, an IPv6 client's /64 (one host
// commonly holds all of one), or, for an X-Forwarded-For entry that is not
// an address, the entry itself (at most 64 bytes).
func (ps Proxies) client(peer netip.Addr, forwardedFor func() string) string {
	peer = peer.Unmap()
	if !peer.IsValid() {
		return "-"
	}
	if !ps.trusted(peer) {
		return key(peer)
	}
	hops := strings.Split(forwardedFor(), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		a, ok := parseHop(hop)
		switch {
		case !ok:
			return hop[:min(len(hop), 64)]
		case !ps.trusted(a) || i == 0:
			return key(a)
		}
	}
	return key(peer) // no entry: the proxy is the client
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func key(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
