/** GET /v1/models and /v1/models/{id} from the live controller view. */
import type { GatewayContext } from '../context';
import { notFoundModel } from './validate';
import type { WireModel } from './wire';

const CREATED = Math.floor(Date.now() / 1000);

function toWire(name: string): WireModel {
  return { id: name, object: 'model', created: CREATED, owned_by: 'fleetchat' };
}

export function listModels(ctx: GatewayContext): { object: 'list'; data: WireModel[] } {
  return { object: 'list', data: ctx.view.models().map((m) => toWire(m.name)) };
}

export function getModel(ctx: GatewayContext, name: string): WireModel {
  const m = ctx.view.model(name);
  if (!m) throw notFoundModel(name, ctx.view.models().map((x) => x.name));
  return toWire(m.name);
}
