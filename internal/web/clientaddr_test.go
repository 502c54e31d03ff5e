package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"relais/internal/config"
	"relais/internal/model"
)

// clientReq sends one request straight to the router, as if it came from remote with
// the X-Forwarded-For headers given (none: no header), and returns the answer's status.
func clientReq(h http.Handler, method, path, remote string, body string, xff ...string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = remote + ":40000"
	for _, x := range xff {
		req.Header.Add("X-Forwarded-For", x)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// TestRateLimitsCountTheClient: the per-address limits count the client as the trusted
// proxies in front of Relais saw it, not whatever X-Forwarded-For a client sends: a
// client on the Internet cannot escape the limit by naming a new address each time.
func TestRateLimitsCountTheClient(t *testing.T) {
	e, h := authzNewEnv(t, "sqlite", nil, func(c *config.Config) {
		c.FormRate = 2
		c.TrustedProxies = "198.51.100.0/24" // a load balancer with public addresses
	})
	path := "/e/" + e.publishedEvent(0, model.ModeOpen).Slug + "/register"
	body := regForm("not an address").Encode() // refused (422) once counted
	posts := func(name string, want []int, remote string, xff ...string) {
		t.Helper()
		for i, w := range want {
			if got := clientReq(h, "POST", path, remote, body, xff...); got != w {
				t.Errorf("%s: post %d answered %d, want %d", name, i+1, got, w)
			}
		}
	}
	under, over := http.StatusUnprocessableEntity, http.StatusTooManyRequests
	// Directly from the Internet: the header is the client's own word, and ignored.
	posts("direct, no header", []int{under}, "203.0.113.5")
	posts("direct, a made-up address", []int{under, over}, "203.0.113.5", "192.0.2.1")
	posts("direct, another made-up address", []int{over}, "203.0.113.5", "192.0.2.2, 10.0.0.1")
	// Through a proxy on the private network: the address it saw is the client's.
	posts("the same client behind a private proxy", []int{over}, "10.0.0.2", "203.0.113.5")
	posts("another client behind it", []int{under, under, over}, "10.0.0.2", "203.0.113.6")
	// Read from the right: what a client wrote before the proxy's entry is not believed.
	posts("a client prepending addresses", []int{under, under}, "127.0.0.1", "192.0.2.3, 203.0.113.7")
	posts("it again with others", []int{over}, "127.0.0.1", "192.0.2.4", "203.0.113.7")
	// A client on the local network behind the proxy: what it prepends is not believed
	// either, though it looks local too.
	posts("a local client", []int{under, under}, "127.0.0.1", "10.9.9.9, 192.168.1.20")
	posts("it again, naming another local address", []int{over}, "127.0.0.1", "10.9.9.8, 192.168.1.20")
	posts("it again, with a broken entry", []int{over}, "127.0.0.1", "not-an-address, 192.168.1.20")
	// A gateway that writes the client's port too.
	posts("behind a gateway writing ports", []int{under, under, over}, "10.0.0.2", "203.0.113.20:51234")
	posts("the same client, another port", []int{over}, "10.0.0.2", "[203.0.113.20]:40000")
	// IPv6: a subscriber's /64 counts as one address.
	posts("an IPv6 address", []int{under}, "[2001:db8:1:2::5]")
	posts("another in its /64", []int{under, over}, "[2001:db8:1:2:ffff::6]")
	posts("the next /64", []int{under}, "[2001:db8:1:3::5]")
	// A proxy on a public address counts only when it is in trusted_proxies.
	posts("behind a trusted public proxy", []int{under, under, over}, "198.51.100.4", "203.0.113.8")
	posts("behind an untrusted one", []int{under, under, over}, "192.0.2.50", "203.0.113.9")
	posts("its other clients share its address", []int{over}, "192.0.2.50", "203.0.113.10")
}

// TestMetricsStayOnTheLocalNetwork: /metrics answers the monitoring on loopback and the
// private network, and 404 to anyone on the Internet, also through the load balancer.
func TestMetricsStayOnTheLocalNetwork(t *testing.T) {
	_, h := authzNewEnv(t, "sqlite", nil, nil)
	for _, tc := range []struct {
		remote string
		xff    []string
		want   int
	}{
		{"127.0.0.1", nil, http.StatusOK},
		{"10.1.2.3", nil, http.StatusOK},
		{"172.18.0.5", nil, http.StatusOK}, // a Prometheus container on a Docker network
		{"::1", nil, http.StatusOK},
		{"203.0.113.5", nil, http.StatusNotFound},
		{"203.0.113.5", []string{"127.0.0.1"}, http.StatusNotFound},
		{"10.0.0.2", []string{"203.0.113.5"}, http.StatusNotFound},
		{"127.0.0.1", []string{"10.0.0.9, 203.0.113.5"}, http.StatusNotFound},
		// Through a proxy, even from the local network: the monitoring asks directly.
		{"127.0.0.1", []string{"10.0.0.9"}, http.StatusNotFound},
		{"10.0.0.2", []string{"203.0.113.5:51234"}, http.StatusNotFound},
		{"10.0.0.2", []string{"garbage"}, http.StatusNotFound},
		// An untrusted client naming itself local through a proxy that passes the header on.
		{"127.0.0.1", []string{"10.0.0.9", "203.0.113.5"}, http.StatusNotFound},
	} {
		remote := tc.remote
		if strings.Contains(remote, ":") {
			remote = "[" + remote + "]"
		}
		if got := clientReq(h, "GET", "/metrics", remote, "", tc.xff...); got != tc.want {
			t.Errorf("/metrics from %s (X-Forwarded-For %q): %d, want %d", tc.remote, tc.xff, got, tc.want)
		}
	}
}
