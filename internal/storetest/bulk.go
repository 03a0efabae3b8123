package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// BulkJobs checks the storage of bulk customer imports: jobs (compare-and-set updates,
// claimable ones, deletion), the chunks of their files, their row errors, and
// InsertCustomerIfAbsent, whose duplicates leave the transaction usable.
func BulkJobs(t *testing.T, st grid.Store) {
	t.Run("JobRoundTrip", func(t *testing.T) { bulkJobRoundTrip(t, st) })
	t.Run("ChunksAndErrors", func(t *testing.T) { bulkChunksAndErrors(t, st) })
	t.Run("Claimable", func(t *testing.T) { bulkClaimable(t, st) })
	t.Run("Delete", func(t *testing.T) { bulkDelete(t, st) })
	t.Run("ConcurrentUpdate", func(t *testing.T) { bulkConcurrentUpdate(t, st) })
	t.Run("InsertCustomerIfAbsent", func(t *testing.T) { insertCustomerIfAbsent(t, st) })
}

func newBulkJob(platformID string, at time.Time) *grid.BulkJob {
	return &grid.BulkJob{
		ID: grid.NewID("Job"), PlatformID: platformID, TokenID: grid.NewID("Token"), Status: grid.BulkUploading,
		ChunkSize: grid.BulkChunkSize, Total: -1, CreatedAt: at, UpdatedAt: at,
	}
}

func insertBulkJobs(t testing.TB, st grid.Store, js ...*grid.BulkJob) {
	t.Helper()
	insertAll(t, st, grid.Tx.InsertBulkJob, js...)
}

func bulkJobRoundTrip(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p, other := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, p, other)
	j := newBulkJob(p.ID, base)
	insertBulkJobs(t, st, j)

	got, err := st.GetBulkJob(ctx, p.ID, j.ID)
	if err != nil {
		t.Fatalf("GetBulkJob: %v", err)
	}
	checkEqual(t, "job as inserted", j, got)
	_, err = st.GetBulkJob(ctx, other.ID, j.ID)
	wantNotFound(t, "GetBulkJob of another platform", err)

	// Every field survives an update.
	done := base.Add(time.Hour)
	next := *j
	next.Status, next.Size, next.Chunks, next.Total = grid.BulkCompleted, 1<<30, 4096, 1_000_000
	next.Processed, next.Succeeded, next.Failed = 1_000_000, 999_000, 1000
	next.Cursor = grid.BulkCursor{Row: 1_000_001, Offset: 1<<30 - 1}
	next.Attempts, next.LeaseOwner, next.LeaseUntil = 3, "node-a", base.Add(time.Minute)
	next.Version, next.UpdatedAt, next.CompletedAt = j.Version+1, done, &done
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateBulkJob(ctx, &next, j.Version) })
	got, err = st.GetBulkJob(ctx, p.ID, j.ID)
	if err != nil {
		t.Fatalf("GetBulkJob: %v", err)
	}
	checkEqual(t, "job after update", &next, got)

	// A released lease (the zero time) round-trips.
	released := next
	released.LeaseOwner, released.LeaseUntil, released.Version = "", time.Time{}, next.Version+1
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateBulkJob(ctx, &released, next.Version) })
	if got, err = st.GetBulkJob(ctx, p.ID, j.ID); err != nil || !got.LeaseUntil.Equal(time.Time{}) || got.LeaseOwner != "" {
		t.Errorf("released lease: %+v, %v", got, err)
	}

	// A stale version, or another platform, changes nothing.
	stale := released
	stale.Status, stale.Version = grid.BulkFailed, 99
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateBulkJob(ctx, &stale, next.Version) })
	wantNotFound(t, "UpdateBulkJob with a stale version", err)
	moved := released
	moved.PlatformID, moved.Version = other.ID, released.Version+1
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateBulkJob(ctx, &moved, released.Version) })
	wantNotFound(t, "UpdateBulkJob under another platform", err)
	if got, _ := st.GetBulkJob(ctx, p.ID, j.ID); got == nil || got.Version != released.Version || got.Status != grid.BulkCompleted {
		t.Errorf("job after refused updates: %+v", got)
	}
}

func bulkChunksAndErrors(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	j, other := newBulkJob(p.ID, base), newBulkJob(p.ID, base)
	insertBulkJobs(t, st, j, other)

	big := bytes.Repeat([]byte{0x00, 0xff, 'a', '\n'}, grid.BulkChunkSize/4)
	mustTx(t, st, func(tx grid.Tx) error {
		for seq, data := range [][]byte{big, []byte("tail")} {
			if err := tx.InsertBulkChunk(ctx, j.ID, seq, data); err != nil {
				return err
			}
		}
		return tx.InsertBulkChunk(ctx, other.ID, 0, []byte("other"))
	})
	for seq, want := range [][]byte{big, []byte("tail")} {
		got, err := st.GetBulkChunk(ctx, j.ID, seq)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("GetBulkChunk(%d) = %d bytes, %v; want %d bytes", seq, len(got), err, len(want))
		}
	}
	_, err := st.GetBulkChunk(ctx, j.ID, 2)
	wantNotFound(t, "GetBulkChunk past the end", err)
	mustTx(t, st, func(tx grid.Tx) error { return tx.DeleteBulkChunks(ctx, j.ID) })
	_, err = st.GetBulkChunk(ctx, j.ID, 0)
	wantNotFound(t, "GetBulkChunk after DeleteBulkChunks", err)
	if got, err := st.GetBulkChunk(ctx, other.ID, 0); err != nil || string(got) != "other" {
		t.Errorf("another job's chunk after DeleteBulkChunks: %q, %v", got, err)
	}

	errs := []grid.BulkRowError{
		{Row: 12, Code: grid.CodeConflict, Message: "taken", PlatformCustomerID: "p-12", Fields: []grid.FieldError{{Field: "platformCustomerId", Message: "is already taken"}}},
		{Row: 3, Code: grid.CodeInvalidInput, Message: "two fields", PlatformCustomerID: "p-3", Fields: []grid.FieldError{
			{Field: "birthDate", Message: "must be a date", Format: "date"},
			{Field: "customerType", Message: "must be one of", Enum: []string{"INDIVIDUAL", "BUSINESS"}},
		}},
		{Row: 1, Code: grid.CodeInvalidInput, Message: "header"},
	}
	mustTx(t, st, func(tx grid.Tx) error {
		for i := range errs {
			if err := tx.InsertBulkJobError(ctx, j.ID, &errs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := st.ListBulkJobErrors(ctx, j.ID, 10)
	if err != nil {
		t.Fatalf("ListBulkJobErrors: %v", err)
	}
	checkEqual(t, "row errors in row order", []grid.BulkRowError{errs[2], errs[1], errs[0]}, got)
	if got, err := st.ListBulkJobErrors(ctx, j.ID, 2); err != nil || len(got) != 2 || got[1].Row != 3 {
		t.Errorf("ListBulkJobErrors(limit 2) = %+v, %v", got, err)
	}
	if got, err := st.ListBulkJobErrors(ctx, other.ID, 10); err != nil || len(got) != 0 {
		t.Errorf("another job's errors = %+v, %v; want none", got, err)
	}
}

func bulkClaimable(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p, q := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, p, q)
	mk := func(platformID string, status grid.BulkJobStatus, lease time.Duration) *grid.BulkJob {
		j := newBulkJob(platformID, base)
		j.Status, j.LeaseUntil = status, base.Add(lease)
		return j
	}
	pending := mk(p.ID, grid.BulkPending, -time.Hour)
	uploading := mk(p.ID, grid.BulkUploading, -time.Hour)
	leased := mk(q.ID, grid.BulkProcessing, time.Minute)
	expired := mk(q.ID, grid.BulkProcessing, -time.Second)
	completed := mk(p.ID, grid.BulkCompleted, -time.Hour)
	failed := mk(q.ID, grid.BulkFailed, -time.Hour)
	pending2 := mk(q.ID, grid.BulkPending, -time.Hour)
	insertBulkJobs(t, st, pending, uploading, leased, expired, completed, failed, pending2)

	got, err := st.ListClaimableBulkJobs(ctx, base, 10)
	if err != nil {
		t.Fatalf("ListClaimableBulkJobs: %v", err)
	}
	checkEqual(t, "claimable jobs, oldest first", []*grid.BulkJob{pending, expired, pending2}, got)
	if got, err := st.ListClaimableBulkJobs(ctx, base, 2); err != nil || len(got) != 2 {
		t.Errorf("ListClaimableBulkJobs(limit 2) = %d jobs, %v", len(got), err)
	}
	// Once the lease has run out, the leased job is claimable too.
	if got, err := st.ListClaimableBulkJobs(ctx, base.Add(2*time.Minute), 10); err != nil || len(got) != 4 {
		t.Errorf("ListClaimableBulkJobs after the lease = %d jobs, %v; want 4", len(got), err)
	}
}

func bulkDelete(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p, other := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, p, other)
	j, keep := newBulkJob(p.ID, base), newBulkJob(p.ID, base)
	insertBulkJobs(t, st, j, keep)
	mustTx(t, st, func(tx grid.Tx) error {
		for _, id := range []string{j.ID, keep.ID} {
			if err := tx.InsertBulkChunk(ctx, id, 0, []byte("x")); err != nil {
				return err
			}
			if err := tx.InsertBulkJobError(ctx, id, &grid.BulkRowError{Row: 2, Code: grid.CodeInvalidInput, Message: "m"}); err != nil {
				return err
			}
		}
		return nil
	})
	err := withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteBulkJob(ctx, other.ID, j.ID) })
	wantNotFound(t, "DeleteBulkJob of another platform", err)
	mustTx(t, st, func(tx grid.Tx) error { return tx.DeleteBulkJob(ctx, p.ID, j.ID) })
	_, err = st.GetBulkJob(ctx, p.ID, j.ID)
	wantNotFound(t, "GetBulkJob after DeleteBulkJob", err)
	_, err = st.GetBulkChunk(ctx, j.ID, 0)
	wantNotFound(t, "GetBulkChunk after DeleteBulkJob", err)
	if errs, err := st.ListBulkJobErrors(ctx, j.ID, 10); err != nil || len(errs) != 0 {
		t.Errorf("errors after DeleteBulkJob: %+v, %v", errs, err)
	}
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteBulkJob(ctx, p.ID, j.ID) })
	wantNotFound(t, "DeleteBulkJob twice", err)
	if _, err := st.GetBulkChunk(ctx, keep.ID, 0); err != nil {
		t.Errorf("the other job's chunk: %v", err)
	}

	// Only uploads that stopped arriving are stale.
	stale, fresh, done := newBulkJob(p.ID, base.Add(-2*time.Hour)), newBulkJob(p.ID, base), newBulkJob(p.ID, base.Add(-2*time.Hour))
	done.Status = grid.BulkCompleted
	insertBulkJobs(t, st, stale, fresh, done)
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertBulkChunk(ctx, stale.ID, 0, []byte("x")) })
	var n int64
	mustTx(t, st, func(tx grid.Tx) error {
		var err error
		n, err = tx.DeleteStaleBulkUploads(ctx, base.Add(-time.Hour))
		return err
	})
	if n != 1 {
		t.Errorf("DeleteStaleBulkUploads = %d, want 1", n)
	}
	_, err = st.GetBulkJob(ctx, p.ID, stale.ID)
	wantNotFound(t, "stale upload", err)
	_, err = st.GetBulkChunk(ctx, stale.ID, 0)
	wantNotFound(t, "chunk of a stale upload", err)
	for _, j := range []*grid.BulkJob{fresh, done, keep} {
		if _, err := st.GetBulkJob(ctx, p.ID, j.ID); err != nil {
			t.Errorf("job %s (%s) after the sweep: %v", j.ID, j.Status, err)
		}
	}
}

func bulkConcurrentUpdate(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	j := newBulkJob(p.ID, base)
	insertBulkJobs(t, st, j)

	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			next := *j
			next.LeaseOwner, next.Version = "node-"+string(rune('a'+i)), j.Version+1
			errs[i] = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateBulkJob(ctx, &next, j.Version) })
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, grid.ErrNotFound):
			t.Errorf("update %d: %v, want nil or grid.ErrNotFound", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent updates of one version succeeded, want 1", wins)
	}
}

func insertCustomerIfAbsent(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	held := newCustomer(p.ID, base)
	gone := newCustomer(p.ID, base)
	gone.DeletedAt = &base
	insertCustomers(t, st, held, gone)

	samePCID := newCustomer(p.ID, base)
	samePCID.PlatformCustomerID = held.PlatformCustomerID
	sameUMA := newCustomer(p.ID, base)
	sameUMA.UMAAddress = held.UMAAddress
	reuse := newCustomer(p.ID, base)
	reuse.PlatformCustomerID, reuse.UMAAddress = gone.PlatformCustomerID, gone.UMAAddress
	fresh := newCustomer(p.ID, base)
	fresh.Currencies = []string{"USD", "MXN"}
	dupOfFresh := newCustomer(p.ID, base)
	dupOfFresh.PlatformCustomerID = fresh.PlatformCustomerID

	// One transaction: the duplicates leave it usable, and what follows them commits.
	mustTx(t, st, func(tx grid.Tx) error {
		wantDuplicate(t, "same platformCustomerId", tx.InsertCustomerIfAbsent(ctx, samePCID), grid.KeyPlatformCustomerID)
		wantDuplicate(t, "same umaAddress", tx.InsertCustomerIfAbsent(ctx, sameUMA), grid.KeyUMAAddress)
		if err := tx.InsertCustomerIfAbsent(ctx, reuse); err != nil {
			t.Errorf("keys of a deleted customer: %v", err)
		}
		if err := tx.InsertCustomerIfAbsent(ctx, fresh); err != nil {
			return err
		}
		wantDuplicate(t, "platformCustomerId inserted earlier in the transaction", tx.InsertCustomerIfAbsent(ctx, dupOfFresh), grid.KeyPlatformCustomerID)
		return tx.InsertStatusChange(ctx, &grid.StatusChange{ID: grid.NewID("StatusChange"), CustomerID: fresh.ID, PlatformID: p.ID, To: fresh.Status, Reason: "CREATED", Actor: "test", At: base})
	})
	for _, c := range []*grid.Customer{reuse, fresh} {
		got, err := st.GetCustomer(ctx, p.ID, c.ID)
		if err != nil {
			t.Fatalf("GetCustomer(%s): %v", c.ID, err)
		}
		checkEqual(t, "customer inserted if absent", c, got)
	}
	for _, c := range []*grid.Customer{samePCID, sameUMA, dupOfFresh} {
		_, err := st.GetCustomer(ctx, p.ID, c.ID)
		wantNotFound(t, "a refused duplicate", err)
	}
	page, err := st.ListCustomers(ctx, p.ID, grid.CustomerFilter{Currency: "MXN"})
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "currency rows of the inserted customer", []string{fresh.ID}, customerIDs(page.Customers))
}
