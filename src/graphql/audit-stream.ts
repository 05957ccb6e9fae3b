// The live audit stream behind the `auditEvents` subscription. Each batch the audit log writes is
// published once (Yoga's createPubSub); with REDIS_URL set it travels through Redis (Yoga's Redis
// event target), so a subscriber on any instance sees events written by every instance. Redis needs
// a connection of its own for subscribing (a subscribed connection can run nothing else), hence two.
//
// Each instance holds one subscription to the topic and fans batches out to its local subscribers,
// each with its own bounded buffer: a subscriber that reads slower than events arrive loses the
// oldest pending events (this is a live view; the log itself keeps everything) instead of making the
// server buffer without limit or throwing inside the event dispatch.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, Repeater, SlidingBuffer } from 'graphql-yoga';
import type { AuditEvent } from '../db/client.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';
import { closeRedis, connectRedis } from '../ops/redis.js';
import type { AuditLog, WrittenAuditRow } from '../services/audit.js';

/** A written row as it travels (JSON: dates as ISO strings). */
type WireRow = Omit<AuditEvent, 'createdAt'> & { createdAt: string };

export interface AuditStream {
  /** Every event written from now on, on any instance, until the consumer stops. */
  subscribe(): AsyncIterable<AuditEvent>;
  /**
   * Ends every local subscription (an open stream would hold the server open at shutdown), and keeps
   * publishing: the audit log's last batch, written after the requests end, still reaches the
   * subscribers of other instances.
   */
  endSubscriptions(): Promise<void>;
  /** Ends the subscriptions if still open, then closes the Redis connections: after the audit log's last write. */
  close(): Promise<void>;
}

const PENDING_EVENTS_PER_SUBSCRIBER = 1000;

export async function createAuditStream(audit: AuditLog, opts: { redisUrl?: string; keyPrefix: string; logger: Logger }): Promise<AuditStream> {
  const topic = `${opts.keyPrefix}audit-events`;
  const publishClient = opts.redisUrl ? await connectRedis(opts.redisUrl, opts.logger) : undefined;
  if (publishClient) {
    // The Redis event target fires PUBLISH without awaiting it: while Redis is down that promise would
    // reject unhandled and end the process. A lost live event is only logged (the log has the row).
    const publish = publishClient.publish.bind(publishClient);
    publishClient.publish = ((channel: string, message: string) =>
      publish(channel, message).catch((err: unknown) => {
        opts.logger.warn('audit stream: publish to Redis failed', errorFields(err));
        return 0;
      })) as typeof publishClient.publish;
  }
  const subscribeClient = opts.redisUrl ? await connectRedis(opts.redisUrl, opts.logger) : undefined;
  const pubSub = createPubSub<Record<string, [WireRow[]]>>(
    publishClient && subscribeClient ? { eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) } : {},
  );
  const subscribers = new Map<(events: AuditEvent[]) => void, () => void>();
  // Without Redis the only readers are this instance's subscribers: with none, there is nobody to tell.
  audit.onWritten((rows) => {
    if (publishClient || subscribers.size > 0) pubSub.publish(topic, rows.map(toWire));
  });

  const feed = pubSub.subscribe(topic);
  const fanOut = (async () => {
    for await (const batch of feed) {
      const events = batch.map(fromWire);
      for (const deliver of subscribers.keys()) deliver(events);
    }
  })();

  let ended: Promise<void> | undefined;
  const endSubscriptions = () =>
    (ended ??= (async () => {
      for (const end of subscribers.values()) end();
      await feed.return();
      await fanOut;
    })());

  return {
    subscribe() {
      return new Repeater<AuditEvent>((push, stop) => {
        const deliver = (events: AuditEvent[]) => {
          for (const event of events) void push(event);
        };
        subscribers.set(deliver, () => stop());
        void stop.then(() => subscribers.delete(deliver));
      }, new SlidingBuffer(PENDING_EVENTS_PER_SUBSCRIBER));
    },
    endSubscriptions,
    async close() {
      await endSubscriptions();
      await Promise.all([publishClient && closeRedis(publishClient), subscribeClient && closeRedis(subscribeClient)]);
    },
  };
}

function toWire(row: WrittenAuditRow): WireRow {
  return {
    id: row.id,
    eventType: row.eventType,
    severity: row.severity,
    success: row.success ?? true,
    actorUserId: row.actorUserId ?? null,
    actorUsername: row.actorUsername ?? null,
    subjectType: row.subjectType ?? null,
    subjectId: row.subjectId ?? null,
    clientId: row.clientId ?? null,
    ipAddress: row.ipAddress ?? null,
    userAgent: row.userAgent ?? null,
    details: row.details ?? '{}',
    createdAt: row.createdAt.toISOString(),
  };
}

function fromWire(row: WireRow): AuditEvent {
  return { ...row, createdAt: new Date(row.createdAt) };
}
