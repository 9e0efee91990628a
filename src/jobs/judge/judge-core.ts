/**
 * The judge itself: validates a request, builds FastChat's prompt, asks the judge model through an
 * OpenAI-compatible endpoint (temperature 0, max_tokens 2048 by default) and reads the score or the
 * verdict from its text. Pairwise games are played twice with the answers swapped when asked to;
 * inconsistent verdicts combine to a tie.
 */
import {
  PairwiseResponse, SingleGradeResponse, Verdict,
  type PairwiseRequest, type SingleGradeRequest,
} from '../../common/gen/judge';
import type { ChatClient, ChatMessage } from '../openai-client/chat-client';
import type { JudgeApi } from './judge-api';
import { validatePairwise, validateSingle, type ValidPairwise } from './judge-request';
import { buildPairMessages, buildSingleMessages } from './prompt-build';
import type { JudgePrompts } from './prompts';
import { combineGames, parseRating, parseWinner, unswap, type Winner } from './verdict-parse';

export interface JudgeCoreOptions {
  prompts: JudgePrompts;
  chat: ChatClient;
  /** Used when a request names no judge model. */
  defaultJudgeModel: string;
  temperature: number;
  maxTokens: number;
}

const VERDICT_OF: Record<Winner, Verdict> = {
  A: Verdict.VERDICT_A,
  B: Verdict.VERDICT_B,
  tie: Verdict.VERDICT_TIE,
  error: Verdict.VERDICT_ERROR,
};

interface Game {
  winner: Winner;
  judgment: string;
  userPrompt: string;
}

export class JudgeCore implements JudgeApi {
  constructor(private readonly options: JudgeCoreOptions) {}

  async gradeSingle(request: SingleGradeRequest, signal?: AbortSignal): Promise<SingleGradeResponse> {
    const valid = validateSingle(request, this.options.prompts, this.options.defaultJudgeModel);
    const { userPrompt, messages } = buildSingleMessages(valid.prompt, valid.question, valid.answer);
    const judgment = await this.ask(valid.judgeModel, messages, signal);
    return SingleGradeResponse.fromPartial({
      score: parseRating(judgment),
      judgment,
      promptName: valid.prompt.name,
      userPrompt,
      judgeModel: valid.judgeModel,
    });
  }

  async comparePair(request: PairwiseRequest, signal?: AbortSignal): Promise<PairwiseResponse> {
    const valid = validatePairwise(request, this.options.prompts, this.options.defaultJudgeModel);
    const [g1, g2] = await Promise.all([
      this.playGame(valid, false, signal),
      valid.swapPositions ? this.playGame(valid, true, signal) : Promise.resolve(undefined),
    ]);
    const g2Winner = g2 ? unswap(g2.winner) : undefined;
    return PairwiseResponse.fromPartial({
      verdict: VERDICT_OF[g2Winner === undefined ? g1.winner : combineGames(g1.winner, g2Winner)],
      g1Verdict: VERDICT_OF[g1.winner],
      g2Verdict: g2Winner === undefined ? Verdict.VERDICT_UNSPECIFIED : VERDICT_OF[g2Winner],
      g1Judgment: g1.judgment,
      g2Judgment: g2?.judgment ?? '',
      promptName: valid.prompt.name,
      g1UserPrompt: g1.userPrompt,
      g2UserPrompt: g2?.userPrompt ?? '',
      judgeModel: valid.judgeModel,
    });
  }

  private async playGame(valid: ValidPairwise, swapped: boolean, signal?: AbortSignal): Promise<Game> {
    const [first, second] = swapped ? [valid.answerB, valid.answerA] : [valid.answerA, valid.answerB];
    const { userPrompt, messages } = buildPairMessages(valid.prompt, valid.question, first, second);
    const judgment = await this.ask(valid.judgeModel, messages, signal);
    return { winner: parseWinner(judgment, valid.prompt.outputFormat), judgment, userPrompt };
  }

  private ask(model: string, messages: ChatMessage[], signal?: AbortSignal): Promise<string> {
    const { temperature, maxTokens } = this.options;
    return this.options.chat.complete({ model, messages, temperature, maxTokens, signal });
  }
}
