package kombu

// Error texts, spelled as Redis spells them for the same mistakes (resp
// keeps its own copies unexported).
const (
	errNotInteger = "ERR value is not an integer or out of range"
	errDBIndex    = "ERR DB index is out of range"
	errPositive   = "ERR value is out of range, must be positive"
)
