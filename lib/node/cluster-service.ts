/**
 * Membership, heartbeats and elections for one node. Every `heartbeat_interval_ms` the node
 * probes each peer's `/health`, updates its beliefs (lib/cluster/membership.ts), adopts newer
 * epochs, re-runs the election (lib/cluster/election.ts) and, if it is the new master, takes
 * over: claims a new epoch, catches up, resolves what is in doubt, then accepts writes.
 */
import { answerClaim, claimEpoch, electMaster, hasMajority, type ClaimAnswer, type EpochGrant } from '../cluster/election.ts';
import { initialStatus, recordAnswer, recordMiss, type PeerReport, type PeerStatus } from '../cluster/membership.ts';
import { adoptEpoch, listAlive, reachesMajority, type NodeContext } from './context.ts';
import type { RecoveryService } from './recovery-service.ts';
import { decideAdopted, findUnsettledDecision, knownMaxApplied, startOfTerm } from '../cluster/take-over.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import type { DigestMark } from '../storage/replica-digest.ts';

/** Heartbeat ticks a node tolerates being behind a peer before it pulls the missing log. */
export const behind_ticks_before_pull = 3;
/** Heartbeats a new master waits for the old one to step down before it goes on anyway. */
export const takeover_wait_ticks = 10;
/** Heartbeats a starting node waits for a majority before start-up returns, still catching up. */
export const startup_wait_ticks = 25;

/** A claim's answer on the wire: the grant, the granter's highest applied sequence, and its highest unsettled COMMIT decision. */
export type ClaimReply = ClaimAnswer & { readonly max_applied?: number; readonly max_decided?: number };

export interface HealthReport extends PeerReport {
  readonly addr: string;
  readonly members: readonly string[];
}

export class ClusterService {
  private behind_ticks = 0;
  private taking_over = false;
  /** While a replica repair wipes the store, catch-up waits: it must start from nothing. */
  private repairing = false;
  private last_pulse_ms: number | undefined;
  /** The highest sequence the nodes that granted this node's last claim had applied. */
  private granted_applied = 0;
  /** What each granter of the epoch last won reported as its highest unsettled COMMIT decision. */
  private granted_decided: ReadonlyMap<string, number> = new Map();
  /** When (monotonic) the epoch last claimed was won: only probes sent since tell its take-over what peers hold now. */
  private won_ms = 0;
  /** Claims are answered one at a time: a grant is persisted before the next is weighed. */
  private readonly claims = new KeyedMutex();

  constructor(
    private readonly context: NodeContext,
    private readonly recovery: RecoveryService,
    /** Called when this node stops acting as master. */
    private readonly onStepDown: () => void,
    /** Called on take-over with this node's earlier COMMIT decisions it finishes in its new term. */
    private readonly onRedrive: (decisions: readonly DecisionRecord[], epoch: number) => void,
    /** The highest sequence of a COMMIT this node decided that is not settled yet (0: none). */
    private readonly maxDecided: () => number,
    /** This replica's running digest (lib/node/replica-integrity.ts), for heartbeats. */
    private readonly digestMark: () => DigestMark | undefined = () => undefined,
  ) {}

  /** What this node says about itself to a heartbeat probe. */
  report(): HealthReport {
    const { state, addr, sequences } = this.context;
    const mark = this.digestMark();
    return {
      ...(mark !== undefined && { digest: mark.digest, digest_sequence: mark.sequence }),
      ...(state.store_fault !== undefined && { store_fault: state.store_fault.reason }),
      ...(state.forgot_through_epoch !== undefined && { forgot_through_epoch: state.forgot_through_epoch }),
      addr,
      role: state.role,
      epoch: state.epoch,
      phase: state.phase,
      last_sequence: sequences.applied_through,
      max_applied: sequences.max_applied,
      max_decided: this.maxDecided(),
      max_sequence: state.max_sequence,
      master: state.master,
      members: state.members,
    };
  }

  /**
   * One heartbeat: probe every peer, adopt newer epochs, stop serving if this node was
   * paused or lost the majority, catch up if it is not serving, re-elect, fill gaps.
   */
  async tick(): Promise<void> {
    const { context } = this;
    await this.probeAll();
    // Who leads, from the probes alone, before anything is persisted: a node whose disk fails
    // (a write that fits may land, the newer epoch then not) still names the master that
    // took over in its /role and 421s, never itself, so clients go where writes commit.
    this.nameMaster();
    if (context.state.phase === 'store-failed') {
      await this.retryStore();
      if (context.state.phase === 'store-failed') return;
    }
    await this.adoptPeerEpochs();
    if (context.state.phase === 'serving' && !reachesMajority(context)) this.detach('lost contact with the majority');
    if (context.state.phase === 'catching-up') await this.tryCatchUp();
    await this.elect();
    await this.pullIfBehind();
  }

  /**
   * Called every half heartbeat and before every request. A gap since the last call longer
   * than peers wait before counting this node dead means it was paused (SIGSTOP/SIGCONT, a
   * long stall): it detaches at once, before answering anything that queued meanwhile, and
   * votes on nothing until it has caught up what it missed.
   */
  pulse(): void {
    const now_ms = this.context.clock.monotonic_ms();
    const gap_ms = this.last_pulse_ms === undefined ? 0 : Math.round(now_ms - this.last_pulse_ms);
    this.last_pulse_ms = now_ms;
    if (gap_ms > this.pauseLimitMs() && this.context.state.phase === 'serving') this.detach(`this node was paused for ${gap_ms} ms`);
  }

  private async probeAll(): Promise<void> {
    const { context } = this;
    await Promise.all(context.state.members.filter((addr) => addr !== context.addr).map((addr) => this.probe(addr)));
  }

  private async probe(addr: string): Promise<void> {
    const { context } = this;
    const before = context.state.peers.get(addr) ?? initialStatus(addr);
    const after = await this.probeStatus(before);
    if (!context.state.members.includes(addr)) return;
    context.state.peers.set(addr, after);
    context.metrics.heartbeat_misses.inc({ peer: addr }, after.misses > before.misses ? 1 : 0);
    if (before.alive !== after.alive) context.log.info(after.alive ? 'peer-alive' : 'peer-dead', { peer: addr, epoch: context.state.epoch });
  }

  private async adoptPeerEpochs(): Promise<void> {
    const { context } = this;
    for (const peer of context.state.peers.values()) {
      const report = peer.last_report;
      if (!peer.reachable || !report) continue;
      if (report.epoch > context.state.epoch && report.role === 'MASTER' && context.state.role === 'MASTER') this.stepDown('newer master seen');
      await adoptEpoch(context, report.epoch);
    }
  }

  /** Re-run the election on this node's current view. */
  async elect(): Promise<void> {
    const { context } = this;
    const { state } = context;
    const { expected, majority } = this.nameMaster();
    if (state.role === 'MASTER' && state.epoch !== state.term) this.stepDown(`epoch ${state.epoch} passed this master's term ${state.term}`);
    if (state.phase !== 'serving') return;
    if (expected === context.addr && majority) {
      if (state.role !== 'MASTER') await this.takeOver();
    } else if (state.role === 'MASTER') {
      this.stepDown(majority ? `${expected} is the lowest alive address` : 'lost the majority');
    }
  }

  /**
   * Who leads on this node's view (the lowest alive address, with a majority alive): what its
   * `/role` and its 421 answers name. A node that is not serving does not count itself, so
   * one whose disk failed names the master that took over, never itself.
   */
  private nameMaster(): { readonly expected: string | undefined; readonly majority: boolean } {
    const { state } = this.context;
    const alive = listAlive(this.context);
    const expected = electMaster(alive);
    const majority = hasMajority(alive.length, state.members.length);
    state.master = majority ? expected : undefined;
    return { expected, majority };
  }

  private stepDown(reason: string): void {
    const { state } = this.context;
    state.role = 'SLAVE';
    state.accepting_writes = false;
    state.term = undefined;
    // Reservations die with the term: a sequence this node reserved but nobody applied may be
    // the next master's to use (its decision goes to reconciliation, and is withdrawn).
    state.max_sequence = this.context.sequences.max_applied;
    this.context.log.info('stepped-down', { reason, epoch: state.epoch });
    this.onStepDown();
  }

  /**
   * Become master: claim an epoch above all seen, catch up from the most advanced peer,
   * learn the highest sequence anyone has, resolve in-doubt transactions, then accept writes.
   */
  private async takeOver(): Promise<void> {
    if (this.taking_over) return;
    this.taking_over = true;
    const { context } = this;
    const { state } = context;
    try {
      const reports = [...state.peers.values()].filter((peer) => peer.reachable).map((peer) => peer.last_report).filter((r): r is PeerReport => r !== undefined);
      const epoch = claimEpoch([state.epoch, state.granted?.epoch ?? 0, ...reports.map((r) => r.epoch)]);
      if (!(await this.winEpoch(epoch))) return;
      if (state.phase !== 'serving' || state.epoch !== epoch) return;
      // Recorded before anything goes out under it: a restart takes the newest term recorded
      // as the newest epoch its unconfirmed COMMITs may have been sent under (RecoveryService.loadUnconfirmed).
      await context.meta.recordTerm({ epoch, master: context.addr, since: context.clock.now_ms() });
      if (state.phase !== 'serving' || state.epoch !== epoch) return;
      state.role = 'MASTER';
      state.term = epoch;
      state.accepting_writes = false;
      context.log.info('elected', { epoch, members: state.members });
      await this.waitForOldMasterToYield(epoch);
      // Planted bug `reuse-sequence-at-take-over` also skips the take-over's catch-up.
      const ahead = context.bugs['reuse-sequence-at-take-over'] ? undefined : this.furthestAheadPeer();
      if (ahead) {
        try {
          await this.recovery.pullLog(ahead);
        } catch (error) {
          // A master that may lack committed sequences must not hand out new ones.
          context.log.warn('take-over-catch-up-failed', { peer: ahead, error: String(error) });
          this.stepDown('could not catch up before taking over');
          return;
        }
      }
      // Every sequence a replica has applied (lib/cluster/take-over.ts): a master's confirmed
      // runs are held by a majority, its own decision counted (countAcksNeeded): applied on a
      // replica here, or reported as an unsettled decision of the deposed master (awaited
      // below by waitForPeersDecisions, or settled here if it is this node's own); and an
      // unconfirmed one is either this node's own (re-driven below) or withdrawn by the node
      // that made it when it returns.
      const known_max = knownMaxApplied(context.sequences.max_applied, this.granted_applied, [...state.peers.values()].map((peer) => peer.last_report));
      // This node's own COMMIT decisions from an earlier term that nobody is known to have
      // applied: settled if the cluster can tell, else finished by this term at their
      // sequences, which nobody else can have used (they are above everything applied).
      const adopted = await this.recovery.settleForTakeOver(known_max);
      // Re-sent under this term, and only while it lasts; else reconciliation's again (`decideAdopted`).
      const fate = decideAdopted(epoch, state);
      if (fate.kind === 'give-back') {
        for (const decision of adopted) this.recovery.adoptUnconfirmed(decision.id, decision.sequence, epoch, fate.reason);
        return;
      }
      // Also above this node's own decisions of the last term still being delivered.
      state.max_sequence = startOfTerm(known_max, this.maxDecided(), adopted.map((decision) => decision.sequence ?? 0));
      if (adopted.length > 0) this.onRedrive(adopted, fate.epoch);
      if (!(await this.waitForPeersDecisions(epoch))) return;
      await this.recovery.resolveAll();
      if (!(await this.waitForUnknowableCommits(epoch))) return;
      // Planted bug `reuse-sequence-at-take-over`: the term starts from what this node applied, whatever the others did.
      if (context.bugs['reuse-sequence-at-take-over']) state.max_sequence = context.sequences.applied_through;
      if (state.role === 'MASTER' && state.epoch === epoch) {
        state.accepting_writes = true;
        context.log.info('accepting-writes', { epoch, max_sequence: state.max_sequence });
      }
    } finally {
      this.taking_over = false;
    }
  }

  /**
   * Ask every member to grant `epoch` to this node; true once a majority of the membership
   * (this node included) has. Who leads is still the lowest alive address; the grants only
   * make sure no two nodes ever lead in the same epoch (lib/cluster/election.ts, `answerClaim`).
   */
  private async winEpoch(epoch: number): Promise<boolean> {
    const { context } = this;
    const claim: EpochGrant = { epoch, candidate: context.addr };
    const own = await this.answerClaim(claim);
    const others = context.state.members.filter((addr) => addr !== context.addr);
    const answers = await Promise.all(others.map((addr) => this.requestGrant(addr, claim)));
    const granted = [own, ...answers].filter((answer) => answer?.granted === true).length;
    // Planted bug `lead-without-majority-grants`: any claim wins.
    const won = context.bugs['lead-without-majority-grants'] || hasMajority(granted, context.state.members.length);
    if (!won) {
      const newer = Math.max(0, ...answers.map((answer) => (answer && !answer.granted ? answer.epoch : 0)));
      await adoptEpoch(context, newer);
      context.log.info('claim-lost', { epoch, granted, members: context.state.members.length });
    }
    // The granters are a majority: what they have applied is a floor for the sequences this
    // term hands out, even if their heartbeats never reached this node (simulation seed 4586).
    this.granted_applied = Math.max(0, ...answers.map((answer) => (answer?.granted === true ? (answer.max_applied ?? 0) : 0)));
    this.granted_decided = new Map(others.flatMap((addr, i) => (answers[i]?.granted === true ? [[addr, answers[i]?.max_decided ?? 0] as const] : [])));
    this.won_ms = context.clock.monotonic_ms();
    return won;
  }

  private async requestGrant(addr: string, claim: EpochGrant): Promise<ClaimReply | undefined> {
    try {
      const answer = await this.context.client.call<ClaimReply>(addr, 'POST', '/cluster/claim', claim, this.context.limits.heartbeat_timeout_ms);
      return typeof answer.body?.granted === 'boolean' ? answer.body : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A candidate's claim (`POST /cluster/claim`, or this node's own): grant each epoch once,
   * durably. The answer carries this node's highest applied sequence for the candidate.
   */
  answerClaim(claim: EpochGrant): Promise<ClaimReply> {
    return this.claims.run('claim', async () => {
      const { context } = this;
      const { state } = context;
      // Planted bug `grant-epoch-twice`: the grant already given is forgotten.
      const answer = answerClaim(state.epoch, context.bugs['grant-epoch-twice'] ? undefined : state.granted, claim, state.members);
      if (answer.granted && state.granted?.epoch !== claim.epoch) {
        await context.meta.writeGrant(claim);
        state.granted = claim;
        await adoptEpoch(context, claim.epoch);
        context.log.info('epoch-granted', { epoch: claim.epoch, candidate: claim.candidate });
      }
      return { ...answer, max_applied: context.sequences.max_applied, max_decided: this.maxDecided() };
    });
  }

  /**
   * A reachable peer (a deposed master) may hold a COMMIT decision above every sequence known
   * applied, which a replica this node cannot reach may have applied. Handing out that
   * sequence could give it twice, so wait (a bounded while, then step down and try again
   * later) until the holder settles it: committed, it shows up as applied; withdrawn, it
   * leaves the number free.
   */
  private async waitForPeersDecisions(epoch: number): Promise<boolean> {
    const { context } = this;
    const { state } = context;
    for (let tick = 0; ; tick += 1) {
      const witnesses = [...state.peers.values()].map((peer) => ({
        addr: peer.addr,
        reachable: peer.reachable,
        fresh_report: peer.asked_ms !== undefined && peer.asked_ms >= this.won_ms ? peer.last_report : undefined,
        granted_decided: this.granted_decided.get(peer.addr),
      }));
      const applied = knownMaxApplied(context.sequences.max_applied, 0, [...state.peers.values()].map((peer) => peer.last_report));
      if (applied > state.max_sequence) state.max_sequence = applied;
      const holder = findUnsettledDecision(state.max_sequence, witnesses);
      if (!holder) return true;
      if (tick >= takeover_wait_ticks || state.role !== 'MASTER' || state.epoch !== epoch) {
        context.log.warn('take-over-deferred', { peer: holder.addr, max_decided: holder.max_decided ?? null, max_sequence: state.max_sequence });
        if (state.role === 'MASTER') this.stepDown(holder.max_decided === undefined ? `${holder.addr} was not heard from since the take-over began` : `${holder.addr} holds an unsettled decision at sequence ${holder.max_decided}`);
        return false;
      }
      await context.timers.sleep(context.limits.heartbeat_interval_ms);
      await this.probeAll();
    }
  }

  /**
   * A partition can cut the old master off together with the only replicas that applied its
   * last round (possible from five nodes up): this side then holds those transactions PREPARED
   * and cannot learn the sequences they took. Handing out sequences now could give one twice
   * (chaos partition-2-3), so wait (a bounded while, resolving again each heartbeat, then step
   * down and try again later) until they can be resolved, typically when the partition heals.
   */
  private async waitForUnknowableCommits(epoch: number): Promise<boolean> {
    const { context } = this;
    const { state } = context;
    const isReachable = (addr: string) => state.peers.get(addr)?.reachable === true;
    const forgotThrough = (addr: string) => state.peers.get(addr)?.last_report?.forgot_through_epoch;
    for (let tick = 0; ; tick += 1) {
      const unknowable = await this.recovery.listUnknowableCommits(isReachable, forgotThrough);
      if (unknowable.length === 0) return true;
      if (tick >= takeover_wait_ticks || state.role !== 'MASTER' || state.epoch !== epoch) {
        context.log.warn('take-over-deferred', { reason: 'in-doubt transactions whose sequences only unreachable replicas may hold', transaction_ids: unknowable.slice(0, 10) });
        if (state.role === 'MASTER') this.stepDown('in-doubt transactions only unreachable replicas can settle');
        return false;
      }
      await context.timers.sleep(context.limits.heartbeat_interval_ms);
      await this.probeAll();
      await this.recovery.resolveAll();
    }
  }

  /**
   * Probe the peers until none still claims to be master at an older epoch (it steps down
   * when it sees this node's newer one), bounded by `takeover_wait_ticks` heartbeats. Its
   * last sequence is then final, so the sequences this node hands out never collide with it.
   */
  private async waitForOldMasterToYield(epoch: number): Promise<void> {
    const { context } = this;
    for (let tick = 0; tick < takeover_wait_ticks; tick += 1) {
      await this.probeAll();
      const rival = [...context.state.peers.values()].find((peer) => peer.reachable && peer.last_report?.role === 'MASTER' && peer.last_report.epoch < epoch);
      if (!rival) return;
      await context.timers.sleep(context.limits.heartbeat_interval_ms);
    }
    context.log.warn('old-master-did-not-yield', { epoch });
  }

  /** Anti-entropy: if a serving peer has stayed ahead of this node for a few ticks, pull what is missing. */
  private async pullIfBehind(): Promise<void> {
    const { context } = this;
    if (context.state.phase !== 'serving') return;
    const ahead = this.furthestAheadPeer();
    this.behind_ticks = ahead ? this.behind_ticks + 1 : 0;
    if (!ahead || this.behind_ticks < behind_ticks_before_pull) return;
    this.behind_ticks = 0;
    await this.recovery.pullLog(ahead).catch((error: unknown) => context.log.warn('anti-entropy-failed', { peer: ahead, error: String(error) }));
  }

  /**
   * At start-up: wait (a bounded while) for a majority of the membership, then pull the
   * committed log from the master or the most advanced serving peer, and serve. A node
   * whose reachable peers are all starting too serves as it is.
   */
  async catchUp(): Promise<void> {
    const { context } = this;
    context.state.phase = 'catching-up';
    for (let tick = 0; tick < startup_wait_ticks; tick += 1) {
      await this.probeAll();
      await this.adoptPeerEpochs();
      if (await this.tryCatchUp()) return;
      await context.timers.sleep(context.limits.heartbeat_interval_ms);
    }
    // Returning is fine: the node answers 503 and every heartbeat tries again.
    context.log.warn('still-catching-up', { reason: 'no majority of the membership reachable yet' });
  }

  /**
   * With a majority of the membership reachable, pull what the master (or the most advanced
   * serving peer) has, then serve. Without a majority this node cannot know it is current.
   */
  private async tryCatchUp(): Promise<boolean> {
    const { context } = this;
    if (this.repairing || !reachesMajority(context)) return false;
    const source = this.pickCatchUpSource();
    if (source) {
      try {
        await this.recovery.pullLog(source);
      } catch (error) {
        context.log.warn('catch-up-retry', { source, error: String(error) });
        return false;
      }
    }
    // With no serving peer to pull from, a repaired replica serves as it is, like any other.
    await this.recovery.endLogReset();
    context.state.phase = 'serving';
    context.log.info('serving', { last_sequence: context.sequences.applied_through, epoch: context.state.epoch });
    return true;
  }

  /**
   * The store failed (lib/node/store-faults.ts): a master steps down; a disk that may recover
   * is tried with the writes a recovered node makes first (its epoch, the newest a peer
   * reports, what it missed meanwhile), and once they land it catches up the rest and serves
   * again. A damaged file stays out until a restart's check refuses it.
   */
  private async retryStore(): Promise<void> {
    const { context } = this;
    const { state } = context;
    const fault = state.store_fault;
    if (state.role === 'MASTER') this.stepDown(fault?.reason ?? 'store failed');
    if (fault === undefined || !fault.transient) return;
    try {
      // The probe is the write a recovered node makes first: its epoch, raised to the newest a
      // peer reports. A small write of the same value can land on a full disk (SQLite reuses
      // its WAL) while the newer epoch does not: that is not recovered yet, and flapping out of
      // `store-failed` and back each heartbeat only filled the log.
      await context.meta.writeEpoch(state.epoch);
      await this.adoptPeerEpochs();
      // Likewise what it missed: a slave's epoch is current, so only its catch-up's writes tell.
      const source = reachesMajority(context) ? this.pickCatchUpSource() : undefined;
      if (source !== undefined) await this.recovery.pullLog(source);
    } catch {
      return;
    }
    if (state.phase !== 'store-failed') return;
    state.store_fault = undefined;
    state.phase = 'catching-up';
    context.log.info('store-recovered', { reason: fault.reason, epoch: state.epoch });
  }

  /**
   * Stop serving (stepping down as master), run `wipe`, then catch up like a new node: how a
   * replica whose store contradicts itself or the majority pulls a clean copy.
   */
  async repair(reason: string, wipe: () => Promise<void>): Promise<void> {
    if (this.repairing) return;
    this.repairing = true;
    try {
      this.detach(`replica repair: ${reason}`);
      await wipe();
    } finally {
      this.repairing = false;
    }
  }

  /**
   * Stop serving: this node may have missed commits (it was paused, or cut off from the
   * majority), so it neither votes nor serves reads nor leads until it has caught up.
   */
  private detach(reason: string): void {
    const { state } = this.context;
    if (state.role === 'MASTER') this.stepDown(reason);
    state.phase = 'catching-up';
    this.context.log.warn('detached', { reason, epoch: state.epoch });
  }


  /** A pause this long and peers may have counted this node dead (their misses came back fast). */
  private pauseLimitMs(): number {
    const { limits } = this.context;
    return limits.heartbeat_interval_ms * limits.heartbeat_miss_limit;
  }

  /** The master if one serves, else the serving peer furthest ahead; undefined if none serves. */
  private pickCatchUpSource(): string | undefined {
    const master = [...this.context.state.peers.values()].find((peer) => peer.alive && peer.last_report?.role === 'MASTER');
    return master?.addr ?? this.furthestServingPeer()?.addr;
  }

  /** The serving peer with the highest applied sequence, if any serves. */
  private furthestServingPeer(): PeerStatus | undefined {
    let furthest: PeerStatus | undefined;
    for (const peer of this.context.state.peers.values()) {
      if (peer.alive && (furthest === undefined || sequenceOf(peer) > sequenceOf(furthest))) furthest = peer;
    }
    return furthest;
  }

  /** The furthest serving peer, if it has applied more than this node. */
  private furthestAheadPeer(): string | undefined {
    const furthest = this.furthestServingPeer();
    return furthest && sequenceOf(furthest) > this.context.sequences.applied_through ? furthest.addr : undefined;
  }

  /** `status` after one `/health` probe of its peer. */
  private async probeStatus(status: PeerStatus): Promise<PeerStatus> {
    const { context } = this;
    const asked_ms = context.clock.monotonic_ms();
    try {
      const answer = await context.client.call<HealthReport>(status.addr, 'GET', '/health', undefined, context.limits.heartbeat_timeout_ms);
      return isReport(answer.body) ? recordAnswer(status, answer.body, context.clock.now_ms(), asked_ms) : recordMiss(status, context.limits.heartbeat_miss_limit);
    } catch {
      return recordMiss(status, context.limits.heartbeat_miss_limit);
    }
  }

  /**
   * Add a member; returns false if it was already one. The newcomer is probed before it
   * counts: added with no answer yet, it counted dead until the next heartbeat, so a node
   * told of a lower address elected itself past it (start-master saw the second-lowest
   * address lead an epoch, the lowest taking over only a heartbeat later). A master that
   * gains a member steps down and claims a new epoch from the new membership: its term was
   * won without the newcomer, which may itself have led that epoch as a cluster of one (every
   * fresh `start-node` does), and would refuse its rounds as "not the master".
   */
  async join(addr: string): Promise<boolean> {
    const { state } = this.context;
    if (state.members.includes(addr)) return false;
    const status = await this.probeStatus(initialStatus(addr));
    if (state.members.includes(addr)) return false;
    state.members = [...state.members, addr].sort();
    state.peers.set(addr, status);
    if (state.role === 'MASTER') this.stepDown(`${addr} joined: a new term over the new membership`);
    await this.context.meta.writeMembers(state.members);
    this.context.log.info('member-joined', { member: addr, members: state.members });
    return true;
  }

  /** Remove a member; returns false if it was not one. */
  async leave(addr: string): Promise<boolean> {
    const { state } = this.context;
    if (!state.members.includes(addr) || addr === this.context.addr) return false;
    state.members = state.members.filter((member) => member !== addr);
    state.peers.delete(addr);
    await this.context.meta.writeMembers(state.members);
    this.context.log.info('member-left', { member: addr, members: state.members });
    return true;
  }
}

function sequenceOf(peer: PeerStatus): number {
  return peer.last_report?.last_sequence ?? 0;
}

function isReport(body: unknown): body is HealthReport {
  if (typeof body !== 'object' || body === null) return false;
  const report = body as Record<string, unknown>;
  return typeof report['epoch'] === 'number' && typeof report['phase'] === 'string' && typeof report['last_sequence'] === 'number';
}
