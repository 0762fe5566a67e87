package integration

import "testing"

// TestZZSummary runs last (files and tests run in name order) and logs
// what the package compared, for release notes: run with -v to see it.
// TestMain prints the same line after all tests.
func TestZZSummary(t *testing.T) {
	if s := summaryLine(); s != "" {
		t.Logf("summary: %s", s)
	}
}
