/**
 * The Judge contract as a promise API. `JudgeCore` implements it in-process; `connectJudge` reaches a
 * `fleetchat judge serve` through the generated JudgeClient. Callers (gen-judgment) use either the same way.
 */
import type { PairwiseRequest, PairwiseResponse, SingleGradeRequest, SingleGradeResponse } from '../../common/gen/judge';

export interface JudgeApi {
  gradeSingle(request: SingleGradeRequest, signal?: AbortSignal): Promise<SingleGradeResponse>;
  comparePair(request: PairwiseRequest, signal?: AbortSignal): Promise<PairwiseResponse>;
}
