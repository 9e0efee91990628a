/**
 * Two models answer the same messages side by side, streaming at once. Anonymous mode: the gateway picks two
 * different random models and hides their names until the vote. Named mode: the user picks both. Vote left /
 * right / tie / both bad once per battle: the vote reveals the names and a new round starts a new battle. The server
 * keeps both transcripts: the page sends the new message once, then asks each side to answer it.
 */
import { getJson, sendJson } from './api';
import { Composer } from './composer';
import { ConversationView } from './conversation-view';
import { h, setDisabled, statusLine } from './dom';
import { fillModelSelect, liveModels, messageOf, pageHeading, type Page } from './page';
import { ParamsPanel } from './params';
import { Thread, type AnswerInput } from './thread';
import type { Battle, BattleState, Vote, Winner } from './wire';

export type BattleMode = 'anony' | 'named';

const VOTES: Array<{ winner: Winner; label: string; icon: string }> = [
  { winner: 'model_a', label: 'A is better', icon: '←' },
  { winner: 'model_b', label: 'B is better', icon: '→' },
  { winner: 'tie', label: 'Tie', icon: '=' },
  { winner: 'tie (bothbad)', label: 'Both are bad', icon: '✗' },
];

const VOTE_TEXT: Record<Winner, string> = { model_a: 'A is better', model_b: 'B is better', tie: 'a tie', 'tie (bothbad)': 'both are bad' };

export class BattlePage implements Page {
  readonly title: string;
  readonly element: HTMLElement;
  private readonly threads: [Thread, Thread];
  private readonly selects: [HTMLSelectElement, HTMLSelectElement];
  private readonly composer = new Composer({ onSend: (text) => void this.send(text), onStop: () => this.controller?.abort() });
  private readonly params = new ParamsPanel();
  private readonly status = statusLine();
  private readonly stopButton = h('button', { type: 'button', onclick: () => this.controller?.abort() }, 'Stop');
  private readonly regenerateButton = h('button', { type: 'button', onclick: () => void this.regenerate() }, 'Regenerate');
  private readonly newRoundButton = h('button', { type: 'button', onclick: () => this.newRound() }, 'New round');
  private readonly voteButtons: HTMLButtonElement[];
  private battle: Battle | undefined;
  private controller: AbortController | undefined;
  private voted = false;

  constructor(private readonly mode: BattleMode) {
    this.title = mode === 'anony' ? 'Arena (battle)' : 'Side by side';
    const empty = mode === 'anony' ? 'Two anonymous models will answer here.' : 'Pick two models and send a message.';
    this.threads = [
      new Thread(new ConversationView({ title: 'Model A', empty, className: 'pane-a' })),
      new Thread(new ConversationView({ title: 'Model B', empty, className: 'pane-b' })),
    ];
    this.selects = [h('select', { id: `${mode}-model-a`, name: 'model_a' }), h('select', { id: `${mode}-model-b`, name: 'model_b' })];
    for (const select of this.selects) select.addEventListener('change', () => this.newRound());
    this.voteButtons = VOTES.map((v) =>
      h('button', { type: 'button', class: 'vote', 'data-winner': v.winner, onclick: () => void this.vote(v.winner) }, h('span', { 'aria-hidden': 'true' }, v.icon), ` ${v.label}`));
    this.element = h(
      'section',
      { class: `page battle-page battle-${mode}` },
      pageHeading(mode === 'anony' ? 'Arena: which anonymous model is better?' : 'Compare two models side by side'),
      mode === 'anony'
        ? h('p', { class: 'intro' }, 'Ask anything. Two different models, chosen at random, answer without their names; vote for the better answer and the names are revealed.')
        : h('div', { class: 'toolbar' }, h('label', { for: this.selects[0].id }, 'Choose model A'), this.selects[0], h('label', { for: this.selects[1].id }, 'Choose model B'), this.selects[1]),
      h('div', { class: 'panes' }, this.threads[0].view.element, this.threads[1].view.element),
      h('div', { class: 'actions votes', role: 'group', 'aria-label': 'Vote' }, ...this.voteButtons),
      this.composer.element,
      h('div', { class: 'actions', role: 'group', 'aria-label': 'Round' }, this.stopButton, this.regenerateButton, this.newRoundButton),
      this.status,
      this.params.element,
    );
    this.update();
  }

  async show(): Promise<void> {
    if (this.mode === 'named') {
      try {
        const models = await liveModels();
        fillModelSelect(this.selects[0], models, this.selects[0].value || models[0]);
        fillModelSelect(this.selects[1], models, this.selects[1].value || models[1] || models[0]);
        this.status.textContent = models.length < 2 ? 'Side by side needs two models; fewer are being served.' : '';
      } catch (err) {
        this.status.textContent = `Cannot list the models: ${messageOf(err)}`;
      }
      this.showNames();
    }
    this.update();
  }

  private get busy(): boolean {
    return this.controller !== undefined;
  }

  private answered(): boolean {
    return this.threads.every((t) => t.lastIsAnswer());
  }

  private update(): void {
    setDisabled(this.busy || this.voted, this.composer.sendButton, this.composer.input);
    setDisabled(this.busy, ...this.selects, this.newRoundButton);
    setDisabled(!this.busy, this.stopButton);
    setDisabled(this.busy || this.voted || !this.answered(), ...this.voteButtons);
    setDisabled(this.busy || this.voted || !this.threads.every((t) => t.canRegenerate()), this.regenerateButton);
  }

  private showNames(): void {
    const names = this.mode === 'named' ? [this.selects[0].value, this.selects[1].value] : [undefined, undefined];
    this.threads.forEach((t, i) => t.view.setTitle(`Model ${i === 0 ? 'A' : 'B'}${names[i] ? `: ${names[i]}` : ''}`));
  }

  private async startBattle(): Promise<Battle> {
    const body = this.mode === 'anony' ? {} : { anony: false, model_a: this.selects[0].value, model_b: this.selects[1].value };
    const battle = await sendJson<Battle>('POST', '/arena/battles', body);
    const sides: Array<[Thread, string, 'a' | 'b']> = [[this.threads[0], battle.conversation_a, 'a'], [this.threads[1], battle.conversation_b, 'b']];
    for (const [thread, conversationId, side] of sides) {
      thread.conversationId = conversationId;
      thread.streamUrl = `/arena/battles/${encodeURIComponent(battle.id)}/sides/${side}/chat/completions`;
    }
    this.battle = battle;
    return battle;
  }

  private async send(text: string): Promise<void> {
    if (this.busy || this.voted) return;
    if (this.mode === 'named' && this.selects[0].value === this.selects[1].value) {
      this.status.textContent = 'Pick two different models.';
      return;
    }
    this.composer.take();
    await this.run(text, async () => {
      const battle = this.battle ?? (await this.startBattle());
      await sendJson('POST', `/arena/battles/${encodeURIComponent(battle.id)}/messages`, { message: text });
      for (const t of this.threads) t.addUser(text);
    }, {});
  }

  private async regenerate(): Promise<void> {
    if (this.busy || this.voted || !this.threads.every((t) => t.canRegenerate())) return;
    await this.run(undefined, async () => {
      for (const t of this.threads) t.dropLastAnswer();
    }, { regenerate: true });
  }

  /** Both sides answer at once; if either fails, the page shows what the server kept and offers Regenerate. */
  private async run(text: string | undefined, prepare: () => Promise<void>, input: AnswerInput): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    this.status.textContent = 'Answering…';
    this.update();
    let sent = false;
    try {
      await prepare();
      sent = true;
      const params = this.params.values();
      const results = await Promise.allSettled(this.threads.map((t) => t.answer(params, controller.signal, input)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      this.status.textContent = controller.signal.aborted ? 'Stopped.' : 'Both answered. Vote, or keep chatting.';
    } catch (err) {
      if (text !== undefined && !sent) this.composer.putBack(text);
      await this.reload();
      this.status.textContent = `The answers failed: ${messageOf(err)}`;
    } finally {
      this.controller = undefined;
      this.update();
    }
  }

  /** Shows both transcripts as the server kept them. */
  private async reload(): Promise<void> {
    if (!this.battle) return;
    try {
      const state = await getJson<BattleState>(`/arena/battles/${encodeURIComponent(this.battle.id)}`);
      this.threads[0].show(state.messages_a);
      this.threads[1].show(state.messages_b);
    } catch {
      // Keep what is shown; the status line tells of the failure.
    }
  }

  private async vote(winner: Winner): Promise<void> {
    const battle = this.battle;
    if (!battle || this.voted || this.busy) return;
    this.voted = true;
    this.update();
    try {
      const vote = await sendJson<Vote>('POST', `/arena/battles/${encodeURIComponent(battle.id)}/votes`, { winner });
      this.threads[0].view.setTitle(`Model A: ${vote.model_a}`);
      this.threads[1].view.setTitle(`Model B: ${vote.model_b}`);
      this.status.textContent = `Vote recorded (${VOTE_TEXT[winner]}): A was ${vote.model_a}, B was ${vote.model_b}. Start a new round to continue.`;
      this.newRoundButton.focus();
    } catch (err) {
      this.voted = false;
      this.status.textContent = `The vote was not recorded: ${messageOf(err)}`;
      this.update();
    }
  }

  private newRound(): void {
    if (this.busy) return;
    for (const t of this.threads) t.reset();
    this.battle = undefined;
    this.voted = false;
    this.status.textContent = '';
    this.showNames();
    this.update();
  }
}
