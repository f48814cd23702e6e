import type { Stream } from '../model/stream.js';

/** The topic contract (docs/payload.md). Changing any of these is a breaking change for central systems. */
export interface Topics {
  telemetry: string;
  events: string;
  status: string;
  health: string;
  /** Inbound: commands for this gateway (docs/commands.md). Subscribed only when commands are enabled. */
  commands: string;
}

export function topicsFor(prefix: string, gatewayId: string): Topics {
  const base = `${prefix}/${gatewayId}`;
  return { telemetry: `${base}/telemetry`, events: `${base}/events`, status: `${base}/status`, health: `${base}/health`, commands: `${base}/commands` };
}

export function topicForStream(topics: Topics, stream: Stream): string {
  return stream === 'event' ? topics.events : topics.telemetry;
}
