package kombu

import "github.com/celerity/celerity/resp"

// Error texts: the engine's, as Redis spells them for the same mistakes.
const (
	errNotInteger = resp.ErrNotInteger
	errPositive   = resp.ErrPositive
)
