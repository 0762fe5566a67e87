package resp

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// commandMetaJSON holds the key specs, tips and docs of Redis 7.0.15's
// commands, generated from the oracle by resp/internal/cmdgen (see NOTICE).
//
//go:embed commandmeta.json
var commandMetaJSON []byte

// commandMeta is the reference data COMMAND INFO and COMMAND DOCS return
// besides what the table declares.
type commandMeta struct {
	Tips     Value `json:"tips"`
	KeySpecs Value `json:"keyspecs"`
	Docs     Value `json:"docs"`
}

// loadCommandMeta decodes the embedded data once per process; the result is
// read-only.
var loadCommandMeta = sync.OnceValues(func() (map[string]*commandMeta, error) {
	m := map[string]*commandMeta{}
	if err := json.Unmarshal(commandMetaJSON, &m); err != nil {
		return nil, err
	}
	return m, nil
})
