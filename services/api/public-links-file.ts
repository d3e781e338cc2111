import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePublicLinks, type PublicLink } from '../core/public-links.ts';

/** The file a city may keep its links in instead of PUBLIC_LINKS (issue 12). */
export const PUBLIC_LINKS_FILE = 'public-links.json';

/**
 * DATA_DIR/public-links.json, read once at start; none when it does not exist.
 * A file that is there but wrong stops the start with its name and the field,
 * as a bad environment variable does: a link that silently vanished would be
 * found only when residents needed it.
 */
export function readPublicLinksFile(dataDir: string): PublicLink[] {
  const path = join(dataDir, PUBLIC_LINKS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed = parsePublicLinks(text);
  if ('error' in parsed) throw new Error(`${path}: ${parsed.error}`);
  return parsed.links;
}
