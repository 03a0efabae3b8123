// Package api embeds the project's own OpenAPI document.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the API this server speaks.
//
//go:embed openapi.yaml
var OpenAPI []byte
