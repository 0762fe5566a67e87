package integration

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/celerity/celerity/resp/resptest"
)

// globAlphabet is small and full of glob metacharacters, so random keys
// and patterns exercise classes, ranges, negation, escapes and stars.
const globAlphabet = "ab[]^-\\*?\xff"

// TestDiffGlobRandom matches random patterns against random keys with
// KEYS (and a few with SCAN MATCH) on both servers.
func TestDiffGlobRandom(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	r := rand.New(rand.NewPCG(7, 11))
	word := func(maxLen int) string {
		var b strings.Builder
		for n := r.IntN(maxLen + 1); n > 0; n-- {
			b.WriteByte(globAlphabet[r.IntN(len(globAlphabet))])
		}
		return b.String()
	}
	mset := []string{"MSET"}
	for i := 0; i < 60; i++ {
		mset = append(mset, word(6), "v")
	}
	var steps []step
	for i := 0; i < 400; i++ {
		pat := word(8)
		steps = append(steps, unordered("KEYS", pat))
		if i%10 == 0 {
			steps = append(steps, scanAll("SCAN", "0", "MATCH", pat, "COUNT", "7"))
		}
	}
	for _, proto := range protocols {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			p := openPair(t, srv.Addr(), proto)
			if why := p.run(do(mset...)); why != "" {
				t.Fatal(why)
			}
			for _, st := range steps {
				if why := p.run(st); why != "" {
					t.Error(why)
				}
				suiteStats.steps[proto].Add(1)
			}
		})
	}
}
