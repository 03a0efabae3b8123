// Package sqlstore implements grid.Store in SQL that SQLite and PostgreSQL both run. The
// sqlite and postgres packages open the databases and supply a Dialect: how to recognise a
// unique violation or a retryable failure in their driver's errors.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// Dialect is what differs between databases.
type Dialect struct {
	Name string
	// UniqueViolation reports whether err broke a unique index, and which one if the driver
	// says so ("" when it does not).
	UniqueViolation func(err error) (index string, ok bool)
	// Retryable reports whether the database asks for the transaction to be run again.
	Retryable func(err error) bool
	// SkipLocked is the row-locking clause a claim's SELECT ends with so that concurrent
	// claims pass over each other's rows ("FOR UPDATE SKIP LOCKED"); empty where one writer
	// at a time makes it unnecessary (SQLite).
	SkipLocked string
	// ForUpdate is the clause that locks a row read inside a transaction until it ends, or ""
	// where the database serialises writers itself (SQLite).
	ForUpdate string
}

// Store is a grid.Store over database/sql.
type Store struct {
	reader
	write   *sql.DB
	read    *sql.DB
	dialect Dialect
	// Begin, when set, replaces how WithTx starts and ends transactions (SQLite's group commit).
	Begin func(ctx context.Context, fn func(*sql.Tx) error) error
	// OnClose, when set, runs before the handles are closed.
	OnClose func()
	// Changes, when set, is the counter every process writing to this database shares
	// (grid.ChangeCounted); SQLite sets it, PostgreSQL, whose nodes may be on many hosts,
	// does not.
	Changes grid.ChangeCounter
}

// CustomerChanges returns the store's shared change counter, or nil.
func (s *Store) CustomerChanges() grid.ChangeCounter { return s.Changes }

var _ grid.Store = (*Store)(nil)

// New returns a Store that writes through write and reads through read (they may be the same).
func New(write, read *sql.DB, d Dialect) *Store {
	return &Store{reader: reader{q: read, d: d}, write: write, read: read, dialect: d}
}

// DB returns the write handle, for migrations and tools.
func (s *Store) DB() *sql.DB { return s.write }

// ReadDB returns the read handle.
func (s *Store) ReadDB() *sql.DB { return s.read }

// Close closes both handles.
func (s *Store) Close() error {
	if s.OnClose != nil {
		s.OnClose()
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// WithTx runs fn in one transaction.
func (s *Store) WithTx(ctx context.Context, fn func(grid.Tx) error) error {
	run := func(sqlTx *sql.Tx) error {
		t := &tx{reader: reader{q: sqlTx, d: s.dialect, forUpdate: s.dialect.ForUpdate}, sqlTx: sqlTx}
		if err := fn(t); err != nil {
			return err
		}
		return t.active.write(ctx, sqlTx)
	}
	var err error
	if s.Begin != nil {
		err = s.Begin(ctx, run)
	} else {
		err = s.runTx(ctx, run)
	}
	if err != nil && s.dialect.Retryable(err) {
		return fmt.Errorf("%s: %w: %w", s.dialect.Name, grid.ErrRetry, err)
	}
	return err
}

func (s *Store) runTx(ctx context.Context, fn func(*sql.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", s.dialect.Name, err)
	}
	if err := fn(sqlTx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.dialect.Name, err)
	}
	return nil
}

type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type reader struct {
	q queryer
	d Dialect
	// forUpdate is appended to reads of rows that transactions modify: inside a transaction a
	// customer read is locked, so every read-modify-write of a customer is serialised.
	forUpdate string
}

type tx struct {
	reader
	sqlTx *sql.Tx
	// active is what the transaction changed in the counts of active customers, written to
	// customer_counts when fn returns.
	active activeDelta
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return grid.ErrNotFound
	}
	return err
}

// ---- meta ----

func (r reader) GetMeta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := r.q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("get meta %s: %w", key, notFound(err))
	}
	return v, nil
}

func (t *tx) PutMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	if _, err := t.q.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return nil, fmt.Errorf("put meta %s: %w", key, err)
	}
	return t.GetMeta(ctx, key)
}

func (t *tx) PutMeta(ctx context.Context, key string, value []byte) error {
	if _, err := t.q.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("put meta %s: %w", key, err)
	}
	return nil
}

// ---- platforms ----

const platformCols = `id, name, uma_domain, webhook, currencies, regulated, sandbox, contact_verification, created_at, updated_at`

func scanPlatform(sc interface{ Scan(...any) error }) (*grid.Platform, error) {
	var p grid.Platform
	var cur, cv string
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Name, &p.UMADomain, &p.Webhook, &cur, &p.Regulated, &p.Sandbox, &cv, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cur), &p.Currencies); err != nil {
		return nil, fmt.Errorf("platform %s currencies: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(cv), &p.ContactVerification); err != nil {
		return nil, fmt.Errorf("platform %s contact verification: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func (r reader) GetPlatform(ctx context.Context, id string) (*grid.Platform, error) {
	p, err := scanPlatform(r.q.QueryRowContext(ctx, `SELECT `+platformCols+` FROM platforms WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get platform %s: %w", id, notFound(err))
	}
	return p, nil
}

func (r reader) ListPlatforms(ctx context.Context) ([]*grid.Platform, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+platformCols+` FROM platforms ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list platforms: %w", err)
	}
	defer rows.Close()
	var out []*grid.Platform
	for rows.Next() {
		p, err := scanPlatform(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func platformArgs(p *grid.Platform) ([]any, error) {
	cur, err := json.Marshal(p.Currencies)
	if err != nil {
		return nil, err
	}
	cv := p.ContactVerification
	if cv == nil {
		cv = []string{}
	}
	cvj, _ := json.Marshal(cv)
	return []any{p.ID, p.Name, p.UMADomain, p.Webhook, string(cur), p.Regulated, p.Sandbox, string(cvj), micros(p.CreatedAt), micros(p.UpdatedAt)}, nil
}

func (t *tx) InsertPlatform(ctx context.Context, p *grid.Platform) error {
	args, err := platformArgs(p)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO platforms (`+platformCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, args...)
	if err != nil {
		return fmt.Errorf("insert platform %s: %w", p.ID, err)
	}
	return nil
}

func (t *tx) UpdatePlatform(ctx context.Context, p *grid.Platform) error {
	args, err := platformArgs(p)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE platforms SET name = $2, uma_domain = $3, webhook = $4, currencies = $5, regulated = $6, sandbox = $7, contact_verification = $8, created_at = $9, updated_at = $10 WHERE id = $1`, args...)
	if err != nil {
		return fmt.Errorf("update platform %s: %w", p.ID, err)
	}
	return mustAffect(res, "platform "+p.ID)
}

func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, grid.ErrNotFound)
	}
	return nil
}

// ---- tokens ----

const tokenCols = `id, platform_id, name, client_id, secret_hash, permissions, created_at, updated_at`

func scanToken(sc interface{ Scan(...any) error }) (*grid.Token, error) {
	var t grid.Token
	var perms string
	var created, updated int64
	if err := sc.Scan(&t.ID, &t.PlatformID, &t.Name, &t.ClientID, &t.SecretHash, &perms, &created, &updated); err != nil {
		return nil, err
	}
	for _, p := range strings.Split(perms, ",") {
		if p != "" {
			t.Permissions = append(t.Permissions, grid.Permission(p))
		}
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}

func (r reader) TokenByClientID(ctx context.Context, clientID string) (*grid.Token, error) {
	t, err := scanToken(r.q.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE client_id = $1`, clientID))
	if err != nil {
		return nil, fmt.Errorf("token by client id: %w", notFound(err))
	}
	return t, nil
}

func (r reader) GetToken(ctx context.Context, platformID, id string) (*grid.Token, error) {
	t, err := scanToken(r.q.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE platform_id = $1 AND id = $2`, platformID, id))
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, notFound(err))
	}
	return t, nil
}

func (r reader) ListTokens(ctx context.Context, platformID string, f grid.TokenFilter) (grid.TokenPage, error) {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if f.Name != "" {
		w.add("name = $?", f.Name)
	}
	w.timeRange("created_at", f.Created)
	w.timeRange("updated_at", f.Updated)
	var page grid.TokenPage
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE `+w.sql(), w.args...).Scan(&page.TotalCount); err != nil {
		return page, fmt.Errorf("count tokens: %w", err)
	}
	if f.AfterID != "" {
		w.add("id > $?", f.AfterID)
	}
	var err error
	page.Tokens, page.HasMore, err = keysetPage(ctx, r.q, "list tokens", `SELECT `+tokenCols+` FROM tokens`, w, f.Limit, scanToken)
	return page, err
}

func (t *tx) InsertToken(ctx context.Context, tok *grid.Token) error {
	perms := make([]string, len(tok.Permissions))
	for i, p := range tok.Permissions {
		perms[i] = string(p)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		tok.ID, tok.PlatformID, tok.Name, tok.ClientID, tok.SecretHash, strings.Join(perms, ","), micros(tok.CreatedAt), micros(tok.UpdatedAt))
	if index, ok := t.d.UniqueViolation(err); ok && (index == "" || index == "tokens_client_id") {
		return &grid.DuplicateError{Key: grid.KeyTokenClientID}
	}
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

func (t *tx) DeleteToken(ctx context.Context, platformID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM tokens WHERE platform_id = $1 AND id = $2`, platformID, id)
	if err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	return mustAffect(res, "token "+id)
}

// ---- filters ----

// where builds a conjunction with numbered placeholders; "$?" takes the next number.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "$?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	// The platform placeholder is always $1.
	cond = strings.Replace(cond, "$?", "$1", 1)
	w.conds = append(w.conds, cond)
}

func (w *where) timeRange(col string, r grid.TimeRange) {
	if !r.After.IsZero() {
		w.add(col+" >= $?", micros(r.After))
	}
	if !r.Before.IsZero() {
		w.add(col+" <= $?", micros(r.Before))
	}
}

func (w *where) sql() string { return strings.Join(w.conds, " AND ") }

// keysetPage reads one page of rows in id order: the query selects from a table, w holds its
// conditions (the keyset position included), and one row beyond the limit tells whether more
// follow.
func keysetPage[T any](ctx context.Context, q queryer, what, selectFrom string, w where, limit int, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, bool, error) {
	limit = clampLimit(limit)
	rows, err := q.QueryContext(ctx, selectFrom+` WHERE `+w.sql()+` ORDER BY id LIMIT `+fmt.Sprint(limit+1), w.args...)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return grid.DefaultPageSize
	}
	if n > grid.MaxPageSize {
		return grid.MaxPageSize
	}
	return n
}
