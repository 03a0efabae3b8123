package grid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// BulkJobStatus is the state of a bulk customer import job.
type BulkJobStatus string

// The states of a bulk import job. BulkUploading is internal: the file is still arriving and
// the job is not visible through the API yet.
const (
	BulkUploading  BulkJobStatus = "UPLOADING"
	BulkPending    BulkJobStatus = "PENDING"
	BulkProcessing BulkJobStatus = "PROCESSING"
	BulkCompleted  BulkJobStatus = "COMPLETED"
	BulkFailed     BulkJobStatus = "FAILED"
)

// Webhook types that announce the end of a bulk import job.
const (
	EventBulkUploadCompleted = "BULK_UPLOAD.COMPLETED"
	EventBulkUploadFailed    = "BULK_UPLOAD.FAILED"
)

// Bulk import sizes and timings.
const (
	// BulkChunkSize is the size of the pieces an uploaded file is stored in.
	BulkChunkSize = 256 << 10
	// MaxBulkFileSize bounds an uploaded file.
	MaxBulkFileSize = 512 << 20
	// BulkBatchRows is how many rows a worker commits in one transaction.
	BulkBatchRows = 500
	// MaxListedBulkErrors bounds the row errors a job's GET (and its webhook) lists; the
	// progress counts cover every row.
	MaxListedBulkErrors = 1000
	// BulkLease is how long a worker owns a job after a claim or a committed batch; a job
	// whose lease ran out is taken over by another worker.
	BulkLease = 60 * time.Second
	// MaxBulkAttempts is how many times a job is claimed without committing anything before
	// it is given up as FAILED.
	MaxBulkAttempts = 10
	// bulkUploadAbandoned is how long an upload may go without a new chunk before its
	// partial file is removed.
	bulkUploadAbandoned = time.Hour
)

// BulkCursor is how far a job got: every row up to and including Row is committed.
type BulkCursor struct {
	// Row is the record number of the last committed row; the header is row 1, so 0 or 1
	// means no data row yet.
	Row int64
	// Offset is the byte offset in the file just after that row (0: read from the start).
	Offset int64
}

// BulkJob is a bulk customer import: an uploaded CSV file, stored in chunks, that a worker
// turns into customers batch by batch.
type BulkJob struct {
	ID         string // Job:<UUIDv7>
	PlatformID string
	TokenID    string // the token that uploaded the file
	Status     BulkJobStatus
	Size       int64 // bytes of the file
	ChunkSize  int   // every chunk but the last holds exactly this many bytes
	Chunks     int
	// Total is the number of data rows, or -1 until a worker has counted them.
	Total     int64
	Processed int64
	Succeeded int64
	Failed    int64
	Cursor    BulkCursor
	// Attempts counts claims since the last committed batch.
	Attempts   int
	LeaseOwner string
	LeaseUntil time.Time
	// Version increases with every change; updates compare and set it.
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CompletedAt *time.Time

	// Errors holds the first MaxListedBulkErrors row errors in row order. The service fills
	// it for reads and webhooks; stores do not.
	Errors []BulkRowError
}

// BulkRowError is why one row of a file (or the file as a whole) was not imported: the error
// POST /customers would have answered for that row.
type BulkRowError struct {
	Row                int64
	PlatformCustomerID string
	Code               string
	Message            string
	Fields             []FieldError
}

// BulkRow is one data row of a file as the parser read it: a create request, or the reason
// the row could not be read as one.
type BulkRow struct {
	// Row is the record number in the file (the header is row 1).
	Row int64
	// Input is the create request the row describes; with Err set it may be nil or partial.
	Input *CustomerInput
	Err   *Error
}

// CreateBulkJob stores an uploaded CSV file chunk by chunk, each chunk sealed and written in
// its own transaction so that memory stays flat, and queues the job for a worker. It needs
// MANAGE. A file larger than MaxBulkFileSize is 413 and an empty one 400; a failed read of
// file is returned wrapped. What was stored of a failed upload is removed.
func (s *Service) CreateBulkJob(ctx context.Context, p *Principal, file io.Reader) (*BulkJob, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	now := s.Now()
	j := &BulkJob{
		ID: NewID("Job"), PlatformID: p.Platform.ID, TokenID: p.Token.ID, Status: BulkUploading,
		ChunkSize: BulkChunkSize, Total: -1, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.tx(ctx, func(tx Tx) error { return tx.InsertBulkJob(ctx, j) }); err != nil {
		return nil, err
	}
	if err := s.storeBulkFile(ctx, j, file); err != nil {
		// The request may be gone; remove the partial file anyway (the sweep would later).
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := s.tx(dctx, func(tx Tx) error { return tx.DeleteBulkJob(dctx, j.PlatformID, j.ID) }); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove partial upload %s: %w", j.ID, derr))
		}
		return nil, err
	}
	return j, nil
}

func (s *Service) storeBulkFile(ctx context.Context, j *BulkJob, file io.Reader) error {
	buf := make([]byte, j.ChunkSize)
	for {
		n, rerr := io.ReadFull(file, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return fmt.Errorf("read uploaded file: %w", rerr)
		}
		if n > 0 {
			if j.Size+int64(n) > MaxBulkFileSize {
				return &Error{Status: 413, Code: CodePayloadTooLarge, Message: fmt.Sprintf("the file is larger than %d bytes", MaxBulkFileSize)}
			}
			sealed, err := s.sealer.Seal(buf[:n])
			if err != nil {
				return fmt.Errorf("seal chunk of %s: %w", j.ID, err)
			}
			next := *j
			next.Chunks++
			next.Size += int64(n)
			if err := s.saveBulkJob(ctx, j, &next, func(tx Tx) error {
				return tx.InsertBulkChunk(ctx, j.ID, j.Chunks, sealed)
			}); err != nil {
				return err
			}
		}
		if rerr != nil {
			break
		}
	}
	if j.Size == 0 {
		return InvalidInput(FieldError{Field: "file", Message: "is empty"})
	}
	next := *j
	next.Status = BulkPending
	return s.saveBulkJob(ctx, j, &next, nil)
}

// saveBulkJob stores next in place of j if j is still the stored version, running also (when
// set) in the same transaction, and then makes j next. It returns ErrNotFound when the job
// changed meanwhile (another worker took it over) or is gone.
func (s *Service) saveBulkJob(ctx context.Context, j, next *BulkJob, also func(Tx) error) error {
	next.UpdatedAt = s.Now()
	next.Version = j.Version + 1
	err := s.tx(ctx, func(tx Tx) error {
		if err := tx.UpdateBulkJob(ctx, next, j.Version); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*j = *next
	return nil
}

// GetBulkJob returns one of the caller's platform's import jobs with its first row errors. It
// needs VIEW.
func (s *Service) GetBulkJob(ctx context.Context, p *Principal, id string) (*BulkJob, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	// Errors first: the job read after them counts at least every error listed.
	errs, err := s.store.ListBulkJobErrors(ctx, id, MaxListedBulkErrors)
	if err != nil {
		return nil, err
	}
	j, err := s.store.GetBulkJob(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) || (err == nil && j.Status == BulkUploading) {
		return nil, NotFound(CodeBulkJobNotFound, "bulk import job "+id)
	}
	if err != nil {
		return nil, err
	}
	j.Errors = errs
	return j, nil
}

// ClaimBulkJob gives owner the oldest job that is waiting for a worker or whose worker's
// lease ran out, marked PROCESSING and leased for BulkLease. It returns ErrNotFound when there
// is none.
func (s *Service) ClaimBulkJob(ctx context.Context, owner string) (*BulkJob, error) {
	now := s.Now()
	candidates, err := s.store.ListClaimableBulkJobs(ctx, now, 8)
	if err != nil {
		return nil, err
	}
	for _, c := range candidates {
		var claimed *BulkJob
		err := s.tx(ctx, func(tx Tx) error {
			j, err := tx.GetBulkJob(ctx, c.PlatformID, c.ID)
			if err != nil {
				return err
			}
			if !j.claimable(now) {
				return ErrNotFound
			}
			next := *j
			next.Status, next.LeaseOwner, next.LeaseUntil = BulkProcessing, owner, now.Add(BulkLease)
			next.Attempts++
			next.UpdatedAt, next.Version = now, j.Version+1
			if err := tx.UpdateBulkJob(ctx, &next, j.Version); err != nil {
				return err
			}
			claimed = &next
			return nil
		})
		if errors.Is(err, ErrNotFound) {
			continue // another worker was quicker
		}
		if err != nil {
			return nil, err
		}
		return claimed, nil
	}
	return nil, ErrNotFound
}

func (j *BulkJob) claimable(now time.Time) bool {
	return (j.Status == BulkPending || j.Status == BulkProcessing) && j.LeaseUntil.Before(now)
}

// RenewBulkLease extends the caller's lease on j. It returns ErrNotFound when the job is no
// longer the caller's.
func (s *Service) RenewBulkLease(ctx context.Context, j *BulkJob) error {
	next := *j
	next.LeaseUntil = s.Now().Add(BulkLease)
	return s.saveBulkJob(ctx, j, &next, nil)
}

// SetBulkTotal records how many data rows j's file holds and extends the lease.
func (s *Service) SetBulkTotal(ctx context.Context, j *BulkJob, total int64) error {
	next := *j
	next.Total = total
	next.LeaseUntil = s.Now().Add(BulkLease)
	return s.saveBulkJob(ctx, j, &next, nil)
}

// ReleaseBulkJob gives up the caller's lease on j, so that another worker (or this one after
// a restart) resumes it at once rather than when the lease runs out. A claim that ends this
// way does not count towards MaxBulkAttempts.
func (s *Service) ReleaseBulkJob(ctx context.Context, j *BulkJob) error {
	next := *j
	next.LeaseOwner, next.LeaseUntil = "", time.Time{}
	next.Attempts = max(j.Attempts-1, 0)
	return s.saveBulkJob(ctx, j, &next, nil)
}

// BulkChunk returns piece seq of j's file, decrypted.
func (s *Service) BulkChunk(ctx context.Context, j *BulkJob, seq int) ([]byte, error) {
	sealed, err := s.store.GetBulkChunk(ctx, j.ID, seq)
	if err != nil {
		return nil, fmt.Errorf("chunk %d of %s: %w", seq, j.ID, err)
	}
	plain, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open chunk %d of %s: %w", seq, j.ID, err)
	}
	return plain, nil
}

// ImportBulkRows validates rows with exactly the rules of POST /customers and creates the
// valid ones, each with its first history entry and webhook, then advances j to cursor: all
// in one transaction, so that a job interrupted anywhere resumes after its last committed
// batch and creates no customer twice. A row that is invalid or whose platformCustomerId or
// umaAddress is taken (by an existing customer or an earlier row of the file) is recorded as
// a row error and does not stop the others. It returns ErrNotFound when j is no longer the
// caller's; nothing is written then.
func (s *Service) ImportBulkRows(ctx context.Context, j *BulkJob, rows []BulkRow, cursor BulkCursor) error {
	p, err := s.store.GetPlatform(ctx, j.PlatformID)
	if err != nil {
		return err
	}
	type prepared struct {
		c *Customer
		// umaDomain is set when the UMA address was derived rather than sent.
		umaDomain string
		err       *Error
		pcid      string
	}
	// Validation needs no database: do it before the transaction.
	preps := make([]prepared, len(rows))
	for i, r := range rows {
		pr := &preps[i]
		if r.Input != nil && r.Input.PlatformCustomerID != nil {
			pr.pcid = strings.TrimSpace(*r.Input.PlatformCustomerID)
		}
		if r.Err != nil {
			pr.err = r.Err
			continue
		}
		c, err := s.PrepareCustomer(p, r.Input)
		if e, ok := AsError(err); ok {
			pr.err = e
			continue
		}
		if err != nil {
			return err
		}
		pr.c = c
		if r.Input.UMAAddress == nil {
			pr.umaDomain = p.UMADomain
		}
	}

	var next BulkJob
	err = s.tx(ctx, func(tx Tx) error {
		// Fence first: the job's row is locked from here on, and a worker whose lease was
		// taken over stops before it writes anything.
		next = *j
		next.LeaseUntil = s.Now().Add(BulkLease)
		next.UpdatedAt, next.Version = s.Now(), j.Version+1
		if err := tx.UpdateBulkJob(ctx, &next, j.Version); err != nil {
			return err
		}
		for i, r := range rows {
			pr := &preps[i]
			rowErr := pr.err
			if rowErr == nil {
				err := s.insertBulkCustomer(ctx, tx, j, pr.c, pr.umaDomain)
				if e, ok := AsError(err); ok {
					rowErr = e
				} else if err != nil {
					return err
				}
			}
			next.Processed++
			if rowErr == nil {
				next.Succeeded++
				continue
			}
			next.Failed++
			re := &BulkRowError{Row: r.Row, PlatformCustomerID: pr.pcid, Code: rowErr.Code, Message: rowErr.Message, Fields: rowErr.Fields}
			if err := tx.InsertBulkJobError(ctx, j.ID, re); err != nil {
				return err
			}
		}
		prev := next.Version
		next.Cursor, next.Attempts, next.Version = cursor, 0, prev+1
		return tx.UpdateBulkJob(ctx, &next, prev)
	})
	if err != nil {
		return err
	}
	*j = next
	return nil
}

// insertBulkCustomer creates one customer of a file inside tx like CreateCustomer does, but a
// taken platformCustomerId or umaAddress leaves the transaction usable and comes back as the
// 409 error POST /customers answers. umaDomain is set when c's UMA address was derived.
func (s *Service) insertBulkCustomer(ctx context.Context, tx Tx, j *BulkJob, c *Customer, umaDomain string) error {
	for attempt := 0; ; attempt++ {
		err := tx.InsertCustomerIfAbsent(ctx, c)
		var dup *DuplicateError
		if errors.As(err, &dup) {
			if dup.Key == KeyUMAAddress && umaDomain != "" && attempt < 3 {
				// The derived address was taken: fall back to a random one, as the API does.
				c.UMAAddress = "$" + randomHex(8) + "@" + umaDomain
				continue
			}
			return s.bulkDuplicate(ctx, tx, j, c, dup.Key)
		}
		if err != nil {
			return err
		}
		// The actor of the first history entry is the job: it tells which file created the
		// customer (and the job, which token uploaded it).
		return s.recordCreation(ctx, tx, c, j.ID)
	}
}

// bulkDuplicate is the 409 error POST /customers answers for a taken key, saying whether an
// earlier row of the same file or another customer holds it.
func (s *Service) bulkDuplicate(ctx context.Context, tx Tx, j *BulkJob, c *Customer, key string) error {
	e, ok := AsError(duplicateToConflict(&DuplicateError{Key: key}))
	if !ok {
		return duplicateToConflict(&DuplicateError{Key: key})
	}
	f := CustomerFilter{Limit: 1}
	value := c.PlatformCustomerID
	if key == KeyUMAAddress {
		f.UMAAddress, value = c.UMAAddress, c.UMAAddress
	} else {
		f.PlatformCustomerID = c.PlatformCustomerID
	}
	page, err := tx.ListCustomers(ctx, c.PlatformID, f)
	if err != nil {
		return err
	}
	if len(page.Customers) == 0 {
		return e
	}
	holder := page.Customers[0]
	hist, err := tx.ListStatusChanges(ctx, c.PlatformID, holder.ID)
	if err != nil {
		return err
	}
	out := *e
	if len(hist) > 0 && hist[0].Actor == j.ID {
		out.Message = fmt.Sprintf("%s %s is already used by an earlier row of this file (customer %s)", key, value, holder.ID)
	} else {
		out.Message = fmt.Sprintf("%s %s is already used by customer %s", key, value, holder.ID)
	}
	return &out
}

// FinishBulkJob ends j: COMPLETED once every row has been processed, or FAILED with failure
// when the file as a whole could not be imported (its remaining rows then count as failed).
// The stored file is removed and BULK_UPLOAD.COMPLETED or BULK_UPLOAD.FAILED is written to
// the outbox in the same transaction. It returns ErrNotFound when j is no longer the caller's.
func (s *Service) FinishBulkJob(ctx context.Context, j *BulkJob, failure *BulkRowError) error {
	now := s.Now()
	var next BulkJob
	err := s.tx(ctx, func(tx Tx) error {
		next = *j
		next.LeaseOwner, next.LeaseUntil = "", time.Time{}
		next.UpdatedAt, next.CompletedAt, next.Version = now, &now, j.Version+1
		typ := EventBulkUploadCompleted
		if failure != nil {
			typ, next.Status = EventBulkUploadFailed, BulkFailed
			next.Total = max(next.Total, next.Processed)
			if rest := next.Total - next.Processed; rest > 0 {
				next.Failed += rest
				next.Processed = next.Total
			}
			if err := tx.InsertBulkJobError(ctx, j.ID, failure); err != nil {
				return err
			}
		} else {
			// The count and the import read the same records, so this only settles a job
			// that was never counted.
			next.Status, next.Total = BulkCompleted, next.Processed
		}
		if err := tx.UpdateBulkJob(ctx, &next, j.Version); err != nil {
			return err
		}
		if err := tx.DeleteBulkChunks(ctx, j.ID); err != nil {
			return err
		}
		errs, err := tx.ListBulkJobErrors(ctx, j.ID, MaxListedBulkErrors)
		if err != nil {
			return err
		}
		next.Errors = errs
		return s.emit(ctx, tx, j.PlatformID, typ, j.ID, &next, now)
	})
	if err != nil {
		return err
	}
	*j = next
	return nil
}

// SweepBulkUploads removes uploads that stopped arriving (their node died mid-upload) and
// returns how many it removed.
func (s *Service) SweepBulkUploads(ctx context.Context) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteStaleBulkUploads(ctx, s.Now().Add(-bulkUploadAbandoned))
		return err
	})
	return n, err
}
