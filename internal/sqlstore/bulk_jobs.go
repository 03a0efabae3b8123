package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// ---- customers of a bulk import ----

func (t *tx) InsertCustomerIfAbsent(ctx context.Context, c *grid.Customer) error {
	args, err := customerArgs(c)
	if err != nil {
		return err
	}
	// Without a conflict target, DO NOTHING covers every unique index, partial ones
	// included, and keeps a PostgreSQL transaction usable (a failed INSERT would abort it).
	res, err := t.q.ExecContext(ctx, `INSERT INTO customers (`+customerCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return fmt.Errorf("insert customer %s: %w", c.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("insert customer %s: %w", c.ID, err)
	}
	if n == 0 {
		return t.takenCustomerKey(ctx, c)
	}
	t.customerAdded(c)
	return t.writeCurrencies(ctx, c, false)
}

// takenCustomerKey says which key of c an active customer already holds.
func (t *tx) takenCustomerKey(ctx context.Context, c *grid.Customer) error {
	for _, k := range []struct{ key, col, value string }{
		{grid.KeyPlatformCustomerID, "platform_customer_id", c.PlatformCustomerID},
		{grid.KeyUMAAddress, "uma_address", c.UMAAddress},
	} {
		var n int
		err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE platform_id = $1 AND `+k.col+` = $2 AND deleted_at IS NULL`, c.PlatformID, k.value).Scan(&n)
		if err != nil {
			return fmt.Errorf("insert customer %s: find taken key: %w", c.ID, err)
		}
		if n > 0 {
			return &grid.DuplicateError{Key: k.key}
		}
	}
	return fmt.Errorf("insert customer %s: id already exists", c.ID)
}

// ---- jobs ----

const bulkJobCols = `id, platform_id, token_id, status, size, chunk_size, chunks, total, processed, succeeded, failed, cursor_row, cursor_offset, attempts, lease_owner, lease_until, version, created_at, updated_at, completed_at`

func scanBulkJob(sc interface{ Scan(...any) error }) (*grid.BulkJob, error) {
	var j grid.BulkJob
	var chunkSize, chunks, attempts, leaseUntil, created, updated int64
	var completed sql.NullInt64
	if err := sc.Scan(&j.ID, &j.PlatformID, &j.TokenID, &j.Status, &j.Size, &chunkSize, &chunks, &j.Total, &j.Processed,
		&j.Succeeded, &j.Failed, &j.Cursor.Row, &j.Cursor.Offset, &attempts, &j.LeaseOwner, &leaseUntil, &j.Version,
		&created, &updated, &completed); err != nil {
		return nil, err
	}
	j.ChunkSize, j.Chunks, j.Attempts = int(chunkSize), int(chunks), int(attempts)
	j.LeaseUntil, j.CreatedAt, j.UpdatedAt = fromMicros(leaseUntil), fromMicros(created), fromMicros(updated)
	if completed.Valid {
		at := fromMicros(completed.Int64)
		j.CompletedAt = &at
	}
	return &j, nil
}

func bulkJobArgs(j *grid.BulkJob) []any {
	var completed sql.NullInt64
	if j.CompletedAt != nil {
		completed = sql.NullInt64{Int64: micros(*j.CompletedAt), Valid: true}
	}
	return []any{j.ID, j.PlatformID, j.TokenID, string(j.Status), j.Size, int64(j.ChunkSize), int64(j.Chunks), j.Total,
		j.Processed, j.Succeeded, j.Failed, j.Cursor.Row, j.Cursor.Offset, int64(j.Attempts), j.LeaseOwner,
		micros(j.LeaseUntil), j.Version, micros(j.CreatedAt), micros(j.UpdatedAt), completed}
}

func (r reader) GetBulkJob(ctx context.Context, platformID, id string) (*grid.BulkJob, error) {
	j, err := scanBulkJob(r.q.QueryRowContext(ctx, `SELECT `+bulkJobCols+` FROM bulk_jobs WHERE id = $1 AND platform_id = $2`, id, platformID))
	if err != nil {
		return nil, fmt.Errorf("get bulk job %s: %w", id, notFound(err))
	}
	return j, nil
}

func (r reader) ListClaimableBulkJobs(ctx context.Context, now time.Time, limit int) ([]*grid.BulkJob, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+bulkJobCols+` FROM bulk_jobs WHERE status IN ($1, $2) AND lease_until < $3 ORDER BY id LIMIT `+fmt.Sprint(max(limit, 1)),
		string(grid.BulkPending), string(grid.BulkProcessing), micros(now))
	if err != nil {
		return nil, fmt.Errorf("list claimable bulk jobs: %w", err)
	}
	defer rows.Close()
	var out []*grid.BulkJob
	for rows.Next() {
		j, err := scanBulkJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (t *tx) InsertBulkJob(ctx context.Context, j *grid.BulkJob) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO bulk_jobs (`+bulkJobCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`, bulkJobArgs(j)...)
	if err != nil {
		return fmt.Errorf("insert bulk job %s: %w", j.ID, err)
	}
	return nil
}

func (t *tx) UpdateBulkJob(ctx context.Context, j *grid.BulkJob, prevVersion int64) error {
	args := append(bulkJobArgs(j), prevVersion)
	res, err := t.q.ExecContext(ctx, `UPDATE bulk_jobs SET token_id = $3, status = $4, size = $5, chunk_size = $6, chunks = $7,
		total = $8, processed = $9, succeeded = $10, failed = $11, cursor_row = $12, cursor_offset = $13, attempts = $14,
		lease_owner = $15, lease_until = $16, version = $17, created_at = $18, updated_at = $19, completed_at = $20
		WHERE id = $1 AND platform_id = $2 AND version = $21`, args...)
	if err != nil {
		return fmt.Errorf("update bulk job %s: %w", j.ID, err)
	}
	return mustAffect(res, "bulk job "+j.ID+" at version "+fmt.Sprint(prevVersion))
}

func (t *tx) DeleteBulkJob(ctx context.Context, platformID, id string) error {
	var n int
	if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM bulk_jobs WHERE id = $1 AND platform_id = $2`, id, platformID).Scan(&n); err != nil {
		return fmt.Errorf("delete bulk job %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete bulk job %s: %w", id, grid.ErrNotFound)
	}
	for _, q := range []string{
		`DELETE FROM bulk_job_chunks WHERE job_id = $1`,
		`DELETE FROM bulk_job_errors WHERE job_id = $1`,
		`DELETE FROM bulk_jobs WHERE id = $1`,
	} {
		if _, err := t.q.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete bulk job %s: %w", id, err)
		}
	}
	return nil
}

func (t *tx) DeleteStaleBulkUploads(ctx context.Context, before time.Time) (int64, error) {
	const stale = `SELECT id FROM bulk_jobs WHERE status = $1 AND updated_at < $2`
	args := []any{string(grid.BulkUploading), micros(before)}
	for _, q := range []string{
		`DELETE FROM bulk_job_chunks WHERE job_id IN (` + stale + `)`,
		`DELETE FROM bulk_job_errors WHERE job_id IN (` + stale + `)`,
	} {
		if _, err := t.q.ExecContext(ctx, q, args...); err != nil {
			return 0, fmt.Errorf("delete stale bulk uploads: %w", err)
		}
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM bulk_jobs WHERE status = $1 AND updated_at < $2`, args...)
	if err != nil {
		return 0, fmt.Errorf("delete stale bulk uploads: %w", err)
	}
	return res.RowsAffected()
}

// ---- the stored file ----

func (r reader) GetBulkChunk(ctx context.Context, jobID string, seq int) ([]byte, error) {
	var data []byte
	err := r.q.QueryRowContext(ctx, `SELECT data FROM bulk_job_chunks WHERE job_id = $1 AND seq = $2`, jobID, int64(seq)).Scan(&data)
	if err != nil {
		return nil, fmt.Errorf("get chunk %d of bulk job %s: %w", seq, jobID, notFound(err))
	}
	return data, nil
}

func (t *tx) InsertBulkChunk(ctx context.Context, jobID string, seq int, data []byte) error {
	if _, err := t.q.ExecContext(ctx, `INSERT INTO bulk_job_chunks (job_id, seq, data) VALUES ($1, $2, $3)`, jobID, int64(seq), data); err != nil {
		return fmt.Errorf("insert chunk %d of bulk job %s: %w", seq, jobID, err)
	}
	return nil
}

func (t *tx) DeleteBulkChunks(ctx context.Context, jobID string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM bulk_job_chunks WHERE job_id = $1`, jobID); err != nil {
		return fmt.Errorf("delete chunks of bulk job %s: %w", jobID, err)
	}
	return nil
}

// ---- row errors ----

// bulkErrorEntry is the stored form of a grid.BulkRowError, kept apart from the domain type
// so that renaming a Go field never breaks rows already written.
type bulkErrorEntry struct {
	PlatformCustomerID string            `json:"platformCustomerId,omitempty"`
	Code               string            `json:"code"`
	Message            string            `json:"message"`
	Fields             []bulkFieldStored `json:"fields,omitempty"`
}

type bulkFieldStored struct {
	Field   string   `json:"field"`
	Message string   `json:"message,omitempty"`
	Enum    []string `json:"enum,omitempty"`
	Format  string   `json:"format,omitempty"`
}

func (t *tx) InsertBulkJobError(ctx context.Context, jobID string, e *grid.BulkRowError) error {
	entry := bulkErrorEntry{PlatformCustomerID: e.PlatformCustomerID, Code: e.Code, Message: e.Message}
	for _, f := range e.Fields {
		entry.Fields = append(entry.Fields, bulkFieldStored{Field: f.Field, Message: f.Message, Enum: f.Enum, Format: f.Format})
	}
	body, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO bulk_job_errors (job_id, row_no, entry) VALUES ($1, $2, $3)`, jobID, e.Row, string(body)); err != nil {
		return fmt.Errorf("insert error of row %d of bulk job %s: %w", e.Row, jobID, err)
	}
	return nil
}

func (r reader) ListBulkJobErrors(ctx context.Context, jobID string, limit int) ([]grid.BulkRowError, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT row_no, entry FROM bulk_job_errors WHERE job_id = $1 ORDER BY row_no LIMIT `+fmt.Sprint(max(limit, 0)), jobID)
	if err != nil {
		return nil, fmt.Errorf("list errors of bulk job %s: %w", jobID, err)
	}
	defer rows.Close()
	out := []grid.BulkRowError{}
	for rows.Next() {
		var row int64
		var body string
		if err := rows.Scan(&row, &body); err != nil {
			return nil, err
		}
		var entry bulkErrorEntry
		if err := json.Unmarshal([]byte(body), &entry); err != nil {
			return nil, fmt.Errorf("error of row %d of bulk job %s: %w", row, jobID, err)
		}
		e := grid.BulkRowError{Row: row, PlatformCustomerID: entry.PlatformCustomerID, Code: entry.Code, Message: entry.Message}
		for _, f := range entry.Fields {
			e.Fields = append(e.Fields, grid.FieldError{Field: f.Field, Message: f.Message, Enum: f.Enum, Format: f.Format})
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
