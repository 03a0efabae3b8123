package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
)

// stmtCacheSize bounds the statements kept prepared on one connection. The store's fixed
// statements number a few dozen; lists with filters add a statement per combination, so the
// bound only matters to a server that sees very many of them.
const stmtCacheSize = 256

// cachingConnector opens the driver's connections wrapped in a statement cache.
type cachingConnector struct {
	driver.Connector
}

// Connect implements driver.Connector.
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(innerConn)
	if !ok {
		// Not the connection this file was written for: use it as it is.
		return dc, nil
	}
	return &cachingConn{innerConn: inner, stmts: map[string]*cachedStmt{}}, nil
}

// innerConn is what the driver's connections implement and what database/sql looks for
// (see sqlite.NewConnector); cachingConn forwards all of it.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtDriver is the driver's prepared statement.
type stmtDriver interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn keeps the statements run through ExecContext and QueryContext prepared, so
// that SQLite parses and plans each distinct statement once per connection rather than on
// every call: database/sql prepares, runs and finalizes a statement on every Exec and Query,
// inside transactions too. PostgreSQL needs no such layer: pgx keeps a statement cache on each
// connection already.
//
// database/sql uses a connection from one goroutine at a time, so the fields need no lock.
type cachingConn struct {
	innerConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	s stmtDriver
	// busy is set while rows read from s are open: SQLite runs one execution of a prepared
	// statement at a time, so the same SQL run meanwhile is prepared afresh.
	busy bool
}

var (
	_ driver.Conn               = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

// Unwrap returns the driver's own connection (sqlite.Limit and other helpers look for it).
func (c *cachingConn) Unwrap() driver.Conn { return c.innerConn }

// stmt returns the cached statement for query, preparing it if needed, or nil when query
// is better run on its own: several statements in one string, or a statement that is busy.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if strings.Contains(query, ";") {
		// A script (migrations) or a literal with a semicolon: not worth keeping.
		return nil, nil
	}
	ds, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s, ok := ds.(stmtDriver)
	if !ok {
		ds.Close()
		return nil, nil
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evictOne()
	}
	cs := &cachedStmt{s: s}
	c.stmts[query] = cs
	return cs, nil
}

// evictOne finalizes one idle statement (any: map order is random enough for a cache that
// only fills up under many distinct list filters).
func (c *cachingConn) evictOne() {
	for q, cs := range c.stmts {
		if !cs.busy {
			cs.s.Close()
			delete(c.stmts, q)
			return
		}
	}
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.innerConn.ExecContext(ctx, query, args)
	}
	res, err := cs.s.ExecContext(ctx, args)
	if err != nil {
		c.drop(query, cs)
	}
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.innerConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.s.QueryContext(ctx, args)
	if err != nil {
		c.drop(query, cs)
		return nil, err
	}
	full, ok := rows.(fullRows)
	if !ok {
		// Rows that cannot be wrapped without hiding what they implement: the statement
		// leaves the cache and is finalized with them.
		delete(c.stmts, query)
		return &closingRows{Rows: rows, s: cs.s}, nil
	}
	cs.busy = true
	return &cachedRows{fullRows: full, c: c, query: query, cs: cs}, nil
}

// drop finalizes a statement whose run failed, so that no state a failure may leave behind
// reaches the next run; the next call prepares the statement again.
func (c *cachingConn) drop(query string, cs *cachedStmt) {
	if c.stmts[query] == cs {
		delete(c.stmts, query)
	}
	cs.s.Close()
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var err error
	for q, cs := range c.stmts {
		err = errors.Join(err, cs.s.Close())
		delete(c.stmts, q)
	}
	return errors.Join(err, c.innerConn.Close())
}

// fullRows is what the driver's rows implement.
type fullRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows are rows of a cached statement; closing them makes the statement free again.
type cachedRows struct {
	fullRows
	c     *cachingConn
	query string
	cs    *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.fullRows.Close()
	r.cs.busy = false
	if err != nil {
		r.c.drop(r.query, r.cs)
	}
	return err
}

// closingRows finalize their statement when closed.
type closingRows struct {
	driver.Rows
	s driver.Stmt
}

func (r *closingRows) Close() error {
	return errors.Join(r.Rows.Close(), r.s.Close())
}
