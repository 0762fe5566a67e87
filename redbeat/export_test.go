package redbeat

// SetSyncWalkMax sets the size of database the commands walk themselves
// until its first discovery pass has ended (keyindex.SyncWalkMax).
func SetSyncWalkMax(r *RedBeat, n int) { r.idx.SyncMax = n }

// ForgetDiscovery marks db's first discovery pass as not done, as at
// start. Engine lock.
func ForgetDiscovery(r *RedBeat, db int) {
	d := r.idx.DB(db)
	d.Restart()
}
