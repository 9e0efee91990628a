/**
 * The arena's HTTP routes (under /arena). The server keeps every transcript: a client sends only the new user
 * message; the answers are generated and recorded by the server (see answer-stream). Single-model conversations
 * take feedback; battles (anonymous with two different random models, or named side by side) take one vote, which
 * reveals the names and ends the battle. Everything a session creates is bound to its cookie (see session.ts);
 * writes are rate-limited per session and per judge. Also: the live leaderboard (JSON and SVG chart) and the
 * battle-log export (admin key, checked by the server's auth hook).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FleetError } from '../../common/errors';
import { pseudonymousJudgeId } from '../../arena/judge-id';
import type { ArenaBattle, ArenaConversation, ArenaStore } from '../../arena/store';
import { ModelKind } from '../../common/gen/worker';
import type { GatewayContext } from '../context';
import { notFoundModel } from '../openai/validate';
import { readAnswerBody, streamAnswer, validateAnswer } from './answer-stream';
import { battleLogContentType, battleLogText } from './battle-log-export';
import { createLanguageDetector, type LanguageOf } from './language';
import { LiveLeaderboard } from './live-leaderboard';
import { cryptoRandomBelow, pickBattleModels, type RandomBelow } from './pick-models';
import { RateLimiter } from '../rate-limit';
import {
  parseExportQuery, parseFeedback, parseLeaderboardQuery, parseNewBattle, parseNewConversation, parseSide, parseUserMessage, parseVote,
} from './requests';
import { SessionCookies, type ArenaSession } from './session';
import { toWireBattle, toWireConversation, toWireFeedback, toWireVote, type WireBattleState, type WireLeaderboard } from './wire';

export interface ArenaDeps {
  ctx: GatewayContext;
  store: ArenaStore;
  /** Keys the judge pseudonyms and the session cookies (see `loadJudgeSecret`). */
  judgeSecret: string;
  /** Arena writes a minute per session and per judge (0 = unlimited). */
  sessionRatePerMinute?: number;
  judgeRatePerMinute?: number;
  languageOf?: LanguageOf;
  randomBelow?: RandomBelow;
}

/** Paths that get a session cookie on first contact: the arena API and the web UI (not the OpenAI API). */
export function wantsSession(path: string): boolean {
  return !(path.startsWith('/v1/') || path === '/health' || path === '/metrics');
}

type IdParams = { Params: { id: string } };
type SideParams = { Params: { id: string; side: string } };

/**
 * Names of the live models that chat (embedding models cannot take part). `shown`: only those that may appear by
 * name — a direct chat or a battle with the names shown; models labelled anonymous-only (FastChat's `anony_only`)
 * take part only in anonymous battles.
 */
export function liveChatModels(ctx: GatewayContext, use: 'anonymous' | 'shown'): string[] {
  return ctx.view.models()
    .filter((m) => m.kind !== ModelKind.MODEL_KIND_EMBEDDING && (use === 'anonymous' || !m.anonyOnly))
    .map((m) => m.name);
}

function requireLiveModel(ctx: GatewayContext, model: string, param: string): void {
  const live = liveChatModels(ctx, 'shown');
  if (live.includes(model)) return;
  if (liveChatModels(ctx, 'anonymous').includes(model)) {
    throw new FleetError('invalid_request', `model '${model}' takes part only in anonymous battles (anony_only)`, { param, code: 'anony_only' });
  }
  const err = notFoundModel(model, live);
  throw new FleetError('not_found', err.message, { param, code: err.code });
}

function assertOwner(owner: string | undefined, session: ArenaSession, what: string): void {
  if (owner === undefined || owner !== session.key) {
    throw new FleetError('permission_denied', `this ${what} belongs to another session`, { code: 'session_mismatch' });
  }
}

async function loadBattle(store: ArenaStore, id: string, session: ArenaSession): Promise<ArenaBattle> {
  const battle = await store.getBattle(id);
  if (!battle) throw new FleetError('not_found', `no battle ${id}`, { param: 'id', code: 'battle_not_found' });
  assertOwner(battle.sessionId, session, 'battle');
  return battle;
}

async function loadConversation(store: ArenaStore, id: string, session: ArenaSession): Promise<ArenaConversation> {
  const conversation = await store.getConversation(id);
  if (!conversation) throw new FleetError('not_found', `no conversation ${id}`, { param: 'id', code: 'conversation_not_found' });
  assertOwner(conversation.sessionId, session, 'conversation');
  return conversation;
}

export async function registerArenaRoutes(app: FastifyInstance, deps: ArenaDeps): Promise<void> {
  const { ctx, store } = deps;
  const languageOf = deps.languageOf ?? createLanguageDetector();
  const randomBelow = deps.randomBelow ?? cryptoRandomBelow;
  const leaderboard = new LiveLeaderboard(store);
  const sessions = new SessionCookies(deps.judgeSecret);
  const perSession = RateLimiter.perMinute(deps.sessionRatePerMinute ?? 60, 'session');
  const perJudge = RateLimiter.perMinute(deps.judgeRatePerMinute ?? 600, 'client address');
  const judgeOf = (request: FastifyRequest): string => pseudonymousJudgeId(request.ip, deps.judgeSecret);
  const sessionOf = (request: FastifyRequest, reply: FastifyReply): ArenaSession => sessions.resolve(request, reply);
  /** A write: the session and the judge each spend one token. */
  const writer = (request: FastifyRequest, reply: FastifyReply): { session: ArenaSession; judgeId: string } => {
    const session = sessionOf(request, reply);
    const judgeId = judgeOf(request);
    perSession.take(session.key);
    perJudge.take(judgeId);
    return { session, judgeId };
  };

  // The session cookie on first contact, as a hook of the routes registered from here on (the arena API, the web UI)
  // rather than of the server: the OpenAI API's requests never run arena code.
  const sessionHook = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (wantsSession(request.url.split('?')[0])) sessionOf(request, reply);
  };
  app.addHook('onRoute', (route) => {
    route.onRequest = [...[route.onRequest ?? []].flat(), sessionHook];
  });

  app.get('/arena/models', async () => ({ models: liveChatModels(ctx, 'shown') }));

  app.post('/arena/conversations', async (request, reply) => {
    const { model } = parseNewConversation(request.body);
    requireLiveModel(ctx, model, 'model');
    const { session, judgeId } = writer(request, reply);
    const conversation = await store.createConversation({ model, judgeId, sessionId: session.key });
    return reply.code(201).send(toWireConversation(conversation));
  });

  app.get<IdParams>('/arena/conversations/:id', async (request, reply) => toWireConversation(await loadConversation(store, request.params.id, sessionOf(request, reply))));

  app.put<IdParams>('/arena/conversations/:id/messages', async () => {
    throw new FleetError('invalid_request', 'the server keeps the transcript and records the answers itself: send the new user message as `message` to POST /arena/conversations/{id}/chat/completions', {
      param: 'messages', code: 'client_transcript_refused',
    });
  });

  app.post<IdParams>('/arena/conversations/:id/chat/completions', async (request, reply) => {
    const body = readAnswerBody(request.body, true);
    const { session } = writer(request, reply);
    let conversation = await loadConversation(store, request.params.id, session);
    if (conversation.battleId !== undefined) throw new FleetError('invalid_request', 'a battle side answers through /arena/battles/{id}/sides/{side}/chat/completions', { code: 'battle_side' });
    const pending = body.message === undefined ? conversation.messages : [...conversation.messages, { role: 'user' as const, content: body.message }];
    const valid = validateAnswer(body, conversation.model, pending, ctx.limits);
    if (body.message !== undefined) [conversation] = await store.addUserTurn({ conversationId: conversation.id, content: body.message });
    await streamAnswer(ctx, { store, conversation, valid, regenerate: body.regenerate }, reply);
  });

  app.post<IdParams>('/arena/conversations/:id/feedback', async (request, reply) => {
    const kind = parseFeedback(request.body);
    const { session, judgeId } = writer(request, reply);
    await loadConversation(store, request.params.id, session);
    const feedback = await store.recordFeedback({ conversationId: request.params.id, kind, judgeId });
    return reply.code(201).send(toWireFeedback(feedback));
  });

  app.post('/arena/battles', async (request, reply) => {
    const wanted = parseNewBattle(request.body);
    let pair: [string, string];
    if (wanted.anony) pair = pickBattleModels(liveChatModels(ctx, 'anonymous'), randomBelow);
    else {
      requireLiveModel(ctx, wanted.modelA, 'model_a');
      requireLiveModel(ctx, wanted.modelB, 'model_b');
      pair = [wanted.modelA, wanted.modelB];
    }
    const { session, judgeId } = writer(request, reply);
    const battle = await store.createBattle({ modelA: pair[0], modelB: pair[1], anony: wanted.anony, judgeId, sessionId: session.key });
    return reply.code(201).send(toWireBattle(battle));
  });

  app.get<IdParams>('/arena/battles/:id', async (request, reply): Promise<WireBattleState> => {
    const battle = await loadBattle(store, request.params.id, sessionOf(request, reply));
    const [a, b] = await Promise.all([store.getConversation(battle.conversationAId), store.getConversation(battle.conversationBId)]);
    return { ...toWireBattle(battle), messages_a: a ? toWireConversation(a).messages : [], messages_b: b ? toWireConversation(b).messages : [] };
  });

  app.post<IdParams>('/arena/battles/:id/messages', async (request, reply) => {
    const content = parseUserMessage(request.body, 'POST /arena/battles/{id}/messages');
    const { session } = writer(request, reply);
    const battle = await loadBattle(store, request.params.id, session);
    const [a] = await store.addUserTurn({ battleId: battle.id, content });
    return reply.code(201).send({ battle_id: battle.id, turn: a.messages.filter((m) => m.role === 'user').length });
  });

  app.post<SideParams>('/arena/battles/:id/sides/:side/chat/completions', async (request, reply) => {
    const side = parseSide(request.params.side);
    const body = readAnswerBody(request.body, false);
    const { session } = writer(request, reply);
    const battle = await loadBattle(store, request.params.id, session);
    if (battle.revealedAtMs !== undefined) throw new FleetError('conflict', 'this battle was voted on: start a new one', { code: 'battle_revealed' });
    const conversation = await loadConversation(store, side === 'a' ? battle.conversationAId : battle.conversationBId, session);
    const valid = validateAnswer(body, conversation.model, conversation.messages, ctx.limits);
    await streamAnswer(ctx, { store, conversation, valid, regenerate: body.regenerate, battle }, reply);
  });

  app.post<IdParams>('/arena/battles/:id/votes', async (request, reply) => {
    const winner = parseVote(request.body);
    const { session, judgeId } = writer(request, reply);
    const battle = await loadBattle(store, request.params.id, session);
    const firstUser = (await store.getConversation(battle.conversationAId))?.messages.find((m) => m.role === 'user');
    const language = firstUser ? await languageOf(firstUser.content) : 'unknown';
    // Resolves once the vote is committed (and the battle revealed): only then is it confirmed.
    const vote = await store.recordBattleVote({ battleId: battle.id, winner, judgeId, language });
    return reply.code(201).send(toWireVote(vote, battle));
  });

  app.get('/arena/leaderboard', async (request): Promise<WireLeaderboard> => {
    const { includeNamed, styleControl } = parseLeaderboardQuery(request.query, 'GET /arena/leaderboard');
    const live = await leaderboard.get(includeNamed, styleControl);
    return { ...live.board, computed_at: live.computedAtMs / 1000, stale: live.stale };
  });

  app.get('/arena/leaderboard.svg', async (request, reply) => {
    const { includeNamed, styleControl } = parseLeaderboardQuery(request.query, 'GET /arena/leaderboard.svg');
    const live = await leaderboard.get(includeNamed, styleControl);
    return reply.header('content-type', 'image/svg+xml; charset=utf-8').header('cache-control', 'no-store').send(leaderboard.svg(live));
  });

  // Needs an admin key: the server's auth hook guards ARENA_ADMIN_PATHS.
  app.get('/arena/battle-log', async (request, reply) => {
    const { format, options } = parseExportQuery(request.query);
    const name = `battles.${format}`;
    return reply
      .header('content-type', battleLogContentType(format))
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Readable.from(battleLogText(store, format, options)));
  });
}

/** Routes that need an admin key (`--admin-keys`), never an API key: every user's conversations are in them. */
export const ARENA_ADMIN_PATHS = ['/arena/battle-log'];
