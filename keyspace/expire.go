package keyspace

import "time"

// Active expiry follows the shape of Redis's activeExpireCycle: look at a
// batch of keys with a TTL, delete the expired ones, and keep going while
// more than acceptableStale percent of a batch was expired and time is left.
// Where Redis samples random hash buckets, Celerity walks its dense array of
// volatile keys with a per-DB cursor: same cost per key, no repeated samples,
// and a bounded time until every expired key has been seen.
const (
	expireKeysPerLoop = 20
	acceptableStale   = 10 // percent
)

// ActiveExpireCycle deletes expired keys until budget is spent or the
// databases look clean. It returns the number of keys deleted. The engine
// runs it as a unit from its cron.
func (ks *Keyspace) ActiveExpireCycle(budget time.Duration) int {
	start := time.Now()
	deleted := 0
	var sampled, stale int
	for _, db := range ks.dbs {
		if len(db.volatile) == 0 {
			continue
		}
		for {
			now := ks.now()
			n, expired := 0, 0
			for n < expireKeysPerLoop && len(db.volatile) > 0 {
				if db.expireCursor >= len(db.volatile) {
					db.expireCursor = 0
				}
				e := db.volatile[db.expireCursor]
				n++
				if now > e.expireAt {
					// Deleting swaps the last volatile key into this slot, so
					// the cursor stays where it is.
					db.expireIfNeeded(e, true)
					expired++
				} else {
					db.expireCursor++
				}
			}
			sampled += n
			stale += expired
			deleted += expired
			if time.Since(start) > budget {
				ks.expireCapReached++
				goto done
			}
			if n == 0 || expired*100/n <= acceptableStale {
				break
			}
		}
	}
done:
	if sampled > 0 {
		cur := float64(stale) * 100 / float64(sampled)
		ks.expireStale = cur*0.05 + ks.expireStale*0.95
	}
	return deleted
}
