-- Newest-first audit pages and exports filtered by event type or actor: the composite index gives the
-- rows in time order, so a page reads what it returns instead of sorting every matching event.
-- DropIndex
DROP INDEX "audit_events_eventType_idx";

-- DropIndex
DROP INDEX "audit_events_actorUserId_idx";

-- CreateIndex
CREATE INDEX "audit_events_eventType_createdAt_idx" ON "audit_events"("eventType", "createdAt");

-- CreateIndex
CREATE INDEX "audit_events_actorUserId_createdAt_idx" ON "audit_events"("actorUserId", "createdAt");
