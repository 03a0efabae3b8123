package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gridd/gridd/internal/grid"
)

// ---- beneficial owners ----

const ownerCols = `id, platform_id, customer_id, status, roles, ownership_percentage, personal_info, sealed, created_at, updated_at`

func scanOwner(sc interface{ Scan(...any) error }) (*grid.BeneficialOwner, error) {
	var o grid.BeneficialOwner
	var roles, info string
	var pct, created, updated int64
	if err := sc.Scan(&o.ID, &o.PlatformID, &o.CustomerID, &o.Status, &roles, &pct, &info, &o.Sealed, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &o.Roles); err != nil {
		return nil, fmt.Errorf("beneficial owner %s roles: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(info), &o.Info); err != nil {
		return nil, fmt.Errorf("beneficial owner %s personal info: %w", o.ID, err)
	}
	o.OwnershipPercentage = int(pct)
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &o, nil
}

func ownerArgs(o *grid.BeneficialOwner) ([]any, error) {
	roles := o.Roles
	if roles == nil {
		roles = []string{}
	}
	rj, err := json.Marshal(roles)
	if err != nil {
		return nil, err
	}
	info, err := json.Marshal(o.Info)
	if err != nil {
		return nil, err
	}
	return []any{o.ID, o.PlatformID, o.CustomerID, string(o.Status), string(rj), int64(o.OwnershipPercentage), string(info), o.Sealed,
		micros(o.CreatedAt), micros(o.UpdatedAt)}, nil
}

func (r reader) GetBeneficialOwner(ctx context.Context, platformID, id string) (*grid.BeneficialOwner, error) {
	o, err := scanOwner(r.q.QueryRowContext(ctx, `SELECT `+ownerCols+` FROM beneficial_owners WHERE id = $1 AND platform_id = $2`, id, platformID))
	if err != nil {
		return nil, fmt.Errorf("get beneficial owner %s: %w", id, notFound(err))
	}
	return o, nil
}

func (r reader) ListBeneficialOwners(ctx context.Context, platformID string, f grid.OwnerFilter) (grid.OwnerPage, error) {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if f.CustomerID != "" {
		w.add("customer_id = $?", f.CustomerID)
	}
	page := grid.OwnerPage{TotalCount: -1}
	if !f.SkipCount {
		if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM beneficial_owners WHERE `+w.sql(), w.args...).Scan(&page.TotalCount); err != nil {
			return page, fmt.Errorf("count beneficial owners: %w", err)
		}
	}
	if f.AfterID != "" {
		w.add("id > $?", f.AfterID)
	}
	var err error
	page.Owners, page.HasMore, err = keysetPage(ctx, r.q, "list beneficial owners", `SELECT `+ownerCols+` FROM beneficial_owners`, w, f.Limit, scanOwner)
	return page, err
}

func (t *tx) InsertBeneficialOwner(ctx context.Context, o *grid.BeneficialOwner) error {
	args, err := ownerArgs(o)
	if err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO beneficial_owners (`+ownerCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, args...); err != nil {
		return fmt.Errorf("insert beneficial owner %s: %w", o.ID, err)
	}
	return nil
}

func (t *tx) UpdateBeneficialOwner(ctx context.Context, o *grid.BeneficialOwner) error {
	args, err := ownerArgs(o)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE beneficial_owners SET customer_id = $3, status = $4, roles = $5, ownership_percentage = $6, personal_info = $7, sealed = $8, created_at = $9, updated_at = $10 WHERE id = $1 AND platform_id = $2`, args...)
	if err != nil {
		return fmt.Errorf("update beneficial owner %s: %w", o.ID, err)
	}
	return mustAffect(res, "beneficial owner "+o.ID)
}

// ---- documents ----

const documentCols = `id, platform_id, holder_id, customer_id, document_type, side, country, document_number, issuing_authority, file_name, content_type, size, created_at, updated_at`

func scanDocument(sc interface{ Scan(...any) error }) (*grid.Document, error) {
	var d grid.Document
	var created, updated int64
	if err := sc.Scan(&d.ID, &d.PlatformID, &d.HolderID, &d.CustomerID, &d.Type, &d.Side, &d.Country, &d.Number, &d.IssuingAuthority,
		&d.FileName, &d.ContentType, &d.Size, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

func documentArgs(d *grid.Document) []any {
	return []any{d.ID, d.PlatformID, d.HolderID, d.CustomerID, d.Type, d.Side, d.Country, d.Number, d.IssuingAuthority,
		d.FileName, d.ContentType, d.Size, micros(d.CreatedAt), micros(d.UpdatedAt)}
}

func (r reader) GetDocument(ctx context.Context, platformID, id string) (*grid.Document, error) {
	d, err := scanDocument(r.q.QueryRowContext(ctx, `SELECT `+documentCols+` FROM documents WHERE id = $1 AND platform_id = $2`, id, platformID))
	if err != nil {
		return nil, fmt.Errorf("get document %s: %w", id, notFound(err))
	}
	return d, nil
}

func (r reader) GetDocumentContent(ctx context.Context, platformID, id string) ([]byte, error) {
	var content []byte
	err := r.q.QueryRowContext(ctx, `SELECT content FROM documents WHERE id = $1 AND platform_id = $2`, id, platformID).Scan(&content)
	if err != nil {
		return nil, fmt.Errorf("get document content %s: %w", id, notFound(err))
	}
	return content, nil
}

func (r reader) ListDocuments(ctx context.Context, platformID string, f grid.DocumentFilter) (grid.DocumentPage, error) {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if f.HolderID != "" {
		w.add("holder_id = $?", f.HolderID)
	}
	if f.CustomerID != "" {
		w.add("customer_id = $?", f.CustomerID)
	}
	var page grid.DocumentPage
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE `+w.sql(), w.args...).Scan(&page.TotalCount); err != nil {
		return page, fmt.Errorf("count documents: %w", err)
	}
	if f.AfterID != "" {
		w.add("id > $?", f.AfterID)
	}
	var err error
	page.Documents, page.HasMore, err = keysetPage(ctx, r.q, "list documents", `SELECT `+documentCols+` FROM documents`, w, f.Limit, scanDocument)
	return page, err
}

func (t *tx) InsertDocument(ctx context.Context, d *grid.Document, content []byte) error {
	if content == nil {
		content = []byte{}
	}
	args := append(documentArgs(d), content)
	_, err := t.q.ExecContext(ctx, `INSERT INTO documents (`+documentCols+`, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, args...)
	if err != nil {
		return fmt.Errorf("insert document %s: %w", d.ID, err)
	}
	return nil
}

func (t *tx) UpdateDocument(ctx context.Context, d *grid.Document, content []byte) error {
	const set = `holder_id = $3, customer_id = $4, document_type = $5, side = $6, country = $7, document_number = $8, issuing_authority = $9, file_name = $10, content_type = $11, size = $12, created_at = $13, updated_at = $14`
	args := documentArgs(d)
	q := `UPDATE documents SET ` + set + ` WHERE id = $1 AND platform_id = $2`
	if content != nil {
		args = append(args, content)
		q = `UPDATE documents SET ` + set + `, content = $15 WHERE id = $1 AND platform_id = $2`
	}
	res, err := t.q.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update document %s: %w", d.ID, err)
	}
	return mustAffect(res, "document "+d.ID)
}

func (t *tx) DeleteDocument(ctx context.Context, platformID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM documents WHERE id = $1 AND platform_id = $2`, id, platformID)
	if err != nil {
		return fmt.Errorf("delete document %s: %w", id, err)
	}
	return mustAffect(res, "document "+id)
}

// ---- verifications ----

const verificationCols = `id, platform_id, customer_id, status, errors, created_at, updated_at`

func scanVerification(sc interface{ Scan(...any) error }) (*grid.Verification, error) {
	var v grid.Verification
	var errs string
	var created, updated int64
	if err := sc.Scan(&v.ID, &v.PlatformID, &v.CustomerID, &v.Status, &errs, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(errs), &v.Errors); err != nil {
		return nil, fmt.Errorf("verification %s errors: %w", v.ID, err)
	}
	if v.Errors == nil {
		v.Errors = []grid.VerificationError{}
	}
	v.CreatedAt, v.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &v, nil
}

func verificationArgs(v *grid.Verification) ([]any, error) {
	errs := v.Errors
	if errs == nil {
		errs = []grid.VerificationError{}
	}
	ej, err := json.Marshal(errs)
	if err != nil {
		return nil, err
	}
	return []any{v.ID, v.PlatformID, v.CustomerID, v.Status, string(ej), micros(v.CreatedAt), micros(v.UpdatedAt)}, nil
}

func (r reader) GetVerification(ctx context.Context, platformID, id string) (*grid.Verification, error) {
	v, err := scanVerification(r.q.QueryRowContext(ctx, `SELECT `+verificationCols+` FROM verifications WHERE id = $1 AND platform_id = $2`, id, platformID))
	if err != nil {
		return nil, fmt.Errorf("get verification %s: %w", id, notFound(err))
	}
	return v, nil
}

func (r reader) ListVerifications(ctx context.Context, platformID string, f grid.VerificationFilter) (grid.VerificationPage, error) {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if f.CustomerID != "" {
		w.add("customer_id = $?", f.CustomerID)
	}
	if f.Status != "" {
		w.add("status = $?", f.Status)
	}
	var page grid.VerificationPage
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM verifications WHERE `+w.sql(), w.args...).Scan(&page.TotalCount); err != nil {
		return page, fmt.Errorf("count verifications: %w", err)
	}
	if f.AfterID != "" {
		w.add("id > $?", f.AfterID)
	}
	var err error
	page.Verifications, page.HasMore, err = keysetPage(ctx, r.q, "list verifications", `SELECT `+verificationCols+` FROM verifications`, w, f.Limit, scanVerification)
	return page, err
}

func (t *tx) InsertVerification(ctx context.Context, v *grid.Verification) error {
	args, err := verificationArgs(v)
	if err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO verifications (`+verificationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`, args...); err != nil {
		return fmt.Errorf("insert verification %s: %w", v.ID, err)
	}
	return nil
}

func (t *tx) UpdateVerification(ctx context.Context, v *grid.Verification) error {
	args, err := verificationArgs(v)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE verifications SET customer_id = $3, status = $4, errors = $5, created_at = $6, updated_at = $7 WHERE id = $1 AND platform_id = $2`, args...)
	if err != nil {
		return fmt.Errorf("update verification %s: %w", v.ID, err)
	}
	return mustAffect(res, "verification "+v.ID)
}
