package grid_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
)

// BenchmarkAuthenticate measures the check every request pays: the token by client id, the
// secret's hash compared, the platform read, over SQLite.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "gridd.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	box, err := seal.New(seal.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	svc := grid.NewService(st, box, nil)
	p, err := svc.CreatePlatform(ctx, grid.PlatformSpec{Name: "bench", UMADomain: "bench.gridd.local", Sandbox: true})
	if err != nil {
		b.Fatal(err)
	}
	tok, secret, err := svc.IssueToken(ctx, p.ID, grid.NewTokenSpec{Name: "bench", Permissions: grid.AllPermissions})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Authenticate(ctx, tok.ClientID, secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Authenticate(ctx, tok.ClientID, secret); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
