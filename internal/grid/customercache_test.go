package grid

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// txMethodsWithoutCustomerChanges are the Tx methods that cannot change what
// GET /customers/{id} answers: reads, other resources, and new customers (whose ids nobody
// can have read before).
var txMethodsWithoutCustomerChanges = []string{
	"InsertPlatform", "UpdatePlatform", "InsertToken", "DeleteToken",
	"InsertCustomer", "InsertCustomerIfAbsent", "InsertStatusChange", "InsertEvent",
	"PutMetaIfAbsent", "PutMeta",
	"InsertIdempotencyKey", "ReclaimIdempotencyKey", "CompleteIdempotencyKey", "DeleteIdempotencyKey", "DeleteIdempotencyKeysBefore",
	"InsertDocument", "UpdateDocument", "DeleteDocument", "InsertVerification", "UpdateVerification",
	"InsertInternalAccount", "UpdateInternalAccount",
	"InsertBulkJob", "UpdateBulkJob", "DeleteBulkJob", "DeleteStaleBulkUploads", "InsertBulkChunk", "DeleteBulkChunks", "InsertBulkJobError",
	"SaveContactCode", "InsertKycLink", "ConsumeKycLink",
}

// TestEveryTxWriteIsClassified fails when a write method is added to Tx without deciding
// whether it changes a customer as the cache holds it, and checks that changeTx overrides
// exactly the methods that do.
func TestEveryTxWriteIsClassified(t *testing.T) {
	txType := reflect.TypeFor[Tx]()
	readerType := reflect.TypeFor[Reader]()
	for i := range txType.NumMethod() {
		name := txType.Method(i).Name
		if _, isRead := readerType.MethodByName(name); isRead {
			continue
		}
		in, out := slices.Contains(customerWrites, name), slices.Contains(txMethodsWithoutCustomerChanges, name)
		if in == out {
			t.Errorf("Tx.%s: list it in exactly one of customerWrites (and override it in changeTx) or txMethodsWithoutCustomerChanges", name)
		}
	}
	// Each write of customerWrites is noted by changeTx and still reaches the store.
	rec := &recordingTx{}
	var changed []string
	ct := changeTx{Tx: rec, changed: &changed}
	ct.UpdateCustomer(t.Context(), &Customer{ID: "Customer:a"})
	ct.InsertBeneficialOwner(t.Context(), &BeneficialOwner{CustomerID: "Customer:b"})
	ct.UpdateBeneficialOwner(t.Context(), &BeneficialOwner{CustomerID: "Customer:c"})
	if want := []string{"Customer:a", "Customer:b", "Customer:c"}; !slices.Equal(changed, want) || rec.calls != len(customerWrites) {
		t.Errorf("changeTx noted %v with %d calls through, want %v and %d", changed, rec.calls, want, len(customerWrites))
	}
}

// recordingTx counts the customer writes that reach it; any other method would panic on the
// nil Tx.
type recordingTx struct {
	Tx
	calls int
}

func (r *recordingTx) UpdateCustomer(context.Context, *Customer) error { r.calls++; return nil }
func (r *recordingTx) InsertBeneficialOwner(context.Context, *BeneficialOwner) error {
	r.calls++
	return nil
}
func (r *recordingTx) UpdateBeneficialOwner(context.Context, *BeneficialOwner) error {
	r.calls++
	return nil
}

func cached(id, platform string) *Customer { return &Customer{ID: id, PlatformID: platform} }

func TestCustomerCacheReadsOnlyItsPlatform(t *testing.T) {
	c := newCustomerCache(100, newLocalCounter())
	c.put(c.ticket("Customer:1"), cached("Customer:1", "P1"))
	if c.get("P1", "Customer:1") == nil {
		t.Fatal("miss after put")
	}
	if c.get("P2", "Customer:1") != nil {
		t.Error("another platform's customer served from the cache")
	}
}

// A read that started before a write of this process keeps nothing, and the write drops
// what was cached.
func TestCustomerCacheOwnWrite(t *testing.T) {
	counter := newLocalCounter()
	c := newCustomerCache(100, counter)
	c.put(c.ticket("Customer:1"), cached("Customer:1", "P"))
	stale := c.ticket("Customer:2")
	c.changed([]string{"Customer:1"})
	if c.get("P", "Customer:1") != nil {
		t.Error("changed customer still cached")
	}
	c.put(stale, cached("Customer:2", "P"))
	if c.get("P", "Customer:2") != nil {
		t.Error("a read that started before a write was kept")
	}
	c.put(c.ticket("Customer:2"), cached("Customer:2", "P"))
	if c.get("P", "Customer:2") == nil {
		t.Error("a read after the write was not kept")
	}
	// Two writes of this process in a row do not empty the cache.
	c.changed([]string{"Customer:3"})
	if c.get("P", "Customer:2") == nil {
		t.Error("an unrelated write emptied the cache")
	}
}

// Another process's write (an advance of the shared counter this cache did not make) empties
// the cache at the next read, and a read in flight across it keeps nothing.
func TestCustomerCacheOtherProcessWrite(t *testing.T) {
	counter := newLocalCounter()
	c := newCustomerCache(100, counter)
	c.put(c.ticket("Customer:1"), cached("Customer:1", "P"))
	inFlight := c.ticket("Customer:2")
	counter.Add() // the other process, after its commit
	c.put(inFlight, cached("Customer:2", "P"))
	if c.get("P", "Customer:1") != nil || c.get("P", "Customer:2") != nil {
		t.Error("entries survived another process's write")
	}
	// Both at once: this process's write finds the counter moved by two and empties all.
	c.put(c.ticket("Customer:1"), cached("Customer:1", "P"))
	counter.Add()
	c.changed([]string{"Customer:9"})
	if c.get("P", "Customer:1") != nil {
		t.Error("entry survived a write of another process noticed by a write of this one")
	}
}

func TestCustomerCacheBounded(t *testing.T) {
	c := newCustomerCache(cacheShards*4, newLocalCounter())
	for i := range 10000 {
		id := fmt.Sprintf("Customer:%d", i)
		c.put(c.ticket(id), cached(id, "P"))
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > cacheShards*4 {
		t.Errorf("%d entries kept, bound %d", n, cacheShards*4)
	}
}

func TestCustomerCacheEntriesExpire(t *testing.T) {
	c := newCustomerCache(100, newLocalCounter())
	old := c.ticket("Customer:1")
	old.at -= cacheTTL + time.Second
	c.put(old, cached("Customer:1", "P"))
	if c.get("P", "Customer:1") != nil {
		t.Error("an entry older than cacheTTL was served")
	}
	c.put(c.ticket("Customer:1"), cached("Customer:1", "P"))
	if c.get("P", "Customer:1") == nil {
		t.Error("a fresh entry was not served")
	}
}

// localCounter is a ChangeCounter held in this process, standing in for the shared file.
type localCounter struct{ n atomic.Uint64 }

func (l *localCounter) Load() uint64 { return l.n.Load() }
func (l *localCounter) Add() uint64  { return l.n.Add(1) }

func newLocalCounter() ChangeCounter { return &localCounter{} }
