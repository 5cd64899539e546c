/**
 * Heartbeats, elections and catch-up for a simulated node (lib/node/cluster-service.ts and
 * the start-up and timers of lib/node/node.ts), using the real pure rules: recordAnswer and
 * recordMiss for beliefs, electMaster and hasMajority for who leads, claimEpoch and
 * answerClaim for epochs that belong to one candidate each. A take-over waits, bounded, for
 * a reachable peer's unsettled COMMIT decision above everything applied (max_decided).
 */
import { answerClaim, claimEpoch, electMaster, hasMajority, type EpochGrant } from '../cluster/election.ts';
import { initialStatus, recordAnswer, recordMiss, type PeerReport, type PeerStatus } from '../cluster/membership.ts';
import { behind_ticks_before_pull, startup_wait_ticks, takeover_wait_ticks, type ClaimReply } from '../node/cluster-service.ts';
import { forAllInParallel, forEachInSeries, type SimNode } from './sim-node.ts';

/** Shortest pause between two in-doubt passes, as node.ts runs them. */
const in_doubt_pass_min_ms = 100;

export class SimCluster {
  private behind_ticks = 0;
  private taking_over = false;
  /** The highest sequence the nodes that granted this node's last claim had applied. */
  private granted_applied = 0;

  constructor(private readonly node: SimNode) {}

  /** Start-up (node.ts, start): catch up for a bounded while, reconcile, then run the timers. */
  start(): void {
    const { node } = this;
    node.state.phase = 'catching-up';
    const attempt = (tick: number): void => {
      this.probeAll(() => this.adoptPeerEpochs(() => this.tryCatchUp((serving) => {
        if (serving || tick + 1 >= startup_wait_ticks) return this.startTimers();
        node.after(node.limits.heartbeat_interval_ms, 'startup-wait', () => attempt(tick + 1));
      })));
    };
    attempt(0);
  }

  private startTimers(): void {
    const { node } = this;
    node.recovery.reconcile(() => {
      const { limits } = node;
      this.every(limits.heartbeat_interval_ms, 'tick', (done) => this.tick(done), true);
      this.every(limits.decision_retry_interval_ms, 'redeliver', (done) => node.coordinator.redeliver(done));
      this.every(Math.max(in_doubt_pass_min_ms, Math.floor(limits.in_doubt_after_ms / 2)), 'in-doubt', (done) => node.recovery.resolveStale(done));
    });
  }

  /** Run `task` every `interval_ms`, never two at once (node.ts, every). */
  private every(interval_ms: number, label: string, task: (done: () => void) => void, now = false): void {
    const run = (): void => task(() => this.node.after(interval_ms, label, run));
    if (now) run();
    else this.node.after(interval_ms, label, run);
  }

  /** One heartbeat: probe, adopt newer epochs, detach without a majority, catch up, elect, fill gaps. */
  tick(then: () => void): void {
    const { state } = this.node;
    this.probeAll(() => this.adoptPeerEpochs(() => {
      if (state.phase === 'serving' && !this.reachesMajority()) this.detach('lost contact with the majority');
      const elect = (): void => this.elect(() => this.pullIfBehind(then));
      if (state.phase === 'catching-up') return this.tryCatchUp(() => elect());
      elect();
    }));
  }

  private probeAll(then: () => void): void {
    const { node } = this;
    const peers = node.members.filter((addr) => addr !== node.addr);
    forAllInParallel<string, undefined>(peers, (addr, done) => this.probe(addr, () => done(undefined)), () => then());
  }

  private probe(addr: string, then: () => void): void {
    const { node } = this;
    node.call(addr, 'health', {}, node.limits.heartbeat_timeout_ms, (reply) => {
      const before = node.state.peers.get(addr) ?? initialStatus(addr);
      const after = reply.ok ? recordAnswer(before, reply.body, node.world.now_ms) : recordMiss(before, node.limits.heartbeat_miss_limit);
      node.state.peers.set(addr, after);
      if (before.alive !== after.alive) node.note(`${after.alive ? 'peer-alive' : 'peer-dead'} ${addr}`);
      then();
    });
  }

  private adoptPeerEpochs(then: () => void): void {
    const { node } = this;
    forEachInSeries<PeerStatus>([...node.state.peers.values()], (peer, next) => {
      const report = peer.last_report;
      if (!peer.reachable || !report) return next();
      if (report.epoch > node.epoch && report.role === 'MASTER' && node.state.role === 'MASTER') this.stepDown('newer master seen');
      node.adoptEpoch(report.epoch, next);
    }, then);
  }

  private elect(then: () => void): void {
    const { node } = this;
    const { state } = node;
    const alive = node.listAlive();
    const expected = electMaster(alive);
    const majority = hasMajority(alive.length, node.members.length);
    state.master = majority ? expected : undefined;
    if (state.role === 'MASTER' && node.epoch !== state.term) this.stepDown(`epoch ${node.epoch} passed term ${state.term}`);
    if (state.phase !== 'serving') return then();
    if (expected === node.addr && majority) {
      if (state.role !== 'MASTER') return this.takeOver(then);
    } else if (state.role === 'MASTER') {
      this.stepDown(majority ? `${expected} is the lowest alive address` : 'lost the majority');
    }
    then();
  }

  private stepDown(reason: string): void {
    const { state } = this.node;
    state.role = 'SLAVE';
    state.accepting_writes = false;
    state.term = undefined;
    // Reservations die with the term (cluster-service.ts, stepDown).
    state.max_sequence = state.sequences.max_applied;
    this.node.note(`stepped-down (${reason})`);
    this.node.coordinator.handOffUnconfirmed();
  }

  /** Claim an epoch, win a majority of grants, catch up, learn the highest sequence, resolve what is in doubt, accept writes. */
  private takeOver(then: () => void): void {
    if (this.taking_over) return then();
    this.taking_over = true;
    const { node } = this;
    const { state } = node;
    const finish = (): void => {
      this.taking_over = false;
      then();
    };
    const reports = [...state.peers.values()].filter((peer) => peer.reachable).map((peer) => peer.last_report).filter((r): r is PeerReport => r !== undefined);
    const epoch = claimEpoch([node.epoch, node.store.grant?.epoch ?? 0, ...reports.map((r) => r.epoch)]);
    this.winEpoch(epoch, (won) => {
      if (!won || state.phase !== 'serving' || node.epoch !== epoch) return finish();
      state.role = 'MASTER';
      state.term = epoch;
      state.accepting_writes = false;
      node.note(`elected epoch=${epoch}`);
      this.waitForOldMasterToYield(epoch, 0, () => {
        const ahead = this.furthestAheadPeer();
        const learn = (): void => {
          // Every sequence a replica applied, by every peer's last word, reachable or not (an
          // old report is still a floor). Reservations do not count: an unconfirmed one is
          // this node's own (re-driven below) or withdrawn by the node that made it.
          const reported = [...state.peers.values()].map((peer) => Math.max(peer.last_report?.last_sequence ?? 0, peer.last_report?.max_applied ?? 0));
          const known_max = Math.max(state.sequences.max_applied, this.granted_applied, ...reported);
          // This node's own COMMIT decisions of an earlier term nobody is known to have
          // applied: settled if the cluster can tell, else finished by this term.
          node.recovery.settleForTakeOver(known_max, (adopted) => {
            // Also above this node's own decisions of the last term still being delivered.
            state.max_sequence = Math.max(known_max, node.maxDecided(), ...adopted.map((decision) => decision.sequence ?? 0));
            if (adopted.length > 0) node.coordinator.redrive(adopted);
            this.waitForPeersDecisions(epoch, 0, (settled) => {
              if (!settled) return finish();
              node.recovery.resolveAll(() => {
                if (state.role === 'MASTER' && node.epoch === epoch) {
                  state.accepting_writes = true;
                  node.note(`accepting-writes epoch=${epoch} max_sequence=${state.max_sequence}`);
                  node.world.recordMaster(epoch, node.addr);
                }
                finish();
              });
            });
          });
        };
        if (!ahead) return learn();
        node.recovery.pullLog(ahead, (ok) => {
          if (ok) return learn();
          // A master that may lack committed sequences must not hand out new ones.
          node.note(`take-over-catch-up-failed peer=${ahead}`);
          this.stepDown('could not catch up before taking over');
          finish();
        });
      });
    });
  }

  /** Ask every member to grant `epoch`; won with a majority of the membership, this node included. */
  private winEpoch(epoch: number, then: (won: boolean) => void): void {
    const { node } = this;
    const claim: EpochGrant = { epoch, candidate: node.addr };
    if (node.bugs.skip_epoch_grants) return node.adoptEpoch(epoch, () => then(true));
    this.answerClaim(claim, (own) => {
      const others = node.members.filter((addr) => addr !== node.addr);
      forAllInParallel<string, ClaimReply | undefined>(
        others,
        (addr, done) => node.call(addr, 'claim', claim, node.limits.heartbeat_timeout_ms, (reply) => done(reply.ok ? reply.body : undefined)),
        (answers) => {
          const granted = [own, ...answers].filter((answer) => answer?.granted === true).length;
          const won = hasMajority(granted, node.members.length);
          node.note(`claim epoch=${epoch} granted=${granted} ${won ? 'won' : 'lost'}`);
          // The granters are a majority: what they applied is a floor for this term's
          // sequences, even if their heartbeats never reached this node (5fb9cec, seed 4586).
          this.granted_applied = Math.max(0, ...answers.map((answer) => (answer?.granted === true ? (answer.max_applied ?? 0) : 0)));
          if (won) return then(true);
          const newer = Math.max(0, ...answers.map((answer) => (answer && !answer.granted ? answer.epoch : 0)));
          node.adoptEpoch(newer, () => then(false));
        },
      );
    });
  }

  /**
   * A candidate's claim: grant each epoch once, the grant persisted (and the epoch adopted)
   * before answering. The answer carries this node's highest applied sequence (5fb9cec).
   */
  answerClaim(claim: EpochGrant, reply: (answer: ClaimReply) => void): void {
    const { node } = this;
    node.serial('claim', (done) => {
      const answered = (answer: ClaimReply): void => {
        reply({ ...answer, max_applied: node.state.sequences.max_applied });
        done();
      };
      const answer = answerClaim(node.epoch, node.store.grant, claim);
      if (!answer.granted || node.store.grant?.epoch === claim.epoch) return answered(answer);
      node.persist(`grant ${claim.epoch} to ${claim.candidate}`, () => (node.store.grant = claim), () => {
        node.note(`granted epoch=${claim.epoch} to ${claim.candidate}`);
        node.adoptEpoch(claim.epoch, () => answered(answer));
      });
    });
  }

  /**
   * A reachable peer (a deposed master) may hold a COMMIT decision above every sequence known
   * applied, which a replica this node cannot reach may have applied (cluster-service.ts,
   * waitForPeersDecisions): wait, re-probing each heartbeat, until the holder settles it;
   * after `takeover_wait_ticks` step down and let a later tick try again.
   */
  private waitForPeersDecisions(epoch: number, tick: number, then: (settled: boolean) => void): void {
    const { node } = this;
    const { state } = node;
    const reports = [...state.peers.values()].filter((peer) => peer.reachable && peer.last_report).map((peer) => ({ addr: peer.addr, report: peer.last_report as PeerReport }));
    const applied = Math.max(state.sequences.max_applied, ...[...state.peers.values()].map((peer) => peer.last_report?.max_applied ?? peer.last_report?.last_sequence ?? 0));
    if (applied > state.max_sequence) state.max_sequence = applied;
    const holder = reports.find(({ report }) => (report.max_decided ?? 0) > state.max_sequence);
    if (!holder) return then(true);
    if (tick >= takeover_wait_ticks || state.role !== 'MASTER' || node.epoch !== epoch) {
      node.note(`take-over-deferred peer=${holder.addr} max_decided=${holder.report.max_decided} max_sequence=${state.max_sequence}`);
      if (state.role === 'MASTER') this.stepDown(`${holder.addr} holds an unsettled decision at sequence ${holder.report.max_decided}`);
      return then(false);
    }
    if (tick === 0) node.note(`waiting-for-peer-decision peer=${holder.addr} max_decided=${holder.report.max_decided} max_sequence=${state.max_sequence}`);
    node.after(node.limits.heartbeat_interval_ms, 'wait-peer-decisions', () => this.probeAll(() => this.waitForPeersDecisions(epoch, tick + 1, then)));
  }

  private waitForOldMasterToYield(epoch: number, tick: number, then: () => void): void {
    const { node } = this;
    if (tick >= takeover_wait_ticks) {
      node.note(`old-master-did-not-yield epoch=${epoch}`);
      return then();
    }
    this.probeAll(() => {
      const rival = [...node.state.peers.values()].find((peer) => peer.reachable && peer.last_report?.role === 'MASTER' && peer.last_report.epoch < epoch);
      if (!rival) return then();
      node.after(node.limits.heartbeat_interval_ms, 'wait-old-master', () => this.waitForOldMasterToYield(epoch, tick + 1, then));
    });
  }

  private pullIfBehind(then: () => void): void {
    const { node } = this;
    if (node.state.phase !== 'serving') return then();
    const ahead = this.furthestAheadPeer();
    this.behind_ticks = ahead ? this.behind_ticks + 1 : 0;
    if (!ahead || this.behind_ticks < behind_ticks_before_pull) return then();
    this.behind_ticks = 0;
    node.recovery.pullLog(ahead, () => then());
  }

  /** With a majority reachable, pull what the master (or the most advanced serving peer) has, then serve. */
  private tryCatchUp(then: (serving: boolean) => void): void {
    const { node } = this;
    if (!this.reachesMajority()) return then(false);
    const source = this.pickCatchUpSource();
    const serve = (): void => {
      node.state.phase = 'serving';
      node.note(`serving applied_through=${node.state.sequences.applied_through}`);
      then(true);
    };
    if (!source) return serve();
    node.recovery.pullLog(source, (ok) => (ok ? serve() : then(false)));
  }

  private detach(reason: string): void {
    const { state } = this.node;
    if (state.role === 'MASTER') this.stepDown(reason);
    state.phase = 'catching-up';
    this.node.note(`detached (${reason})`);
  }

  private reachesMajority(): boolean {
    const reachable = [...this.node.state.peers.values()].filter((peer) => peer.reachable).length;
    return hasMajority(reachable + 1, this.node.members.length);
  }

  private pickCatchUpSource(): string | undefined {
    const master = [...this.node.state.peers.values()].find((peer) => peer.alive && peer.last_report?.role === 'MASTER');
    return master?.addr ?? this.furthestServingPeer()?.addr;
  }

  private furthestServingPeer(): PeerStatus | undefined {
    let furthest: PeerStatus | undefined;
    for (const peer of this.node.state.peers.values()) {
      if (peer.alive && (furthest === undefined || sequenceOf(peer) > sequenceOf(furthest))) furthest = peer;
    }
    return furthest;
  }

  private furthestAheadPeer(): string | undefined {
    const furthest = this.furthestServingPeer();
    return furthest && sequenceOf(furthest) > this.node.state.sequences.applied_through ? furthest.addr : undefined;
  }
}

function sequenceOf(peer: PeerStatus): number {
  return peer.last_report?.last_sequence ?? 0;
}
