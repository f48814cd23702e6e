/**
 * The payload contract as the ingest reads it: validation, the invariants a schema cannot
 * express, and v2 poll records expanded into readings. One module serves the reference
 * subscriber and the ingest; this file is the ingest's only import of it, so moving the module
 * (a shared gateway/payload/) means changing one line here.
 */
export {
  parseBatch,
  parseHealth,
  parseStatus,
  type BatchPayload,
  type GatewayStatusMessage,
  type HealthPayload,
  type LayoutLog,
  type ReadingPayload,
} from '../test-rigs/subscriber/payload.js';
