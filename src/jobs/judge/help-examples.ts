/** Examples printed after `--help` of the judge jobs: the local stack first, then a hosted endpoint. */

export const GEN_MODEL_ANSWER_EXAMPLES = `
Examples:
  # models served by the local stack: \`fleetchat up\` (or \`npm start\`) serves http://127.0.0.1:8000/v1, the default --base-url
  fleetchat jobs gen-model-answer --model fleetchat-tiny-chat --question-end 4 --max-tokens 64
  # several models at once; 'name=id' names the answer file when the name has a '/'
  fleetchat jobs gen-model-answer --model vicuna-7b,Qwen/Qwen2.5-0.5B-Instruct=qwen2.5-0.5b --base-url http://127.0.0.1:8000/v1 --parallel 8
  # any other OpenAI-compatible endpoint (key from the environment)
  FLEETCHAT_API_KEY=sk-... fleetchat jobs gen-model-answer --model gpt-3.5-turbo --base-url https://api.openai.com/v1
Answers go to <bench-dir>/model_answer/<id>.jsonl (default bench dir: data/mt_bench); a rerun answers only what is missing.
`;

export const GEN_JUDGMENT_EXAMPLES = `
Examples:
  # a judge model served by the local stack (\`fleetchat up\` / \`npm start\`: http://127.0.0.1:8000/v1, the default --judge-base-url)
  fleetchat jobs gen-judgment --mode single --judge-model fleetchat-tiny-chat --first-n 4 --judge-max-tokens 64
  # GPT-4 as FastChat uses it (key from the environment)
  FLEETCHAT_JUDGE_API_KEY=sk-... fleetchat jobs gen-judgment --mode pairwise-baseline --judge-model gpt-4 --judge-base-url https://api.openai.com/v1
  # through a running \`fleetchat judge serve\` (which holds the judge endpoint and key)
  fleetchat jobs gen-judgment --mode pairwise-all --judge-model qwen2.5-7b --judge-address 127.0.0.1:21031
Judgments the judge's text gives no score or winner for are written with score -1 / winner 'error' and left out by show-result.
`;
