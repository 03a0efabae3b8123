package apitest

import (
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// applyGridDivergences adjusts the public Grid document, before it validates any response, at
// the few places where gridd answers differently from it on purpose. Each entry says why; the
// project's own document describes what gridd does.
func applyGridDivergences(doc *openapi3.T) {
	if doc == nil || doc.Components == nil {
		return
	}
	// A beneficial owner's identification number. Grid's BeneficialOwnerPersonalInfo lists
	// `identifier` as a required part of every response, while Grid marks the same value on a
	// customer write-only ("never returned in customer responses"). gridd treats both alike:
	// the identifier is stored encrypted and never returned. Marking it write-only here also
	// makes the validator fail any response that does carry it.
	if s := doc.Components.Schemas["BeneficialOwnerPersonalInfo"]; s != nil && s.Value != nil {
		s.Value.Required = slices.DeleteFunc(slices.Clone(s.Value.Required), func(r string) bool { return r == "identifier" })
		if p := s.Value.Properties["identifier"]; p != nil && p.Value != nil {
			p.Value.WriteOnly = true
		}
	}
}
