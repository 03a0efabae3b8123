package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
)

// config is what every command needs to reach the data.
type config struct {
	addr           string
	databaseURL    string
	basePath       string
	bootstrapToken string
	encryptionKey  string
	logLevel       string
	shutdownGrace  time.Duration
	getenv         func(string) string
}

// defaultDatabase is the embedded store's file, under the working directory.
const defaultDatabase = "gridd-data/gridd.db"

// bind registers the shared flags; each defaults to its environment variable.
func (c *config) bind(fs *flag.FlagSet, getenv func(string) string) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.addr, "addr", env("GRIDD_ADDR", "127.0.0.1:8080"), "listen address (GRIDD_ADDR)")
	fs.StringVar(&c.databaseURL, "database-url", env("GRIDD_DATABASE_URL", defaultDatabase), "SQLite file path, sqlite:PATH, or postgres://... URL (GRIDD_DATABASE_URL)")
	fs.StringVar(&c.basePath, "base-path", env("GRIDD_BASE_PATH", "/grid/2025-10-13"), "path prefix of every endpoint (GRIDD_BASE_PATH)")
	fs.StringVar(&c.bootstrapToken, "bootstrap-token", env("GRIDD_BOOTSTRAP_TOKEN", ""), "TOKEN_ID:SECRET to ensure at start on the default platform (GRIDD_BOOTSTRAP_TOKEN)")
	fs.StringVar(&c.encryptionKey, "encryption-key", env("GRIDD_ENCRYPTION_KEY", ""), "base64 32-byte key for write-only fields (GRIDD_ENCRYPTION_KEY); default: a key file beside the SQLite database")
	fs.StringVar(&c.logLevel, "log-level", env("GRIDD_LOG_LEVEL", "info"), "debug, info, warn or error (GRIDD_LOG_LEVEL)")
	c.shutdownGrace = 15 * time.Second
	c.getenv = getenv
}

func (c *config) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// sqlitePath returns the file path when the database URL names SQLite.
func (c *config) sqlitePath() (string, bool) {
	u := c.databaseURL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return "", false
	case strings.HasPrefix(u, "sqlite://"):
		return strings.TrimPrefix(u, "sqlite://"), true
	case strings.HasPrefix(u, "sqlite:"):
		return strings.TrimPrefix(u, "sqlite:"), true
	case strings.HasPrefix(u, "file:"):
		return strings.TrimPrefix(u, "file:"), true
	}
	return u, true
}

// openStore opens the configured database and applies migrations.
func (c *config) openStore(ctx context.Context) (*sqlstore.Store, error) {
	if path, ok := c.sqlitePath(); ok {
		return sqlite.Open(ctx, path)
	}
	return openPostgres(ctx, c.databaseURL, c.getenv)
}

// sealer resolves the key for write-only fields: configuration first; for SQLite a key file
// beside the database, created on first start; for PostgreSQL a key kept in the database so
// that every node shares it. A key that cannot open the data already stored stops the start.
func (c *config) sealer(ctx context.Context, st grid.Store, log *slog.Logger) (*seal.Box, error) {
	var key []byte
	var err error
	switch path, isSQLite := c.sqlitePath(); {
	case c.encryptionKey != "":
		key, err = seal.DecodeKey(c.encryptionKey)
		if err != nil {
			return nil, fmt.Errorf("GRIDD_ENCRYPTION_KEY: %w", err)
		}
	case isSQLite:
		key, err = keyFile(filepath.Join(filepath.Dir(path), "gridd.key"))
		if err != nil {
			return nil, err
		}
	default:
		err = st.WithTx(ctx, func(tx grid.Tx) error {
			key, err = tx.PutMetaIfAbsent(ctx, "seal.key", seal.NewKey())
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
		log.Warn("no GRIDD_ENCRYPTION_KEY given: using the key stored in the database; set one in production")
	}
	box, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	probe, err := box.Seal([]byte("gridd key check"))
	if err != nil {
		return nil, err
	}
	var stored []byte
	err = st.WithTx(ctx, func(tx grid.Tx) error {
		stored, err = tx.PutMetaIfAbsent(ctx, "seal.check", probe)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("encryption key check: %w", err)
	}
	if _, err := box.Open(stored); err != nil {
		return nil, errors.New("the encryption key does not match the one this database was written with: refusing to start (check GRIDD_ENCRYPTION_KEY)")
	}
	return box, nil
}

// keyFile reads a key file, creating it with a fresh key when it does not exist.
func keyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return seal.DecodeKey(string(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := seal.NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(seal.EncodeKey(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// open returns a ready service over the configured store.
func (c *config) open(ctx context.Context, log *slog.Logger) (*grid.Service, *sqlstore.Store, error) {
	st, err := c.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	box, err := c.sealer(ctx, st, log)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return grid.NewService(st, box, nil), st, nil
}
