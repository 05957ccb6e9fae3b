// Row ids of the two tables that grow with traffic: tokens and audit events.
//
// UUID version 7 (RFC 9562 §5.7): a millisecond timestamp first, then a counter and random bits, so
// ids made later sort later. Every index on a random id (UUID v4) takes each new row at a random leaf
// page; with a few dozen rows a commit, each row dirtied pages of its own, and on SQLite every dirty
// page is a frame written to the WAL. Time-ordered ids append at the right edge of their index, where
// the rows of one commit share pages. Measured with the bench's client_credentials load on SQLite
// (tokens.id, jti and familyId and audit_events.id were random; only tokenHash still is): the issuance
// writer's transaction for ~16 tokens went from 2.8 ms to 1.6 ms, and the server's system time from
// ~90 to ~60 µs a token.
//
// These ids name rows; none of them is a credential. What a v7 id reveals, its creation time to the
// millisecond, every such row already holds in createdAt (and a token in its iat).
import { v7 } from 'uuid';

/** A new time-ordered UUID (version 7; monotonic within this process). */
export function timeOrderedId(): string {
  return v7();
}
