import { readFileSync } from 'node:fs';

/**
 * The gid of a group by name, from /etc/group (Node has no getgrnam). Null when the group does
 * not exist or the file cannot be read; NSS sources other than files are not consulted, which is
 * what Debian and Raspberry Pi OS use for system groups.
 */
export function groupId(name: string, groupFile = '/etc/group'): number | null {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}
