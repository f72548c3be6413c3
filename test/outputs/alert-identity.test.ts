/**
 * Alert identity: every alert handed to the sinks gets a UUID v4, the agent's UUID and the next
 * sequence number (after the rate limit and dedup, so a gap is a loss and not a suppression),
 * carried in Falco JSON (extra top-level keys, the Falco keys unchanged), in the text line and
 * over gRPC (fields 100-102); a new Outputs (an agent restart) has a new agent id and starts at 1.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Alert, AlertSink, SinkStats } from '../../src/outputs/alert';
import { FALCO_DEFAULT_FORMAT, formatJson, formatLine } from '../../src/outputs/format';
import { GrpcSink, loadFalcoProtos } from '../../src/outputs/grpc-sink';
import { Outputs, type SuppressionPolicy } from '../../src/outputs/index';
import { makeAlert, silentLogger, waitFor } from './helpers';
import { expectSidekickAccepts } from './sidekick-validator';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

class MemorySink implements AlertSink {
  readonly alerts: Alert[] = [];
  readonly name = 'memory';
  readonly healthy = true;
  offer(a: Alert): boolean {
    this.alerts.push(a);
    return true;
  }
  stats(): SinkStats {
    return { sent: 0, failed: 0, dropped: 0, queueDepth: 0, queueCapacity: 1 };
  }
  async close(): Promise<void> {}
}

const policy = (rateLimited: boolean): SuppressionPolicy => ({
  rateLimit: { enabled: rateLimited, rate: 0.001, burst: 1, maxRules: 10 },
  dedup: { enabled: false, windowMs: 1, maxEntries: 1 },
  summaryIntervalMs: 60_000,
  summaryPriority: 7,
});

describe('alert identity', () => {
  it('stamps uuid, agent id and a gapless sequence over what reaches the sinks; a restart is a new agent id from 1', async () => {
    const sink = new MemorySink();
    const outputs = new Outputs([sink], policy(true), { logger: silentLogger, hostname: 'h' });
    outputs.publish(makeAlert({ rule: 'A' }));
    outputs.publish(makeAlert({ rule: 'A' })); // rate limited: no number spent
    outputs.publish(makeAlert({ rule: 'B' }));
    outputs.publishInternal(makeAlert({ rule: 'Internal', source: 'internal' }));
    expect(sink.alerts.map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(new Set(sink.alerts.map((a) => a.uuid)).size).toBe(3);
    for (const a of sink.alerts) {
      expect(a.uuid).toMatch(UUID_V4);
      expect(a.agentId).toBe(outputs.agentId);
    }
    expect(outputs.agentId).toMatch(UUID_V4);
    expect(outputs.lastSeq).toBe(3);
    await outputs.close(10);

    const restarted = new MemorySink();
    const again = new Outputs([restarted], policy(false), { logger: silentLogger, hostname: 'h' });
    again.publish(makeAlert());
    expect(restarted.alerts[0]!.seq).toBe(1);
    expect(restarted.alerts[0]!.agentId).not.toBe(outputs.agentId);
    await again.close(10);
  });

  const stamped = { ...makeAlert({ id: 7 }), uuid: '0b9c4b7e-1c3f-4d5e-8f90-123456789abc', agentId: 'a1a1a1a1-0000-4000-8000-000000000001', seq: 12 };

  it('JSON: agent_id, seq and uuid as extra top-level keys in key order; sidekick still accepts it', () => {
    const line = formatJson(stamped, FALCO_DEFAULT_FORMAT);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['agent_id', 'hostname', 'output', 'output_fields', 'priority', 'rule', 'seq', 'source', 'tags', 'time', 'uuid']);
    expect(parsed).toMatchObject({ agent_id: stamped.agentId, seq: 12, uuid: stamped.uuid });
    expectSidekickAccepts(line);
    expect(Object.keys(JSON.parse(formatJson(makeAlert(), FALCO_DEFAULT_FORMAT)) as object)).not.toContain('seq');
  });

  it('text: the identity ends the line', () => {
    const line = formatLine(stamped, { ...FALCO_DEFAULT_FORMAT, jsonOutput: false });
    expect(line.endsWith(` (seq=12 uuid=${stamped.uuid} agent_id=${stamped.agentId})`)).toBe(true);
  });

  it('gRPC: uuid, seq and agent_id in the response', async () => {
    const sink = new GrpcSink(
      { bindAddress: '127.0.0.1:0', subscriberQueueCapacity: 10, backlogCapacity: 10, maxSubscribers: 2, timeIso8601: false, tls: { cert_file: '', key_file: '', ca_file: '', require_client_cert: false } },
      { logger: silentLogger, version: '1.2.3' },
    );
    const port = await sink.start();
    type Ctor = new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, () => grpc.ClientDuplexStream<object, Record<string, unknown>>>;
    const protos = loadFalcoProtos() as unknown as { falco: { outputs: { service: Ctor } } };
    const client = new protos.falco.outputs.service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = client.sub!();
    const got: Record<string, unknown>[] = [];
    call.on('data', (r: Record<string, unknown>) => got.push(r));
    call.on('error', () => undefined);
    call.write({});
    try {
      await waitFor(() => sink.subscriberCount === 1, 5_000, 'subscription');
      sink.offer(stamped);
      await waitFor(() => got.length === 1, 5_000, 'response');
      expect(got[0]).toMatchObject({ uuid: stamped.uuid, seq: '12', agent_id: stamped.agentId, rule: stamped.rule });
    } finally {
      call.cancel();
      client.close();
      await sink.close(500);
    }
  });
});
