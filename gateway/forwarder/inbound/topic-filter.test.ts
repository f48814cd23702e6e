import { describe, expect, it } from 'vitest';
import { matchesAny, topicMatches } from './topic-filter.js';

describe('topicMatches', () => {
  it('matches exact names, + for one level, # for the rest including the parent', () => {
    expect(topicMatches('edge/gw/cmd', 'edge/gw/cmd')).toBe(true);
    expect(topicMatches('edge/gw/cmd', 'edge/gw/cmdx')).toBe(false);
    expect(topicMatches('edge/gw/cmd', 'edge/gw')).toBe(false);
    expect(topicMatches('edge/+/cmd', 'edge/gw/cmd')).toBe(true);
    expect(topicMatches('edge/+/cmd', 'edge/gw/x/cmd')).toBe(false);
    expect(topicMatches('edge/+', 'edge/')).toBe(true); // an empty level is a level
    expect(topicMatches('edge/gw/cmd/#', 'edge/gw/cmd')).toBe(true);
    expect(topicMatches('edge/gw/cmd/#', 'edge/gw/cmd/a/b')).toBe(true);
    expect(topicMatches('edge/gw/cmd/#', 'edge/gw/other')).toBe(false);
    expect(topicMatches('#', 'anything/at/all')).toBe(true);
  });

  it('keeps wildcards at the first level away from $ topics, and # only counts last', () => {
    expect(topicMatches('#', '$SYS/broker/load')).toBe(false);
    expect(topicMatches('+/broker/load', '$SYS/broker/load')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/broker/load')).toBe(true);
    expect(topicMatches('a/#/b', 'a/x/b')).toBe(false);
  });

  it('matchesAny: none of an empty list', () => {
    expect(matchesAny([], 'edge/gw/cmd')).toBe(false);
    expect(matchesAny(['x', 'edge/+/cmd'], 'edge/gw/cmd')).toBe(true);
  });
});
