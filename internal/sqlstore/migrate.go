package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		body, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// LatestVersion is the newest schema version this binary understands.
func LatestVersion() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// SchemaTooNewError is returned when the database was migrated by a newer gridd.
type SchemaTooNewError struct{ Have, Know int }

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema is at version %d but this gridd understands up to %d: upgrade gridd", e.Have, e.Know)
}

// Migrate applies every pending migration on conn, each in its own transaction. The caller
// holds whatever lock keeps two processes from migrating at once.
func Migrate(ctx context.Context, conn *sql.Conn) (applied int, err error) {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return 0, fmt.Errorf("migrate: read version: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		return 0, err
	}
	if know := LatestVersion(); have > know {
		return 0, &SchemaTooNewError{Have: have, Know: know}
	}
	for _, m := range ms {
		if m.Version <= have {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, m.Version, m.Name, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("migrate: commit %s: %w", m.Name, err)
		}
		applied++
	}
	return applied, nil
}

// CheckVersion returns an error unless the database schema is exactly the one this binary
// knows.
func CheckVersion(ctx context.Context, db *sql.DB) error {
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	know := LatestVersion()
	if have > know {
		return &SchemaTooNewError{Have: have, Know: know}
	}
	if have < know {
		return fmt.Errorf("database schema is at version %d, %d expected: run gridd migrate", have, know)
	}
	return nil
}
