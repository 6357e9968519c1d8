// Package lease holds ownership of keys in a NATS JetStream key-value
// bucket: at most one holder at a time per key, handed over when the holder
// releases the key or stops renewing it. The sinks (one key per sink), the
// transcript source (one key per call followed) and backfill (one key per
// journal) all hold what they own through it.
//
// A bucket's entries expire TTL after their last write (the bucket's
// MaxAge, applied by the NATS servers). The value of a key names its
// holder, a replica, by the one name that replica uses for every lease it
// takes (Name):
//
//	free ──Acquire: Create──▶ held ──Renew: Update(revision) every TTL/5──┐
//	  ▲                        │  ▲                                        │
//	  │                        │  └───────────────renewed──────────────────┘
//	  ├──Release: Delete(revision)
//	  └──lapsed: not renewed for TTL (the holder crashed or lost NATS)
//
// A replica that finds its own name on a key (it restarted under the same
// name, as a container restarted in its pod does) takes the key back at
// once instead of waiting for it to lapse. Names must therefore be unique
// among running replicas.
//
// Nobody judges another holder alive by comparing clocks: a key is free
// when the servers removed it, and only then can another replica create it.
// The holder times its own hold on its own monotonic clock, from the moment
// it sent the write that succeeded: the servers keep the entry at least TTL
// from then, so the holder may act until TTL less a guard of TTL/5 (Left).
// The guard covers requests still on the wire as the lease ends and clock
// skew between NATS servers. What no lease can fence is a holder frozen
// (a paused VM) for longer than the guard between its check of Left and
// the action it then takes.
package lease
