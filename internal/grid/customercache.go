package grid

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// ChangeCounter is a counter shared by every process that writes to one database. Each of
// them advances it after a commit that changed a customer as GET /customers/{id} shows it
// (the customer's row or its beneficial owners), so that a process serving customers from
// memory learns of changes other processes made.
type ChangeCounter interface {
	// Load returns the counter's value.
	Load() uint64
	// Add advances the counter by one and returns the new value.
	Add() uint64
}

// ChangeCounted is implemented by stores that can offer a ChangeCounter: stores whose every
// writer runs on this host (SQLite). CustomerChanges returns nil when the store has none.
type ChangeCounted interface {
	CustomerChanges() ChangeCounter
}

// customerWrites lists the Tx methods that change what GET /customers/{id} answers, and
// changeTx records the customers they touch. A test checks that every Tx method is either
// here or in txMethodsWithoutCustomerChanges, so a new write path must take a side.
var customerWrites = []string{"UpdateCustomer", "InsertBeneficialOwner", "UpdateBeneficialOwner"}

// changeTx is a Tx that notes the customers a transaction changes.
type changeTx struct {
	Tx
	changed *[]string
}

func (t changeTx) UpdateCustomer(ctx context.Context, c *Customer) error {
	*t.changed = append(*t.changed, c.ID)
	return t.Tx.UpdateCustomer(ctx, c)
}

func (t changeTx) InsertBeneficialOwner(ctx context.Context, o *BeneficialOwner) error {
	*t.changed = append(*t.changed, o.CustomerID)
	return t.Tx.InsertBeneficialOwner(ctx, o)
}

func (t changeTx) UpdateBeneficialOwner(ctx context.Context, o *BeneficialOwner) error {
	*t.changed = append(*t.changed, o.CustomerID)
	return t.Tx.UpdateBeneficialOwner(ctx, o)
}

// customersChanged is called after a transaction that changed the given customers has ended,
// committed or not, and before its caller answers: it drops them from this process's cache
// and advances the shared counter, so that other processes drop what they hold.
func (s *Service) customersChanged(ids []string) {
	if s.cache != nil {
		s.cache.changed(ids)
		return
	}
	s.changes.Add()
}

// EnableCustomerCache makes GetCustomer serve customers from memory, up to about entries of
// them (a full shard drops an arbitrary entry to make room). It does so only on a store with
// a ChangeCounter, and reports whether it did; call it before the service serves requests.
// Every write through this service drops the customers it changed before it returns; a write
// by another process empties the cache at the next read after that process advanced the
// counter.
func (s *Service) EnableCustomerCache(entries int) bool {
	if s.changes == nil || entries <= 0 {
		return false
	}
	s.cache = newCustomerCache(entries, s.changes)
	return true
}

const cacheShards = 32

// cacheTTL bounds how long an entry is served without reading the store again. Coherence does
// not rest on it: it only bounds what a writer killed between its commit and its advance of
// the shared counter can leave behind.
const cacheTTL = 10 * time.Second

// cacheEpoch is the origin of entries' fill times, read on the monotonic clock.
var cacheEpoch = time.Now()

// customerCache holds fully loaded customers (beneficial owners included) by id. Entries are
// shared between requests and never modified.
//
// Coherence: a reader takes a ticket (its shard's generation and the shared counter) before
// it reads the store, and its result is kept only if neither moved meanwhile. A writer of
// this process drops its customers and bumps their shards' generations after its commit,
// then advances the shared counter. seen is the counter value the cache reflects; a read
// that finds the counter elsewhere empties the cache first.
type customerCache struct {
	perShard int
	seed     maphash.Seed
	shards   [cacheShards]cacheShard
	counter  ChangeCounter
	// mu orders updates of seen with this process's own advances of the counter.
	mu   sync.Mutex
	seen atomic.Uint64
}

type cacheShard struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]cacheEntry
}

type cacheEntry struct {
	c *Customer
	// filled is when the entry was read from the store, as time since cacheEpoch.
	filled time.Duration
}

type cacheTicket struct {
	shard   *cacheShard
	gen     uint64
	counter uint64
	at      time.Duration
}

func newCustomerCache(entries int, counter ChangeCounter) *customerCache {
	c := &customerCache{perShard: max(1, entries/cacheShards), seed: maphash.MakeSeed(), counter: counter}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	c.seen.Store(counter.Load())
	return c
}

func (c *customerCache) shard(id string) *cacheShard {
	return &c.shards[maphash.String(c.seed, id)%cacheShards]
}

// sync empties the cache when another process advanced the counter since it was last seen.
func (c *customerCache) sync() {
	if c.counter.Load() == c.seen.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.counter.Load(); n != c.seen.Load() {
		c.clear()
		c.seen.Store(n)
	}
}

// clear drops every entry and moves every generation, so that reads in flight keep nothing.
func (c *customerCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.gen++
		sh.mu.Unlock()
	}
}

// get returns the cached customer id of the platform, or nil.
func (c *customerCache) get(platformID, id string) *Customer {
	c.sync()
	sh := c.shard(id)
	sh.mu.RLock()
	e := sh.m[id]
	sh.mu.RUnlock()
	if e.c == nil || e.c.PlatformID != platformID || time.Since(cacheEpoch)-e.filled > cacheTTL {
		return nil
	}
	return e.c
}

// ticket is taken before reading customer id from the store.
func (c *customerCache) ticket(id string) cacheTicket {
	sh := c.shard(id)
	n := c.seen.Load()
	sh.mu.RLock()
	g := sh.gen
	sh.mu.RUnlock()
	return cacheTicket{shard: sh, gen: g, counter: n, at: time.Since(cacheEpoch)}
}

// put keeps cust, read from the store after t was taken, unless a change may have come
// between.
func (c *customerCache) put(t cacheTicket, cust *Customer) {
	sh := t.shard
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.gen != t.gen || c.counter.Load() != t.counter || c.seen.Load() != t.counter {
		return
	}
	if len(sh.m) >= c.perShard {
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[cust.ID] = cacheEntry{c: cust, filled: t.at}
}

// changed drops customers this process changed, then advances the shared counter; if another
// process advanced it too since it was last seen, everything goes.
func (c *customerCache) changed(ids []string) {
	for _, id := range ids {
		sh := c.shard(id)
		sh.mu.Lock()
		delete(sh.m, id)
		sh.gen++
		sh.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.counter.Add()
	if n != c.seen.Load()+1 {
		c.clear()
	}
	c.seen.Store(n)
}
