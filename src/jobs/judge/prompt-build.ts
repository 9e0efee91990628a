/**
 * The judge's messages for one game, as FastChat's run_judge_single / run_judge_pair build them:
 * the template filled with the question, the answer(s) and — for reference-guided prompts — the
 * reference answer(s); the prompt's system message first (left out when empty).
 */
import type { ChatMessage } from '../openai-client/chat-client';
import { formatPython } from './python-format';
import type { JudgePrompt } from './prompts';
import type { ValidQuestion } from './judge-request';

export interface JudgeMessages {
  userPrompt: string;
  messages: ChatMessage[];
}

function referenceValues(prompt: JudgePrompt, question: ValidQuestion): Record<string, string> {
  if (!prompt.refBased) return {};
  const values: Record<string, string> = { ref_answer_1: question.reference[0] };
  if (prompt.multiTurn) values.ref_answer_2 = question.reference[1];
  return values;
}

function messagesOf(prompt: JudgePrompt, userPrompt: string): JudgeMessages {
  const messages: ChatMessage[] = prompt.systemPrompt === '' ? [] : [{ role: 'system', content: prompt.systemPrompt }];
  messages.push({ role: 'user', content: userPrompt });
  return { userPrompt, messages };
}

export function buildSingleMessages(prompt: JudgePrompt, question: ValidQuestion, answer: string[]): JudgeMessages {
  const values: Record<string, string> = prompt.multiTurn
    ? { question_1: question.turns[0], question_2: question.turns[1], answer_1: answer[0], answer_2: answer[1] }
    : { question: question.turns[0], answer: answer[0] };
  return messagesOf(prompt, formatPython(prompt.promptTemplate, { ...values, ...referenceValues(prompt, question) }));
}

export function buildPairMessages(prompt: JudgePrompt, question: ValidQuestion, answerA: string[], answerB: string[]): JudgeMessages {
  const values: Record<string, string> = prompt.multiTurn
    ? {
        question_1: question.turns[0],
        question_2: question.turns[1],
        answer_a_1: answerA[0],
        answer_b_1: answerB[0],
        answer_a_2: answerA[1],
        answer_b_2: answerB[1],
      }
    : { question: question.turns[0], answer_a: answerA[0], answer_b: answerB[0] };
  return messagesOf(prompt, formatPython(prompt.promptTemplate, { ...values, ...referenceValues(prompt, question) }));
}
