/**
 * MQTT topic-filter matching (MQTT 3.1.1 §4.7, the same in 5): `+` matches one level, a trailing
 * `#` matches the parent level and everything below it, and a filter starting with a wildcard does
 * not match topics starting with `$` (broker topics such as `$SYS`). Used to decide whether an
 * inbound PUBLISH answers one of our subscriptions; anything else is unsolicited.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when any of `filters` matches `topic`. */
export function matchesAny(filters: readonly string[], topic: string): boolean {
  return filters.some((f) => topicMatches(f, topic));
}
