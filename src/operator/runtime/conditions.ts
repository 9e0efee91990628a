/** Status conditions (metav1.Condition style): set one by type, keeping lastTransitionTime while the status holds. */
export interface Condition<T extends string = string> {
  type: T;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput<T extends string> = Omit<Condition<T>, 'lastTransitionTime'>;

/** Returns new conditions with `next` set; pure. */
export function setCondition<T extends string>(current: readonly Condition<T>[], next: ConditionInput<T>, nowIso: string): Condition<T>[] {
  const previous = current.find((c) => c.type === next.type);
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : nowIso;
  const updated: Condition<T> = { ...next, lastTransitionTime };
  if (!previous) return [...current, updated];
  return current.map((c) => (c.type === next.type ? updated : c));
}

export function findCondition<T extends string>(conditions: readonly Condition<T>[] | undefined, type: T): Condition<T> | undefined {
  return conditions?.find((c) => c.type === type);
}
