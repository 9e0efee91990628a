/**
 * The arena's HTTP routes (under /arena): single-model conversations with feedback, battles (anonymous with two
 * different random models, or named side by side) whose sides stream like /v1/chat/completions, votes recorded
 * durably before the answer, the live leaderboard (JSON and SVG chart) and the battle-log export.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FleetError } from '../../common/errors';
import { pseudonymousJudgeId } from '../../arena/judge-id';
import type { ArenaBattle, ArenaConversation, ArenaStore } from '../../arena/store';
import { ModelKind } from '../../common/gen/worker';
import type { GatewayContext } from '../context';
import { notFoundModel } from '../openai/validate';
import { battleLogContentType, battleLogText } from './battle-log-export';
import { createLanguageDetector, type LanguageOf } from './language';
import { LiveLeaderboard } from './live-leaderboard';
import { cryptoRandomBelow, pickBattleModels, type RandomBelow } from './pick-models';
import {
  parseExportQuery, parseFeedback, parseLeaderboardQuery, parseMessages, parseNewBattle, parseNewConversation, parseSide, parseVote,
} from './requests';
import { streamSide } from './side-stream';
import { toWireBattle, toWireConversation, toWireFeedback, toWireVote } from './wire';

export interface ArenaDeps {
  ctx: GatewayContext;
  store: ArenaStore;
  /** Keys the judge pseudonyms (see `loadJudgeSecret`). */
  judgeSecret: string;
  languageOf?: LanguageOf;
  randomBelow?: RandomBelow;
}

type IdParams = { Params: { id: string } };
type SideParams = { Params: { id: string; side: string } };

/** Names of the live models that chat (embedding models cannot take part). */
export function liveChatModels(ctx: GatewayContext): string[] {
  return ctx.view.models().filter((m) => m.kind !== ModelKind.MODEL_KIND_EMBEDDING).map((m) => m.name);
}

function requireLiveModel(ctx: GatewayContext, model: string, param: string): void {
  const live = liveChatModels(ctx);
  if (!live.includes(model)) {
    const err = notFoundModel(model, live);
    throw new FleetError('not_found', err.message, { param, code: err.code });
  }
}

async function loadBattle(store: ArenaStore, id: string): Promise<ArenaBattle> {
  const battle = await store.getBattle(id);
  if (!battle) throw new FleetError('not_found', `no battle ${id}`, { param: 'id', code: 'battle_not_found' });
  return battle;
}

async function loadConversation(store: ArenaStore, id: string): Promise<ArenaConversation> {
  const conversation = await store.getConversation(id);
  if (!conversation) throw new FleetError('not_found', `no conversation ${id}`, { param: 'id', code: 'conversation_not_found' });
  return conversation;
}

export async function registerArenaRoutes(app: FastifyInstance, deps: ArenaDeps): Promise<void> {
  const { ctx, store } = deps;
  const languageOf = deps.languageOf ?? createLanguageDetector();
  const randomBelow = deps.randomBelow ?? cryptoRandomBelow;
  const leaderboard = new LiveLeaderboard(store);
  const judgeOf = (request: FastifyRequest): string => pseudonymousJudgeId(request.ip, deps.judgeSecret);

  app.get('/arena/models', async () => ({ models: liveChatModels(ctx) }));

  app.post('/arena/conversations', async (request, reply) => {
    const { model } = parseNewConversation(request.body);
    requireLiveModel(ctx, model, 'model');
    const conversation = await store.createConversation({ model, judgeId: judgeOf(request) });
    return reply.code(201).send(toWireConversation(conversation));
  });

  app.put<IdParams>('/arena/conversations/:id/messages', async (request) => {
    const messages = parseMessages(request.body);
    return toWireConversation(await store.updateMessages(request.params.id, messages));
  });

  app.post<IdParams>('/arena/conversations/:id/feedback', async (request, reply) => {
    const kind = parseFeedback(request.body);
    const feedback = await store.recordFeedback({ conversationId: request.params.id, kind, judgeId: judgeOf(request) });
    return reply.code(201).send(toWireFeedback(feedback));
  });

  app.post('/arena/battles', async (request, reply) => {
    const wanted = parseNewBattle(request.body);
    let pair: [string, string];
    if (wanted.anony) pair = pickBattleModels(liveChatModels(ctx), randomBelow);
    else {
      requireLiveModel(ctx, wanted.modelA, 'model_a');
      requireLiveModel(ctx, wanted.modelB, 'model_b');
      pair = [wanted.modelA, wanted.modelB];
    }
    const battle = await store.createBattle({ modelA: pair[0], modelB: pair[1], anony: wanted.anony, judgeId: judgeOf(request) });
    return reply.code(201).send(toWireBattle(battle));
  });

  app.post<SideParams>('/arena/battles/:id/sides/:side/chat/completions', async (request, reply) => {
    const side = parseSide(request.params.side);
    const battle = await loadBattle(store, request.params.id);
    await streamSide(ctx, { battle, side, body: request.body }, reply);
  });

  app.post<IdParams>('/arena/battles/:id/votes', async (request, reply) => {
    const winner = parseVote(request.body);
    const battle = await loadBattle(store, request.params.id);
    const firstUser = (await loadConversation(store, battle.conversationAId)).messages.find((m) => m.role === 'user');
    const language = firstUser ? await languageOf(firstUser.content) : 'unknown';
    // Resolves once the vote is committed to disk: only then is it confirmed.
    const vote = await store.recordBattleVote({ battleId: battle.id, winner, judgeId: judgeOf(request), language });
    return reply.code(201).send(toWireVote(vote, battle));
  });

  app.get('/arena/leaderboard', async (request) => {
    const { includeNamed } = parseLeaderboardQuery(request.query, 'GET /arena/leaderboard');
    const live = await leaderboard.get(includeNamed);
    return { ...live.board, computed_at: live.computedAtMs / 1000, stale: live.stale };
  });

  app.get('/arena/leaderboard.svg', async (request, reply) => {
    const { includeNamed } = parseLeaderboardQuery(request.query, 'GET /arena/leaderboard.svg');
    const live = await leaderboard.get(includeNamed);
    return reply.header('content-type', 'image/svg+xml; charset=utf-8').header('cache-control', 'no-store').send(leaderboard.svg(live));
  });

  app.get('/arena/battle-log', async (request, reply) => {
    const { format, options } = parseExportQuery(request.query);
    const name = `battles.${format}`;
    return reply
      .header('content-type', battleLogContentType(format))
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Readable.from(battleLogText(store, format, options)));
  });
}
