/**
 * The invariants checked once a run has quiesced (faults stopped, network healed, every node
 * up): every acknowledged commit on every replica, no refused one on any, replicas identical
 * and equal to a replay of their committed log, sequences 1..N with one transaction each, no
 * value nobody wrote, nothing half-applied or left PREPARED. Online checks (one transaction a
 * sequence, one master an epoch) are made by the World as the run goes.
 */
import type { ClientRecord } from './client.ts';
import type { SimNode } from './machine.ts';

type Violate = (rule: string, detail: string) => void;

/** Check the quiesced cluster; `violate` hears every invariant it breaks (World.violate). */
export function checkQuiesced(nodes: readonly SimNode[], clients: ClientRecord, violate: Violate): void {
  for (const node of nodes) checkReplica(node, clients, violate);
  checkAcknowledged(nodes, clients, violate);
  checkReplicasAgree(nodes, violate);
}

function checkReplica(node: SimNode, clients: ClientRecord, violate: Violate): void {
  const { durable: store, addr } = node;
  if (!node.up) violate('all-up', `${addr} is still down after quiescing`);
  for (const record of store.listPrepared()) violate('nothing-prepared', `${addr} still holds ${record.id} PREPARED`);
  const committed = store.listCommitted();
  const by_sequence = new Map<number, string>();
  for (const record of committed) {
    if (record.sequence === undefined) {
      violate('committed-has-sequence', `${addr}: ${record.id} is COMMITTED without a sequence`);
      continue;
    }
    const other = by_sequence.get(record.sequence);
    if (other !== undefined) violate('sequence-unique', `${addr}: sequence ${record.sequence} holds both ${other} and ${record.id}`);
    by_sequence.set(record.sequence, record.id);
    if (!clients.submitted.has(record.id)) violate('written-by-a-client', `${addr}: committed ${record.id} that no client submitted`);
  }
  for (let sequence = 1; sequence <= by_sequence.size; sequence += 1) {
    if (!by_sequence.has(sequence)) {
      violate('sequences-contiguous', `${addr}: sequences are not 1..${by_sequence.size}: ${sequence} is missing (highest ${Math.max(...by_sequence.keys())})`);
      break;
    }
  }
  checkKvIsReplay(node, clients, violate);
}

/** Each key holds the write of the highest-sequence committed transaction that wrote it, and nothing else. */
function checkKvIsReplay(node: SimNode, clients: ClientRecord, violate: Violate): void {
  const expected = new Map<string, { value: unknown; sequence: number }>();
  for (const record of node.durable.listCommitted()) {
    if (record.sequence === undefined || record.payload === undefined) continue;
    for (const [key, value] of Object.entries(record.payload)) {
      const held = expected.get(key);
      if (held === undefined || held.sequence < record.sequence) expected.set(key, { value, sequence: record.sequence });
    }
  }
  for (const [key, entry] of node.durable.kv) {
    const writer = typeof entry.value === 'string' ? clients.submitted.get(entry.value) : undefined;
    if (writer?.[key] !== entry.value) violate('value-written-by-a-client', `${node.addr}: ${key}=${JSON.stringify(entry.value)} was never written by a client`);
    const want = expected.get(key);
    if (want?.value !== entry.value || want.sequence !== entry.sequence) {
      violate('kv-is-log-replay', `${node.addr}: ${key}=${JSON.stringify(entry.value)}@${entry.sequence}, its committed log says ${JSON.stringify(want?.value)}@${want?.sequence}`);
    }
  }
  for (const key of expected.keys()) if (!node.durable.kv.has(key)) violate('kv-is-log-replay', `${node.addr}: ${key} missing from kv`);
}

function checkAcknowledged(nodes: readonly SimNode[], clients: ClientRecord, violate: Violate): void {
  for (const id of clients.refused) {
    const holders = nodes.filter((node) => node.durable.records.get(id)?.state === 'COMMITTED').map((node) => node.addr);
    if (holders.length > 0) violate('aborted-is-not-applied', `${id} was answered ABORTED but is COMMITTED on ${holders.join(', ')}`);
  }
  for (const [id, sequence] of clients.acknowledged) {
    if (clients.refused.has(id)) violate('one-answer', `${id} was answered both COMMITTED and ABORTED`);
    for (const node of nodes) {
      const record = node.durable.records.get(id);
      if (record?.state !== 'COMMITTED') violate('acknowledged-is-durable', `${node.addr}: acknowledged ${id} (seq ${sequence}) is ${record?.state ?? 'unknown'} here`);
      else if (record.sequence !== sequence) violate('acknowledged-sequence', `${node.addr}: acknowledged ${id} at ${sequence}, applied at ${record.sequence}`);
    }
  }
}

function checkReplicasAgree(nodes: readonly SimNode[], violate: Violate): void {
  const [first, ...rest] = nodes;
  if (!first) return;
  const summary = (node: SimNode): { committed: string; kv: string } => ({
    committed: node.durable.listCommitted().map((r) => `${r.sequence}:${r.id}`).sort().join(' '),
    kv: [...node.durable.kv].map(([key, entry]) => `${key}=${JSON.stringify(entry.value)}@${entry.sequence}`).sort().join(' '),
  });
  const base = summary(first);
  for (const node of rest) {
    const other = summary(node);
    if (other.committed !== base.committed) violate('replicas-identical', `${node.addr} committed [${other.committed}] but ${first.addr} [${base.committed}]`);
    if (other.kv !== base.kv) violate('replicas-identical', `${node.addr} kv [${other.kv}] but ${first.addr} [${base.kv}]`);
  }
  const states = new Map<string, Map<string, string>>();
  for (const node of nodes) {
    for (const record of node.durable.records.values()) {
      const seen = states.get(record.id) ?? new Map<string, string>();
      seen.set(node.addr, record.state);
      states.set(record.id, seen);
    }
  }
  for (const [id, seen] of states) {
    const values = new Set(seen.values());
    if (values.has('COMMITTED') && values.has('ABORTED')) violate('all-or-nothing', `${id} is ${[...seen].map(([addr, s]) => `${s} on ${addr}`).join(', ')}`);
  }
}
