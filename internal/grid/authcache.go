package grid

import (
	"crypto/subtle"
	"sync"
	"time"
)

// authCacheTTL bounds how long a node trusts a token and platform it read: a token revoked or
// a config changed through another node takes effect here within this time. Changes made
// through this node take effect at once.
const authCacheTTL = time.Second

// authCacheMax bounds the cache; when full it is emptied rather than grown.
const authCacheMax = 10_000

// authCache keeps recently authenticated tokens with their platform, so that the auth check
// of a busy client is a map lookup and a hash instead of two database reads. The secret is
// still checked on every request against the stored hash.
type authCache struct {
	mu      sync.Mutex
	entries map[string]authEntry
}

type authEntry struct {
	tok     *Token
	plat    *Platform
	expires time.Time
}

func (c *authCache) get(clientID, secret string, now time.Time) (*Principal, bool) {
	c.mu.Lock()
	e, ok := c.entries[clientID]
	c.mu.Unlock()
	if !ok || now.After(e.expires) {
		return nil, false
	}
	if subtle.ConstantTimeCompare(e.tok.SecretHash, HashSecret(secret)) != 1 {
		return nil, false
	}
	return &Principal{Token: e.tok, Platform: e.plat}, true
}

func (c *authCache) put(p *Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= authCacheMax {
		c.entries = map[string]authEntry{}
	}
	c.entries[p.Token.ClientID] = authEntry{tok: p.Token, plat: p.Platform, expires: now.Add(authCacheTTL)}
}

// forget drops the entries of a token (by id) or of a platform (by id).
func (c *authCache) forget(tokenID, platformID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.tok.ID == tokenID || e.plat.ID == platformID {
			delete(c.entries, k)
		}
	}
}
