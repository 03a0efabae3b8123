package grid

import (
	"context"
	"errors"
	"fmt"
)

// metaDefaultPlatform names the meta row that records the default platform's id.
const metaDefaultPlatform = "bootstrap.default_platform"

// DefaultPlatform returns the platform bootstrap credentials belong to, creating it from spec
// when there is none. Several nodes starting at once agree on one platform: the id is claimed
// in the meta table in the same transaction that inserts the platform.
func (s *Service) DefaultPlatform(ctx context.Context, spec PlatformSpec) (*Platform, bool, error) {
	candidate, err := s.newPlatform(spec)
	if err != nil {
		return nil, false, err
	}
	var created bool
	var id string
	err = s.tx(ctx, func(tx Tx) error {
		created = false
		stored, err := tx.PutMetaIfAbsent(ctx, metaDefaultPlatform, []byte(candidate.ID))
		if err != nil {
			return err
		}
		id = string(stored)
		if id != candidate.ID {
			return nil
		}
		// A database from before the claim existed: adopt its oldest platform.
		existing, err := tx.ListPlatforms(ctx)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			id = existing[0].ID
			return tx.PutMeta(ctx, metaDefaultPlatform, []byte(id))
		}
		created = true
		return tx.InsertPlatform(ctx, candidate)
	})
	if err != nil {
		return nil, false, fmt.Errorf("default platform: %w", err)
	}
	p, err := s.store.GetPlatform(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, false, fmt.Errorf("default platform %s is recorded but missing", id)
	}
	return p, created, err
}
