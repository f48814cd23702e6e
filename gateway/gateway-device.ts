/** Readings the gateway itself reports (quarantine, drops, config errors) use this device id. */
export const GATEWAY_DEVICE = '_gateway';
