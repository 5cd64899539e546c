/**
 * The node's routes without HTTP: what the simulation's peers and clients call (a request
 * and its answer travel as messages of the simulated network). The answers are routes.ts's
 * (route-answers.ts), and batch bodies are validated as there (a batch over the limit gets 400).
 */
import type { TwopcNode } from '../node/node.ts';
import type { PeerResponse } from '../node/peer-calls.ts';
import { DecideBatchRequestSchema, parseMessage, PrepareBatchRequestSchema } from '../protocol/messages.ts';
import { answerDecision, answerHealth, answerKey, changeMembership } from './route-answers.ts';

export async function answerInProcess(node: TwopcNode, method: 'GET' | 'POST', path: string, body: unknown): Promise<PeerResponse> {
  node.cluster.pulse();
  const [route = '', query = ''] = path.split('?');
  const params = new URLSearchParams(query);
  const ok = (answer: unknown): PeerResponse => ({ status: 200, body: answer });
  const refuse = (error: string): PeerResponse => ({ status: 400, body: { error } });
  try {
    if (method === 'GET' && route.startsWith('/transactions/')) return ok(await node.viewTransaction(decodeURIComponent(route.slice('/transactions/'.length))));
    if (method === 'GET' && route.startsWith('/kv/')) return await answerKey(node, decodeURIComponent(route.slice('/kv/'.length)));
    switch (`${method} ${route}`) {
      case 'GET /health':
        return answerHealth(node);
      case 'POST /prepare-batch': {
        const batch = parseMessage(PrepareBatchRequestSchema, body);
        return batch.ok ? ok({ votes: await node.participant.prepareBatch(batch.value) }) : refuse(batch.error);
      }
      case 'POST /decide-batch': {
        const batch = parseMessage(DecideBatchRequestSchema, body);
        return batch.ok ? ok(await node.participant.decideBatch(batch.value)) : refuse(batch.error);
      }
      case 'POST /commit':
        return answerDecision(await node.participant.commit(body as never));
      case 'POST /abort':
        return answerDecision(await node.participant.abort(body as never));
      case 'POST /transactions': {
        const answer = await node.coordinator.submit(body as never);
        return { status: answer.http_status, body: answer.body };
      }
      case 'GET /cluster/log':
        return ok({ entries: await node.context.participant_log.readLog(Number(params.get('after') ?? 0), Number(params.get('limit') ?? 500)) });
      case 'POST /cluster/claim': {
        const answer = await node.cluster.answerClaim(body as never);
        return { status: answer.granted ? 200 : 409, body: answer };
      }
      case 'POST /cluster/views':
        return ok({ views: await node.recovery.viewTransactions((body as { transaction_ids: string[] }).transaction_ids) });
      case 'GET /cluster/in-doubt':
        return ok({ rounds: await node.recovery.listInDoubtRounds() });
      case 'POST /cluster/join':
      case 'POST /cluster/leave':
        return ok(await changeMembership(node, route === '/cluster/join' ? 'join' : 'leave', (body as { addr: string }).addr));
      default:
        return { status: 404, body: { error: 'no such route' } };
    }
  } catch (error) {
    node.context.log.warn('request-failed', { path, error: String(error) });
    return { status: 500, body: { error: 'internal error' } };
  }
}
