// Package naming fits resource names into AWS length limits without losing
// uniqueness: a name that is too long keeps its start and ends in a short
// hash of the whole name, so it stays stable across synths.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
)

// Fit returns name if it is at most max bytes, else a prefix of it joined
// to the first 6 hex digits of its SHA-256.
func Fit(name string, max int) string {
	if len(name) <= max {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:max-7] + "-" + hex.EncodeToString(sum[:])[:6]
}
