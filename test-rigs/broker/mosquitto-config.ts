export interface MosquittoConfigOptions {
  port: number;
  /** Directory for mosquitto.db; omit for an in-memory broker. */
  persistenceDir?: string;
  /** Path of a mosquitto_passwd file; when set, anonymous clients are refused. */
  passwordFile?: string;
  tls?: { port: number; caFile: string; certFile: string; keyFile: string; requireClientCert: boolean };
  /** Running as root: mosquitto would otherwise drop to user `mosquitto`, who cannot read our temp dir. */
  runAsRoot?: boolean;
}

/**
 * The settings a test broker needs so that it never becomes the reason a test fails: the
 * defaults are tuned for memory-starved hosts and silently lose QoS 1 messages.
 */
export function mosquittoConfig(opts: MosquittoConfigOptions): string {
  const lines: string[] = [];
  if (opts.runAsRoot) lines.push('user root');
  lines.push(
    // Nagle delays each PUBACK until the previous one is acknowledged: QoS 1 drops to a few
    // hundred messages per second over loopback.
    'set_tcp_nodelay true',
    // Default 1000: beyond it mosquitto discards QoS 1 messages for an offline or slow
    // persistent subscriber without telling anyone. 0 = no limit.
    'max_queued_messages 0',
    'max_queued_bytes 0',
    // Messages in flight to one subscriber at once; 20 by default makes a slow consumer the
    // bottleneck for the whole test.
    'max_inflight_messages 100',
    // Global options above; listeners (and their auth, shared because per_listener_settings
    // defaults to false) below.
    `listener ${opts.port} 127.0.0.1`,
  );
  if (opts.tls) {
    lines.push(
      `listener ${opts.tls.port} 127.0.0.1`,
      `cafile ${opts.tls.caFile}`,
      `certfile ${opts.tls.certFile}`,
      `keyfile ${opts.tls.keyFile}`,
      `require_certificate ${opts.tls.requireClientCert}`,
    );
  }
  if (opts.passwordFile) {
    lines.push('allow_anonymous false', `password_file ${opts.passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  if (opts.persistenceDir) {
    lines.push(
      'persistence true',
      `persistence_location ${opts.persistenceDir.endsWith('/') ? opts.persistenceDir : `${opts.persistenceDir}/`}`,
      // Save every second so even a SIGKILLed broker keeps almost everything it had queued.
      'autosave_interval 1',
    );
  } else {
    lines.push('persistence false');
  }
  lines.push(
    // The fixture captures stderr into a temp file and prints the tail when something fails.
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  );
  return `${lines.join('\n')}\n`;
}
