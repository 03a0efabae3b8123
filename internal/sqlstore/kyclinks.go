package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

const kycLinkCols = `id, platform_id, customer_id, token_hash, redirect_uri, created_by, created_at, expires_at, consumed_at, verification_id`

func scanKycLink(sc interface{ Scan(...any) error }) (*grid.KycLink, error) {
	var l grid.KycLink
	var created, expires int64
	var consumed sql.NullInt64
	if err := sc.Scan(&l.ID, &l.PlatformID, &l.CustomerID, &l.TokenHash, &l.RedirectURI, &l.CreatedBy, &created, &expires, &consumed, &l.VerificationID); err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt = fromMicros(created), fromMicros(expires)
	if consumed.Valid {
		at := fromMicros(consumed.Int64)
		l.ConsumedAt = &at
	}
	return &l, nil
}

func (r reader) GetKycLinkByTokenHash(ctx context.Context, hash []byte) (*grid.KycLink, error) {
	l, err := scanKycLink(r.q.QueryRowContext(ctx, `SELECT `+kycLinkCols+` FROM kyc_links WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("get kyc link by token: %w", notFound(err))
	}
	return l, nil
}

func (t *tx) InsertKycLink(ctx context.Context, l *grid.KycLink) error {
	var consumed any
	if l.ConsumedAt != nil {
		consumed = micros(*l.ConsumedAt)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO kyc_links (`+kycLinkCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.ID, l.PlatformID, l.CustomerID, l.TokenHash, l.RedirectURI, l.CreatedBy, micros(l.CreatedAt), micros(l.ExpiresAt), consumed, l.VerificationID)
	if err != nil {
		return fmt.Errorf("insert kyc link %s: %w", l.ID, err)
	}
	return nil
}

func (t *tx) ConsumeKycLink(ctx context.Context, platformID, id string, at time.Time, verificationID string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE kyc_links SET consumed_at = $3, verification_id = $4
		WHERE id = $1 AND platform_id = $2 AND consumed_at IS NULL`, id, platformID, micros(at), verificationID)
	if err != nil {
		return fmt.Errorf("consume kyc link %s: %w", id, err)
	}
	return mustAffect(res, "unconsumed kyc link "+id)
}
